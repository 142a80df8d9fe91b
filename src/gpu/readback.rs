//! Device-to-host copies: started without waiting (`read_later`), finished when needed.

use std::rc::Rc;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::pool::{BufferKind, PooledBuffer};
use crate::gpu::{Gpu, Tensor};

impl Gpu {
    /// Starts copying a tensor to the host without waiting; `Readback::wait` finishes it. The copy
    /// rides with the next submit, so reading scalars every k steps never stalls the queue.
    pub fn read_later(&self, tensor: &Tensor) -> Readback {
        let bytes = tensor.len() as u64 * 4;
        let staging = self.pool.get(&self.device, BufferKind::Staging, bytes);
        self.copy_raw(tensor.buffer(), tensor.offset_bytes(), &staging.buffer, 0, bytes);
        Readback {
            staging,
            len: tensor.len(),
            mapped: Arc::new(Mutex::new(None)),
            requested: false,
        }
    }

    /// Copies a tensor to the host, waiting for all work recorded before it.
    pub fn download(&self, tensor: &Tensor) -> Result<Vec<f32>> {
        self.read_later(tensor).wait(self)
    }
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
