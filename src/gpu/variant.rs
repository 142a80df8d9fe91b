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
    pub const ALL: [Variant; 3] =
        [Variant::RegisterTile, Variant::SubgroupTile, Variant::WorkgroupTile];

    /// The variant to run on an adapter unless one is forced.
    pub fn for_adapter(adapter: &wgpu::Adapter) -> Variant {
        match adapter.get_info().device_type {
            wgpu::DeviceType::Cpu if Variant::SubgroupTile.runs_on(adapter) => {
                Variant::SubgroupTile
            }
            wgpu::DeviceType::Cpu => Variant::RegisterTile,
            _ if Variant::WorkgroupTile.runs_on(adapter) => Variant::WorkgroupTile,
            _ => Variant::RegisterTile,
        }
    }

    /// Whether the adapter can run this variant's kernels at all.
    pub fn runs_on(self, adapter: &wgpu::Adapter) -> bool {
        self.why_not(adapter).is_none()
    }

    /// What the adapter lacks for this variant, if anything.
    pub fn why_not(self, adapter: &wgpu::Adapter) -> Option<String> {
        let info = adapter.get_info();
        match self {
            Variant::SubgroupTile => {
                let has = adapter.features().contains(wgpu::Features::SUBGROUP);
                (!(has && info.subgroup_min_size == SUBGROUP_TILE_WIDTH && info.subgroup_max_size == SUBGROUP_TILE_WIDTH)).then(|| {
                    format!("subgroups of exactly {SUBGROUP_TILE_WIDTH} lanes; {} has {}..{} (subgroup feature: {has})", info.name, info.subgroup_min_size, info.subgroup_max_size)
                })
            }
            // Its 64x64 tile of C: 256 invocations of 4x4 outputs, and a 16 x 64 slice of A and
            // of B in workgroup memory (8 KiB); WebGPU's defaults (256, 16 KiB) allow both.
            Variant::WorkgroupTile => {
                let limits = adapter.limits();
                (limits.max_compute_invocations_per_workgroup < 256 || limits.max_compute_workgroup_storage_size < 8192).then(|| {
                    format!(
                        "256 invocations per workgroup and 8 KiB of workgroup memory; {} allows {} and {} B",
                        info.name, limits.max_compute_invocations_per_workgroup, limits.max_compute_workgroup_storage_size
                    )
                })
            }
            Variant::RegisterTile => None,
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
