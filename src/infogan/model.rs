//! The paper's MNIST networks. G: FC 74->1024, BN, ReLU -> FC ->7*7*128, BN, ReLU -> ConvT ->64,
//! BN, ReLU -> ConvT ->1, sigmoid. D/Q body: Conv ->64, LeakyReLU -> Conv ->128, BN, LeakyReLU ->
//! FC ->1024, BN, LeakyReLU; D head FC ->1; Q head FC ->128, BN, LeakyReLU -> one FC per code
//! group (logits of each categorical code; means, and log-stds when learned, of the continuous).
//! Layers followed by batch norm have no bias (it would be cancelled). Widths are configurable
//! (the parity test runs a narrow copy); Q's head has its own arena, so either wiring (Q stepped
//! with D or with G) is a choice of which arenas a phase steps.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::gpu::Gpu;
use crate::infogan::config::TrainConfig;
use crate::infogan::latent::LatentSpec;
use crate::nn::layers::{BatchNorm, BnMode, Conv2d, ConvTranspose2d, Linear};
use crate::nn::params::{Arena, ArenaLayout};
use crate::ops::elementwise::Activation;
use crate::tape::{Tape, Var};

const K: (usize, usize) = (4, 4);
const S: (usize, usize) = (2, 2);
const P: (usize, usize) = (1, 1);

/// Channel and feature counts of the three networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Widths {
    /// G's first FC and D's FC features (1024).
    pub fc: usize,
    /// G's 7x7 feature maps and D's second conv (128).
    pub conv_wide: usize,
    /// G's 14x14 feature maps and D's first conv (64).
    pub conv_narrow: usize,
    /// Q's hidden FC features (128).
    pub q_fc: usize,
}

impl Widths {
    pub const PAPER: Widths = Widths { fc: 1024, conv_wide: 128, conv_narrow: 64, q_fc: 128 };

    /// `FC,WIDE,NARROW,QFC`, e.g. `1024,128,64,128`.
    pub fn parse(text: &str) -> Result<Widths> {
        let parts: Vec<usize> = text.split(',').map(|p| p.trim().parse::<usize>()).collect::<std::result::Result<_, _>>().unwrap_or_default();
        match parts[..] {
            [fc, conv_wide, conv_narrow, q_fc] if parts.iter().all(|&w| (1..=8192).contains(&w)) => Ok(Widths { fc, conv_wide, conv_narrow, q_fc }),
            _ => Err(crate::error::Error::new(format!("--widths {text}: expected four counts FC,WIDE,NARROW,QFC between 1 and 8192, e.g. 1024,128,64,128"))),
        }
    }
}

pub struct Generator {
    pub arena: Arena,
    fc1: Linear,
    bn1: BatchNorm,
    fc2: Linear,
    bn2: BatchNorm,
    up1: ConvTranspose2d,
    bn3: BatchNorm,
    up2: ConvTranspose2d,
    conv_wide: usize,
}

/// Q's outputs for one batch.
pub struct QOutput {
    pub cat_logits: Vec<Var>,
    pub cont_mean: Option<Var>,
    pub cont_logstd: Option<Var>,
}

/// D's body (shared with Q) and real/fake head.
pub struct Discriminator {
    pub arena: Arena,
    conv1: Conv2d,
    conv2: Conv2d,
    bn2: BatchNorm,
    fc: Linear,
    bn3: BatchNorm,
    head: Linear,
    conv_wide: usize,
    leak: f32,
}

/// Q's head on D's body features: one FC per code group.
pub struct Recognizer {
    pub arena: Arena,
    fc: Linear,
    bn: BatchNorm,
    cat: Vec<Linear>,
    mean: Option<Linear>,
    logstd: Option<Linear>,
    leak: f32,
}

impl Generator {
    pub fn new(gpu: &Gpu, latent: &LatentSpec, w: Widths, seed: u64) -> Result<Generator> {
        let mut l = ArenaLayout::default();
        let fc1 = Linear::new(&mut l, "g.fc1", latent.width(), w.fc, false);
        let bn1 = BatchNorm::new(gpu, &mut l, "g.bn1", w.fc)?;
        let fc2 = Linear::new(&mut l, "g.fc2", w.fc, w.conv_wide * 7 * 7, false);
        let bn2 = BatchNorm::new(gpu, &mut l, "g.bn2", w.conv_wide * 7 * 7)?;
        let up1 = ConvTranspose2d::new(&mut l, "g.up1", w.conv_wide, w.conv_narrow, K, S, P, false);
        let bn3 = BatchNorm::new(gpu, &mut l, "g.bn3", w.conv_narrow)?;
        let up2 = ConvTranspose2d::new(&mut l, "g.up2", w.conv_narrow, 1, K, S, P, true);
        let arena = Arena::new(gpu, "G", l, seed)?;
        Ok(Generator { arena, fc1, bn1, fc2, bn2, up1, bn3, up2, conv_wide: w.conv_wide })
    }

