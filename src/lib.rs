//! infogan: an InfoGAN trainer whose every number is computed by hand-written WGSL compute
//! shaders through wgpu. See ARCHITECTURE.md for the map.

pub mod arena;
pub mod bench;
pub mod data;
pub mod error;
pub mod eval;
pub mod explore;
pub mod files;
pub mod gpu;
pub mod io;
pub mod json;
pub mod model;
pub mod nn;
pub mod ops;
pub mod tape;
pub mod train;

/// The version and the commit this binary was built from (`+dirty` if its sources differed).
pub const BUILD: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("INFOGAN_COMMIT"), ")");

pub use error::{Error, Result};
pub use gpu::Tensor;
pub use gpu::{Gpu, GpuOptions, Variant};
pub use tape::{Tape, Var};
