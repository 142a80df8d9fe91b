//! What an InfoGAN is: the paper's experiments as presets, the latent code, the configuration of
//! a run, and the three networks built from a description.

pub mod architectures;
pub mod config;
pub mod latent;
pub mod networks;
pub mod presets;
