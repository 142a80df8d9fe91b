//! The paper's MNIST networks. G: FC 74->1024, BN, ReLU -> FC ->7*7*128, BN, ReLU -> ConvT ->64,
//! BN, ReLU -> ConvT ->1, sigmoid. D/Q body: Conv ->64, LeakyReLU -> Conv ->128, BN, LeakyReLU ->
//! FC ->1024, BN, LeakyReLU; D head FC ->1; Q head FC ->128, BN, LeakyReLU -> one FC per code
//! group (logits of each categorical code; means, and log-stds when learned, of the continuous).
//! Layers followed by batch norm have no bias (it would be cancelled).

use crate::error::Result;
use crate::gpu::Gpu;
use crate::infogan::latent::LatentSpec;
use crate::nn::layers::{BatchNorm, BnMode, Conv2d, ConvTranspose2d, Linear};
use crate::nn::params::{Arena, ArenaLayout};
use crate::ops::elementwise::Activation;
use crate::tape::{Tape, Var};

const K: (usize, usize) = (4, 4);
const S: (usize, usize) = (2, 2);
const P: (usize, usize) = (1, 1);

pub struct Generator {
    pub arena: Arena,
    fc1: Linear,
    bn1: BatchNorm,
    fc2: Linear,
    bn2: BatchNorm,
    up1: ConvTranspose2d,
    bn3: BatchNorm,
    up2: ConvTranspose2d,
}

/// Q's outputs for one batch.
pub struct QOutput {
    pub cat_logits: Vec<Var>,
    pub cont_mean: Option<Var>,
    pub cont_logstd: Option<Var>,
}

/// D and Q share the body and one arena (Q is trained with D, as in the official code).
pub struct Discriminator {
    pub arena: Arena,
    conv1: Conv2d,
    conv2: Conv2d,
    bn2: BatchNorm,
    fc: Linear,
    bn3: BatchNorm,
    d_head: Linear,
    q_fc: Linear,
    q_bn: BatchNorm,
    q_cat: Vec<Linear>,
    q_mean: Option<Linear>,
    q_logstd: Option<Linear>,
    leak: f32,
}

impl Generator {
    pub fn new(gpu: &Gpu, latent: &LatentSpec, seed: u64) -> Result<Generator> {
        let mut l = ArenaLayout::default();
        let fc1 = Linear::new(&mut l, "g.fc1", latent.width(), 1024, false);
        let bn1 = BatchNorm::new(gpu, &mut l, "g.bn1", 1024)?;
        let fc2 = Linear::new(&mut l, "g.fc2", 1024, 128 * 7 * 7, false);
        let bn2 = BatchNorm::new(gpu, &mut l, "g.bn2", 128 * 7 * 7)?;
        let up1 = ConvTranspose2d::new(&mut l, "g.up1", 128, 64, K, S, P, false);
        let bn3 = BatchNorm::new(gpu, &mut l, "g.bn3", 64)?;
        let up2 = ConvTranspose2d::new(&mut l, "g.up2", 64, 1, K, S, P, true);
        let arena = Arena::new(gpu, "G", l, seed)?;
        Ok(Generator { arena, fc1, bn1, fc2, bn2, up1, bn3, up2 })
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
        let h = tape.reshape(&h, &[batch, 128, 7, 7])?;
        let h = self.up1.forward(tape, a, &h)?;
        let h = self.bn3.forward(tape, a, &h, mode)?;
        let h = tape.activation(&h, Activation::Relu)?;
        let h = self.up2.forward(tape, a, &h)?;
        tape.activation(&h, Activation::Sigmoid)
    }

    pub fn batch_norms(&self) -> [&BatchNorm; 3] {
        [&self.bn1, &self.bn2, &self.bn3]
    }
}

impl Discriminator {
    pub fn new(gpu: &Gpu, latent: &LatentSpec, learned_std: bool, leak: f32, seed: u64) -> Result<Discriminator> {
        let mut l = ArenaLayout::default();
        let conv1 = Conv2d::new(&mut l, "d.conv1", 1, 64, K, S, P, true);
        let conv2 = Conv2d::new(&mut l, "d.conv2", 64, 128, K, S, P, false);
        let bn2 = BatchNorm::new(gpu, &mut l, "d.bn2", 128)?;
        let fc = Linear::new(&mut l, "d.fc", 128 * 7 * 7, 1024, false);
        let bn3 = BatchNorm::new(gpu, &mut l, "d.bn3", 1024)?;
        let d_head = Linear::new(&mut l, "d.head", 1024, 1, true);
        let q_fc = Linear::new(&mut l, "q.fc", 1024, 128, false);
        let q_bn = BatchNorm::new(gpu, &mut l, "q.bn", 128)?;
        let q_cat = latent.categorical.iter().enumerate().map(|(i, &k)| Linear::new(&mut l, &format!("q.cat{i}"), 128, k, true)).collect();
        let cont = latent.continuous;
        let q_mean = (cont > 0).then(|| Linear::new(&mut l, "q.mean", 128, cont, true));
        let q_logstd = (cont > 0 && learned_std).then(|| Linear::new(&mut l, "q.logstd", 128, cont, true));
        let arena = Arena::new(gpu, "D", l, seed)?;
        Ok(Discriminator { arena, conv1, conv2, bn2, fc, bn3, d_head, q_fc, q_bn, q_cat, q_mean, q_logstd, leak })
    }

    fn leaky(&self, tape: &mut Tape, x: &Var) -> Result<Var> {
        tape.activation(x, Activation::LeakyRelu { slope: self.leak })
    }

    /// Shared features [B, 1024] of images [B, 1, 28, 28].
    pub fn body(&self, tape: &mut Tape, x: &Var, mode: BnMode) -> Result<Var> {
        let a = &self.arena;
        let batch = x.shape()[0];
        let h = self.conv1.forward(tape, a, x)?;
        let h = self.leaky(tape, &h)?;
        let h = self.conv2.forward(tape, a, &h)?;
        let h = self.bn2.forward(tape, a, &h, mode)?;
        let h = self.leaky(tape, &h)?;
        let h = tape.reshape(&h, &[batch, 128 * 7 * 7])?;
        let h = self.fc.forward(tape, a, &h)?;
        let h = self.bn3.forward(tape, a, &h, mode)?;
        self.leaky(tape, &h)
    }

    /// Real/fake logits [B, 1].
    pub fn d_head(&self, tape: &mut Tape, features: &Var) -> Result<Var> {
        self.d_head.forward(tape, &self.arena, features)
    }

    pub fn q_head(&self, tape: &mut Tape, features: &Var, mode: BnMode) -> Result<QOutput> {
        let a = &self.arena;
        let h = self.q_fc.forward(tape, a, features)?;
        let h = self.q_bn.forward(tape, a, &h, mode)?;
        let h = self.leaky(tape, &h)?;
        let cat_logits = self.q_cat.iter().map(|l| l.forward(tape, a, &h)).collect::<Result<Vec<_>>>()?;
        let cont_mean = self.q_mean.as_ref().map(|l| l.forward(tape, a, &h)).transpose()?;
        let cont_logstd = self.q_logstd.as_ref().map(|l| l.forward(tape, a, &h)).transpose()?;
        Ok(QOutput { cat_logits, cont_mean, cont_logstd })
    }
}
