//! The latent code: noise U(-1, 1), categorical codes (one-hot), continuous codes U(-1, 1), laid
//! out as [noise | one-hot of each categorical code | continuous codes].

use rand::rngs::StdRng;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatentSpec {
    pub noise: usize,
    /// Number of categories of each categorical code.
    pub categorical: Vec<usize>,
    pub continuous: usize,
}

/// One batch of latents and the codes Q must recover.
pub struct LatentBatch {
    /// [batch, width]
    pub z: Vec<f32>,
    /// Per categorical code: the category of each row (as f32, what the loss kernel reads).
    pub categories: Vec<Vec<f32>>,
    /// [batch, continuous]
    pub continuous: Vec<f32>,
}

impl LatentSpec {
    /// The paper's MNIST setting: 62 noise dims, one 10-way code, two continuous codes.
    pub fn mnist() -> LatentSpec {
        LatentSpec { noise: 62, categorical: vec![10], continuous: 2 }
    }

    /// Checks the sizes a user asked for.
    pub fn validate(&self) -> Result<()> {
        if let Some(k) = self.categorical.iter().find(|&&k| k < 2) {
            return Err(Error::new(format!("--cat {k}: a categorical code needs at least 2 categories")));
        }
        if self.width() == 0 {
            return Err(Error::new("the latent is empty: give --noise, --cat or --cont"));
        }
        if self.width() > 4096 {
            return Err(Error::new(format!("a latent of {} dims is far beyond what this model is for (at most 4096)", self.width())));
        }
        Ok(())
    }

    pub fn width(&self) -> usize {
        self.noise + self.categorical.iter().sum::<usize>() + self.continuous
    }

    /// H(c) in nats: ln K per categorical code plus ln 2 per U(-1, 1) code (differential).
    pub fn code_entropy(&self) -> f64 {
        self.categorical.iter().map(|&k| (k as f64).ln()).sum::<f64>() + self.continuous as f64 * 2f64.ln()
    }

    pub fn sample(&self, rng: &mut StdRng, batch: usize) -> LatentBatch {
        let width = self.width();
        let mut z = vec![0.0; batch * width];
        let mut categories = vec![Vec::with_capacity(batch); self.categorical.len()];
        let mut continuous = Vec::with_capacity(batch * self.continuous);
        for row in z.chunks_mut(width) {
            for v in &mut row[..self.noise] {
                *v = rng.random_range(-1.0..1.0);
            }
            let mut at = self.noise;
            for (code, &k) in self.categorical.iter().enumerate() {
                let c = rng.random_range(0..k);
                row[at + c] = 1.0;
                categories[code].push(c as f32);
                at += k;
            }
            for v in &mut row[at..] {
                *v = rng.random_range(-1.0..1.0);
                continuous.push(*v);
            }
        }
        LatentBatch { z, categories, continuous }
    }
}

impl LatentSpec {
    fn put_codes(&self, row: &mut [f32], categories: &[usize], continuous: &[f32]) {
        let mut at = self.noise;
        for (&k, &c) in self.categorical.iter().zip(categories) {
            row[at..at + k].fill(0.0);
            row[at + c.min(k - 1)] = 1.0;
            at += k;
        }
        row[at..at + self.continuous].copy_from_slice(continuous);
    }

