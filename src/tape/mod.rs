//! The autodiff tape. Each forward op runs its kernel at once and, when an input needs a gradient,
//! records what its backward needs. `backward(loss)` walks the records in reverse and encodes the
//! backward kernels, accumulating where a value feeds several ops: the first contribution writes
//! (acc = 0), later ones add (acc = 1). Every backward rule is in the one exhaustive `match` in
//! `backward_one`, so an op without one does not compile.
//!
//! Parameter gradients land straight in their arena's gradient buffer. Either they add to what
//! it holds (the caller zeroed it), or the tape writes them afresh (`overwrite_grads`); weight
//! gradients of products wait until the walk ends. Both schemes live in `param_grads`.

mod backward;
mod param_grads;

use crate::arena::{Arena, ArenaId, ParamId};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};
use crate::ops::batchnorm::{self, BnConfig};
use crate::ops::conv::{self, ConvGeom};
use crate::ops::elementwise::{self, Activation};
use crate::ops::losses::{self, LossOutput};
use crate::ops::matmul;
use crate::ops::reduce::{self, Axes};

/// A value on the tape: its tensor and, when it needs a gradient, its node.
#[derive(Clone, Debug)]
pub struct Var {
    pub value: Tensor,
    node: Option<usize>,
}

impl Var {
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    pub fn requires_grad(&self) -> bool {
        self.node.is_some()
    }
}

/// An operand kept for the backward pass.
struct Saved {
    node: Option<usize>,
    value: Tensor,
}

impl Saved {
    fn of(v: &Var) -> Saved {
        Saved { node: v.node, value: v.value.clone() }
    }
}

enum Op {
    Matmul {
        a: Saved,
        b: Saved,
        trans_a: bool,
        trans_b: bool,
        bias: Option<usize>,
    },
    Add {
        a: Option<usize>,
        b: Option<usize>,
        alpha: f32,
        beta: f32,
    },
    Mul {
        a: Saved,
        b: Saved,
    },
    Activation {
        f: Activation,
        x: usize,
        saved: Tensor,
    },
    Sum {
        x: usize,
        axes: Axes,
        alpha: f32,
    },
    Reshape {
        x: usize,
        shape: Vec<usize>,
    },
    /// `col` is the im2col matrix of the input.
    Conv2d {
        geom: ConvGeom,
        x: Option<usize>,
        weight: Saved,
        bias: Option<usize>,
        col: Tensor,
    },
    /// `geom` is the forward convolution this op transposes; `x_rows` its input as the forward
    /// saved it (rows, or the NCHW map itself; see `conv::conv_transpose2d`).
    ConvTranspose2d {
        geom: ConvGeom,
        x: Option<usize>,
        weight: Saved,
        bias: Option<usize>,
        x_rows: conv::SavedRows,
    },
    /// `stats` are the (mean, invstd) the forward pass normalised with.
    BatchNorm {
        x: Saved,
        gamma: Saved,
        beta: Option<usize>,
        stats: Tensor,
        config: BnConfig,
    },
    /// Any loss whose input gradient was computed in the forward pass.
    Loss {
        x: usize,
        grad: Tensor,
    },
    GaussLearned {
        mean: Option<usize>,
        logstd: Option<usize>,
        grad_mean: Tensor,
        grad_logstd: Tensor,
    },
}

struct Record {
    op: Op,
    out: usize,
}

pub struct Tape<'g> {
    gpu: &'g Gpu,
    records: Vec<Record>,
    /// Gradient of each node once known; parameter nodes start with their arena slice.
    grads: Vec<Option<Tensor>>,
    /// Whether each node is a parameter (its gradient is its arena slice).
    is_param: Vec<bool>,
    /// Arenas whose parameters enter this tape as constants: no gradient work for them.
    frozen: Vec<ArenaId>,
    param_grads: param_grads::ParamGrads,
}

impl<'g> Tape<'g> {
    pub fn new(gpu: &'g Gpu) -> Tape<'g> {
        Tape {
            gpu,
            records: Vec::new(),
            grads: Vec::new(),
            is_param: Vec::new(),
            frozen: Vec::new(),
            param_grads: Default::default(),
        }
    }

    pub fn gpu(&self) -> &'g Gpu {
        self.gpu
    }

    fn new_node(&mut self, grad: Option<Tensor>) -> usize {
        self.is_param.push(grad.is_some());
        self.grads.push(grad);
        self.grads.len() - 1
    }

    /// A leaf; with `requires_grad` its gradient is kept and read with `grad`.
    pub fn input(&mut self, value: Tensor, requires_grad: bool) -> Var {
        let node = requires_grad.then(|| self.new_node(None));
        Var { value, node }
    }

    pub fn constant(&mut self, value: Tensor) -> Var {
        Var { value, node: None }
    }

