//! Losses (values and gradients from one pass) against f64 references and finite differences of
//! the reference.

mod common;
use common::*;
use infogan::ops::losses;

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

fn xent_row(logits: &[f64], label: usize) -> f64 {
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = top + logits.iter().map(|v| (v - top).exp()).sum::<f64>().ln();
    lse - logits[label]
}

#[test]
fn softmax_cross_entropy_matches_reference_and_finite_differences() {
    for gpu in backends() {
        let mut r = rng(6);
        for (rows, cols) in [(1, 1), (1, 10), (3, 17), (129, 3), (64, 10)] {
            let (logits, l64) =
                upload(&gpu, &[rows, cols], &uniform(&mut r, rows * cols, -20.0, 20.0));
            let labels64: Vec<f64> = (0..rows).map(|i| ((i * 7 + 3) % cols) as f64).collect();
            let (labels, _) = upload(&gpu, &[rows], &labels64);
            let out = losses::softmax_xent(&gpu, &logits, &labels).unwrap();
            let want: Vec<f64> = (0..rows)
                .map(|i| xent_row(&l64[i * cols..(i + 1) * cols], labels64[i] as usize))
                .collect();
            assert_close(
                &format!("softmax_xent loss {rows}x{cols}"),
                &download(&gpu, &out.loss),
                &want,
                1e-6,
            );
            let mut fd = Vec::new();
            for i in 0..rows {
                let label = labels64[i] as usize;
                let f = |x: &[f64]| xent_row(x, label);
                fd.extend(finite_diff(&f, &l64[i * cols..(i + 1) * cols], 1e-6));
            }
            assert_close(
                &format!("softmax_xent grad {rows}x{cols}"),
                &download(&gpu, &out.grad),
                &fd,
                1e-5,
            );
        }
    }
}

#[test]
fn softmax_cross_entropy_poisons_invalid_labels() {
    for gpu in backends() {
        let logits = gpu.upload(&[2, 3], &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).unwrap();
        let labels = gpu.upload(&[2], &[3.0, 1.5]).unwrap();
        let out = losses::softmax_xent(&gpu, &logits, &labels).unwrap();
        assert!(gpu.download(&out.loss).unwrap().iter().all(|v| v.is_nan()));
    }
}

/// -(t ln s(x) + (1 - t) ln(1 - s(x))) in the form that stays exact for large |x| in f64.
fn bce(x: f64, t: f64) -> f64 {
    x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()
}

#[test]
fn bce_with_logits_is_stable_and_matches_reference() {
    for gpu in backends() {
        let mut r = rng(7);
        for n in [1, 3, 17, 129, 1025] {
            let (x, x64) = upload(&gpu, &[n], &uniform(&mut r, n, -30.0, 30.0));
            let t64: Vec<f64> =
                (0..n).map(|i| if i % 3 == 0 { 0.5 } else { (i % 2) as f64 }).collect();
            let (t, _) = upload(&gpu, &[n], &t64);
            let out = losses::bce_logits(&gpu, &x, &t).unwrap();
            let want: Vec<f64> = (0..n).map(|i| bce(x64[i], t64[i])).collect();
            assert_close(&format!("bce loss n={n}"), &download(&gpu, &out.loss), &want, 1e-6);
            let fd: Vec<f64> = (0..n)
                .map(|i| (bce(x64[i] + 1e-6, t64[i]) - bce(x64[i] - 1e-6, t64[i])) / 2e-6)
                .collect();
            let want_grad: Vec<f64> = (0..n).map(|i| sigmoid(x64[i]) - t64[i]).collect();
            assert!(
                rel_error(&want_grad, &fd) < 1e-5,
                "reference gradient disagrees with finite differences"
            );
            assert_close(&format!("bce grad n={n}"), &download(&gpu, &out.grad), &want_grad, 1e-6);
        }
        // Huge logits: finite loss, exact gradient.
        let x = gpu.upload(&[4], &[1e4, -1e4, 88.0, -88.0]).unwrap();
        let t = gpu.upload(&[4], &[0.0, 1.0, 1.0, 0.0]).unwrap();
        let out = losses::bce_logits(&gpu, &x, &t).unwrap();
        let loss = gpu.download(&out.loss).unwrap();
        assert_eq!(loss[..2], [1e4, 1e4]);
        assert!(loss.iter().all(|v| v.is_finite()));
        assert_eq!(gpu.download(&out.grad).unwrap(), vec![1.0, -1.0, 0.0, 0.0]);
    }
}

