//! Counter-based random streams: every random draw of a run comes from a stream seeded by (seed,
//! counter, purpose), so the step number is the whole RNG state and resuming from a checkpoint
//! draws exactly what the uninterrupted run would have.

use rand::rngs::StdRng;
use rand::SeedableRng;

/// What a random stream is for; part of its seed. The values are fixed: changing one changes
/// every run's draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The order of the training images in epoch `counter`.
    DataOrder = 1,
    /// The latents of the D/Q phase of step `counter`.
    LatentsD = 2,
    /// The latents of the G phase of step `counter`.
    LatentsG = 3,
    /// The initial weights of a probe's networks trained from scratch (counter: the step).
    ProbeInit = 4,
    /// The order of the held-out images a probe trains on (counter: the probe's epoch).
    ProbeOrder = 5,
    /// The latents of a probe's step (counter: the training step times the probe length plus
    /// the probe step).
    ProbeLatents = 6,
}

/// The random stream for (seed, counter, purpose): SplitMix64 finalisers over the three, so
/// neighbouring counters get unrelated streams.
pub fn stream(seed: u64, counter: u64, purpose: Purpose) -> StdRng {
    fn mix(mut x: u64) -> u64 {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    StdRng::seed_from_u64(mix(mix(mix(seed) ^ counter) ^ purpose as u64))
}
