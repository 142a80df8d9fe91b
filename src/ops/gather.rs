//! A dataset resident on the GPU and the gather that builds each step's batch from it, so the
//! host uploads only the epoch's order (once per epoch), not 200 KB of pixels per step.
//! Kernel: shaders/gather.wgsl.

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

pub static GATHER_IMAGES: Kernel = Kernel::new(
    "gather",
    include_str!("../../shaders/gather.wgsl"),
    "gather_images",
    [256, 1, 1],
    <Params as GpuParams>::FIELDS,
);

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    vec![(&GATHER_IMAGES, vec![vec![]])]
}

crate::gpu_params! {
    struct Params {
        /// Images to gather.
        count: u32,
        /// u32 words per image (pixels / 4).
        words: u32,
        /// Position in `order` of the first image.
        first: u32,
        _pad: u32,
        scale: f32,
        shift: f32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// 8-bit images on the GPU, four pixels per u32 word.
pub struct GpuImages {
    pixels: Tensor,
    pub count: usize,
    /// Pixels per image, channels included (a multiple of 4: 784 for 28x28).
    pub pixels_per_image: usize,
    /// `value = byte / 255 * scale + shift`.
    scale_shift: (f32, f32),
}

/// Reinterprets u32 words as the f32 slots a tensor stores; the bits are kept as they are.
fn as_f32_bits(words: &[u32]) -> Vec<f32> {
    words.iter().map(|&w| f32::from_bits(w)).collect()
}

impl GpuImages {
    /// Uploads images of `pixels_per_image` bytes each; `gather` yields `byte / 255 * scale +
    /// shift`. Refuses, before touching the GPU, a set larger than one storage binding may be.
    pub fn upload(
        gpu: &Gpu,
        bytes: &[u8],
        pixels_per_image: usize,
        (scale, shift): (f32, f32),
    ) -> Result<GpuImages> {
        ensure!(
            pixels_per_image.is_multiple_of(4) && pixels_per_image > 0,
            "gather: {pixels_per_image} pixels per image is not a multiple of 4"
        );
        ensure!(
            bytes.len().is_multiple_of(pixels_per_image),
            "gather: {} bytes are not whole images",
            bytes.len()
        );
        let limit = gpu.device.limits().max_storage_buffer_binding_size;
        ensure!(
            (bytes.len() as u64) <= limit,
            "the training images take {} MiB on the GPU, more than this adapter's largest storage binding ({} MiB); train on fewer images (--max-images {})",
            bytes.len() >> 20,
            limit >> 20,
            limit / pixels_per_image as u64
        );
        let words: Vec<u32> =
            bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let pixels = gpu.upload(&[words.len().max(1)], &as_f32_bits(&words))?;
        Ok(GpuImages {
            pixels,
            count: bytes.len() / pixels_per_image,
            pixels_per_image,
            scale_shift: (scale, shift),
        })
    }

    /// An index list for `gather` (e.g. an epoch's permutation), uploaded once.
    pub fn upload_order(gpu: &Gpu, order: &[usize]) -> Result<Tensor> {
        let words: Vec<u32> = order.iter().map(|&i| i as u32).collect();
        gpu.upload(&[words.len().max(1)], &as_f32_bits(&words))
    }

    /// Images `order[first..first + count]` as [count, pixels] floats (`byte / 255 * scale + shift`).
    pub fn gather(&self, gpu: &Gpu, order: &Tensor, first: usize, count: usize) -> Result<Tensor> {
        ensure!(
            first + count <= order.len(),
            "gather: positions {first}..{} past an order of {}",
            first + count,
            order.len()
        );
        let words = self.pixels_per_image / 4;
        let out = gpu.empty(&[count, self.pixels_per_image]);
        let (scale, shift) = self.scale_shift;
        let p = Params {
            count: count as u32,
            words: words as u32,
            first: first as u32,
            _pad: 0,
            scale,
            shift,
            _pad1: 0,
            _pad2: 0,
        };
        gpu.dispatch(
            &GATHER_IMAGES,
            &[],
            &p,
            &[&self.pixels, order, &out],
            grid_1d(count * words, 256),
        )?;
        Ok(out)
    }
}
