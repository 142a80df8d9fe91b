//! Matrix products for Linear layers: `C = alpha * op(A) . op(B) (+ bias) (+ acc * C)`, with the
//! transposes x.W^T (forward), dY.W and dY^T.x (backward). Kernels: shaders/matmul.wgsl.

use bytemuck::Zeroable;

use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Variant, SUBGROUP_TILE_WIDTH};
use crate::ops::layout;
use crate::ops::reduce::{self, Axes};
use crate::gpu::Tensor;
use crate::{bail, ensure};

const SOURCE: &str = include_str!("../../shaders/matmul.wgsl");
const SUBGROUP_SOURCE: &str = include_str!("../../shaders/matmul_subgroup.wgsl");

/// 32x32 outputs per invocation, 8 invocations side by side: 32 rows x 256 columns per workgroup.
/// vec4 loads only; needs K % 4 == 0 and the vec4 conditions.
pub static REGISTER_TILE: Kernel = Kernel {
    defines: &["TRANS_A", "TRANS_B", "VEC4"],
    consts: &[("TILE_M", 32), ("TILE_N", 32), ("TILE_K", 4)],
    ..Kernel::new("matmul", SOURCE, "matmul_register_tile", [8, 1, 1], <Params as GpuParams>::FIELDS)
};

/// 64x8 outputs per invocation, one 8-lane subgroup per workgroup sharing A's rows through
/// broadcasts: 64 rows x 64 columns per workgroup. Conditions of `REGISTER_TILE`, and N % 4 == 0.
pub static SUBGROUP_TILE: Kernel = Kernel {
    defines: &["TRANS_B"],
    consts: &[("TILE_M", 64), ("TILE_N", 8), ("TILE_K", 4)],
    ..Kernel::new("matmul_subgroup", SUBGROUP_SOURCE, "matmul_subgroup_tile", [SUBGROUP_TILE_WIDTH, 1, 1], <Params as GpuParams>::FIELDS)
};

/// 8x8 outputs per invocation, 8x8 invocations: 64x64 of C per workgroup; any shape.
pub static REGISTER_TILE_SMALL: Kernel = Kernel {
    defines: &["TRANS_A", "TRANS_B", "VEC4"],
    consts: &[("TILE_M", 8), ("TILE_N", 8), ("TILE_K", 4)],
    ..Kernel::new("matmul", SOURCE, "matmul_register_tile_small", [8, 8, 1], <Params as GpuParams>::FIELDS)
};

/// 4x4 outputs per invocation, 16x16 invocations: 64x64 of C per workgroup.
pub static WORKGROUP_TILE: Kernel = Kernel {
    defines: &["TRANS_A", "TRANS_B", "VEC4"],
    consts: &[("TILE_M", 4), ("TILE_N", 4), ("TILE_K", 16)],
    ..Kernel::new("matmul", SOURCE, "matmul_workgroup_tile", [16, 16, 1], <Params as GpuParams>::FIELDS)
};

/// Outputs per invocation along (rows, columns): the prelude's `TILE_M` and `TILE_N`, which the
/// shader indexes with; the grid follows from these and the kernel's workgroup size.
fn outputs_per_invocation(kernel: &Kernel) -> (usize, usize) {
    (kernel.constant("TILE_M") as usize, kernel.constant("TILE_N") as usize)
}

/// Whether the big tiles (32x32, subgroup 64x8) can run op(A).op(B) once A is untransposed.
fn big_tile_fits(m: usize, n: usize, k: usize, trans_b: bool) -> bool {
    let b_contiguous = if trans_b { k } else { n };
    k.is_multiple_of(4) && b_contiguous % 4 == 0 && m >= 32 && n >= 32
}

/// What runs one product: the entry point, its define values, and whether the launcher first
/// transposes a stored A^T (entry points without a TRANS_A switch take A as stored [M,K]).
#[derive(Clone, Copy, Debug)]
pub struct Choice {
    pub kernel: &'static Kernel,
    defines: [u32; 3],
    pub transpose_a_first: bool,
}

impl Choice {
    pub fn defines(&self) -> &[u32] {
        &self.defines[..self.kernel.defines.len()]
    }
}

/// Which entry point and defines a product of this shape runs on this variant.
pub fn select(variant: Variant, m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool) -> Choice {
    select_with(variant, m, n, k, trans_a, trans_b, if trans_a { m } else { k })
}

