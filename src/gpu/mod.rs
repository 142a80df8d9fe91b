//! The GPU runtime: one device and queue, a pipeline cache (each kernel instantiation compiled
//! once), a buffer pool, a bind-group cache, and a command list that records many dispatches and
//! submits them together in one command encoder and one compute pass per batch.

pub mod adapter;
pub mod kernel;
pub mod pool;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::tensor::Tensor;
pub use kernel::{Defines, Kernel};
use pool::{BufferKind, Pool, PooledBuffer};

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

#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Case-insensitive substring of the adapter name (else `WGPU_ADAPTER_NAME`, else the fastest).
    pub adapter: Option<String>,
    /// Force a kernel variant (tests run every variant on whatever adapter they have).
    pub variant: Option<Variant>,
}

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

struct Pipeline {
    id: u64,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    reflection: kernel::Reflection,
}

/// A kernel (by its address: kernels are `static`s) and its define values. Looked up on every
/// dispatch, so it allocates nothing; the readable label is built only when compiling.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PipelineKey {
    kernel: usize,
    defines: [u32; MAX_DEFINES],
}

const MAX_DEFINES: usize = 4;

#[derive(Clone, PartialEq, Eq, Hash)]
struct BindKey {
    pipeline: u64,
    params_slot: u32,
    tensors: Vec<(u64, u64, u64)>,
}

enum Command {
    Dispatch { pipeline: wgpu::ComputePipeline, bind_group: wgpu::BindGroup, groups: [u32; 3], label: &'static str },
    Copy { src: wgpu::Buffer, src_offset: u64, dst: wgpu::Buffer, dst_offset: u64, size: u64 },
}

/// Uniform parameters of every dispatch in a batch live in one buffer, a slot each.
const PARAMS_SLOTS: u32 = 4096;
const PARAMS_SLOT_MAX_BYTES: u32 = 256;
/// Bind groups kept before the cache is cleared (tests touch many shapes; training a fixed set).
const BIND_GROUP_CACHE_MAX: usize = 16_384;

/// GPU time per kernel entry point and dispatch grid (workgroups in x, y, z), from timestamp
/// queries around each dispatch. The grid tells apart the shapes one entry point runs.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelTime {
    pub kernel: &'static str,
    pub grid: [u32; 3],
    pub dispatches: u64,
    pub ms: f64,
}

impl KernelTime {
    /// The same times summed per entry point (`grid` zeroed), largest first.
    pub fn per_kernel(times: &[KernelTime]) -> Vec<KernelTime> {
        let mut out: Vec<KernelTime> = Vec::new();
        for t in times {
            match out.iter_mut().find(|k| k.kernel == t.kernel) {
                Some(k) => {
                    k.dispatches += t.dispatches;
                    k.ms += t.ms;
                }
                None => out.push(KernelTime { grid: [0; 3], ..t.clone() }),
            }
        }
        out.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        out
    }
}

/// Timestamp queries (two per dispatch) while profiling is on.
struct Profiler {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    totals: HashMap<(&'static str, [u32; 3]), (u64, f64)>,
}

/// Dispatches timed per submit: two queries each, within wgpu's 4096 queries per set.
const PROFILED_DISPATCHES: u32 = 2048;

struct State {
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

impl Gpu {
    pub fn new(options: &GpuOptions) -> Result<Gpu> {
        let instance = adapter::instance();
        let adapter = adapter::choose(&instance, options.adapter.as_deref())?;
        Self::from_adapter(adapter, options.variant)
    }

    pub fn from_adapter(adapter: wgpu::Adapter, variant: Option<Variant>) -> Result<Gpu> {
        let info = adapter.get_info();
        let variant = variant.unwrap_or_else(|| Variant::for_adapter(&adapter));
        if !variant.runs_on(&adapter) {
            return Err(Error::new(format!(
                "kernel variant {} needs subgroups of exactly {SUBGROUP_TILE_WIDTH} lanes; {} has {}..{} (subgroup feature: {})",
                variant.name(),
                info.name,
                info.subgroup_min_size,
                info.subgroup_max_size,
                adapter.features().contains(wgpu::Features::SUBGROUP)
            )));
        }
        let supported = adapter.limits();
        // WebGPU defaults, but with the adapter's own buffer size limits so large batches fit.
        let mut limits = wgpu::Limits::defaults();
        limits.max_storage_buffer_binding_size = supported.max_storage_buffer_binding_size;
        limits.max_buffer_size = supported.max_buffer_size;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("infogan"),
            // Timestamps only serve `--profile` and subgroups the subgroup-tile products; asking for
            // them costs nothing where they exist.
            required_features: adapter.features() & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP),
            required_limits: limits,
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::new(format!("could not open adapter {}: {e}", info.name)))?;

