//! The backward walk: `Tape::backward` and the one exhaustive `match` of backward rules, one arm
//! per recorded op, so an op without a rule does not compile.

use crate::error::{Error, Result};
use crate::gpu::Tensor;
use crate::ops::batchnorm;
use crate::ops::conv;
use crate::ops::elementwise;
use crate::ops::losses;
use crate::ops::matmul;
use crate::ops::reduce::{self, Axes};
use crate::tape::{Op, Tape, Var};

impl Tape<'_> {
    /// Where the gradient of `node` goes: the existing tensor (accumulate) or a new one (write).
    fn grad_target(&mut self, node: usize, shape: &[usize]) -> (Tensor, f32) {
        match self.grads[node].clone() {
            Some(g) if self.is_param[node] => {
                let acc = self.param_grads.acc(&g);
                (g, acc)
            }
            Some(g) => (g, 1.0),
            None => {
                let g = self.gpu.empty(shape);
                self.grads[node] = Some(g.clone());
                (g, 0.0)
            }
        }
    }

    /// Backpropagates from `loss`, seeding its gradient with ones (the gradient of the sum of its
    /// elements). Consumes the records; parameter gradients are in their arenas afterwards.
    pub fn backward(&mut self, loss: &Var) -> Result<()> {
        let Some(root) = loss.node else {
            return Err(Error::new(
                "backward: the loss does not depend on anything that needs a gradient",
            ));
        };
        let seed = elementwise::full(self.gpu, loss.shape(), 1.0)?;
        let (target, acc) = self.grad_target(root, loss.shape());
        elementwise::axpy(self.gpu, &seed, &target, 1.0, acc)?;
        let records = std::mem::take(&mut self.records);
        for record in records.iter().rev() {
            let Some(dy) = self.grads[record.out].clone() else {
                continue;
            };
            self.backward_one(&record.op, &dy)?;
        }
        self.param_grads.finish(self.gpu)
    }

    fn backward_one(&mut self, op: &Op, dy: &Tensor) -> Result<()> {
        let gpu = self.gpu;
        match op {
            Op::Matmul { a, b, trans_a, trans_b, bias } => {
                let da = a.node.map(|n| self.grad_target(n, a.value.shape()));
                // A weight (op(A) = A, so both gradient operands have the batch as rows) waits.
                let weight = b.node.filter(|&n| self.is_param[n] && !*trans_a);
                let db = b
                    .node
                    .filter(|_| weight.is_none())
                    .map(|n| self.grad_target(n, b.value.shape()));
                if let Some(n) = weight {
                    // Not grad_target: whether it overwrites is decided when the product runs.
                    let target = self.grads[n]
                        .clone()
                        .ok_or_else(|| Error::new("a parameter node without its gradient slice"))?;
                    let (first, second) = if *trans_b {
                        (dy.clone(), a.value.clone())
                    } else {
                        (a.value.clone(), dy.clone())
                    };
                    self.param_grads.defer(target, first, second);
                }
                let operands = matmul::Operands {
                    a: &a.value,
                    b: &b.value,
                    trans_a: *trans_a,
                    trans_b: *trans_b,
                };
                matmul::backward(
                    gpu,
                    operands,
                    dy,
                    da.as_ref().map(|(t, acc)| (t, *acc)),
                    db.as_ref().map(|(t, acc)| (t, *acc)),
                )?;
                if let Some(n) = bias {
                    let (g, acc) = self.grad_target(*n, &[dy.cols()]);
                    reduce::sum_into(
                        gpu,
                        dy,
                        Axes::columns_of(dy.rows(), dy.cols()),
                        &g,
                        1.0,
                        acc,
                    )?;
                }
            }
            Op::Add { a, b, alpha, beta } => {
                for (node, scale) in [(a, alpha), (b, beta)] {
                    if let Some(n) = node {
                        let (g, acc) = self.grad_target(*n, dy.shape());
                        elementwise::axpy(gpu, dy, &g, *scale, acc)?;
                    }
                }
            }
            Op::Mul { a, b } => {
                // da = dy * b (and db = dy * a): a product into a temporary, then accumulated.
                for (this, other) in [(a, b), (b, a)] {
                    if let Some(n) = this.node {
                        let prod = elementwise::mul(gpu, dy, &other.value)?;
                        let (g, acc) = self.grad_target(n, this.value.shape());
                        elementwise::axpy(gpu, &prod, &g, 1.0, acc)?;
                    }
                }
            }
            Op::Activation { f, x, saved } => {
                let (g, acc) = self.grad_target(*x, saved.shape());
                elementwise::activate_backward(gpu, *f, saved, dy, &g, acc)?;
            }
            Op::Sum { x, axes, alpha } => {
                let (g, acc) = self.grad_target(*x, &[axes.len()]);
                reduce::broadcast_into(gpu, dy, *axes, &g, *alpha, acc)?;
            }
            Op::Reshape { x, shape } => {
                let (g, acc) = self.grad_target(*x, shape);
                elementwise::axpy(gpu, &dy.reshape(shape), &g, 1.0, acc)?;
            }
            Op::Conv2d { geom, x, weight, bias, col } => {
                let dx = x.map(|n| self.grad_target(n, &geom.input_shape()));
                let dw = weight.node.map(|n| self.grad_target(n, weight.value.shape()));
                let db = bias.map(|n| self.grad_target(n, &[geom.c_out]));
                let grads = conv::ConvGrads {
                    dx: dx.as_ref().map(|(t, a)| (t, *a)),
                    dweight: dw.as_ref().map(|(t, a)| (t, *a)),
                    dbias: db.as_ref().map(|(t, a)| (t, *a)),
                };
                conv::conv2d_backward(gpu, geom, col, &weight.value, dy, grads)?;
            }
            Op::ConvTranspose2d { geom, x, weight, bias, x_rows } => {
                let dx = x.map(|n| self.grad_target(n, &geom.output_shape()));
                let dw = weight.node.map(|n| self.grad_target(n, weight.value.shape()));
                let db = bias.map(|n| self.grad_target(n, &[geom.c_in]));
                let grads = conv::ConvGrads {
                    dx: dx.as_ref().map(|(t, a)| (t, *a)),
                    dweight: dw.as_ref().map(|(t, a)| (t, *a)),
                    dbias: db.as_ref().map(|(t, a)| (t, *a)),
                };
                conv::conv_transpose2d_backward(
                    gpu,
                    geom,
                    x_rows.view(),
                    &weight.value,
                    dy,
                    grads,
                )?;
            }
            Op::BatchNorm { x, gamma, beta, stats, config } => {
                let channels = gamma.value.len();
                let dx = x.node.map(|n| self.grad_target(n, x.value.shape()));
                let target = |tape: &mut Self, node: Option<usize>| match node {
                    Some(n) => tape.grad_target(n, &[channels]),
                    None => (gpu.empty(&[channels]), 0.0),
                };
                let (dgamma, acc_g) = target(self, gamma.node);
                let (dbeta, acc_b) = target(self, *beta);
                let dx = dx.as_ref().map(|(t, a)| (t, *a));
                let saved = batchnorm::BnSaved { x: &x.value, gamma: &gamma.value, stats };
                if acc_g == acc_b {
                    batchnorm::backward(gpu, saved, dy, *config, dx, (&dgamma, &dbeta, acc_g))?;
                } else {
                    // One writes, the other adds: go through scratch for both.
                    let (sg, sb) = (gpu.empty(&[channels]), gpu.empty(&[channels]));
                    batchnorm::backward(gpu, saved, dy, *config, dx, (&sg, &sb, 0.0))?;
                    elementwise::axpy(gpu, &sg, &dgamma, 1.0, acc_g)?;
                    elementwise::axpy(gpu, &sb, &dbeta, 1.0, acc_b)?;
                }
            }
            Op::Loss { x, grad } => {
                let (g, acc) = self.grad_target(*x, grad.shape());
                losses::scale_rows_into(gpu, grad, dy, &g, acc)?;
            }
            Op::GaussLearned { mean, logstd, grad_mean, grad_logstd } => {
                for (node, saved) in [(mean, grad_mean), (logstd, grad_logstd)] {
                    if let Some(n) = node {
                        let (g, acc) = self.grad_target(*n, saved.shape());
                        losses::scale_rows_into(gpu, saved, dy, &g, acc)?;
                    }
                }
            }
        }
        Ok(())
    }
}
