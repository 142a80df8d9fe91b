//! Losses that return the per-row (or per-element) loss and keep its gradient from the same pass.
//! Kernels: shaders/losses.wgsl.

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

const SOURCE: &str = include_str!("../../shaders/losses.wgsl");

const fn kernel(entry: &'static str) -> Kernel {
    Kernel::new("losses", SOURCE, entry, [64, 1, 1], <Params as GpuParams>::FIELDS)
}

pub static SOFTMAX_XENT: Kernel = kernel("softmax_xent");
pub static BCE_LOGITS: Kernel = kernel("bce_logits");
pub static GAUSS_NLL: Kernel = kernel("gauss_nll");
pub static GAUSS_NLL_LEARNED: Kernel = kernel("gauss_nll_learned");
pub static SCALE_ROWS: Kernel = kernel("scale_rows");

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    [&SOFTMAX_XENT, &BCE_LOGITS, &GAUSS_NLL, &GAUSS_NLL_LEARNED, &SCALE_ROWS]
        .into_iter()
        .map(|k| (k, vec![vec![]]))
        .collect()
}

crate::gpu_params! {
    struct Params {
        rows: u32,
        cols: u32,
        sigma: f32,
        acc: f32,
    }
}

fn params(rows: usize, cols: usize) -> Params {
    Params { rows: rows as u32, cols: cols as u32, sigma: 1.0, acc: 0.0 }
}

fn launch(gpu: &Gpu, kernel: &Kernel, p: Params, count: usize, tensors: &[&Tensor]) -> Result<()> {
    gpu.dispatch(kernel, &[], &p, tensors, grid_1d(count, kernel.invocations_per_workgroup()))
}

/// Loss values and the gradient of each with respect to the input(s), from one pass.
pub struct LossOutput {
    pub loss: Tensor,
    pub grad: Tensor,
    /// Gradient with respect to the log-std, for the learned-std Gaussian.
    pub grad_logstd: Option<Tensor>,
}

/// Softmax cross-entropy of `logits` [rows, K] against class indices `target` [rows] (as f32).
/// An invalid index yields a NaN loss for that row.
pub fn softmax_xent(gpu: &Gpu, logits: &Tensor, target: &Tensor) -> Result<LossOutput> {
    let (rows, cols) = (logits.rows(), logits.cols());
    ensure!(
        target.len() == rows,
        "softmax cross-entropy: {} targets for {rows} rows",
        target.len()
    );
    let loss = gpu.empty(&[rows]);
    let grad = gpu.empty(logits.shape());
    launch(gpu, &SOFTMAX_XENT, params(rows, cols), rows, &[logits, target, &loss, &grad])?;
    Ok(LossOutput { loss, grad, grad_logstd: None })
}

/// Binary cross-entropy with logits, elementwise; `target` in [0, 1].
pub fn bce_logits(gpu: &Gpu, logits: &Tensor, target: &Tensor) -> Result<LossOutput> {
    ensure!(
        target.len() == logits.len(),
        "BCE: {} targets for {} logits",
        target.len(),
        logits.len()
    );
    let loss = gpu.empty(logits.shape());
    let grad = gpu.empty(logits.shape());
    launch(
        gpu,
        &BCE_LOGITS,
        params(logits.len(), 1),
        logits.len(),
        &[logits, target, &loss, &grad],
    )?;
    Ok(LossOutput { loss, grad, grad_logstd: None })
}

/// Gaussian negative log-likelihood of `x` under N(mean, sigma^2), elementwise.
pub fn gauss_nll(gpu: &Gpu, mean: &Tensor, x: &Tensor, sigma: f32) -> Result<LossOutput> {
    ensure!(mean.len() == x.len(), "Gaussian NLL: {} means for {} samples", mean.len(), x.len());
    ensure!(sigma > 0.0 && sigma.is_finite(), "Gaussian NLL: sigma must be positive, got {sigma}");
    let loss = gpu.empty(mean.shape());
    let grad = gpu.empty(mean.shape());
    let mut p = params(mean.len(), 1);
    p.sigma = sigma;
    launch(gpu, &GAUSS_NLL, p, mean.len(), &[mean, x, &loss, &grad])?;
    Ok(LossOutput { loss, grad, grad_logstd: None })
}

/// Gaussian negative log-likelihood with a learned per-element log-std.
pub fn gauss_nll_learned(
    gpu: &Gpu,
    mean: &Tensor,
    logstd: &Tensor,
    x: &Tensor,
) -> Result<LossOutput> {
    ensure!(
        mean.len() == x.len() && logstd.len() == x.len(),
        "Gaussian NLL: mean {:?}, log-std {:?} and sample {:?} differ",
        mean.shape(),
        logstd.shape(),
        x.shape()
    );
    let loss = gpu.empty(mean.shape());
    let grad = gpu.empty(mean.shape());
    let grad_logstd = gpu.empty(mean.shape());
    launch(
        gpu,
        &GAUSS_NLL_LEARNED,
        params(mean.len(), 1),
        mean.len(),
        &[mean, x, &loss, &grad, logstd, &grad_logstd],
    )?;
    Ok(LossOutput { loss, grad, grad_logstd: Some(grad_logstd) })
}

/// Backward of every loss: `dx[r, c] = acc * dx + saved_grad[r, c] * upstream[r]`.
pub fn scale_rows_into(
    gpu: &Gpu,
    saved_grad: &Tensor,
    upstream: &Tensor,
    dx: &Tensor,
    acc: f32,
) -> Result<()> {
    let rows = upstream.len();
    ensure!(
        rows > 0 && saved_grad.len().is_multiple_of(rows),
        "loss backward: {} upstream values for {:?}",
        rows,
        saved_grad.shape()
    );
    ensure!(
        dx.len() == saved_grad.len(),
        "loss backward: gradient {:?} for {:?}",
        dx.shape(),
        saved_grad.shape()
    );
    let mut p = params(rows, saved_grad.len() / rows);
    p.acc = acc;
    launch(gpu, &SCALE_ROWS, p, saved_grad.len(), &[saved_grad, upstream, dx])
}
