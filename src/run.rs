//! `infogan train`: the loop around the training step, the run folder and the progress line.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rand::SeedableRng;

use crate::data;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::infogan::train::{TrainConfig, Trainer};
use crate::io::grid;
use crate::nn::layers::BnMode;

/// Columns of every sample grid.
const GRID_COLS: usize = 10;

/// `OUT/samples/step-N-cat.png` (rows = categories, columns = fixed noise; batch norm in eval
/// mode), `step-N-cat-batchstats.png` (the same latents, batch statistics), and one
/// `step-N-contJ.png` per continuous code (columns sweep it over [-2, 2]). The latents come from
/// a fixed seed, so grids of different steps are comparable.
fn write_grids(trainer: &Trainer, out: &Path, step: u64) -> Result<()> {
    let dir = out.join("samples");
    std::fs::create_dir_all(&dir).map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    let spec = trainer.config.latent.clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(trainer.config.seed ^ 0x5eed);
    let (z, rows) = spec.category_grid(&mut rng, GRID_COLS);
    grid::write_png(&dir.join(format!("step-{step}-cat.png")), &trainer.generate(&z)?, rows, GRID_COLS)?;
    // The same latents with G's batch norm on the grid's own statistics, as during training.
    let batch_stats = trainer.generate_with(&z, BnMode::BatchStats)?;
    grid::write_png(&dir.join(format!("step-{step}-cat-batchstats.png")), &batch_stats, rows, GRID_COLS)?;
    for code in 0..spec.continuous {
        let (z, rows) = spec.continuous_sweep(&mut rng, code, GRID_COLS);
        grid::write_png(&dir.join(format!("step-{step}-cont{code}.png")), &trainer.generate(&z)?, rows, GRID_COLS)?;
    }
    Ok(())
}

pub fn train(gpu: &Gpu, data_spec: &str, config: TrainConfig, steps: u64, log_every: u64, sample_every: u64, out: &Path) -> Result<()> {
    let split = data::load(data_spec)?;
    let batch = config.batch;
    // Settings are checked (and the model built) before anything is written.
    let mut trainer = Trainer::new(gpu, config, &split.train)?;
    let metrics_path = out.join("metrics.jsonl");
    if metrics_path.exists() {
        return Err(Error::new(format!("{} already holds a run; choose another --out", out.display())));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::new(format!("cannot create {}: {e}", out.display())))?;
    let mut log = std::fs::File::create(&metrics_path).map_err(|e| Error::new(format!("cannot write {}: {e}", metrics_path.display())))?;
    println!(
        "training InfoGAN on {} ({} images, {} held out) with {}; kernel variant {}",
        split.train.name,
        split.train.len(),
        split.eval.len(),
        gpu.adapter_name(),
        gpu.variant.name()
    );
    let start = Instant::now();
    for step in 1..=steps {
        let read = step % log_every == 0 || step % sample_every == 0 || step == steps || step == 1;
        let Some(mut metrics) = trainer.step(read)? else { continue };
        let elapsed = start.elapsed().as_secs_f64();
        metrics.samples_per_s = (step as usize * batch) as f64 / elapsed;
        if !metrics.is_finite() {
            return Err(Error::new(format!(
                "training diverged at step {step} (NaN or Inf in the losses); metrics up to the last good step are in {}",
                metrics_path.display()
            )));
        }
        writeln!(log, "{}", metrics.json()).map_err(|e| Error::new(format!("cannot write {}: {e}", metrics_path.display())))?;
        let eta = elapsed / step as f64 * (steps - step) as f64;
        println!(
            "step {step:>6}/{steps}  B_GAN {:+.3}  L_I_cat {:.3}  L_I_cont {:+.3}  D(x) {:.2}  D(G(z)) {:.2}  {:.1} samples/s  ETA {:.0}s",
            metrics.b_gan, metrics.l_i_cat, metrics.l_i_cont, metrics.d_real[0], metrics.d_fake[0], metrics.samples_per_s, eta
        );
        if step % sample_every == 0 || step == steps {
            write_grids(&trainer, out, step)?;
        }
    }
    println!("done: {} steps in {:.1}s; metrics in {}", steps, start.elapsed().as_secs_f64(), metrics_path.display());
    Ok(())
}
