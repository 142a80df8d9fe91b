//! Everything that defines a training run; saved in every checkpoint and compared on resume.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::infogan::latent::LatentSpec;
use crate::infogan::model::Widths;

/// Which optimiser trains Q's head, and which losses carry the mutual-information term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wiring {
    /// The official code: the MI term in both the D and the G loss; Q's head is stepped with D
    /// (D's learning rate), and the shared body learns from it too.
    Official,
    /// The common PyTorch alternative: D's loss is the GAN loss alone; Q's head is stepped with
    /// G (G's learning rate) on the G loss + MI term; the body learns only from D's loss.
    QWithG,
}

impl Wiring {
    pub fn parse(text: &str) -> Result<Wiring> {
        match text {
            "official" => Ok(Wiring::Official),
            "q-with-g" => Ok(Wiring::QWithG),
            other => Err(Error::new(format!("unknown wiring `{other}`; use `official` or `q-with-g`"))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Wiring::Official => "official",
            Wiring::QWithG => "q-with-g",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// `--data` as given: `mnist`, `fashion` or a folder.
    pub data: String,
    pub latent: LatentSpec,
    pub widths: Widths,
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
    pub wiring: Wiring,
}

impl TrainConfig {
    /// The paper's MNIST experiment on the embedded digits.
    pub fn paper(batch: usize, seed: u64) -> TrainConfig {
        TrainConfig {
            data: "mnist".into(),
            latent: LatentSpec::mnist(),
            widths: crate::infogan::model::Widths::PAPER,
            batch,
            seed,
            lr_d: 2e-4,
            lr_g: 1e-3,
            lambda_cat: 1.0,
            lambda_cont: 1.0,
            learned_std: false,
            leak: 0.1,
            wiring: Wiring::Official,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<TrainConfig> {
        serde_json::from_str(text).map_err(|e| Error::new(format!("unreadable run configuration ({e})")))
    }

    /// Settings that differ between `self` and `other`, as `name: ours vs theirs`.
    pub fn differences(&self, other: &TrainConfig) -> Vec<String> {
        let (a, b) = (serde_json::to_value(self).unwrap_or_default(), serde_json::to_value(other).unwrap_or_default());
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return vec!["configuration".into()] };
        a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, v)| format!("{k}: {v} vs {}", b.get(k).cloned().unwrap_or_default())).collect()
    }
}
