//! `infogan train`: the loop around the training step and the run folder it fills:
//! `metrics.jsonl`, `eval.jsonl`, `checkpoints/step-N.safetensors`, `samples/*.png`,
//! `report.html`. Resuming continues from the newest checkpoint exactly.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::data;
use crate::files;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::infogan::checkpoint;
use crate::infogan::batches::Batches;
use crate::infogan::eval;
use crate::infogan::probe;
use crate::infogan::random::Purpose;
use crate::infogan::latent::{GridLayout, GridRequest, LatentSpec};
use crate::infogan::train::{TrainConfig, Trainer};
use crate::io::{grid, progress::Progress, report};
use crate::nn::layers::BnMode;

/// Columns of every sample grid.
const GRID_COLS: usize = 10;

/// Held-out images per forward pass when evaluating (batch statistics are taken over this many),
/// or as many as one storage binding holds where that is fewer (the 64x64 models on lavapipe).
pub const EVAL_BATCH: usize = 500;

/// How often to log, sample, evaluate and checkpoint, and where.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Train until this many steps in total (a resumed run counts the steps it had).
    pub steps: u64,
    pub log_every: u64,
    /// Grids, evaluation on the held-out images and report.html, every this many steps.
    pub sample_every: u64,
    pub checkpoint_every: u64,
    /// Checkpoints kept (the newest).
    pub keep: usize,
    /// Fault injection for tests: poison G's parameters with NaN after this step.
    pub poison_after: Option<u64>,
    /// Probe the slack of both bounds every this many steps (0: never); see `infogan::probe`.
    pub probe_every: u64,
    /// D/Q steps of each probe pair.
    pub probe_steps: usize,
}

/// How a run ended without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Ctrl-C: a checkpoint was written; `--resume` continues.
    Interrupted,
}

/// The grids written every `--sample-every` steps, as (file name suffix, request, batch-norm
/// mode): `catJ` per categorical code J (rows = its categories, columns = noise draws; batch norm
/// in eval mode), `cat0-batchstats` (the first of them with G's batch norm on the grid's own
/// statistics, as in training) and `contJ` per continuous code (columns sweep it over [-2, 2]).
/// The noise comes from the run's seed, so grids of different steps are comparable, and each is
/// what `infogan sample --checkpoint RUN` writes with the same layout.
pub fn grid_requests(latent: &LatentSpec, seed: u64) -> Vec<(String, GridRequest, BnMode)> {
    let request = |layout| GridRequest { layout, categories: Vec::new(), continuous: Vec::new(), seed, cols: GRID_COLS };
    let mut out = Vec::new();
    for code in 0..latent.categorical.len() {
        out.push((format!("cat{code}"), request(GridLayout::Categories(code)), BnMode::Eval));
        if code == 0 {
            out.push(("cat0-batchstats".to_string(), request(GridLayout::Categories(0)), BnMode::BatchStats));
        }
    }
    for code in 0..latent.continuous {
        out.push((format!("cont{code}"), request(GridLayout::Sweep(code)), BnMode::Eval));
    }
    out
}

/// Writes `OUT/samples/step-N-{suffix}.png` for every grid of [`grid_requests`].
pub fn write_grids(gpu: &Gpu, trainer: &Trainer, out: &Path, step: u64) -> Result<()> {
    let dir = out.join("samples");
    std::fs::create_dir_all(&dir).map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    for (suffix, request, mode) in grid_requests(&trainer.config.latent, trainer.config.seed) {
        let (images, rows) = trainer.model.draw_grid(gpu, &trainer.config.latent, &request, mode)?;
        grid::write_png(&dir.join(format!("step-{step}-{suffix}.png")), &images, rows, request.cols, trainer.config.network.image)?;
    }
    Ok(())
}

/// Keeps only the JSON lines whose `"step"` is at most `step` (a resumed run rewinds its logs to
/// its checkpoint, so no step is logged twice).
fn rewind_log(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let kept: String = text
        .lines()
        .filter(|line| serde_json::from_str::<serde_json::Value>(line).ok().and_then(|v| v.get("step")?.as_u64()).is_some_and(|s| s <= step))
        .map(|line| format!("{line}\n"))
        .collect();
    files::write_atomically(path, kept.as_bytes())
}


