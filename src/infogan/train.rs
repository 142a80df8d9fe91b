//! One InfoGAN training step on the GPU and the scalars it logs.
//!
//! Wiring (the official code's): the D/Q phase minimises BCE(D(x), 1) + BCE(D(G(z,c)), 0) +
//! lambda * (cross-entropy of Q's categorical outputs + Gaussian NLL of its continuous ones), with
//! G's output detached, and steps D's arena (body, D head and Q head). The G phase minimises the
//! non-saturating BCE(D(G(z,c)), 1) + the same lambda * MI terms on fresh latents, with D's
//! parameters frozen (no weight gradients), and steps G's arena.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::infogan::latent::{LatentBatch, LatentSpec};
use crate::infogan::model::{Discriminator, Generator, QOutput};
use crate::nn::layers::BnMode;
use crate::ops::adam::AdamConfig;
use crate::ops::elementwise;
use crate::ops::reduce::Axes;
use crate::tape::{Tape, Var};
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub latent: LatentSpec,
    pub batch: usize,
    pub seed: u64,
    pub lr_d: f32,
    pub lr_g: f32,
    pub lambda_cat: f32,
    pub lambda_cont: f32,
    /// Q predicts a log-std per continuous code (the paper) instead of using std 1 (official).
    pub learned_std: bool,
    /// LeakyReLU slope: 0.1 in the paper, 0.01 in the official code.
    pub leak: f32,
}

impl TrainConfig {
    pub fn paper(batch: usize, seed: u64) -> TrainConfig {
        TrainConfig {
            latent: LatentSpec::mnist(),
            batch,
            seed,
            lr_d: 2e-4,
            lr_g: 1e-3,
            lambda_cat: 1.0,
            lambda_cont: 1.0,
            learned_std: false,
            leak: 0.1,
        }
    }
}

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
    pub fn json(&self) -> String {
        let q_std = match self.q_std {
            Some([lo, hi]) => format!("[{lo:.5},{hi:.5}]"),
            None => "null".into(),
        };
        format!(
            "{{\"step\":{},\"B_GAN\":{:.6},\"L_I_cat\":{:.6},\"L_I_cont\":{:.6},\"loss_D\":{:.6},\"loss_G\":{:.6},\
\"bce_real\":{:.6},\"bce_fake\":{:.6},\"D_real\":{{\"mean\":{:.5},\"min\":{:.5},\"max\":{:.5}}},\
\"D_fake\":{{\"mean\":{:.5},\"min\":{:.5},\"max\":{:.5}}},\"Q_std\":{},\"samples_per_s\":{:.3}}}",
            self.step, self.b_gan, self.l_i_cat, self.l_i_cont, self.loss_d, self.loss_g, self.bce_real, self.bce_fake,
            self.d_real[0], self.d_real[1], self.d_real[2], self.d_fake[0], self.d_fake[1], self.d_fake[2], q_std, self.samples_per_s
        )
    }

    pub fn is_finite(&self) -> bool {
        [self.loss_d, self.loss_g, self.b_gan, self.l_i_cat, self.l_i_cont].iter().all(|v| v.is_finite())
    }
}

/// Scalars of one phase, still on the GPU.
struct PhaseScalars {
    loss: Var,
    bce: Vec<Var>,
    ce: Vec<Var>,
    nll: Option<Var>,
    logits: Vec<Var>,
    logstd: Option<Var>,
}

pub struct Trainer<'g> {
    gpu: &'g Gpu,
    pub config: TrainConfig,
    pub g: Generator,
    pub d: Discriminator,
    rng: StdRng,
    pixels: Vec<f32>,
    order: Vec<usize>,
    cursor: usize,
    ones: Tensor,
    zeros: Tensor,
    pub step: u64,
}

