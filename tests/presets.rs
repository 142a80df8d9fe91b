//! Every model end to end through the binary, as a user runs it: `infogan train` at the model's
//! full widths with the default grid and evaluation settings, on every backend, each on small data
//! in the format its users have (the embedded digits, a tiny SVHN .mat, CelebA's folder, grey and
//! colour image folders at 32x32 and 64x64, the rendered shapes at both sizes): two training
//! steps, every grid, evaluation, a checkpoint and report.html; `sample` redraws the training
//! grid; a contradicting --model is refused before anything is written.

mod common;
use common::files::{svhn_mat, temp_dir, write_pictures};

use std::path::Path;
use std::process::{Command, Output};

use infogan::model::presets::{self, Model};

fn infogan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infogan"))
}

fn run(args: &[&str]) -> Output {
    infogan().args(args).output().expect("runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The backends this machine's tests run on: the default adapter's, and OpenGL where wgpu finds
/// an OpenGL adapter (llvmpipe in CI).
fn backends() -> Vec<Option<&'static str>> {
    let gl = infogan().arg("devices").env("WGPU_BACKEND", "gl").output().expect("runs");
    if gl.status.success() {
        vec![None, Some("gl")]
    } else {
        vec![None]
    }
}

/// Runs `infogan train --model M --data D --steps 2 --batch 8` as a user would: the model's full
/// widths, the default grid and evaluation settings (both due at the last step), on every
/// backend; then samples and evaluates the checkpoint. A model whose step passes its tests but
/// whose grids or evaluation do not fit the adapter fails here.
fn train_briefly(model: &str, data: &str, out: &Path) -> String {
    let preset = presets::preset(Model::parse(model).unwrap(), None).unwrap();
    let mut stdout = String::new();
    for backend in backends() {
        let run = out.join(backend.unwrap_or("default"));
        let args = [
            "train",
            "--model",
            model,
            "--data",
            data,
            "--batch",
            "8",
            "--steps",
            "2",
            "--out",
            run.to_str().unwrap(),
        ];
        let mut command = infogan();
        command.args(args);
        if let Some(b) = backend {
            command.env("WGPU_BACKEND", b);
        }
        stdout += &ok(&command.output().expect("runs"));
        let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        assert_eq!(metrics.lines().count(), 2, "{model} ({backend:?}): both steps logged");
        for line in metrics.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                v["B_GAN"].as_f64().unwrap().is_finite()
                    && v["loss_D"].as_f64().unwrap().is_finite(),
                "{model}: {line}"
            );
        }
        let samples = run.join("samples");
        for code in 0..preset.latent.categorical.len() {
            assert!(
                samples.join(format!("step-2-cat{code}.png")).is_file(),
                "{model}: grid of categorical code {code}"
            );
        }
        for code in 0..preset.latent.continuous {
            assert!(
                samples.join(format!("step-2-cont{code}.png")).is_file(),
                "{model}: grid of continuous code {code}"
            );
        }
        assert!(run.join("checkpoints/step-2.safetensors").is_file(), "{model}: checkpoint");
        assert_eq!(
            std::fs::read_to_string(run.join("eval.jsonl")).unwrap().lines().count(),
            1,
            "{model}: evaluated"
        );
    }
    let run = out.join("default");
    let [c, h, _] = preset.network.image;
    let first_grid =
        if preset.latent.categorical.is_empty() { "step-2-cont0.png" } else { "step-2-cat0.png" };
    let grid = image::open(run.join("samples").join(first_grid)).unwrap();
    assert_eq!(grid.color().has_color(), c == 3, "{model}: grid in colour iff the images are");
    assert!(grid.width() as usize > 10 * h, "{model}: ten columns of {h}-pixel images");
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(report.contains("data:image/png;base64,"), "{model}: report shows the grids");
    // `sample` on the run draws the grid training wrote, byte for byte.
    let sample_png = run.join("sample.png");
    let layout: &[&str] =
        if preset.latent.categorical.is_empty() { &["--sweep", "0"] } else { &[] };
    let mut args = vec![
        "sample",
        "--checkpoint",
        run.to_str().unwrap(),
        "--out",
        sample_png.to_str().unwrap(),
    ];
    args.extend_from_slice(layout);
    ok(&self::run(&args));
    assert_eq!(
        std::fs::read(&sample_png).unwrap(),
        std::fs::read(run.join("samples").join(first_grid)).unwrap(),
        "{model}: sample redraws the training grid"
    );
    ok(&self::run(&["eval", "--checkpoint", run.to_str().unwrap(), "--batch", "8"])) + &stdout
}

