//! How Q's categorical codes read real images: for each code, the argmax category of each
//! held-out image against each label column the data has, scored with a one-to-one (Hungarian)
//! and a many-to-one (majority) mapping of categories to labels, normalised mutual information
//! and the confusion table; and, labels or not, each code's usage: the entropy of its argmax
//! over the images, against ln K for a code that uses all K categories equally.

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::infogan::factors::{factor_report, FactorReport};
use crate::infogan::latent::LatentSpec;
use crate::infogan::model::InfoGan;
use crate::infogan::train::round;
use crate::nn::layers::BnMode;

/// counts[category * classes + label].
#[derive(Clone, Debug, PartialEq)]
pub struct Confusion {
    pub categories: usize,
    pub classes: usize,
    pub counts: Vec<u64>,
}

impl Confusion {
    pub fn new(predicted: &[usize], labels: &[usize], categories: usize, classes: usize) -> Result<Confusion> {
        if predicted.len() != labels.len() {
            return Err(Error::new(format!("{} predictions for {} labels", predicted.len(), labels.len())));
        }
        let mut counts = vec![0; categories * classes];
        for (&p, &l) in predicted.iter().zip(labels) {
            if p >= categories || l >= classes {
                return Err(Error::new(format!("category {p} or label {l} outside {categories}x{classes}")));
            }
            counts[p * classes + l] += 1;
        }
        Ok(Confusion { categories, classes, counts })
    }

