//! Kernel benchmarks shared by `infogan bench` and `cargo bench`: the timing harness here, one
//! module per thing measured (`matmul`, `conv`, `kernels`; the whole training step is measured by
//! `train::step_bench` with this harness). Wall time around a synchronous
//! submit or GPU timestamps (each report says which), median over repeats after a warm-up, and
//! the FLOPs and bytes of each case written beside it.

mod conv;
mod kernels;
mod matmul;

use std::time::Instant;

use serde_json::{json, Value};

use crate::error::Result;
use crate::gpu::Gpu;
pub use crate::json::round;

pub use conv::{bench_conv, print_conv_report, ConvBench, ConvCase, PaperConv, PAPER_CONVS};
pub use kernels::{bench_kernels, print_kernels_report, KernelCase};
pub use matmul::{bench_matmul, matmul_cases, print_report};

/// One measured case.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub name: String,
    pub flops: f64,
    pub times_ms: Vec<f64>,
    /// This process's CPU time per run, all threads, where measured (see `Runs::cpu_ms`).
    pub cpu_ms: Option<f64>,
}

/// The timed runs of one case.
#[derive(Clone, Debug)]
pub struct Runs {
    pub times_ms: Vec<f64>,
    /// Where the adapter runs on the CPU (lavapipe): this process's CPU time per run, mean over
    /// the timed runs, every thread included (the driver's workers do the work). On a shared VM
    /// whose cores are taken away for a while, wall time and GPU timestamps swung 2x between
    /// back-to-back runs while this moved a few percent, so A/B comparisons read this column.
    pub cpu_ms: Option<f64>,
}

impl Measurement {
    pub fn new(name: String, flops: f64, runs: Runs) -> Measurement {
        Measurement { name, flops, times_ms: runs.times_ms, cpu_ms: runs.cpu_ms }
    }

    pub fn median_ms(&self) -> f64 {
        let mut t = self.times_ms.clone();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }

    pub fn min_ms(&self) -> f64 {
        self.times_ms.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max_ms(&self) -> f64 {
        self.times_ms.iter().copied().fold(0.0, f64::max)
    }

    pub fn gflops(&self) -> f64 {
        self.flops / (self.median_ms() * 1e6)
    }

    pub fn json(&self) -> Value {
        json!({
            "name": self.name,
            "median_ms": round(self.median_ms(), 4),
            "min_ms": round(self.min_ms(), 4),
            "max_ms": round(self.max_ms(), 4),
            "gflops": round(self.gflops(), 3),
            "cpu_ms": self.cpu_ms.map(|v| round(v, 4)),
        })
    }

    /// `json()` with more fields (a case's own figures) added to the object.
    pub fn json_with(&self, extra: Value) -> Value {
        let mut value = self.json();
        if let (Value::Object(fields), Value::Object(more)) = (&mut value, extra) {
            fields.extend(more);
        }
        value
    }

    /// The CPU-time column: ms per run, or "-" where not measured.
    fn cpu_cell(&self) -> String {
        self.cpu_ms.map_or("-".into(), |v| format!("{v:.3}"))
    }
}

/// One line: `{"bench", "adapter", "variant", "timing", "results": [items]}` for `--json`.
pub fn print_json(gpu: &Gpu, bench: &str, timing: &str, items: Vec<Value>) {
    let line = json!({ "bench": bench, "adapter": gpu.adapter_name(), "variant": gpu.variant.name(), "timing": timing, "results": items });
    println!("{line}");
}

/// Times `record` (which records GPU work) `repeats` times after one warm-up run: wall time
/// around a synchronous submit.
pub fn time_gpu(gpu: &Gpu, repeats: usize, mut record: impl FnMut() -> Result<()>) -> Result<Runs> {
    record()?;
    gpu.wait()?;
    let mut times = Vec::with_capacity(repeats);
    let cpu = CpuClock::start_on_cpu_adapter(gpu);
    for _ in 0..repeats {
        let start = Instant::now();
        record()?;
        gpu.wait()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Runs { cpu_ms: cpu.per_run(repeats), times_ms: times })
}

/// This process's CPU time since `start`.
pub struct CpuClock(Option<f64>);

impl CpuClock {
    pub fn start() -> CpuClock {
        CpuClock(process_cpu_ms())
    }

    /// Kept only where the adapter runs on the CPU: on a real GPU a kernel's CPU time is the
    /// host's idle waiting, not the work.
    pub fn start_on_cpu_adapter(gpu: &Gpu) -> CpuClock {
        if gpu.runs_on_cpu() {
            CpuClock::start()
        } else {
            CpuClock(None)
        }
    }

    pub fn per_run(&self, runs: usize) -> Option<f64> {
        let start = self.0?;
        Some((process_cpu_ms()? - start) / runs.max(1) as f64)
    }
}

/// Deterministic values in [-1, 1) without a seeded RNG dependency in the hot path.
pub fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

pub(crate) fn print_cpu_note(gpu: &Gpu) {
    if gpu.runs_on_cpu() {
        println!("CPU ms: this process's CPU time per run, all threads (steadier than wall time on a shared machine)");
    }
}

/// Time of one run of `record`: its dispatches' summed GPU timestamps where profiling is on,
/// else wall clock around a synchronous submit.
fn time_once(gpu: &Gpu, timestamps: bool, record: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    if timestamps {
        record()?;
        return Ok(gpu.take_profile()?.iter().map(|k| k.ms).sum());
    }
    gpu.wait()?;
    let start = Instant::now();
    record()?;
    gpu.wait()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Runs each of `records` once per round (after one warm-up round) and returns their times,
/// one list per record.
fn time_alternating(
    gpu: &Gpu,
    repeats: usize,
    timestamps: bool,
    records: &mut [&mut dyn FnMut() -> Result<()>],
) -> Result<Vec<Vec<f64>>> {
    for record in records.iter_mut() {
        time_once(gpu, timestamps, *record)?;
    }
    let mut times = vec![Vec::with_capacity(repeats); records.len()];
    for _ in 0..repeats {
        for (record, t) in records.iter_mut().zip(&mut times) {
            t.push(time_once(gpu, timestamps, *record)?);
        }
    }
    Ok(times)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU time of this whole process so far (every thread), in ms; None where the OS does not
/// report it. On a CPU adapter this is the work the driver's threads did: on a shared VM whose
/// cores are taken away for a while, wall time swings by 2x between runs and this by ~5%.
pub fn process_cpu_ms() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec through a valid, exclusive pointer.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
        (status == 0).then_some(now.tv_sec as f64 * 1e3 + now.tv_nsec as f64 * 1e-6)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
