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
pub use crate::infogan::config::{TrainConfig, Wiring};
use crate::infogan::latent::LatentBatch;
use crate::infogan::model::{InfoGan, QOutput};
use crate::nn::layers::BnMode;
use crate::ops::adam::AdamConfig;
use crate::ops::elementwise;
use crate::ops::gather::GpuImages;
use crate::ops::reduce::Axes;
use crate::tape::{Tape, Var};
use crate::tensor::Tensor;

/// What a random stream is for; part of its seed.
#[derive(Clone, Copy)]
enum Purpose {
    DataOrder = 1,
    LatentsD = 2,
    LatentsG = 3,
}

/// The random stream for (seed, counter, purpose): SplitMix64 finalisers over the three, so
/// neighbouring steps get unrelated streams. Counter-based streams make the step number the whole
/// RNG state: resuming from a checkpoint draws exactly what the uninterrupted run would have.
fn stream(seed: u64, counter: u64, purpose: Purpose) -> StdRng {
    fn mix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    StdRng::seed_from_u64(mix(mix(mix(seed) ^ counter) ^ purpose as u64))
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
        let stats = |s: [f64; 3]| Stats { mean: round(s[0], 5), min: round(s[1], 5), max: round(s[2], 5) };
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
        [self.loss_d, self.loss_g, self.b_gan, self.l_i_cat, self.l_i_cont].iter().all(|v| v.is_finite())
    }
}

/// `x` to `decimals` places, for logs that stay readable (NaN and infinities pass through).
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    if x.is_finite() { (x * scale).round() / scale } else { x }
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
    pub model: InfoGan,
    /// The training images, resident on the GPU.
    images: GpuImages,
    /// The shuffled order of `epoch`, on the GPU.
    order: Option<Tensor>,
    epoch: Option<u64>,
    ones: Tensor,
    zeros: Tensor,
    /// Steps completed.
    pub step: u64,
}

