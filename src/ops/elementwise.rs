//! Activations, their derivatives, and elementwise arithmetic. Kernels: shaders/elementwise.wgsl.

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

const SOURCE: &str = include_str!("../../shaders/elementwise.wgsl");

const fn kernel(entry: &'static str) -> Kernel {
    Kernel {
        codes: &[UnaryOp::WGSL, BinaryOp::WGSL],
        ..Kernel::new("elementwise", SOURCE, entry, [256, 1, 1], <Params as GpuParams>::FIELDS)
    }
}

crate::gpu_codes! {
    /// The function `unary` applies and `unary_backward` differentiates (`Params::op`).
    enum UnaryOp {
        /// alpha * x + beta
        Scale => "SCALE",
        Relu => "RELU",
        /// x >= 0 ? x : slope * x
        LeakyRelu => "LEAKY",
        Sigmoid => "SIGMOID",
        Tanh => "TANH",
    }
}

crate::gpu_codes! {
    /// What `binary` computes (`Params::op`).
    enum BinaryOp {
        /// alpha * a + beta * b
        Add => "ADD",
        /// a * b
        Mul => "MUL",
    }
}

pub static UNARY: Kernel = kernel("unary");
pub static UNARY_BACKWARD: Kernel = kernel("unary_backward");
pub static BINARY: Kernel = kernel("binary");
pub static FILL: Kernel = kernel("fill");
pub static AXPY: Kernel = kernel("axpy");
// Four floats per invocation through vec4 views, for lengths that are multiples of 4.
pub static FILL4: Kernel = kernel("fill4");
pub static UNARY4: Kernel = kernel("unary4");
pub static UNARY_BACKWARD4: Kernel = kernel("unary_backward4");
pub static AXPY4: Kernel = kernel("axpy4");

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    [&UNARY, &UNARY_BACKWARD, &BINARY, &FILL, &AXPY, &FILL4, &UNARY4, &UNARY_BACKWARD4, &AXPY4]
        .into_iter()
        .map(|k| (k, vec![vec![]]))
        .collect()
}

crate::gpu_params! {
    struct Params {
        n: u32,
        op: u32,
        alpha: f32,
        beta: f32,
        slope: f32,
        acc: f32,
        _pad0: u32,
        _pad1: u32,
    }
}

impl Params {
    fn new(n: usize, op: u32) -> Params {
        Params { n: n as u32, op, alpha: 1.0, beta: 0.0, slope: 0.0, acc: 0.0, _pad0: 0, _pad1: 0 }
    }
}

/// Pointwise functions with the derivative rule each needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// alpha * x + beta
    Scale {
        alpha: f32,
        beta: f32,
    },
    Relu,
    LeakyRelu {
        slope: f32,
    },
    Sigmoid,
    Tanh,
}

impl Activation {
    fn params(self, n: usize) -> Params {
        match self {
            Activation::Scale { alpha, beta } => {
                Params { alpha, beta, ..Params::new(n, UnaryOp::Scale.code()) }
            }
            Activation::Relu => Params::new(n, UnaryOp::Relu.code()),
            Activation::LeakyRelu { slope } => {
                Params { slope, ..Params::new(n, UnaryOp::LeakyRelu.code()) }
            }
            Activation::Sigmoid => Params::new(n, UnaryOp::Sigmoid.code()),
            Activation::Tanh => Params::new(n, UnaryOp::Tanh.code()),
        }
    }

    /// Whether the backward rule reads the output (sigmoid, tanh) rather than the input.
    pub fn derivative_from_output(self) -> bool {
        matches!(self, Activation::Sigmoid | Activation::Tanh)
    }
}

fn launch(gpu: &Gpu, kernel: &Kernel, params: Params, tensors: &[&Tensor]) -> Result<()> {
    let groups = grid_1d(params.n as usize, kernel.invocations_per_workgroup());
    gpu.dispatch(kernel, &[], &params, tensors, groups)
}

/// The vec4 twin when the length allows (every tensor of a call has the same length).
fn launch_vectorized(
    gpu: &Gpu,
    scalar: &Kernel,
    vec4: &Kernel,
    params: Params,
    tensors: &[&Tensor],
) -> Result<()> {
    if params.n.is_multiple_of(4) {
        let groups = grid_1d(params.n as usize / 4, vec4.invocations_per_workgroup());
        return gpu.dispatch(vec4, &[], &params, tensors, groups);
    }
    launch(gpu, scalar, params, tensors)
}

pub fn activate(gpu: &Gpu, x: &Tensor, f: Activation) -> Result<Tensor> {
    let y = gpu.empty(x.shape());
    launch_vectorized(gpu, &UNARY, &UNARY4, f.params(x.len()), &[x, &y])?;
    Ok(y)
}

/// `dx = acc * dx + dy * f'(saved)`; `saved` is the output for sigmoid/tanh, else the input.
pub fn activate_backward(
    gpu: &Gpu,
    f: Activation,
    saved: &Tensor,
    dy: &Tensor,
    dx: &Tensor,
    acc: f32,
) -> Result<()> {
    ensure!(saved.len() == dy.len() && dy.len() == dx.len(), "activation backward: sizes differ");
    let mut p = f.params(dx.len());
    p.acc = acc;
    launch_vectorized(gpu, &UNARY_BACKWARD, &UNARY_BACKWARD4, p, &[saved, dy, dx])
}

/// `alpha * a + beta * b`.
pub fn add(gpu: &Gpu, a: &Tensor, b: &Tensor, alpha: f32, beta: f32) -> Result<Tensor> {
    ensure!(a.len() == b.len(), "add: {:?} and {:?} differ in size", a.shape(), b.shape());
    let out = gpu.empty(a.shape());
    let mut p = Params::new(a.len(), BinaryOp::Add.code());
    p.alpha = alpha;
    p.beta = beta;
    launch(gpu, &BINARY, p, &[a, b, &out])?;
    Ok(out)
}

/// `a * b` elementwise.
pub fn mul(gpu: &Gpu, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    ensure!(a.len() == b.len(), "mul: {:?} and {:?} differ in size", a.shape(), b.shape());
    let out = gpu.empty(a.shape());
    launch(gpu, &BINARY, Params::new(a.len(), BinaryOp::Mul.code()), &[a, b, &out])?;
    Ok(out)
}

pub fn fill(gpu: &Gpu, out: &Tensor, value: f32) -> Result<()> {
    // fill and axpy read no op code.
    let mut p = Params::new(out.len(), 0);
    p.alpha = value;
    launch_vectorized(gpu, &FILL, &FILL4, p, &[out])
}

pub fn full(gpu: &Gpu, shape: &[usize], value: f32) -> Result<Tensor> {
    let out = gpu.empty(shape);
    fill(gpu, &out, value)?;
    Ok(out)
}

/// `out = acc * out + alpha * a`.
pub fn axpy(gpu: &Gpu, a: &Tensor, out: &Tensor, alpha: f32, acc: f32) -> Result<()> {
    ensure!(a.len() == out.len(), "axpy: {:?} into {:?}", a.shape(), out.shape());
    let mut p = Params::new(a.len(), 0);
    p.alpha = alpha;
    p.acc = acc;
    launch_vectorized(gpu, &AXPY, &AXPY4, p, &[a, out])
}