        let device_error = Arc::new(Mutex::new(None::<String>));
        let sink = device_error.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut slot) = sink.lock() {
                slot.get_or_insert_with(|| error.to_string());
            }
        }));

        let params_stride = device.limits().min_uniform_buffer_offset_alignment.max(PARAMS_SLOT_MAX_BYTES);
        let params_buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dispatch params"),
            size: u64::from(params_stride) * u64::from(PARAMS_SLOTS),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let pool = Pool::default();
        let placeholder = Tensor::from_buffer(pool.get(&device, BufferKind::Storage, 256), 0, &[4]);
        Ok(Gpu {
            variant,
            adapter_features: adapter.features(),
            info,
            device,
            queue,
            params_buffer,
            params_stride,
            placeholder,
            pool,
            state: RefCell::new(State {
                pipelines: HashMap::new(),
                bind_groups: HashMap::new(),
                commands: Vec::new(),
                params_bytes: Vec::new(),
                params_slots_used: 0,
                counters: Counters::default(),
                profiler: None,
            }),
            device_error,
        })
    }

    /// "name (backend, type)" for logs and benchmark reports.
    /// Whether the adapter is a software rasteriser running on this machine's CPU (lavapipe).
    pub fn runs_on_cpu(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    pub fn adapter_name(&self) -> String {
        format!("{} ({:?}, {:?}, driver {})", self.info.name, self.info.backend, self.info.device_type, self.info.driver_info)
    }

    pub fn supports_timestamps(&self) -> bool {
        self.adapter_features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    pub fn counters(&self) -> Counters {
        let mut counters = self.state.borrow().counters;
        let (created, bytes, _) = self.pool.stats();
        counters.buffers_created = created;
        counters.buffer_bytes = bytes;
        counters
    }

    /// A tensor with undefined contents (a recycled buffer may hold old data).
    pub fn empty(&self, shape: &[usize]) -> Tensor {
        let len: usize = shape.iter().product();
        let buffer = self.pool.get(&self.device, BufferKind::Storage, len as u64 * 4);
        Tensor::from_buffer(buffer, 0, shape)
    }


    pub fn upload(&self, shape: &[usize], data: &[f32]) -> Result<Tensor> {
        let len: usize = shape.iter().product();
        if len != data.len() {
            return Err(Error::new(format!("upload: shape {shape:?} holds {len} values, got {}", data.len())));
        }
        let tensor = self.empty(shape);
        // No flush needed: a fresh pool buffer is referenced by no recorded-but-unsubmitted
        // command (the pool hands a released buffer out only after the submit that last used
        // it), and queue writes land before the next submit's commands. So uploads inside a
        // step keep the step to one submit.
        if !data.is_empty() {
            self.queue.write_buffer(tensor.buffer(), tensor.offset_bytes(), bytemuck::cast_slice(data));
        }
        Ok(tensor)
    }

    /// Overwrites a tensor's contents. The write lands before the next batch runs, so commands
    /// already recorded against this tensor are submitted first.
    pub fn write(&self, tensor: &Tensor, data: &[f32]) -> Result<()> {
        if data.len() != tensor.len() {
            return Err(Error::new(format!("write: tensor holds {} values, got {}", tensor.len(), data.len())));
        }
        if !self.state.borrow().commands.is_empty() {
            self.flush()?;
        }
        if !data.is_empty() {
            self.queue.write_buffer(tensor.buffer(), tensor.offset_bytes(), bytemuck::cast_slice(data));
        }
        Ok(())
    }

    pub fn placeholder(&self) -> &Tensor {
        &self.placeholder
    }

    fn pipeline(&self, kernel: &Kernel, defines: Defines) -> Result<Rc<Pipeline>> {
        if defines.len() > MAX_DEFINES {
            return Err(Error::new(format!("{}: more than {MAX_DEFINES} defines", kernel.label(defines))));
        }
        let mut cache_key = PipelineKey { kernel: kernel as *const Kernel as usize, defines: [u32::MAX; MAX_DEFINES] };
        cache_key.defines[..defines.len()].copy_from_slice(defines);
        if let Some(p) = self.state.borrow().pipelines.get(&cache_key) {
            return Ok(p.clone());
        }
        let key = kernel.label(defines);
        let reflection = kernel::reflect(kernel, defines)?;
        if let Some(size) = reflection.params_size {
            if size > PARAMS_SLOT_MAX_BYTES {
                return Err(Error::new(format!("{key}: params struct of {size} B exceeds the slot")));
            }
        }
        let text = kernel.wgsl(defines)?;
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let descriptor = wgpu::ShaderModuleDescriptor { label: Some(&key), source: wgpu::ShaderSource::Wgsl(text.into()) };
        // The checked path (bounds checks kept): dropping them measured no faster on lavapipe.
        let module = self.device.create_shader_module(descriptor);
        let pipeline = self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&key),
            layout: None,
            module: &module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions::default(),
            cache: None,
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(Error::new(format!("{key}: pipeline creation failed: {error}")));
        }
        let layout = pipeline.get_bind_group_layout(0);
        let mut state = self.state.borrow_mut();
        state.counters.pipelines_created += 1;
        let compiled = Rc::new(Pipeline { id: state.counters.pipelines_created, pipeline, layout, reflection });
        state.pipelines.insert(cache_key, compiled.clone());
        Ok(compiled)
    }

    /// Compiles a kernel instantiation ahead of use (benchmarks warm up with this).
    pub fn prepare(&self, kernel: &Kernel, defines: Defines) -> Result<()> {
        self.pipeline(kernel, defines).map(|_| ())
    }

    /// Records one dispatch. `tensors` bind, in order, to the storage bindings the entry point
    /// uses (ascending binding numbers); `params` is the uniform struct at binding 0.
    pub fn dispatch<P: bytemuck::Pod>(
        &self,
        kernel: &Kernel,
        defines: Defines,
        params: &P,
        tensors: &[&Tensor],
        groups: [u32; 3],
    ) -> Result<()> {
        let pipeline = self.pipeline(kernel, defines)?;
        let reflection = &pipeline.reflection;
        if tensors.len() != reflection.storage_bindings.len() {
            return Err(Error::new(format!(
                "{}: entry point binds {} tensors, launcher passed {}",
                kernel.label(defines),
                reflection.storage_bindings.len(),
                tensors.len()
            )));
        }
        if let Some(size) = reflection.params_size {
            if size as usize != std::mem::size_of::<P>() {
                return Err(Error::new(format!(
                    "{}: WGSL params struct is {size} B, Rust's is {} B",
                    kernel.label(defines),
                    std::mem::size_of::<P>()
                )));
            }
        }
        if groups.contains(&0) {
            return Ok(());
        }
        let max_groups = self.device.limits().max_compute_workgroups_per_dimension;
        if groups.iter().any(|&g| g > max_groups) {
            return Err(Error::new(format!("{}: dispatch {groups:?} exceeds {max_groups} workgroups per dimension", kernel.label(defines))));
        }
        let limit = if self.state.borrow().profiler.is_some() { PROFILED_DISPATCHES } else { PARAMS_SLOTS };
        if self.state.borrow().params_slots_used == limit {
            self.flush()?;
        }
        let mut state = self.state.borrow_mut();
        let slot = state.params_slots_used;
        state.params_slots_used += 1;
        let start = slot as usize * self.params_stride as usize;
        state.params_bytes.resize(start + self.params_stride as usize, 0);
        let bytes = bytemuck::bytes_of(params);
        state.params_bytes[start..start + bytes.len()].copy_from_slice(bytes);

        let key = BindKey {
            pipeline: pipeline.id,
            params_slot: if reflection.uses_params { slot } else { u32::MAX },
            tensors: tensors.iter().map(|t| (t.buffer_id(), t.offset_bytes(), t.binding_size())).collect(),
        };
        let bind_group = match state.bind_groups.get(&key) {
            Some(bg) => bg.clone(),
            None => {
                let mut entries = Vec::with_capacity(tensors.len() + 1);
                if reflection.uses_params {
                    entries.push(wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: &self.params_buffer,
                            offset: start as u64,
                            size: std::num::NonZeroU64::new(u64::from(reflection.params_size.unwrap_or(16))),
                        }),
                    });
                }
                for (binding, tensor) in reflection.storage_bindings.iter().zip(tensors) {
                    entries.push(wgpu::BindGroupEntry {
                        binding: *binding,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer: tensor.buffer(),
                            offset: tensor.offset_bytes(),
                            size: std::num::NonZeroU64::new(tensor.binding_size()),
                        }),
                    });
                }
                let bg = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: None,
                    layout: &pipeline.layout,
                    entries: &entries,
                });
                if state.bind_groups.len() >= BIND_GROUP_CACHE_MAX {
                    state.bind_groups.clear();
                }
                state.counters.bind_groups_created += 1;
                state.bind_groups.insert(key, bg.clone());
                bg
            }
        };
        state.counters.dispatches += 1;
        state.commands.push(Command::Dispatch { pipeline: pipeline.pipeline.clone(), bind_group, groups, label: kernel.entry });
        Ok(())
    }

    /// Records a copy of `src` into `dst` (same element count).
    pub fn copy(&self, src: &Tensor, dst: &Tensor) -> Result<()> {
        if src.len() != dst.len() {
            return Err(Error::new(format!("copy: {:?} into {:?}", src.shape(), dst.shape())));
        }
        self.copy_raw(src.buffer(), src.offset_bytes(), dst.buffer(), dst.offset_bytes(), src.len() as u64 * 4);
        Ok(())
    }

    /// Records a copy of `src` into `dst` starting `offset` floats in (e.g. one block of rows).
    pub fn copy_at(&self, src: &Tensor, dst: &Tensor, offset: usize) -> Result<()> {
        if offset + src.len() > dst.len() {
            return Err(Error::new(format!("copy: {:?} at {offset} overruns {:?}", src.shape(), dst.shape())));
        }
        self.copy_raw(src.buffer(), src.offset_bytes(), dst.buffer(), dst.offset_bytes() + offset as u64 * 4, src.len() as u64 * 4);
        Ok(())
    }

    fn copy_raw(&self, src: &wgpu::Buffer, src_offset: u64, dst: &wgpu::Buffer, dst_offset: u64, size: u64) {
        if size == 0 {
            return;
        }
        self.state.borrow_mut().commands.push(Command::Copy { src: src.clone(), src_offset, dst: dst.clone(), dst_offset, size });
    }

    /// Submits everything recorded so far as one command buffer. Returns the submission index.
    pub fn flush(&self) -> Result<Option<wgpu::SubmissionIndex>> {
        let (commands, params_len) = {
            let mut state = self.state.borrow_mut();
            if state.commands.is_empty() {
                return Ok(None);
            }
            let used = state.params_slots_used as usize * self.params_stride as usize;
            state.params_slots_used = 0;
            state.counters.submits += 1;
            (std::mem::take(&mut state.commands), used)
        };
        if params_len > 0 {
            let state = self.state.borrow();
            self.queue.write_buffer(&self.params_buffer, 0, &state.params_bytes[..params_len]);
        }
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let mut state = self.state.borrow_mut();
        let mut timed: Vec<(&'static str, [u32; 3])> = Vec::new();
        let mut i = 0;
        while i < commands.len() {
            match &commands[i] {
                Command::Copy { src, src_offset, dst, dst_offset, size } => {
                    encoder.copy_buffer_to_buffer(src, *src_offset, dst, *dst_offset, *size);
                    i += 1;
                }
                Command::Dispatch { pipeline, bind_group, groups, label } if state.profiler.is_some() => {
                    // Profiling: one pass per dispatch, timestamps at its start and end.
                    let profiler = state.profiler.as_ref().map(|p| &p.queries);
                    let index = timed.len() as u32 * 2;
                    let timestamp_writes = profiler.map(|q| wgpu::ComputePassTimestampWrites { query_set: q, beginning_of_pass_write_index: Some(index), end_of_pass_write_index: Some(index + 1) });
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes });
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, bind_group, &[]);
                    pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                    timed.push((label, *groups));
                    i += 1;
                }
                Command::Dispatch { .. } => {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None });
                    while let Some(Command::Dispatch { pipeline, bind_group, groups, .. }) = commands.get(i) {
                        pass.set_pipeline(pipeline);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                        i += 1;
                    }
                }
            }
        }
        if let (Some(p), false) = (&state.profiler, timed.is_empty()) {
            let queries = timed.len() as u32 * 2;
            encoder.resolve_query_set(&p.queries, 0..queries, &p.resolve, 0);
            encoder.copy_buffer_to_buffer(&p.resolve, 0, &p.readback, 0, u64::from(queries) * 8);
        }
        let index = self.queue.submit([encoder.finish()]);
        if let Some(p) = state.profiler.as_mut().filter(|_| !timed.is_empty()) {
            let ticks = read_timestamps(&self.device, &p.readback, timed.len() * 2)?;
            let period_ns = f64::from(self.queue.get_timestamp_period());
            for (k, key) in timed.iter().enumerate() {
                let entry = p.totals.entry(*key).or_insert((0, 0.0));
                entry.0 += 1;
                entry.1 += ticks[2 * k + 1].saturating_sub(ticks[2 * k]) as f64 * period_ns * 1e-6;
            }
        }
        drop(state);
        self.pool.recycle_released();
        self.check_device_error()?;
        Ok(Some(index))
    }

    /// Starts or stops per-kernel GPU timing (timestamp queries around every dispatch; each
    /// submit then waits for its timestamps). Returns false where the adapter has no timestamps.
    pub fn set_profiling(&self, on: bool) -> Result<bool> {
        self.flush()?;
        let mut state = self.state.borrow_mut();
        if !on {
            state.profiler = None;
            return Ok(true);
        }
        if !self.device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(false);
        }
        let bytes = u64::from(PROFILED_DISPATCHES) * 2 * 8;
        state.profiler = Some(Profiler {
            queries: self.device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("profile"), ty: wgpu::QueryType::Timestamp, count: PROFILED_DISPATCHES * 2 }),
            resolve: self.device.create_buffer(&wgpu::BufferDescriptor { label: Some("profile resolve"), size: bytes, usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC, mapped_at_creation: false }),
            readback: self.device.create_buffer(&wgpu::BufferDescriptor { label: Some("profile readback"), size: bytes, usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST, mapped_at_creation: false }),
            totals: HashMap::new(),
        });
        Ok(true)
    }

    /// GPU time per kernel and dispatch grid since profiling started (or the last take), largest
    /// first; `KernelTime::per_kernel` sums it per entry point.
    pub fn take_profile(&self) -> Result<Vec<KernelTime>> {
        self.flush()?;
        let mut state = self.state.borrow_mut();
        let Some(p) = state.profiler.as_mut() else { return Ok(Vec::new()) };
        let mut out: Vec<KernelTime> = p.totals.drain().map(|((kernel, grid), (dispatches, ms))| KernelTime { kernel, grid, dispatches, ms }).collect();
        out.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        Ok(out)
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<()> {
        self.flush()?;
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::new(format!("GPU wait failed: {e}")))?;
        self.check_device_error()
    }

    fn check_device_error(&self) -> Result<()> {
        let error = self.device_error.lock().ok().and_then(|mut slot| slot.take());
        match error {
            Some(message) => Err(Error::new(format!("GPU error: {message}"))),
            None => Ok(()),
        }
    }

    /// Starts copying a tensor to the host without waiting; `Readback::wait` finishes it. The copy
    /// rides with the next submit, so reading scalars every k steps never stalls the queue.
    pub fn read_later(&self, tensor: &Tensor) -> Readback {
        let bytes = tensor.len() as u64 * 4;
        let staging = self.pool.get(&self.device, BufferKind::Staging, bytes);
        self.copy_raw(tensor.buffer(), tensor.offset_bytes(), &staging.buffer, 0, bytes);
        Readback { staging, len: tensor.len(), mapped: Arc::new(Mutex::new(None)), requested: false }
    }

    /// Copies a tensor to the host, waiting for all work recorded before it.
    pub fn download(&self, tensor: &Tensor) -> Result<Vec<f32>> {
        self.read_later(tensor).wait(self)
    }
}

