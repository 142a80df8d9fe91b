//! How the tape writes parameter gradients, kept apart from the walk itself. Two schemes, both
//! saving passes over the (large) weight gradients:
//!
//! - **First write overwrites.** For an arena handed to `Tape::overwrite_grads`, each parameter's
//!   first contribution in a backward pass overwrites its gradient slice (acc = 0) and later ones
//!   add; slices that got no contribution are zeroed at the end. This replaces zeroing the whole
//!   gradient arena before every step, and one read of each weight gradient.
//! - **Deferred weight gradients.** A weight's gradient in a product is held back until the walk
//!   ends. The uses of one weight (D on real and on fake images) are then summed by one product
//!   over their stacked rows where copying the operands moves less data than one more pass over
//!   the gradient per use (`stack_uses`).

use crate::arena::{Arena, ParamId};
use crate::error::Result;
use crate::gpu::{Gpu, Tensor};
use crate::ops::elementwise;
use crate::ops::matmul::{self, Gemm};

/// `target += first^T . second`: a product's weight gradient, `first` and `second` sharing their
/// rows (the batch).
struct DeferredGrad {
    target: Tensor,
    first: Tensor,
    second: Tensor,
}

/// Which gradient slices have been written in this backward pass, for arenas written afresh.
/// Keyed by the slice's buffer range, so it needs no GPU to reason about.
#[derive(Default)]
struct FreshSlices {
    slices: Vec<(SliceKey, bool)>,
}

/// A buffer range: (buffer id, byte offset, floats).
type SliceKey = (u64, u64, usize);

fn key(t: &Tensor) -> SliceKey {
    (t.buffer_id(), t.offset_bytes(), t.len())
}

impl FreshSlices {
    fn add(&mut self, slice: SliceKey) {
        self.slices.push((slice, false));
    }

    /// 0 (overwrite) for the first contribution to a slice written afresh, 1 (add) otherwise.
    fn acc(&mut self, slice: SliceKey) -> f32 {
        match self.slices.iter_mut().find(|(s, _)| *s == slice) {
            Some((_, written)) if !*written => {
                *written = true;
                0.0
            }
            _ => 1.0,
        }
    }

    /// Slices that no contribution reached; they must be zeroed.
    fn unwritten(&self) -> impl Iterator<Item = SliceKey> + '_ {
        self.slices.iter().filter(|(_, written)| !written).map(|(s, _)| *s)
    }
}

/// Whether `uses` products sharing one weight gradient [c1 x c2] run as one product over their
/// stacked `rows` (copying both operands: rows * (c1 + c2) floats) rather than one pass over the
/// gradient per use after the first (c1 * c2 floats read and written each). For D's FC weight at
/// batch 64: 0.9M floats copied against 6.4M.
pub(crate) fn stack_uses(uses: usize, rows: usize, c1: usize, c2: usize) -> bool {
    uses > 1 && rows * (c1 + c2) < c1 * c2
}

/// The parameter-gradient bookkeeping of one tape.
#[derive(Default)]
pub struct ParamGrads {
    fresh: FreshSlices,
    /// Fresh slices by key, to zero the unwritten ones at the end.
    fresh_tensors: Vec<Tensor>,
    deferred: Vec<DeferredGrad>,
}

impl ParamGrads {
    /// Write this arena's gradients afresh in the next backward pass.
    pub fn overwrite(&mut self, arena: &Arena) {
        for slot in 0..arena.layout.slots.len() {
            let slice = arena.grad(ParamId(slot));
            self.fresh.add(key(&slice));
            self.fresh_tensors.push(slice);
        }
    }

    /// How a contribution to the parameter gradient `target` combines with it now.
    pub fn acc(&mut self, target: &Tensor) -> f32 {
        self.fresh.acc(key(target))
    }

    /// Holds back `target += first^T . second` until `finish`.
    pub fn defer(&mut self, target: Tensor, first: Tensor, second: Tensor) {
        self.deferred.push(DeferredGrad { target, first, second });
    }

    /// Runs the held-back weight gradients, grouped by weight, then zeroes the fresh slices no
    /// contribution reached.
    pub fn finish(&mut self, gpu: &Gpu) -> Result<()> {
        let mut groups: Vec<Vec<DeferredGrad>> = Vec::new();
        for d in std::mem::take(&mut self.deferred) {
            match groups.iter_mut().find(|g| g[0].target.same_view(&d.target)) {
                Some(group) => group.push(d),
                None => groups.push(vec![d]),
            }
        }
        for group in groups {
            let target = &group[0].target;
            let (c1, c2) = (group[0].first.cols(), group[0].second.cols());
            let rows: usize = group.iter().map(|d| d.first.rows()).sum();
            let product = Gemm::new(true, false).accumulate(self.acc(target));
            if stack_uses(group.len(), rows, c1, c2) {
                let first = stack_rows(gpu, group.iter().map(|d| &d.first), rows, c1)?;
                let second = stack_rows(gpu, group.iter().map(|d| &d.second), rows, c2)?;
                matmul::gemm_into(gpu, &first, &second, None, target, product)?;
            } else {
                for (i, d) in group.iter().enumerate() {
                    let product = if i == 0 { product } else { product.accumulate(1.0) };
                    matmul::gemm_into(gpu, &d.first, &d.second, None, target, product)?;
                }
            }
        }
        let unwritten: Vec<SliceKey> = self.fresh.unwritten().collect();
        for slice in std::mem::take(&mut self.fresh_tensors) {
            if unwritten.contains(&key(&slice)) {
                elementwise::fill(gpu, &slice, 0.0)?;
            }
        }
        self.fresh = FreshSlices::default();
        Ok(())
    }
}

/// `parts` (each [r, cols]) one below the other in a new [rows, cols] tensor.
fn stack_rows<'t>(
    gpu: &Gpu,
    parts: impl Iterator<Item = &'t Tensor>,
    rows: usize,
    cols: usize,
) -> Result<Tensor> {
    let out = gpu.empty(&[rows, cols]);
    let mut at = 0;
    for part in parts {
        gpu.copy_at(part, &out, at)?;
        at += part.len();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_contribution_to_a_fresh_slice_overwrites_and_later_ones_add() {
        let mut fresh = FreshSlices::default();
        let (a, b) = ((1, 0, 64), (1, 256, 10));
        fresh.add(a);
        fresh.add(b);
        assert_eq!(fresh.acc(a), 0.0);
        assert_eq!(fresh.acc(a), 1.0);
        assert_eq!(fresh.unwritten().collect::<Vec<_>>(), vec![b]);
        assert_eq!(fresh.acc(b), 0.0);
        assert_eq!(fresh.unwritten().count(), 0);
        // A slice of an arena that is not written afresh always adds.
        assert_eq!(fresh.acc((2, 0, 64)), 1.0);
        // Another range of the same buffer is another slice.
        assert_eq!(fresh.acc((1, 0, 63)), 1.0);
    }

    #[test]
    fn uses_are_stacked_only_when_copying_moves_less_than_extra_passes() {
        // D's FC weight [1024 x 6272] used on real and fake images at batch 64.
        assert!(stack_uses(2, 128, 1024, 6272));
        // A single use never stacks.
        assert!(!stack_uses(1, 64, 1024, 6272));
        // A thin weight over many rows (a conv's [64 x 16] over 2 * 12,544 pixels) does not.
        assert!(!stack_uses(2, 25_088, 64, 16));
    }
}
