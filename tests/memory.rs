//! What a batch costs in one GPU buffer. Every tensor must fit in one storage binding (128 MiB on
//! lavapipe), and the buffers that grow with the batch are bounded by the model's per-sample
//! figure (its widest layer's columns): training, generating and recognising refuse a batch over
//! it before any GPU work, and evaluation splits the held-out images into batches that fit.

mod common;
use common::*;
use infogan::data;
use infogan::eval::evaluate as eval;
use infogan::model::config::TrainConfig;
use infogan::model::presets::Model;
use infogan::nn::layers::BnMode;
use infogan::train::run;
use infogan::train::trainer::Trainer;
use rand::RngExt;

/// Narrow widths (a sixteenth of the paper's): the weights stay small beside the activations.
fn narrow(model: Model) -> Vec<usize> {
    model.width_slots().iter().map(|(_, paper)| (paper / 16).max(2)).collect()
}

fn round_up(bytes: u64) -> u64 {
    bytes.div_ceil(256) * 256
}

#[test]
fn the_largest_buffer_of_a_step_is_the_batch_times_the_per_sample_bound() {
    // Every kernel variant on every backend: none allocates a larger scratch buffer.
    for gpu in gpus() {
        for model in Model::ALL {
            let batch = 16;
            let mut config = TrainConfig::for_preset(model, batch, 0);
            config.set_widths(&narrow(model)).unwrap();
            let [c, h, w] = config.network.image;
            let mut r = rng(7);
            let pixels: Vec<u8> =
                (0..batch * c * h * w).map(|_| r.random_range(0..=255u8)).collect();
            let images = data::Images { count: batch, channels: c, height: h, width: w, pixels };
            let set = data::Dataset::new("noise", images, Vec::new()).unwrap();
            let mut trainer = Trainer::new(&gpu, config.clone(), &set).unwrap();
            let per_sample = trainer.model.largest_per_sample();
            let weights =
                trainer.model.arenas().iter().map(|a| 4 * a.values.len() as u64).max().unwrap();
            gpu.take_largest_buffer();
            trainer.step(true).unwrap();
            let step = gpu.take_largest_buffer();
            let latents = vec![0.5f32; batch * config.latent.width()];
            trainer.model.generate(&gpu, &latents, config.latent.width(), BnMode::Eval).unwrap();
            let real: Vec<f32> = vec![0.25; batch * c * h * w];
            trainer.model.recognize(&gpu, &real, BnMode::Eval).unwrap();
            let inference = gpu.take_largest_buffer();
            let bound = round_up(4 * (batch * per_sample) as u64);
            println!("{} {model}: per sample {per_sample} floats, bound {bound} B, step {step} B, inference {inference} B, largest arena {weights} B", gpu.variant.name());
            assert!(
                bound > weights,
                "{model}: the activations should outweigh the weights at these widths"
            );
            assert_eq!(step, bound, "{model}: the largest buffer of a step");
            assert!(inference <= bound, "{model}: generating and recognising allocate {inference} B, over the bound {bound} B");
        }
    }
}

#[test]
fn a_batch_over_the_binding_limit_is_refused_naming_the_largest_that_fits() {
    let gpu = gpu();
    let config = TrainConfig::for_preset(Model::Shapes, 2, 0);
    let set = data::Dataset::new(
        "noise",
        data::Images { count: 2, channels: 1, height: 64, width: 64, pixels: vec![9; 2 * 64 * 64] },
        Vec::new(),
    )
    .unwrap();
    let trainer = Trainer::new(&gpu, config.clone(), &set).unwrap();
    let limit = gpu.max_binding_bytes();
    let fits = trainer.model.max_batch(limit);
    assert!(fits >= 2 && 4 * (fits * trainer.model.largest_per_sample()) as u64 <= limit);
    assert!(4 * ((fits + 1) * trainer.model.largest_per_sample()) as u64 > limit);
    let err = trainer
        .model
        .check_batch(&gpu, fits + 1, "a training batch")
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains(&format!("use a batch of {fits} or fewer")) && err.contains("storage binding"),
        "{err}"
    );
    trainer.model.check_batch(&gpu, fits, "a training batch").unwrap();
    // Generating (a grid, sample, the explorer) is never refused: it splits into batches that
    // fit, and in eval mode the images are what one batch would give.
    let width = config.latent.width();
    let mut r = rng(11);
    let latents: Vec<f32> = (0..(fits + 1) * width).map(|_| r.random_range(-1.0..1.0)).collect();
    let all = trainer.model.generate(&gpu, &latents, width, BnMode::Eval).unwrap();
    let image = config.network.image_len();
    assert_eq!(all.len(), (fits + 1) * image);
    let last = trainer.model.generate(&gpu, &latents[fits * width..], width, BnMode::Eval).unwrap();
    // Alone, the image may take another matmul tile (another summation order): equal to f32 noise.
    let worst =
        all[fits * image..].iter().zip(&last).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "the last image differs by {worst} alone and in a split batch");
}

#[test]
fn evaluation_splits_held_out_images_into_batches_that_fit() {
    // The shapes network at its real widths: 512 KiB per 64x64 image, so 256 fill lavapipe's
    // 128 MiB binding, and 300 held-out images (fewer than EVAL_BATCH) take two batches. (An
    // adapter with a larger binding gets as many more images.)
    let gpu = gpu();
    let config = TrainConfig::for_preset(Model::Shapes, 2, 0);
    let probe = data::Dataset::new(
        "probe",
        data::Images { count: 2, channels: 1, height: 64, width: 64, pixels: vec![0; 2 * 64 * 64] },
        Vec::new(),
    )
    .unwrap();
    let count = Trainer::new(&gpu, config.clone(), &probe)
        .unwrap()
        .model
        .max_batch(gpu.max_binding_bytes())
        + 44;
    let mut r = rng(11);
    let pixels: Vec<u8> =
        (0..count * 64 * 64).map(|_| if r.random_range(0..4) == 0 { 255 } else { 0 }).collect();
    let set = data::Dataset::new(
        "held out",
        data::Images { count, channels: 1, height: 64, width: 64, pixels },
        Vec::new(),
    )
    .unwrap();
    let trainer = Trainer::new(&gpu, config.clone(), &set).unwrap();
    trainer
        .model
        .check_batch(&gpu, count, "held-out images")
        .expect_err("one batch of all of them does not fit");
    let [eval_bn, _] =
        eval::evaluate(&gpu, &trainer.model, &config.latent, &set, run::EVAL_BATCH).unwrap();
    assert_eq!(eval_bn.images, count);
}
