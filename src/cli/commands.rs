//! The commands other than `train`: devices, models, sample, eval, download, bench.

use std::path::Path;

use infogan::data;
use infogan::gpu::adapter;
use infogan::infogan::config::TrainConfig;
use infogan::infogan::{checkpoint, eval, presets};
use infogan::nn::layers::BnMode;
use infogan::run::Outcome;
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
    println!("MNIST is in {}; train on it with `infogan train --data {}`", dir.display(), dir.display());
    Ok(Outcome::Finished)
}

/// `infogan eval`.
pub fn eval(gpu_options: GpuOptions, checkpoint: &Path, data: Option<String>, batch: usize, json: bool) -> infogan::Result<Outcome> {
    let ckpt = checkpoint::load(&checkpoint::resolve(checkpoint)?)?;
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

/// `J=V` or `V` (code 0).
fn code_value<T: std::str::FromStr>(text: &str, flag: &str) -> infogan::Result<(usize, T)> {
    let bad = || infogan::Error::new(format!("{flag} {text}: expected VALUE or INDEX=VALUE"));
    match text.split_once('=') {
        Some((i, v)) => Ok((i.trim().parse().map_err(|_| bad())?, v.trim().parse().map_err(|_| bad())?)),
        None => Ok((0, text.trim().parse().map_err(|_| bad())?)),
    }
}

pub fn sample(gpu_options: GpuOptions, args: SampleArgs) -> infogan::Result<Outcome> {
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
pub fn models(gpu_options: GpuOptions, model: Option<String>, widths: Option<String>, json: bool) -> infogan::Result<Outcome> {
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
                "lr_d": config.lr_d, "lr_g": config.lr_g, "lambda_cat": config.lambda_cat, "lambda_cont": config.lambda_cont,
            }));
            continue;
        }
        let slots: Vec<String> = preset.widths.iter().map(|(n, v)| format!("{n} {v}")).collect();
        println!("{} ({}; {})", config.model, data::describe(config.network.image), preset.source);
        println!("  latent: {} noise, categorical {:?}, {} continuous", latent.noise, latent.categorical, latent.continuous);
        println!("  widths: {}", slots.join(", "));
        println!("  Adam lr D {} / G {}; information terms weighted {} (categorical), {} (continuous)", config.lr_d, config.lr_g, config.lambda_cat, config.lambda_cont);
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

pub fn bench(gpu_options: GpuOptions, what: BenchWhat) -> infogan::Result<Outcome> {
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
