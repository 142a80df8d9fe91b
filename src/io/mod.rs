//! Files a run writes and what the user sees while it runs.

pub mod base64;
pub mod chart;
pub mod grid;
pub mod progress;
pub mod report;
