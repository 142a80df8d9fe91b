//! InfoGAN: latent codes, the paper's five experiments as presets, the networks built from a
//! description, the training step, checkpoints and evaluation.

pub mod batches;
pub mod checkpoint;
pub mod config;
pub mod confusion;
pub mod eval;
pub mod factors;
pub mod latent;
pub mod model;
pub mod phases;
pub mod presets;
pub mod probe;
pub mod random;
pub mod ranking;
pub mod train;
