//! Layers: parameter slots in a network's arena plus a forward on the tape. Initialisation follows
//! the official InfoGAN code: weights N(0, 0.02), batch-norm gamma N(1, 0.02), beta and biases 0.

use crate::arena::{Arena, ArenaLayout, Init, ParamId};
use crate::error::Result;
use crate::gpu::{Gpu, Tensor};
use crate::ops::batchnorm::BnConfig;
use crate::ops::conv::{self, ConvGeom};
use crate::ops::layout::Window2d;
use crate::tape::{Tape, Var};

pub const WEIGHT_INIT: Init = Init::Normal { mean: 0.0, std: 0.02 };
pub const GAMMA_INIT: Init = Init::Normal { mean: 1.0, std: 0.02 };
pub const ZERO_INIT: Init = Init::Constant(0.0);

/// A convolution's weight (official init) and optional bias (zeros) slots.
fn weight_and_bias(
    layout: &mut ArenaLayout,
    name: &str,
    weight_shape: [usize; 4],
    channels: usize,
    bias: bool,
) -> (ParamId, Option<ParamId>) {
    let weight = layout.add(&format!("{name}.weight"), &weight_shape, WEIGHT_INIT);
    let bias = bias.then(|| layout.add(&format!("{name}.bias"), &[channels], ZERO_INIT));
    (weight, bias)
}

/// `y = x W^T + b`, W [out, in] as in PyTorch.
#[derive(Clone, Debug)]
pub struct Linear {
    pub weight: ParamId,
    pub bias: Option<ParamId>,
    pub inputs: usize,
    pub outputs: usize,
}

impl Linear {
    pub fn new(
        layout: &mut ArenaLayout,
        name: &str,
        inputs: usize,
        outputs: usize,
        bias: bool,
    ) -> Linear {
        let weight = layout.add(&format!("{name}.weight"), &[outputs, inputs], WEIGHT_INIT);
        let bias = bias.then(|| layout.add(&format!("{name}.bias"), &[outputs], ZERO_INIT));
        Linear { weight, bias, inputs, outputs }
    }

    pub fn forward(&self, tape: &mut Tape, arena: &Arena, x: &Var) -> Result<Var> {
        let w = tape.param(arena, self.weight);
        let b = self.bias.map(|b| tape.param(arena, b));
        tape.linear(x, &w, b.as_ref())
    }
}

/// A convolution's kernel (square), stride and padding before and after each spatial axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub padding_end: usize,
}

/// 2-D convolution, weight [out, in, kh, kw].
#[derive(Clone, Debug)]
pub struct Conv2d {
    pub weight: ParamId,
    pub bias: Option<ParamId>,
    pub in_channels: usize,
    pub out_channels: usize,
    pub window: Window,
}

impl Conv2d {
    pub fn new(
        layout: &mut ArenaLayout,
        name: &str,
        in_channels: usize,
        out_channels: usize,
        window: Window,
        bias: bool,
    ) -> Conv2d {
        let k = window.kernel;
        let (weight, bias) =
            weight_and_bias(layout, name, [out_channels, in_channels, k, k], out_channels, bias);
        Conv2d { weight, bias, in_channels, out_channels, window }
    }

    pub fn geom(&self, x_shape: &[usize]) -> Result<ConvGeom> {
        crate::ensure!(
            x_shape.len() == 4 && x_shape[1] == self.in_channels,
            "conv2d: input {x_shape:?}, expected (N, {}, H, W)",
            self.in_channels
        );
        let Window { kernel: k, stride: s, padding: p, padding_end: pe } = self.window;
        let window =
            Window2d { kernel: (k, k), stride: (s, s), padding: (p, p), padding_end: (pe, pe) };
        let g = ConvGeom::new(
            [x_shape[0], self.in_channels, x_shape[2], x_shape[3]],
            self.out_channels,
            window,
        );
        g.validate()?;
        Ok(g)
    }

    pub fn forward(&self, tape: &mut Tape, arena: &Arena, x: &Var) -> Result<Var> {
        let geom = self.geom(x.shape())?;
        let w = tape.param(arena, self.weight);
        let b = self.bias.map(|b| tape.param(arena, b));
        tape.conv2d(x, &w, b.as_ref(), geom)
    }
}