    /// Treat the parameters of `arena` as constants from now on (e.g. D while G trains through
    /// it), so no weight gradients are computed for them.
    pub fn freeze(&mut self, arena: &Arena) {
        self.frozen.push(arena.id());
    }

    /// Let `backward` write this arena's gradients afresh instead of adding to them: each
    /// parameter's first contribution overwrites what the buffer held, and parameters that get no
    /// contribution are zeroed when `backward` ends. Replaces `Arena::zero_grads` before a tape.
    pub fn overwrite_grads(&mut self, arena: &Arena) {
        self.param_grads.overwrite(arena);
    }

    /// A parameter whose gradient accumulates into its arena's gradient buffer.
    pub fn param(&mut self, arena: &Arena, id: ParamId) -> Var {
        if self.frozen.contains(&arena.id()) {
            return Var { value: arena.value(id), node: None };
        }
        let node = self.new_node(Some(arena.grad(id)));
        Var { value: arena.value(id), node: Some(node) }
    }

    /// The same value, cut off from the graph.
    pub fn detach(&self, v: &Var) -> Var {
        Var { value: v.value.clone(), node: None }
    }

    /// The gradient of a leaf after `backward`, if any reached it.
    pub fn grad(&self, v: &Var) -> Option<Tensor> {
        v.node.and_then(|n| self.grads[n].clone())
    }

    fn output(&mut self, value: Tensor, op: impl FnOnce() -> Op, needs: bool) -> Var {
        if !needs {
            return Var { value, node: None };
        }
        let out = self.new_node(None);
        self.records.push(Record { op: op(), out });
        Var { value, node: Some(out) }
    }

    /// `op(a) . op(b) (+ bias)`.
    pub fn matmul(
        &mut self,
        a: &Var,
        b: &Var,
        trans_a: bool,
        trans_b: bool,
        bias: Option<&Var>,
    ) -> Result<Var> {
        let value =
            matmul::gemm(self.gpu, &a.value, &b.value, bias.map(|v| &v.value), trans_a, trans_b)?;
        let needs = a.node.is_some() || b.node.is_some() || bias.is_some_and(|v| v.node.is_some());
        let bias = bias.and_then(|v| v.node);
        Ok(self.output(
            value,
            || Op::Matmul { a: Saved::of(a), b: Saved::of(b), trans_a, trans_b, bias },
            needs,
        ))
    }

    /// A Linear layer: `x . W^T + b` with W stored [out, in] as PyTorch does.
    pub fn linear(&mut self, x: &Var, weight: &Var, bias: Option<&Var>) -> Result<Var> {
        self.matmul(x, weight, false, true, bias)
    }

    /// `alpha * a + beta * b`.
    pub fn add(&mut self, a: &Var, b: &Var, alpha: f32, beta: f32) -> Result<Var> {
        let value = elementwise::add(self.gpu, &a.value, &b.value, alpha, beta)?;
        let needs = a.node.is_some() || b.node.is_some();
        Ok(self.output(value, || Op::Add { a: a.node, b: b.node, alpha, beta }, needs))
    }

    pub fn mul(&mut self, a: &Var, b: &Var) -> Result<Var> {
        let value = elementwise::mul(self.gpu, &a.value, &b.value)?;
        let needs = a.node.is_some() || b.node.is_some();
        Ok(self.output(value, || Op::Mul { a: Saved::of(a), b: Saved::of(b) }, needs))
    }

    pub fn activation(&mut self, x: &Var, f: Activation) -> Result<Var> {
        let value = elementwise::activate(self.gpu, &x.value, f)?;
        let Some(node) = x.node else {
            return Ok(Var { value, node: None });
        };
        let saved = if f.derivative_from_output() { value.clone() } else { x.value.clone() };
        Ok(self.output(value, || Op::Activation { f, x: node, saved }, true))
    }

    /// `alpha * sum` over the outer and inner axes of `x` viewed as `axes`; shape `[axes.mid]`.
    pub fn sum(&mut self, x: &Var, axes: Axes, alpha: f32) -> Result<Var> {
        let value = reduce::sum(self.gpu, &x.value, axes, alpha)?;
        let Some(node) = x.node else {
            return Ok(Var { value, node: None });
        };
        Ok(self.output(value, || Op::Sum { x: node, axes, alpha }, true))
    }

    /// The mean of every element, shape `[1]`.
    pub fn mean(&mut self, x: &Var) -> Result<Var> {
        let n = x.value.len();
        if n == 0 {
            return Err(Error::new("mean of an empty tensor"));
        }
        self.sum(x, Axes::all(n), 1.0 / n as f32)
    }

