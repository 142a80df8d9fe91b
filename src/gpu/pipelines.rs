//! Compiled pipelines (one per kernel instantiation, built once) and the dispatch recorder: the
//! bind-group cache and the per-dispatch uniform parameters, one slot each in a shared buffer.

use std::rc::Rc;

use crate::error::{Error, Result};
use crate::gpu::kernel::{self, Defines, Kernel};
use crate::gpu::params::GpuParams;
use crate::gpu::profiler::PROFILED_DISPATCHES;
use crate::gpu::record::Command;
use crate::gpu::{Gpu, Tensor, BIND_GROUP_CACHE_MAX, PARAMS_SLOTS, PARAMS_SLOT_MAX_BYTES};

pub(super) struct Pipeline {
    id: u64,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
    reflection: kernel::Reflection,
}

/// A kernel (by its address: kernels are `static`s) and its define values. Looked up on every
/// dispatch, so it allocates nothing; the readable label is built only when compiling.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct PipelineKey {
    kernel: usize,
    defines: [u32; MAX_DEFINES],
}

const MAX_DEFINES: usize = 4;

#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct BindKey {
    pipeline: u64,
    params_slot: u32,
    tensors: Vec<(u64, u64, u64)>,
}

impl Gpu {
    fn pipeline(&self, kernel: &Kernel, defines: Defines) -> Result<Rc<Pipeline>> {
        if defines.len() > MAX_DEFINES {
            return Err(Error::new(format!(
                "{}: more than {MAX_DEFINES} defines",
                kernel.label(defines)
            )));
        }
        let mut cache_key = PipelineKey {
            kernel: kernel as *const Kernel as usize,
            defines: [u32::MAX; MAX_DEFINES],
        };
        cache_key.defines[..defines.len()].copy_from_slice(defines);
        if let Some(p) = self.state.borrow().pipelines.get(&cache_key) {
            return Ok(p.clone());
        }
        let key = kernel.label(defines);
        let reflection = kernel::reflect(kernel, defines)?;
        if let Some(size) = reflection.params_size {
            if size > PARAMS_SLOT_MAX_BYTES {
                return Err(Error::new(format!(
                    "{key}: params struct of {size} B exceeds the slot"
                )));
            }
        }
        let text = kernel.wgsl(defines)?;
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let descriptor = wgpu::ShaderModuleDescriptor {
            label: Some(&key),
            source: wgpu::ShaderSource::Wgsl(text.into()),
        };
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
        let compiled = Rc::new(Pipeline {
            id: state.counters.pipelines_created,
            pipeline,
            layout,
            reflection,
        });
        state.pipelines.insert(cache_key, compiled.clone());
        Ok(compiled)
    }

    /// Compiles a kernel instantiation ahead of use (benchmarks warm up with this).
    pub fn prepare(&self, kernel: &Kernel, defines: Defines) -> Result<()> {
        self.pipeline(kernel, defines).map(|_| ())
    }

    /// Records one dispatch. `tensors` bind, in order, to the storage bindings the entry point
    /// uses (ascending binding numbers); `params` is the uniform struct at binding 0.
    pub fn dispatch<P: GpuParams>(
        &self,
        kernel: &Kernel,
        defines: Defines,
        params: &P,
        tensors: &[&Tensor],
        groups: [u32; 3],
    ) -> Result<()> {
        if P::FIELDS != kernel.params {
            return Err(Error::new(format!(
                "{}: launched with a params struct other than the kernel's",
                kernel.label(defines)
            )));
        }
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
            return Err(Error::new(format!(
                "{}: dispatch {groups:?} exceeds {max_groups} workgroups per dimension",
                kernel.label(defines)
            )));
        }
        let limit =
            if self.state.borrow().profiler.is_some() { PROFILED_DISPATCHES } else { PARAMS_SLOTS };
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
            tensors: tensors
                .iter()
                .map(|t| (t.buffer_id(), t.offset_bytes(), t.binding_size()))
                .collect(),
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
                            size: std::num::NonZeroU64::new(u64::from(
                                reflection.params_size.unwrap_or(16),
                            )),
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
        state.commands.push(Command::Dispatch {
            pipeline: pipeline.pipeline.clone(),
            bind_group,
            groups,
            label: kernel.entry,
        });
        Ok(())
    }
}