    pub fn get(&self, category: usize, label: usize) -> u64 {
        self.counts[category * self.classes + label]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Each category mapped to its most frequent label (ties: the smaller label); accuracy.
    pub fn majority(&self) -> (Vec<Option<usize>>, f64) {
        let mut hits = 0;
        let mapping = (0..self.categories)
            .map(|c| {
                let row = &self.counts[c * self.classes..(c + 1) * self.classes];
                let best = (0..self.classes).max_by_key(|&l| (row[l], std::cmp::Reverse(l)))?;
                hits += row[best];
                (row[best] > 0).then_some(best)
            })
            .collect();
        (mapping, hits as f64 / self.total().max(1) as f64)
    }

    /// The one-to-one mapping of categories to labels with the most hits (Hungarian method on
    /// the square padding of the table); accuracy. Unmatched categories map to None.
    pub fn hungarian(&self) -> (Vec<Option<usize>>, f64) {
        let n = self.categories.max(self.classes);
        let max = self.counts.iter().copied().max().unwrap_or(0) as i64;
        let cost = |r: usize, c: usize| -> i64 {
            if r < self.categories && c < self.classes {
                max - self.get(r, c) as i64
            } else {
                max
            }
        };
        let assignment = min_cost_assignment(n, cost);
        let mut hits = 0;
        let mapping = (0..self.categories)
            .map(|r| {
                let c = assignment[r];
                (c < self.classes).then(|| {
                    hits += self.get(r, c);
                    c
                })
            })
            .collect();
        (mapping, hits as f64 / self.total().max(1) as f64)
    }

    /// I(category; label) / mean(H(category), H(label)), in [0, 1] (scikit-learn's default
    /// "arithmetic" normalisation). 1 when one determines the other; 0 when independent.
    pub fn nmi(&self) -> f64 {
        let total = self.total() as f64;
        if total == 0.0 {
            return 0.0;
        }
        let row: Vec<f64> = (0..self.categories).map(|c| (0..self.classes).map(|l| self.get(c, l) as f64).sum()).collect();
        let col: Vec<f64> = (0..self.classes).map(|l| (0..self.categories).map(|c| self.get(c, l) as f64).sum()).collect();
        let entropy = |v: &[f64]| -> f64 { v.iter().filter(|&&x| x > 0.0).map(|&x| -(x / total) * (x / total).ln()).sum() };
        let mut mi = 0.0;
        for (c, row_c) in row.iter().enumerate() {
            for (l, col_l) in col.iter().enumerate() {
                let n = self.get(c, l) as f64;
                if n > 0.0 {
                    mi += n / total * (n * total / (row_c * col_l)).ln();
                }
            }
        }
        let mean_h = 0.5 * (entropy(&row) + entropy(&col));
        if mean_h <= 0.0 {
            1.0
        } else {
            (mi / mean_h).clamp(0.0, 1.0)
        }
    }
}

/// Minimum-cost perfect matching of an n x n cost matrix (Hungarian method with potentials,
/// O(n^3)). Returns the column assigned to each row.
pub fn min_cost_assignment(n: usize, cost: impl Fn(usize, usize) -> i64) -> Vec<usize> {
    // 1-based arrays; column 0 is the virtual start of each augmenting path.
    let inf = i64::MAX / 4;
    let (mut u, mut v) = (vec![0i64; n + 1], vec![0i64; n + 1]);
    let (mut row_of, mut way) = (vec![0usize; n + 1], vec![0usize; n + 1]);
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0;
        let mut min_to = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let (mut delta, mut j1) = (inf, 0);
            for j in 1..=n {
                if !used[j] {
                    let reduced = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if reduced < min_to[j] {
                        min_to[j] = reduced;
                        way[j] = j0;
                    }
                    if min_to[j] < delta {
                        delta = min_to[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col_of = vec![0; n];
    for j in 1..=n {
        if row_of[j] > 0 {
            col_of[row_of[j] - 1] = j - 1;
        }
    }
    col_of
}

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
    pub fn from_predictions(mode: &'static str, predicted: &[usize], labels: &[usize], categories: usize) -> Result<EvalReport> {
        Self::against(mode, predicted, labels, categories, 10)
    }

    pub fn against(mode: &'static str, predicted: &[usize], labels: &[usize], categories: usize, classes: usize) -> Result<EvalReport> {
        let confusion = Confusion::new(predicted, labels, categories, classes)?;
        let (hungarian_mapping, hungarian) = confusion.hungarian();
        let (majority_mapping, majority) = confusion.majority();
        Ok(EvalReport { mode, images: predicted.len(), hungarian, hungarian_mapping, majority, majority_mapping, nmi: confusion.nmi(), confusion })
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
                serde_json::json!({ "code": c.code, "categories": c.categories, "usage_nats": round(c.usage_nats, 5), "ln_k": round((c.categories as f64).ln(), 5), "scores": scores })
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
        let mut out = format!("batch norm {} on {} images:
", self.mode, self.images);
        for c in &self.codes {
            out += &format!("  code {} ({} categories): usage {:.3} of ln K = {:.3} nats", c.code, c.categories, c.usage_nats, (c.categories as f64).ln());
            for (labels, r) in &c.scores {
                out += &format!("; vs {labels}: accuracy {:.1}% one-to-one, {:.1}% many-to-one, NMI {:.3}", 100.0 * r.hungarian, 100.0 * r.majority, r.nmi);
            }
            out += "\n";
        }
        if let Some(f) = &self.factors {
            out += &format!("  information between each code and each factor (nats; MIG {:.3}):\n  {:>6}", f.mig, "");
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

/// The argmax of each row of `logits` ([n * k]).
fn argmax_rows(logits: &[f32], k: usize) -> Vec<usize> {
    logits.chunks(k).map(|row| (0..k).fold(0, |b, i| if row[i] > row[b] { i } else { b })).collect()
}

/// Q's codes on `data`, in chunks of `batch` (a remainder smaller than 2 joins the last chunk,
/// since batch statistics need two images), in both batch-norm modes.
pub fn evaluate(gpu: &Gpu, model: &InfoGan, latent: &LatentSpec, data: &Dataset, batch: usize) -> Result<[Evaluation; 2]> {
    let categorical = &latent.categorical;
    let n = data.len();
    if n < 2 {
        return Err(Error::new(format!("{}: evaluation needs at least 2 images", data.name)));
    }
    let (scale, shift) = model.spec.pixel_range().from_byte();
    let pixels: Vec<f32> = data.images.pixels.iter().map(|&p| f32::from(p) / 255.0 * scale + shift).collect();
    let len = data.images.image_len();
    let batch = batch.clamp(2, n);
    let mut bounds: Vec<(usize, usize)> = (0..n).step_by(batch).map(|s| (s, (s + batch).min(n))).collect();
    if bounds.len() > 1 && bounds[bounds.len() - 1].1 - bounds[bounds.len() - 1].0 < 2 {
        let (_, end) = bounds.pop().unwrap_or_default();
        if let Some(last) = bounds.last_mut() {
            last.1 = end;
        }
    }
    let mut out = Vec::new();
    for (mode, name) in [(BnMode::Eval, "eval"), (BnMode::BatchStats, "batch-stats")] {
        let mut predicted = vec![Vec::with_capacity(n); categorical.len()];
        let mut means = vec![Vec::with_capacity(n); latent.continuous];
        for &(start, end) in &bounds {
            let (logits, cont) = model.recognize(gpu, &pixels[start * len..end * len], mode)?;
            for ((code, &k), logits) in predicted.iter_mut().zip(categorical).zip(&logits) {
                code.extend(argmax_rows(logits, k));
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
                    Ok((column.name.clone(), EvalReport::against(name, predicted, &labels, k, column.classes())?))
                })
                .collect::<Result<Vec<_>>>()?;
            codes.push(CodeReport { code, categories: k, usage_nats: usage_entropy(predicted, k), scores });
        }
        let with_codes: Vec<(Vec<usize>, usize)> = predicted.iter().cloned().zip(categorical.iter().copied()).collect();
        let factors = (!data.labels.is_empty()).then(|| factor_report(&with_codes, &means, &data.labels));
        out.push(Evaluation { mode: name, images: n, codes, factors });
    }
    let batch_stats = out.pop().ok_or_else(|| Error::new("no evaluation"))?;
    let eval = out.pop().ok_or_else(|| Error::new("no evaluation"))?;
    Ok([eval, batch_stats])
}
