//! InfoGAN: latent codes, the paper's networks, and the training step.

pub mod latent;
pub mod model;
pub mod train;
