//! The commands other than `train`: devices, models, sample, eval, download, bench.

use std::path::Path;

use infogan::data;
use infogan::eval::evaluate as eval;
use infogan::gpu::adapter;
use infogan::model::config::TrainConfig;
use infogan::model::latent::{GridLayout, GridRequest};
use infogan::model::networks::InfoGan;
use infogan::model::presets::{self, Model};
use infogan::nn::layers::BnMode;
use infogan::train::checkpoint;
use infogan::train::run::Outcome;
use infogan::train::step_bench;
use infogan::{bench, Gpu, GpuOptions};

use crate::cli::{BenchWhat, SampleArgs};

/// `infogan devices`: every adapter wgpu sees, the one commands use, the backends and their tests.
pub fn devices(name_filter: Option<&str>) -> infogan::Result<Outcome> {
    let instance = adapter::instance();
    let adapters = adapter::all_adapters(&instance);
    if adapters.is_empty() {
        return Err(infogan::Error::new(adapter::NO_ADAPTER_HELP));
    }
    let chosen = adapter::choose(&instance, name_filter).map(|a| a.get_info());
    for a in &adapters {
        let info = a.get_info();
        let mark = if chosen.as_ref().is_ok_and(|c| *c == info) { "* " } else { "  " };
        let variant = infogan::Variant::for_adapter(a);
        println!("{mark}{}\n  kernel variant: {}", adapter::describe(a), variant.name());
    }
    println!("(* = the adapter commands use; --adapter NAME, WGPU_ADAPTER_NAME or WGPU_BACKEND picks another)");
    println!("{}", adapter::BACKENDS);
    chosen.map(|_| Outcome::Finished)
}

/// `infogan download DATASET DIR`.
pub fn download(dataset: &str, dir: &Path, mirror: Vec<String>) -> infogan::Result<Outcome> {
    let mut manifest = match dataset {
        "mnist" => infogan::data::download::Manifest::mnist(),
        other => return Err(infogan::Error::new(format!("unknown dataset `{other}`; `infogan download mnist DIR` fetches MNIST (Fashion-MNIST: apt-get install dataset-fashion-mnist)"))),
    };
    if !mirror.is_empty() {
        manifest.mirrors = mirror;
    }
    infogan::data::download::download(&manifest, dir, &mut |line| println!("{line}"))?;
    println!(
        "MNIST is in {}; train on it with `infogan train --data {}`",
        dir.display(),
        dir.display()
    );
    Ok(Outcome::Finished)
}

/// `infogan eval`.
pub fn eval(
    gpu_options: GpuOptions,
    checkpoint: &Path,
    data: Option<String>,
    batch: usize,
    json: bool,
) -> infogan::Result<Outcome> {
    let ckpt = checkpoint::load(&checkpoint::resolve(checkpoint)?)?;
    let gpu = Gpu::new(&gpu_options)?;
    let model = ckpt.model(&gpu)?;
    let spec = data.unwrap_or_else(|| ckpt.config.data.clone());
    if batch < 2 {
        return Err(infogan::Error::new(
            "--batch must be at least 2 (batch statistics need two images)",
        ));
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
        println!(
            "{} (step {}) on {} with {}",
            ckpt.path.display(),
            ckpt.step,
            held_out.name,
            gpu.adapter_name()
        );
        if held_out.labels.is_empty() {
            println!("(these images have no labels: each code's usage only)");
        }
        for r in &reports {
            println!("{}", r.text());
        }
    }
    Ok(Outcome::Finished)
}

/// `J=V` or `V` (code 0).
fn code_value<T: std::str::FromStr>(text: &str, flag: &str) -> infogan::Result<(usize, T)> {
    let bad = || infogan::Error::new(format!("{flag} {text}: expected VALUE or INDEX=VALUE"));
    match text.split_once('=') {
        Some((i, v)) => {
            Ok((i.trim().parse().map_err(|_| bad())?, v.trim().parse().map_err(|_| bad())?))
        }
        None => Ok((0, text.trim().parse().map_err(|_| bad())?)),
    }
}

