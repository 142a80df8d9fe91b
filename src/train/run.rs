//! `infogan train`: the loop around the training step. Each step trains, then logs, draws grids,
//! evaluates, probes and checkpoints as due, into the run folder (`folder::RunFolder`). Whatever
//! fails after a step has trained, the checkpoint of that step is written first, so a run never
//! loses its steps. Resuming continues from the newest checkpoint exactly.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::data::{self, Split};
use crate::error::{Error, Result};
use crate::eval::evaluate::{self, Evaluation};
use crate::gpu::Gpu;
use crate::model::config::{Schedule, TrainConfig};
use crate::train::batches::Batches;
use crate::train::checkpoint::Checkpoint;
use crate::train::folder::RunFolder;
use crate::train::probe;
use crate::train::progress::Progress;
use crate::train::random::Purpose;
use crate::train::sessions::Session;
use crate::train::trainer::{StepMetrics, Trainer};

/// Held-out images per forward pass when evaluating (batch statistics are taken over this many),
/// or as many as one storage binding holds where that is fewer (the 64x64 models on lavapipe).
pub const EVAL_BATCH: usize = 500;

/// Where the run goes, how far, and how often it logs, samples, evaluates and checkpoints.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    /// Train until this many steps in total (a resumed run counts the steps it had).
    pub steps: u64,
    /// Stored in the run's configuration, so that a resumed run keeps it.
    pub schedule: Schedule,
    /// The command line that started this process, recorded in sessions.jsonl.
    pub command: String,
    /// Fault injection for tests: poison G's parameters with NaN after this step.
    pub poison_after: Option<u64>,
}

/// How a run ended without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Ctrl-C: a checkpoint was written; `--resume` continues.
    Interrupted,
}

/// Where training starts: a fresh model, or the newest checkpoint of `--resume`.
pub enum Start {
    Fresh(TrainConfig),
    Resume(Checkpoint),
}

impl Start {
    fn config(&self) -> &TrainConfig {
        match self {
            Start::Fresh(config) => config,
            Start::Resume(ckpt) => &ckpt.config,
        }
    }
}

/// What is due after step `step`.
#[derive(Clone, Copy, Debug)]
struct Due {
    /// Read back the step's scalars (and log them).
    read: bool,
    /// Grids, held-out evaluation and report.html.
    sample: bool,
    checkpoint: bool,
    probe: bool,
    /// Ctrl-C was pressed: checkpoint and stop after this step.
    interrupted: bool,
}

impl Due {
    fn at(step: u64, first: u64, options: &RunOptions, interrupted: bool) -> Due {
        let schedule = &options.schedule;
        let every = |n: u64| step.is_multiple_of(n.max(1)) || step == options.steps;
        let (sample, checkpoint) =
            (every(schedule.sample_every), every(schedule.checkpoint_every) || interrupted);
        let probe = schedule.probe_every > 0 && step.is_multiple_of(schedule.probe_every);
        let read = every(schedule.log_every) || sample || checkpoint || probe || step == first + 1;
        Due { read, sample, checkpoint, probe, interrupted }
    }
}

