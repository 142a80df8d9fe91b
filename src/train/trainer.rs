//! The training loop's unit: one InfoGAN step (a D/Q phase and a G phase, `phases`) recorded and
//! submitted together, and the scalars it logs (`StepMetrics`, both bounds). Which arenas a phase
//! steps is the wiring: the official code's (Q stepped with D, the MI term in both losses) or
//! Q stepped with G.

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};
use crate::json::round;
use crate::model::config::{TrainConfig, Wiring};
use crate::model::latent::LatentBatch;
use crate::model::networks::InfoGan;
use crate::nn::layers::BnMode;
use crate::tape::Var;
use crate::train::batches::Batches;
use crate::train::phases::{self, Critics, DPhase, Latents, PhaseScalars, StepContext, Targets};
use crate::train::random::{stream, Purpose};

/// Everything one logged step reports, in nats where it is a bound.
#[derive(Clone, Debug, Default)]
pub struct StepMetrics {
    pub step: u64,
    pub bce_real: f64,
    pub bce_fake: f64,
    pub loss_d: f64,
    pub loss_g: f64,
    /// ln 2 - (BCE_real + BCE_fake) / 2: the GAN's variational bound on I[x; real/fake].
    pub b_gan: f64,
    /// Sum over categorical codes of ln K - cross-entropy.
    pub l_i_cat: f64,
    /// Sum over continuous codes of ln 2 - NLL.
    pub l_i_cont: f64,
    pub d_real: [f64; 3],
    pub d_fake: [f64; 3],
    /// Range of Q's std over the batch, when learned.
    pub q_std: Option<[f64; 2]>,
    pub samples_per_s: f64,
}

impl StepMetrics {
    /// One line of metrics.jsonl (bounds and losses to 6 decimals, D's outputs to 5).
    pub fn json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Stats {
            mean: f64,
            min: f64,
            max: f64,
        }
        #[derive(serde::Serialize)]
        #[allow(non_snake_case)]
        struct Line {
            step: u64,
            B_GAN: f64,
            L_I_cat: f64,
            L_I_cont: f64,
            loss_D: f64,
            loss_G: f64,
            bce_real: f64,
            bce_fake: f64,
            D_real: Stats,
            D_fake: Stats,
            Q_std: Option<[f64; 2]>,
            samples_per_s: f64,
        }
        let stats =
            |s: [f64; 3]| Stats { mean: round(s[0], 5), min: round(s[1], 5), max: round(s[2], 5) };
        let line = Line {
            step: self.step,
            B_GAN: round(self.b_gan, 6),
            L_I_cat: round(self.l_i_cat, 6),
            L_I_cont: round(self.l_i_cont, 6),
            loss_D: round(self.loss_d, 6),
            loss_G: round(self.loss_g, 6),
            bce_real: round(self.bce_real, 6),
            bce_fake: round(self.bce_fake, 6),
            D_real: stats(self.d_real),
            D_fake: stats(self.d_fake),
            Q_std: self.q_std.map(|[lo, hi]| [round(lo, 5), round(hi, 5)]),
            samples_per_s: round(self.samples_per_s, 3),
        };
        serde_json::to_string(&line).unwrap_or_default()
    }

    pub fn is_finite(&self) -> bool {
        [self.loss_d, self.loss_g, self.b_gan, self.l_i_cat, self.l_i_cont]
            .iter()
            .all(|v| v.is_finite())
    }
}

pub struct Trainer<'g> {
    gpu: &'g Gpu,
    pub config: TrainConfig,
    pub model: InfoGan,
    /// The training images, batch by batch.
    batches: Batches,
    targets: Targets,
    /// Steps completed.
    pub step: u64,
}

impl<'g> Trainer<'g> {
    pub fn new(gpu: &'g Gpu, config: TrainConfig, data: &Dataset) -> Result<Trainer<'g>> {
        Self::check(&config, data)?;
        let model = InfoGan::new(gpu, &config)?;
        Self::with_model(gpu, config, model, 0, data)
    }

    /// Continues from a checkpoint: the same networks, Adam state and step.
    pub fn resume(
        gpu: &'g Gpu,
        checkpoint: &crate::train::checkpoint::Checkpoint,
        data: &Dataset,
    ) -> Result<Trainer<'g>> {
        Self::check(&checkpoint.config, data)?;
        let model = checkpoint.model(gpu)?;
        Self::with_model(gpu, checkpoint.config.clone(), model, checkpoint.step, data)
    }

