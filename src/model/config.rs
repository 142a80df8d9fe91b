//! Everything that defines a training run; saved in every checkpoint and compared on resume.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::architectures::NetworkSpec;
use crate::model::latent::LatentSpec;
use crate::model::presets::{self, Model, Optimiser};

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
            other => {
                Err(Error::new(format!("unknown wiring `{other}`; use `official` or `q-with-g`")))
            }
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
    /// `--data` as given: `mnist`, `fashion`, `shapes` or a path.
    pub data: String,
    /// Train on the first this many images only (`--max-images`), for sets larger than the
    /// adapter can hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_images: Option<usize>,
    /// The preset the networks and the defaults come from (`--model`).
    pub model: Model,
    pub latent: LatentSpec,
    /// The preset's width slots, in order (`--widths`).
    pub widths: Vec<usize>,
    /// The networks as built from the preset and widths; stored so that every command rebuilds
    /// them from a checkpoint alone.
    pub network: NetworkSpec,
    pub batch: usize,
    pub seed: u64,
    /// Adam's learning rates and the information terms' weights; their fields sit at the top
    /// level of config.json (`lr_d`, `lr_g`, `lambda_cat`, `lambda_cont`), as always.
    #[serde(flatten)]
    pub optimiser: Optimiser,
    /// Q predicts a log-std per continuous code (the paper) instead of using std 1 (official).
    pub learned_std: bool,
    /// LeakyReLU slope: 0.1 in the paper, 0.01 in the official code.
    pub leak: f32,
    pub wiring: Wiring,
    /// How often the run logs, evaluates, checkpoints and probes. It changes no trained number;
    /// it is kept so that `--resume` goes on at the cadence the run had. Absent in runs written
    /// before it was kept (they resume at the defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

/// The cadence of a run's side work, in steps (`--log-every`, `--sample-every`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Read back the step's scalars and log them.
    pub log_every: u64,
    /// Grids, held-out evaluation and report.html (and at the end).
    pub sample_every: u64,
    /// A checkpoint (and at the end, and on Ctrl-C).
    pub checkpoint_every: u64,
    /// Checkpoints kept (the newest).
    pub keep: usize,
    /// Probe the slack of both bounds (0: never); see `train::probe`.
    pub probe_every: u64,
    /// D/Q steps of each probe pair.
    pub probe_steps: usize,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule {
            log_every: 10,
            sample_every: 100,
            checkpoint_every: 250,
            keep: 3,
            probe_every: 0,
            probe_steps: 50,
        }
    }
}

impl TrainConfig {
    /// The paper's MNIST experiment on the embedded digits.
    pub fn paper(batch: usize, seed: u64) -> TrainConfig {
        TrainConfig::for_preset(Model::Mnist, batch, seed)
    }

    /// A preset's experiment with its latent, widths and optimiser settings; data `mnist` until set.
    pub fn for_preset(model: Model, batch: usize, seed: u64) -> TrainConfig {
        let preset = presets::preset(model, None)
            .unwrap_or_else(|_| unreachable!("every preset builds at the paper's widths"));
        TrainConfig {
            data: "mnist".into(),
            max_images: None,
            model,
            latent: preset.latent,
            widths: preset.widths.iter().map(|(_, v)| *v).collect(),
            network: preset.network,
            batch,
            seed,
            optimiser: preset.optimiser,
            learned_std: false,
            leak: 0.1,
            wiring: Wiring::Official,
            schedule: None,
        }
    }

    /// Rebuilds the networks with other widths (one per slot of the preset).
    pub fn set_widths(&mut self, widths: &[usize]) -> Result<()> {
        self.network = presets::preset(self.model, Some(widths))?.network;
        self.widths = widths.to_vec();
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a configuration, including those written before networks were descriptions (MNIST
    /// only, widths as `{fc, conv_wide, conv_narrow, q_fc}`, no `model` or `network`).
    pub fn from_json(text: &str) -> Result<TrainConfig> {
        let unreadable = |e: String| Error::new(format!("unreadable run configuration ({e})"));
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| unreadable(e.to_string()))?;
        if let Some(object) = value.as_object_mut() {
            if let Some(old) = object.get("widths").and_then(|w| w.as_object()) {
                let slot = |k: &str| old.get(k).and_then(|v| v.as_u64()).unwrap_or(0) as usize;
                let widths = vec![slot("fc"), slot("conv_wide"), slot("conv_narrow"), slot("q_fc")];
                object.insert("widths".into(), serde_json::json!(widths));
            }
            if !object.contains_key("model") {
                object.insert("model".into(), "mnist".into());
            }
            if !object.contains_key("network") {
                let model =
                    Model::parse(object.get("model").and_then(|m| m.as_str()).unwrap_or("mnist"))?;
                let widths: Vec<usize> =
                    serde_json::from_value(object.get("widths").cloned().unwrap_or_default())
                        .map_err(|e| unreadable(e.to_string()))?;
                let network = presets::preset(model, Some(&widths))?.network;
                object.insert(
                    "network".into(),
                    serde_json::to_value(network).map_err(|e| unreadable(e.to_string()))?,
                );
            }
        }
        serde_json::from_value(value).map_err(|e| unreadable(e.to_string()))
    }

    /// Settings that differ between `self` and `other`, as `name: ours vs theirs`. The network
    /// follows from the model and widths, which are compared instead of its long description; the
    /// schedule changes no number, so a resumed run may change it.
    pub fn differences(&self, other: &TrainConfig) -> Vec<String> {
        let (a, b) = (
            serde_json::to_value(self).unwrap_or_default(),
            serde_json::to_value(other).unwrap_or_default(),
        );
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            return vec!["configuration".into()];
        };
        a.iter()
            .filter(|(k, _)| !matches!(k.as_str(), "network" | "schedule"))
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: {v} vs {}", b.get(k).cloned().unwrap_or_default()))
            .collect()
    }
}
