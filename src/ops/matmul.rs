//! Matrix products for Linear layers: `C = alpha * op(A) . op(B) (+ bias) (+ acc * C)`, with the
//! transposes x.W^T (forward), dY.W and dY^T.x (backward). Kernels: shaders/matmul.wgsl.

use crate::error::Result;
use crate::gpu::{Gpu, Tensor, Variant};
use crate::ops::layout;
use crate::ops::matmul_tiles::{grid, k_splits, rows_along_x, select, select_with, Params};
use crate::ops::reduce::{self, Axes};
use crate::{bail, ensure};

/// Logical shape of op(X) for a stored 2-D tensor.
fn op_shape(x: &Tensor, transposed: bool) -> (usize, usize) {
    let (r, c) = (x.rows(), x.cols());
    if transposed {
        (c, r)
    } else {
        (r, c)
    }
}

/// Options of one product beyond its operands.
#[derive(Clone, Copy, Debug)]
pub struct Gemm {
    pub trans_a: bool,
    pub trans_b: bool,
    pub alpha: f32,
    /// Weight of the old contents of C: 0 overwrites (C may hold garbage), 1 accumulates.
    pub acc: f32,
}

impl Gemm {
    pub fn new(trans_a: bool, trans_b: bool) -> Gemm {
        Gemm { trans_a, trans_b, alpha: 1.0, acc: 0.0 }
    }

    pub fn accumulate(mut self, acc: f32) -> Gemm {
        self.acc = acc;
        self
    }
}

/// Writes `op(A).op(B) (+ bias)` into `c`, which must be [M,N].
pub fn gemm_into(
    gpu: &Gpu,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    g: Gemm,
) -> Result<()> {
    let (m, k) = op_shape(a, g.trans_a);
    launch(gpu, a, (m, k, 0), b, bias, c, g)
}

/// Whether `gemm_blocked_at_into` can run an [m, n] x K product on this variant without a copy
/// of A: the entry point must read A^T itself (not the big tiles, which take A as [M,K]).
pub fn reads_blocked_at(variant: Variant, m: usize, n: usize, k: usize, trans_b: bool) -> bool {
    !select(variant, m, n, k, true, trans_b).transpose_a_first
}

/// Writes `A'.op(B)` into `c` [M,N], where A' [M, K] is stored in blocks of `block_rows` rows as
/// A [M / block_rows, K, block_rows]: an NCHW map [N, C, H*W] read as the rows [N*H*W, C] that
/// a convolution's product takes, without permuting it first. Only where `reads_blocked_at`.
pub fn gemm_blocked_at_into(
    gpu: &Gpu,
    a: &Tensor,
    block_rows: usize,
    b: &Tensor,
    c: &Tensor,
    g: Gemm,
) -> Result<()> {
    ensure!(
        block_rows > 0 && a.len().is_multiple_of(block_rows),
        "matmul: {} values of A do not split into blocks of {block_rows} rows",
        a.len()
    );
    ensure!(!g.trans_a, "matmul: a blocked A is read as A^T already");
    let (k, n) = op_shape(b, g.trans_b);
    let m = a.len() / k.max(1);
    ensure!(
        m.is_multiple_of(block_rows) && m * k == a.len(),
        "matmul: A {:?} is not [M / {block_rows}, {k}, {block_rows}]",
        a.shape()
    );
    ensure!(
        reads_blocked_at(gpu.variant, m, n, k, g.trans_b),
        "matmul: a {m}x{n}x{k} product on {:?} cannot read a blocked A",
        gpu.variant
    );
    launch(gpu, a, (m, k, block_rows), b, None, c, Gemm { trans_a: true, ..g })
}