    fn check(config: &TrainConfig, data: &Dataset) -> Result<()> {
        if data.images.shape() != config.network.image {
            return Err(Error::new(format!(
                "{} holds {} images; the {} network takes {}",
                data.name,
                crate::data::describe(data.images.shape()),
                config.model,
                crate::data::describe(config.network.image)
            )));
        }
        if config.batch == 0 || config.batch > data.len() {
            return Err(Error::new(format!(
                "batch {} must be between 1 and the {} training images",
                config.batch,
                data.len()
            )));
        }
        if config.batch < 2 {
            return Err(Error::new("batch norm needs a batch of at least 2"));
        }
        Ok(())
    }

    fn with_model(
        gpu: &'g Gpu,
        config: TrainConfig,
        model: InfoGan,
        step: u64,
        data: &Dataset,
    ) -> Result<Trainer<'g>> {
        model.check_batch(gpu, config.batch, "a training batch")?;
        let targets = Targets::new(gpu, config.batch)?;
        let batches = Batches::new(
            gpu,
            data,
            config.network.pixel_range(),
            config.batch,
            config.seed,
            Purpose::DataOrder,
        )?;
        Ok(Trainer { gpu, batches, targets, step, config, model })
    }

    /// The current step's real batch and the latents of its two phases.
    fn inputs(&mut self) -> Result<(Tensor, LatentBatch, LatentBatch)> {
        Ok((
            self.batches.get(self.gpu, self.step)?,
            self.latents(Purpose::LatentsD),
            self.latents(Purpose::LatentsG),
        ))
    }

    fn latents(&self, purpose: Purpose) -> LatentBatch {
        self.config
            .latent
            .sample(&mut stream(self.config.seed, self.step, purpose), self.config.batch)
    }

    /// D (and, with the official wiring, Q) on real images and G's detached fakes.
    fn d_phase(&mut self, real: Tensor, latents: &LatentBatch) -> Result<PhaseScalars> {
        let latents = Latents::upload(self.gpu, &self.config, latents)?;
        let phase = DPhase {
            with_q: self.config.wiring == Wiring::Official,
            g_mode: BnMode::Train,
            lr: self.config.optimiser.lr_d,
        };
        let ctx = StepContext { gpu: self.gpu, config: &self.config, targets: &self.targets };
        let m = &mut self.model;
        phases::d_phase(ctx, &m.g, Critics { d: &mut m.d, q: &mut m.q }, real, &latents, phase)
    }

    /// G (and, with the Q-with-G wiring, Q) on fresh latents; D's parameters frozen.
    fn g_phase(&mut self, latents: &LatentBatch) -> Result<PhaseScalars> {
        let latents = Latents::upload(self.gpu, &self.config, latents)?;
        let ctx = StepContext { gpu: self.gpu, config: &self.config, targets: &self.targets };
        let m = &mut self.model;
        phases::g_phase(
            ctx,
            &mut m.g,
            &m.d,
            &mut m.q,
            &latents,
            self.config.wiring == Wiring::QWithG,
        )
    }

    /// One D/Q step and one G step, recorded and submitted together. With `read`, waits for the
    /// GPU and returns the logged scalars.
    pub fn step(&mut self, read: bool) -> Result<Option<StepMetrics>> {
        let (real, latents_d, latents_g) = self.inputs()?;
        self.step_on(real, &latents_d, &latents_g, read)
    }

    /// One step with a wait after each phase: (D/Q phase ms, G phase ms), wall clock, including
    /// recording and the batch upload. The waits cost the overlap a normal step has.
    pub fn timed_step(&mut self) -> Result<[f64; 2]> {
        let start = std::time::Instant::now();
        let (real, latents_d, latents_g) = self.inputs()?;
        self.d_phase(real, &latents_d)?;
        self.gpu.wait()?;
        let d = start.elapsed().as_secs_f64() * 1e3;
        let start = std::time::Instant::now();
        self.g_phase(&latents_g)?;
        self.gpu.wait()?;
        self.step += 1;
        Ok([d, start.elapsed().as_secs_f64() * 1e3])
    }

    /// One step on given inputs: real images [B, C*H*W] in the network's pixel range and the
    /// latents of each phase (the parity test feeds PyTorch's).
    pub fn step_with(
        &mut self,
        real: &[f32],
        latents_d: &LatentBatch,
        latents_g: &LatentBatch,
        read: bool,
    ) -> Result<Option<StepMetrics>> {
        let b = self.config.batch;
        let [c, h, w] = self.config.network.image;
        if real.len() != b * c * h * w
            || latents_d.z.len() != b * self.config.latent.width()
            || latents_g.z.len() != latents_d.z.len()
        {
            return Err(Error::new(format!(
                "step_with: inputs do not match batch {b} and latent width {}",
                self.config.latent.width()
            )));
        }
        let real = self.gpu.upload(&[b, c, h, w], real)?;
        self.step_on(real, latents_d, latents_g, read)
    }

    fn step_on(
        &mut self,
        real: Tensor,
        latents_d: &LatentBatch,
        latents_g: &LatentBatch,
        read: bool,
    ) -> Result<Option<StepMetrics>> {
        let d = self.d_phase(real, latents_d)?;
        let g = self.g_phase(latents_g)?;
        self.step += 1;
        if !read {
            self.gpu.flush()?;
            return Ok(None);
        }
        // The copies of every logged tensor ride in the step's own submit.
        let gpu = self.gpu;
        let mut wanted: Vec<&Var> =
            vec![&d.bce[0], &d.bce[1], &d.loss, &g.loss, &d.logits[0], &d.logits[1]];
        wanted.extend(g.ce.iter());
        wanted.extend(g.nll.iter());
        wanted.extend(g.logstd.iter());
        let pending: Vec<_> = wanted.iter().map(|v| gpu.read_later(&v.value)).collect();
        gpu.flush()?;
        let mut values =
            pending.into_iter().map(|r| r.wait(gpu)).collect::<Result<Vec<_>>>()?.into_iter();
        let mut next = || values.next().ok_or_else(|| Error::new("missing readback"));
        let scalar = |v: Vec<f32>| f64::from(v[0]);
        let sigmoid_stats = |v: Vec<f32>| -> [f64; 3] {
            let p: Vec<f64> = v.iter().map(|&x| 1.0 / (1.0 + (-f64::from(x)).exp())).collect();
            let mean = p.iter().sum::<f64>() / p.len() as f64;
            [
                mean,
                p.iter().copied().fold(f64::INFINITY, f64::min),
                p.iter().copied().fold(0.0, f64::max),
            ]
        };
        let (bce_real, bce_fake, loss_d, loss_g) =
            (scalar(next()?), scalar(next()?), scalar(next()?), scalar(next()?));
        let (d_real, d_fake) = (sigmoid_stats(next()?), sigmoid_stats(next()?));
        let spec = &self.config.latent;
        let mut l_i_cat = 0.0;
        for &k in spec.categorical.iter().take(g.ce.len()) {
            l_i_cat += (k as f64).ln() - scalar(next()?);
        }
        let l_i_cont = match &g.nll {
            Some(_) => spec.continuous as f64 * 2f64.ln() - scalar(next()?),
            None => 0.0,
        };
        let q_std = match &g.logstd {
            Some(_) => {
                let s: Vec<f64> = next()?.iter().map(|&v| f64::from(v).exp()).collect();
                Some([
                    s.iter().copied().fold(f64::INFINITY, f64::min),
                    s.iter().copied().fold(0.0, f64::max),
                ])
            }
            None => None,
        };
        Ok(Some(StepMetrics {
            step: self.step,
            bce_real,
            bce_fake,
            loss_d,
            loss_g,
            b_gan: 2f64.ln() - 0.5 * (bce_real + bce_fake),
            l_i_cat,
            l_i_cont,
            d_real,
            d_fake,
            q_std,
            samples_per_s: 0.0,
        }))
    }

    /// Images from given latents, batch norm in eval mode, as [n, C*H*W] in the pixel range.
    pub fn generate(&self, z: &[f32]) -> Result<Vec<f32>> {
        self.generate_with(z, BnMode::Eval)
    }

    /// Images from given latents with G's batch norm in `mode` (never updating running stats).
    pub fn generate_with(&self, z: &[f32], mode: BnMode) -> Result<Vec<f32>> {
        self.model.generate(self.gpu, z, self.config.latent.width(), mode)
    }
}
