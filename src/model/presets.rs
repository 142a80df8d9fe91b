//! The paper's five experiments as values: each preset is the networks of one table of Chen et
//! al. 2016 ("InfoGAN", arXiv 1606.03657, appendix C, tables 1-5), its latent code (section 5
//! and appendix C) and its input. All five use Adam with lr 2e-4 for D and 1e-3 for G (appendix
//! C), batch norm after most layers, LeakyReLU 0.1 in D, and N(0, 0.02) weights (the official
//! code). Layers followed by batch norm have no bias (it would be cancelled).
//!
//! Two more presets train on the rendered dataset with known factors (`--data shapes`): the
//! dSprites networks of InfoGAN-CR (Lin et al. 2020, their code's `network.py`) at 64x64, and a
//! shallower copy at 32x32, with a 3-way code for the shape and 4 continuous codes for scale,
//! rotation and position, trained with InfoGAN-CR's optimiser settings for those networks.
//!
//! Each preset's widths (`--widths`) are named slots with the paper's values by default, so a
//! narrow copy of any network (tests, parity goldens, quick runs) is one flag.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::latent::LatentSpec;
use crate::nn::network::LayerSpec;

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
            layers.iter().filter(|l| !matches!(l, LayerSpec::Reshape { .. })).map(LayerSpec::summary).collect::<Vec<_>>().join(", ")
        };
        [
            format!("G: {}", line(&self.generator)),
            format!("D: {} | head {}", line(&self.body), line(&self.d_head)),
            format!("Q: {} + one fc per code group", line(&self.q_hidden)),
        ]
    }
}

/// The presets: the paper's five experiments and the two models of the rendered shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    Mnist,
    Svhn,
    Celeba,
    Faces,
    Chairs,
    Shapes,
    Shapes32,
}

impl Model {
    pub const ALL: [Model; 7] = [Model::Mnist, Model::Svhn, Model::Celeba, Model::Faces, Model::Chairs, Model::Shapes, Model::Shapes32];

