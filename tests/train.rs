//! End-to-end training on the embedded digits at tiny sizes: finite losses and bounds, the same
//! seed and adapter give the same metrics, and bad settings are clear errors.

mod common;
use common::*;
use infogan::data;
use infogan::model::config::TrainConfig;
use infogan::model::latent::{GridLayout, GridRequest, LatentSpec};
use infogan::train::trainer::Trainer;

fn metrics_of(gpu: &infogan::Gpu, data: &data::Dataset, seed: u64, steps: u64) -> Vec<String> {
    let mut config = TrainConfig::paper(8, seed);
    config.learned_std = true;
    let mut trainer = Trainer::new(gpu, config, data).expect("trainer");
    (0..steps)
        .map(|_| {
            let mut m = trainer.step(true).expect("step").expect("metrics");
            assert!(m.is_finite(), "{m:?}");
            assert!(m.d_real.iter().chain(&m.d_fake).all(|p| (0.0..=1.0).contains(p)));
            let [lo, hi] = m.q_std.expect("learned std is logged");
            assert!(lo > 0.0 && lo <= hi);
            m.samples_per_s = 0.0;
            m.json()
        })
        .collect()
}

#[test]
fn training_steps_are_finite_and_deterministic() {
    let gpu = gpu();
    let split = data::embedded_mnist().unwrap();
    let train = split.train.slice(0, 64, "tiny");
    let a = metrics_of(&gpu, &train, 3, 3);
    let b = metrics_of(&gpu, &train, 3, 3);
    assert_eq!(a, b, "same seed, same adapter: same metrics");
    let c = metrics_of(&gpu, &train, 4, 1);
    assert_ne!(a[0], c[0], "another seed should differ");
    // Bounds are logged in nats and sit below their ceilings.
    for line in &a {
        assert!(
            line.contains("\"B_GAN\"")
                && line.contains("\"L_I_cat\"")
                && line.contains("\"L_I_cont\"")
        );
    }
}

