//! A run folder and the files in it: `config.json`, `metrics.jsonl`, `eval.jsonl`,
//! `probes.jsonl`, `sessions.jsonl`, `checkpoints/step-N.safetensors`, `samples/step-N-*.png` and `report.html`.
//! Every path and every write of a run goes through here, so the training loop reads as a list of
//! steps.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::eval::evaluate::Evaluation;
use crate::files;
use crate::gpu::Gpu;
use crate::io::grid;
use crate::model::config::TrainConfig;
use crate::model::latent::{GridLayout, GridRequest, LatentSpec};
use crate::model::networks::InfoGan;
use crate::nn::layers::BnMode;
use crate::train::checkpoint::{self, Saved};
use crate::train::probe::ProbeReport;
use crate::train::report;
use crate::train::trainer::StepMetrics;

/// Columns of every sample grid.
pub const GRID_COLS: usize = 10;

/// The folder of one run.
#[derive(Clone, Debug)]
pub struct RunFolder {
    root: PathBuf,
}

impl RunFolder {
    pub fn new(root: &Path) -> RunFolder {
        RunFolder { root: root.to_path_buf() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    pub fn evaluations(&self) -> PathBuf {
        self.root.join("eval.jsonl")
    }

    pub fn probes(&self) -> PathBuf {
        self.root.join("probes.jsonl")
    }

    /// One line per start and end of `infogan train` on this run (never rewound).
    pub fn sessions(&self) -> PathBuf {
        self.root.join("sessions.jsonl")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    pub fn samples(&self) -> PathBuf {
        self.root.join("samples")
    }

    pub fn report(&self) -> PathBuf {
        self.root.join("report.html")
    }

    /// Whether a run was already started here (it has logged a step).
    pub fn holds_run(&self) -> bool {
        self.metrics().exists()
    }

    /// The newest checkpoint, if any.
    pub fn newest_checkpoint(&self) -> Option<PathBuf> {
        checkpoint::list(&self.checkpoints()).pop().map(|(_, p)| p)
    }

    /// Readies the folder for training from step `first`: a resumed run's logs are rewound to
    /// its checkpoint (so no step is logged twice), torn checkpoint temporaries are removed and
    /// the configuration is written.
    pub fn prepare(&self, config: &TrainConfig, first: u64) -> Result<()> {
        if first > 0 {
            for log in [self.metrics(), self.evaluations(), self.probes()] {
                rewind_log(&log, first)?;
            }
        }
        let checkpoints = self.checkpoints();
        std::fs::create_dir_all(&checkpoints)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", checkpoints.display())))?;
        checkpoint::remove_stale_temporaries(&checkpoints);
        files::write_atomically(&self.root.join("config.json"), config.to_json().as_bytes())
    }

    pub fn log_metrics(&self, metrics: &StepMetrics) -> Result<()> {
        files::append_line(&self.metrics(), &metrics.json())
    }

    /// One line of eval.jsonl: both batch-norm modes' scores at `step`.
    pub fn log_evaluation(&self, step: u64, [eval, batch_stats]: &[Evaluation; 2]) -> Result<()> {
        let line = serde_json::json!({ "step": step, "eval": eval.json(), "batch_stats": batch_stats.json() });
        files::append_line(&self.evaluations(), &line.to_string())
    }

    pub fn log_session(&self, line: &serde_json::Value) -> Result<()> {
        files::append_line(&self.sessions(), &line.to_string())
    }

    pub fn log_probe(&self, report: &ProbeReport) -> Result<()> {
        let line =
            serde_json::to_string(report).map_err(|e| Error::new(format!("probe report: {e}")))?;
        files::append_line(&self.probes(), &line)
    }

    /// Writes `samples/step-N-{suffix}.png` for every grid of [`grid_requests`].
    pub fn write_grids(
        &self,
        gpu: &Gpu,
        model: &InfoGan,
        config: &TrainConfig,
        step: u64,
    ) -> Result<()> {
        let dir = self.samples();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
        for (suffix, request, mode) in grid_requests(&config.latent, config.seed) {
            let (images, rows) = model.draw_grid(gpu, &config.latent, &request, mode)?;
            grid::write_png(
                &dir.join(format!("step-{step}-{suffix}.png")),
                &images,
                rows,
                request.cols,
                config.network.image,
            )?;
        }
        Ok(())
    }

    /// Writes the checkpoint of `step` and prunes all but the newest `keep`; a checkpoint whose
    /// parameters hold NaN or Inf is not written and the tensor is named instead.
    pub fn save_checkpoint(
        &self,
        gpu: &Gpu,
        model: &InfoGan,
        config: &TrainConfig,
        step: u64,
        keep: usize,
    ) -> Result<std::result::Result<PathBuf, String>> {
        let path = self.checkpoints().join(format!("step-{step}.safetensors"));
        if let Saved::NotFinite(tensor) = checkpoint::save(&path, gpu, model, config, step)? {
            return Ok(Err(tensor));
        }
        checkpoint::prune(&self.checkpoints(), keep)?;
        Ok(Ok(path))
    }

    pub fn write_report(&self) -> Result<()> {
        report::write(&self.root)
    }
}

/// The grids written every `--sample-every` steps, as (file name suffix, request, batch-norm
/// mode): `catJ` per categorical code J (rows = its categories, columns = noise draws; batch norm
/// in eval mode), `cat0-batchstats` (the first of them with G's batch norm on the grid's own
/// statistics, as in training) and `contJ` per continuous code (columns sweep it over [-2, 2]).
/// The noise comes from the run's seed, so grids of different steps are comparable, and each is
/// what `infogan sample --checkpoint RUN` writes with the same layout.
pub fn grid_requests(latent: &LatentSpec, seed: u64) -> Vec<(String, GridRequest, BnMode)> {
    let request = |layout| GridRequest::new(layout, seed, GRID_COLS);
    let mut out = Vec::new();
    for code in 0..latent.categorical.len() {
        out.push((format!("cat{code}"), request(GridLayout::Categories(code)), BnMode::Eval));
        if code == 0 {
            out.push((
                "cat0-batchstats".to_string(),
                request(GridLayout::Categories(0)),
                BnMode::BatchStats,
            ));
        }
    }
    for code in 0..latent.continuous {
        out.push((format!("cont{code}"), request(GridLayout::Sweep(code)), BnMode::Eval));
    }
    out
}

/// Keeps only the JSON lines whose `"step"` is at most `step`.
fn rewind_log(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("step")?.as_u64())
                .is_some_and(|s| s <= step)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    files::write_atomically(path, kept.as_bytes())
}
