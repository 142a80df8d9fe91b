//! The `infogan` command line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use infogan::data::{self, Source};
use infogan::infogan::config::{TrainConfig, Wiring};
use infogan::infogan::{checkpoint, eval, presets};
use infogan::nn::layers::BnMode;
use infogan::run::{Outcome, RunOptions, Start};

use infogan::gpu::adapter;
use infogan::{bench, Gpu, GpuOptions};

#[derive(Parser)]
#[command(name = "infogan", version, about = "InfoGAN on any GPU through hand-written WGSL kernels")]
struct Cli {
    /// Use the adapter whose name contains this text (case-insensitive); see `infogan devices`.
    #[arg(long, global = true)]
    adapter: Option<String>,
    /// Force a kernel variant: register-tile, subgroup-tile (lavapipe with 8-lane subgroups) or
    /// workgroup-tile. Default: the adapter's best (`infogan devices` shows it).
    #[arg(long, global = true, value_parser = parse_variant)]
    variant: Option<infogan::Variant>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter wgpu sees, with the limits that matter here.
    Devices,
    /// The paper's five models: input, latent, layers, parameters and the napkin FLOPs of a step.
    Models {
        /// Only this model (with --json: its whole configuration, the network description included).
        #[arg(long)]
        model: Option<String>,
        /// Widths for its slots, as `train --widths`.
        #[arg(long, requires = "model")]
        widths: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Train InfoGAN (one of the paper's five models); the run folder gets metrics, checkpoints,
    /// grids and report.html. With --resume, continue a run exactly from its newest checkpoint.
    Train(TrainArgs),
    /// Draw a grid of samples from a checkpoint's generator.
    Sample(SampleArgs),
    /// Score Q's categorical code as a classifier of held-out real images.
    Eval {
        /// A checkpoint file, or a run folder (its newest checkpoint).
        #[arg(long)]
        checkpoint: PathBuf,
        /// Evaluate on this data's held-out set instead of the one the run trained on.
        #[arg(long)]
        data: Option<String>,
        /// Images per forward pass (batch statistics are taken over this many).
        #[arg(long, default_value_t = infogan::run::EVAL_BATCH)]
        batch: usize,
        #[arg(long)]
        json: bool,
    },
    /// Fetch a dataset's four IDX files into DIR from the public mirrors, checking each MD5.
    Download {
        /// Dataset: `mnist`.
        dataset: String,
        dir: PathBuf,
        /// Try this mirror (a URL prefix) instead of the built-in list; repeatable.
        #[arg(long)]
        mirror: Vec<String>,
    },
    /// Measure kernels on the chosen adapter.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(clap::Args)]
struct TrainArgs {
    /// `mnist` (10,000 embedded digits; the last 2,000 held out), `fashion`, a folder of IDX
    /// files, SVHN's train_32x32.mat (or its folder), CelebA's img_align_celeba (or its parent),
    /// or any folder of PNG/JPEG images (sub-folder names become labels).
    #[arg(long)]
    data: Option<String>,
    /// The paper's experiment whose networks, latent and input to use: mnist, svhn, celeba, faces
    /// or chairs [default: the data's own: mnist for IDX files, svhn, celeba; faces or celeba for
    /// other grey or colour image folders].
    #[arg(long)]
    model: Option<String>,
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
    /// D's (and, with the official wiring, Q's) Adam learning rate [default: 2e-4].
    #[arg(long)]
    lr_d: Option<f32>,
    /// G's Adam learning rate [default: 1e-3].
    #[arg(long)]
    lr_g: Option<f32>,
    /// Weight of the categorical MI term [default: 1].
    #[arg(long)]
    lambda_cat: Option<f32>,
    /// Weight of the continuous MI term [default: 1].
    #[arg(long)]
    lambda_cont: Option<f32>,
    /// Network widths, one count per width slot of the model (mnist and faces: FC,WIDE,NARROW,QFC,
    /// paper 1024,128,64,128; svhn and celeba: G_FC,G1,G2,G3,D1,D2,D3,QFC, paper
    /// 448,256,128,64,64,128,256,128; chairs: FC,G1,G2,G3,D1,D2,D3,QFC, paper
    /// 1024,256,128,64,64,128,256,128). Small ones make quick smoke runs.
    #[arg(long)]
    widths: Option<String>,
    /// Read back and log the scalars every this many steps.
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    /// Grids, held-out evaluation and report.html every this many steps (and at the end).
    #[arg(long, default_value_t = 100)]
    sample_every: u64,
    /// Write a checkpoint every this many steps (and at the end, and on Ctrl-C).
    #[arg(long, default_value_t = 250)]
    checkpoint_every: u64,
    /// Checkpoints to keep (the newest).
    #[arg(long, default_value_t = 3)]
    keep: usize,
    /// Every this many steps, measure the slack of both bounds: train other discriminators and
    /// recognisers (a copy of D and Q, and a fresh pair) against the frozen G on held-out images
    /// and log the bounds they reach beside the training networks' (probes.jsonl). 0: never.
    #[arg(long, default_value_t = 0)]
    probe_every: u64,
    /// D/Q steps of each probe pair.
    #[arg(long, default_value_t = 50)]
    probe_steps: usize,
    /// Testing aid: poison G with NaN after this step.
    #[arg(long, hide = true)]
    debug_nan_after: Option<u64>,
}

impl TrainArgs {
    /// Applies the configuration flags the user gave to `config`.
    fn apply(&self, config: &mut TrainConfig) -> infogan::Result<()> {
        if let Some(data) = &self.data {
            // A path is stored absolute, so `--resume` works from any working directory.
            config.data = match data.as_str() {
                "mnist" | "fashion" => data.clone(),
                path => std::fs::canonicalize(path).map_or_else(|_| data.clone(), |p| p.display().to_string()),
            };
        }
        if let Some(model) = &self.model {
            presets::width_slots(model)?;
            // On resume a different model is reported as a difference; a fresh run starts from it.
            config.model = model.clone();
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
        for (value, slot, name) in [(self.lr_d, &mut config.lr_d, "--lr-d"), (self.lr_g, &mut config.lr_g, "--lr-g")] {
            if let Some(v) = value {
                if !(v.is_finite() && v > 0.0) {
                    return Err(infogan::Error::new(format!("{name} must be a positive number")));
                }
                *slot = v;
            }
        }
        for (value, slot, name) in [(self.lambda_cat, &mut config.lambda_cat, "--lambda-cat"), (self.lambda_cont, &mut config.lambda_cont, "--lambda-cont")] {
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

#[derive(clap::Args)]
struct SampleArgs {
    /// A checkpoint file, or a run folder (its newest checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// PNG file to write.
    #[arg(long)]
    out: PathBuf,
    /// Fix a categorical code: `K` (the first code) or `J=K` (code J); repeatable. Without it,
    /// the rows of the grid run through the first code's categories.
    #[arg(long)]
    cat: Vec<String>,
    /// Fix continuous code I to V (`I=V`); repeatable. Codes not given are 0.
    #[arg(long)]
    cont: Vec<String>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Columns of the grid (rows: the first code's categories, or 10 when it is fixed).
    #[arg(long, default_value_t = 10)]
    cols: usize,
    /// Generator batch norm: `eval` (running statistics) or `batch-stats`.
    #[arg(long, default_value = "eval")]
    bn: String,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Matrix products: 256/512/1024 squares and the paper's two large Linear layers.
    Matmul {
        /// Timed runs per case (after one warm-up).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Skip the cases above 512^3 FLOP-wise (a quick look on slow adapters).
        #[arg(long)]
        quick: bool,
    },
    /// Every kernel family of the training step at the paper's shapes: time, GFLOP/s, GB/s.
    Kernels(BatchedBench),
    /// The whole D+G training step of the paper's model: ms/step, samples/s, the split by phase
    /// and (with timestamp queries) GPU time per kernel.
    Step {
        #[command(flatten)]
        common: BatchedBench,
        /// Split the per-kernel GPU times by dispatch grid (workgroups x,y,z), which tells apart
        /// the shapes one kernel runs.
        #[arg(long)]
        by_grid: bool,
        /// Which preset's step: mnist, svhn, celeba, faces or chairs (random images of its input).
        #[arg(long, default_value = "mnist")]
        model: String,
    },
    /// The paper's four conv / transposed-conv layers: forward, input and weight gradients.
    Conv(BatchedBench),
}

/// What the benchmarks at the paper's batch sizes take.
#[derive(clap::Args)]
struct BatchedBench {
    /// Timed runs per case (after warm-up).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// One JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Batch sizes to measure.
    #[arg(long, value_delimiter = ',', default_value = "64,128")]
    batch: Vec<usize>,
}

impl BatchedBench {
    fn check(&self, min_batch: usize) -> infogan::Result<()> {
        if self.repeats == 0 || self.batch.iter().any(|&b| b < min_batch) {
            return Err(infogan::Error::new(format!("--repeats must be at least 1 and every --batch at least {min_batch}")));
        }
        Ok(())
    }
}

fn main() {
    restore_default_sigpipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Finished) => {}
        Ok(Outcome::Interrupted) => std::process::exit(130),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    }
}

fn parse_variant(name: &str) -> Result<infogan::Variant, String> {
    infogan::Variant::ALL.into_iter().find(|v| v.name() == name).ok_or_else(|| {
        let names: Vec<&str> = infogan::Variant::ALL.iter().map(|v| v.name()).collect();
        format!("unknown kernel variant {name:?}; choose one of {}", names.join(", "))
    })
}

fn train(gpu_options: GpuOptions, args: TrainArgs) -> infogan::Result<Outcome> {
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
            let data_model = source.default_model()?;
            let model = args.model.as_deref().unwrap_or(data_model);
            let mut config = TrainConfig::for_preset(model, 128, 0)?;
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
            let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/{}", config.model)));
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
        eprintln!("\ninterrupt: writing a checkpoint after this step (Ctrl-C again to quit at once)");
    });
    let options = RunOptions {
        out,
        steps: args.steps,
        log_every: args.log_every.max(1),
        sample_every: args.sample_every.max(1),
        checkpoint_every: args.checkpoint_every.max(1),
        keep: args.keep.max(1),
        poison_after: args.debug_nan_after,
        probe_every: args.probe_every,
        probe_steps: args.probe_steps.max(1),
    };
    infogan::run::train(&gpu, start, &options, stop)
}

/// `J=V` or `V` (code 0).
fn code_value<T: std::str::FromStr>(text: &str, flag: &str) -> infogan::Result<(usize, T)> {
    let bad = || infogan::Error::new(format!("{flag} {text}: expected VALUE or INDEX=VALUE"));
    match text.split_once('=') {
        Some((i, v)) => Ok((i.trim().parse().map_err(|_| bad())?, v.trim().parse().map_err(|_| bad())?)),
        None => Ok((0, text.trim().parse().map_err(|_| bad())?)),
    }
}

fn sample(gpu_options: GpuOptions, args: SampleArgs) -> infogan::Result<Outcome> {
    let mode = match args.bn.as_str() {
        "eval" => BnMode::Eval,
        "batch-stats" => BnMode::BatchStats,
        other => return Err(infogan::Error::new(format!("--bn {other}: use `eval` or `batch-stats`"))),
    };
    if args.cols == 0 || args.cols > 100 {
        return Err(infogan::Error::new("--cols must be between 1 and 100"));
    }
    let ckpt = checkpoint::load(&checkpoint::resolve(&args.checkpoint)?)?;
    let spec = &ckpt.config.latent;
    let cats = args.cat.iter().map(|t| code_value::<usize>(t, "--cat")).collect::<infogan::Result<Vec<_>>>()?;
    let conts = args.cont.iter().map(|t| code_value::<f32>(t, "--cont")).collect::<infogan::Result<Vec<_>>>()?;
    let (z, rows) = spec.sample_grid(args.seed, &cats, &conts, args.cols)?;
    let gpu = Gpu::new(&gpu_options)?;
    let model = ckpt.model(&gpu)?;
    let range = ckpt.config.network.pixel_range();
    let images: Vec<f32> = model.generate(&gpu, &z, spec.width(), mode)?.into_iter().map(|v| range.to_unit(v)).collect();
    infogan::io::grid::write_png(&args.out, &images, rows, args.cols, ckpt.config.network.image)?;
    println!("wrote {} ({rows}x{} samples from {}, step {})", args.out.display(), args.cols, ckpt.path.display(), ckpt.step);
    Ok(Outcome::Finished)
}

/// `infogan models`.
fn models(gpu_options: GpuOptions, model: Option<String>, widths: Option<String>, json: bool) -> infogan::Result<Outcome> {
    let names: Vec<String> = model.map_or_else(|| presets::NAMES.iter().map(|n| n.to_string()).collect(), |m| vec![m]);
    let mut configs = Vec::new();
    for name in &names {
        let mut config = TrainConfig::for_preset(name, 64, 0)?;
        if let Some(w) = &widths {
            config.set_widths(&presets::parse_widths(w)?)?;
        }
        configs.push(config);
    }
    if json && configs.len() == 1 {
        println!("{}", configs[0].to_json());
        return Ok(Outcome::Finished);
    }
    let gpu = Gpu::new(&gpu_options)?;
    let mut rows = Vec::new();
    for config in configs {
        let preset = presets::preset(&config.model, Some(&config.widths))?;
        let model = infogan::infogan::model::InfoGan::new(&gpu, &config)?;
        let params: Vec<usize> = model.arenas().iter().map(|a| a.layout.slots.iter().map(|s| s.len()).sum()).collect();
        let gflop = bench::step_flops_per_image(&model) * 1e-9;
        let latent = &config.latent;
        if json {
            rows.push(serde_json::json!({
                "model": config.model, "image": config.network.image, "noise": latent.noise, "categorical": latent.categorical, "continuous": latent.continuous,
                "widths": config.widths, "parameters": {"G": params[0], "D": params[1], "Q": params[2]}, "step_gflop_per_image": gflop,
                "layers": config.network.summary(), "source": preset.source, "paper": preset.paper_result,
            }));
            continue;
        }
        let slots: Vec<String> = preset.widths.iter().map(|(n, v)| format!("{n} {v}")).collect();
        println!("{} ({}; {})", config.model, data::describe(config.network.image), preset.source);
        println!("  latent: {} noise, categorical {:?}, {} continuous", latent.noise, latent.categorical, latent.continuous);
        println!("  widths: {}", slots.join(", "));
        for line in config.network.summary() {
            println!("  {line}");
        }
        println!("  parameters: G {}, D {}, Q {}; a D+G step: {gflop:.3} GFLOP per image (napkin count)", params[0], params[1], params[2]);
        println!("  the paper: {}", preset.paper_result);
    }
    if json {
        println!("{}", serde_json::Value::from(rows));
    }
    Ok(Outcome::Finished)
}

fn run(cli: Cli) -> infogan::Result<Outcome> {
    let gpu_options = GpuOptions { adapter: cli.adapter.clone(), variant: cli.variant };
    match cli.command {
        Command::Devices => {
            let instance = adapter::instance();
            let adapters = adapter::all_adapters(&instance);
            if adapters.is_empty() {
                return Err(infogan::Error::new(adapter::NO_ADAPTER_HELP));
            }
            let chosen = adapter::choose(&instance, cli.adapter.as_deref()).map(|a| a.get_info());
            for a in &adapters {
                let info = a.get_info();
                let mark = if chosen.as_ref().is_ok_and(|c| *c == info) { "* " } else { "  " };
                let variant = infogan::Variant::for_adapter(a);
                println!("{mark}{}\n  kernel variant: {}", adapter::describe(a), variant.name());
            }
            println!("(* = the adapter commands use; --adapter NAME or WGPU_ADAPTER_NAME picks another)");
            chosen.map(|_| Outcome::Finished)
        }
        Command::Train(args) => train(gpu_options, args),
        Command::Models { model, widths, json } => models(gpu_options, model, widths, json),
        Command::Sample(args) => sample(gpu_options, args),
        Command::Download { dataset, dir, mirror } => {
            let mut manifest = match dataset.as_str() {
                "mnist" => infogan::data::download::Manifest::mnist(),
                other => return Err(infogan::Error::new(format!("unknown dataset `{other}`; `infogan download mnist DIR` fetches MNIST (Fashion-MNIST: apt-get install dataset-fashion-mnist)"))),
            };
            if !mirror.is_empty() {
                manifest.mirrors = mirror;
            }
            infogan::data::download::download(&manifest, &dir, &mut |line| println!("{line}"))?;
            println!("MNIST is in {}; train on it with `infogan train --data {}`", dir.display(), dir.display());
            Ok(Outcome::Finished)
        }
        Command::Eval { checkpoint, data, batch, json } => {
            let ckpt = checkpoint::load(&checkpoint::resolve(&checkpoint)?)?;
            let gpu = Gpu::new(&gpu_options)?;
            let model = ckpt.model(&gpu)?;
            let spec = data.unwrap_or_else(|| ckpt.config.data.clone());
            if batch < 2 {
                return Err(infogan::Error::new("--batch must be at least 2 (batch statistics need two images)"));
            }
            let held_out = data::load(&spec, ckpt.config.network.image)?.eval;
            let reports = eval::evaluate(&gpu, &model, &ckpt.config.latent, &held_out, batch)?;
            if json {
                let out = serde_json::json!({
                    "checkpoint": ckpt.path.display().to_string(),
                    "step": ckpt.step,
                    "data": held_out.name,
                    "eval": reports[0].json(),
                    "batch_stats": reports[1].json(),
                });
                println!("{out}");
            } else {
                println!("{} (step {}) on {} with {}", ckpt.path.display(), ckpt.step, held_out.name, gpu.adapter_name());
                if held_out.labels.is_empty() {
                    println!("(these images have no labels: each code's usage only)");
                }
                for r in &reports {
                    println!("{}", r.text());
                }
            }
            Ok(Outcome::Finished)
        }
        Command::Bench { what } => bench(gpu_options, what),
    }
}

fn bench(gpu_options: GpuOptions, what: BenchWhat) -> infogan::Result<Outcome> {
    match &what {
        BenchWhat::Matmul { repeats: 0, .. } => return Err(infogan::Error::new("--repeats must be at least 1")),
        BenchWhat::Matmul { .. } => {}
        BenchWhat::Step { common, model, .. } => {
            common.check(2)?;
            presets::width_slots(model)?;
        }
        BenchWhat::Kernels(args) | BenchWhat::Conv(args) => args.check(1)?,
    }
    let gpu = Gpu::new(&gpu_options)?;
    match what {
        BenchWhat::Matmul { repeats, json, quick } => bench::print_report(&gpu, "matmul", &bench::bench_matmul(&gpu, repeats, quick)?, json),
        BenchWhat::Kernels(a) => {
            let (cases, timestamps) = bench::bench_kernels(&gpu, a.repeats, &a.batch)?;
            bench::print_kernels_report(&gpu, &cases, timestamps, a.json);
        }
        BenchWhat::Step { common: a, by_grid, model } => {
            let results = a.batch.iter().map(|&b| bench::bench_step(&gpu, &model, a.repeats, b)).collect::<infogan::Result<Vec<_>>>()?;
            bench::print_step_report(&gpu, &results, a.json, by_grid);
        }
        BenchWhat::Conv(a) => bench::print_conv_report(&gpu, &bench::bench_conv(&gpu, a.repeats, &a.batch)?, a.json),
    }
    Ok(Outcome::Finished)
}

/// `infogan bench matmul | head` should end quietly like any other command-line tool. Rust
/// ignores SIGPIPE, so a closed pipe made the next `println!` panic with a backtrace.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
