//! The tiles that run a matrix product (shaders/matmul.wgsl and shaders/matmul_subgroup.wgsl):
//! their kernel descriptions and parameters, which tile takes a product of a given shape on each
//! kernel variant, and its dispatch geometry (grid, rows along x, split K).

use bytemuck::Zeroable;

use crate::gpu::{GpuParams, Kernel, Variant, SUBGROUP_TILE_WIDTH};

const SOURCE: &str = include_str!("../../shaders/matmul.wgsl");
const SUBGROUP_SOURCE: &str = include_str!("../../shaders/matmul_subgroup.wgsl");

/// 32x32 outputs per invocation, 8 invocations side by side: 32 rows x 256 columns per workgroup.
/// vec4 loads only; needs K % 4 == 0 and the vec4 conditions.
pub static REGISTER_TILE: Kernel = Kernel {
    defines: &["TRANS_A", "TRANS_B", "VEC4"],
    consts: &[("TILE_M", 32), ("TILE_N", 32), ("TILE_K", 4)],
    ..Kernel::new(
        "matmul",
        SOURCE,
        "matmul_register_tile",
        [8, 1, 1],
        <Params as GpuParams>::FIELDS,
    )
};

/// 64x8 outputs per invocation, one 8-lane subgroup per workgroup sharing A's rows through
/// broadcasts: 64 rows x 64 columns per workgroup. Conditions of `REGISTER_TILE`, and N % 4 == 0.
pub static SUBGROUP_TILE: Kernel = Kernel {
    defines: &["TRANS_B"],
    consts: &[("TILE_M", 64), ("TILE_N", 8), ("TILE_K", 4)],
    ..Kernel::new(
        "matmul_subgroup",
        SUBGROUP_SOURCE,
        "matmul_subgroup_tile",
        [SUBGROUP_TILE_WIDTH, 1, 1],
        <Params as GpuParams>::FIELDS,
    )
};

/// 8x8 outputs per invocation, 8x8 invocations: 64x64 of C per workgroup; any shape.
pub static REGISTER_TILE_SMALL: Kernel = Kernel {
    defines: &["TRANS_A", "TRANS_B", "VEC4"],
    consts: &[("TILE_M", 8), ("TILE_N", 8), ("TILE_K", 4)],
    ..Kernel::new(
        "matmul",
        SOURCE,
        "matmul_register_tile_small",
        [8, 8, 1],
        <Params as GpuParams>::FIELDS,
    )
};

/// 4x4 outputs per invocation, 16x16 invocations: 64x64 of C per workgroup.
pub static WORKGROUP_TILE: Kernel = Kernel {
    defines: &["TRANS_A", "TRANS_B", "VEC4"],
    consts: &[("TILE_M", 4), ("TILE_N", 4), ("TILE_K", 16)],
    ..Kernel::new(
        "matmul",
        SOURCE,
        "matmul_workgroup_tile",
        [16, 16, 1],
        <Params as GpuParams>::FIELDS,
    )
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
pub fn select(
    variant: Variant,
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
) -> Choice {
    select_with(variant, m, n, k, trans_a, trans_b, if trans_a { m } else { k })
}

/// `select` where A's contiguous run is `a_contiguous` floats (shorter than M for blocked A^T).
pub(crate) fn select_with(
    variant: Variant,
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
    a_contiguous: usize,
) -> Choice {
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
        Variant::RegisterTile | Variant::SubgroupTile => {
            (&REGISTER_TILE_SMALL, [ta, tb, vec4 as u32])
        }
        Variant::WorkgroupTile => (&WORKGROUP_TILE, [ta, tb, 0]),
    };
    let takes_trans_a = kernel.defines.first() == Some(&"TRANS_A");
    Choice { kernel, defines, transpose_a_first: trans_a && (!takes_trans_a || defines[0] == 0) }
}

crate::gpu_params! {
    pub(crate) struct Params {
        pub(crate) m: u32,
        pub(crate) n: u32,
        pub(crate) k: u32,
        pub(crate) has_bias: u32,
        pub(crate) alpha: f32,
        pub(crate) acc: f32,
        /// register_tile_small and workgroup_tile: when nonzero, workgroup z sums K from
        /// z * k_split (a multiple of the tile's K step) to the next split and writes its
        /// partial product at c[z * M * N ..]; 0: no split. Unused by the subgroup tile.
        pub(crate) k_split: u32,
        /// register_tile_small only: 1 lays C's row blocks along x, the SIMD lanes on llvmpipe.
        pub(crate) rows_along_x: u32,
        /// With TRANS_A: 0, or the rows of op(A) per stored block when A is [M / this, K, this]
        /// (an NCHW map read as rows [N*H*W, C] where this = H*W). Not for the big tiles.
        pub(crate) a_block_rows: u32,
        pub(crate) _pad0: u32,
        pub(crate) _pad1: u32,
        pub(crate) _pad2: u32,
    }
}

impl Params {
    /// An [m, k] x [k, n] product writing alpha * A.B, no bias, no split, plain row-major A.
    pub(crate) fn new(m: usize, n: usize, k: usize) -> Params {
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

/// Workgroups along x (columns of C, or its rows with `rows_along_x`) and y for an [m, n] output.
pub(crate) fn grid(kernel: &Kernel, m: usize, n: usize, rows_along_x: bool) -> [u32; 3] {
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
pub(crate) fn rows_along_x(kernel: &Kernel, m: usize, n: usize) -> bool {
    let (rows, cols) = outputs_per_invocation(kernel);
    let lanes = kernel.workgroup[0] as usize;
    std::ptr::eq(kernel, &REGISTER_TILE_SMALL)
        && n.div_ceil(cols) < lanes
        && m.div_ceil(rows) > n.div_ceil(cols)
}

/// Whether `gemm_into` lays this product's row blocks along x, for tests.
pub fn rows_along_x_of(
    variant: Variant,
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
) -> bool {
    rows_along_x(select(variant, m, n, k, trans_a, trans_b).kernel, m, n)
}

/// Into how many K ranges `gemm_into` splits this product (1: none), for tests and benchmarks.
pub fn k_splits_of(
    variant: Variant,
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
    has_bias: bool,
) -> usize {
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
pub(crate) fn k_splits(kernel: &Kernel, groups: [u32; 3], k: usize, has_bias: bool) -> usize {
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
