//! The GPU runtime: one device and queue, a pipeline cache (each kernel instantiation compiled
//! once), a buffer pool, a bind-group cache, and a command list that records many dispatches and
//! submits them together in one command encoder and one compute pass per batch.

//!
//! Files by job: `adapter` (discovery and choice), `variant` (which kernel family suits it),
//! `device` (opening it; fresh and uploaded tensors), `kernel` and `params` (kernel descriptions,
//! the generated prelude, naga reflection), `pipelines` (pipeline and bind-group caches, recording
//! a dispatch), `record` (copies, flush, wait), `profiler` (timestamp queries), `readback`
//! (device-to-host copies), `pool` (buffer reuse).

pub mod adapter;
mod device;
pub mod kernel;
pub mod params;
mod pipelines;
pub mod pool;
mod profiler;
mod readback;
mod record;
pub mod tensor;
mod variant;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

pub use device::GpuOptions;
pub use kernel::{Defines, Kernel};
pub use params::GpuParams;
use pipelines::{BindKey, Pipeline, PipelineKey};
use pool::Pool;
pub use profiler::KernelTime;
use profiler::Profiler;
pub use readback::Readback;
use record::Command;
pub use tensor::Tensor;
pub use variant::{Variant, SUBGROUP_TILE_WIDTH};

/// Objects created and work submitted so far; the steady state of a training step adds none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub pipelines_created: u64,
    pub bind_groups_created: u64,
    pub buffers_created: u64,
    pub buffer_bytes: u64,
    pub submits: u64,
    pub dispatches: u64,
}

/// Uniform parameters of every dispatch in a batch live in one buffer, a slot each.
pub(crate) const PARAMS_SLOTS: u32 = 4096;
pub(crate) const PARAMS_SLOT_MAX_BYTES: u32 = 256;
/// Bind groups kept before the cache is cleared (tests touch many shapes; training a fixed set).
pub(crate) const BIND_GROUP_CACHE_MAX: usize = 16_384;

pub(crate) struct State {
    pipelines: HashMap<PipelineKey, Rc<Pipeline>>,
    bind_groups: HashMap<BindKey, wgpu::BindGroup>,
    commands: Vec<Command>,
    params_bytes: Vec<u8>,
    params_slots_used: u32,
    counters: Counters,
    profiler: Option<Profiler>,
}

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub variant: Variant,
    adapter_features: wgpu::Features,
    params_buffer: wgpu::Buffer,
    params_stride: u32,
    /// A small buffer bound where a kernel's optional input (e.g. a bias) is absent.
    placeholder: Tensor,
    pool: Pool,
    state: RefCell<State>,
    device_error: Arc<Mutex<Option<String>>>,
}
