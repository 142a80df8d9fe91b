//! A dataset whose factors are known, in the manner of dSprites (Matthey et al. 2017): binary
//! images of 3 shapes (square, ellipse, heart) x 6 scales x 40 rotations x 32 x-positions x 32
//! y-positions, 737,280 in all, each labelled with its five factor values. Rendered here,
//! deterministically, at 64x64 (`--data shapes`) or 32x32 (`--data shapes32`), so there is
//! nothing to download. All 737,280 images would take 3 GB at 64x64, so training images are
//! rendered batch by batch on demand; a fixed, seeded subset is held out and rendered once.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::data::{Dataset, Images, LabelColumn, Split};
use crate::error::Result;

/// The factors in their index order (the first varies slowest), with their value counts.
pub const FACTORS: [(&str, usize); 5] =
    [("shape", 3), ("scale", 6), ("orientation", 40), ("x", 32), ("y", 32)];

/// Every combination of the factors.
pub const COUNT: usize = 3 * 6 * 40 * 32 * 32;

/// Images held out for evaluation, the same subset at every size.
pub const HELD_OUT: usize = 5_000;

/// The renderer at one image side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    pub side: usize,
}

impl Shapes {
    /// The five factor values of image `index`.
    pub fn factors(index: usize) -> [usize; 5] {
        let mut rest = index;
        let mut out = [0; 5];
        for (i, (_, n)) in FACTORS.iter().enumerate().rev() {
            out[i] = rest % n;
            rest /= n;
        }
        out
    }

    /// Image `index` as bytes (0 or 255), row-major, into `out` (side * side).
    pub fn render(&self, index: usize, out: &mut [u8]) {
        let [shape, scale, orientation, x, y] = Self::factors(index);
        let side = self.side as f64;
        // Scales 0.5 .. 1 of a shape 0.3 of the image across; rotations over a full turn; centres
        // over the middle 60% of the image, so that every shape at every scale stays inside.
        let radius = (0.5 + 0.1 * scale as f64) * 0.15 * side;
        let angle = orientation as f64 * std::f64::consts::TAU / 40.0;
        let (cx, cy) = ((0.2 + 0.6 * x as f64 / 31.0) * side, (0.2 + 0.6 * y as f64 / 31.0) * side);
        let (sin, cos) = angle.sin_cos();
        for py in 0..self.side {
            for px in 0..self.side {
                // The pixel centre in the shape's own frame, in units of its radius.
                let (dx, dy) = (px as f64 + 0.5 - cx, py as f64 + 0.5 - cy);
                let (u, v) = ((cos * dx + sin * dy) / radius, (-sin * dx + cos * dy) / radius);
                let inside = match shape {
                    0 => u.abs() <= 0.8 && v.abs() <= 0.8,
                    1 => u * u + (v * v) / 0.25 <= 1.0,
                    _ => heart(u, v),
                };
                out[py * self.side + px] = if inside { 255 } else { 0 };
            }
        }
    }

    /// The held-out image indices: a fixed, seeded sample without replacement.
    pub fn held_out() -> Vec<usize> {
        let mut all: Vec<usize> = (0..COUNT).collect();
        let mut rng = StdRng::seed_from_u64(0x5ba9e5);
        let (picked, _) = all.partial_shuffle(&mut rng, HELD_OUT);
        let mut picked = picked.to_vec();
        picked.sort_unstable();
        picked
    }

    /// The labelled images `indices`, rendered.
    pub fn render_set(&self, indices: &[usize], name: &str) -> Result<Dataset> {
        let len = self.side * self.side;
        let mut pixels = vec![0u8; indices.len() * len];
        for (i, &index) in indices.iter().enumerate() {
            self.render(index, &mut pixels[i * len..(i + 1) * len]);
        }
        let images = Images {
            count: indices.len(),
            channels: 1,
            height: self.side,
            width: self.side,
            pixels,
        };
        Dataset::new(name, images, factor_columns(indices))
    }

    /// Training images rendered on demand (every image not held out) and the held-out ones.
    pub fn split(&self) -> Result<Split> {
        let held = Self::held_out();
        let mut is_held = vec![false; COUNT];
        for &i in &held {
            is_held[i] = true;
        }
        let train: Vec<usize> = (0..COUNT).filter(|&i| !is_held[i]).collect();
        let name = format!("shapes {0}x{0}", self.side);
        Ok(Split {
            train: Dataset::rendered(&format!("{name} train"), *self, train),
            eval: self.render_set(&held, &format!("{name} held out"))?,
        })
    }
}

/// The classic heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, scaled to about the unit disc, point
/// up in image coordinates (y grows downwards).
fn heart(u: f64, v: f64) -> bool {
    let (x, y) = (u * 1.15, -v * 1.15 + 0.15);
    let a = x * x + y * y - 1.0;
    a * a * a - x * x * y * y * y <= 0.0
}

/// One label column per factor.
pub fn factor_columns(indices: &[usize]) -> Vec<LabelColumn> {
    FACTORS
        .iter()
        .enumerate()
        .map(|(f, (name, n))| {
            LabelColumn::numbered(
                name,
                *n,
                indices.iter().map(|&i| Shapes::factors(i)[f] as u32).collect(),
            )
        })
        .collect()
}
