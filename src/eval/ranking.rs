//! Choosing among finished runs without labels, InfoGAN's own setting: each run is scored by how
//! much its recognition network's categorical posterior says about real held-out images,
//! I_Q(c; x) = H(mean of Q(c | x)) - mean of H(Q(c | x)), read from the run's newest evaluation
//! (batch norm in eval mode). A code that has found the data's classes assigns real images
//! confidently (low conditional entropy) and evenly (high marginal entropy); one whose categories
//! are styles G invented, or that lumps classes together, does neither on real images, however
//! well Q reads G's own samples. ARCHITECTURE.md argues the choice; the other label-free
//! candidates (the categorical bound on G's samples, code usage, Q's confidence) are reported
//! beside it, and where the data has labels, so is each candidate's rank correlation with accuracy.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::json::read_lines as json_lines;
use crate::model::config::TrainConfig;
use crate::model::presets::Model;

/// One run's label-free scores and, where its data has labels, its accuracy.
#[derive(Clone, Debug, PartialEq)]
pub struct RankedRun {
    pub dir: PathBuf,
    pub model: Model,
    /// The step of the newest evaluation.
    pub step: u64,
    /// I_Q(c; x) on real held-out images, summed over categorical codes (nats): the ranking score.
    pub posterior_information: f64,
    /// The mean of Q's largest category probability, averaged over categorical codes.
    pub confidence: f64,
    /// The entropy of the argmax's category counts, summed over categorical codes (nats).
    pub usage: f64,
    /// The categorical bound L_I_cat on G's samples, the mean over the last logged steps.
    pub bound: Option<f64>,
    /// The ceiling of the score: the sum of ln K over categorical codes.
    pub ceiling: f64,
    /// One-to-one accuracy and NMI of the first code against the first label column.
    pub accuracy: Option<f64>,
    pub nmi: Option<f64>,
    /// The newest grid of the first categorical code, if the run wrote one.
    pub grid: Option<PathBuf>,
}

/// Logged steps averaged for the bound (the last this many lines of metrics.jsonl).
const BOUND_WINDOW: usize = 10;

/// Reads a run folder's configuration and newest evaluation.
pub fn read_run(dir: &Path) -> Result<RankedRun> {
    let shown = dir.display();
    let config_path = dir.join("config.json");
    if !config_path.is_file() {
        return Err(Error::new(format!(
            "{shown} is not a run folder (no config.json); give folders written by `infogan train`"
        )));
    }
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| Error::new(format!("{}: {e}", config_path.display())))?;
    let config = TrainConfig::from_json(&text)
        .map_err(|e| Error::new(format!("{}: {e}", config_path.display())))?;
    if config.latent.categorical.is_empty() {
        return Err(Error::new(format!("{shown}: the {} model has no categorical code, and the ranking scores categorical codes", config.model)));
    }
    let evals = json_lines(&dir.join("eval.jsonl"));
    let Some(last) = evals.last() else {
        return Err(Error::new(format!("{shown} has no evaluations (eval.jsonl is missing or empty); training writes one every --sample-every steps")));
    };
    let step = last.get("step").and_then(|s| s.as_u64()).unwrap_or(0);
    let eval = last.get("eval").ok_or_else(|| {
        Error::new(format!("{shown}: eval.jsonl's last line has no `eval` scores"))
    })?;
    let codes = eval.get("codes").and_then(|c| c.as_array()).cloned().unwrap_or_default();
    let field = |code: &serde_json::Value, name: &str| code.get(name).and_then(|v| v.as_f64());
    let mut posterior_information = 0.0;
    let (mut confidence, mut usage, mut ceiling) = (0.0, 0.0, 0.0);
    for code in &codes {
        let (Some(information), Some(conf)) =
            (field(code, "posterior_mi_nats"), field(code, "confidence"))
        else {
            return Err(Error::new(format!(
                "{shown}: its evaluations were written by a build without the label-free scores; `infogan eval --checkpoint {shown}` prints them"
            )));
        };
        posterior_information += information;
        confidence += conf / codes.len() as f64;
        usage += field(code, "usage_nats").unwrap_or(0.0);
        ceiling += field(code, "ln_k").unwrap_or(0.0);
    }
    if codes.is_empty() {
        return Err(Error::new(format!(
            "{shown}: eval.jsonl's last evaluation scores no categorical code"
        )));
    }
    let metrics = json_lines(&dir.join("metrics.jsonl"));
    let recent: Vec<f64> = metrics
        .iter()
        .rev()
        .take(BOUND_WINDOW)
        .filter_map(|m| m.get("L_I_cat").and_then(|v| v.as_f64()))
        .collect();
    let bound = (!recent.is_empty()).then(|| recent.iter().sum::<f64>() / recent.len() as f64);
    let grid = newest_grid(&dir.join("samples"));
    Ok(RankedRun {
        dir: dir.to_path_buf(),
        model: config.model,
        step,
        posterior_information,
        confidence,
        usage,
        bound,
        ceiling,
        accuracy: eval.get("accuracy_hungarian").and_then(|v| v.as_f64()),
        nmi: eval.get("nmi").and_then(|v| v.as_f64()),
        grid,
    })
}

/// The runs, best first by the label-free score; runs of different models are refused.
pub fn rank(dirs: &[PathBuf]) -> Result<Vec<RankedRun>> {
    if dirs.is_empty() {
        return Err(Error::new("give at least one run folder"));
    }
    let mut runs = dirs.iter().map(|d| read_run(d)).collect::<Result<Vec<_>>>()?;
    if let Some(other) =
        runs.iter().find(|r| r.model != runs[0].model || r.ceiling != runs[0].ceiling)
    {
        return Err(Error::new(format!(
            "runs of different models cannot be ranked together: {} is {}, {} is {}",
            runs[0].dir.display(),
            runs[0].model,
            other.dir.display(),
            other.model
        )));
    }
    runs.sort_by(|a, b| b.posterior_information.total_cmp(&a.posterior_information));
    Ok(runs)
}

/// Spearman's rank correlation of two equally long series (ties take their mean rank); None
/// below three pairs or when either series is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 3 {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let (va, vb): (f64, f64) =
        (ra.iter().map(|x| (x - ma).powi(2)).sum(), rb.iter().map(|y| (y - mb).powi(2)).sum());
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// 1-based ranks, ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let mean = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = mean;
        }
        start = end;
    }
    out
}

/// `samples/step-N-cat0.png` with the largest N.
fn newest_grid(samples: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(samples).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step: u64 = name.strip_prefix("step-")?.strip_suffix("-cat0.png")?.parse().ok()?;
            Some((step, e.path()))
        })
        .max_by_key(|(step, _)| *step)
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_of_monotone_and_reversed_series() {
        let a = [1.0, 2.5, 3.0, 10.0];
        assert_eq!(spearman(&a, &[0.1, 0.2, 0.3, 0.4]), Some(1.0));
        assert_eq!(spearman(&a, &[4.0, 3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(spearman(&a[..2], &[1.0, 2.0]), None);
        assert_eq!(spearman(&a, &[1.0; 4]), None);
    }

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        // Hand-computed: ranks (1, 2.5, 2.5, 4) against (2, 1, 3, 4).
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[2.0, 1.0, 3.0, 4.0]).unwrap();
        let expected = 3.0 / (4.5f64 * 5.0).sqrt();
        assert!((r - expected).abs() < 1e-12, "{r} vs {expected}");
    }
}