/// The product with op(A) [m, k]; `a_block_rows` as in `Params`.
fn launch(
    gpu: &Gpu,
    a: &Tensor,
    (m, k, a_block_rows): (usize, usize, usize),
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    g: Gemm,
) -> Result<()> {
    let (k2, n) = op_shape(b, g.trans_b);
    ensure!(k == k2, "matmul: inner dimensions differ: op(A) is {m}x{k}, op(B) is {k2}x{n}");
    ensure!(
        c.rows() == m && c.cols() == n,
        "matmul: output is {:?}, product is {m}x{n}",
        c.shape()
    );
    if let Some(bias) = bias {
        ensure!(bias.len() == n, "matmul: bias has {} values for {n} columns", bias.len());
    }
    ensure!(!a.same_buffer(c) && !b.same_buffer(c), "matmul: output must not alias an input");
    if m == 0 || n == 0 {
        return Ok(());
    }
    let mut params = Params {
        has_bias: bias.is_some() as u32,
        alpha: g.alpha,
        acc: g.acc,
        a_block_rows: a_block_rows as u32,
        ..Params::new(m, n, k)
    };
    let bias = bias.unwrap_or(gpu.placeholder());
    let a_contiguous = match (g.trans_a, a_block_rows) {
        (false, _) => k,
        (true, 0) => m,
        (true, rows) => rows,
    };
    let choice = select_with(gpu.variant, m, n, k, g.trans_a, g.trans_b, a_contiguous);
    let kernel = choice.kernel;
    ensure!(
        a_block_rows == 0 || !choice.transpose_a_first,
        "matmul: {} cannot read a blocked A",
        kernel.entry
    );
    let transposed;
    let a = if choice.transpose_a_first {
        transposed = layout::transpose(gpu, a)?;
        &transposed
    } else {
        a
    };
    let along_x = rows_along_x(kernel, m, n);
    params.rows_along_x = along_x as u32;
    let groups = grid(kernel, m, n, along_x);
    let splits = k_splits(kernel, groups, k, params.has_bias != 0);
    if splits == 1 {
        return gpu.dispatch(kernel, choice.defines(), &params, &[a, b, bias, c], groups);
    }
    // Split K: partials [splits, M, N] (alpha applied when they are summed), then one sum.
    let k_split = k.div_ceil(splits).next_multiple_of(kernel.constant("TILE_K") as usize);
    let splits = k.div_ceil(k_split);
    let partials = gpu.empty(&[splits, m, n]);
    params.k_split = k_split as u32;
    (params.alpha, params.acc) = (1.0, 0.0);
    gpu.dispatch(
        kernel,
        choice.defines(),
        &params,
        &[a, b, bias, &partials],
        [groups[0], groups[1], splits as u32],
    )?;
    reduce::sum_into(
        gpu,
        &partials,
        Axes { outer: splits, mid: m * n, inner: 1 },
        c,
        g.alpha,
        g.acc,
    )
}

/// A new tensor `op(A).op(B) (+ bias)`.
pub fn gemm(
    gpu: &Gpu,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    trans_a: bool,
    trans_b: bool,
) -> Result<Tensor> {
    let (m, _) = op_shape(a, trans_a);
    let (_, n) = op_shape(b, trans_b);
    if a.shape().len() > 2 || b.shape().len() > 2 {
        bail!("matmul takes 2-D tensors, got {:?} and {:?}", a.shape(), b.shape());
    }
    let c = gpu.empty(&[m, n]);
    gemm_into(gpu, a, b, bias, &c, Gemm::new(trans_a, trans_b))?;
    Ok(c)
}

/// FLOPs of one product, for benchmarks: 2*M*N*K.
pub fn flops(m: usize, n: usize, k: usize) -> f64 {
    2.0 * m as f64 * n as f64 * k as f64
}

/// The operands of `C = op(A).op(B)`, as the forward product read them.
#[derive(Clone, Copy)]
pub struct Operands<'a> {
    pub a: &'a Tensor,
    pub b: &'a Tensor,
    pub trans_a: bool,
    pub trans_b: bool,
}

/// Backward of `C = op(A).op(B)`, writing (or accumulating) into the given gradient tensors:
///   op(A) = A  : dA = dC . op(B)^T          op(A) = A^T: dA = op(B) . dC^T
///   op(B) = B  : dB = op(A)^T . dC          op(B) = B^T: dB = dC^T . op(A)
pub fn backward(
    gpu: &Gpu,
    operands: Operands,
    dc: &Tensor,
    da: Option<(&Tensor, f32)>,
    db: Option<(&Tensor, f32)>,
) -> Result<()> {
    let Operands { a, b, trans_a, trans_b } = operands;
    if let Some((da, acc)) = da {
        if trans_a {
            gemm_into(gpu, b, dc, None, da, Gemm::new(trans_b, true).accumulate(acc))?;
        } else {
            gemm_into(gpu, dc, b, None, da, Gemm::new(false, !trans_b).accumulate(acc))?;
        }
    }
    if let Some((db, acc)) = db {
        if trans_b {
            gemm_into(gpu, dc, a, None, db, Gemm::new(true, trans_a).accumulate(acc))?;
        } else {
            gemm_into(gpu, a, dc, None, db, Gemm::new(!trans_a, false).accumulate(acc))?;
        }
    }
    Ok(())
}
