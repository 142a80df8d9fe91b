//! How tight are the two bounds as G sees them? Both of InfoGAN's terms are variational lower
//! bounds: B_GAN = ln 2 + E log D(x)/2 + E log(1 - D(G(z)))/2 on I[x; real/fake] = JS(P_data,
//! P_G), and L_I = H(c) + E log Q(c | x) on I[c; x]. D maximises B_GAN and G minimises it (the
//! bound used the wrong way round); Q and G both maximise L_I (the right way). A probe freezes G
//! and trains other discriminators and recognisers on held-out real images against fresh
//! samples for k steps, with the same phase code as training (`phases::d_phase`, Q always
//! included, G's batch norm on batch statistics so G stays exactly as it was):
//!
//! - `copy`: the training D and Q, copied (fresh Adam state), trained further;
//! - `scratch`: a D and Q from a fresh initialisation.
//!
//! The best bounds they reach, against the training networks' own on the same batches (the
//! copy's first step, before its update), estimate each bound's slack: how far G's objective
//! sits below the JS divergence, and below I[c; x].

use rand::RngExt;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::model::config::TrainConfig;
use crate::model::networks::{Discriminator, Generator, InfoGan, Recognizer};
use crate::nn::layers::BnMode;
use crate::train::batches::Batches;
use crate::train::phases::{d_phase, Critics, DPhase, Latents, PhaseScalars, StepContext, Targets};
use crate::train::random::{stream, Purpose};

/// Both bounds on one batch, in nats.
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[allow(non_snake_case)]
pub struct Bounds {
    pub B_GAN: f64,
    pub L_I_cat: f64,
    pub L_I_cont: f64,
}

impl Bounds {
    /// The MI bound over all codes.
    pub fn l_i(&self) -> f64 {
        self.L_I_cat + self.L_I_cont
    }
}

/// What one probe network pair reached over its k steps.
#[derive(Clone, Debug, Serialize)]
#[allow(non_snake_case)]
pub struct Reached {
    /// The largest value over the steps of each bound.
    pub best: Bounds,
    /// The mean of the last five steps (less noise than the best, which favours lucky batches).
    pub last: Bounds,
}

/// One probe at one training step.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    pub step: u64,
    /// Probe steps per network pair.
    pub k: usize,
    /// The training D and Q on the probe's first batches (mean of the copy's first step).
    pub train: Bounds,
    pub copy: Reached,
    pub scratch: Reached,
}

impl ProbeReport {
    /// How much higher the best probe pair pushed each bound than the training networks:
    /// (B_GAN, L_I).
    pub fn slack(&self) -> (f64, f64) {
        let best_gan = self.copy.best.B_GAN.max(self.scratch.best.B_GAN);
        let best_li = self.copy.best.l_i().max(self.scratch.best.l_i());
        (best_gan - self.train.B_GAN, best_li - self.train.l_i())
    }
}

/// Probes `model` (trained `step` steps) for `k` steps per pair on `held_out` batches.
pub fn probe(
    gpu: &Gpu,
    config: &TrainConfig,
    model: &InfoGan,
    held_out: &mut Batches,
    step: u64,
    k: usize,
) -> Result<ProbeReport> {
    if k == 0 {
        return Err(Error::new("--probe-steps must be at least 1"));
    }
    let targets = Targets::new(gpu, config.batch)?;
    let features = model.d.stacks()[0].output_shape()[0];
    let fresh = |purpose_seed: u64| -> Result<(Discriminator, Recognizer)> {
        let seed = config.seed ^ purpose_seed;
        Ok((
            Discriminator::new(gpu, &model.spec, config.leak, seed)?,
            Recognizer::new(
                gpu,
                &model.spec,
                features,
                &config.latent,
                config.learned_std,
                config.leak,
                seed.wrapping_add(2),
            )?,
        ))
    };
    // The copy: the training networks' parameters and running statistics, fresh Adam moments.
    let (mut d, mut q) = fresh(0)?;
    gpu.copy(&model.d.arena.values, &d.arena.values)?;
    gpu.copy(&model.q.arena.values, &q.arena.values)?;
    let sources =
        model.d.stacks().into_iter().chain([model.q.hidden()]).flat_map(|s| s.batch_norms());
    let targets_bn = d.stacks().into_iter().chain([q.hidden()]).flat_map(|s| s.batch_norms());
    for ((_, from), (_, to)) in sources.zip(targets_bn) {
        gpu.copy(&from.running, &to.running)?;
    }
    let first_batch = step * 2 * k as u64;
    let ctx = StepContext { gpu, config, targets: &targets };
    let (copy, train) =
        run_pair(ctx, &model.g, Critics { d: &mut d, q: &mut q }, held_out, first_batch, k)?;
    let (mut d, mut q) = fresh(stream(config.seed, step, Purpose::ProbeInit).random::<u64>())?;
    let critics = Critics { d: &mut d, q: &mut q };
    let (scratch, _) = run_pair(ctx, &model.g, critics, held_out, first_batch + k as u64, k)?;
    Ok(ProbeReport { step, k, train, copy, scratch })
}

