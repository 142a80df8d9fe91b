//! Batch norm in training and eval mode against f64 references: outputs, running statistics
//! (PyTorch's update: biased variance to normalise, unbiased into the running variance), and
//! gradients through the tape against finite differences.

mod common;
use common::*;
use infogan::ops::batchnorm::{self, BnConfig};
use infogan::ops::reduce::Axes;
use infogan::Tape;

// Scalar, Channel4 (H*W % 4 == 0), Features4 ((N, C) with C % 4 == 0) and Straddle4 (H*W >= 4
// off a multiple of 4, N*C*H*W % 4 == 0: a vec4 spans two channels) per-element paths.
const SHAPES: &[&[usize]] = &[
    &[3, 5],
    &[17, 1],
    &[2, 3, 5, 7],
    &[1, 3, 4, 5],
    &[4, 2, 1, 3],
    &[3, 8],
    &[5, 12],
    &[2, 3, 2, 6],
    &[4, 3, 7, 7],
    &[2, 5, 3, 6],
];

/// 65,536 values per channel, as the shapes generator's last batch norm at batch 64: the
/// forward pass only (finite differences would take minutes).
const LARGE: &[&[usize]] = &[&[64, 3, 32, 32]];

#[test]
fn test_shapes_reach_every_per_element_path() {
    use batchnorm::ElementPath::*;
    let paths: Vec<_> = SHAPES.iter().map(|s| batchnorm::element_path(dims(s))).collect();
    for path in [Scalar, Channel4, Features4, Straddle4] {
        assert!(paths.iter().filter(|&&p| p == path).count() >= 2, "{path:?} in {paths:?}");
    }
}

/// The input gradient overwrites or adds to what dx held, on every per-element path.
#[test]
fn input_gradient_overwrites_or_accumulates() {
    for gpu in backends() {
        let mut r = rng(42);
        for &shape in SHAPES {
            let (n, c, s) = dims(shape);
            let len = n * c * s;
            let (x, _) = upload(&gpu, shape, &uniform(&mut r, len, -2.0, 2.0));
            let (gamma, _) = upload(&gpu, &[c], &uniform(&mut r, c, 0.5, 1.5));
            let (beta, _) = upload(&gpu, &[c], &uniform(&mut r, c, -0.5, 0.5));
            let (running, _) = upload(&gpu, &[2 * c], &[vec![0.1; c], vec![1.5; c]].concat());
            let (dy, _) = upload(&gpu, shape, &uniform(&mut r, len, -1.0, 1.0));
            let old = uniform(&mut r, len, -1.0, 1.0);
            for config in [BnConfig::train(1e-3, 0.1), BnConfig::eval(1e-3)] {
                let (_, stats) =
                    batchnorm::forward(&gpu, &x, &gamma, &beta, &running, config).unwrap();
                let (dg, db) = (gpu.empty(&[c]), gpu.empty(&[c]));
                let (fresh, old64) = upload(&gpu, shape, &old);
                let saved = batchnorm::BnSaved { x: &x, gamma: &gamma, stats: &stats };
                batchnorm::backward(&gpu, saved, &dy, config, Some((&fresh, 0.0)), (&dg, &db, 0.0))
                    .unwrap();
                let (added, _) = upload(&gpu, shape, &old);
                batchnorm::backward(&gpu, saved, &dy, config, Some((&added, 0.5)), (&dg, &db, 0.0))
                    .unwrap();
                let (fresh, added) = (download(&gpu, &fresh), download(&gpu, &added));
                assert!(
                    fresh.iter().zip(&old64).any(|(f, o)| (f - o).abs() > 1e-3),
                    "{shape:?}: dx was not written"
                );
                let want: Vec<f64> = fresh.iter().zip(&old64).map(|(f, o)| f + 0.5 * o).collect();
                assert_close(
                    &format!("batchnorm dx += {shape:?} train={}", config.train),
                    &added,
                    &want,
                    1e-5,
                );
            }
        }
    }
}

