//! Layers over the tape, with parameters in per-network arenas.

pub mod layers;
pub mod network;