/// Waits for a submitted copy into `readback` and returns its first `count` u64 timestamps.
fn read_timestamps(device: &wgpu::Device, readback: &wgpu::Buffer, count: usize) -> Result<Vec<u64>> {
    let bytes = count as u64 * 8;
    let done = Arc::new(Mutex::new(None));
    let slot = done.clone();
    readback.slice(0..bytes).map_async(wgpu::MapMode::Read, move |r| {
        if let Ok(mut s) = slot.lock() {
            *s = Some(r.is_ok());
        }
    });
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| Error::new(format!("GPU wait failed: {e}")))?;
    if done.lock().ok().and_then(|s| *s) != Some(true) {
        return Err(Error::new("could not read the profiling timestamps"));
    }
    let ticks = {
        let view = readback.slice(0..bytes).get_mapped_range().map_err(|e| Error::new(format!("could not read the profiling timestamps: {e}")))?;
        view.chunks_exact(8).map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])).collect()
    };
    readback.unmap();
    Ok(ticks)
}

/// A pending device-to-host copy.
pub struct Readback {
    staging: Rc<PooledBuffer>,
    len: usize,
    mapped: Arc<Mutex<Option<std::result::Result<(), String>>>>,
    requested: bool,
}

impl Drop for Readback {
    fn drop(&mut self) {
        // A readback abandoned mid-flight must not return a mapped buffer to the pool.
        if self.requested {
            self.staging.buffer.unmap();
        }
    }
}

