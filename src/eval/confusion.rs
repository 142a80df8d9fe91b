//! Categories against labels: the confusion table of a code's argmax against a label column,
//! the many-to-one (majority) and one-to-one (Hungarian) mappings with their accuracies, and
//! normalised mutual information.

use crate::error::{Error, Result};

/// counts[category * classes + label].
#[derive(Clone, Debug, PartialEq)]
pub struct Confusion {
    pub categories: usize,
    pub classes: usize,
    pub counts: Vec<u64>,
}

impl Confusion {
    pub fn new(
        predicted: &[usize],
        labels: &[usize],
        categories: usize,
        classes: usize,
    ) -> Result<Confusion> {
        if predicted.len() != labels.len() {
            return Err(Error::new(format!(
                "{} predictions for {} labels",
                predicted.len(),
                labels.len()
            )));
        }
        let mut counts = vec![0; categories * classes];
        for (&p, &l) in predicted.iter().zip(labels) {
            if p >= categories || l >= classes {
                return Err(Error::new(format!(
                    "category {p} or label {l} outside {categories}x{classes}"
                )));
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
        let row: Vec<f64> = (0..self.categories)
            .map(|c| (0..self.classes).map(|l| self.get(c, l) as f64).sum())
            .collect();
        let col: Vec<f64> = (0..self.classes)
            .map(|l| (0..self.categories).map(|c| self.get(c, l) as f64).sum())
            .collect();
        let entropy = |v: &[f64]| -> f64 {
            v.iter().filter(|&&x| x > 0.0).map(|&x| -(x / total) * (x / total).ln()).sum()
        };
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
