//! Layers with the official initialisation, and a small CNN (conv -> batch norm -> LeakyReLU ->
//! linear) trained through the tape on a synthetic image task.

mod common;
use common::*;
use infogan::arena::{Arena, ArenaLayout};
use infogan::nn::layers::{BatchNorm, BnMode, Conv2d, ConvTranspose2d, Linear, Window};
use infogan::ops::adam::AdamConfig;
use infogan::ops::elementwise::Activation;
use infogan::Tape;
use rand::RngExt;

#[test]
fn official_initialisation_has_the_right_statistics() {
    for gpu in backends() {
        let mut layout = ArenaLayout::default();
        let fc = Linear::new(&mut layout, "fc", 300, 200, true);
        let bn = BatchNorm::new(&gpu, &mut layout, "bn", 5000).unwrap();
        let arena = Arena::new(&gpu, "net", layout, 7).unwrap();
        let stats = |id| {
            let v = download(&gpu, &arena.value(id));
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            (mean, std)
        };
        let (m, s) = stats(fc.weight);
        assert!(m.abs() < 1e-3 && (s - 0.02).abs() < 1e-3, "weights N(0, 0.02): mean {m}, std {s}");
        let (m, s) = stats(bn.gamma);
        assert!(
            (m - 1.0).abs() < 2e-3 && (s - 0.02).abs() < 2e-3,
            "gamma N(1, 0.02): mean {m}, std {s}"
        );
        assert_eq!(stats(fc.bias.unwrap()), (0.0, 0.0));
        assert_eq!(stats(bn.beta), (0.0, 0.0));
        assert_eq!(download(&gpu, &bn.running)[..2], [0.0, 0.0]);
        assert_eq!(download(&gpu, &bn.running)[5000..5002], [1.0, 1.0]);
    }
}

#[test]
fn layers_reject_mismatched_inputs() {
    for gpu in backends() {
        let mut layout = ArenaLayout::default();
        let conv = Conv2d::new(
            &mut layout,
            "c",
            3,
            4,
            Window { kernel: 3, stride: 1, padding: 1, padding_end: 1 },
            true,
        );
        let convt = ConvTranspose2d::new(
            &mut layout,
            "t",
            4,
            1,
            Window { kernel: 4, stride: 2, padding: 1, padding_end: 1 },
            true,
        );
        let arena = Arena::new(&gpu, "net", layout, 1).unwrap();
        let mut tape = Tape::new(&gpu);
        let x = tape.constant(gpu.empty(&[2, 2, 5, 5]));
        assert!(conv
            .forward(&mut tape, &arena, &x)
            .unwrap_err()
            .message()
            .contains("expected (N, 3, H, W)"));
        assert!(convt
            .forward(&mut tape, &arena, &x)
            .unwrap_err()
            .message()
            .contains("expected (N, 4, H, W)"));
        // The paper's up-convolution doubles the map: 7x7 -> 14x14.
        let x = tape.constant(gpu.upload(&[1, 4, 7, 7], &vec![0.1; 196]).unwrap());
        assert_eq!(convt.forward(&mut tape, &arena, &x).unwrap().shape(), [1, 1, 14, 14]);
    }
}

/// 8x8 images holding a noisy horizontal bar, vertical bar or diagonal: three classes.
fn bars(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let mut images = Vec::with_capacity(n * 64);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 3;
        let pos = r.random_range(1..7usize);
        for y in 0..8 {
            for x in 0..8 {
                let on = match class {
                    0 => y == pos,
                    1 => x == pos,
                    _ => x == y,
                };
                images.push(if on { 1.0 } else { 0.0 } + r.random_range(-0.3..0.3));
            }
        }
        labels.push(class as f64);
    }
    (images, labels)
}

#[test]
fn small_cnn_learns_through_the_tape() {
    for gpu in backends() {
        let n = 48;
        let (images, labels) = bars(n, 50);
        let (x, _) = upload(&gpu, &[n, 1, 8, 8], &images);
        let (labels, _) = upload(&gpu, &[n], &labels);
        let mut layout = ArenaLayout::default();
        let conv = Conv2d::new(
            &mut layout,
            "conv",
            1,
            6,
            Window { kernel: 4, stride: 2, padding: 1, padding_end: 1 },
            true,
        );
        let bn = BatchNorm::new(&gpu, &mut layout, "bn", 6).unwrap();
        let fc = Linear::new(&mut layout, "fc", 6 * 4 * 4, 3, true);
        let mut arena = Arena::new(&gpu, "cnn", layout, 3).unwrap();
        let mut losses = Vec::new();
        for _ in 0..60 {
            arena.zero_grads(&gpu).unwrap();
            let mut tape = Tape::new(&gpu);
            let vx = tape.constant(x.clone());
            let h = conv.forward(&mut tape, &arena, &vx).unwrap();
            let h = bn.forward(&mut tape, &arena, &h, BnMode::Train).unwrap();
            let h = tape.activation(&h, Activation::LeakyRelu { slope: 0.1 }).unwrap();
            let h = tape.reshape(&h, &[n, 6 * 16]).unwrap();
            let logits = fc.forward(&mut tape, &arena, &h).unwrap();
            let xent = tape.softmax_xent(&logits, &labels).unwrap();
            let loss = tape.mean(&xent).unwrap();
            tape.backward(&loss).unwrap();
            arena.adam_step(&gpu, AdamConfig::infogan(0.01)).unwrap();
            losses.push(gpu.download(&loss.value).unwrap()[0]);
        }
        let (first, last) = (losses[0], *losses.last().unwrap());
        println!("cnn loss {first} -> {last}");
        assert!(losses.iter().all(|l| l.is_finite()));
        assert!((first - 3f32.ln()).abs() < 0.2, "initial loss {first} should be near ln 3");
        assert!(last < 0.25 * first, "loss fell only from {first} to {last}");
        // The running statistics moved off their initial (0, 1).
        let running = download(&gpu, &bn.running);
        assert!(running[..6].iter().any(|m| m.abs() > 1e-3), "{running:?}");
    }
}
