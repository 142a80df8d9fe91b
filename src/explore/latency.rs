//! `infogan bench explore`: how long the page waits for a grid. A freshly initialised model of
//! the chosen preset is written as a checkpoint (the time does not depend on the weights), the
//! explorer serves it on a free loopback port from its own thread, and a client posts the page's
//! main request (a 10x10 grid, one slider moved each time) and times each answer end to end: HTTP,
//! JSON, G on the GPU, read-back and PNG encoding.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::explore::{bind, serve, Explorer};
use crate::gpu::{Gpu, GpuOptions};
use crate::model::config::TrainConfig;
use crate::model::networks::InfoGan;
use crate::model::presets::Model;
use crate::train::checkpoint;

/// Round trips of one model's grid requests, in milliseconds.
#[derive(Clone, Debug)]
pub struct Latency {
    pub model: Model,
    pub adapter: String,
    /// Images per grid.
    pub images: usize,
    pub times_ms: Vec<f64>,
}

impl Latency {
    /// The `q`-quantile (0..1) of the times, nearest rank.
    pub fn quantile(&self, q: f64) -> f64 {
        let mut t = self.times_ms.clone();
        t.sort_by(f64::total_cmp);
        let rank = ((q * t.len() as f64).ceil() as usize).clamp(1, t.len().max(1));
        t.get(rank - 1).copied().unwrap_or(f64::NAN)
    }

    pub fn json(&self) -> serde_json::Value {
        let round = |v: f64| crate::json::round(v, 2);
        serde_json::json!({
            "model": self.model.name(), "adapter": self.adapter, "images": self.images, "requests": self.times_ms.len(),
            "median_ms": round(self.quantile(0.5)), "p95_ms": round(self.quantile(0.95)),
            "min_ms": round(self.quantile(0.0)), "max_ms": round(self.quantile(1.0)),
        })
    }
}

/// `requests` timed grid requests (after two untimed ones that compile the kernels) for `model`.
pub fn measure(gpu_options: &GpuOptions, model: Model, requests: usize) -> Result<Latency> {
    let dir = std::env::temp_dir().join(format!("infogan-explore-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("step-0.safetensors");
    let config = TrainConfig::for_preset(model, 64, 0);
    {
        let gpu = Gpu::new(gpu_options)?;
        checkpoint::save(&path, &gpu, &InfoGan::new(&gpu, &config)?, &config, 0)?;
    }
    let explorer = Explorer::new(Gpu::new(gpu_options)?, &path)?;
    let adapter = explorer.adapter_name();
    let (server, addr) = bind([127, 0, 0, 1].into(), 0)?;
    let url = format!("http://{addr}/api/grid");
    let categories = vec![0; config.latent.categorical.len()];
    // The GPU stays on this thread, serving; the client runs beside it and stops the server.
    let times = std::thread::scope(|scope| {
        let client = scope.spawn(|| {
            let result = (0..requests + 2)
                .map(|i| {
                    let slider = -2.0 + 4.0 * (i % 41) as f64 / 40.0;
                    let body = if config.latent.continuous == 0 {
                        serde_json::json!({ "seed": i, "rows": 10, "cols": 10 })
                    } else {
                        serde_json::json!({ "seed": 7, "rows": 10, "cols": 10, "categories": categories, "continuous": [slider] })
                    };
                    let started = Instant::now();
                    let failed = |e: ureq::Error| Error::new(format!("grid request: {e}"));
                    let mut response = ureq::post(&url).content_type("application/json").send(body.to_string()).map_err(failed)?;
                    response.body_mut().read_to_vec().map_err(failed)?;
                    Ok(started.elapsed().as_secs_f64() * 1e3)
                })
                .collect::<Result<Vec<f64>>>();
            server.unblock();
            result
        });
        serve(&explorer, &server);
        client.join().unwrap_or_else(|_| Err(Error::new("the benchmark's client stopped")))
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Latency { model, adapter, images: 100, times_ms: times[2..].to_vec() })
}
