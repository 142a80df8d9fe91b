//! Op families: each file holds the WGSL kernel descriptions of one `shaders/*.wgsl` file, the
//! launchers that dispatch them, and the backward rules the tape calls, side by side.

pub mod adam;
pub mod batchnorm;
pub mod conv;
pub mod elementwise;
pub mod gather;
pub mod layout;
pub mod losses;
pub mod matmul;
pub mod matmul_tiles;
pub mod reduce;

use crate::gpu::Kernel;

/// Workgroups along x (and y when x would pass the per-dimension limit) covering `n` items, for
/// kernels that index `gid.x + gid.y * (num_workgroups.x * WG_X)`.
pub fn grid_1d(n: usize, per_group: u32) -> [u32; 3] {
    let groups = (n as u64).div_ceil(u64::from(per_group)).max(1) as u32;
    if n == 0 {
        return [0, 1, 1];
    }
    const MAX_X: u32 = 32_768;
    if groups <= MAX_X {
        [groups, 1, 1]
    } else {
        [MAX_X, groups.div_ceil(MAX_X), 1]
    }
}

/// Every kernel the runtime can launch, for the naga validation test and `bench kernels`.
pub fn all_kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    let mut all = Vec::new();
    all.extend(matmul_tiles::kernels());
    all.extend(elementwise::kernels());
    all.extend(reduce::kernels());
    all.extend(losses::kernels());
    all.extend(adam::kernels());
    all.extend(layout::kernels());
    all.extend(batchnorm::kernels());
    all.extend(gather::kernels());
    all
}