#[test]
fn generated_images_are_in_range_and_follow_the_latents() {
    let gpu = gpu();
    let split = data::embedded_mnist().unwrap();
    let train = split.train.slice(0, 16, "tiny");
    let trainer = Trainer::new(&gpu, TrainConfig::paper(4, 1), &train).unwrap();
    let spec = LatentSpec::mnist();
    let z = spec.sample(&mut rng(9), 3).z;
    let images = trainer.generate(&z).unwrap();
    assert_eq!(images.len(), 3 * 784);
    assert!(images.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_ne!(images[..784], images[784..1568], "different latents, different images");
    // Batch statistics: also in range, and generation never moves the running statistics.
    let before: Vec<f32> = trainer
        .model
        .g
        .stack()
        .batch_norms()
        .iter()
        .flat_map(|(_, bn)| gpu.download(&bn.running).unwrap())
        .collect();
    let batch_stats = trainer.generate_with(&z, infogan::nn::layers::BnMode::BatchStats).unwrap();
    assert!(batch_stats.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_ne!(batch_stats, images);
    let after: Vec<f32> = trainer
        .model
        .g
        .stack()
        .batch_norms()
        .iter()
        .flat_map(|(_, bn)| gpu.download(&bn.running).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn bad_batch_sizes_are_clear_errors() {
    let gpu = gpu();
    let split = data::embedded_mnist().unwrap();
    let train = split.train.slice(0, 16, "tiny");
    for batch in [0, 1, 17] {
        let err = Trainer::new(&gpu, TrainConfig::paper(batch, 0), &train).err().expect("rejected");
        assert!(err.message().contains("batch"), "{err}");
    }
}

#[test]
fn latent_layout_and_entropy() {
    let spec = LatentSpec::mnist();
    assert_eq!(spec.width(), 74);
    assert!((spec.code_entropy() - (10f64.ln() + 2.0 * 2f64.ln())).abs() < 1e-12);
    let batch = spec.sample(&mut rng(1), 5);
    for (row, &cat) in batch.z.chunks(74).zip(&batch.categories[0]) {
        assert_eq!(row[62..72].iter().sum::<f32>(), 1.0);
        assert_eq!(row[62 + cat as usize], 1.0);
        assert!(row[..62].iter().chain(&row[72..]).all(|v| (-1.0..1.0).contains(v)));
    }
    assert_eq!(&batch.continuous[..2], &batch.z[72..74]);
}

#[test]
fn grid_latents_vary_one_thing_at_a_time() {
    let spec = LatentSpec::mnist();
    let request = |layout| GridRequest::new(layout, 2, 10);
    let (z, rows) = spec.grid(&request(GridLayout::Categories(0))).unwrap();
    assert_eq!((rows, z.len()), (10, 100 * 74));
    let row = |i: usize| &z[i * 74..(i + 1) * 74];
    // Same column, another row: same noise, another category.
    assert_eq!(row(3)[..62], row(13)[..62]);
    assert_eq!((row(3)[62], row(13)[63]), (1.0, 1.0));
    // Same row, another column: another noise, same category.
    assert_ne!(row(0)[..62], row(1)[..62]);
    let (z, _) = spec.grid(&request(GridLayout::Sweep(1))).unwrap();
    let row = |i: usize| &z[i * 74..(i + 1) * 74];
    assert_eq!((row(0)[73], row(9)[73], row(0)[72]), (-2.0, 2.0, 0.0));
    assert_eq!(row(0)[..62], row(55)[..62]);
    // Fixed codes hold in every cell; a fixed first code turns the rows into fresh noise.
    let fixed = GridRequest {
        categories: vec![(0, 4)],
        continuous: vec![(0, 1.5)],
        ..request(GridLayout::Noise)
    };
    let (z, rows) = spec.grid(&fixed).unwrap();
    assert_eq!(rows, 10);
    for row in z.chunks(74) {
        assert_eq!((row[62 + 4], row[72]), (1.0, 1.5));
    }
    assert_ne!(z[..62], z[74..74 + 62], "each cell draws its own noise");
    for (bad, needle) in [
        (
            GridRequest { categories: vec![(0, 10)], ..request(GridLayout::Noise) },
            "categories 0..9",
        ),
        (
            GridRequest { categories: vec![(1, 0)], ..request(GridLayout::Noise) },
            "1 categorical codes",
        ),
        (
            GridRequest { continuous: vec![(2, 0.0)], ..request(GridLayout::Noise) },
            "continuous codes 0..1",
        ),
        (
            GridRequest { continuous: vec![(0, f32::NAN)], ..request(GridLayout::Noise) },
            "between -10 and 10",
        ),
        (request(GridLayout::Sweep(2)), "continuous codes 0..1"),
        (request(GridLayout::Categories(1)), "1 categorical codes"),
        (GridRequest { cols: 0, ..request(GridLayout::Noise) }, "1 to 100"),
    ] {
        let message = spec.grid(&bad).unwrap_err().to_string();
        assert!(message.contains(needle), "{bad:?}: {message}");
    }
}

#[test]
fn grids_compose_tiles_in_place() {
    let mut images = vec![0.0f32; 2 * 3 * 784];
    images[784 * 4 + 28 * 5 + 7] = 1.0; // tile (1, 1), pixel (5, 7)
    let (pixels, width, height) = infogan::io::grid::compose(&images, 2, 3, [1, 28, 28]).unwrap();
    assert_eq!((width, height), (3 * 28 + 4 * 2, 2 * 28 + 3 * 2));
    let (top, left) = (2 + 30, 2 + 30);
    assert_eq!(pixels[(top + 5) * width + left + 7], 255);
    assert_eq!(pixels[(top + 5) * width + left + 8], 0);
    assert_eq!(pixels[0], 64, "gutter");
    assert!(infogan::io::grid::compose(&images, 3, 3, [1, 28, 28]).is_err());
}

#[test]
fn colour_grids_interleave_the_planes() {
    // Two 3x2x2 images side by side: image 1, green plane, pixel (1, 0) is lit.
    let mut images = vec![0.0f32; 2 * 12];
    images[12 + 4 + 2] = 1.0;
    let (pixels, width, height) = infogan::io::grid::compose(&images, 1, 2, [3, 2, 2]).unwrap();
    assert_eq!((width, height), (2 * 2 + 3 * 2, 2 + 2 * 2));
    let at = |y: usize, x: usize, c: usize| pixels[(y * width + x) * 3 + c];
    let (top, left) = (2, 2 + 2 + 2);
    assert_eq!((at(top + 1, left, 0), at(top + 1, left, 1), at(top + 1, left, 2)), (0, 255, 0));
    assert_eq!(at(top, left, 1), 0);
    assert!(
        infogan::io::grid::compose(&images, 1, 2, [2, 2, 3]).is_err(),
        "two channels are neither grey nor colour"
    );
}
