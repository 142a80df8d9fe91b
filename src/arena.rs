//! Parameter arenas: every parameter of one network in one GPU buffer, with gradient and Adam
//! moment arenas of the same layout, so zeroing gradients and one Adam step are one dispatch each.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};
use crate::ops::{adam, elementwise};

/// Slots start on 64-float (256-byte) boundaries: WebGPU's storage-offset alignment.
const SLOT_ALIGN: usize = 64;

/// How a parameter starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Constant(f32),
    /// N(mean, std^2), as the official InfoGAN code initialises weights (0, 0.02) and
    /// batch-norm scales (1, 0.02).
    Normal {
        mean: f32,
        std: f32,
    },
    /// U(-bound, bound).
    Uniform {
        bound: f32,
    },
}

#[derive(Clone, Debug)]
pub struct Slot {
    pub name: String,
    pub shape: Vec<usize>,
    /// Offset in floats, a multiple of 64.
    pub offset: usize,
    pub init: Init,
}

impl Slot {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which arena, for the tape's frozen set: a handle, unique within the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArenaId(u64);

impl ArenaId {
    fn next() -> ArenaId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        ArenaId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// Index of a parameter within its arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId(pub usize);

/// The layout of an arena, before it exists on the GPU.
#[derive(Clone, Debug, Default)]
pub struct ArenaLayout {
    pub slots: Vec<Slot>,
    len: usize,
}

impl ArenaLayout {
    pub fn add(&mut self, name: &str, shape: &[usize], init: Init) -> ParamId {
        let slot = Slot { name: name.to_owned(), shape: shape.to_vec(), offset: self.len, init };
        self.len += slot.len().div_ceil(SLOT_ALIGN).max(1) * SLOT_ALIGN;
        self.slots.push(slot);
        ParamId(self.slots.len() - 1)
    }

    /// Floats in the arena, padding included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Initial values on the host: each slot drawn from its `Init`, padding zero.
    pub fn initial_values(&self, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut values = vec![0.0; self.len];
        for slot in &self.slots {
            for v in &mut values[slot.offset..slot.offset + slot.len()] {
                *v = match slot.init {
                    Init::Constant(c) => c,
                    Init::Normal { mean, std } => mean + std * standard_normal(&mut rng),
                    Init::Uniform { bound } => rng.random_range(-bound..bound),
                };
            }
        }
        values
    }
}

/// Box-Muller; `rand` alone has no normal distribution.
fn standard_normal(rng: &mut StdRng) -> f32 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// One network's parameters, gradients and Adam moments on the GPU.
pub struct Arena {
    id: ArenaId,
    /// "G", "D" or "Q": the prefix of its Adam step in checkpoints, and a label in reports.
    pub name: String,
    pub layout: ArenaLayout,
    pub values: Tensor,
    pub grads: Tensor,
    pub m: Tensor,
    pub v: Tensor,
    /// Adam steps taken so far.
    pub step: u64,
}

impl Arena {
    pub fn new(gpu: &Gpu, name: &str, layout: ArenaLayout, seed: u64) -> Result<Arena> {
        let values = layout.initial_values(seed);
        Self::from_values(gpu, name, layout, &values)
    }

    pub fn from_values(
        gpu: &Gpu,
        name: &str,
        layout: ArenaLayout,
        values: &[f32],
    ) -> Result<Arena> {
        if values.len() != layout.len() {
            return Err(Error::new(format!(
                "arena {name}: {} values for a layout of {}",
                values.len(),
                layout.len()
            )));
        }
        let n = layout.len().max(1);
        let arena = Arena {
            id: ArenaId::next(),
            name: name.to_owned(),
            values: gpu.upload(&[n], &pad(values, n))?,
            grads: elementwise::full(gpu, &[n], 0.0)?,
            m: elementwise::full(gpu, &[n], 0.0)?,
            v: elementwise::full(gpu, &[n], 0.0)?,
            layout,
            step: 0,
        };
        Ok(arena)
    }

    pub fn id(&self) -> ArenaId {
        self.id
    }

    pub fn slot(&self, id: ParamId) -> &Slot {
        &self.layout.slots[id.0]
    }

    pub fn find(&self, name: &str) -> Option<ParamId> {
        self.layout.slots.iter().position(|s| s.name == name).map(ParamId)
    }

    pub fn value(&self, id: ParamId) -> Tensor {
        let slot = self.slot(id);
        self.values.slice(slot.offset, &slot.shape)
    }

    pub fn grad(&self, id: ParamId) -> Tensor {
        let slot = self.slot(id);
        self.grads.slice(slot.offset, &slot.shape)
    }

    pub fn zero_grads(&self, gpu: &Gpu) -> Result<()> {
        elementwise::fill(gpu, &self.grads, 0.0)
    }

    /// One Adam step over every parameter of the arena: a single dispatch.
    pub fn adam_step(&mut self, gpu: &Gpu, config: adam::AdamConfig) -> Result<()> {
        self.step += 1;
        let buffers =
            adam::AdamBuffers { params: &self.values, grads: &self.grads, m: &self.m, v: &self.v };
        adam::step(gpu, config, self.step, buffers)
    }
}

fn pad(values: &[f32], n: usize) -> Vec<f32> {
    let mut v = values.to_vec();
    v.resize(n, 0.0);
    v
}
