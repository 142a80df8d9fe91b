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
            return Err(Error::new(format!(
                "--cat {k}: a categorical code needs at least 2 categories"
            )));
        }
        if self.width() == 0 {
            return Err(Error::new("the latent is empty: give --noise, --cat or --cont"));
        }
        if self.width() > 4096 {
            return Err(Error::new(format!(
                "a latent of {} dims is far beyond what this model is for (at most 4096)",
                self.width()
            )));
        }
        Ok(())
    }

    pub fn width(&self) -> usize {
        self.noise + self.categorical.iter().sum::<usize>() + self.continuous
    }

    /// H(c) in nats: ln K per categorical code plus ln 2 per U(-1, 1) code (differential).
    pub fn code_entropy(&self) -> f64 {
        self.categorical.iter().map(|&k| (k as f64).ln()).sum::<f64>()
            + self.continuous as f64 * 2f64.ln()
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
}

/// What a grid's rows and columns run through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridLayout {
    /// Rows: categorical code J's categories; columns: draws of the noise (the paper's figures).
    Categories(usize),
    /// Columns: continuous code I swept over [-2, 2]; rows: the first categorical code's
    /// categories with one noise draw, or `noise_rows` noise draws when no categorical code is
    /// free.
    Sweep(usize),
    /// `noise_rows` x `cols` cells, each its own noise draw.
    Noise,
}

/// Rows of a grid without a categorical code to run through, unless asked otherwise.
pub const NOISE_ROWS: usize = 10;

/// The largest magnitude a continuous code may be set to (its prior is U(-1, 1); the paper's
/// figures go to 2).
pub const CONTINUOUS_LIMIT: f32 = 10.0;

/// A grid of latents, everything that defines it: the same request gives the same latents in
/// training grids, `infogan sample` and the explorer.
#[derive(Clone, Debug, PartialEq)]
pub struct GridRequest {
    pub layout: GridLayout,
    /// Categories held fixed, by code (a code the layout runs through ignores its entry);
    /// codes not given are 0.
    pub categories: Vec<(usize, usize)>,
    /// Continuous codes held fixed, by code; codes not given are 0.
    pub continuous: Vec<(usize, f32)>,
    /// The noise draws' seed.
    pub seed: u64,
    pub cols: usize,
    /// Rows of noise draws where no categorical code runs down the rows.
    pub noise_rows: usize,
}

impl GridRequest {
    /// `layout` with every code at 0, `cols` columns and the default rows.
    pub fn new(layout: GridLayout, seed: u64, cols: usize) -> GridRequest {
        GridRequest {
            layout,
            categories: Vec::new(),
            continuous: Vec::new(),
            seed,
            cols,
            noise_rows: NOISE_ROWS,
        }
    }
}

impl LatentSpec {
    /// The latents of a grid, row-major, and its number of rows; a code the model does not have,
    /// a category out of range or a non-finite or far-out continuous value is refused.
    pub fn grid(&self, request: &GridRequest) -> Result<(Vec<f32>, usize)> {
        use rand::SeedableRng;
        let mut categories: Vec<Option<usize>> = vec![None; self.categorical.len()];
        for &(code, category) in &request.categories {
            let k = *self.categorical.get(code).ok_or_else(|| {
                Error::new(format!(
                    "categorical code {code}: the model has {} categorical codes",
                    self.categorical.len()
                ))
            })?;
            if category >= k {
                return Err(Error::new(format!(
                    "categorical code {code} = {category}: code {code} has categories 0..{}",
                    k - 1
                )));
            }
            categories[code] = Some(category);
        }
        let mut continuous = vec![0.0; self.continuous];
        for &(code, value) in &request.continuous {
            if code >= self.continuous {
                return Err(Error::new(format!(
                    "continuous code {code}: the model has continuous codes 0..{}",
                    self.continuous as isize - 1
                )));
            }
            if !value.is_finite() || value.abs() > CONTINUOUS_LIMIT {
                return Err(Error::new(format!("continuous code {code} = {value}: give a value between -{CONTINUOUS_LIMIT} and {CONTINUOUS_LIMIT}")));
            }
            continuous[code] = value;
        }
        let cols = request.cols;
        if cols == 0 || cols > 100 {
            return Err(Error::new(format!("{cols} columns: a grid has 1 to 100")));
        }
        if request.noise_rows == 0 || request.noise_rows > 100 {
            return Err(Error::new(format!("{} rows: a grid has 1 to 100", request.noise_rows)));
        }
        let first_free = !self.categorical.is_empty() && categories[0].is_none();
        let (rows, rows_code) = match request.layout {
            GridLayout::Categories(code) => {
                let k = *self.categorical.get(code).ok_or_else(|| {
                    Error::new(format!(
                        "categorical code {code}: the model has {} categorical codes",
                        self.categorical.len()
                    ))
                })?;
                (k, Some(code))
            }
            GridLayout::Sweep(code) => {
                if code >= self.continuous {
                    return Err(Error::new(format!(
                        "continuous code {code}: the model has continuous codes 0..{}",
                        self.continuous as isize - 1
                    )));
                }
                if first_free {
                    (self.categorical[0], Some(0))
                } else {
                    (request.noise_rows, None)
                }
            }
            GridLayout::Noise => (request.noise_rows, None),
        };
        // Noise: one draw per column, one for the whole sweep of a categorical code, or one per cell.
        let mut rng = StdRng::seed_from_u64(request.seed);
        let mut draw = |n: usize| -> Vec<Vec<f32>> {
            (0..n).map(|_| (0..self.noise).map(|_| rng.random_range(-1.0..1.0)).collect()).collect()
        };
        let noise = match (request.layout, rows_code) {
            (GridLayout::Categories(_), _) => draw(cols),
            (GridLayout::Sweep(_), Some(_)) => draw(1),
            (GridLayout::Sweep(_), None) => draw(rows),
            (GridLayout::Noise, _) => draw(rows * cols),
        };
        let width = self.width();
        let mut z = vec![0.0; rows * cols * width];
        for (i, row) in z.chunks_mut(width).enumerate() {
            let (r, c) = (i / cols, i % cols);
            let draw = match (request.layout, rows_code) {
                (GridLayout::Categories(_), _) => c,
                (GridLayout::Sweep(_), Some(_)) => 0,
                (GridLayout::Sweep(_), None) => r,
                (GridLayout::Noise, _) => i,
            };
            row[..self.noise].copy_from_slice(&noise[draw]);
            let mut cats: Vec<usize> = categories.iter().map(|c| c.unwrap_or(0)).collect();
            if let Some(code) = rows_code {
                cats[code] = r;
            }
            let mut cont = continuous.clone();
            if let GridLayout::Sweep(code) = request.layout {
                cont[code] = -2.0 + 4.0 * c as f32 / (cols.max(2) - 1) as f32;
            }
            self.put_codes(row, &cats, &cont);
        }
        Ok((z, rows))
    }
}