pub fn train(
    gpu: &Gpu,
    start: Start,
    options: &RunOptions,
    stop: Arc<AtomicBool>,
) -> Result<Outcome> {
    let folder = RunFolder::new(&options.out);
    let mut config = start.config().clone();
    config.schedule = Some(options.schedule);
    let mut split = data::load(&config.data, config.network.image)?;
    if let Some(n) = config.max_images {
        split.train.truncate(n);
    }
    // Settings are checked (and the model built) before anything is written.
    let mut trainer = match &start {
        Start::Fresh(_) => Trainer::new(gpu, config.clone(), &split.train)?,
        Start::Resume(ckpt) => Trainer::resume(gpu, ckpt, &split.train)?,
    };
    trainer.config.schedule = config.schedule;
    let first = trainer.step;
    if first >= options.steps {
        return Err(Error::new(format!(
            "the run is already at step {first}; pass a larger --steps to continue it"
        )));
    }
    let held_out = match options.schedule.probe_every {
        0 => None,
        _ => Some(Batches::new(
            gpu,
            &split.eval,
            config.network.pixel_range(),
            config.batch,
            config.seed,
            Purpose::ProbeOrder,
        )?),
    };
    match &start {
        Start::Fresh(_) if folder.holds_run() => {
            let out = options.out.display();
            return Err(Error::new(format!("{out} already holds a run; choose another --out, or continue it with --resume {out}")));
        }
        Start::Fresh(_) => {}
        Start::Resume(ckpt) if ckpt.adapter != gpu.adapter_name() => {
            eprintln!("note: the checkpoint was written on {}; on {} the continuation is not bit-identical", ckpt.adapter, gpu.adapter_name());
        }
        Start::Resume(_) => {}
    }
    folder.prepare(&config, first)?;
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
    let last_good = folder.newest_checkpoint();
    let mut run = Run {
        gpu,
        options,
        progress: Progress::new(first, options.steps),
        last_good,
        folder,
        split,
        held_out,
        trainer,
        interval: (Instant::now(), first),
    };
    let (session, line) = Session::start(gpu, first, options.steps, &options.command);
    run.folder.log_session(&line)?;
    let result = run.train_until(first, &stop);
    let outcome = match &result {
        Ok(Outcome::Finished) => "finished".to_string(),
        Ok(Outcome::Interrupted) => "interrupted".to_string(),
        Err(e) => format!("failed: {e}"),
    };
    // The run's steps are safe whatever happens here; a failure to record the end only warns.
    let end = session.end(run.trainer.step, &outcome);
    if let Err(e) = run.folder.log_session(&end).and_then(|()| run.folder.write_report()) {
        eprintln!("warning: the end of this session was not recorded: {e}");
    }
    result
}

/// A run in progress: the trainer, its data and folder, and what the loop keeps between steps.
struct Run<'a> {
    gpu: &'a Gpu,
    options: &'a RunOptions,
    folder: RunFolder,
    split: Split,
    trainer: Trainer<'a>,
    /// Held-out batches for the probes, when probing.
    held_out: Option<Batches>,
    progress: Progress,
    /// The newest checkpoint written, kept when training diverges.
    last_good: Option<PathBuf>,
    /// Throughput is measured over each logged interval (from this instant and step), so the
    /// curve shows the current pace; evaluation and checkpoints fall between intervals.
    interval: (Instant, u64),
}