#[test]
fn mnist_trains_on_the_embedded_digits() {
    let out = temp_dir("preset-mnist");
    let text = train_briefly("mnist", "mnist", &out.join("run"));
    assert!(
        text.contains("vs label: accuracy"),
        "eval scores the code against the digits:\n{text}"
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn svhn_trains_on_a_mat_file_and_scores_all_four_codes() {
    let dir = temp_dir("preset-svhn");
    // 24 coloured pictures as SVHN's X, digits as y; a compressed training file and an
    // uncompressed test file, the two forms MATLAB writes.
    let pictures = write_pictures(&dir.join("pictures"), 32, 32, 32, false, 1);
    let planar: Vec<u8> = pictures
        .iter()
        .flat_map(|p| infogan::data::folder::decode(p, [3, 32, 32], None).unwrap())
        .collect();
    let digits: Vec<u32> = (0..32).map(|i| i % 10).collect();
    std::fs::write(
        dir.join("train_32x32.mat"),
        svhn_mat(&planar[..24 * 3072], &digits[..24], true),
    )
    .unwrap();
    std::fs::write(
        dir.join("test_32x32.mat"),
        svhn_mat(&planar[24 * 3072..], &digits[24..], false),
    )
    .unwrap();
    let text = train_briefly("svhn", dir.to_str().unwrap(), &dir.join("run"));
    for code in 0..4 {
        assert!(
            text.contains(&format!("code {code} (10 categories)")),
            "code {code} evaluated:\n{text}"
        );
    }
    assert!(text.contains("vs digit: accuracy"), "{text}");
    // The data picks its preset: without --model, an SVHN folder trains the svhn networks.
    let config = std::fs::read_to_string(dir.join("run/default/config.json")).unwrap();
    assert!(config.contains("\"model\":\"svhn\""), "{config}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn celeba_trains_on_its_aligned_folder_and_reports_code_usage() {
    let dir = temp_dir("preset-celeba");
    // CelebA's aligned images are 178x218; the loader crops the central 108x108 and resizes.
    write_pictures(&dir.join("img_align_celeba"), 24, 178, 218, false, 2);
    let text = train_briefly("celeba", dir.to_str().unwrap(), &dir.join("run"));
    assert!(text.contains("no labels") && text.contains("code 9 (10 categories): usage"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn faces_trains_on_a_grey_folder_with_labels_from_subfolders() {
    let dir = temp_dir("preset-faces");
    write_pictures(&dir.join("images").join("left"), 12, 40, 36, true, 3);
    write_pictures(&dir.join("images").join("right"), 12, 48, 48, true, 4);
    let out = dir.join("run");
    let data = dir.join("images");
    train_briefly("faces", data.to_str().unwrap(), &out);
    // Grey pictures pick faces by default.
    let config = std::fs::read_to_string(out.join("default/config.json")).unwrap();
    assert!(config.contains("\"model\":\"faces\""), "{config}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn chairs_trains_at_64x64_with_same_padded_convolutions() {
    let dir = temp_dir("preset-chairs");
    write_pictures(&dir.join("chairs"), 20, 64, 64, true, 5);
    train_briefly("chairs", dir.join("chairs").to_str().unwrap(), &dir.join("run"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_model_that_contradicts_the_data_is_refused_before_anything_is_written() {
    let out = temp_dir("preset-contradiction").join("run");
    let refused = run(&[
        "train",
        "--data",
        "mnist",
        "--model",
        "svhn",
        "--steps",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(
        message.contains("--model svhn takes 3x32x32")
            && message.contains("1x28x28")
            && message.contains("mnist"),
        "{message}"
    );
    assert!(!out.exists(), "nothing written");
    let unknown =
        run(&["train", "--model", "cifar", "--steps", "1", "--out", out.to_str().unwrap()]);
    assert!(
        stderr(&unknown).contains("unknown model `cifar`") && stderr(&unknown).contains("chairs"),
        "{}",
        stderr(&unknown)
    );
    let widths = run(&[
        "train",
        "--model",
        "mnist",
        "--widths",
        "1,2,3",
        "--steps",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr(&widths).contains("mnist preset takes 4 counts")
            && stderr(&widths).contains("fc,wide,narrow,q_fc"),
        "{}",
        stderr(&widths)
    );
    // A batch whose widest buffer exceeds the adapter's storage binding (512 KiB an image here;
    // 128 MiB on lavapipe, at most 4 GiB anywhere).
    let huge = run(&[
        "train",
        "--data",
        "shapes",
        "--batch",
        "9000",
        "--steps",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let message = stderr(&huge);
    assert!(
        message.contains("a training batch of 9000 images needs a 4500 MiB buffer")
            && message.contains("use a batch of"),
        "{message}"
    );
    assert!(!out.exists(), "nothing written");
}

#[test]
fn shapes_trains_and_evaluates_codes_against_known_factors() {
    let out = temp_dir("preset-shapes32").join("run");
    let text = train_briefly("shapes32", "shapes32", &out);
    assert!(
        text.contains("information between each code and each factor") && text.contains("MIG"),
        "{text}"
    );
    for factor in ["shape", "scale", "orientation", "x", "y"] {
        assert!(
            text.contains(&format!("vs {factor}: accuracy")),
            "code 0 scored against {factor}:\n{text}"
        );
    }
    let eval = std::fs::read_to_string(out.join("default/eval.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(eval.lines().last().unwrap()).unwrap();
    let factors = &line["eval"]["factors"];
    assert_eq!(factors["codes"], serde_json::json!(["c0", "z0", "z1", "z2", "z3"]));
    assert_eq!(factors["mi"].as_array().unwrap().len(), 5);
    let mig = factors["mig"].as_f64().unwrap();
    assert!((-1e-9..=1.0).contains(&mig), "MIG {mig}");
    let report = std::fs::read_to_string(out.join("default/report.html")).unwrap();
    assert!(report.contains("information between codes and factors"), "report shows the heat map");
    // The shapes models train with InfoGAN-CR's optimiser settings, the paper's five with Adam
    // 2e-4 / 1e-3 and weights 1; a flag still overrides either.
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("default/config.json")).unwrap())
            .unwrap();
    let settings = |c: &serde_json::Value| {
        ["lr_d", "lr_g", "lambda_cat", "lambda_cont"].map(|k| c[k].as_f64().unwrap() as f32)
    };
    assert_eq!(settings(&config), [2e-3, 1e-3, 0.05, 0.05], "{config}");
    let models: serde_json::Value = serde_json::from_str(&ok(&run(&["models", "--json"]))).unwrap();
    for row in models.as_array().unwrap() {
        let want = if row["model"].as_str().unwrap().starts_with("shapes") {
            [2e-3, 1e-3, 0.05, 0.05]
        } else {
            [2e-4, 1e-3, 1.0, 1.0]
        };
        assert_eq!(settings(row), want, "{row}");
    }
    std::fs::remove_dir_all(out.parent().unwrap()).ok();
}

#[test]
fn shapes_trains_at_64x64() {
    let out = temp_dir("preset-shapes").join("run");
    let text = train_briefly("shapes", "shapes", &out);
    assert!(text.contains("MIG"), "{text}");
    std::fs::remove_dir_all(out.parent().unwrap()).ok();
}
