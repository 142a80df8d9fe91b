//! A tensor is a shape over a range of a pooled GPU buffer; f32 only, row-major (NCHW for maps).

use std::rc::Rc;

use crate::gpu::pool::{round_up, PooledBuffer};

#[derive(Clone)]
pub struct Tensor {
    buffer: Rc<PooledBuffer>,
    /// Byte offset into the buffer; a multiple of 256 (WebGPU's storage offset alignment).
    offset_bytes: u64,
    shape: Vec<usize>,
}

impl Tensor {
    pub(crate) fn from_buffer(
        buffer: Rc<PooledBuffer>,
        offset_bytes: u64,
        shape: &[usize],
    ) -> Self {
        debug_assert_eq!(offset_bytes % 256, 0);
        let tensor = Tensor { buffer, offset_bytes, shape: shape.to_vec() };
        debug_assert!(tensor.offset_bytes + tensor.binding_size() <= tensor.buffer.size);
        tensor
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows when seen as a matrix: every dimension but the last.
    pub fn rows(&self) -> usize {
        self.len() / self.cols().max(1)
    }

    /// Columns when seen as a matrix: the last dimension (1 for a scalar).
    pub fn cols(&self) -> usize {
        self.shape.last().copied().unwrap_or(1)
    }

    /// The same data under another shape with the same element count.
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            self.len(),
            "reshape {:?} -> {shape:?}",
            self.shape
        );
        Tensor {
            buffer: self.buffer.clone(),
            offset_bytes: self.offset_bytes,
            shape: shape.to_vec(),
        }
    }

    /// A view of `shape` starting `offset` floats in; the offset must keep 256-byte alignment.
    pub fn slice(&self, offset: usize, shape: &[usize]) -> Tensor {
        let len: usize = shape.iter().product();
        assert!(offset.is_multiple_of(64), "slice offset {offset} is not a multiple of 64 floats");
        assert!(offset + len <= self.len(), "slice {offset}+{len} past {}", self.len());
        Tensor::from_buffer(self.buffer.clone(), self.offset_bytes + offset as u64 * 4, shape)
    }

    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer.buffer
    }

    pub(crate) fn buffer_id(&self) -> u64 {
        self.buffer.id
    }

    pub(crate) fn offset_bytes(&self) -> u64 {
        self.offset_bytes
    }

    /// Bound size: the data rounded up to a vec4, so kernels may view it as `array<vec4<f32>>`.
    /// Pool buffers and arena slots are padded to 256 bytes, so the rounding never overruns.
    pub(crate) fn binding_size(&self) -> u64 {
        round_up((self.len() as u64 * 4).max(16), 16)
    }

    /// Whether both are the same range of the same buffer.
    pub(crate) fn same_view(&self, other: &Tensor) -> bool {
        self.same_buffer(other)
            && self.offset_bytes == other.offset_bytes
            && self.len() == other.len()
    }

    pub(crate) fn same_buffer(&self, other: &Tensor) -> bool {
        Rc::ptr_eq(&self.buffer, &other.buffer)
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor{:?}@buf{}+{}", self.shape, self.buffer.id, self.offset_bytes)
    }
}