    /// Images [B, 1, 28, 28] in [0, 1] from latents [B, width].
    pub fn forward(&self, tape: &mut Tape, z: &Var, mode: BnMode) -> Result<Var> {
        let a = &self.arena;
        let batch = z.shape()[0];
        let h = self.fc1.forward(tape, a, z)?;
        let h = self.bn1.forward(tape, a, &h, mode)?;
        let h = tape.activation(&h, Activation::Relu)?;
        let h = self.fc2.forward(tape, a, &h)?;
        let h = self.bn2.forward(tape, a, &h, mode)?;
        let h = tape.activation(&h, Activation::Relu)?;
        let h = tape.reshape(&h, &[batch, self.conv_wide, 7, 7])?;
        let h = self.up1.forward(tape, a, &h)?;
        let h = self.bn3.forward(tape, a, &h, mode)?;
        let h = tape.activation(&h, Activation::Relu)?;
        let h = self.up2.forward(tape, a, &h)?;
        tape.activation(&h, Activation::Sigmoid)
    }

    pub fn batch_norms(&self) -> Vec<(&'static str, &BatchNorm)> {
        vec![("g.bn1", &self.bn1), ("g.bn2", &self.bn2), ("g.bn3", &self.bn3)]
    }
}

impl Discriminator {
    pub fn new(gpu: &Gpu, w: Widths, leak: f32, seed: u64) -> Result<Discriminator> {
        let mut l = ArenaLayout::default();
        let conv1 = Conv2d::new(&mut l, "d.conv1", 1, w.conv_narrow, K, S, P, true);
        let conv2 = Conv2d::new(&mut l, "d.conv2", w.conv_narrow, w.conv_wide, K, S, P, false);
        let bn2 = BatchNorm::new(gpu, &mut l, "d.bn2", w.conv_wide)?;
        let fc = Linear::new(&mut l, "d.fc", w.conv_wide * 7 * 7, w.fc, false);
        let bn3 = BatchNorm::new(gpu, &mut l, "d.bn3", w.fc)?;
        let head = Linear::new(&mut l, "d.head", w.fc, 1, true);
        let arena = Arena::new(gpu, "D", l, seed)?;
        Ok(Discriminator { arena, conv1, conv2, bn2, fc, bn3, head, conv_wide: w.conv_wide, leak })
    }

    /// Shared features [B, fc] of images [B, 1, 28, 28].
    pub fn body(&self, tape: &mut Tape, x: &Var, mode: BnMode) -> Result<Var> {
        let a = &self.arena;
        let batch = x.shape()[0];
        let h = self.conv1.forward(tape, a, x)?;
        let h = leaky(tape, &h, self.leak)?;
        let h = self.conv2.forward(tape, a, &h)?;
        let h = self.bn2.forward(tape, a, &h, mode)?;
        let h = leaky(tape, &h, self.leak)?;
        let h = tape.reshape(&h, &[batch, self.conv_wide * 7 * 7])?;
        let h = self.fc.forward(tape, a, &h)?;
        let h = self.bn3.forward(tape, a, &h, mode)?;
        leaky(tape, &h, self.leak)
    }

    /// Real/fake logits [B, 1].
    pub fn head(&self, tape: &mut Tape, features: &Var) -> Result<Var> {
        self.head.forward(tape, &self.arena, features)
    }

    pub fn batch_norms(&self) -> Vec<(&'static str, &BatchNorm)> {
        vec![("d.bn2", &self.bn2), ("d.bn3", &self.bn3)]
    }
}

