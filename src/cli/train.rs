//! `infogan train`: its arguments, how they apply to a preset's configuration or a checkpoint's,
//! and the start of a run.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use infogan::data::{self, Source};
use infogan::model::config::{Schedule, TrainConfig, Wiring};
use infogan::model::presets::{self, Model};
use infogan::train::checkpoint;
use infogan::train::run::{Outcome, RunOptions, Start};
use infogan::{Gpu, GpuOptions};

#[derive(clap::Args)]
pub struct TrainArgs {
    /// `mnist` (10,000 embedded digits; the last 2,000 held out), `fashion`, a folder of IDX
    /// files, SVHN's train_32x32.mat (or its folder), CelebA's img_align_celeba (or its parent),
    /// or any folder of PNG/JPEG images (sub-folder names become labels).
    #[arg(long)]
    data: Option<String>,
    /// The model whose networks, latent, input and optimiser settings to use: mnist, svhn,
    /// celeba, faces, chairs, shapes or shapes32 [default: the data's own: mnist for IDX files,
    /// svhn, celeba, shapes; faces or celeba for other grey or colour image folders].
    #[arg(long, value_parser = Model::parse)]
    model: Option<Model>,
    /// Train on the first this many images only (for sets larger than the adapter can hold).
    #[arg(long)]
    max_images: Option<usize>,
    /// Train until this step (a resumed run counts the steps it already has).
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    /// Images per step [default: 128].
    #[arg(long)]
    batch: Option<usize>,
    /// Seed of the initialisation, the data order and every latent [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Run folder; must not already hold a run (see --resume) [default: runs/mnist].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its newest checkpoint, with its configuration.
    #[arg(long, conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// Noise dimensions [default: 62].
    #[arg(long)]
    noise: Option<usize>,
    /// Categories of a categorical code; repeat for several codes [default: 10].
    #[arg(long)]
    cat: Vec<usize>,
    /// Continuous U(-1, 1) codes [default: 2].
    #[arg(long)]
    cont: Option<usize>,
    /// LeakyReLU slope (paper 0.1, official code 0.01) [default: 0.1].
    #[arg(long)]
    leak: Option<f32>,
    /// Q learns a std per continuous code (paper) instead of std 1 (official code).
    #[arg(long)]
    learned_std: bool,
    /// `official` (Q stepped with D; MI term in both losses) or `q-with-g` (Q stepped with G) [default: official].
    #[arg(long)]
    wiring: Option<String>,
    /// D's (and, with the official wiring, Q's) Adam learning rate [default: the model's: 2e-4, shapes 2e-3].
    #[arg(long)]
    lr_d: Option<f32>,
    /// G's Adam learning rate [default: 1e-3].
    #[arg(long)]
    lr_g: Option<f32>,
    /// Weight of the categorical MI term [default: the model's: 1, shapes 0.05].
    #[arg(long)]
    lambda_cat: Option<f32>,
    /// Weight of the continuous MI term [default: the model's: 1, shapes 0.05].
    #[arg(long)]
    lambda_cont: Option<f32>,
    /// Network widths, one count per width slot of the model (mnist and faces: FC,WIDE,NARROW,QFC,
    /// paper 1024,128,64,128; svhn and celeba: G_FC,G1,G2,G3,D1,D2,D3,QFC, paper
    /// 448,256,128,64,64,128,256,128; chairs: FC,G1,G2,G3,D1,D2,D3,QFC, paper
    /// 1024,256,128,64,64,128,256,128). Small ones make quick smoke runs.
    #[arg(long)]
    widths: Option<String>,
    /// Read back and log the scalars every this many steps [default: 10]. The cadence flags
    /// (this one to --probe-steps) are kept in the run's config.json: a resumed run goes on at
    /// the cadence it had unless they are given again.
    #[arg(long)]
    log_every: Option<u64>,
    /// Grids, held-out evaluation and report.html every this many steps (and at the end)
    /// [default: 100].
    #[arg(long)]
    sample_every: Option<u64>,
    /// Write a checkpoint every this many steps (and at the end, and on Ctrl-C) [default: 250].
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Checkpoints to keep (the newest) [default: 3].
    #[arg(long)]
    keep: Option<usize>,
    /// Every this many steps, measure the slack of both bounds: train other discriminators and
    /// recognisers (a copy of D and Q, and a fresh pair) against the frozen G on held-out images
    /// and log the bounds they reach beside the training networks' (probes.jsonl). 0: never
    /// [default: 0].
    #[arg(long)]
    probe_every: Option<u64>,
    /// D/Q steps of each probe pair [default: 50].
    #[arg(long)]
    probe_steps: Option<usize>,
    /// Testing aid: poison G with NaN after this step.
    #[arg(long, hide = true)]
    debug_nan_after: Option<u64>,
}

impl TrainArgs {
    /// The cadence flags given over `kept` (the resumed run's, or the defaults).
    fn schedule(&self, kept: Schedule) -> Schedule {
        Schedule {
            log_every: self.log_every.unwrap_or(kept.log_every).max(1),
            sample_every: self.sample_every.unwrap_or(kept.sample_every).max(1),
            checkpoint_every: self.checkpoint_every.unwrap_or(kept.checkpoint_every).max(1),
            keep: self.keep.unwrap_or(kept.keep).max(1),
            probe_every: self.probe_every.unwrap_or(kept.probe_every),
            probe_steps: self.probe_steps.unwrap_or(kept.probe_steps).max(1),
        }
    }