/// k D/Q steps of one pair; what it reached, and its first step's bounds.
fn run_pair(
    ctx: StepContext,
    g: &Generator,
    critics: Critics,
    held_out: &mut Batches,
    first_batch: u64,
    k: usize,
) -> Result<(Reached, Bounds)> {
    let StepContext { gpu, config, .. } = ctx;
    let Critics { d, q } = critics;
    let phase = DPhase { with_q: true, g_mode: BnMode::BatchStats, lr: config.optimiser.lr_d };
    let mut seen = Vec::with_capacity(k);
    for s in 0..k as u64 {
        let real = held_out.get(gpu, first_batch + s)?;
        let latents = config
            .latent
            .sample(&mut stream(config.seed, first_batch + s, Purpose::ProbeLatents), config.batch);
        let latents = Latents::upload(gpu, config, &latents)?;
        let scalars = d_phase(ctx, g, Critics { d: &mut *d, q: &mut *q }, real, &latents, phase)?;
        seen.push(read_bounds(gpu, config, &scalars)?);
    }
    let best = Bounds {
        B_GAN: seen.iter().map(|b| b.B_GAN).fold(f64::NEG_INFINITY, f64::max),
        L_I_cat: seen.iter().map(|b| b.L_I_cat).fold(f64::NEG_INFINITY, f64::max),
        L_I_cont: seen.iter().map(|b| b.L_I_cont).fold(f64::NEG_INFINITY, f64::max),
    };
    let tail = &seen[seen.len().saturating_sub(5)..];
    let mean = |f: fn(&Bounds) -> f64| tail.iter().map(f).sum::<f64>() / tail.len() as f64;
    let last = Bounds {
        B_GAN: mean(|b| b.B_GAN),
        L_I_cat: mean(|b| b.L_I_cat),
        L_I_cont: mean(|b| b.L_I_cont),
    };
    Ok((Reached { best, last }, seen[0]))
}

/// The bounds of one D/Q phase's scalars (read before its update was applied).
fn read_bounds(gpu: &Gpu, config: &TrainConfig, scalars: &PhaseScalars) -> Result<Bounds> {
    let mut wanted = vec![&scalars.bce[0], &scalars.bce[1]];
    wanted.extend(scalars.ce.iter());
    wanted.extend(scalars.nll.iter());
    let pending: Vec<_> = wanted.iter().map(|v| gpu.read_later(&v.value)).collect();
    gpu.flush()?;
    let values: Vec<f64> =
        pending.into_iter().map(|r| r.wait(gpu).map(|v| f64::from(v[0]))).collect::<Result<_>>()?;
    let latent = &config.latent;
    let l_i_cat =
        latent.categorical.iter().zip(&values[2..]).map(|(&k, ce)| (k as f64).ln() - ce).sum();
    let l_i_cont = if scalars.nll.is_some() {
        latent.continuous as f64 * 2f64.ln() - values[values.len() - 1]
    } else {
        0.0
    };
    Ok(Bounds {
        B_GAN: 2f64.ln() - 0.5 * (values[0] + values[1]),
        L_I_cat: l_i_cat,
        L_I_cont: l_i_cont,
    })
}
