//! Files a run writes.

pub mod grid;
