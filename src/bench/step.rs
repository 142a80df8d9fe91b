//! `infogan bench step`: the whole D+G training step, its two phases and GPU time per kernel.

use std::time::Instant;

use serde_json::json;

use crate::bench::{print_json, round, CpuClock, Measurement};
use crate::error::Result;
use crate::gpu::Gpu;

/// Napkin FLOPs of one D+G training step of the paper's model per image, counted layer by layer
/// (2 * MACs of each Linear / conv; batch norm, activations and Adam are memory-bound and left
/// out). Forward passes count once; a backward pass counts once for the input gradient and once
/// for the weight gradient where each is computed.
///   D/Q phase: G forward (no backward: G is frozen, its output detached); D body + head on real
///   and on fake images, forward and both gradients (no input gradient at the first conv);
///   Q head on the fake features, forward and both gradients.
///   G phase: G forward and both gradients (no input gradient at the first Linear); D body +
///   head + Q forward and input gradients only (D and Q frozen).
pub fn step_flops_per_image(widths: crate::infogan::model::Widths, latent_width: usize, categories: usize, continuous: usize) -> f64 {
    let w = widths;
    let lin = |i: usize, o: usize| 2.0 * (i * o) as f64;
    // Convs: 2 * input pixels (transposed) or output pixels (direct) * c_in * c_out * 16 taps.
    let conv = |pixels: usize, c_in: usize, c_out: usize| 2.0 * (pixels * c_in * c_out * 16) as f64;
    let g_fc1 = lin(latent_width, w.fc);
    let g_rest = lin(w.fc, w.conv_wide * 49) + conv(49, w.conv_wide, w.conv_narrow) + conv(196, w.conv_narrow, 1);
    let d_conv1 = conv(196, 1, w.conv_narrow);
    let d_rest = conv(49, w.conv_narrow, w.conv_wide) + lin(w.conv_wide * 49, w.fc) + lin(w.fc, 1);
    let q = lin(w.fc, w.q_fc) + lin(w.q_fc, categories + 2 * continuous);
    let g = g_fc1 + g_rest;
    let d_phase = g + 2.0 * (d_conv1 + d_rest) * 2.0 + 2.0 * d_rest + q * 3.0;
    let g_phase = g * 2.0 + g_rest + (d_conv1 + d_rest + q) * 2.0 - d_conv1;
    d_phase + g_phase
}

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

pub fn bench_step(gpu: &Gpu, repeats: usize, batch: usize) -> Result<StepBench> {
    use crate::infogan::train::{TrainConfig, Trainer};
    let split = crate::data::embedded_mnist()?;
    let config = TrainConfig::paper(batch, 0);
    let flops = step_flops_per_image(config.widths, config.latent.width(), config.latent.categorical.iter().sum(), config.latent.continuous) * batch as f64;
    let mut trainer = Trainer::new(gpu, config, &split.train)?;
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
        step: Measurement { name: format!("D+G step b{batch}"), flops, times_ms: steps, cpu_ms: cpu_ms_per_step },
        d_phase: Measurement { name: format!("D/Q phase b{batch}"), flops: 0.0, times_ms: d, cpu_ms: None },
        g_phase: Measurement { name: format!("G phase b{batch}"), flops: 0.0, times_ms: g, cpu_ms: None },
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
    println!("training step (paper's model) on {}", gpu.adapter_name());
    println!("kernel variant: {}; step and phases: wall clock around a synchronous submit", gpu.variant.name());
    for r in results {
        println!(
            "batch {:>4}: {:>9.1} ms/step (min {:.1}, max {:.1}), {:.1} samples/s, {:.2} GFLOP/s of {:.1} GFLOP; D/Q phase {:.1} ms, G phase {:.1} ms",
            r.batch,
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
                println!("  {:<34} {:>13} {:>5} dispatches {:>9.2} ms {:>5.1}%", k.kernel, grid, k.dispatches, k.ms, 100.0 * k.ms / total.max(1e-9));
            }
            continue;
        }
        println!("  GPU time per kernel over one step (timestamp queries, one pass per dispatch): {total:.1} ms");
        for k in &KernelTime::per_kernel(&r.kernels) {
            println!("  {:<34} {:>5} dispatches {:>9.2} ms {:>5.1}%", k.kernel, k.dispatches, k.ms, 100.0 * k.ms / total.max(1e-9));
        }
    }
}