impl<'g> Trainer<'g> {
    pub fn new(gpu: &'g Gpu, config: TrainConfig, data: &Dataset) -> Result<Trainer<'g>> {
        if config.batch == 0 || config.batch > data.len() {
            return Err(Error::new(format!("batch {} must be between 1 and the {} training images", config.batch, data.len())));
        }
        if config.batch < 2 {
            return Err(Error::new("batch norm needs a batch of at least 2"));
        }
        let g = Generator::new(gpu, &config.latent, config.seed)?;
        let d = Discriminator::new(gpu, &config.latent, config.learned_std, config.leak, config.seed.wrapping_add(1))?;
        let ones = elementwise::full(gpu, &[config.batch, 1], 1.0)?;
        let zeros = elementwise::full(gpu, &[config.batch, 1], 0.0)?;
        Ok(Trainer {
            gpu,
            rng: StdRng::seed_from_u64(config.seed.wrapping_add(2)),
            pixels: data.pixels_f32(),
            order: (0..data.len()).collect(),
            cursor: data.len(),
            ones,
            zeros,
            step: 0,
            config,
            g,
            d,
        })
    }

    /// The next batch of real images [B, 1, 28, 28], drawn without replacement per epoch.
    fn real_batch(&mut self) -> Result<Tensor> {
        let b = self.config.batch;
        if self.cursor + b > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        let mut batch = Vec::with_capacity(b * 784);
        for &i in &self.order[self.cursor..self.cursor + b] {
            batch.extend_from_slice(&self.pixels[i * 784..(i + 1) * 784]);
        }
        self.cursor += b;
        self.gpu.upload(&[b, 1, 28, 28], &batch)
    }

    fn upload_latents(&self, latents: &LatentBatch) -> Result<(Tensor, Vec<Tensor>, Option<Tensor>)> {
        let b = self.config.batch;
        let spec = &self.config.latent;
        let z = self.gpu.upload(&[b, spec.width()], &latents.z)?;
        let cats = latents.categories.iter().map(|c| self.gpu.upload(&[b], c)).collect::<Result<Vec<_>>>()?;
        let cont = (spec.continuous > 0).then(|| self.gpu.upload(&[b, spec.continuous], &latents.continuous)).transpose()?;
        Ok((z, cats, cont))
    }

    /// lambda * (sum of cross-entropies + summed NLL per row), and the pieces for the log.
    fn mutual_information_terms(&self, tape: &mut Tape, q: &QOutput, cats: &[Tensor], cont: Option<&Tensor>) -> Result<(Option<Var>, Vec<Var>, Option<Var>)> {
        let b = self.config.batch;
        let mut total: Option<Var> = None;
        let mut ces = Vec::new();
        for (logits, labels) in q.cat_logits.iter().zip(cats) {
            let rows = tape.softmax_xent(logits, labels)?;
            let ce = tape.mean(&rows)?;
            total = Some(match total {
                Some(t) => tape.add(&t, &ce, 1.0, self.config.lambda_cat)?,
                None => tape.add(&ce, &ce, self.config.lambda_cat, 0.0)?,
            });
            ces.push(ce);
        }
        let mut nll_out = None;
        if let (Some(mean), Some(target)) = (&q.cont_mean, cont) {
            let nll = match &q.cont_logstd {
                Some(logstd) => tape.gauss_nll_learned(mean, logstd, target)?,
                None => tape.gauss_nll(mean, target, 1.0)?,
            };
            // Sum over codes, mean over rows.
            let nll = tape.sum(&nll, Axes::all(nll.value.len()), 1.0 / b as f32)?;
            total = Some(match total {
                Some(t) => tape.add(&t, &nll, 1.0, self.config.lambda_cont)?,
                None => tape.add(&nll, &nll, self.config.lambda_cont, 0.0)?,
            });
            nll_out = Some(nll);
        }
        Ok((total, ces, nll_out))
    }

    fn d_phase(&mut self) -> Result<PhaseScalars> {
        let gpu = self.gpu;
        self.d.arena.zero_grads(gpu)?;
        let real = self.real_batch()?;
        let latents = self.config.latent.sample(&mut self.rng, self.config.batch);
        let (z, cats, cont) = self.upload_latents(&latents)?;
        let mut tape = Tape::new(gpu);
        tape.freeze(&self.g.arena.name);
        let vz = tape.constant(z);
        let fake = self.g.forward(&mut tape, &vz, BnMode::Train)?;
        let vreal = tape.constant(real);
        let feats_real = self.d.body(&mut tape, &vreal, BnMode::Train)?;
        let logit_real = self.d.d_head(&mut tape, &feats_real)?;
        let feats_fake = self.d.body(&mut tape, &fake, BnMode::Train)?;
        let logit_fake = self.d.d_head(&mut tape, &feats_fake)?;
        let bce_real = tape.bce_logits(&logit_real, &self.ones)?;
        let bce_real = tape.mean(&bce_real)?;
        let bce_fake = tape.bce_logits(&logit_fake, &self.zeros)?;
        let bce_fake = tape.mean(&bce_fake)?;
        let q = self.d.q_head(&mut tape, &feats_fake, BnMode::Train)?;
        let (mi, ce, nll) = self.mutual_information_terms(&mut tape, &q, &cats, cont.as_ref())?;
        let mut loss = tape.add(&bce_real, &bce_fake, 1.0, 1.0)?;
        if let Some(mi) = mi {
            loss = tape.add(&loss, &mi, 1.0, 1.0)?;
        }
        tape.backward(&loss)?;
        self.d.arena.adam_step(gpu, AdamConfig::infogan(self.config.lr_d))?;
        Ok(PhaseScalars { loss, bce: vec![bce_real, bce_fake], ce, nll, logits: vec![logit_real, logit_fake], logstd: q.cont_logstd })
    }

    fn g_phase(&mut self) -> Result<PhaseScalars> {
        let gpu = self.gpu;
        self.g.arena.zero_grads(gpu)?;
        let latents = self.config.latent.sample(&mut self.rng, self.config.batch);
        let (z, cats, cont) = self.upload_latents(&latents)?;
        let mut tape = Tape::new(gpu);
        tape.freeze(&self.d.arena.name);
        let vz = tape.constant(z);
        let fake = self.g.forward(&mut tape, &vz, BnMode::Train)?;
        let feats = self.d.body(&mut tape, &fake, BnMode::Train)?;
        let logit = self.d.d_head(&mut tape, &feats)?;
        let bce = tape.bce_logits(&logit, &self.ones)?;
        let bce = tape.mean(&bce)?;
        let q = self.d.q_head(&mut tape, &feats, BnMode::Train)?;
        let (mi, ce, nll) = self.mutual_information_terms(&mut tape, &q, &cats, cont.as_ref())?;
        let loss = match mi {
            Some(mi) => tape.add(&bce, &mi, 1.0, 1.0)?,
            None => bce.clone(),
        };
        tape.backward(&loss)?;
        self.g.arena.adam_step(gpu, AdamConfig::infogan(self.config.lr_g))?;
        Ok(PhaseScalars { loss, bce: vec![bce], ce, nll, logits: vec![logit], logstd: q.cont_logstd })
    }

    /// One D/Q step and one G step, recorded and submitted together. With `read`, waits for the
    /// GPU and returns the logged scalars.
    pub fn step(&mut self, read: bool) -> Result<Option<StepMetrics>> {
        let d = self.d_phase()?;
        let g = self.g_phase()?;
        self.gpu.flush()?;
        self.step += 1;
        if !read {
            return Ok(None);
        }
        let scalar = |v: &Var| -> Result<f64> { Ok(f64::from(self.gpu.download(&v.value)?[0])) };
        let spec = &self.config.latent;
        let sigmoid_stats = |v: &Var| -> Result<[f64; 3]> {
            let p: Vec<f64> = self.gpu.download(&v.value)?.iter().map(|&x| 1.0 / (1.0 + (-f64::from(x)).exp())).collect();
            let mean = p.iter().sum::<f64>() / p.len() as f64;
            Ok([mean, p.iter().copied().fold(f64::INFINITY, f64::min), p.iter().copied().fold(0.0, f64::max)])
        };
        let (bce_real, bce_fake) = (scalar(&d.bce[0])?, scalar(&d.bce[1])?);
        let mut l_i_cat = 0.0;
        for (ce, &k) in g.ce.iter().zip(&spec.categorical) {
            l_i_cat += (k as f64).ln() - scalar(ce)?;
        }
        let l_i_cont = match &g.nll {
            Some(nll) => spec.continuous as f64 * 2f64.ln() - scalar(nll)?,
            None => 0.0,
        };
        let q_std = match &g.logstd {
            Some(ls) => {
                let s: Vec<f64> = self.gpu.download(&ls.value)?.iter().map(|&v| f64::from(v).exp()).collect();
                Some([s.iter().copied().fold(f64::INFINITY, f64::min), s.iter().copied().fold(0.0, f64::max)])
            }
            None => None,
        };
        Ok(Some(StepMetrics {
            step: self.step,
            bce_real,
            bce_fake,
            loss_d: scalar(&d.loss)?,
            loss_g: scalar(&g.loss)?,
            b_gan: 2f64.ln() - 0.5 * (bce_real + bce_fake),
            l_i_cat,
            l_i_cont,
            d_real: sigmoid_stats(&d.logits[0])?,
            d_fake: sigmoid_stats(&d.logits[1])?,
            q_std,
            samples_per_s: 0.0,
        }))
    }

    /// Images from given latents, batch norm in eval mode, as [n, 784] in [0, 1].
    pub fn generate(&self, z: &[f32]) -> Result<Vec<f32>> {
        self.generate_with(z, BnMode::Eval)
    }

    /// Images from given latents with G's batch norm in `mode` (never updating running stats).
    pub fn generate_with(&self, z: &[f32], mode: BnMode) -> Result<Vec<f32>> {
        let mode = if mode == BnMode::Train { BnMode::BatchStats } else { mode };
        let n = z.len() / self.config.latent.width();
        let mut tape = Tape::new(self.gpu);
        tape.freeze(&self.g.arena.name);
        let vz = tape.constant(self.gpu.upload(&[n, self.config.latent.width()], z)?);
        let out = self.g.forward(&mut tape, &vz, mode)?;
        self.gpu.download(&out.value)
    }
}
