//! Per-kernel GPU time from timestamp queries around every dispatch (`bench step`, `bench
//! kernels`). While profiling, each dispatch gets its own pass and each submit waits for its
//! timestamps, so profiled steps are slower than normal ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::Gpu;

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
pub(super) struct Profiler {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    totals: HashMap<(&'static str, [u32; 3]), (u64, f64)>,
    /// The dispatches of the batch being encoded, in order: (entry point, grid).
    timed: Vec<(&'static str, [u32; 3])>,
}

/// Dispatches timed per submit: two queries each, within wgpu's 4096 queries per set.
pub(super) const PROFILED_DISPATCHES: u32 = 2048;

impl Profiler {
    /// One pass around one dispatch, with timestamps at its start and end.
    pub(super) fn encode(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        groups: [u32; 3],
        label: &'static str,
    ) {
        let index = self.timed.len() as u32 * 2;
        let timestamp_writes = wgpu::ComputePassTimestampWrites {
            query_set: &self.queries,
            beginning_of_pass_write_index: Some(index),
            end_of_pass_write_index: Some(index + 1),
        };
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: Some(timestamp_writes),
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        self.timed.push((label, groups));
    }

    /// Copies the batch's timestamps towards the host, after its last dispatch.
    pub(super) fn resolve(&self, encoder: &mut wgpu::CommandEncoder) {
        if self.timed.is_empty() {
            return;
        }
        let queries = self.timed.len() as u32 * 2;
        encoder.resolve_query_set(&self.queries, 0..queries, &self.resolve, 0);
        encoder.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, u64::from(queries) * 8);
    }

    /// Waits for the submitted batch and adds its times to the totals.
    pub(super) fn collect(&mut self, device: &wgpu::Device, period_ns: f64) -> Result<()> {
        if self.timed.is_empty() {
            return Ok(());
        }
        let ticks = read_timestamps(device, &self.readback, self.timed.len() * 2)?;
        for (k, key) in std::mem::take(&mut self.timed).into_iter().enumerate() {
            let entry = self.totals.entry(key).or_insert((0, 0.0));
            entry.0 += 1;
            entry.1 += ticks[2 * k + 1].saturating_sub(ticks[2 * k]) as f64 * period_ns * 1e-6;
        }
        Ok(())
    }
}

impl Gpu {
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
            queries: self.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("profile"),
                ty: wgpu::QueryType::Timestamp,
                count: PROFILED_DISPATCHES * 2,
            }),
            resolve: self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("profile resolve"),
                size: bytes,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            readback: self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("profile readback"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            totals: HashMap::new(),
            timed: Vec::new(),
        });
        Ok(true)
    }

    /// GPU time per kernel and dispatch grid since profiling started (or the last take), largest
    /// first; `KernelTime::per_kernel` sums it per entry point.
    pub fn take_profile(&self) -> Result<Vec<KernelTime>> {
        self.flush()?;
        let mut state = self.state.borrow_mut();
        let Some(p) = state.profiler.as_mut() else {
            return Ok(Vec::new());
        };
        let mut out: Vec<KernelTime> = p
            .totals
            .drain()
            .map(|((kernel, grid), (dispatches, ms))| KernelTime { kernel, grid, dispatches, ms })
            .collect();
        out.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        Ok(out)
    }
}

/// Waits for a submitted copy into `readback` and returns its first `count` u64 timestamps.
fn read_timestamps(
    device: &wgpu::Device,
    readback: &wgpu::Buffer,
    count: usize,
) -> Result<Vec<u64>> {
    let bytes = count as u64 * 8;
    let done = Arc::new(Mutex::new(None));
    let slot = done.clone();
    readback.slice(0..bytes).map_async(wgpu::MapMode::Read, move |r| {
        if let Ok(mut s) = slot.lock() {
            *s = Some(r.is_ok());
        }
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| Error::new(format!("GPU wait failed: {e}")))?;
    if done.lock().ok().and_then(|s| *s) != Some(true) {
        return Err(Error::new("could not read the profiling timestamps"));
    }
    let ticks = {
        let view = readback
            .slice(0..bytes)
            .get_mapped_range()
            .map_err(|e| Error::new(format!("could not read the profiling timestamps: {e}")))?;
        view.chunks_exact(8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect()
    };
    readback.unmap();
    Ok(ticks)
}
