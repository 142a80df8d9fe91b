//! Buffer pool. A dropped buffer becomes reusable only after the next submit, so no buffer is
//! handed out twice within one batch of recorded commands: `queue.write_buffer` (which runs before
//! the batch) can never clobber data an earlier command of the same batch still reads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// What a pooled buffer is for; buffers of different kinds are never exchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferKind {
    /// Tensors: storage, copy source and destination.
    Storage,
    /// Host readback staging: map-read, copy destination.
    Staging,
}

impl BufferKind {
    fn usage(self) -> wgpu::BufferUsages {
        match self {
            BufferKind::Storage => {
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST
            }
            BufferKind::Staging => wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        }
    }
}

type Key = (BufferKind, u64);

#[derive(Default)]
pub struct PoolState {
    free: HashMap<Key, Vec<(u64, wgpu::Buffer)>>,
    released: Vec<(Key, u64, wgpu::Buffer)>,
    next_id: u64,
    pub buffers_created: u64,
    pub bytes_allocated: u64,
    pub bytes_in_use: u64,
    /// The largest storage buffer handed out since the last `Pool::take_largest`.
    pub largest_storage: u64,
}

/// A GPU buffer on loan from the pool; it goes back when the last handle is dropped.
pub struct PooledBuffer {
    pub id: u64,
    pub buffer: wgpu::Buffer,
    pub size: u64,
    kind: BufferKind,
    pool: Weak<RefCell<PoolState>>,
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            if let Ok(mut pool) = pool.try_borrow_mut() {
                pool.bytes_in_use -= self.size;
                pool.released.push(((self.kind, self.size), self.id, self.buffer.clone()));
            }
        }
    }
}

#[derive(Clone, Default)]
pub struct Pool {
    state: Rc<RefCell<PoolState>>,
}

/// Sizes are rounded up to 256 bytes: every binding can then be rounded to vec4 granularity and
/// storage offsets (arena slots) keep WebGPU's 256-byte alignment.
pub const SIZE_ALIGN: u64 = 256;

pub fn round_up(x: u64, to: u64) -> u64 {
    x.div_ceil(to) * to
}

impl Pool {
    pub fn get(&self, device: &wgpu::Device, kind: BufferKind, bytes: u64) -> Rc<PooledBuffer> {
        let size = round_up(bytes.max(1), SIZE_ALIGN);
        let mut state = self.state.borrow_mut();
        state.bytes_in_use += size;
        if kind == BufferKind::Storage {
            state.largest_storage = state.largest_storage.max(size);
        }
        let reused = state.free.get_mut(&(kind, size)).and_then(Vec::pop);
        let (id, buffer) = match reused {
            Some(entry) => entry,
            None => {
                let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size,
                    usage: kind.usage(),
                    mapped_at_creation: false,
                });
                state.next_id += 1;
                state.buffers_created += 1;
                state.bytes_allocated += size;
                (state.next_id, buffer)
            }
        };
        Rc::new(PooledBuffer { id, buffer, size, kind, pool: Rc::downgrade(&self.state) })
    }

    /// Called after each submit: buffers dropped during the batch become reusable.
    pub fn recycle_released(&self) {
        let mut state = self.state.borrow_mut();
        let released = std::mem::take(&mut state.released);
        for (key, id, buffer) in released {
            state.free.entry(key).or_default().push((id, buffer));
        }
        // Hand out the lowest id first: the same sequence of requests then gets the same buffers
        // every step, so bind groups keyed by buffer ids keep hitting the cache.
        for list in state.free.values_mut() {
            list.sort_unstable_by_key(|entry| std::cmp::Reverse(entry.0));
        }
    }

    /// The largest storage buffer handed out since the last call, then starts counting afresh.
    pub fn take_largest(&self) -> u64 {
        std::mem::take(&mut self.state.borrow_mut().largest_storage)
    }

    pub fn stats(&self) -> (u64, u64, u64) {
        let s = self.state.borrow();
        (s.buffers_created, s.bytes_allocated, s.bytes_in_use)
    }
}
