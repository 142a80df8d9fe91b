//! Sums over axes (bias gradients, loss means) and the broadcast that is their backward.
//! Kernels: shaders/reduce.wgsl.

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

const SOURCE: &str = include_str!("../../shaders/reduce.wgsl");

pub static REDUCE_SUM: Kernel =
    Kernel::new("reduce", SOURCE, "reduce_sum", [64, 1, 1], <Params as GpuParams>::FIELDS);
pub static BROADCAST: Kernel =
    Kernel::new("reduce", SOURCE, "broadcast", [256, 1, 1], <Params as GpuParams>::FIELDS);

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    vec![(&REDUCE_SUM, vec![vec![]]), (&BROADCAST, vec![vec![]])]
}

crate::gpu_params! {
    struct Params {
        outer: u32,
        mid: u32,
        inner: u32,
        _pad0: u32,
        alpha: f32,
        acc: f32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// A view of a tensor as `[outer, mid, inner]`; the reduction keeps `mid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axes {
    pub outer: usize,
    pub mid: usize,
    pub inner: usize,
}

impl Axes {
    /// Sum over rows of a [rows, cols] matrix: one value per column (bias gradients).
    pub fn columns_of(rows: usize, cols: usize) -> Axes {
        Axes { outer: rows, mid: cols, inner: 1 }
    }

    /// Sum over columns: one value per row.
    pub fn rows_of(rows: usize, cols: usize) -> Axes {
        Axes { outer: 1, mid: rows, inner: cols }
    }

    /// Everything into one value.
    pub fn all(len: usize) -> Axes {
        Axes { outer: 1, mid: 1, inner: len }
    }

    pub fn len(&self) -> usize {
        self.outer * self.mid * self.inner
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn params(&self, alpha: f32, acc: f32) -> Params {
        Params {
            outer: self.outer as u32,
            mid: self.mid as u32,
            inner: self.inner as u32,
            _pad0: 0,
            alpha,
            acc,
            _pad1: 0,
            _pad2: 0,
        }
    }
}

/// `out[m] = acc * out[m] + alpha * sum_{o,i} x[o, m, i]`.
pub fn sum_into(
    gpu: &Gpu,
    x: &Tensor,
    axes: Axes,
    out: &Tensor,
    alpha: f32,
    acc: f32,
) -> Result<()> {
    ensure!(axes.len() == x.len(), "reduce: {axes:?} does not match {:?}", x.shape());
    ensure!(out.len() == axes.mid, "reduce: output holds {}, expected {}", out.len(), axes.mid);
    let groups = [(axes.mid as u32).div_ceil(REDUCE_SUM.workgroup[0]), 1, 1];
    gpu.dispatch(&REDUCE_SUM, &[], &axes.params(alpha, acc), &[x, out], groups)
}

/// A new tensor of shape `[axes.mid]` holding `alpha * sum`.
pub fn sum(gpu: &Gpu, x: &Tensor, axes: Axes, alpha: f32) -> Result<Tensor> {
    let out = gpu.empty(&[axes.mid]);
    sum_into(gpu, x, axes, &out, alpha, 0.0)?;
    Ok(out)
}

/// `out[o, m, i] = acc * out + alpha * x[m]`: the backward of `sum`.
pub fn broadcast_into(
    gpu: &Gpu,
    x: &Tensor,
    axes: Axes,
    out: &Tensor,
    alpha: f32,
    acc: f32,
) -> Result<()> {
    ensure!(x.len() == axes.mid, "broadcast: input holds {}, expected {}", x.len(), axes.mid);
    ensure!(
        out.len() == axes.len(),
        "broadcast: output holds {}, expected {}",
        out.len(),
        axes.len()
    );
    let groups = grid_1d(axes.len(), BROADCAST.invocations_per_workgroup());
    gpu.dispatch(&BROADCAST, &[], &axes.params(alpha, acc), &[x, out], groups)
}