/// `select` where A's contiguous run is `a_contiguous` floats (shorter than M for blocked A^T).
fn select_with(variant: Variant, m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool, a_contiguous: usize) -> Choice {
    // vec4 loads need the contiguous dimension of each stored operand to be a multiple of 4.
    let b_contiguous = if trans_b { k } else { n };
    let vec4 = a_contiguous.is_multiple_of(4) && b_contiguous.is_multiple_of(4);
    let (ta, tb) = (trans_a as u32, trans_b as u32);
    let big = big_tile_fits(m, n, k, trans_b);
    let (kernel, defines) = match variant {
        // The big tiles never see A^T: the launcher transposes A first.
        Variant::RegisterTile if big => (&REGISTER_TILE, [0, tb, 1]),
        // The subgroup tile also writes C and reads the bias as vec4s: N % 4 == 0.
        Variant::SubgroupTile if big && n.is_multiple_of(4) => (&SUBGROUP_TILE, [tb, 0, 0]),
        Variant::RegisterTile | Variant::SubgroupTile => (&REGISTER_TILE_SMALL, [ta, tb, vec4 as u32]),
        Variant::WorkgroupTile => (&WORKGROUP_TILE, [ta, tb, 0]),
    };
    let takes_trans_a = kernel.defines.first() == Some(&"TRANS_A");
    Choice { kernel, defines, transpose_a_first: trans_a && (!takes_trans_a || defines[0] == 0) }
}

