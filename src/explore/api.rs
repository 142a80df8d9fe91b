//! The explorer's two JSON messages: the model's description the page builds its controls from
//! (with what each code is known to capture, from the run's newest evaluation), and a grid
//! request, read strictly into the same `GridRequest` that `infogan sample` builds from its flags.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::config::TrainConfig;
use crate::model::latent::{GridLayout, GridRequest, CONTINUOUS_LIMIT, NOISE_ROWS};
use crate::nn::layers::BnMode;

/// The largest request body read; a grid request is a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// What the page may ask for: the layout, every code's value, the noise seed and the grid's size.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridQuery {
    #[serde(default)]
    layout: Layout,
    /// One category per categorical code, from code 0; codes left out are 0.
    #[serde(default)]
    categories: Vec<usize>,
    /// One value per continuous code, from code 0; codes left out are 0.
    #[serde(default)]
    continuous: Vec<f32>,
    seed: u64,
    #[serde(default = "ten")]
    cols: usize,
    #[serde(default = "ten")]
    rows: usize,
    /// `eval` (running statistics, the default) or `batch-stats`.
    #[serde(default)]
    bn: Option<String>,
}

fn ten() -> usize {
    10
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Layout {
    /// Every cell its own noise draw, all codes as given.
    #[default]
    Noise,
    /// Rows run through categorical code J's categories.
    VaryCat(usize),
    /// Columns sweep continuous code I over [-2, 2].
    Sweep(usize),
}

/// A grid request's body as the grid it asks for, checked against the model: a malformed body,
/// a code the model does not have, a category out of range or a far-out value is an error whose
/// message is one line for the page.
pub fn grid_request(body: &[u8], config: &TrainConfig) -> Result<(GridRequest, BnMode)> {
    let query: GridQuery =
        serde_json::from_slice(body).map_err(|e| Error::new(format!("malformed request: {e}")))?;
    let latent = &config.latent;
    if query.categories.len() > latent.categorical.len() {
        return Err(Error::new(format!(
            "{} categories given, but the model has {} categorical codes",
            query.categories.len(),
            latent.categorical.len()
        )));
    }
    if query.continuous.len() > latent.continuous {
        return Err(Error::new(format!(
            "{} continuous values given, but the model has {} continuous codes",
            query.continuous.len(),
            latent.continuous
        )));
    }
    let mode = match query.bn.as_deref() {
        None | Some("eval") => BnMode::Eval,
        Some("batch-stats") => BnMode::BatchStats,
        Some(other) => {
            return Err(Error::new(format!("bn `{other}`: use `eval` or `batch-stats`")))
        }
    };
    let layout = match query.layout {
        Layout::Noise => GridLayout::Noise,
        Layout::VaryCat(code) => GridLayout::Categories(code),
        Layout::Sweep(code) => GridLayout::Sweep(code),
    };
    let request = GridRequest {
        layout,
        categories: query.categories.into_iter().enumerate().collect(),
        continuous: query.continuous.into_iter().enumerate().collect(),
        seed: query.seed,
        cols: query.cols,
        noise_rows: query.rows,
    };
    // Checks every value and the grid's size now, so the error is the request's, not the GPU's.
    latent.grid(&request)?;
    Ok((request, mode))
}

/// The model as the page needs it: its codes, the range of the sliders, the grid defaults, and
/// what each code is known to capture where the run folder has evaluations (the one of the
/// checkpoint's step, else the newest before it).
pub fn model_description(
    config: &TrainConfig,
    step: u64,
    checkpoint: &Path,
    run: Option<&Path>,
) -> serde_json::Value {
    let latent = &config.latent;
    let lines = run.map(|dir| crate::json::read_lines(&dir.join("eval.jsonl"))).unwrap_or_default();
    let evaluation =
        lines.into_iter().rev().find(|l| l["step"].as_u64().is_some_and(|s| s <= step));
    serde_json::json!({
        "model": config.model.name(),
        "checkpoint": checkpoint.display().to_string(),
        "step": step,
        "image": config.network.image,
        "categorical": latent.categorical,
        "continuous": latent.continuous,
        // The prior is U(-1, 1); the paper's figures go to 2, the sliders a little beyond.
        "slider_range": [-2.5, 2.5],
        "value_limit": CONTINUOUS_LIMIT,
        "seed": config.seed,
        "rows": NOISE_ROWS,
        "cols": 10,
        "evaluation": evaluation.map(|e| known_factors(&e)),
    })
}

/// From one line of eval.jsonl (batch norm in eval mode): each categorical code's scores against
/// the labels, the first code's category -> label mapping, and the code x factor information.
fn known_factors(line: &serde_json::Value) -> serde_json::Value {
    let eval = &line["eval"];
    serde_json::json!({
        "step": line["step"],
        "codes": eval["codes"],
        "mapping": eval["mapping_hungarian"],
        "accuracy": eval["accuracy_hungarian"],
        "factors": eval["factors"],
    })
}
