//! Sums over an axis and their broadcast backward against f64 references.

mod common;
use common::*;
use infogan::ops::reduce::{self, Axes};

#[test]
fn sums_and_broadcasts_match_reference() {
    for gpu in backends() {
        let mut r = rng(5);
        let shapes =
            [(1, 1, 1), (3, 17, 1), (1, 129, 3), (17, 3, 129), (128, 64, 49), (2, 1, 100_003)];
        for (outer, mid, inner) in shapes {
            let axes = Axes { outer, mid, inner };
            let (x, x64) = upload(&gpu, &[axes.len()], &uniform(&mut r, axes.len(), -1.0, 1.0));
            let (old, old64) = upload(&gpu, &[mid], &uniform(&mut r, mid, -1.0, 1.0));
            let out = gpu.empty(&[mid]);
            gpu.copy(&old, &out).unwrap();
            reduce::sum_into(&gpu, &x, axes, &out, 0.5, 1.0).unwrap();
            let mut want = old64.clone();
            for o in 0..outer {
                for m in 0..mid {
                    for i in 0..inner {
                        want[m] += 0.5 * x64[(o * mid + m) * inner + i];
                    }
                }
            }
            // Error relative to the sum of magnitudes: what f32 summation can promise.
            let got = download(&gpu, &out);
            let scale = (outer * inner) as f64;
            let err = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max) / scale;
            println!("max-rel-error sum {axes:?}: {err:.3e}");
            assert!(err < 1e-6, "sum {axes:?}: {err:.3e}");

            let (dy, dy64) = upload(&gpu, &[mid], &uniform(&mut r, mid, -1.0, 1.0));
            let dx = gpu.empty(&[axes.len()]);
            reduce::broadcast_into(&gpu, &dy, axes, &dx, 2.0, 0.0).unwrap();
            let want: Vec<f64> = (0..axes.len()).map(|j| 2.0 * dy64[(j / inner) % mid]).collect();
            assert_close(&format!("broadcast {axes:?}"), &download(&gpu, &dx), &want, 1e-6);
        }
    }
}

#[test]
fn reductions_reject_mismatched_axes() {
    for gpu in backends() {
        let x = gpu.empty(&[10]);
        let err = reduce::sum(&gpu, &x, Axes { outer: 3, mid: 3, inner: 1 }, 1.0).unwrap_err();
        assert!(err.message().contains("does not match"), "{err}");
    }
}
