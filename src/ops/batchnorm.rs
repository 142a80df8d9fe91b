//! Batch normalisation per channel over (N, H, W) for maps and over N for (N, C) features, in
//! training mode (batch statistics, running statistics updated on the GPU) and eval mode.
//! Kernels: shaders/batchnorm.wgsl.

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

const SOURCE: &str = include_str!("../../shaders/batchnorm.wgsl");

const fn per_channel(entry: &'static str) -> Kernel {
    Kernel::new("batchnorm", SOURCE, entry, [64, 1, 1], <Params as GpuParams>::FIELDS)
}
const fn per_element(entry: &'static str) -> Kernel {
    Kernel::new("batchnorm", SOURCE, entry, [256, 1, 1], <Params as GpuParams>::FIELDS)
}

pub static STATS: Kernel = per_channel("bn_stats");
pub static EVAL_STATS: Kernel = per_channel("bn_eval_stats");
pub static NORMALIZE: Kernel = per_element("bn_normalize");
pub static BACKWARD_SUMS: Kernel = per_channel("bn_backward_sums");
pub static BACKWARD_DX: Kernel = per_element("bn_backward_dx");
pub static NORMALIZE4: Kernel = per_element("bn_normalize4");
pub static BACKWARD_DX4: Kernel = per_element("bn_backward_dx4");
pub static NORMALIZE4_FEATURES: Kernel = per_element("bn_normalize4_features");
pub static BACKWARD_DX4_FEATURES: Kernel = per_element("bn_backward_dx4_features");
pub static NORMALIZE4_STRADDLE: Kernel = per_element("bn_normalize4_straddle");
pub static BACKWARD_DX4_STRADDLE: Kernel = per_element("bn_backward_dx4_straddle");
pub static STATS4: Kernel = per_channel("bn_stats4");
pub static BACKWARD_SUMS4: Kernel = per_channel("bn_backward_sums4");
pub static STATS4_FEATURES: Kernel = per_channel("bn_stats4_features");
pub static BACKWARD_SUMS4_FEATURES: Kernel = per_channel("bn_backward_sums4_features");

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    let scalar = [&STATS, &EVAL_STATS, &NORMALIZE, &BACKWARD_SUMS, &BACKWARD_DX];
    let vec4 = [
        &STATS4,
        &NORMALIZE4,
        &BACKWARD_SUMS4,
        &BACKWARD_DX4,
        &STATS4_FEATURES,
        &NORMALIZE4_FEATURES,
        &BACKWARD_SUMS4_FEATURES,
        &BACKWARD_DX4_FEATURES,
        &NORMALIZE4_STRADDLE,
        &BACKWARD_DX4_STRADDLE,
    ];
    scalar.into_iter().chain(vec4).map(|k| (k, vec![vec![]])).collect()
}

/// How the kernels step through an [N, C, S] view (per element, and within a channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementPath {
    /// S % 4 == 0: 4 elements of one channel per invocation; channel sums read vec4s.
    Channel4,
    /// S == 1 and C % 4 == 0: 4 channels of one sample per invocation; channel sums do 4
    /// channels per invocation.
    Features4,
    /// S % 4 != 0, S >= 4 and N*C*S % 4 == 0 (7x7 maps): 4 elements spanning at most 2
    /// channels per invocation; channel sums scalar.
    Straddle4,
    /// One element (one channel) per invocation.
    Scalar,
}

/// The per-element path of a view (tests check that each is reached).
pub fn element_path((n, c, s): (usize, usize, usize)) -> ElementPath {
    if s.is_multiple_of(4) {
        ElementPath::Channel4
    } else if s == 1 && c.is_multiple_of(4) {
        ElementPath::Features4
    } else if s >= 4 && (n * c * s).is_multiple_of(4) {
        ElementPath::Straddle4
    } else {
        ElementPath::Scalar
    }
}

