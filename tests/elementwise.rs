//! Activations, their derivatives and elementwise arithmetic against f64 references.

mod common;
use common::*;
use infogan::ops::elementwise::{self, Activation};

/// 1000 takes the vec4 kernels (lengths that are multiples of 4); the others the scalar ones.
const SIZES: &[usize] = &[1, 3, 17, 129, 1000, 70_001];

fn reference(f: Activation, x: f64) -> (f64, f64) {
    match f {
        Activation::Scale { alpha, beta } => {
            (f64::from(alpha) * x + f64::from(beta), f64::from(alpha))
        }
        Activation::Relu => (x.max(0.0), if x > 0.0 { 1.0 } else { 0.0 }),
        Activation::LeakyRelu { slope } => {
            if x >= 0.0 {
                (x, 1.0)
            } else {
                (f64::from(slope) * x, f64::from(slope))
            }
        }
        Activation::Sigmoid => {
            let s = sigmoid(x);
            (s, s * (1.0 - s))
        }
        Activation::Tanh => (x.tanh(), 1.0 - x.tanh().powi(2)),
    }
}

const ACTIVATIONS: &[Activation] = &[
    Activation::Scale { alpha: -1.5, beta: 0.25 },
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.1 },
    Activation::Sigmoid,
    Activation::Tanh,
];

#[test]
fn activations_and_derivatives_match_reference() {
    for gpu in backends() {
        let mut r = rng(2);
        for &f in ACTIVATIONS {
            for &n in SIZES {
                // Wide range: saturation of sigmoid/tanh and large |x| must stay finite and exact.
                let (x, x64) = upload(&gpu, &[n], &uniform(&mut r, n, -30.0, 30.0));
                let (dy, dy64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
                let (old, old64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
                let y = elementwise::activate(&gpu, &x, f).unwrap();
                let want_y: Vec<f64> = x64.iter().map(|&v| reference(f, v).0).collect();
                assert_close(&format!("{f:?} forward n={n}"), &download(&gpu, &y), &want_y, 1e-6);

                let saved = if f.derivative_from_output() { &y } else { &x };
                for acc in [0.0f32, 1.0] {
                    let dx = gpu.empty(&[n]);
                    gpu.copy(&old, &dx).unwrap();
                    elementwise::activate_backward(&gpu, f, saved, &dy, &dx, acc).unwrap();
                    // Sigmoid and tanh differentiate from their f32 output (y(1-y), 1-y^2), as the
                    // kernel does: past |x| ~ 9 tanh rounds to 1 and the derivative is then 0.
                    let derivative = |i: usize| match f {
                        Activation::Sigmoid | Activation::Tanh => {
                            let y = f64::from(reference(f, x64[i]).0 as f32);
                            if f == Activation::Sigmoid {
                                y * (1.0 - y)
                            } else {
                                1.0 - y * y
                            }
                        }
                        _ => reference(f, x64[i]).1,
                    };
                    let want: Vec<f64> = (0..n)
                        .map(|i| f64::from(acc) * old64[i] + dy64[i] * derivative(i))
                        .collect();
                    assert_close(
                        &format!("{f:?} backward n={n} acc={acc}"),
                        &download(&gpu, &dx),
                        &want,
                        1e-5,
                    );
                }
            }
        }
    }
}

#[test]
fn derivatives_match_finite_differences_of_the_reference() {
    // Guards the reference derivatives used above: away from kinks, central differences agree.
    let mut r = rng(3);
    for &f in ACTIVATIONS {
        for x in uniform(&mut r, 50, -4.0, 4.0) {
            if x.abs() < 1e-3 {
                continue;
            }
            let fd = (reference(f, x + 1e-6).0 - reference(f, x - 1e-6).0) / 2e-6;
            assert!((fd - reference(f, x).1).abs() < 1e-6, "{f:?} at {x}");
        }
    }
}

#[test]
fn add_mul_fill_axpy_match_reference() {
    for gpu in backends() {
        let mut r = rng(4);
        for &n in SIZES {
            let (a, a64) = upload(&gpu, &[n], &uniform(&mut r, n, -2.0, 2.0));
            let (b, b64) = upload(&gpu, &[n], &uniform(&mut r, n, -2.0, 2.0));
            let sum = elementwise::add(&gpu, &a, &b, 0.5, -3.0).unwrap();
            let want: Vec<f64> = (0..n).map(|i| 0.5 * a64[i] - 3.0 * b64[i]).collect();
            assert_close(&format!("add n={n}"), &download(&gpu, &sum), &want, 1e-6);
            let prod = elementwise::mul(&gpu, &a, &b).unwrap();
            let want: Vec<f64> = (0..n).map(|i| a64[i] * b64[i]).collect();
            assert_close(&format!("mul n={n}"), &download(&gpu, &prod), &want, 1e-6);
            let out = elementwise::full(&gpu, &[n], 0.75).unwrap();
            elementwise::axpy(&gpu, &a, &out, -2.0, 0.5).unwrap();
            let want: Vec<f64> = (0..n).map(|i| 0.5 * 0.75 - 2.0 * a64[i]).collect();
            assert_close(&format!("axpy n={n}"), &download(&gpu, &out), &want, 1e-6);
        }
    }
}

#[test]
fn fill_writes_every_element_scalar_and_vec4() {
    for gpu in backends() {
        // 4, 64 and 70,004 take fill4; 1, 3 and 70,001 the scalar kernel.
        for n in [1, 3, 4, 64, 70_001, 70_004] {
            let out = gpu.upload(&[n], &vec![f32::NAN; n]).unwrap();
            elementwise::fill(&gpu, &out, -1.25).unwrap();
            assert!(download(&gpu, &out).iter().all(|&v| v == -1.25), "fill n={n}");
        }
    }
}
