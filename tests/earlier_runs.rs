//! Runs written by earlier builds still load. tests/data/runs/ keeps the config.json and a
//! checkpoint of two tiny runs written by the build before models became an enum and the
//! optimiser settings one struct (commit 3848012: an MNIST run at widths 8,4,4,4 with 6 noise
//! dimensions, and a shapes32 run with a learned std, the q-with-g wiring and `--lr-d 3e-4`), with
//! the grid that build's `sample --seed 3` drew from each; tests/data/mnist_checkpoint_v1 is a
//! checkpoint of the first, MNIST-only code, from before networks were descriptions. Today's build
//! reads every configuration unchanged, draws the same grids, evaluates to the same scores and
//! resumes from each.

mod common;
use common::files::temp_dir;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use infogan::model::config::{TrainConfig, Wiring};
use infogan::model::presets::Model;
use infogan::train::checkpoint;

fn fixture(run: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/runs").join(run)
}

fn infogan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infogan")).args(args).output().expect("runs")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The grey values of a PNG.
fn pixels(path: &Path) -> (u32, u32, Vec<u8>) {
    let image = image::open(path).unwrap().to_luma8();
    (image.width(), image.height(), image.into_raw())
}

#[test]
fn earlier_configurations_read_as_they_were_written() {
    let text = std::fs::read_to_string(fixture("mnist-v2").join("config.json")).unwrap();
    let mnist = TrainConfig::from_json(&text).unwrap();
    assert_eq!(
        (mnist.model, mnist.latent.noise, mnist.widths.clone()),
        (Model::Mnist, 6, vec![8, 4, 4, 4])
    );
    assert_eq!(
        (mnist.optimiser.lr_d, mnist.optimiser.lr_g, mnist.optimiser.lambda_cat),
        (2e-4, 1e-3, 1.0)
    );
    let text = std::fs::read_to_string(fixture("shapes32-v2").join("config.json")).unwrap();
    let shapes = TrainConfig::from_json(&text).unwrap();
    assert_eq!(
        (shapes.model, shapes.wiring, shapes.learned_std),
        (Model::Shapes32, Wiring::QWithG, true)
    );
    assert_eq!(
        (shapes.optimiser.lr_d, shapes.optimiser.lr_g, shapes.optimiser.lambda_cont),
        (3e-4, 1e-3, 0.05)
    );
    // What this build writes reads back the same, with the same top-level fields as before.
    let written: serde_json::Value = serde_json::from_str(&shapes.to_json()).unwrap();
    let earlier: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(written, earlier, "config.json keeps its format");
    // And each checkpoint carries the same configuration as its run's config.json.
    for (run, config) in [("mnist-v2", &mnist), ("shapes32-v2", &shapes)] {
        let ckpt = checkpoint::load(&fixture(run).join("step-2.safetensors")).unwrap();
        assert_eq!(&ckpt.config, config, "{run}");
        assert_eq!(ckpt.step, 2);
    }
}

#[test]
fn earlier_checkpoints_sample_evaluate_and_resume() {
    let dir = temp_dir("earlier-runs");
    for (run, grid, extra) in [
        ("mnist-v2", "sample-seed3.png", &[][..]),
        ("shapes32-v2", "sample-seed3-cont1.png", &["--cont", "1=0.5"][..]),
    ] {
        let ckpt = fixture(run).join("step-2.safetensors");
        let png = dir.join(format!("{run}.png"));
        let mut args = vec![
            "sample",
            "--checkpoint",
            ckpt.to_str().unwrap(),
            "--seed",
            "3",
            "--out",
            png.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        ok(infogan(&args));
        let (now, then) = (pixels(&png), pixels(&fixture(run).join(grid)));
        assert_eq!((now.0, now.1), (then.0, then.1), "{run}: grid size");
        let worst = now.2.iter().zip(&then.2).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 1, "{run}: a pixel differs by {worst} from the earlier build's grid");
    }
    // The MNIST checkpoint's held-out accuracies as the earlier build scored them, and it resumes.
    let ckpt = fixture("mnist-v2").join("step-2.safetensors");
    assert_accuracies(&ckpt, 0.1165, 0.1785);
    resumes(&ckpt, Some(&fixture("mnist-v2").join("config.json")), &dir.join("resumed"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_checkpoint_from_before_network_descriptions_still_loads() {
    // Written by the MNIST-only code (its config has widths {fc, conv_wide, conv_narrow, q_fc}
    // and no network), 2 steps at widths 8,4,4,4 on the embedded digits.
    let ckpt =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mnist_checkpoint_v1.safetensors");
    let dir = temp_dir("old-checkpoint");
    // That code's `sample --seed 3` grid: its pixel values summed (302 x 302 grey).
    let png = dir.join("sample.png");
    ok(infogan(&[
        "sample",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
        "--seed",
        "3",
    ]));
    let (width, height, grey) = pixels(&png);
    let sum: u64 = grey.iter().map(|&p| u64::from(p)).sum();
    assert_eq!((width, height), (302, 302));
    assert!(
        (sum as f64 - 10_776_256.0).abs() < 1e-4 * 10_776_256.0,
        "pixel sum {sum}, the old code's 10776256"
    );
    assert_accuracies(&ckpt, 0.1165, 0.2085);
    resumes(&ckpt, None, &dir.join("run"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `eval --json` gives these one-to-one accuracies (running statistics, batch statistics).
fn assert_accuracies(ckpt: &Path, eval: f64, batch_stats: f64) {
    let json: serde_json::Value = serde_json::from_str(&ok(infogan(&[
        "eval",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--json",
    ])))
    .unwrap();
    let accuracy = |mode: &str| json[mode]["accuracy_hungarian"].as_f64().unwrap();
    assert!(
        (accuracy("eval") - eval).abs() < 2e-3
            && (accuracy("batch_stats") - batch_stats).abs() < 2e-3,
        "{json}"
    );
}

/// A run folder holding the checkpoint (and the run's config.json, where given) resumes one step.
fn resumes(ckpt: &Path, config: Option<&Path>, run: &Path) {
    std::fs::create_dir_all(run.join("checkpoints")).unwrap();
    std::fs::copy(ckpt, run.join("checkpoints/step-2.safetensors")).unwrap();
    if let Some(config) = config {
        std::fs::copy(config, run.join("config.json")).unwrap();
    }
    ok(infogan(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--steps",
        "3",
        "--log-every",
        "1",
        "--sample-every",
        "100",
    ]));
    assert_eq!(std::fs::read_to_string(run.join("metrics.jsonl")).unwrap().lines().count(), 1);
}