/// Where training starts: a fresh model, or the newest checkpoint of `--resume`.
pub enum Start {
    Fresh(TrainConfig),
    Resume(checkpoint::Checkpoint),
}

pub fn train(gpu: &Gpu, start: Start, options: &RunOptions, stop: Arc<AtomicBool>) -> Result<Outcome> {
    let out = options.out.as_path();
    let config = match &start {
        Start::Fresh(config) => config.clone(),
        Start::Resume(ckpt) => ckpt.config.clone(),
    };
    let mut split = data::load(&config.data, config.network.image)?;
    if let Some(n) = config.max_images {
        split.train.truncate(n);
    }
    // Settings are checked (and the model built) before anything is written.
    let mut trainer = match &start {
        Start::Fresh(config) => Trainer::new(gpu, config.clone(), &split.train)?,
        Start::Resume(ckpt) => Trainer::resume(gpu, ckpt, &split.train)?,
    };
    let first = trainer.step;
    if first >= options.steps {
        return Err(Error::new(format!("the run is already at step {first}; pass a larger --steps to continue it")));
    }
    let metrics_path = out.join("metrics.jsonl");
    let eval_path = out.join("eval.jsonl");
    let probes_path = out.join("probes.jsonl");
    let mut held_out = match options.probe_every {
        0 => None,
        _ => Some(Batches::new(gpu, &split.eval, trainer.config.network.pixel_range(), trainer.config.batch, trainer.config.seed, Purpose::ProbeOrder)?),
    };
    let ckpt_dir = out.join("checkpoints");
    match &start {
        Start::Fresh(_) if metrics_path.exists() => {
            return Err(Error::new(format!("{} already holds a run; choose another --out, or continue it with --resume {}", out.display(), out.display())));
        }
        Start::Fresh(_) => {}
        Start::Resume(ckpt) => {
            if ckpt.adapter != gpu.adapter_name() {
                eprintln!("note: the checkpoint was written on {}; on {} the continuation is not bit-identical", ckpt.adapter, gpu.adapter_name());
            }
            rewind_log(&metrics_path, first)?;
            rewind_log(&eval_path, first)?;
            rewind_log(&probes_path, first)?;
        }
    }
    std::fs::create_dir_all(&ckpt_dir).map_err(|e| Error::new(format!("cannot create {}: {e}", ckpt_dir.display())))?;
    checkpoint::remove_stale_temporaries(&ckpt_dir);
    files::write_atomically(&out.join("config.json"), config.to_json().as_bytes())?;
    println!(
        "training InfoGAN on {} ({} images, {} held out) with {}; kernel variant {}; {} from step {first} to {}",
        split.train.name,
        split.train.len(),
        split.eval.len(),
        gpu.adapter_name(),
        gpu.variant.name(),
        if first == 0 { "starting" } else { "resuming" },
        options.steps
    );
    if gpu.runs_on_cpu() {
        // llvmpipe compiles each kernel at its first dispatch; Mesa's disk cache keeps the result.
        println!("note: the first step compiles the kernels on {}; with an empty shader cache that can take minutes (the 32x32 register tile alone about 2), later runs reuse it", gpu.info.name);
    }
    let mut progress = Progress::new(first, options.steps);
    let mut last_good: Option<PathBuf> = checkpoint::list(&ckpt_dir).pop().map(|(_, p)| p);
    let started = Instant::now();
    // Throughput is measured over each logged interval (the previous logged step to this one),
    // so the curve shows the current pace; evaluation and checkpoints fall between intervals.
    let (mut interval_start, mut interval_first) = (Instant::now(), first);
    let diverged = |step: u64, last_good: &Option<PathBuf>, why: &str| -> Error {
        let kept = match last_good {
            Some(p) => format!("the last good checkpoint, {}, is kept; resume from it with a lower learning rate or another seed", p.display()),
            None => "no checkpoint had been written yet".into(),
        };
        Error::new(format!("training diverged at step {step} ({why}); {kept}"))
    };
    while trainer.step < options.steps {
        let step = trainer.step + 1;
        let due = |every: u64| step % every.max(1) == 0 || step == options.steps;
        let interrupted = stop.load(Ordering::SeqCst);
        let (sample, save) = (due(options.sample_every), due(options.checkpoint_every) || interrupted);
        let probe_due = options.probe_every > 0 && step % options.probe_every == 0;
        let read = due(options.log_every) || sample || save || probe_due || step == first + 1;
        let metrics = trainer.step(read)?;
        if options.poison_after == Some(step) {
            crate::ops::elementwise::fill(gpu, &trainer.model.g.arena.values, f32::NAN)?;
        }
        let Some(mut metrics) = metrics else { continue };
        metrics.samples_per_s = ((step - interval_first) as usize * trainer.config.batch) as f64 / interval_start.elapsed().as_secs_f64();
        if !metrics.is_finite() {
            return Err(diverged(step, &last_good, "NaN or Inf in the losses"));
        }
        files::append_line(&metrics_path, &metrics.json())?;
        progress.update(step, &metrics);
        if sample {
            write_grids(gpu, &trainer, out, step)?;
            let [eval_bn, batch_stats] = eval::evaluate(gpu, &trainer.model, &trainer.config.latent, &split.eval, EVAL_BATCH)?;
            let line = serde_json::json!({ "step": step, "eval": eval_bn.json(), "batch_stats": batch_stats.json() });
            files::append_line(&eval_path, &line.to_string())?;
            match (eval_bn.primary(), batch_stats.primary()) {
                (Some(a), Some(b)) => progress.note(&format!(
                    "step {step}: held-out accuracy {:.1}% (one-to-one, batch norm eval), {:.1}% (batch statistics); NMI {:.3}",
                    100.0 * a.hungarian,
                    100.0 * b.hungarian,
                    a.nmi
                )),
                _ => {
                    let usage: Vec<String> = eval_bn.codes.iter().map(|c| format!("{:.2}/{:.2}", c.usage_nats, (c.categories as f64).ln())).collect();
                    if !usage.is_empty() {
                        progress.note(&format!("step {step}: categorical codes' usage on held-out images (nats of ln K): {}", usage.join(", ")));
                    }
                }
            }
        }
        if let Some(held_out) = held_out.as_mut().filter(|_| probe_due) {
            let report = probe::probe(gpu, &trainer.config, &trainer.model, held_out, step, options.probe_steps)?;
            files::append_line(&probes_path, &serde_json::to_string(&report).unwrap_or_default())?;
            let (gan, li) = report.slack();
            progress.note(&format!(
                "step {step}: probes reach B_GAN {:.3} (training D {:.3}, slack {gan:.3}) and L_I {:.3} (training Q {:.3}, slack {li:.3}) nats",
                report.train.B_GAN + gan,
                report.train.B_GAN,
                report.train.l_i() + li,
                report.train.l_i()
            ));
        }
        if save {
            let path = ckpt_dir.join(format!("step-{step}.safetensors"));
            if let checkpoint::Saved::NotFinite(tensor) = checkpoint::save(&path, gpu, &trainer.model, &trainer.config, step)? {
                return Err(diverged(step, &last_good, &format!("{tensor} holds NaN or Inf")));
            }
            checkpoint::prune(&ckpt_dir, options.keep)?;
            last_good = Some(path);
        }
        if sample || save {
            report::write(out)?;
        }
        (interval_start, interval_first) = (Instant::now(), step);
        if interrupted {
            progress.finish();
            println!("interrupted at step {step}: checkpoint written; continue with `infogan train --resume {} --steps {}`", out.display(), options.steps);
            return Ok(Outcome::Interrupted);
        }
    }
    progress.finish();
    println!(
        "done: steps {first}..{} in {:.1}s; metrics in {}, report in {}",
        options.steps,
        started.elapsed().as_secs_f64(),
        metrics_path.display(),
        out.join("report.html").display()
    );
    Ok(Outcome::Finished)
}
