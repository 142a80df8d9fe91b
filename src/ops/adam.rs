//! Adam over a whole parameter arena in one dispatch. Kernel: shaders/adam.wgsl.

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

pub static ADAM: Kernel = Kernel::new(
    "adam",
    include_str!("../../shaders/adam.wgsl"),
    "adam",
    [256, 1, 1],
    <Params as GpuParams>::FIELDS,
);

/// Four parameters per invocation, for lengths that are multiples of 4 (every arena).
pub static ADAM4: Kernel = Kernel { entry: "adam4", ..ADAM };

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    vec![(&ADAM, vec![vec![]]), (&ADAM4, vec![vec![]])]
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

impl AdamConfig {
    /// InfoGAN's settings: beta1 0.5, beta2 0.999, eps 1e-8.
    pub fn infogan(lr: f32) -> AdamConfig {
        AdamConfig { lr, beta1: 0.5, beta2: 0.999, eps: 1e-8 }
    }
}

crate::gpu_params! {
    struct Params {
        n: u32,
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        bc1: f32,
        bc2: f32,
        _pad: u32,
    }
}

/// The four equally long buffers one Adam step reads and updates.
#[derive(Clone, Copy)]
pub struct AdamBuffers<'a> {
    pub params: &'a Tensor,
    pub grads: &'a Tensor,
    /// The first and second moments.
    pub m: &'a Tensor,
    pub v: &'a Tensor,
}

/// Step number `t` (1-based) of Adam over `params`, with moments `m` and `v`.
pub fn step(gpu: &Gpu, config: AdamConfig, t: u64, buffers: AdamBuffers) -> Result<()> {
    let AdamBuffers { params, grads, m, v } = buffers;
    let n = params.len();
    ensure!(grads.len() == n && m.len() == n && v.len() == n, "Adam: arenas differ in size");
    ensure!(t >= 1, "Adam: step numbers start at 1");
    // Bias corrections in f64 on the host: b2^t for large t needs the precision.
    let bc1 = 1.0 - f64::from(config.beta1).powf(t as f64);
    let bc2 = 1.0 - f64::from(config.beta2).powf(t as f64);
    let p = Params {
        n: n as u32,
        lr: config.lr,
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
        bc1: bc1 as f32,
        bc2: bc2 as f32,
        _pad: 0,
    };
    if n.is_multiple_of(4) {
        return gpu.dispatch(
            &ADAM4,
            &[],
            &p,
            &[params, grads, m, v],
            grid_1d(n / 4, ADAM4.invocations_per_workgroup()),
        );
    }
    gpu.dispatch(
        &ADAM,
        &[],
        &p,
        &[params, grads, m, v],
        grid_1d(n, ADAM.invocations_per_workgroup()),
    )
}
