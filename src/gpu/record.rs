//! Recording and submitting: copies join the dispatches of a batch, and `flush` encodes the
//! batch into one command buffer (one compute pass per run of dispatches) and submits it.

use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};

pub(super) enum Command {
    Dispatch {
        pipeline: wgpu::ComputePipeline,
        bind_group: wgpu::BindGroup,
        groups: [u32; 3],
        label: &'static str,
    },
    Copy {
        src: wgpu::Buffer,
        src_offset: u64,
        dst: wgpu::Buffer,
        dst_offset: u64,
        size: u64,
    },
}

impl Gpu {
    /// Records a copy of `src` into `dst` (same element count).
    pub fn copy(&self, src: &Tensor, dst: &Tensor) -> Result<()> {
        if src.len() != dst.len() {
            return Err(Error::new(format!("copy: {:?} into {:?}", src.shape(), dst.shape())));
        }
        self.copy_raw(
            src.buffer(),
            src.offset_bytes(),
            dst.buffer(),
            dst.offset_bytes(),
            src.len() as u64 * 4,
        );
        Ok(())
    }

    /// Records a copy of `src` into `dst` starting `offset` floats in (e.g. one block of rows).
    pub fn copy_at(&self, src: &Tensor, dst: &Tensor, offset: usize) -> Result<()> {
        if offset + src.len() > dst.len() {
            return Err(Error::new(format!(
                "copy: {:?} at {offset} overruns {:?}",
                src.shape(),
                dst.shape()
            )));
        }
        self.copy_raw(
            src.buffer(),
            src.offset_bytes(),
            dst.buffer(),
            dst.offset_bytes() + offset as u64 * 4,
            src.len() as u64 * 4,
        );
        Ok(())
    }

    pub(super) fn copy_raw(
        &self,
        src: &wgpu::Buffer,
        src_offset: u64,
        dst: &wgpu::Buffer,
        dst_offset: u64,
        size: u64,
    ) {
        if size == 0 {
            return;
        }
        self.state.borrow_mut().commands.push(Command::Copy {
            src: src.clone(),
            src_offset,
            dst: dst.clone(),
            dst_offset,
            size,
        });
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
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let mut state = self.state.borrow_mut();
        let mut i = 0;
        while i < commands.len() {
            match (&commands[i], state.profiler.as_mut()) {
                (Command::Copy { src, src_offset, dst, dst_offset, size }, _) => {
                    encoder.copy_buffer_to_buffer(src, *src_offset, dst, *dst_offset, *size);
                    i += 1;
                }
                (Command::Dispatch { pipeline, bind_group, groups, label }, Some(profiler)) => {
                    profiler.encode(&mut encoder, pipeline, bind_group, *groups, label);
                    i += 1;
                }
                (Command::Dispatch { .. }, None) => {
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: None,
                        timestamp_writes: None,
                    });
                    while let Some(Command::Dispatch { pipeline, bind_group, groups, .. }) =
                        commands.get(i)
                    {
                        pass.set_pipeline(pipeline);
                        pass.set_bind_group(0, bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                        i += 1;
                    }
                }
            }
        }
        if let Some(profiler) = &state.profiler {
            profiler.resolve(&mut encoder);
        }
        let index = self.queue.submit([encoder.finish()]);
        if let Some(profiler) = state.profiler.as_mut() {
            profiler.collect(&self.device, f64::from(self.queue.get_timestamp_period()))?;
        }
        drop(state);
        self.pool.recycle_released();
        self.check_device_error()?;
        Ok(Some(index))
    }

    /// Blocks until all submitted work is done.
    pub fn wait(&self) -> Result<()> {
        self.flush()?;
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::new(format!("GPU wait failed: {e}")))?;
        self.check_device_error()
    }

    pub(super) fn check_device_error(&self) -> Result<()> {
        let error = self.device_error.lock().ok().and_then(|mut slot| slot.take());
        match error {
            Some(message) => Err(Error::new(format!("GPU error: {message}"))),
            None => Ok(()),
        }
    }
}
