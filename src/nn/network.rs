//! A network as data: a list of layer descriptions (`LayerSpec`, serialisable, stored in every
//! checkpoint) that one builder turns into parameter slots of an arena and a forward pass on the
//! tape. Shapes are per sample and checked when the stack is built, so a description that does
//! not fit its input is an error naming the layer, before anything runs.

use serde::{Deserialize, Serialize};

use crate::arena::{Arena, ArenaLayout};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::nn::layers::{BatchNorm, BnMode, Conv2d, ConvTranspose2d, Linear, Window};
use crate::ops::elementwise::Activation;
use crate::ops::layout::ConvGeom;
use crate::tape::{Tape, Var};

/// One layer. Parameters are named `<prefix>.<name>.weight` (and `.bias`, `.gamma`, `.beta`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "layer", rename_all = "snake_case")]
pub enum LayerSpec {
    /// `x W^T + b` on a flat input [F]; W [out, F].
    Linear {
        name: String,
        out: usize,
        bias: bool,
    },
    /// A square convolution on [C, H, W]; `padding` zeros before and after each spatial axis.
    Conv {
        name: String,
        out: usize,
        kernel: usize,
        stride: usize,
        padding: [usize; 2],
        bias: bool,
    },
    /// A square transposed convolution on [C, H, W]; `padding` cut from the start and the end of
    /// the full output along each spatial axis.
    ConvTranspose {
        name: String,
        out: usize,
        kernel: usize,
        stride: usize,
        padding: [usize; 2],
        bias: bool,
    },
    /// Per channel of [C, H, W], or per feature of [F].
    BatchNorm {
        name: String,
    },
    Relu,
    /// LeakyReLU with the run's slope (`--leak`).
    LeakyRelu,
    Sigmoid,
    Tanh,
    /// The same values under another per-sample shape ([C, H, W] or [F]).
    Reshape {
        shape: Vec<usize>,
    },
}

impl LayerSpec {
    /// A one-line summary, e.g. `conv 64 k4 s2`, for tables and logs.
    pub fn summary(&self) -> String {
        let pad = |p: &[usize; 2], k: usize, s: usize| {
            if s == 1 && p[0] + p[1] + 1 == k {
                " same".to_string()
            } else if p == &[1, 1] && k == 4 {
                String::new()
            } else {
                format!(" p{}/{}", p[0], p[1])
            }
        };
        match self {
            LayerSpec::Linear { out, .. } => format!("fc {out}"),
            LayerSpec::Conv { out, kernel, stride, padding, .. } => {
                format!("conv {out} k{kernel} s{stride}{}", pad(padding, *kernel, *stride))
            }
            LayerSpec::ConvTranspose { out, kernel, stride, padding, .. } => {
                format!("upconv {out} k{kernel} s{stride}{}", pad(padding, *kernel, *stride))
            }
            LayerSpec::BatchNorm { .. } => "bn".into(),
            LayerSpec::Relu => "relu".into(),
            LayerSpec::LeakyRelu => "lrelu".into(),
            LayerSpec::Sigmoid => "sigmoid".into(),
            LayerSpec::Tanh => "tanh".into(),
            LayerSpec::Reshape { shape } => format!(
                "reshape {}",
                shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")
            ),
        }
    }
}

/// One built layer.
enum Layer {
    Linear(Linear),
    Conv(Conv2d),
    ConvTranspose(ConvTranspose2d),
    BatchNorm(String, BatchNorm),
    Activation(Activation),
    Reshape(Vec<usize>),
}

/// A built stack of layers: its parameter slots live in the arena layout it was built into.
pub struct Stack {
    layers: Vec<Layer>,
    input: Vec<usize>,
    output: Vec<usize>,
    /// Forward FLOPs per sample of each layer with weights, in order (2 * multiply-adds).
    flops: Vec<f64>,
    /// Floats per sample of the largest buffer a forward and backward pass allocates.
    largest_per_sample: usize,
}

/// A convolution's column matrix per sample: c_in * kh * kw taps at every output pixel (for a
/// transposed convolution, `g` is the direct convolution it inverts, so the same formula gives
/// the operand of its col2im).
fn columns_per_sample(g: &ConvGeom) -> usize {
    g.taps() * g.out_h() * g.out_w()
}

fn describe(shape: &[usize]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")
}