fn dims(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

/// Returns (y, batch mean, biased var) with batch statistics, or with the given statistics.
fn bn_ref(
    shape: &[usize],
    x: &[f64],
    g: &[f64],
    b: &[f64],
    eps: f64,
    fixed: Option<(&[f64], &[f64])>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (n, c, s) = dims(shape);
    let count = (n * s) as f64;
    let mut mean = vec![0.0; c];
    let mut var = vec![0.0; c];
    for ch in 0..c {
        let vals: Vec<f64> = (0..n)
            .flat_map(|i| (0..s).map(move |j| (i, j)))
            .map(|(i, j)| x[(i * c + ch) * s + j])
            .collect();
        mean[ch] = vals.iter().sum::<f64>() / count;
        var[ch] = vals.iter().map(|v| (v - mean[ch]).powi(2)).sum::<f64>() / count;
    }
    let (m, v) = fixed.unwrap_or((&mean, &var));
    let y = (0..x.len())
        .map(|e| {
            let ch = (e / s) % c;
            g[ch] * (x[e] - m[ch]) / (v[ch] + eps).sqrt() + b[ch]
        })
        .collect();
    (y, mean, var)
}

#[test]
fn forward_and_running_statistics_match_reference() {
    for gpu in backends() {
        let mut r = rng(40);
        let (eps, momentum) = (1e-5, 0.1);
        for &shape in SHAPES.iter().chain(LARGE) {
            let (n, c, s) = dims(shape);
            let len = n * c * s;
            let (gamma, g64) = upload(&gpu, &[c], &uniform(&mut r, c, 0.5, 1.5));
            let (beta, b64) = upload(&gpu, &[c], &uniform(&mut r, c, -0.5, 0.5));
            let mut run_mean = uniform(&mut r, c, -0.2, 0.2);
            let mut run_var: Vec<f64> = uniform(&mut r, c, 0.5, 2.0);
            let init: Vec<f64> = run_mean.iter().chain(&run_var).copied().collect();
            let (running, init64) = upload(&gpu, &[2 * c], &init);
            run_mean.copy_from_slice(&init64[..c]);
            run_var.copy_from_slice(&init64[c..]);
            for _ in 0..2 {
                let (x, x64) = upload(&gpu, shape, &uniform(&mut r, len, -3.0, 5.0));
                let (y, _) = batchnorm::forward(
                    &gpu,
                    &x,
                    &gamma,
                    &beta,
                    &running,
                    BnConfig::train(eps as f32, momentum as f32),
                )
                .unwrap();
                let (want, mean, var) = bn_ref(shape, &x64, &g64, &b64, eps, None);
                assert_close(
                    &format!("batchnorm train {shape:?}"),
                    &download(&gpu, &y),
                    &want,
                    1e-5,
                );
                let count = (n * s) as f64;
                for ch in 0..c {
                    run_mean[ch] = (1.0 - momentum) * run_mean[ch] + momentum * mean[ch];
                    run_var[ch] =
                        (1.0 - momentum) * run_var[ch] + momentum * var[ch] * count / (count - 1.0);
                }
            }
            let want_running: Vec<f64> = run_mean.iter().chain(&run_var).copied().collect();
            assert_close(
                &format!("batchnorm running stats {shape:?}"),
                &download(&gpu, &running),
                &want_running,
                1e-5,
            );
            let (x, x64) = upload(&gpu, shape, &uniform(&mut r, len, -3.0, 5.0));
            let running_before = download(&gpu, &running);
            let (y, _) =
                batchnorm::forward(&gpu, &x, &gamma, &beta, &running, BnConfig::eval(eps as f32))
                    .unwrap();
            let (want, _, _) = bn_ref(shape, &x64, &g64, &b64, eps, Some((&run_mean, &run_var)));
            assert_close(&format!("batchnorm eval {shape:?}"), &download(&gpu, &y), &want, 1e-5);
            assert_eq!(
                download(&gpu, &running),
                running_before,
                "eval mode leaves the running statistics alone"
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences_in_both_modes() {
    for gpu in backends() {
        let mut r = rng(41);
        let eps = 1e-3;
        for &shape in SHAPES {
            let (n, c, s) = dims(shape);
            let len = n * c * s;
            for train in [true, false] {
                let (x, x64) = upload(&gpu, shape, &uniform(&mut r, len, -2.0, 2.0));
                let (gamma, g64) = upload(&gpu, &[c], &uniform(&mut r, c, 0.5, 1.5));
                let (beta, b64) = upload(&gpu, &[c], &uniform(&mut r, c, -0.5, 0.5));
                let (m, m64) = upload(&gpu, shape, &uniform(&mut r, len, -1.0, 1.0));
                let stats_init: Vec<f64> = uniform(&mut r, c, -0.3, 0.3)
                    .into_iter()
                    .chain(uniform(&mut r, c, 0.5, 2.0))
                    .collect();
                let (running, run64) = upload(&gpu, &[2 * c], &stats_init);
                let config = if train {
                    BnConfig::train(eps as f32, 0.1)
                } else {
                    BnConfig::eval(eps as f32)
                };
                let mut tape = Tape::new(&gpu);
                let (vx, vg, vb) =
                    (tape.input(x, true), tape.input(gamma, true), tape.input(beta, true));
                let y = tape.batch_norm(&vx, &vg, &vb, &running, config).unwrap();
                let vm = tape.constant(m);
                let weighted = tape.mul(&y, &vm).unwrap();
                let loss = tape.sum(&weighted, Axes::all(len), 1.0).unwrap();
                tape.backward(&loss).unwrap();
                let fixed = (!train).then(|| (run64[..c].to_vec(), run64[c..].to_vec()));
                let f = |x: &[f64], g: &[f64], b: &[f64]| {
                    let fx = fixed.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice()));
                    bn_ref(shape, x, g, b, eps, fx)
                        .0
                        .iter()
                        .zip(&m64)
                        .map(|(y, m)| y * m)
                        .sum::<f64>()
                };
                let what = format!("{shape:?} train={train}");
                assert_close(
                    &format!("batchnorm dx {what}"),
                    &download(&gpu, &tape.grad(&vx).unwrap()),
                    &finite_diff(&|v| f(v, &g64, &b64), &x64, 1e-5),
                    1e-4,
                );
                assert_close(
                    &format!("batchnorm dgamma {what}"),
                    &download(&gpu, &tape.grad(&vg).unwrap()),
                    &finite_diff(&|v| f(&x64, v, &b64), &g64, 1e-5),
                    1e-4,
                );
                assert_close(
                    &format!("batchnorm dbeta {what}"),
                    &download(&gpu, &tape.grad(&vb).unwrap()),
                    &finite_diff(&|v| f(&x64, &g64, v), &b64, 1e-5),
                    1e-4,
                );
            }
        }
    }
}

#[test]
fn training_mode_needs_more_than_one_value_per_channel() {
    for gpu in backends() {
        let x = gpu.upload(&[1, 3], &[1.0, 2.0, 3.0]).unwrap();
        let g = gpu.upload(&[3], &[1.0; 3]).unwrap();
        let running = gpu.upload(&[6], &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]).unwrap();
        let err =
            batchnorm::forward(&gpu, &x, &g, &g, &running, BnConfig::train(1e-5, 0.1)).unwrap_err();
        assert!(err.message().contains("more than one value per channel"), "{err}");
    }
}
