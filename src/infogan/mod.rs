//! InfoGAN: latent codes, the paper's five experiments as presets, the networks built from a
//! description, the training step, checkpoints and evaluation.

pub mod checkpoint;
pub mod config;
pub mod eval;
pub mod latent;
pub mod model;
pub mod presets;
pub mod train;