    pub fn reshape(&mut self, x: &Var, shape: &[usize]) -> Result<Var> {
        let len: usize = shape.iter().product();
        if len != x.value.len() {
            return Err(Error::new(format!("reshape {:?} to {shape:?}: sizes differ", x.shape())));
        }
        let value = x.value.reshape(shape);
        let Some(node) = x.node else {
            return Ok(Var { value, node: None });
        };
        let old = x.shape().to_vec();
        Ok(self.output(value, || Op::Reshape { x: node, shape: old }, true))
    }

    /// 2-D convolution (NCHW); weight [c_out, c_in, kh, kw], bias [c_out].
    pub fn conv2d(
        &mut self,
        x: &Var,
        weight: &Var,
        bias: Option<&Var>,
        geom: ConvGeom,
    ) -> Result<Var> {
        let (value, col) =
            conv::conv2d(self.gpu, &geom, &x.value, &weight.value, bias.map(|b| &b.value))?;
        let needs =
            x.node.is_some() || weight.node.is_some() || bias.is_some_and(|b| b.node.is_some());
        let (xn, bn) = (x.node, bias.and_then(|b| b.node));
        Ok(self.output(
            value,
            || Op::Conv2d { geom, x: xn, weight: Saved::of(weight), bias: bn, col },
            needs,
        ))
    }

    /// 2-D transposed convolution; weight [c_in, c_out, kh, kw], `geom` from
    /// `conv::transposed_geom`.
    pub fn conv_transpose2d(
        &mut self,
        x: &Var,
        weight: &Var,
        bias: Option<&Var>,
        geom: ConvGeom,
    ) -> Result<Var> {
        let (value, x_rows) = conv::conv_transpose2d(
            self.gpu,
            &geom,
            &x.value,
            &weight.value,
            bias.map(|b| &b.value),
        )?;
        let needs =
            x.node.is_some() || weight.node.is_some() || bias.is_some_and(|b| b.node.is_some());
        let (xn, bn) = (x.node, bias.and_then(|b| b.node));
        Ok(self.output(
            value,
            || Op::ConvTranspose2d { geom, x: xn, weight: Saved::of(weight), bias: bn, x_rows },
            needs,
        ))
    }

    /// Batch normalisation per channel of an (N, C) or (N, C, H, W) value; `running` [2C] holds
    /// the running means then variances (updated on the GPU in training mode).
    pub fn batch_norm(
        &mut self,
        x: &Var,
        gamma: &Var,
        beta: &Var,
        running: &Tensor,
        config: BnConfig,
    ) -> Result<Var> {
        let (value, stats) =
            batchnorm::forward(self.gpu, &x.value, &gamma.value, &beta.value, running, config)?;
        let needs = x.node.is_some() || gamma.node.is_some() || beta.node.is_some();
        let bn = beta.node;
        Ok(self.output(
            value,
            || Op::BatchNorm { x: Saved::of(x), gamma: Saved::of(gamma), beta: bn, stats, config },
            needs,
        ))
    }

    fn loss(&mut self, x: &Var, out: LossOutput) -> Var {
        let Some(node) = x.node else {
            return Var { value: out.loss, node: None };
        };
        self.output(out.loss, || Op::Loss { x: node, grad: out.grad }, true)
    }

    /// Per-row softmax cross-entropy of `logits` [rows, K] against class indices (as f32).
    pub fn softmax_xent(&mut self, logits: &Var, labels: &Tensor) -> Result<Var> {
        let out = losses::softmax_xent(self.gpu, &logits.value, labels)?;
        Ok(self.loss(logits, out))
    }

    /// Elementwise binary cross-entropy with logits against targets in [0, 1].
    pub fn bce_logits(&mut self, logits: &Var, target: &Tensor) -> Result<Var> {
        let out = losses::bce_logits(self.gpu, &logits.value, target)?;
        Ok(self.loss(logits, out))
    }

    /// Elementwise Gaussian NLL of `x` under N(mean, sigma^2).
    pub fn gauss_nll(&mut self, mean: &Var, x: &Tensor, sigma: f32) -> Result<Var> {
        let out = losses::gauss_nll(self.gpu, &mean.value, x, sigma)?;
        Ok(self.loss(mean, out))
    }

    /// Elementwise Gaussian NLL of `x` under N(mean, exp(logstd)^2).
    pub fn gauss_nll_learned(&mut self, mean: &Var, logstd: &Var, x: &Tensor) -> Result<Var> {
        let out = losses::gauss_nll_learned(self.gpu, &mean.value, &logstd.value, x)?;
        let needs = mean.node.is_some() || logstd.node.is_some();
        let grad_logstd = out
            .grad_logstd
            .ok_or_else(|| Error::new("learned-std NLL returned no log-std gradient"))?;
        let (m, s, gm) = (mean.node, logstd.node, out.grad);
        Ok(self.output(
            out.loss,
            || Op::GaussLearned { mean: m, logstd: s, grad_mean: gm, grad_logstd },
            needs,
        ))
    }
}