impl Run<'_> {
    /// Trains until the target step or Ctrl-C.
    fn train_until(&mut self, first: u64, stop: &AtomicBool) -> Result<Outcome> {
        let started = Instant::now();
        let options = self.options;
        while self.trainer.step < options.steps {
            let step = self.trainer.step + 1;
            let due = Due::at(step, first, options, stop.load(Ordering::SeqCst));
            let Some(metrics) = self.train_step(step, due)? else {
                continue;
            };
            let after = self.after_step(step, &metrics, due);
            if due.checkpoint || after.is_err() {
                self.checkpoint(step)?;
            }
            after.map_err(|e| self.kept(e, step))?;
            self.interval = (Instant::now(), step);
            if due.interrupted {
                self.progress.finish();
                println!(
                    "interrupted at step {step}: checkpoint written; continue with `{}`",
                    self.resume_command()
                );
                return Ok(Outcome::Interrupted);
            }
        }
        self.progress.finish();
        println!(
            "done: steps {first}..{} in {:.1}s; metrics in {}, report in {}",
            options.steps,
            started.elapsed().as_secs_f64(),
            self.folder.metrics().display(),
            self.folder.report().display()
        );
        Ok(Outcome::Finished)
    }

    /// One training step; its scalars when read back, checked to be finite.
    fn train_step(&mut self, step: u64, due: Due) -> Result<Option<StepMetrics>> {
        let metrics = self.trainer.step(due.read)?;
        if self.options.poison_after == Some(step) {
            crate::ops::elementwise::fill(self.gpu, &self.trainer.model.g.arena.values, f32::NAN)?;
        }
        let Some(mut metrics) = metrics else {
            return Ok(None);
        };
        let (since, from) = self.interval;
        metrics.samples_per_s = ((step - from) as usize * self.trainer.config.batch) as f64
            / since.elapsed().as_secs_f64();
        if !metrics.is_finite() {
            return Err(self.diverged(step, "NaN or Inf in the losses"));
        }
        Ok(Some(metrics))
    }

    /// Everything after a trained step but the checkpoint: the log line, grids and evaluation,
    /// probes, report.html.
    fn after_step(&mut self, step: u64, metrics: &StepMetrics, due: Due) -> Result<()> {
        self.folder.log_metrics(metrics)?;
        self.progress.update(step, metrics);
        if due.sample {
            let (gpu, model, config) = (self.gpu, &self.trainer.model, &self.trainer.config);
            self.folder.write_grids(gpu, model, config, step)?;
            let evaluation =
                evaluate::evaluate(gpu, model, &config.latent, &self.split.eval, EVAL_BATCH)?;
            self.folder.log_evaluation(step, &evaluation)?;
            if let Some(note) = evaluation_note(step, &evaluation) {
                self.progress.note(&note);
            }
        }
        if let Some(held_out) = self.held_out.as_mut().filter(|_| due.probe) {
            let report = probe::probe(
                self.gpu,
                &self.trainer.config,
                &self.trainer.model,
                held_out,
                step,
                self.options.schedule.probe_steps,
            )?;
            self.folder.log_probe(&report)?;
            let (gan, li) = report.slack();
            self.progress.note(&format!(
                "step {step}: probes reach B_GAN {:.3} (training D {:.3}, slack {gan:.3}) and L_I {:.3} (training Q {:.3}, slack {li:.3}) nats",
                report.train.B_GAN + gan,
                report.train.B_GAN,
                report.train.l_i() + li,
                report.train.l_i()
            ));
        }
        if due.sample || due.checkpoint {
            self.folder.write_report()?;
        }
        Ok(())
    }

    /// Writes the checkpoint of `step`; a model holding NaN or Inf is not saved, and training
    /// stops with the last good checkpoint named.
    fn checkpoint(&mut self, step: u64) -> Result<()> {
        let (gpu, model, config) = (self.gpu, &self.trainer.model, &self.trainer.config);
        match self.folder.save_checkpoint(gpu, model, config, step, self.options.schedule.keep)? {
            Ok(path) => {
                self.last_good = Some(path);
                Ok(())
            }
            Err(tensor) => Err(self.diverged(step, &format!("{tensor} holds NaN or Inf"))),
        }
    }

    fn diverged(&self, step: u64, why: &str) -> Error {
        let kept = match &self.last_good {
            Some(p) => format!("the last good checkpoint, {}, is kept; resume from it with a lower learning rate or another seed", p.display()),
            None => "no checkpoint had been written yet".into(),
        };
        Error::new(format!("training diverged at step {step} ({why}); {kept}"))
    }

    /// `error`, raised after step `step` trained and was checkpointed, with where the steps are.
    fn kept(&self, error: Error, step: u64) -> Error {
        let saved =
            self.last_good.as_ref().map_or_else(String::new, |p| format!(" ({})", p.display()));
        Error::new(format!("{error}\nthe run's {step} steps are kept in its checkpoint{saved}; after fixing the cause, continue with `{}`", self.resume_command()))
    }

    fn resume_command(&self) -> String {
        format!(
            "infogan train --resume {} --steps {}",
            self.folder.root().display(),
            self.options.steps
        )
    }
}

/// The progress line after an evaluation: the headline accuracy where the data has labels, else
/// each categorical code's usage.
fn evaluation_note(step: u64, [eval, batch_stats]: &[Evaluation; 2]) -> Option<String> {
    match (eval.primary(), batch_stats.primary()) {
        (Some(a), Some(b)) => Some(format!(
            "step {step}: held-out accuracy {:.1}% (one-to-one, batch norm eval), {:.1}% (batch statistics); NMI {:.3}",
            100.0 * a.hungarian,
            100.0 * b.hungarian,
            a.nmi
        )),
        _ if eval.codes.is_empty() => None,
        _ => {
            let usage: Vec<String> = eval.codes.iter().map(|c| format!("{:.2}/{:.2}", c.usage_nats, (c.categories as f64).ln())).collect();
            Some(format!("step {step}: categorical codes' usage on held-out images (nats of ln K): {}", usage.join(", ")))
        }
    }
}