    /// Applies the configuration flags the user gave to `config`.
    fn apply(&self, config: &mut TrainConfig) -> infogan::Result<()> {
        if let Some(data) = &self.data {
            // A path is stored absolute, so `--resume` works from any working directory.
            config.data = match data.as_str() {
                "mnist" | "fashion" => data.clone(),
                path => std::fs::canonicalize(path)
                    .map_or_else(|_| data.clone(), |p| p.display().to_string()),
            };
        }
        if let Some(model) = self.model {
            // On resume a different model is reported as a difference; a fresh run starts from it.
            config.model = model;
        }
        if let Some(n) = self.max_images {
            if n < 2 {
                return Err(infogan::Error::new("--max-images must be at least 2"));
            }
            config.max_images = Some(n);
        }
        if let Some(batch) = self.batch {
            config.batch = batch;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(noise) = self.noise {
            config.latent.noise = noise;
        }
        if !self.cat.is_empty() {
            config.latent.categorical = self.cat.clone();
        }
        if let Some(cont) = self.cont {
            config.latent.continuous = cont;
        }
        if let Some(leak) = self.leak {
            config.leak = leak;
        }
        if self.learned_std {
            config.learned_std = true;
        }
        if let Some(widths) = &self.widths {
            config.set_widths(&presets::parse_widths(widths)?)?;
        }
        if let Some(wiring) = &self.wiring {
            config.wiring = Wiring::parse(wiring)?;
        }
        for (value, slot, name) in [
            (self.lr_d, &mut config.optimiser.lr_d, "--lr-d"),
            (self.lr_g, &mut config.optimiser.lr_g, "--lr-g"),
        ] {
            if let Some(v) = value {
                if !(v.is_finite() && v > 0.0) {
                    return Err(infogan::Error::new(format!("{name} must be a positive number")));
                }
                *slot = v;
            }
        }
        for (value, slot, name) in [
            (self.lambda_cat, &mut config.optimiser.lambda_cat, "--lambda-cat"),
            (self.lambda_cont, &mut config.optimiser.lambda_cont, "--lambda-cont"),
        ] {
            if let Some(v) = value {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(infogan::Error::new(format!("{name} must be a number >= 0")));
                }
                *slot = v;
            }
        }
        config.latent.validate()
    }
}

pub fn train(gpu_options: GpuOptions, args: TrainArgs) -> infogan::Result<Outcome> {
    if args.steps == 0 {
        return Err(infogan::Error::new("--steps must be at least 1"));
    }
    let (start, out) = match &args.resume {
        Some(dir) => {
            let ckpt = checkpoint::load(&checkpoint::resolve(dir)?)?;
            let mut wanted = ckpt.config.clone();
            args.apply(&mut wanted)?;
            let differences = ckpt.config.differences(&wanted);
            if !differences.is_empty() {
                return Err(infogan::Error::new(format!(
                    "{} was trained with another configuration ({}); drop those flags to resume it, or start a new run with --out",
                    ckpt.path.display(),
                    differences.join("; ")
                )));
            }
            (Start::Resume(ckpt), dir.clone())
        }
        None => {
            let source = Source::detect(args.data.as_deref().unwrap_or("mnist"))?;
            let data_model = Model::parse(source.default_model()?)?;
            let model = args.model.unwrap_or(data_model);
            let mut config = TrainConfig::for_preset(model, 128, 0);
            if let Some(shape) = source.fixed_shape()? {
                if shape != config.network.image {
                    return Err(infogan::Error::new(format!(
                        "--model {model} takes {} images, but the data holds {} (the {data_model} model's input); drop --model, or give data for it",
                        data::describe(config.network.image),
                        data::describe(shape)
                    )));
                }
            }
            args.apply(&mut config)?;
            let out =
                args.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{}", config.model)));
            (Start::Fresh(config), out)
        }
    };
    let gpu = Gpu::new(&gpu_options)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // First Ctrl-C: finish the step, write a checkpoint, exit. Second: exit now (checkpoints are
    // written atomically, so even this never leaves a torn one).
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupt: writing a checkpoint after this step (Ctrl-C again to quit at once)"
        );
    });
    let kept = match &start {
        Start::Resume(ckpt) => ckpt.config.schedule.unwrap_or_default(),
        Start::Fresh(_) => Schedule::default(),
    };
    let options = RunOptions {
        out,
        steps: args.steps,
        schedule: args.schedule(kept),
        command: command_line(),
        poison_after: args.debug_nan_after,
    };
    infogan::train::run::train(&gpu, start, &options, stop)
}

/// This process's command line as a shell would take it back (the program as `infogan`).
fn command_line() -> String {
    let quote = |a: String| {
        let plain = !a.is_empty()
            && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c));
        if plain {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let args = std::env::args().skip(1).map(quote);
    std::iter::once("infogan".to_string()).chain(args).collect::<Vec<_>>().join(" ")
}
