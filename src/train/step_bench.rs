//! `infogan bench step`: the whole D+G training step, its two phases and GPU time per kernel,
//! timed with the kernel benchmarks' harness.

use std::time::Instant;

use serde_json::json;

use crate::bench::{print_json, pseudo_random, round, CpuClock, Measurement};
use crate::data::{Dataset, Images};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::model::config::TrainConfig;
use crate::model::presets::Model;
use crate::train::trainer::Trainer;

/// `infogan bench step` at one batch size.
#[derive(Clone, Debug)]
pub struct StepBench {
    pub batch: usize,
    pub step: Measurement,
    pub d_phase: Measurement,
    pub g_phase: Measurement,
    /// GPU time per kernel and dispatch grid over one step (empty without timestamp queries);
    /// `KernelTime::per_kernel` sums it per kernel.
    pub kernels: Vec<crate::gpu::KernelTime>,
}

/// `model`'s step at `batch` on the embedded digits (mnist) or random images of the preset's input.
pub fn bench_step(gpu: &Gpu, model: Model, repeats: usize, batch: usize) -> Result<StepBench> {
    let config = TrainConfig::for_preset(model, batch, 0);
    let data = if model == Model::Mnist {
        crate::data::embedded_mnist()?.train
    } else {
        let [c, h, w] = config.network.image;
        let count = (2 * batch).max(256);
        let pixels = pseudo_random(count * c * h * w, 9)
            .into_iter()
            .map(|v| ((v + 1.0) * 127.5) as u8)
            .collect();
        Dataset::new(
            &format!("random {c}x{h}x{w}"),
            Images { count, channels: c, height: h, width: w, pixels },
            Vec::new(),
        )?
    };
    let mut trainer = Trainer::new(gpu, config, &data)?;
    let flops = trainer.model.step_flops_per_image() * batch as f64;
    // Warm-up: compiles every pipeline and fills the buffer pool and bind-group cache.
    for _ in 0..2 {
        trainer.step(false)?;
    }
    gpu.wait()?;
    let mut steps = Vec::with_capacity(repeats);
    // On any adapter: on a real GPU it is the host's share of the step.
    let cpu = CpuClock::start();
    for _ in 0..repeats {
        let start = Instant::now();
        trainer.step(false)?;
        gpu.wait()?;
        steps.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_ms_per_step = cpu.per_run(repeats);
    let (mut d, mut g) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let [dt, gt] = trainer.timed_step()?;
        d.push(dt);
        g.push(gt);
    }
    let mut kernels = Vec::new();
    if gpu.set_profiling(true)? {
        trainer.step(false)?;
        kernels = gpu.take_profile()?;
        gpu.set_profiling(false)?;
    }
    Ok(StepBench {
        batch,
        step: Measurement {
            name: format!("{model} D+G step b{batch}"),
            flops,
            times_ms: steps,
            cpu_ms: cpu_ms_per_step,
        },
        d_phase: Measurement {
            name: format!("D/Q phase b{batch}"),
            flops: 0.0,
            times_ms: d,
            cpu_ms: None,
        },
        g_phase: Measurement {
            name: format!("G phase b{batch}"),
            flops: 0.0,
            times_ms: g,
            cpu_ms: None,
        },
        kernels,
    })
}

/// `by_grid`: the per-kernel table split by dispatch grid (the JSON always has both).
pub fn print_step_report(gpu: &Gpu, results: &[StepBench], json: bool, by_grid: bool) {
    use crate::gpu::KernelTime;
    if json {
        let items = results
            .iter()
            .map(|r| {
                let kernels: Vec<_> = KernelTime::per_kernel(&r.kernels).iter().map(|k| json!({ "kernel": k.kernel, "dispatches": k.dispatches, "ms": round(k.ms, 4) })).collect();
                let grids: Vec<_> = r.kernels.iter().map(|k| json!({ "kernel": k.kernel, "grid": k.grid, "dispatches": k.dispatches, "ms": round(k.ms, 4) })).collect();
                json!({
                    "batch": r.batch,
                    "step": r.step.json(),
                    "samples_per_s": round(r.batch as f64 / (r.step.median_ms() * 1e-3), 3),
                    "d_phase": r.d_phase.json(),
                    "g_phase": r.g_phase.json(),
                    "kernels_gpu_ms": kernels,
                    "grids_gpu_ms": grids,
                })
            })
            .collect();
        print_json(gpu, "step", "wall (step, phases); GPU timestamps (kernels)", items);
        return;
    }
    println!("training step on {}", gpu.adapter_name());
    println!(
        "kernel variant: {}; step and phases: wall clock around a synchronous submit",
        gpu.variant.name()
    );
    for r in results {
        println!(
            "{}: {:>9.1} ms/step (min {:.1}, max {:.1}), {:.1} samples/s, {:.2} GFLOP/s of {:.1} GFLOP; D/Q phase {:.1} ms, G phase {:.1} ms",
            r.step.name,
            r.step.median_ms(),
            r.step.min_ms(),
            r.step.max_ms(),
            r.batch as f64 / (r.step.median_ms() * 1e-3),
            r.step.gflops(),
            r.step.flops * 1e-9,
            r.d_phase.median_ms(),
            r.g_phase.median_ms()
        );
        if let Some(cpu) = r.step.cpu_ms {
            println!("  process CPU time: {cpu:.0} ms per step (all threads; steadier than wall time on a shared machine)");
        }
        if r.kernels.is_empty() {
            println!("  (no timestamp queries on this adapter: no per-kernel split)");
            continue;
        }
        let total: f64 = r.kernels.iter().map(|k| k.ms).sum();
        if by_grid {
            println!("  GPU time per kernel and dispatch grid (workgroups x,y,z) over one step (timestamp queries): {total:.1} ms");
            for k in &r.kernels {
                let grid = format!("{}x{}x{}", k.grid[0], k.grid[1], k.grid[2]);
                println!(
                    "  {:<34} {:>13} {:>5} dispatches {:>9.2} ms {:>5.1}%",
                    k.kernel,
                    grid,
                    k.dispatches,
                    k.ms,
                    100.0 * k.ms / total.max(1e-9)
                );
            }
            continue;
        }
        println!("  GPU time per kernel over one step (timestamp queries, one pass per dispatch): {total:.1} ms");
        for k in &KernelTime::per_kernel(&r.kernels) {
            println!(
                "  {:<34} {:>5} dispatches {:>9.2} ms {:>5.1}%",
                k.kernel,
                k.dispatches,
                k.ms,
                100.0 * k.ms / total.max(1e-9)
            );
        }
    }
}
