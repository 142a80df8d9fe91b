//! How Q's categorical codes read real images: for each code, the argmax category of each
//! held-out image against each label column the data has, scored with a one-to-one (Hungarian)
//! and a many-to-one (majority) mapping of categories to labels, normalised mutual information
//! and the confusion table; and, labels or not, each code's usage: the entropy of its argmax
//! over the images, against ln K for a code that uses all K categories equally.

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::eval::confusion::Confusion;
use crate::eval::factors::{factor_report, FactorReport};
use crate::gpu::Gpu;
use crate::json::round;
use crate::model::latent::LatentSpec;
use crate::model::networks::InfoGan;
use crate::nn::layers::BnMode;

/// Scores of one batch-norm mode.
#[derive(Clone, Debug)]
pub struct EvalReport {
    /// "eval" (running statistics) or "batch-stats".
    pub mode: &'static str,
    pub images: usize,
    pub hungarian: f64,
    pub hungarian_mapping: Vec<Option<usize>>,
    pub majority: f64,
    pub majority_mapping: Vec<Option<usize>>,
    pub nmi: f64,
    pub confusion: Confusion,
}

impl EvalReport {
    /// Scores predictions against labels 0..classes (10 when `classes` is None: digits).
    pub fn from_predictions(
        mode: &'static str,
        predicted: &[usize],
        labels: &[usize],
        categories: usize,
    ) -> Result<EvalReport> {
        Self::against(mode, predicted, labels, categories, 10)
    }

    pub fn against(
        mode: &'static str,
        predicted: &[usize],
        labels: &[usize],
        categories: usize,
        classes: usize,
    ) -> Result<EvalReport> {
        let confusion = Confusion::new(predicted, labels, categories, classes)?;
        let (hungarian_mapping, hungarian) = confusion.hungarian();
        let (majority_mapping, majority) = confusion.majority();
        Ok(EvalReport {
            mode,
            images: predicted.len(),
            hungarian,
            hungarian_mapping,
            majority,
            majority_mapping,
            nmi: confusion.nmi(),
            confusion,
        })
    }

    /// The report as JSON (eval.jsonl, `eval --json`): scores to 5 decimals, the mappings and
    /// the confusion table as rows of counts.
    pub fn json(&self) -> serde_json::Value {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            bn: &'a str,
            images: usize,
            accuracy_hungarian: f64,
            accuracy_majority: f64,
            nmi: f64,
            mapping_hungarian: &'a [Option<usize>],
            mapping_majority: &'a [Option<usize>],
            confusion: Vec<&'a [u64]>,
        }
        let c = &self.confusion;
        let report = Report {
            bn: self.mode,
            images: self.images,
            accuracy_hungarian: round(self.hungarian, 5),
            accuracy_majority: round(self.majority, 5),
            nmi: round(self.nmi, 5),
            mapping_hungarian: &self.hungarian_mapping,
            mapping_majority: &self.majority_mapping,
            confusion: c.counts.chunks(c.classes.max(1)).collect(),
        };
        serde_json::to_value(report).unwrap_or_default()
    }

    /// The confusion table: rows = Q's categories (with their Hungarian label), columns = labels.
    pub fn table(&self) -> String {
        let c = &self.confusion;
        let mut out = format!(
            "batch norm {}: accuracy {:.1}% (one-to-one), {:.1}% (many-to-one), NMI {:.3}, on {} images\n",
            self.mode,
            100.0 * self.hungarian,
            100.0 * self.majority,
            self.nmi,
            self.images
        );
        out += "  cat -> label |";
        for l in 0..c.classes {
            out += &format!("{l:>6}");
        }
        out += "\n";
        for k in 0..c.categories {
            let mapped = self.hungarian_mapping[k].map_or("-".into(), |l| l.to_string());
            out += &format!("  {k:>3} -> {mapped:>5} |");
            for l in 0..c.classes {
                out += &format!("{:>6}", c.get(k, l));
            }
            out += "\n";
        }
        out
    }
}

/// One categorical code read on held-out images.
#[derive(Clone, Debug)]
pub struct CodeReport {
    pub code: usize,
    pub categories: usize,
    /// Entropy of the code's argmax over the images, in nats; ln K when every category is used
    /// equally, 0 when one category takes every image.
    pub usage_nats: f64,
    /// Q's posterior on these images, label-free (see [`PosteriorStats`]).
    pub posterior: PosteriorStats,
    /// Against each label column: (its name, the scores).
    pub scores: Vec<(String, EvalReport)>,
}

/// Every code in one batch-norm mode.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// "eval" (running statistics) or "batch-stats".
    pub mode: &'static str,
    pub images: usize,
    pub codes: Vec<CodeReport>,
    /// Every code (categorical and continuous) against every label column, when there are labels.
    pub factors: Option<FactorReport>,
}

