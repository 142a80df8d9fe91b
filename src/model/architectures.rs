//! The networks of each model as layer lists: the tables of Chen et al. 2016 (appendix C,
//! tables 1-5) and InfoGAN-CR's dSprites networks, at the widths given for each model's named
//! slots. Batch norm follows most layers, and a layer followed by batch norm has no bias (it would
//! be cancelled).

use serde::{Deserialize, Serialize};

use crate::nn::network::LayerSpec;
use LayerSpec::{LeakyRelu as LRELU, Relu as RELU, Sigmoid as SIGMOID, Tanh as TANH};

/// The four parts of an InfoGAN: G, the body D and Q share, D's head and Q's hidden layers (Q's
/// output layers, one per code group, follow from the latent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// Images [C, H, W] that G makes and D reads.
    pub image: [usize; 3],
    pub generator: Vec<LayerSpec>,
    pub body: Vec<LayerSpec>,
    pub d_head: Vec<LayerSpec>,
    pub q_hidden: Vec<LayerSpec>,
}

/// What pixel values the networks see: G's last activation decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelRange {
    /// [0, 1] (sigmoid output).
    Unit,
    /// [-1, 1] (tanh output).
    Signed,
}

impl PixelRange {
    /// `pixel = byte * scale + shift`.
    pub fn from_byte(self) -> (f32, f32) {
        match self {
            PixelRange::Unit => (1.0, 0.0),
            PixelRange::Signed => (2.0, -1.0),
        }
    }

    /// A network value back to [0, 1] for pictures.
    pub fn to_unit(self, v: f32) -> f32 {
        match self {
            PixelRange::Unit => v,
            PixelRange::Signed => 0.5 * (v + 1.0),
        }
    }
}

impl NetworkSpec {
    pub fn pixel_range(&self) -> PixelRange {
        match self.generator.last() {
            Some(LayerSpec::Tanh) => PixelRange::Signed,
            _ => PixelRange::Unit,
        }
    }

    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.image.iter().product()
    }

    /// One line per network, e.g. `G: fc 1024, bn, relu, ...`, for README tables and logs.
    pub fn summary(&self) -> [String; 3] {
        let line = |layers: &[LayerSpec]| {
            layers
                .iter()
                .filter(|l| !matches!(l, LayerSpec::Reshape { .. }))
                .map(LayerSpec::summary)
                .collect::<Vec<_>>()
                .join(", ")
        };
        [
            format!("G: {}", line(&self.generator)),
            format!("D: {} | head {}", line(&self.body), line(&self.d_head)),
            format!("Q: {} + one fc per code group", line(&self.q_hidden)),
        ]
    }
}

/// The widths of the networks with one pair of convolutions (mnist, faces, shapes, shapes32),
/// their slots in order.
struct ConvPairWidths {
    fc: usize,
    wide: usize,
    narrow: usize,
    q_fc: usize,
}

impl ConvPairWidths {
    fn new(values: &[usize]) -> ConvPairWidths {
        ConvPairWidths { fc: values[0], wide: values[1], narrow: values[2], q_fc: values[3] }
    }
}

/// The widths of the deeper networks (svhn and celeba, whose first slot is `g_fc`; chairs, whose
/// first is `fc`), their slots in order.
struct DeepWidths {
    fc: usize,
    g1: usize,
    g2: usize,
    g3: usize,
    d1: usize,
    d2: usize,
    d3: usize,
    q_fc: usize,
}

impl DeepWidths {
    fn new(v: &[usize]) -> DeepWidths {
        DeepWidths {
            fc: v[0],
            g1: v[1],
            g2: v[2],
            g3: v[3],
            d1: v[4],
            d2: v[5],
            d3: v[6],
            q_fc: v[7],
        }
    }
}

fn lin(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::Linear { name: name.into(), out, bias }
}

/// 4x4 convolution, stride 2, padding 1: halves the side.
fn down(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::Conv { name: name.into(), out, kernel: 4, stride: 2, padding: [1, 1], bias }
}

/// 4x4 convolution at stride 1 with TensorFlow's "same" padding (1 before, 2 after): keeps the
/// side.
fn same(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::Conv { name: name.into(), out, kernel: 4, stride: 1, padding: [1, 2], bias }
}

/// 4x4 transposed convolution, stride 2, padding 1: doubles the side.
fn up(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::ConvTranspose { name: name.into(), out, kernel: 4, stride: 2, padding: [1, 1], bias }
}

/// 4x4 transposed convolution at stride 1, "same": keeps the side.
fn up_same(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::ConvTranspose { name: name.into(), out, kernel: 4, stride: 1, padding: [1, 2], bias }
}

fn bn(name: &str) -> LayerSpec {
    LayerSpec::BatchNorm { name: name.into() }
}

fn reshape(shape: &[usize]) -> LayerSpec {
    LayerSpec::Reshape { shape: shape.to_vec() }
}

// Each network takes one width per slot of its model's `Model::width_slots`, in order (checked
// by the caller). One row per layer group reads as the paper's tables, so rustfmt leaves them.

