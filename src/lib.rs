//! infogan: an InfoGAN trainer whose every number is computed by hand-written WGSL compute
//! shaders through wgpu. See ARCHITECTURE.md for the map.

pub mod error;
pub mod gpu;
pub mod ops;
pub mod tensor;

pub use error::{Error, Result};
pub use gpu::{Gpu, GpuOptions, Variant};
pub use tensor::Tensor;