pub fn sample(gpu_options: GpuOptions, args: SampleArgs) -> infogan::Result<Outcome> {
    let mode = match args.bn.as_str() {
        "eval" => BnMode::Eval,
        "batch-stats" => BnMode::BatchStats,
        other => {
            return Err(infogan::Error::new(format!("--bn {other}: use `eval` or `batch-stats`")))
        }
    };
    if args.cols == 0 || args.cols > 100 {
        return Err(infogan::Error::new("--cols must be between 1 and 100"));
    }
    let ckpt = checkpoint::load(&checkpoint::resolve(&args.checkpoint)?)?;
    let spec = &ckpt.config.latent;
    let categories = args
        .cat
        .iter()
        .map(|t| code_value::<usize>(t, "--cat"))
        .collect::<infogan::Result<Vec<_>>>()?;
    let continuous = args
        .cont
        .iter()
        .map(|t| code_value::<f32>(t, "--cont"))
        .collect::<infogan::Result<Vec<_>>>()?;
    let first_fixed = categories.iter().any(|&(code, _)| code == 0);
    let layout = match (args.vary_cat, args.sweep) {
        (Some(code), _) => GridLayout::Categories(code),
        (None, Some(code)) => GridLayout::Sweep(code),
        (None, None) if !spec.categorical.is_empty() && !first_fixed => GridLayout::Categories(0),
        (None, None) => GridLayout::Noise,
    };
    let request = GridRequest {
        layout,
        categories,
        continuous,
        seed: args.seed.unwrap_or(ckpt.config.seed),
        cols: args.cols,
        noise_rows: args.noise_rows,
    };
    let (_, rows) = spec
        .grid(&request)
        .map_err(|e| infogan::Error::new(format!("{e} (see `infogan sample --help`)")))?;
    let gpu = Gpu::new(&gpu_options)?;
    let model = ckpt.model(&gpu)?;
    let (images, _) = model.draw_grid(&gpu, spec, &request, mode)?;
    infogan::io::grid::write_png(&args.out, &images, rows, args.cols, ckpt.config.network.image)?;
    println!(
        "wrote {} ({rows}x{} samples from {}, step {})",
        args.out.display(),
        args.cols,
        ckpt.path.display(),
        ckpt.step
    );
    Ok(Outcome::Finished)
}

/// `infogan models`.
pub fn models(
    gpu_options: GpuOptions,
    model: Option<Model>,
    widths: Option<String>,
    json: bool,
) -> infogan::Result<Outcome> {
    let models: Vec<Model> = model.map_or_else(|| Model::ALL.to_vec(), |m| vec![m]);
    let mut configs = Vec::new();
    for &model in &models {
        let mut config = TrainConfig::for_preset(model, 64, 0);
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
        let preset = presets::preset(config.model, Some(&config.widths))?;
        let model = infogan::model::networks::InfoGan::new(&gpu, &config)?;
        let params: Vec<usize> =
            model.arenas().iter().map(|a| a.layout.slots.iter().map(|s| s.len()).sum()).collect();
        let gflop = model.step_flops_per_image() * 1e-9;
        let latent = &config.latent;
        if json {
            rows.push(serde_json::json!({
                "model": config.model, "image": config.network.image, "noise": latent.noise, "categorical": latent.categorical, "continuous": latent.continuous,
                "widths": config.widths, "parameters": {"G": params[0], "D": params[1], "Q": params[2]}, "step_gflop_per_image": gflop,
                "layers": config.network.summary(), "source": preset.source, "paper": preset.paper_result,
                "lr_d": config.optimiser.lr_d, "lr_g": config.optimiser.lr_g, "lambda_cat": config.optimiser.lambda_cat, "lambda_cont": config.optimiser.lambda_cont,
            }));
            continue;
        }
        let slots: Vec<String> = preset.widths.iter().map(|(n, v)| format!("{n} {v}")).collect();
        println!("{} ({}; {})", config.model, data::describe(config.network.image), preset.source);
        println!(
            "  latent: {} noise, categorical {:?}, {} continuous",
            latent.noise, latent.categorical, latent.continuous
        );
        println!("  widths: {}", slots.join(", "));
        println!(
            "  Adam lr D {} / G {}; information terms weighted {} (categorical), {} (continuous)",
            config.optimiser.lr_d,
            config.optimiser.lr_g,
            config.optimiser.lambda_cat,
            config.optimiser.lambda_cont
        );
        for line in config.network.summary() {
            println!("  {line}");
        }
        println!(
            "  parameters: G {}, D {}, Q {}; a D+G step: {gflop:.3} GFLOP per image (napkin count)",
            params[0], params[1], params[2]
        );
        println!("  the paper: {}", preset.paper_result);
    }
    if json {
        println!("{}", serde_json::Value::from(rows));
    }
    Ok(Outcome::Finished)
}