crate::gpu_params! {
    struct Params {
        m: u32,
        n: u32,
        k: u32,
        has_bias: u32,
        alpha: f32,
        acc: f32,
        /// register_tile_small and workgroup_tile: when nonzero, workgroup z sums K from
        /// z * k_split (a multiple of the tile's K step) to the next split and writes its
        /// partial product at c[z * M * N ..]; 0: no split. Unused by the subgroup tile.
        k_split: u32,
        /// register_tile_small only: 1 lays C's row blocks along x, the SIMD lanes on llvmpipe.
        rows_along_x: u32,
        /// With TRANS_A: 0, or the rows of op(A) per stored block when A is [M / this, K, this]
        /// (an NCHW map read as rows [N*H*W, C] where this = H*W). Not for the big tiles.
        a_block_rows: u32,
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

impl Params {
    /// An [m, k] x [k, n] product writing alpha * A.B, no bias, no split, plain row-major A.
    fn new(m: usize, n: usize, k: usize) -> Params {
        Params { m: m as u32, n: n as u32, k: k as u32, alpha: 1.0, ..Params::zeroed() }
    }
}

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    let transposes = [[0, 0], [0, 1], [1, 0], [1, 1]];
    let with = |v: u32| transposes.iter().map(|t| vec![t[0], t[1], v]).collect::<Vec<_>>();
    let mut small = with(0);
    small.extend(with(1));
    let big = vec![vec![0, 0, 1], vec![0, 1, 1]];
    vec![
        (&REGISTER_TILE, big),
        (&SUBGROUP_TILE, vec![vec![0], vec![1]]),
        (&REGISTER_TILE_SMALL, small),
        (&WORKGROUP_TILE, with(0)),
    ]
}

/// Logical shape of op(X) for a stored 2-D tensor.
fn op_shape(x: &Tensor, transposed: bool) -> (usize, usize) {
    let (r, c) = (x.rows(), x.cols());
    if transposed { (c, r) } else { (r, c) }
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
pub fn gemm_into(gpu: &Gpu, a: &Tensor, b: &Tensor, bias: Option<&Tensor>, c: &Tensor, g: Gemm) -> Result<()> {
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
pub fn gemm_blocked_at_into(gpu: &Gpu, a: &Tensor, block_rows: usize, b: &Tensor, c: &Tensor, g: Gemm) -> Result<()> {
    ensure!(block_rows > 0 && a.len().is_multiple_of(block_rows), "matmul: {} values of A do not split into blocks of {block_rows} rows", a.len());
    ensure!(!g.trans_a, "matmul: a blocked A is read as A^T already");
    let (k, n) = op_shape(b, g.trans_b);
    let m = a.len() / k.max(1);
    ensure!(m.is_multiple_of(block_rows) && m * k == a.len(), "matmul: A {:?} is not [M / {block_rows}, {k}, {block_rows}]", a.shape());
    ensure!(reads_blocked_at(gpu.variant, m, n, k, g.trans_b), "matmul: a {m}x{n}x{k} product on {:?} cannot read a blocked A", gpu.variant);
    launch(gpu, a, (m, k, block_rows), b, None, c, Gemm { trans_a: true, ..g })
}

/// The product with op(A) [m, k]; `a_block_rows` as in `Params`.
fn launch(gpu: &Gpu, a: &Tensor, (m, k, a_block_rows): (usize, usize, usize), b: &Tensor, bias: Option<&Tensor>, c: &Tensor, g: Gemm) -> Result<()> {
    let (k2, n) = op_shape(b, g.trans_b);
    ensure!(k == k2, "matmul: inner dimensions differ: op(A) is {m}x{k}, op(B) is {k2}x{n}");
    ensure!(c.rows() == m && c.cols() == n, "matmul: output is {:?}, product is {m}x{n}", c.shape());
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
    ensure!(a_block_rows == 0 || !choice.transpose_a_first, "matmul: {} cannot read a blocked A", kernel.entry);
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
    gpu.dispatch(kernel, choice.defines(), &params, &[a, b, bias, &partials], [groups[0], groups[1], splits as u32])?;
    reduce::sum_into(gpu, &partials, Axes { outer: splits, mid: m * n, inner: 1 }, c, g.alpha, g.acc)
}

/// Workgroups along x (columns of C, or its rows with `rows_along_x`) and y for an [m, n] output.
fn grid(kernel: &Kernel, m: usize, n: usize, rows_along_x: bool) -> [u32; 3] {
    let (rows, cols) = outputs_per_invocation(kernel);
    let [wx, wy, _] = kernel.workgroup;
    if rows_along_x {
        return [m.div_ceil(rows * wx as usize) as u32, n.div_ceil(cols * wy as usize) as u32, 1];
    }
    [n.div_ceil(cols * wx as usize) as u32, m.div_ceil(rows * wy as usize) as u32, 1]
}

/// Whether the small tile walks C's row blocks along x. On llvmpipe the SIMD lanes are the
/// invocations along x, so a C with fewer column blocks than lanes (the thin conv products:
/// [12,544 x 16] at batch 64 had 2 of 8 lanes busy) runs its row blocks there instead.
fn rows_along_x(kernel: &Kernel, m: usize, n: usize) -> bool {
    let (rows, cols) = outputs_per_invocation(kernel);
    let lanes = kernel.workgroup[0] as usize;
    std::ptr::eq(kernel, &REGISTER_TILE_SMALL) && n.div_ceil(cols) < lanes && m.div_ceil(rows) > n.div_ceil(cols)
}

/// Whether `gemm_into` lays this product's row blocks along x, for tests.
pub fn rows_along_x_of(variant: Variant, m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool) -> bool {
    rows_along_x(select(variant, m, n, k, trans_a, trans_b).kernel, m, n)
}

/// Into how many K ranges `gemm_into` splits this product (1: none), for tests and benchmarks.
pub fn k_splits_of(variant: Variant, m: usize, n: usize, k: usize, trans_a: bool, trans_b: bool, has_bias: bool) -> usize {
    let kernel = select(variant, m, n, k, trans_a, trans_b).kernel;
    k_splits(kernel, grid(kernel, m, n, rows_along_x(kernel, m, n)), k, has_bias)
}

/// Workgroups along z for a product whose C fits in so few workgroups that most cores would
/// idle through a long K. 1: no split. A bias is added once, so a product with one never splits.
///
/// On llvmpipe (the small tile) a workgroup runs on one core: 16 workgroups keep a 16-thread
/// machine busy, so D's first conv weight gradient (C [64, 16], K = 12,544 at batch 64: one
/// workgroup) runs as 16 ranges of at least 512.
///
/// On a GPU (the workgroup tile) one 64x64 tile of C is one workgroup of 256 invocations, and a
/// streaming multiprocessor holds several: an H100 has 132 of them, each running up to 8 such
/// workgroups (2,048 threads). wgpu reports no core count, so the target is a fixed 512
/// workgroups, enough to fill a GPU of that size about once; the thin products of a step at batch
/// 64 are far below it (D's FC forward, C [64, 1024]: 16 workgroups; its weight gradient, C
/// [1024, 6272] with K = 64, 1,568 and unsplit). Each range keeps at least 4 k-tiles (K 64) so
/// the partials' extra traffic, M*N per range, stays small beside the range's loads.
fn k_splits(kernel: &Kernel, groups: [u32; 3], k: usize, has_bias: bool) -> usize {
    let workgroups = (groups[0] * groups[1]) as usize;
    let (target, min_k) = if std::ptr::eq(kernel, &REGISTER_TILE_SMALL) {
        (16, 512)
    } else if std::ptr::eq(kernel, &WORKGROUP_TILE) {
        (512, 4 * kernel.constant("TILE_K") as usize)
    } else {
        return 1;
    };
    if has_bias || workgroups >= target {
        return 1;
    }
    (target / workgroups).min(k / min_k).max(1)
}

/// A new tensor `op(A).op(B) (+ bias)`.
pub fn gemm(gpu: &Gpu, a: &Tensor, b: &Tensor, bias: Option<&Tensor>, trans_a: bool, trans_b: bool) -> Result<Tensor> {
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

/// Backward of `C = op(A).op(B)`, writing (or accumulating) into the given gradient tensors:
///   op(A) = A  : dA = dC . op(B)^T          op(A) = A^T: dA = op(B) . dC^T
///   op(B) = B  : dB = op(A)^T . dC          op(B) = B^T: dB = dC^T . op(A)
#[allow(clippy::too_many_arguments)] // operands and gradient outputs, named at every call
pub fn backward(
    gpu: &Gpu,
    a: &Tensor,
    b: &Tensor,
    trans_a: bool,
    trans_b: bool,
    dc: &Tensor,
    da: Option<(&Tensor, f32)>,
    db: Option<(&Tensor, f32)>,
) -> Result<()> {
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
