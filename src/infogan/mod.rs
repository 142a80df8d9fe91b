//! InfoGAN: latent codes, the paper's networks, the training step, checkpoints and evaluation.

pub mod checkpoint;
pub mod config;
pub mod eval;
pub mod latent;
pub mod model;
pub mod train;