/// Table 1 (MNIST, 28x28) and table 3 (3D faces, 32x32): the same layers for grey images of
/// side `4 * side`.
#[rustfmt::skip]
pub fn conv_pair(widths: &[usize], side: usize) -> NetworkSpec {
    let w = ConvPairWidths::new(widths);
    let image = [1, 4 * side, 4 * side];
    NetworkSpec {
        image,
        generator: vec![
            lin("fc1", w.fc, false), bn("bn1"), RELU,
            lin("fc2", w.wide * side * side, false), bn("bn2"), RELU, reshape(&[w.wide, side, side]),
            up("up1", w.narrow, false), bn("bn3"), RELU,
            up("up2", 1, true), SIGMOID,
        ],
        body: vec![
            down("conv1", w.narrow, true), LRELU,
            down("conv2", w.wide, false), bn("bn2"), LRELU, reshape(&[w.wide * side * side]),
            lin("fc", w.fc, false), bn("bn3"), LRELU,
        ],
        d_head: vec![lin("head", 1, true)],
        q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
    }
}

/// Table 2: SVHN and CelebA share the networks (colour, 32x32); only the latent differs.
#[rustfmt::skip]
pub fn color32(widths: &[usize]) -> NetworkSpec {
    let w = DeepWidths::new(widths);
    NetworkSpec {
        image: [3, 32, 32],
        generator: vec![
            lin("fc1", w.fc * 4, false), bn("bn1"), RELU, reshape(&[w.fc, 2, 2]),
            up("up1", w.g1, false), bn("bn2"), RELU,
            up("up2", w.g2, true), RELU,
            up("up3", w.g3, true), RELU,
            up("up4", 3, true), TANH,
        ],
        body: vec![
            down("conv1", w.d1, true), LRELU,
            down("conv2", w.d2, false), bn("bn2"), LRELU,
            down("conv3", w.d3, false), bn("bn3"), LRELU, reshape(&[w.d3 * 16]),
        ],
        d_head: vec![lin("head", 1, true)],
        q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
    }
}

/// Table 4 (3D chairs, grey, 64x64).
#[rustfmt::skip]
pub fn chairs(widths: &[usize]) -> NetworkSpec {
    let w = DeepWidths::new(widths);
    NetworkSpec {
        image: [1, 64, 64],
        generator: vec![
            lin("fc1", w.fc, false), bn("bn1"), RELU,
            lin("fc2", w.g1 * 64, false), bn("bn2"), RELU, reshape(&[w.g1, 8, 8]),
            up_same("up1", w.g1, false), bn("bn3"), RELU,
            up_same("up2", w.g1, false), bn("bn4"), RELU,
            up("up3", w.g2, false), bn("bn5"), RELU,
            up("up4", w.g3, false), bn("bn6"), RELU,
            up("up5", 1, true), SIGMOID,
        ],
        body: vec![
            down("conv1", w.d1, true), LRELU,
            down("conv2", w.d2, false), bn("bn2"), LRELU,
            down("conv3", w.d3, false), bn("bn3"), LRELU,
            same("conv4", w.d3, false), bn("bn4"), LRELU,
            same("conv5", w.d3, false), bn("bn5"), LRELU, reshape(&[w.d3 * 64]),
            lin("fc", w.fc, false), bn("bn6"), LRELU,
        ],
        d_head: vec![lin("head", 1, true)],
        q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
    }
}

/// InfoGAN-CR's dSprites networks (grey, 64x64).
#[rustfmt::skip]
pub fn shapes64(widths: &[usize]) -> NetworkSpec {
    let w = ConvPairWidths::new(widths);
    NetworkSpec {
        image: [1, 64, 64],
        generator: vec![
            lin("fc1", w.fc, false), bn("bn1"), RELU,
            lin("fc2", w.wide * 16, false), bn("bn2"), RELU, reshape(&[w.wide, 4, 4]),
            up("up1", w.wide, false), bn("bn3"), RELU,
            up("up2", w.narrow, false), bn("bn4"), RELU,
            up("up3", w.narrow, false), bn("bn5"), RELU,
            up("up4", 1, true), SIGMOID,
        ],
        body: vec![
            down("conv1", w.narrow, true), LRELU,
            down("conv2", w.narrow, false), bn("bn2"), LRELU,
            down("conv3", w.wide, false), bn("bn3"), LRELU,
            down("conv4", w.wide, false), bn("bn4"), LRELU, reshape(&[w.wide * 16]),
            lin("fc", w.fc, false), bn("bn5"), LRELU,
        ],
        d_head: vec![lin("head", 1, true)],
        q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
    }
}

/// The shapes networks with one layer fewer each way (grey, 32x32).
#[rustfmt::skip]
pub fn shapes32(widths: &[usize]) -> NetworkSpec {
    let w = ConvPairWidths::new(widths);
    NetworkSpec {
        image: [1, 32, 32],
        generator: vec![
            lin("fc1", w.fc, false), bn("bn1"), RELU,
            lin("fc2", w.wide * 16, false), bn("bn2"), RELU, reshape(&[w.wide, 4, 4]),
            up("up1", w.wide, false), bn("bn3"), RELU,
            up("up2", w.narrow, false), bn("bn4"), RELU,
            up("up3", 1, true), SIGMOID,
        ],
        body: vec![
            down("conv1", w.narrow, true), LRELU,
            down("conv2", w.wide, false), bn("bn2"), LRELU,
            down("conv3", w.wide, false), bn("bn3"), LRELU, reshape(&[w.wide * 16]),
            lin("fc", w.fc, false), bn("bn4"), LRELU,
        ],
        d_head: vec![lin("head", 1, true)],
        q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
    }
}