impl Stack {
    /// Builds `specs` on per-sample inputs of `input` ([F] or [C, H, W]), adding parameters to
    /// `layout` in layer order.
    pub fn build(
        gpu: &Gpu,
        layout: &mut ArenaLayout,
        prefix: &str,
        specs: &[LayerSpec],
        input: &[usize],
        leak: f32,
    ) -> Result<Stack> {
        let mut shape = input.to_vec();
        let mut layers = Vec::with_capacity(specs.len());
        let mut flops = Vec::new();
        let mut largest_per_sample = input.iter().product::<usize>();
        for (i, spec) in specs.iter().enumerate() {
            let at = |what: String| {
                Error::new(format!("network {prefix}, layer {i} ({}): {what}", spec.summary()))
            };
            let spatial = |shape: &[usize]| -> Result<(usize, usize, usize)> {
                match shape {
                    [c, h, w] => Ok((*c, *h, *w)),
                    _ => Err(at(format!(
                        "needs a [C, H, W] input, has {}; add a reshape",
                        describe(shape)
                    ))),
                }
            };
            let layer = match spec {
                LayerSpec::Linear { name, out, bias } => {
                    let [features] = shape[..] else {
                        return Err(at(format!(
                            "needs a flat input, has {}; add a reshape",
                            describe(&shape)
                        )));
                    };
                    flops.push(2.0 * (features * out) as f64);
                    shape = vec![*out];
                    Layer::Linear(Linear::new(
                        layout,
                        &format!("{prefix}.{name}"),
                        features,
                        *out,
                        *bias,
                    ))
                }
                LayerSpec::Conv { name, out, kernel, stride, padding, bias } => {
                    let (c, h, w) = spatial(&shape)?;
                    let window = Window {
                        kernel: *kernel,
                        stride: *stride,
                        padding: padding[0],
                        padding_end: padding[1],
                    };
                    let conv =
                        Conv2d::new(layout, &format!("{prefix}.{name}"), c, *out, window, *bias);
                    let g = conv.geom(&[1, c, h, w]).map_err(|e| at(e.to_string()))?;
                    flops.push(g.flops());
                    largest_per_sample = largest_per_sample.max(columns_per_sample(&g));
                    shape = vec![*out, g.out_h(), g.out_w()];
                    Layer::Conv(conv)
                }
                LayerSpec::ConvTranspose { name, out, kernel, stride, padding, bias } => {
                    let (c, h, w) = spatial(&shape)?;
                    let window = Window {
                        kernel: *kernel,
                        stride: *stride,
                        padding: padding[0],
                        padding_end: padding[1],
                    };
                    let conv = ConvTranspose2d::new(
                        layout,
                        &format!("{prefix}.{name}"),
                        c,
                        *out,
                        window,
                        *bias,
                    );
                    let g = conv.geom(&[1, c, h, w]).map_err(|e| at(e.to_string()))?;
                    flops.push(g.flops());
                    largest_per_sample = largest_per_sample.max(columns_per_sample(&g));
                    shape = vec![*out, g.h, g.w];
                    Layer::ConvTranspose(conv)
                }
                LayerSpec::BatchNorm { name } => {
                    let channels = shape[0];
                    let full = format!("{prefix}.{name}");
                    let bn = BatchNorm::new(gpu, layout, &full, channels)?;
                    Layer::BatchNorm(full, bn)
                }
                LayerSpec::Relu => Layer::Activation(Activation::Relu),
                LayerSpec::LeakyRelu => Layer::Activation(Activation::LeakyRelu { slope: leak }),
                LayerSpec::Sigmoid => Layer::Activation(Activation::Sigmoid),
                LayerSpec::Tanh => Layer::Activation(Activation::Tanh),
                LayerSpec::Reshape { shape: to } => {
                    let (have, want) =
                        (shape.iter().product::<usize>(), to.iter().product::<usize>());
                    if have != want || !(to.len() == 1 || to.len() == 3) {
                        return Err(at(format!(
                            "cannot reshape {} ({have} values) to {}",
                            describe(&shape),
                            describe(to)
                        )));
                    }
                    shape = to.clone();
                    Layer::Reshape(to.clone())
                }
            };
            largest_per_sample = largest_per_sample.max(shape.iter().product());
            layers.push(layer);
        }
        Ok(Stack { layers, input: input.to_vec(), output: shape, flops, largest_per_sample })
    }

    /// Per-sample input shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.input
    }

    /// Per-sample output shape.
    pub fn output_shape(&self) -> &[usize] {
        &self.output
    }

    /// Forward FLOPs per sample of each layer with weights (Linear, conv), in order.
    pub fn layer_flops(&self) -> &[f64] {
        &self.flops
    }

    /// Floats per sample of the largest buffer the stack's forward and backward passes allocate:
    /// a layer's input or output, or a convolution's columns (im2col, and a transposed
    /// convolution's col2im operand), which are the largest by far.
    pub fn largest_per_sample(&self) -> usize {
        self.largest_per_sample
    }

    /// `x` [B, input...] through every layer.
    pub fn forward(&self, tape: &mut Tape, arena: &Arena, x: &Var, mode: BnMode) -> Result<Var> {
        let batch = x.shape()[0];
        let mut h = x.clone();
        for layer in &self.layers {
            h = match layer {
                Layer::Linear(l) => l.forward(tape, arena, &h)?,
                Layer::Conv(c) => c.forward(tape, arena, &h)?,
                Layer::ConvTranspose(c) => c.forward(tape, arena, &h)?,
                Layer::BatchNorm(_, bn) => bn.forward(tape, arena, &h, mode)?,
                Layer::Activation(f) => tape.activation(&h, *f)?,
                Layer::Reshape(shape) => {
                    let mut full = vec![batch];
                    full.extend_from_slice(shape);
                    tape.reshape(&h, &full)?
                }
            };
        }
        Ok(h)
    }

    /// The batch-norm layers with their full names (`g.bn1`), in order.
    pub fn batch_norms(&self) -> Vec<(&str, &BatchNorm)> {
        self.layers
            .iter()
            .filter_map(|l| match l {
                Layer::BatchNorm(name, bn) => Some((name.as_str(), bn)),
                _ => None,
            })
            .collect()
    }
}
