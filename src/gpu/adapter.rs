//! Adapter discovery and choice. `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` are honoured through
//! wgpu's `*_from_env` instance settings and our own name filter.

use crate::error::{Error, Result};

/// The backends wgpu drives and how this project checks each.
pub const BACKENDS: &str = "backends: Vulkan (every kernel, the PyTorch parity step and training run in \
the tests, on Mesa's lavapipe), OpenGL (the same tests on Mesa's llvmpipe), Metal and DX12 (every kernel \
translated to MSL and HLSL and checked by naga in the tests; never run on such a driver here)";

/// What to tell a user whose machine shows no adapter at all.
pub const NO_ADAPTER_HELP: &str = "no GPU adapter found. Install a GPU driver with Vulkan, Metal, \
DX12 or OpenGL 4.3 support; on a CPU-only Debian/Ubuntu machine install Mesa's lavapipe software \
Vulkan driver (`apt-get install mesa-vulkan-drivers`, Mesa 25 from bookworm-backports on Debian 12: \
see .ci/setup-mesa). `infogan devices` lists what wgpu sees and which backends are tested how.";

pub fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

pub fn all_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
}

/// Picks an adapter: those whose name contains `name_filter` (or `WGPU_ADAPTER_NAME`), else all;
/// among them the highest-performance kind first (discrete, integrated, virtual, CPU, other).
pub fn choose(instance: &wgpu::Instance, name_filter: Option<&str>) -> Result<wgpu::Adapter> {
    let env_filter = std::env::var("WGPU_ADAPTER_NAME").ok();
    let filter = name_filter.map(str::to_owned).or(env_filter).map(|f| f.to_lowercase());
    let adapters = all_adapters(instance);
    if adapters.is_empty() {
        return Err(Error::new(NO_ADAPTER_HELP));
    }
    let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
    let mut candidates: Vec<wgpu::Adapter> = adapters
        .into_iter()
        .filter(|a| match &filter {
            Some(f) => a.get_info().name.to_lowercase().contains(f.as_str()),
            None => true,
        })
        .collect();
    if candidates.is_empty() {
        return Err(Error::new(format!(
            "no adapter name contains {:?}; adapters seen: {}. Change --adapter or WGPU_ADAPTER_NAME.",
            filter.unwrap_or_default(),
            names.join(", ")
        )));
    }
    candidates.sort_by_key(|a| preference(&a.get_info()));
    Ok(candidates.remove(0))
}

/// Sort key of adapters, best first: the highest-performance kind (discrete, integrated,
/// virtual, CPU, other), and on one kind the native compute APIs before OpenGL, which wgpu
/// supports with fewer features (no subgroups, so no subgroup tile).
pub fn preference(info: &wgpu::AdapterInfo) -> (u8, bool) {
    (rank(info.device_type), info.backend == wgpu::Backend::Gl)
}

fn rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

/// One adapter described for `infogan devices`: identity and the limits that matter here.
pub fn describe(adapter: &wgpu::Adapter) -> String {
    let info = adapter.get_info();
    let limits = adapter.limits();
    format!(
        "{name}\n  backend {backend:?}, type {ty:?}, driver {driver} {driver_info}\n  \
         max invocations/workgroup {inv}, workgroup size {wx}x{wy}x{wz}, workgroup storage {wgs} B\n  \
         storage buffers/stage {sb}, max storage binding {msb} MiB, max buffer {mb} MiB\n  \
         timestamp queries: {ts}",
        name = info.name,
        backend = info.backend,
        ty = info.device_type,
        driver = info.driver,
        driver_info = info.driver_info,
        inv = limits.max_compute_invocations_per_workgroup,
        wx = limits.max_compute_workgroup_size_x,
        wy = limits.max_compute_workgroup_size_y,
        wz = limits.max_compute_workgroup_size_z,
        wgs = limits.max_compute_workgroup_storage_size,
        sb = limits.max_storage_buffers_per_shader_stage,
        msb = limits.max_storage_buffer_binding_size >> 20,
        mb = limits.max_buffer_size >> 20,
        ts = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY),
    )
}