    /// The name on the command line and in config.json.
    pub fn name(self) -> &'static str {
        match self {
            Model::Mnist => "mnist",
            Model::Svhn => "svhn",
            Model::Celeba => "celeba",
            Model::Faces => "faces",
            Model::Chairs => "chairs",
            Model::Shapes => "shapes",
            Model::Shapes32 => "shapes32",
        }
    }

    pub fn parse(name: &str) -> Result<Model> {
        Model::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Model::ALL.iter().map(|m| m.name()).collect();
            Error::new(format!("unknown model `{name}`; choose one of {}", names.join(", ")))
        })
    }

    /// The width slots (`--widths`, in order) with the paper's values.
    pub fn width_slots(self) -> &'static [(&'static str, usize)] {
        match self {
            Model::Mnist | Model::Faces => &[("fc", 1024), ("wide", 128), ("narrow", 64), ("q_fc", 128)],
            Model::Svhn | Model::Celeba => &[("g_fc", 448), ("g1", 256), ("g2", 128), ("g3", 64), ("d1", 64), ("d2", 128), ("d3", 256), ("q_fc", 128)],
            Model::Chairs => &[("fc", 1024), ("g1", 256), ("g2", 128), ("g3", 64), ("d1", 64), ("d2", 128), ("d3", 256), ("q_fc", 128)],
            Model::Shapes | Model::Shapes32 => &[("fc", 128), ("wide", 64), ("narrow", 32), ("q_fc", 128)],
        }
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Model {
    type Err = Error;
    fn from_str(name: &str) -> Result<Model> {
        Model::parse(name)
    }
}

/// Everything a preset fixes.
#[derive(Clone, Debug)]
pub struct Preset {
    pub model: Model,
    pub network: NetworkSpec,
    pub latent: LatentSpec,
    /// The width slots and the values used.
    pub widths: Vec<(&'static str, usize)>,
    /// Where in the paper the numbers come from.
    pub source: &'static str,
    /// What the paper reports for this experiment.
    pub paper_result: &'static str,
    pub optimiser: Optimiser,
}

/// Adam's learning rates and the weights of the two information terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimiser {
    pub lr_d: f32,
    pub lr_g: f32,
    pub lambda_cat: f32,
    pub lambda_cont: f32,
}

/// The paper's five experiments (appendix C): D (and Q) at 2e-4, G at 1e-3, both terms weight 1.
pub const PAPER_OPTIMISER: Optimiser = Optimiser { lr_d: 2e-4, lr_g: 1e-3, lambda_cat: 1.0, lambda_cont: 1.0 };

/// InfoGAN-CR's settings for its dSprites networks (their `config.py`: D and Q at 2e-3, G at
/// 1e-3, information coefficient 0.05). With the paper's MNIST settings instead, G serves Q
/// alone on the shapes: it draws textures that encode the codes, and D wins from the start.
pub const INFOGAN_CR_OPTIMISER: Optimiser = Optimiser { lr_d: 2e-3, lr_g: 1e-3, lambda_cat: 0.05, lambda_cont: 0.05 };

/// The widths of the networks with one pair of convolutions (mnist, faces, shapes, shapes32):
/// their slots in order.
struct ConvPairWidths {
    fc: usize,
    wide: usize,
    narrow: usize,
    q_fc: usize,
}

/// The widths of the deeper networks (svhn and celeba, whose first slot is `g_fc`; chairs,
/// whose first is `fc`): their slots in order.
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

fn lin(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::Linear { name: name.into(), out, bias }
}

/// 4x4 convolution, stride 2, padding 1: halves the side.
fn down(name: &str, out: usize, bias: bool) -> LayerSpec {
    LayerSpec::Conv { name: name.into(), out, kernel: 4, stride: 2, padding: [1, 1], bias }
}

/// 4x4 convolution at stride 1 with TensorFlow's "same" padding (1 before, 2 after): keeps the side.
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

use LayerSpec::{LeakyRelu as LRELU, Relu as RELU, Sigmoid as SIGMOID, Tanh as TANH};

/// The preset with the paper's widths, or the given ones (one per width slot).
pub fn preset(model: Model, widths: Option<&[usize]>) -> Result<Preset> {
    let slots = model.width_slots();
    let values: Vec<usize> = match widths {
        None => slots.iter().map(|(_, v)| *v).collect(),
        Some(w) if w.len() == slots.len() && w.iter().all(|&v| (1..=8192).contains(&v)) => w.to_vec(),
        Some(w) => {
            let names: Vec<&str> = slots.iter().map(|(n, _)| *n).collect();
            let paper: Vec<String> = slots.iter().map(|(_, v)| v.to_string()).collect();
            return Err(Error::new(format!(
                "--widths: the {model} preset takes {} counts between 1 and 8192 ({}; the paper's: {}), got {w:?}",
                slots.len(),
                names.join(","),
                paper.join(",")
            )));
        }
    };
    let widths: Vec<(&'static str, usize)> = slots.iter().map(|(n, _)| *n).zip(values.iter().copied()).collect();
    let pair = || ConvPairWidths { fc: values[0], wide: values[1], narrow: values[2], q_fc: values[3] };
    let deep = || DeepWidths { fc: values[0], g1: values[1], g2: values[2], g3: values[3], d1: values[4], d2: values[5], d3: values[6], q_fc: values[7] };
    let preset = match model {
        Model::Mnist => {
            let w = pair();
            Preset {
            model: Model::Mnist,
            network: NetworkSpec {
                image: [1, 28, 28],
                generator: vec![
                    lin("fc1", w.fc, false), bn("bn1"), RELU,
                    lin("fc2", w.wide * 49, false), bn("bn2"), RELU, reshape(&[w.wide, 7, 7]),
                    up("up1", w.narrow, false), bn("bn3"), RELU,
                    up("up2", 1, true), SIGMOID,
                ],
                body: vec![
                    down("conv1", w.narrow, true), LRELU,
                    down("conv2", w.wide, false), bn("bn2"), LRELU, reshape(&[w.wide * 49]),
                    lin("fc", w.fc, false), bn("bn3"), LRELU,
                ],
                d_head: vec![lin("head", 1, true)],
                q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
            },
            latent: LatentSpec { noise: 62, categorical: vec![10], continuous: 2 },
            widths,
            source: "table 1 (appendix C); latent: section 5.1",
            paper_result: "the 10-way code classifies digits with 5% error; the continuous codes capture rotation and width",
            optimiser: PAPER_OPTIMISER,
        }},
        // SVHN and CelebA share table 2's networks; only the latent differs.
        Model::Svhn | Model::Celeba => {
            let w = deep();
            let color32 = NetworkSpec {
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
            };
            if model == Model::Svhn {
                Preset {
                    model: Model::Svhn,
                    network: color32,
                    latent: LatentSpec { noise: 124, categorical: vec![10; 4], continuous: 4 },
                    widths,
                    source: "table 2 (appendix C); latent: section 5.3",
                    paper_result: "codes separate lighting and the neighbouring digits from the central digit",
                    optimiser: PAPER_OPTIMISER,
                }
            } else {
                Preset {
                    model: Model::Celeba,
                    network: color32,
                    latent: LatentSpec { noise: 128, categorical: vec![10; 10], continuous: 0 },
                    widths,
                    source: "table 2 (appendix C); latent: section 5.3",
                    paper_result: "categorical codes capture azimuth, glasses, hair style and emotion",
                    optimiser: PAPER_OPTIMISER,
                }
            }
        }
        Model::Faces => {
            let w = pair();
            Preset {
            model: Model::Faces,
            network: NetworkSpec {
                image: [1, 32, 32],
                generator: vec![
                    lin("fc1", w.fc, false), bn("bn1"), RELU,
                    lin("fc2", w.wide * 64, false), bn("bn2"), RELU, reshape(&[w.wide, 8, 8]),
                    up("up1", w.narrow, false), bn("bn3"), RELU,
                    up("up2", 1, true), SIGMOID,
                ],
                body: vec![
                    down("conv1", w.narrow, true), LRELU,
                    down("conv2", w.wide, false), bn("bn2"), LRELU, reshape(&[w.wide * 64]),
                    lin("fc", w.fc, false), bn("bn3"), LRELU,
                ],
                d_head: vec![lin("head", 1, true)],
                q_hidden: vec![lin("fc", w.q_fc, false), bn("bn"), LRELU],
            },
            latent: LatentSpec { noise: 128, categorical: vec![], continuous: 5 },
            widths,
            source: "table 3 (appendix C); latent: section 5.2",
            paper_result: "continuous codes capture azimuth (pose), elevation, lighting and face width",
            optimiser: PAPER_OPTIMISER,
        }},
        Model::Chairs => {
            let w = deep();
            Preset {
            model: Model::Chairs,
            network: NetworkSpec {
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
            },
            latent: LatentSpec { noise: 128, categorical: vec![20; 3], continuous: 1 },
            widths,
            source: "table 4 (appendix C); latent: section 5.2",
            paper_result: "codes capture rotation (a continuous code) and chair width and type",
            optimiser: PAPER_OPTIMISER,
        }},
        Model::Shapes => {
            let w = pair();
            Preset {
            model: Model::Shapes,
            network: NetworkSpec {
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
            },
            latent: LatentSpec { noise: 5, categorical: vec![3], continuous: 4 },
            widths,
            source: "InfoGAN-CR's dSprites networks (Lin et al. 2020); latent: 3 shapes, 4 continuous factors",
            paper_result: "InfoGAN on dSprites: MIG 0.05; with InfoGAN-CR's changes 0.22; InfoGAN-CR 0.37 (Lin et al. 2020, table 1)",
            optimiser: INFOGAN_CR_OPTIMISER,
        }},
        Model::Shapes32 => {
            let w = pair();
            Preset {
            model: Model::Shapes32,
            network: NetworkSpec {
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
            },
            latent: LatentSpec { noise: 5, categorical: vec![3], continuous: 4 },
            widths,
            source: "the shapes networks with one layer fewer each way, for 32x32 renderings",
            paper_result: "no published figure at 32x32",
            optimiser: INFOGAN_CR_OPTIMISER,
        }},
    };
    Ok(preset)
}

/// `--widths A,B,..` as counts.
pub fn parse_widths(text: &str) -> Result<Vec<usize>> {
    text.split(',')
        .map(|p| p.trim().parse::<usize>().map_err(|_| Error::new(format!("--widths {text}: expected comma-separated counts, e.g. 1024,128,64,128"))))
        .collect()
}