pub fn bench(gpu_options: GpuOptions, what: BenchWhat) -> infogan::Result<Outcome> {
    match &what {
        BenchWhat::Matmul { repeats: 0, .. } => {
            return Err(infogan::Error::new("--repeats must be at least 1"))
        }
        BenchWhat::Matmul { .. } => {}
        BenchWhat::Step { common, .. } => common.check(2)?,
        BenchWhat::Kernels(args) | BenchWhat::Conv(args) => args.check(1)?,
        BenchWhat::Explore { requests: 0, .. } => {
            return Err(infogan::Error::new("--requests must be at least 1"))
        }
        BenchWhat::Explore { .. } => {}
    }
    let gpu = Gpu::new(&gpu_options)?;
    match what {
        BenchWhat::Matmul { repeats, json, quick } => {
            bench::print_report(&gpu, "matmul", &bench::bench_matmul(&gpu, repeats, quick)?, json)
        }
        BenchWhat::Kernels(a) => {
            let (cases, timestamps) = bench::bench_kernels(
                &gpu,
                a.repeats,
                &a.batch,
                &InfoGan::new(&gpu, &TrainConfig::paper(64, 0))?.arena_sizes(),
            )?;
            bench::print_kernels_report(&gpu, &cases, timestamps, a.json);
        }
        BenchWhat::Step { common: a, by_grid, model } => {
            let results = a
                .batch
                .iter()
                .map(|&b| step_bench::bench_step(&gpu, model, a.repeats, b))
                .collect::<infogan::Result<Vec<_>>>()?;
            step_bench::print_step_report(&gpu, &results, a.json, by_grid);
        }
        BenchWhat::Conv(a) => {
            bench::print_conv_report(&gpu, &bench::bench_conv(&gpu, a.repeats, &a.batch)?, a.json)
        }
        BenchWhat::Explore { model, requests, json } => {
            // The explorer makes its own GPU runtime; this one is not needed.
            drop(gpu);
            let latency = infogan::explore::latency::measure(&gpu_options, model, requests)?;
            if json {
                println!("{}", latency.json());
            } else {
                println!(
                    "explorer on {}: {} grid of {} images over HTTP: median {:.1} ms, 95th percentile {:.1} ms over {} requests",
                    latency.adapter,
                    model,
                    latency.images,
                    latency.quantile(0.5),
                    latency.quantile(0.95),
                    latency.times_ms.len()
                );
            }
        }
    }
    Ok(Outcome::Finished)
}

