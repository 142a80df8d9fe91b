//! How Q's codes relate to known factors of the data (the label columns, e.g. the shapes
//! dataset's shape, scale, orientation and position): the mutual information between every
//! code and every factor, and the mutual information gap (MIG, Chen et al. 2018, "Isolating
//! Sources of Disentanglement in VAEs"): per factor, the gap between the two codes that know most
//! about it, over the factor's entropy, averaged over the factors.
//!
//! As in the common implementation (disentanglement_lib), codes are read on real held-out
//! images, a continuous code (Q's mean) is binned into 20 equal-width bins over its range, a
//! categorical code is its argmax, and the information is the plug-in estimate in nats.

use serde::Serialize;

use crate::data::LabelColumn;

/// Bins for a continuous code.
pub const BINS: usize = 20;

/// The code x factor information table and MIG.
#[derive(Clone, Debug, Serialize)]
pub struct FactorReport {
    /// `c0` for categorical code 0, `z0` for continuous code 0, ...
    pub codes: Vec<String>,
    pub factors: Vec<String>,
    /// H(factor) in nats.
    pub factor_entropy: Vec<f64>,
    /// mi[code][factor] in nats.
    pub mi: Vec<Vec<f64>>,
    /// Per factor: (largest - second largest information over the codes) / H(factor).
    pub gap: Vec<f64>,
    /// The mean of `gap`.
    pub mig: f64,
}

/// Equal-width bins over [min, max] of `values`, as numpy's histogram edges: indices 0..bins.
pub fn bin(values: &[f32], bins: usize) -> Vec<usize> {
    let (lo, hi) =
        values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let width = f64::from(hi - lo) / bins as f64;
    values
        .iter()
        .map(
            |&v| {
                if width > 0.0 {
                    ((f64::from(v - lo) / width) as usize).min(bins - 1)
                } else {
                    0
                }
            },
        )
        .collect()
}

/// H(a) in nats of values below `n`.
pub fn entropy(a: &[usize], n: usize) -> f64 {
    let mut counts = vec![0usize; n];
    for &x in a {
        counts[x] += 1;
    }
    let total = a.len().max(1) as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / total) * (c as f64 / total).ln()).sum()
}

/// I(a; b) in nats, a's values below `na`, b's below `nb`: the plug-in estimate.
pub fn mutual_information(a: &[usize], na: usize, b: &[usize], nb: usize) -> f64 {
    let mut joint = vec![0usize; na * nb];
    let (mut ca, mut cb) = (vec![0usize; na], vec![0usize; nb]);
    for (&x, &y) in a.iter().zip(b) {
        joint[x * nb + y] += 1;
        ca[x] += 1;
        cb[y] += 1;
    }
    let n = a.len().max(1) as f64;
    let mut mi = 0.0;
    for x in 0..na {
        for y in 0..nb {
            let c = joint[x * nb + y];
            if c > 0 {
                mi += c as f64 / n * (c as f64 * n / (ca[x] as f64 * cb[y] as f64)).ln();
            }
        }
    }
    mi.max(0.0)
}

/// The table for categorical codes (argmax per image, with their category counts), continuous
/// codes (Q's mean per image) and the data's label columns.
pub fn factor_report(
    categorical: &[(Vec<usize>, usize)],
    continuous: &[Vec<f32>],
    labels: &[LabelColumn],
) -> FactorReport {
    let mut codes = Vec::new();
    let mut discrete: Vec<(Vec<usize>, usize)> = Vec::new();
    for (i, (argmax, k)) in categorical.iter().enumerate() {
        codes.push(format!("c{i}"));
        discrete.push((argmax.clone(), *k));
    }
    for (i, means) in continuous.iter().enumerate() {
        codes.push(format!("z{i}"));
        discrete.push((bin(means, BINS), BINS));
    }
    let factors: Vec<String> = labels.iter().map(|c| c.name.clone()).collect();
    let values: Vec<Vec<usize>> =
        labels.iter().map(|c| c.values.iter().map(|&v| v as usize).collect()).collect();
    let factor_entropy: Vec<f64> =
        labels.iter().zip(&values).map(|(c, v)| entropy(v, c.classes())).collect();
    let mi: Vec<Vec<f64>> = discrete
        .iter()
        .map(|(code, k)| {
            labels
                .iter()
                .zip(&values)
                .map(|(c, v)| mutual_information(code, *k, v, c.classes()))
                .collect()
        })
        .collect();
    let gap: Vec<f64> = (0..labels.len())
        .map(|f| {
            let mut column: Vec<f64> = mi.iter().map(|row| row[f]).collect();
            column.sort_by(|a, b| b.total_cmp(a));
            let (first, second) =
                (column.first().copied().unwrap_or(0.0), column.get(1).copied().unwrap_or(0.0));
            if factor_entropy[f] > 0.0 {
                (first - second) / factor_entropy[f]
            } else {
                0.0
            }
        })
        .collect();
    let mig = if gap.is_empty() { 0.0 } else { gap.iter().sum::<f64>() / gap.len() as f64 };
    FactorReport { codes, factors, factor_entropy, mi, gap, mig }
}