    /// Latents for the grid of categorical code `code`: rows = its categories, columns = `cols`
    /// fixed draws of the noise (and of the other categorical codes); continuous codes 0.
    /// Returns (z, rows).
    pub fn code_grid(&self, rng: &mut StdRng, code: usize, cols: usize) -> (Vec<f32>, usize) {
        let rows = self.categorical.get(code).copied().unwrap_or(1);
        let width = self.width();
        let noise: Vec<Vec<f32>> = (0..cols).map(|_| (0..self.noise).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let others: Vec<Vec<usize>> = (0..cols).map(|_| self.categorical.iter().map(|&k| if self.categorical.len() > 1 { rng.random_range(0..k) } else { 0 }).collect()).collect();
        let mut z = vec![0.0; rows * cols * width];
        for (i, row) in z.chunks_mut(width).enumerate() {
            let (r, c) = (i / cols, i % cols);
            row[..self.noise].copy_from_slice(&noise[c]);
            let mut cats = others[c].clone();
            if let Some(this) = cats.get_mut(code) {
                *this = r;
            }
            self.put_codes(row, &cats, &vec![0.0; self.continuous]);
        }
        (z, rows)
    }

    /// Latents sweeping continuous code `code` over [-2, 2] along the columns; rows = categories
    /// of the first categorical code with one fixed noise vector, or 10 noise draws when there
    /// is no categorical code. Returns (z, rows).
    pub fn continuous_sweep(&self, rng: &mut StdRng, code: usize, cols: usize) -> (Vec<f32>, usize) {
        let by_category = !self.categorical.is_empty();
        let rows = if by_category { self.categorical[0] } else { 10 };
        let width = self.width();
        let noise: Vec<Vec<f32>> = (0..if by_category { 1 } else { rows }).map(|_| (0..self.noise).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let mut z = vec![0.0; rows * cols * width];
        for (i, row) in z.chunks_mut(width).enumerate() {
            let (r, c) = (i / cols, i % cols);
            row[..self.noise].copy_from_slice(&noise[if by_category { 0 } else { r }]);
            let mut cont = vec![0.0; self.continuous];
            cont[code] = -2.0 + 4.0 * c as f32 / (cols.max(2) - 1) as f32;
            let mut cats = vec![0; self.categorical.len()];
            if let Some(first) = cats.first_mut() {
                *first = r;
            }
            self.put_codes(row, &cats, &cont);
        }
        (z, rows)
    }
}

impl LatentSpec {
    /// Latents for `infogan sample`: categorical codes fixed by `cats` ((code, category) pairs)
    /// and continuous codes by `conts` ((code, value)); others 0. When the first categorical code
    /// is free, the rows run through its categories with one noise vector per column; otherwise
    /// 10 rows of fresh noise. Returns (z, rows).
    pub fn sample_grid(&self, seed: u64, cats: &[(usize, usize)], conts: &[(usize, f32)], cols: usize) -> Result<(Vec<f32>, usize)> {
        use rand::SeedableRng;
        let mut categories = vec![None; self.categorical.len()];
        for &(code, category) in cats {
            let k = *self.categorical.get(code).ok_or_else(|| Error::new(format!("--cat {code}=..: the model has {} categorical codes", self.categorical.len())))?;
            if category >= k {
                return Err(Error::new(format!("--cat {code}={category}: code {code} has categories 0..{}", k - 1)));
            }
            categories[code] = Some(category);
        }
        let mut continuous = vec![0.0; self.continuous];
        for &(code, value) in conts {
            if code >= self.continuous || !value.is_finite() {
                return Err(Error::new(format!("--cont {code}={value}: the model has continuous codes 0..{}", self.continuous.saturating_sub(1))));
            }
            continuous[code] = value;
        }
        let rows_by_category = !self.categorical.is_empty() && categories[0].is_none();
        let rows = if rows_by_category { self.categorical[0] } else { 10 };
        let mut rng = StdRng::seed_from_u64(seed);
        let column_noise: Vec<Vec<f32>> = (0..cols).map(|_| (0..self.noise).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
        let width = self.width();
        let mut z = vec![0.0; rows * cols * width];
        for (i, row) in z.chunks_mut(width).enumerate() {
            let (r, c) = (i / cols, i % cols);
            if rows_by_category {
                row[..self.noise].copy_from_slice(&column_noise[c]);
            } else {
                for v in &mut row[..self.noise] {
                    *v = rng.random_range(-1.0..1.0);
                }
            }
            let cats: Vec<usize> = categories.iter().enumerate().map(|(code, fixed)| fixed.unwrap_or(if code == 0 && rows_by_category { r } else { 0 })).collect();
            self.put_codes(row, &cats, &continuous);
        }
        Ok((z, rows))
    }
}