/// `infogan rank RUN..`: the runs best first by the label-free score, the pick's grid, and
/// where the data has labels, the pick against the most accurate run and each label-free
/// score's rank correlation with accuracy.
pub fn rank(
    dirs: &[std::path::PathBuf],
    grid: Option<&Path>,
    json: bool,
) -> infogan::Result<Outcome> {
    use infogan::eval::ranking::{self, RankedRun};
    let runs = ranking::rank(dirs)?;
    let pick = &runs[0];
    let labelled = runs.iter().all(|r| r.accuracy.is_some());
    let best = labelled
        .then(|| {
            runs.iter()
                .max_by(|a, b| a.accuracy.unwrap_or(0.0).total_cmp(&b.accuracy.unwrap_or(0.0)))
        })
        .flatten();
    let accuracy: Vec<f64> = runs.iter().map(|r| r.accuracy.unwrap_or(0.0)).collect();
    let correlation = |score: &dyn Fn(&RankedRun) -> Option<f64>| -> Option<f64> {
        let values: Option<Vec<f64>> = runs.iter().map(score).collect();
        if labelled {
            ranking::spearman(&values?, &accuracy)
        } else {
            None
        }
    };
    let correlations = [
        ("posterior_information", correlation(&|r| Some(r.posterior_information))),
        ("confidence", correlation(&|r| Some(r.confidence))),
        ("usage", correlation(&|r| Some(r.usage))),
        ("bound", correlation(&|r| r.bound)),
    ];
    if let (Some(grid), Some(source)) = (grid, &pick.grid) {
        infogan::files::write_atomically(
            grid,
            &std::fs::read(source)
                .map_err(|e| infogan::Error::new(format!("{}: {e}", source.display())))?,
        )?;
    } else if grid.is_some() {
        return Err(infogan::Error::new(format!(
            "{} has no categorical grid in samples/ to copy",
            pick.dir.display()
        )));
    }
    if json {
        let round = |v: f64| (v * 1e5).round() / 1e5;
        let rows: Vec<serde_json::Value> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::json!({
                    "rank": i + 1, "run": r.dir.display().to_string(), "step": r.step,
                    "posterior_information": round(r.posterior_information), "ceiling": round(r.ceiling),
                    "confidence": round(r.confidence), "usage": round(r.usage), "bound": r.bound.map(round),
                    "accuracy": r.accuracy, "nmi": r.nmi,
                    "grid": r.grid.as_ref().map(|g| g.display().to_string()),
                })
            })
            .collect();
        let spearman: serde_json::Map<String, serde_json::Value> = correlations
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v.map(round))))
            .collect();
        let out = serde_json::json!({
            "model": pick.model,
            "score": "posterior_information",
            "runs": rows,
            "pick": pick.dir.display().to_string(),
            "best_by_accuracy": best.map(|b| b.dir.display().to_string()),
            "spearman_with_accuracy": labelled.then_some(spearman),
        });
        println!("{out}");
        return Ok(Outcome::Finished);
    }
    println!("{} runs of {}, best first by Q's information about real held-out images (label-free; nats, at most {:.3}):", runs.len(), pick.model, pick.ceiling);
    let width = runs.iter().map(|r| r.dir.display().to_string().len()).max().unwrap_or(3).max(3);
    let mut header = format!(
        "  rank  {:<width$}  {:>6}  {:>6}  {:>10}  {:>6}  {:>7}",
        "run", "step", "score", "confidence", "usage", "L_I_cat"
    );
    if labelled {
        header += &format!("  {:>8}  {:>5}", "accuracy", "NMI");
    }
    println!("{header}");
    for (i, r) in runs.iter().enumerate() {
        let bound = r.bound.map_or("-".into(), |b| format!("{b:.3}"));
        let mut line = format!(
            "  {:>4}  {:<width$}  {:>6}  {:>6.3}  {:>10.3}  {:>6.3}  {:>7}",
            i + 1,
            r.dir.display().to_string(),
            r.step,
            r.posterior_information,
            r.confidence,
            r.usage,
            bound
        );
        if let (Some(a), Some(n)) = (r.accuracy, r.nmi) {
            line += &format!("  {:>7.1}%  {:>5.3}", 100.0 * a, n);
        }
        println!("{line}");
    }
    let (first, last) =
        runs.iter().fold((u64::MAX, 0), |(lo, hi), r| (lo.min(r.step), hi.max(r.step)));
    if first != last {
        println!(
            "note: the newest evaluations are at steps {first} to {last}; a run that trained longer scores higher for that alone, so compare runs at one step"
        );
    }
    match &pick.grid {
        Some(g) => println!(
            "pick: {} (its newest grid: {})",
            pick.dir.display(),
            grid.unwrap_or(g).display()
        ),
        None => println!("pick: {} (it wrote no grid)", pick.dir.display()),
    }
    if let Some(best) = best {
        if best.dir == pick.dir {
            println!(
                "with labels: the pick is also the most accurate run ({:.1}%)",
                100.0 * best.accuracy.unwrap_or(0.0)
            );
        } else {
            println!(
                "with labels: the pick is not the most accurate run: {} is ({:.1}% against the pick's {:.1}%)",
                best.dir.display(),
                100.0 * best.accuracy.unwrap_or(0.0),
                100.0 * pick.accuracy.unwrap_or(0.0)
            );
        }
        let shown: Vec<String> = correlations
            .iter()
            .map(|(k, v)| format!("{k} {}", v.map_or("-".into(), |v| format!("{v:+.2}"))))
            .collect();
        println!(
            "Spearman rank correlation with accuracy over {} runs: {}",
            runs.len(),
            shown.join(", ")
        );
    }
    Ok(Outcome::Finished)
}
