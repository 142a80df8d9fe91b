//! Training: the step (its two phases, the batches and random streams it draws), the run loop
//! and the run folder it fills (metrics, evaluations, grids, checkpoints, report.html), the bound
//! probes, and the step's benchmark.

pub mod batches;
pub mod checkpoint;
pub mod folder;
pub mod phases;
pub mod probe;
pub mod progress;
pub mod random;
pub mod report;
pub mod report_charts;
pub mod run;
pub mod sessions;
pub mod step_bench;
pub mod trainer;