impl Evaluation {
    /// The headline score: the first code against the first label column, if the data has labels.
    pub fn primary(&self) -> Option<&EvalReport> {
        self.codes.first()?.scores.first().map(|(_, r)| r)
    }

    /// eval.jsonl and `eval --json`: the headline score's fields at the top (as a single-code
    /// report), then every code with its usage and its score against each label column.
    pub fn json(&self) -> serde_json::Value {
        let mut top = match self.primary() {
            Some(r) => r.json(),
            None => serde_json::json!({ "bn": self.mode, "images": self.images }),
        };
        let codes: Vec<serde_json::Value> = self
            .codes
            .iter()
            .map(|c| {
                let scores: Vec<serde_json::Value> = c
                    .scores
                    .iter()
                    .map(|(labels, r)| serde_json::json!({ "labels": labels, "accuracy_hungarian": round(r.hungarian, 5), "accuracy_majority": round(r.majority, 5), "nmi": round(r.nmi, 5) }))
                    .collect();
                serde_json::json!({
                    "code": c.code, "categories": c.categories, "usage_nats": round(c.usage_nats, 5), "ln_k": round((c.categories as f64).ln(), 5),
                    "posterior_mi_nats": round(c.posterior.information, 5), "confidence": round(c.posterior.confidence, 5), "scores": scores,
                })
            })
            .collect();
        if let Some(object) = top.as_object_mut() {
            object.insert("codes".into(), codes.into());
            if let Some(f) = &self.factors {
                let round_all = |v: &[f64]| v.iter().map(|x| round(*x, 5)).collect::<Vec<_>>();
                let factors = serde_json::json!({
                    "codes": f.codes, "factors": f.factors, "factor_entropy": round_all(&f.factor_entropy),
                    "mi": f.mi.iter().map(|row| round_all(row)).collect::<Vec<_>>(), "gap": round_all(&f.gap), "mig": round(f.mig, 5),
                });
                object.insert("factors".into(), factors);
            }
        }
        top
    }

    /// Each code's usage and scores, then the headline confusion table.
    pub fn text(&self) -> String {
        let mut out = format!(
            "batch norm {} on {} images:
",
            self.mode, self.images
        );
        for c in &self.codes {
            out += &format!(
                "  code {} ({} categories): usage {:.3} of ln K = {:.3} nats, posterior information {:.3} nats, confidence {:.3}",
                c.code,
                c.categories,
                c.usage_nats,
                (c.categories as f64).ln(),
                c.posterior.information,
                c.posterior.confidence
            );
            for (labels, r) in &c.scores {
                out += &format!(
                    "; vs {labels}: accuracy {:.1}% one-to-one, {:.1}% many-to-one, NMI {:.3}",
                    100.0 * r.hungarian,
                    100.0 * r.majority,
                    r.nmi
                );
            }
            out += "\n";
        }
        if let Some(f) = &self.factors {
            out += &format!(
                "  information between each code and each factor (nats; MIG {:.3}):\n  {:>6}",
                f.mig, ""
            );
            for (factor, h) in f.factors.iter().zip(&f.factor_entropy) {
                out += &format!(" {:>12}", format!("{factor} ({h:.2})"));
            }
            out += "\n";
            for (code, row) in f.codes.iter().zip(&f.mi) {
                out += &format!("  {code:>6}");
                for v in row {
                    out += &format!(" {v:>12.3}");
                }
                out += "\n";
            }
        }
        if let Some(r) = self.primary() {
            out += &r.table();
        }
        out
    }
}

/// Entropy in nats of how often each category was chosen.
pub fn usage_entropy(predicted: &[usize], categories: usize) -> f64 {
    let mut counts = vec![0usize; categories];
    for &p in predicted {
        counts[p] += 1;
    }
    let n = predicted.len().max(1) as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).ln()).sum()
}

/// How Q's categorical posterior p(c | x) reads a set of real images, without labels.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PosteriorStats {
    /// The information between the code and the images under Q's posterior, in nats:
    /// H(mean of p(c | x)) - mean of H(p(c | x)). ln K when Q assigns every image to one category
    /// with certainty and uses every category equally; 0 when its answer does not depend on x.
    pub information: f64,
    /// The mean over images of Q's largest category probability.
    pub confidence: f64,
}

/// Accumulates [`PosteriorStats`] over batches of logits.
#[derive(Clone, Debug)]
pub struct PosteriorAccumulator {
    categories: usize,
    mean: Vec<f64>,
    entropy: f64,
    confidence: f64,
    images: usize,
}

impl PosteriorAccumulator {
    pub fn new(categories: usize) -> PosteriorAccumulator {
        PosteriorAccumulator {
            categories,
            mean: vec![0.0; categories],
            entropy: 0.0,
            confidence: 0.0,
            images: 0,
        }
    }

