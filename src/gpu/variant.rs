//! Kernel variants: which family of matmul entry points suits an adapter.

/// Which family of kernel variants runs on this adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Software rasterisers (lavapipe): SIMD lanes span invocations and loads dominate, so each
    /// invocation owns a large register tile and loads vec4s; no workgroup memory.
    RegisterTile,
    /// Software rasterisers whose subgroups are exactly 8 lanes (lavapipe at 256 bits): as
    /// `RegisterTile`, but the big products share one operand across the subgroup by broadcasts
    /// (shaders/matmul_subgroup.wgsl), about 1.7x faster.
    SubgroupTile,
    /// Real GPUs: classic workgroup-memory tiling.
    WorkgroupTile,
}

/// The subgroup width `SubgroupTile` is written for.
pub const SUBGROUP_TILE_WIDTH: u32 = 8;

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::RegisterTile, Variant::SubgroupTile, Variant::WorkgroupTile];

    /// The variant to run on an adapter unless one is forced.
    pub fn for_adapter(adapter: &wgpu::Adapter) -> Variant {
        match adapter.get_info().device_type {
            wgpu::DeviceType::Cpu if Variant::SubgroupTile.runs_on(adapter) => Variant::SubgroupTile,
            wgpu::DeviceType::Cpu => Variant::RegisterTile,
            _ => Variant::WorkgroupTile,
        }
    }

    /// Whether the adapter can run this variant's kernels at all.
    pub fn runs_on(self, adapter: &wgpu::Adapter) -> bool {
        match self {
            Variant::SubgroupTile => {
                let info = adapter.get_info();
                adapter.features().contains(wgpu::Features::SUBGROUP)
                    && info.subgroup_min_size == SUBGROUP_TILE_WIDTH
                    && info.subgroup_max_size == SUBGROUP_TILE_WIDTH
            }
            Variant::RegisterTile | Variant::WorkgroupTile => true,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Variant::RegisterTile => "register-tile",
            Variant::SubgroupTile => "subgroup-tile",
            Variant::WorkgroupTile => "workgroup-tile",
        }
    }
}