impl Recognizer {
    pub fn new(gpu: &Gpu, latent: &LatentSpec, w: Widths, learned_std: bool, leak: f32, seed: u64) -> Result<Recognizer> {
        let mut l = ArenaLayout::default();
        let fc = Linear::new(&mut l, "q.fc", w.fc, w.q_fc, false);
        let bn = BatchNorm::new(gpu, &mut l, "q.bn", w.q_fc)?;
        let cat = latent.categorical.iter().enumerate().map(|(i, &k)| Linear::new(&mut l, &format!("q.cat{i}"), w.q_fc, k, true)).collect();
        let cont = latent.continuous;
        let mean = (cont > 0).then(|| Linear::new(&mut l, "q.mean", w.q_fc, cont, true));
        let logstd = (cont > 0 && learned_std).then(|| Linear::new(&mut l, "q.logstd", w.q_fc, cont, true));
        let arena = Arena::new(gpu, "Q", l, seed)?;
        Ok(Recognizer { arena, fc, bn, cat, mean, logstd, leak })
    }

    pub fn forward(&self, tape: &mut Tape, features: &Var, mode: BnMode) -> Result<QOutput> {
        let a = &self.arena;
        let h = self.fc.forward(tape, a, features)?;
        let h = self.bn.forward(tape, a, &h, mode)?;
        let h = leaky(tape, &h, self.leak)?;
        let cat_logits = self.cat.iter().map(|l| l.forward(tape, a, &h)).collect::<Result<Vec<_>>>()?;
        let cont_mean = self.mean.as_ref().map(|l| l.forward(tape, a, &h)).transpose()?;
        let cont_logstd = self.logstd.as_ref().map(|l| l.forward(tape, a, &h)).transpose()?;
        Ok(QOutput { cat_logits, cont_mean, cont_logstd })
    }

    pub fn batch_norms(&self) -> Vec<(&'static str, &BatchNorm)> {
        vec![("q.bn", &self.bn)]
    }
}

fn leaky(tape: &mut Tape, x: &Var, slope: f32) -> Result<Var> {
    tape.activation(x, Activation::LeakyRelu { slope })
}

/// The three networks of one run.
pub struct InfoGan {
    pub g: Generator,
    pub d: Discriminator,
    pub q: Recognizer,
}

impl InfoGan {
    /// Fresh networks with the official initialisation; each arena has its own seed stream.
    pub fn new(gpu: &Gpu, config: &TrainConfig) -> Result<InfoGan> {
        config.latent.validate()?;
        let w = config.widths;
        Ok(InfoGan {
            g: Generator::new(gpu, &config.latent, w, config.seed)?,
            d: Discriminator::new(gpu, w, config.leak, config.seed.wrapping_add(1))?,
            q: Recognizer::new(gpu, &config.latent, w, config.learned_std, config.leak, config.seed.wrapping_add(3))?,
        })
    }

    pub fn arenas(&self) -> [&Arena; 3] {
        [&self.g.arena, &self.d.arena, &self.q.arena]
    }

    pub fn arenas_mut(&mut self) -> [&mut Arena; 3] {
        [&mut self.g.arena, &mut self.d.arena, &mut self.q.arena]
    }

    pub fn batch_norms(&self) -> Vec<(&'static str, &BatchNorm)> {
        let mut all = self.g.batch_norms();
        all.extend(self.d.batch_norms());
        all.extend(self.q.batch_norms());
        all
    }

    /// Images [n, 784] in [0, 1] from latents [n, width]. `Train` mode is read as batch
    /// statistics: generating never moves the running statistics.
    pub fn generate(&self, gpu: &Gpu, z: &[f32], width: usize, mode: BnMode) -> Result<Vec<f32>> {
        let mode = if mode == BnMode::Train { BnMode::BatchStats } else { mode };
        let n = z.len() / width;
        let mut tape = Tape::new(gpu);
        tape.freeze(&self.g.arena);
        let vz = tape.constant(gpu.upload(&[n, width], z)?);
        let out = self.g.forward(&mut tape, &vz, mode)?;
        gpu.download(&out.value)
    }

    /// Q's logits of each categorical code for images [n, 784] in [0, 1]: per code, [n * K].
    pub fn recognize(&self, gpu: &Gpu, images: &[f32], mode: BnMode) -> Result<Vec<Vec<f32>>> {
        let mode = if mode == BnMode::Train { BnMode::BatchStats } else { mode };
        let n = images.len() / 784;
        let mut tape = Tape::new(gpu);
        for arena in self.arenas() {
            tape.freeze(arena);
        }
        let x = tape.constant(gpu.upload(&[n, 1, 28, 28], images)?);
        let features = self.d.body(&mut tape, &x, mode)?;
        let q = self.q.forward(&mut tape, &features, mode)?;
        let readbacks: Vec<_> = q.cat_logits.iter().map(|l| gpu.read_later(&l.value)).collect();
        readbacks.into_iter().map(|r| r.wait(gpu)).collect()
    }
}