#[test]
fn gaussian_nll_fixed_and_learned_match_reference_and_finite_differences() {
    for gpu in backends() {
        let mut r = rng(8);
        for n in [1, 3, 17, 129, 1000] {
            let (mu, mu64) = upload(&gpu, &[n], &uniform(&mut r, n, -2.0, 2.0));
            let (x, x64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
            for sigma in [1.0f32, 0.3] {
                let s = f64::from(sigma);
                let out = losses::gauss_nll(&gpu, &mu, &x, sigma).unwrap();
                let nll = |m: f64, xv: f64| HALF_LN_2PI + s.ln() + (xv - m).powi(2) / (2.0 * s * s);
                let want: Vec<f64> = (0..n).map(|i| nll(mu64[i], x64[i])).collect();
                assert_close(
                    &format!("gauss_nll sigma={sigma} n={n}"),
                    &download(&gpu, &out.loss),
                    &want,
                    1e-6,
                );
                let fd: Vec<f64> = (0..n)
                    .map(|i| (nll(mu64[i] + 1e-6, x64[i]) - nll(mu64[i] - 1e-6, x64[i])) / 2e-6)
                    .collect();
                assert_close(
                    &format!("gauss_nll grad sigma={sigma} n={n}"),
                    &download(&gpu, &out.grad),
                    &fd,
                    1e-5,
                );
            }
            let (ls, ls64) = upload(&gpu, &[n], &uniform(&mut r, n, -2.0, 1.0));
            let out = losses::gauss_nll_learned(&gpu, &mu, &ls, &x).unwrap();
            let nll = |m: f64, l: f64, xv: f64| {
                HALF_LN_2PI + l + (xv - m).powi(2) * (-2.0 * l).exp() / 2.0
            };
            let want: Vec<f64> = (0..n).map(|i| nll(mu64[i], ls64[i], x64[i])).collect();
            assert_close(
                &format!("gauss_nll_learned n={n}"),
                &download(&gpu, &out.loss),
                &want,
                1e-6,
            );
            let fd_mu: Vec<f64> = (0..n)
                .map(|i| {
                    (nll(mu64[i] + 1e-6, ls64[i], x64[i]) - nll(mu64[i] - 1e-6, ls64[i], x64[i]))
                        / 2e-6
                })
                .collect();
            let fd_ls: Vec<f64> = (0..n)
                .map(|i| {
                    (nll(mu64[i], ls64[i] + 1e-6, x64[i]) - nll(mu64[i], ls64[i] - 1e-6, x64[i]))
                        / 2e-6
                })
                .collect();
            assert_close(
                &format!("gauss_nll_learned d/dmu n={n}"),
                &download(&gpu, &out.grad),
                &fd_mu,
                1e-5,
            );
            let grad_ls = out.grad_logstd.expect("log-std gradient");
            assert_close(
                &format!("gauss_nll_learned d/dlogstd n={n}"),
                &download(&gpu, &grad_ls),
                &fd_ls,
                1e-5,
            );
        }
    }
}

#[test]
fn loss_backward_scales_rows() {
    for gpu in backends() {
        let mut r = rng(9);
        let (rows, cols) = (17, 3);
        let (g, g64) = upload(&gpu, &[rows, cols], &uniform(&mut r, rows * cols, -1.0, 1.0));
        let (up, up64) = upload(&gpu, &[rows], &uniform(&mut r, rows, -1.0, 1.0));
        let (old, old64) = upload(&gpu, &[rows, cols], &uniform(&mut r, rows * cols, -1.0, 1.0));
        losses::scale_rows_into(&gpu, &g, &up, &old, 1.0).unwrap();
        let want: Vec<f64> = (0..rows * cols).map(|i| old64[i] + g64[i] * up64[i / cols]).collect();
        assert_close("scale_rows", &download(&gpu, &old), &want, 1e-6);
    }
}