    /// Adds the rows of `logits` ([n * categories]).
    pub fn add(&mut self, logits: &[f32]) {
        let mut p = vec![0.0f64; self.categories];
        for row in logits.chunks(self.categories) {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            let mut sum = 0.0;
            for (p, &v) in p.iter_mut().zip(row) {
                *p = (f64::from(v) - max).exp();
                sum += *p;
            }
            let mut best = 0.0f64;
            for (k, p) in p.iter_mut().enumerate() {
                *p /= sum;
                self.mean[k] += *p;
                best = best.max(*p);
                if *p > 0.0 {
                    self.entropy -= *p * p.ln();
                }
            }
            self.confidence += best;
            self.images += 1;
        }
    }

    pub fn finish(&self) -> PosteriorStats {
        let n = self.images.max(1) as f64;
        let marginal: f64 =
            self.mean.iter().map(|&m| m / n).filter(|&m| m > 0.0).map(|m| -m * m.ln()).sum();
        PosteriorStats { information: marginal - self.entropy / n, confidence: self.confidence / n }
    }
}

/// The argmax of each row of `logits` ([n * k]).
fn argmax_rows(logits: &[f32], k: usize) -> Vec<usize> {
    logits.chunks(k).map(|row| (0..k).fold(0, |b, i| if row[i] > row[b] { i } else { b })).collect()
}

/// Q's codes on `data`, in chunks of `batch` (a remainder smaller than 2 joins the last chunk,
/// since batch statistics need two images), in both batch-norm modes.
pub fn evaluate(
    gpu: &Gpu,
    model: &InfoGan,
    latent: &LatentSpec,
    data: &Dataset,
    batch: usize,
) -> Result<[Evaluation; 2]> {
    let categorical = &latent.categorical;
    let n = data.len();
    if n < 2 {
        return Err(Error::new(format!("{}: evaluation needs at least 2 images", data.name)));
    }
    let (scale, shift) = model.spec.pixel_range().from_byte();
    let pixels: Vec<f32> =
        data.images.pixels.iter().map(|&p| f32::from(p) / 255.0 * scale + shift).collect();
    let len = data.images.image_len();
    // Wide 64x64 networks (shapes, chairs) fit fewer images than EVAL_BATCH in one binding.
    let batch = batch.min(model.max_batch(gpu.max_binding_bytes())).clamp(2, n);
    let mut bounds: Vec<(usize, usize)> =
        (0..n).step_by(batch).map(|s| (s, (s + batch).min(n))).collect();
    if bounds.len() > 1 && bounds[bounds.len() - 1].1 - bounds[bounds.len() - 1].0 < 2 {
        let (_, end) = bounds.pop().unwrap_or_default();
        if let Some(last) = bounds.last_mut() {
            last.1 = end;
        }
    }
    let mut out = Vec::new();
    for (mode, name) in [(BnMode::Eval, "eval"), (BnMode::BatchStats, "batch-stats")] {
        let mut predicted = vec![Vec::with_capacity(n); categorical.len()];
        let mut posteriors: Vec<PosteriorAccumulator> =
            categorical.iter().map(|&k| PosteriorAccumulator::new(k)).collect();
        let mut means = vec![Vec::with_capacity(n); latent.continuous];
        for &(start, end) in &bounds {
            let (logits, cont) = model.recognize(gpu, &pixels[start * len..end * len], mode)?;
            for (((code, posterior), &k), logits) in
                predicted.iter_mut().zip(&mut posteriors).zip(categorical).zip(&logits)
            {
                code.extend(argmax_rows(logits, k));
                posterior.add(logits);
            }
            for row in cont.unwrap_or_default().chunks(latent.continuous.max(1)) {
                for (code, &v) in means.iter_mut().zip(row) {
                    code.push(v);
                }
            }
        }
        let mut codes = Vec::new();
        for (code, (&k, predicted)) in categorical.iter().zip(&predicted).enumerate() {
            let scores = data
                .labels
                .iter()
                .map(|column| {
                    let labels: Vec<usize> = column.values.iter().map(|&v| v as usize).collect();
                    Ok((
                        column.name.clone(),
                        EvalReport::against(name, predicted, &labels, k, column.classes())?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            codes.push(CodeReport {
                code,
                categories: k,
                usage_nats: usage_entropy(predicted, k),
                posterior: posteriors[code].finish(),
                scores,
            });
        }
        let with_codes: Vec<(Vec<usize>, usize)> =
            predicted.iter().cloned().zip(categorical.iter().copied()).collect();
        let factors =
            (!data.labels.is_empty()).then(|| factor_report(&with_codes, &means, &data.labels));
        out.push(Evaluation { mode: name, images: n, codes, factors });
    }
    let batch_stats = out.pop().ok_or_else(|| Error::new("no evaluation"))?;
    let eval = out.pop().ok_or_else(|| Error::new("no evaluation"))?;
    Ok([eval, batch_stats])
}
