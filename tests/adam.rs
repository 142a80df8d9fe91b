//! Adam against an f64 reference over several steps.

mod common;
use common::*;
use infogan::ops::adam::{self, AdamConfig};

#[test]
fn adam_matches_reference_over_several_steps() {
    for gpu in backends() {
        let mut r = rng(10);
        let config = AdamConfig { lr: 1e-2, beta1: 0.5, beta2: 0.999, eps: 1e-8 };
        // Lengths that are multiples of 4 take the vec4 kernel (adam4), the others the scalar one.
        for n in [1, 3, 4, 129, 4097, 4160] {
            let (p, mut p64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
            let m = gpu.upload(&[n], &vec![0.0; n]).unwrap();
            let v = gpu.upload(&[n], &vec![0.0; n]).unwrap();
            let (mut m64, mut v64) = (vec![0.0; n], vec![0.0; n]);
            for t in 1..=5u64 {
                let (g, g64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
                adam::step(
                    &gpu,
                    config,
                    t,
                    adam::AdamBuffers { params: &p, grads: &g, m: &m, v: &v },
                )
                .unwrap();
                let (b1, b2) = (f64::from(config.beta1), f64::from(config.beta2));
                for i in 0..n {
                    m64[i] = b1 * m64[i] + (1.0 - b1) * g64[i];
                    v64[i] = b2 * v64[i] + (1.0 - b2) * g64[i] * g64[i];
                    let mh = m64[i] / (1.0 - b1.powi(t as i32));
                    let vh = v64[i] / (1.0 - b2.powi(t as i32));
                    p64[i] -= f64::from(config.lr) * mh / (vh.sqrt() + f64::from(config.eps));
                }
            }
            assert_close(&format!("adam n={n} after 5 steps"), &download(&gpu, &p), &p64, 1e-5);
        }
    }
}
