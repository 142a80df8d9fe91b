//! The `infogan` command line.

use clap::{Parser, Subcommand};

use infogan::gpu::adapter;
use infogan::{bench, Gpu, GpuOptions};

#[derive(Parser)]
#[command(name = "infogan", version, about = "InfoGAN on any GPU through hand-written WGSL kernels")]
struct Cli {
    /// Use the adapter whose name contains this text (case-insensitive); see `infogan devices`.
    #[arg(long, global = true)]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every adapter wgpu sees, with the limits that matter here.
    Devices,
    /// Train InfoGAN (the paper's MNIST model) and log both bounds to OUT/metrics.jsonl.
    Train {
        /// `mnist` (10,000 embedded digits; the last 2,000 held out), `fashion`, or a folder of IDX files.
        #[arg(long, default_value = "mnist")]
        data: String,
        #[arg(long, default_value_t = 1000)]
        steps: u64,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Run folder; must not already hold a run.
        #[arg(long, default_value = "runs/mnist")]
        out: std::path::PathBuf,
        /// Read back and log the scalars every this many steps.
        #[arg(long, default_value_t = 10)]
        log_every: u64,
        /// Write sample grids to OUT/samples every this many steps (and at the end).
        #[arg(long, default_value_t = 100)]
        sample_every: u64,
        /// LeakyReLU slope (paper 0.1, official code 0.01).
        #[arg(long, default_value_t = 0.1)]
        leak: f32,
        /// Q learns a std per continuous code (paper) instead of std 1 (official code).
        #[arg(long)]
        learned_std: bool,
    },
    /// Measure kernels on the chosen adapter.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
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
    /// The paper's four conv / transposed-conv layers: forward, input and weight gradients.
    Conv {
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        #[arg(long)]
        json: bool,
        /// Batch sizes to measure.
        #[arg(long, value_delimiter = ',', default_value = "64,128")]
        batch: Vec<usize>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(error) = run(cli) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> infogan::Result<()> {
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
                let variant = infogan::Variant::for_device_type(info.device_type);
                println!("{mark}{}\n  kernel variant: {}", adapter::describe(a), variant.name());
            }
            println!("(* = the adapter commands use; --adapter NAME or WGPU_ADAPTER_NAME picks another)");
            chosen.map(|_| ())
        }
        Command::Train { data, steps, batch, seed, out, log_every, sample_every, leak, learned_std } => {
            if steps == 0 {
                return Err(infogan::Error::new("--steps must be at least 1"));
            }
            let gpu = Gpu::new(&GpuOptions { adapter: cli.adapter, variant: None })?;
            let mut config = infogan::infogan::train::TrainConfig::paper(batch, seed);
            config.leak = leak;
            config.learned_std = learned_std;
            infogan::run::train(&gpu, &data, config, steps, log_every.max(1), sample_every.max(1), &out)
        }
        Command::Bench { what: BenchWhat::Matmul { repeats, json, quick } } => {
            if repeats == 0 {
                return Err(infogan::Error::new("--repeats must be at least 1"));
            }
            let gpu = Gpu::new(&GpuOptions { adapter: cli.adapter, variant: None })?;
            let results = bench::bench_matmul(&gpu, repeats, quick)?;
            bench::print_report(&gpu, "matmul", &results, json);
            Ok(())
        }
        Command::Bench { what: BenchWhat::Conv { repeats, json, batch } } => {
            if repeats == 0 || batch.contains(&0) {
                return Err(infogan::Error::new("--repeats and every --batch must be at least 1"));
            }
            let gpu = Gpu::new(&GpuOptions { adapter: cli.adapter, variant: None })?;
            let results = bench::bench_conv(&gpu, repeats, &batch)?;
            bench::print_report(&gpu, "conv", &results, json);
            Ok(())
        }
    }
}