impl Readback {
    fn request(&mut self, gpu: &Gpu) -> Result<()> {
        if self.requested {
            return Ok(());
        }
        gpu.flush()?;
        let slot = self.mapped.clone();
        let bytes = (self.len as u64 * 4).max(4);
        self.staging.buffer.map_async(wgpu::MapMode::Read, 0..bytes, move |result| {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(result.map_err(|e| e.to_string()));
            }
        });
        self.requested = true;
        Ok(())
    }

    /// The data if the copy has finished, without blocking.
    pub fn try_take(&mut self, gpu: &Gpu) -> Result<Option<Vec<f32>>> {
        self.request(gpu)?;
        let _ = gpu.device.poll(wgpu::PollType::Poll);
        self.take_if_mapped()
    }

    /// Blocks until the copy has finished.
    pub fn wait(mut self, gpu: &Gpu) -> Result<Vec<f32>> {
        self.request(gpu)?;
        loop {
            gpu.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| Error::new(format!("GPU wait failed: {e}")))?;
            if let Some(data) = self.take_if_mapped()? {
                gpu.check_device_error()?;
                return Ok(data);
            }
        }
    }

    fn take_if_mapped(&mut self) -> Result<Option<Vec<f32>>> {
        let status = self.mapped.lock().ok().and_then(|mut s| s.take());
        match status {
            None => Ok(None),
            Some(Err(e)) => Err(Error::new(format!("GPU readback failed: {e}"))),
            Some(Ok(())) => {
                if self.len == 0 {
                    self.staging.buffer.unmap();
                    self.requested = false;
                    return Ok(Some(Vec::new()));
                }
                let bytes = self.len as u64 * 4;
                let data = {
                    let view = self
                        .staging
                        .buffer
                        .get_mapped_range(0..bytes)
                        .map_err(|e| Error::new(format!("GPU readback failed: {e}")))?;
                    bytemuck::cast_slice::<u8, f32>(&view).to_vec()
                };
                self.staging.buffer.unmap();
                self.requested = false;
                Ok(Some(data))
            }
        }
    }
}
