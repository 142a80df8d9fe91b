//! The command line: its arguments (clap), one handler per command, and the dispatch.

mod commands;
mod explore;
mod train;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use infogan::model::presets::Model;
use infogan::train::run::Outcome;
use infogan::GpuOptions;

pub use train::TrainArgs;

#[derive(Parser)]
#[command(
    name = "infogan",
    version = infogan::BUILD,
    about = "InfoGAN on any GPU through hand-written WGSL kernels"
)]
pub struct Cli {
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
    /// The models: input, latent, layers, parameters and the napkin FLOPs of a step.
    Models {
        /// Only this model (with --json: its whole configuration, the network description included).
        #[arg(long, value_parser = Model::parse)]
        model: Option<Model>,
        /// Widths for its slots, as `train --widths`.
        #[arg(long, requires = "model")]
        widths: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Train InfoGAN (one of the paper's five experiments or the shapes models); the run folder gets metrics, checkpoints,
    /// grids and report.html. With --resume, continue a run exactly from its newest checkpoint.
    Train(Box<TrainArgs>),
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
        #[arg(long, default_value_t = infogan::train::run::EVAL_BATCH)]
        batch: usize,
        #[arg(long)]
        json: bool,
    },
    /// Rank finished runs of one model by a label-free score (Q's information about real
    /// held-out images), best first; with labels, also each run's accuracy and how well the
    /// label-free scores predict it.
    Rank {
        /// Run folders written by `infogan train`.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Copy the picked run's newest categorical grid to this PNG file.
        #[arg(long)]
        grid: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Explore a trained model in the browser: a local page whose sliders and choosers set the
    /// codes while G redraws the grid on the GPU.
    Explore {
        /// A run folder (its newest checkpoint and its evaluations) or a checkpoint file.
        source: PathBuf,
        /// Port to listen on [default: a free one].
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to listen on; anything but loopback lets other machines use the page.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Do not open the page in the desktop's browser.
        #[arg(long)]
        no_open: bool,
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
pub struct SampleArgs {
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
    /// Rows run through categorical code J's categories (as the run's `catJ` grids).
    #[arg(long, value_name = "J", conflicts_with = "sweep")]
    vary_cat: Option<usize>,
    /// Columns sweep continuous code I over [-2, 2] (as the run's `contI` grids).
    #[arg(long, value_name = "I")]
    sweep: Option<usize>,
    /// Rows of noise draws where no categorical code runs down the rows.
    #[arg(long, default_value_t = infogan::model::latent::NOISE_ROWS)]
    noise_rows: usize,
    /// The noise draws' seed; by default the run's own, so that the grid is the one training
    /// wrote for the checkpoint's step.
    #[arg(long)]
    seed: Option<u64>,
    /// Columns of the grid (rows: the first code's categories, or 10 when it is fixed).
    #[arg(long, default_value_t = 10)]
    cols: usize,
    /// Generator batch norm: `eval` (running statistics) or `batch-stats`.
    #[arg(long, default_value = "eval")]
    bn: String,
}

#[derive(Subcommand)]
pub enum BenchWhat {
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
        /// Which model's step: mnist (on the embedded digits), svhn, celeba, faces, chairs,
        /// shapes or shapes32 (random images of its input).
        #[arg(long, default_value = "mnist", value_parser = Model::parse)]
        model: Model,
    },
    /// The paper's four conv / transposed-conv layers: forward, input and weight gradients.
    Conv(BatchedBench),
    /// The explorer's latency: a 10x10 grid requested over HTTP, end to end, median and 95th
    /// percentile over the requests.
    Explore {
        #[arg(long, default_value = "mnist", value_parser = Model::parse)]
        model: Model,
        #[arg(long, default_value_t = 100)]
        requests: usize,
        #[arg(long)]
        json: bool,
    },
}

/// What the benchmarks at the paper's batch sizes take.
#[derive(clap::Args)]
pub struct BatchedBench {
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
            return Err(infogan::Error::new(format!(
                "--repeats must be at least 1 and every --batch at least {min_batch}"
            )));
        }
        Ok(())
    }
}

fn parse_variant(name: &str) -> Result<infogan::Variant, String> {
    infogan::Variant::ALL.into_iter().find(|v| v.name() == name).ok_or_else(|| {
        let names: Vec<&str> = infogan::Variant::ALL.iter().map(|v| v.name()).collect();
        format!("unknown kernel variant {name:?}; choose one of {}", names.join(", "))
    })
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> infogan::Result<Outcome> {
    let gpu_options = GpuOptions { adapter: cli.adapter.clone(), variant: cli.variant };
    match cli.command {
        Command::Devices => commands::devices(cli.adapter.as_deref()),
        Command::Train(args) => train::train(gpu_options, *args),
        Command::Models { model, widths, json } => {
            commands::models(gpu_options, model, widths, json)
        }
        Command::Sample(args) => commands::sample(gpu_options, args),
        Command::Download { dataset, dir, mirror } => commands::download(&dataset, &dir, mirror),
        Command::Eval { checkpoint, data, batch, json } => {
            commands::eval(gpu_options, &checkpoint, data, batch, json)
        }
        Command::Explore { source, port, host, no_open } => {
            let options = infogan::explore::ExploreOptions { source, host, port, open: !no_open };
            explore::explore(gpu_options, options)
        }
        Command::Rank { runs, grid, json } => commands::rank(&runs, grid.as_deref(), json),
        Command::Bench { what } => commands::bench(gpu_options, what),
    }
}
