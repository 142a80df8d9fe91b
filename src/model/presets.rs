//! The models as values: the paper's five experiments, each the networks of one table of Chen et
//! al. 2016 ("InfoGAN", arXiv 1606.03657, appendix C, tables 1-5), its latent code (section 5
//! and appendix C), its input and its optimiser settings (Adam with lr 2e-4 for D and 1e-3 for G,
//! appendix C), and two models of the rendered dataset with known factors (`--data shapes`):
//! InfoGAN-CR's dSprites networks (Lin et al. 2020, their code's `network.py`) at 64x64 and a
//! shallower copy at 32x32, with a 3-way code for the shape and 4 continuous codes for scale,
//! rotation and position, trained with InfoGAN-CR's optimiser settings. The layer lists are in
//! `architectures`.
//!
//! Each model's widths (`--widths`) are named slots with the paper's values by default, so a
//! narrow copy of any network (tests, parity goldens, quick runs) is one flag.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::architectures::{self, NetworkSpec};
use crate::model::latent::LatentSpec;

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
    pub const ALL: [Model; 7] = [
        Model::Mnist,
        Model::Svhn,
        Model::Celeba,
        Model::Faces,
        Model::Chairs,
        Model::Shapes,
        Model::Shapes32,
    ];

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
            Model::Mnist | Model::Faces => {
                &[("fc", 1024), ("wide", 128), ("narrow", 64), ("q_fc", 128)]
            }
            Model::Svhn | Model::Celeba => &[
                ("g_fc", 448),
                ("g1", 256),
                ("g2", 128),
                ("g3", 64),
                ("d1", 64),
                ("d2", 128),
                ("d3", 256),
                ("q_fc", 128),
            ],
            Model::Chairs => &[
                ("fc", 1024),
                ("g1", 256),
                ("g2", 128),
                ("g3", 64),
                ("d1", 64),
                ("d2", 128),
                ("d3", 256),
                ("q_fc", 128),
            ],
            Model::Shapes | Model::Shapes32 => {
                &[("fc", 128), ("wide", 64), ("narrow", 32), ("q_fc", 128)]
            }
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
pub const PAPER_OPTIMISER: Optimiser =
    Optimiser { lr_d: 2e-4, lr_g: 1e-3, lambda_cat: 1.0, lambda_cont: 1.0 };

/// InfoGAN-CR's settings for its dSprites networks (their `config.py`: D and Q at 2e-3, G at
/// 1e-3, information coefficient 0.05). With the paper's MNIST settings instead, G serves Q
/// alone on the shapes: it draws textures that encode the codes, and D wins from the start.
pub const INFOGAN_CR_OPTIMISER: Optimiser =
    Optimiser { lr_d: 2e-3, lr_g: 1e-3, lambda_cat: 0.05, lambda_cont: 0.05 };

/// The preset with the paper's widths, or the given ones (one per width slot).
pub fn preset(model: Model, widths: Option<&[usize]>) -> Result<Preset> {
    let slots = model.width_slots();
    let values: Vec<usize> = match widths {
        None => slots.iter().map(|(_, v)| *v).collect(),
        Some(w) if w.len() == slots.len() && w.iter().all(|&v| (1..=8192).contains(&v)) => {
            w.to_vec()
        }
        Some(w) => {
            let names: Vec<&str> = slots.iter().map(|(n, _)| *n).collect();
            let paper: Vec<String> = slots.iter().map(|(_, v)| v.to_string()).collect();
            return Err(Error::new(format!(
                "--widths: the {model} preset takes {} counts between 1 and 8192 ({}; the paper's: \
                 {}), got {w:?}",
                slots.len(),
                names.join(","),
                paper.join(",")
            )));
        }
    };
    let latent = |noise, categorical: &[usize], continuous| LatentSpec {
        noise,
        categorical: categorical.to_vec(),
        continuous,
    };
    let (latent, source, paper_result, optimiser) = match model {
        Model::Mnist => (
            latent(62, &[10], 2),
            "table 1 (appendix C); latent: section 5.1",
            "the 10-way code classifies digits with 5% error; the continuous codes capture \
             rotation and width",
            PAPER_OPTIMISER,
        ),
        Model::Svhn => (
            latent(124, &[10; 4], 4),
            "table 2 (appendix C); latent: section 5.3",
            "codes separate lighting and the neighbouring digits from the central digit",
            PAPER_OPTIMISER,
        ),
        Model::Celeba => (
            latent(128, &[10; 10], 0),
            "table 2 (appendix C); latent: section 5.3",
            "categorical codes capture azimuth, glasses, hair style and emotion",
            PAPER_OPTIMISER,
        ),
        Model::Faces => (
            latent(128, &[], 5),
            "table 3 (appendix C); latent: section 5.2",
            "continuous codes capture azimuth (pose), elevation, lighting and face width",
            PAPER_OPTIMISER,
        ),
        Model::Chairs => (
            latent(128, &[20; 3], 1),
            "table 4 (appendix C); latent: section 5.2",
            "codes capture rotation (a continuous code) and chair width and type",
            PAPER_OPTIMISER,
        ),
        Model::Shapes => (
            latent(5, &[3], 4),
            "InfoGAN-CR's dSprites networks (Lin et al. 2020); latent: 3 shapes, 4 continuous \
             factors",
            "InfoGAN on dSprites: MIG 0.05; with InfoGAN-CR's changes 0.22; InfoGAN-CR 0.37 \
             (Lin et al. 2020, table 1)",
            INFOGAN_CR_OPTIMISER,
        ),
        Model::Shapes32 => (
            latent(5, &[3], 4),
            "the shapes networks with one layer fewer each way, for 32x32 renderings",
            "no published figure at 32x32",
            INFOGAN_CR_OPTIMISER,
        ),
    };
    Ok(Preset {
        model,
        network: match model {
            Model::Mnist => architectures::conv_pair(&values, 7),
            Model::Faces => architectures::conv_pair(&values, 8),
            Model::Svhn | Model::Celeba => architectures::color32(&values),
            Model::Chairs => architectures::chairs(&values),
            Model::Shapes => architectures::shapes64(&values),
            Model::Shapes32 => architectures::shapes32(&values),
        },
        latent,
        widths: slots.iter().map(|(n, _)| *n).zip(values.iter().copied()).collect(),
        source,
        paper_result,
        optimiser,
    })
}

/// `--widths A,B,..` as counts.
pub fn parse_widths(text: &str) -> Result<Vec<usize>> {
    text.split(',')
        .map(|p| {
            p.trim().parse::<usize>().map_err(|_| {
                Error::new(format!(
                    "--widths {text}: expected comma-separated counts, e.g. 1024,128,64,128"
                ))
            })
        })
        .collect()
}