crate::gpu_params! {
    struct Params {
        n: u32,
        c: u32,
        s: u32,
        update: u32,
        eps: f32,
        momentum: f32,
        acc: f32,
        acc_dx: f32,
        train: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// How a batch-norm call normalises.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BnConfig {
    pub eps: f32,
    /// Weight of the new batch in the running statistics (PyTorch's `momentum`).
    pub momentum: f32,
    /// Batch statistics (and gradients through them) rather than the running ones.
    pub train: bool,
    /// In training mode, fold this batch into the running statistics.
    pub update_running: bool,
}

impl BnConfig {
    pub fn train(eps: f32, momentum: f32) -> BnConfig {
        BnConfig { eps, momentum, train: true, update_running: true }
    }

    pub fn eval(eps: f32) -> BnConfig {
        BnConfig { eps, momentum: 0.0, train: false, update_running: false }
    }
}

/// The [N, C, S] view of an (N, C) or (N, C, H, W) tensor.
pub fn channels_view(shape: &[usize]) -> Result<(usize, usize, usize)> {
    ensure!(
        shape.len() == 2 || shape.len() == 4,
        "batch norm takes (N, C) or (N, C, H, W), got {shape:?}"
    );
    Ok((shape[0], shape[1], shape[2..].iter().product()))
}

fn params(dims: (usize, usize, usize), config: BnConfig) -> Params {
    Params {
        n: dims.0 as u32,
        c: dims.1 as u32,
        s: dims.2 as u32,
        update: (config.train && config.update_running) as u32,
        eps: config.eps,
        momentum: config.momentum,
        acc: 0.0,
        acc_dx: 0.0,
        train: config.train as u32,
        _pad0: 0,
        _pad1: 0,
        _pad2: 0,
    }
}

/// Output and the (mean, invstd) statistics [2C] it used, which the backward pass needs.
/// `running` is [2C]: running means then running variances.
pub fn forward(
    gpu: &Gpu,
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running: &Tensor,
    config: BnConfig,
) -> Result<(Tensor, Tensor)> {
    let dims = channels_view(x.shape())?;
    let c = dims.1;
    ensure!(
        gamma.len() == c && beta.len() == c,
        "batch norm: {c} channels, gamma {:?}, beta {:?}",
        gamma.shape(),
        beta.shape()
    );
    ensure!(
        running.len() == 2 * c,
        "batch norm: running statistics hold {}, expected {}",
        running.len(),
        2 * c
    );
    if config.train {
        ensure!(
            dims.0 * dims.2 > 1,
            "batch norm in training mode needs more than one value per channel, got {:?}",
            x.shape()
        );
    }
    let p = params(dims, config);
    let stats = gpu.empty(&[2 * c]);
    let channel_groups = [(c as u32).div_ceil(64), 1, 1];
    if config.train {
        match element_path(dims) {
            ElementPath::Channel4 => {
                gpu.dispatch(&STATS4, &[], &p, &[&stats, running, x], channel_groups)?
            }
            ElementPath::Features4 => gpu.dispatch(
                &STATS4_FEATURES,
                &[],
                &p,
                &[&stats, running, x],
                [(c as u32 / 4).div_ceil(64), 1, 1],
            )?,
            ElementPath::Straddle4 | ElementPath::Scalar => {
                gpu.dispatch(&STATS, &[], &p, &[x, &stats, running], channel_groups)?
            }
        }
    } else {
        gpu.dispatch(&EVAL_STATS, &[], &p, &[&stats, running], channel_groups)?;
    }
    let y = gpu.empty(x.shape());
    match element_path(dims) {
        ElementPath::Channel4 => gpu.dispatch(
            &NORMALIZE4,
            &[],
            &p,
            &[gamma, beta, &stats, x, &y],
            grid_1d(x.len() / 4, 256),
        )?,
        ElementPath::Features4 => gpu.dispatch(
            &NORMALIZE4_FEATURES,
            &[],
            &p,
            &[x, &y, gamma, beta, &stats],
            grid_1d(x.len() / 4, 256),
        )?,
        ElementPath::Straddle4 => gpu.dispatch(
            &NORMALIZE4_STRADDLE,
            &[],
            &p,
            &[gamma, beta, &stats, x, &y],
            grid_1d(x.len() / 4, 256),
        )?,
        ElementPath::Scalar => {
            gpu.dispatch(&NORMALIZE, &[], &p, &[x, gamma, beta, &stats, &y], grid_1d(x.len(), 256))?
        }
    }
    Ok((y, stats))
}

/// What the forward pass leaves for the backward: its input, gamma and the batch statistics.
#[derive(Clone, Copy)]
pub struct BnSaved<'a> {
    pub x: &'a Tensor,
    pub gamma: &'a Tensor,
    pub stats: &'a Tensor,
}

/// Backward. Gradients of gamma and beta ([C] each) and of x, each with its accumulate flag.
pub fn backward(
    gpu: &Gpu,
    saved: BnSaved,
    dy: &Tensor,
    config: BnConfig,
    dx: Option<(&Tensor, f32)>,
    dgamma_dbeta: (&Tensor, &Tensor, f32),
) -> Result<()> {
    let BnSaved { x, gamma, stats } = saved;
    let dims = channels_view(x.shape())?;
    let (dgamma, dbeta, acc) = dgamma_dbeta;
    let mut p = params(dims, config);
    p.acc = acc;
    let sums = gpu.empty(&[2 * dims.1]);
    let channel_groups = [(dims.1 as u32).div_ceil(64), 1, 1];
    match element_path(dims) {
        ElementPath::Channel4 => gpu.dispatch(
            &BACKWARD_SUMS4,
            &[],
            &p,
            &[stats, dgamma, dbeta, &sums, x, dy],
            channel_groups,
        )?,
        ElementPath::Features4 => gpu.dispatch(
            &BACKWARD_SUMS4_FEATURES,
            &[],
            &p,
            &[stats, dgamma, dbeta, &sums, x, dy],
            [(dims.1 as u32 / 4).div_ceil(64), 1, 1],
        )?,
        ElementPath::Straddle4 | ElementPath::Scalar => gpu.dispatch(
            &BACKWARD_SUMS,
            &[],
            &p,
            &[x, stats, dy, dgamma, dbeta, &sums],
            channel_groups,
        )?,
    }
    if let Some((dx, acc_dx)) = dx {
        p.acc_dx = acc_dx;
        match element_path(dims) {
            ElementPath::Channel4 => gpu.dispatch(
                &BACKWARD_DX4,
                &[],
                &p,
                &[gamma, stats, &sums, x, dy, dx],
                grid_1d(x.len() / 4, 256),
            )?,
            ElementPath::Features4 => gpu.dispatch(
                &BACKWARD_DX4_FEATURES,
                &[],
                &p,
                &[x, dy, dx, gamma, stats, &sums],
                grid_1d(x.len() / 4, 256),
            )?,
            ElementPath::Straddle4 => gpu.dispatch(
                &BACKWARD_DX4_STRADDLE,
                &[],
                &p,
                &[gamma, stats, &sums, x, dy, dx],
                grid_1d(x.len() / 4, 256),
            )?,
            ElementPath::Scalar => gpu.dispatch(
                &BACKWARD_DX,
                &[],
                &p,
                &[x, gamma, stats, dy, dx, &sums],
                grid_1d(x.len(), 256),
            )?,
        }
    }
    Ok(())
}
