//! The latent code: noise U(-1, 1), categorical codes (one-hot), continuous codes U(-1, 1), laid
//! out as [noise | one-hot of each categorical code | continuous codes].

use rand::rngs::StdRng;
use rand::RngExt;

#[derive(Clone, Debug, PartialEq)]
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