/// 2-D transposed convolution, weight [in, out, kh, kw] as in PyTorch; its padding is cut from
/// the full output (`padding` rows and columns at the start, `padding_end` at the end).
#[derive(Clone, Debug)]
pub struct ConvTranspose2d {
    pub weight: ParamId,
    pub bias: Option<ParamId>,
    pub in_channels: usize,
    pub out_channels: usize,
    pub window: Window,
}

impl ConvTranspose2d {
    pub fn new(
        layout: &mut ArenaLayout,
        name: &str,
        in_channels: usize,
        out_channels: usize,
        window: Window,
        bias: bool,
    ) -> ConvTranspose2d {
        let k = window.kernel;
        let (weight, bias) =
            weight_and_bias(layout, name, [in_channels, out_channels, k, k], out_channels, bias);
        ConvTranspose2d { weight, bias, in_channels, out_channels, window }
    }

    pub fn geom(&self, x_shape: &[usize]) -> Result<ConvGeom> {
        crate::ensure!(
            x_shape.len() == 4 && x_shape[1] == self.in_channels,
            "conv_transpose2d: input {x_shape:?}, expected (N, {}, H, W)",
            self.in_channels
        );
        let Window { kernel: k, stride: s, padding: p, padding_end: pe } = self.window;
        let window =
            Window2d { kernel: (k, k), stride: (s, s), padding: (p, p), padding_end: (pe, pe) };
        conv::transposed_geom(
            [x_shape[0], self.in_channels, x_shape[2], x_shape[3]],
            self.out_channels,
            window,
        )
    }

    pub fn forward(&self, tape: &mut Tape, arena: &Arena, x: &Var) -> Result<Var> {
        let geom = self.geom(x.shape())?;
        let w = tape.param(arena, self.weight);
        let b = self.bias.map(|b| tape.param(arena, b));
        tape.conv_transpose2d(x, &w, b.as_ref(), geom)
    }
}

/// How a batch-norm layer normalises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BnMode {
    /// Batch statistics, gradients through them, running statistics updated.
    Train,
    /// Batch statistics without touching the running ones (evaluation "with batch statistics").
    BatchStats,
    /// Running statistics.
    Eval,
}

/// Batch norm over (N, C) or (N, C, H, W). Running statistics are state outside the arena: they
/// are not trained, and eval-mode normalisation reads them.
pub struct BatchNorm {
    pub gamma: ParamId,
    pub beta: ParamId,
    pub channels: usize,
    pub eps: f32,
    pub momentum: f32,
    /// [2C]: running means, then running variances (start 0 and 1, as in PyTorch).
    pub running: Tensor,
}

impl BatchNorm {
    pub fn new(
        gpu: &Gpu,
        layout: &mut ArenaLayout,
        name: &str,
        channels: usize,
    ) -> Result<BatchNorm> {
        let gamma = layout.add(&format!("{name}.gamma"), &[channels], GAMMA_INIT);
        let beta = layout.add(&format!("{name}.beta"), &[channels], ZERO_INIT);
        let mut init = vec![0.0; channels];
        init.extend(vec![1.0; channels]);
        let running = gpu.upload(&[2 * channels], &init)?;
        Ok(BatchNorm { gamma, beta, channels, eps: 1e-5, momentum: 0.1, running })
    }

    pub fn forward(&self, tape: &mut Tape, arena: &Arena, x: &Var, mode: BnMode) -> Result<Var> {
        let config = match mode {
            BnMode::Train => BnConfig::train(self.eps, self.momentum),
            BnMode::BatchStats => {
                BnConfig { update_running: false, ..BnConfig::train(self.eps, self.momentum) }
            }
            BnMode::Eval => BnConfig::eval(self.eps),
        };
        let (g, b) = (tape.param(arena, self.gamma), tape.param(arena, self.beta));
        tape.batch_norm(x, &g, &b, &self.running, config)
    }

    pub fn reset_running(&self, gpu: &Gpu) -> Result<()> {
        let mut init = vec![0.0; self.channels];
        init.extend(vec![1.0; self.channels]);
        gpu.write(&self.running, &init)
    }
}