impl<'g> Trainer<'g> {
    pub fn new(gpu: &'g Gpu, config: TrainConfig, data: &Dataset) -> Result<Trainer<'g>> {
        Self::check_batch(&config, data)?;
        let model = InfoGan::new(gpu, &config)?;
        Self::with_model(gpu, config, model, 0, data)
    }

    /// Continues from a checkpoint: the same networks, Adam state and step.
    pub fn resume(gpu: &'g Gpu, checkpoint: &crate::infogan::checkpoint::Checkpoint, data: &Dataset) -> Result<Trainer<'g>> {
        Self::check_batch(&checkpoint.config, data)?;
        let model = checkpoint.model(gpu)?;
        Self::with_model(gpu, checkpoint.config.clone(), model, checkpoint.step, data)
    }

    fn check_batch(config: &TrainConfig, data: &Dataset) -> Result<()> {
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
            return Err(Error::new(format!("batch {} must be between 1 and the {} training images", config.batch, data.len())));
        }
        if config.batch < 2 {
            return Err(Error::new("batch norm needs a batch of at least 2"));
        }
        Ok(())
    }

    fn with_model(gpu: &'g Gpu, config: TrainConfig, model: InfoGan, step: u64, data: &Dataset) -> Result<Trainer<'g>> {
        let ones = elementwise::full(gpu, &[config.batch, 1], 1.0)?;
        let zeros = elementwise::full(gpu, &[config.batch, 1], 0.0)?;
        let images = GpuImages::upload(gpu, &data.images.pixels, data.images.image_len(), config.network.pixel_range().from_byte())?;
        Ok(Trainer { gpu, images, order: None, epoch: None, ones, zeros, step, config, model })
    }

    /// The real images [B, C, H, W] of the current step: epoch e visits the images in an order
    /// drawn from stream (seed, e), in whole batches (the remainder of an epoch is skipped).
    fn real_batch(&mut self) -> Result<Tensor> {
        let b = self.config.batch;
        let per_epoch = (self.images.count / b) as u64;
        let (epoch, index) = (self.step / per_epoch, (self.step % per_epoch) as usize);
        let order = match &self.order {
            Some(order) if self.epoch == Some(epoch) => order,
            _ => {
                let mut order: Vec<usize> = (0..self.images.count).collect();
                order.shuffle(&mut stream(self.config.seed, epoch, Purpose::DataOrder));
                self.epoch = Some(epoch);
                self.order.insert(GpuImages::upload_order(self.gpu, &order)?)
            }
        };
        let [c, h, w] = self.config.network.image;
        Ok(self.images.gather(self.gpu, order, index * b, b)?.reshape(&[b, c, h, w]))
    }

    /// The current step's real batch and the latents of its two phases.
    fn inputs(&mut self) -> Result<(Tensor, LatentBatch, LatentBatch)> {
        Ok((self.real_batch()?, self.latents(Purpose::LatentsD), self.latents(Purpose::LatentsG)))
    }

    fn latents(&self, purpose: Purpose) -> LatentBatch {
        self.config.latent.sample(&mut stream(self.config.seed, self.step, purpose), self.config.batch)
    }

    fn upload_latents(&self, latents: &LatentBatch) -> Result<(Tensor, Vec<Tensor>, Option<Tensor>)> {
        let b = self.config.batch;
        let spec = &self.config.latent;
        let z = self.gpu.upload(&[b, spec.width()], &latents.z)?;
        let cats = latents.categories.iter().map(|c| self.gpu.upload(&[b], c)).collect::<Result<Vec<_>>>()?;
        let cont = (spec.continuous > 0).then(|| self.gpu.upload(&[b, spec.continuous], &latents.continuous)).transpose()?;
        Ok((z, cats, cont))
    }

    /// D (and, with the official wiring, Q) on real images and G's detached fakes.
    fn d_phase(&mut self, real: Tensor, latents: &LatentBatch) -> Result<PhaseScalars> {
        let gpu = self.gpu;
        let with_q = self.config.wiring == Wiring::Official;
        let (z, cats, cont) = self.upload_latents(latents)?;
        let model = &mut self.model;
        let mut tape = Tape::new(gpu);
        tape.overwrite_grads(&model.d.arena);
        tape.freeze(&model.g.arena);
        if with_q {
            tape.overwrite_grads(&model.q.arena);
        } else {
            tape.freeze(&model.q.arena);
        }
        let vz = tape.constant(z);
        let fake = model.g.forward(&mut tape, &vz, BnMode::Train)?;
        let vreal = tape.constant(real);
        let feats_real = model.d.body(&mut tape, &vreal, BnMode::Train)?;
        let logit_real = model.d.head(&mut tape, &feats_real, BnMode::Train)?;
        let feats_fake = model.d.body(&mut tape, &fake, BnMode::Train)?;
        let logit_fake = model.d.head(&mut tape, &feats_fake, BnMode::Train)?;
        let bce_real = tape.bce_logits(&logit_real, &self.ones)?;
        let bce_real = tape.mean(&bce_real)?;
        let bce_fake = tape.bce_logits(&logit_fake, &self.zeros)?;
        let bce_fake = tape.mean(&bce_fake)?;
        let mut loss = tape.add(&bce_real, &bce_fake, 1.0, 1.0)?;
        let (mut ce, mut nll) = (Vec::new(), None);
        if with_q {
            let q = model.q.forward(&mut tape, &feats_fake, BnMode::Train)?;
            let (mi, ce_d, nll_d) = mutual_information_terms(&self.config, &mut tape, &q, &cats, cont.as_ref())?;
            if let Some(mi) = mi {
                loss = tape.add(&loss, &mi, 1.0, 1.0)?;
            }
            (ce, nll) = (ce_d, nll_d);
        }
        tape.backward(&loss)?;
        model.d.arena.adam_step(gpu, AdamConfig::infogan(self.config.lr_d))?;
        if with_q {
            model.q.arena.adam_step(gpu, AdamConfig::infogan(self.config.lr_d))?;
        }
        Ok(PhaseScalars { loss, bce: vec![bce_real, bce_fake], ce, nll, logits: vec![logit_real, logit_fake], logstd: None })
    }

    /// G (and, with the Q-with-G wiring, Q) on fresh latents; D's parameters frozen.
    fn g_phase(&mut self, latents: &LatentBatch) -> Result<PhaseScalars> {
        let gpu = self.gpu;
        let q_with_g = self.config.wiring == Wiring::QWithG;
        let (z, cats, cont) = self.upload_latents(latents)?;
        let model = &mut self.model;
        let mut tape = Tape::new(gpu);
        tape.overwrite_grads(&model.g.arena);
        tape.freeze(&model.d.arena);
        if q_with_g {
            tape.overwrite_grads(&model.q.arena);
        } else {
            tape.freeze(&model.q.arena);
        }
        let vz = tape.constant(z);
        let fake = model.g.forward(&mut tape, &vz, BnMode::Train)?;
        let feats = model.d.body(&mut tape, &fake, BnMode::Train)?;
        let logit = model.d.head(&mut tape, &feats, BnMode::Train)?;
        let bce = tape.bce_logits(&logit, &self.ones)?;
        let bce = tape.mean(&bce)?;
        let q = model.q.forward(&mut tape, &feats, BnMode::Train)?;
        let (mi, ce, nll) = mutual_information_terms(&self.config, &mut tape, &q, &cats, cont.as_ref())?;
        let loss = match mi {
            Some(mi) => tape.add(&bce, &mi, 1.0, 1.0)?,
            None => bce.clone(),
        };
        tape.backward(&loss)?;
        model.g.arena.adam_step(gpu, AdamConfig::infogan(self.config.lr_g))?;
        if q_with_g {
            model.q.arena.adam_step(gpu, AdamConfig::infogan(self.config.lr_g))?;
        }
        Ok(PhaseScalars { loss, bce: vec![bce], ce, nll, logits: vec![logit], logstd: q.cont_logstd })
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
    pub fn step_with(&mut self, real: &[f32], latents_d: &LatentBatch, latents_g: &LatentBatch, read: bool) -> Result<Option<StepMetrics>> {
        let b = self.config.batch;
        let [c, h, w] = self.config.network.image;
        if real.len() != b * c * h * w || latents_d.z.len() != b * self.config.latent.width() || latents_g.z.len() != latents_d.z.len() {
            return Err(Error::new(format!("step_with: inputs do not match batch {b} and latent width {}", self.config.latent.width())));
        }
        let real = self.gpu.upload(&[b, c, h, w], real)?;
        self.step_on(real, latents_d, latents_g, read)
    }

    fn step_on(&mut self, real: Tensor, latents_d: &LatentBatch, latents_g: &LatentBatch, read: bool) -> Result<Option<StepMetrics>> {
        let d = self.d_phase(real, latents_d)?;
        let g = self.g_phase(latents_g)?;
        self.step += 1;
        if !read {
            self.gpu.flush()?;
            return Ok(None);
        }
        // The copies of every logged tensor ride in the step's own submit.
        let gpu = self.gpu;
        let mut wanted: Vec<&Var> = vec![&d.bce[0], &d.bce[1], &d.loss, &g.loss, &d.logits[0], &d.logits[1]];
        wanted.extend(g.ce.iter());
        wanted.extend(g.nll.iter());
        wanted.extend(g.logstd.iter());
        let pending: Vec<_> = wanted.iter().map(|v| gpu.read_later(&v.value)).collect();
        gpu.flush()?;
        let mut values = pending.into_iter().map(|r| r.wait(gpu)).collect::<Result<Vec<_>>>()?.into_iter();
        let mut next = || values.next().ok_or_else(|| Error::new("missing readback"));
        let scalar = |v: Vec<f32>| f64::from(v[0]);
        let sigmoid_stats = |v: Vec<f32>| -> [f64; 3] {
            let p: Vec<f64> = v.iter().map(|&x| 1.0 / (1.0 + (-f64::from(x)).exp())).collect();
            let mean = p.iter().sum::<f64>() / p.len() as f64;
            [mean, p.iter().copied().fold(f64::INFINITY, f64::min), p.iter().copied().fold(0.0, f64::max)]
        };
        let (bce_real, bce_fake, loss_d, loss_g) = (scalar(next()?), scalar(next()?), scalar(next()?), scalar(next()?));
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
                Some([s.iter().copied().fold(f64::INFINITY, f64::min), s.iter().copied().fold(0.0, f64::max)])
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

fn mutual_information_terms(config: &TrainConfig, tape: &mut Tape, q: &QOutput, cats: &[Tensor], cont: Option<&Tensor>) -> Result<(Option<Var>, Vec<Var>, Option<Var>)> {
    let b = config.batch;
    let mut total: Option<Var> = None;
    let mut ces = Vec::new();
    for (logits, labels) in q.cat_logits.iter().zip(cats) {
        let rows = tape.softmax_xent(logits, labels)?;
        let ce = tape.mean(&rows)?;
        total = Some(match total {
            Some(t) => tape.add(&t, &ce, 1.0, config.lambda_cat)?,
            None => tape.add(&ce, &ce, config.lambda_cat, 0.0)?,
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
            Some(t) => tape.add(&t, &nll, 1.0, config.lambda_cont)?,
            None => tape.add(&nll, &nll, config.lambda_cont, 0.0)?,
        });
        nll_out = Some(nll);
    }
    Ok((total, ces, nll_out))
}
