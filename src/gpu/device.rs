//! Opening an adapter as a `Gpu`, and the tensors it hands out: fresh, uploaded or overwritten.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::pool::{BufferKind, Pool};
use crate::gpu::variant::Variant;
use crate::gpu::{adapter, Counters, Gpu, State, Tensor, PARAMS_SLOTS, PARAMS_SLOT_MAX_BYTES};

#[derive(Clone, Debug, Default)]
pub struct GpuOptions {
    /// Case-insensitive substring of the adapter name (else `WGPU_ADAPTER_NAME`, else the fastest).
    pub adapter: Option<String>,
    /// Force a kernel variant (tests run every variant on whatever adapter they have).
    pub variant: Option<Variant>,
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
        if let Some(missing) = variant.why_not(&adapter) {
            return Err(Error::new(format!("kernel variant {} needs {missing}", variant.name())));
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
            required_features: adapter.features()
                & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP),
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

        let params_stride =
            device.limits().min_uniform_buffer_offset_alignment.max(PARAMS_SLOT_MAX_BYTES);
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
        format!(
            "{} ({:?}, {:?}, driver {})",
            self.info.name, self.info.backend, self.info.device_type, self.info.driver_info
        )
    }

    pub fn supports_timestamps(&self) -> bool {
        self.adapter_features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// The largest storage buffer (bytes) allocated or reused since the last call.
    pub fn take_largest_buffer(&self) -> u64 {
        self.pool.take_largest()
    }

    /// The largest storage binding this device allows, in bytes: every tensor must fit in one.
    pub fn max_binding_bytes(&self) -> u64 {
        self.device.limits().max_storage_buffer_binding_size
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
            return Err(Error::new(format!(
                "upload: shape {shape:?} holds {len} values, got {}",
                data.len()
            )));
        }
        let tensor = self.empty(shape);
        // No flush needed: a fresh pool buffer is referenced by no recorded-but-unsubmitted
        // command (the pool hands a released buffer out only after the submit that last used
        // it), and queue writes land before the next submit's commands. So uploads inside a
        // step keep the step to one submit.
        if !data.is_empty() {
            self.queue.write_buffer(
                tensor.buffer(),
                tensor.offset_bytes(),
                bytemuck::cast_slice(data),
            );
        }
        Ok(tensor)
    }

    /// Overwrites a tensor's contents. The write lands before the next batch runs, so commands
    /// already recorded against this tensor are submitted first.
    pub fn write(&self, tensor: &Tensor, data: &[f32]) -> Result<()> {
        if data.len() != tensor.len() {
            return Err(Error::new(format!(
                "write: tensor holds {} values, got {}",
                tensor.len(),
                data.len()
            )));
        }
        if !self.state.borrow().commands.is_empty() {
            self.flush()?;
        }
        if !data.is_empty() {
            self.queue.write_buffer(
                tensor.buffer(),
                tensor.offset_bytes(),
                bytemuck::cast_slice(data),
            );
        }
        Ok(())
    }

    pub fn placeholder(&self) -> &Tensor {
        &self.placeholder
    }
}
