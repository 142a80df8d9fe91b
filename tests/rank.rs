//! `infogan rank`: runs ordered by the label-free score read from their newest evaluation, the
//! pick's grid, and beside them (where there are labels) each run's accuracy, whether the pick is
//! the most accurate run, and each label-free score's rank correlation with accuracy. On real
//! tiny runs, on hand-made records whose order is known, and on bad input (one line each, nothing
//! written).

mod common;
use common::files::temp_dir;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn infogan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infogan")).args(args).output().expect("runs")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A run folder with the MNIST fixture's configuration and one evaluation line per (step,
/// posterior information, accuracy), and a grid of its last step.
fn fake_run(dir: &Path, evaluations: &[(u64, f64, f64)]) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/runs/mnist-v2");
    std::fs::create_dir_all(dir.join("samples")).unwrap();
    std::fs::copy(fixtures.join("config.json"), dir.join("config.json")).unwrap();
    let mut lines = String::new();
    for &(step, information, accuracy) in evaluations {
        let code = serde_json::json!({ "code": 0, "categories": 10, "usage_nats": 2.0, "ln_k": std::f64::consts::LN_10,
            "posterior_mi_nats": information, "confidence": 0.5 + information / 10.0, "scores": [] });
        let eval = serde_json::json!({ "bn": "eval", "accuracy_hungarian": accuracy, "nmi": accuracy / 2.0, "codes": [code] });
        lines += &format!(
            "{}\n",
            serde_json::json!({ "step": step, "eval": eval, "batch_stats": eval })
        );
    }
    std::fs::write(dir.join("eval.jsonl"), lines).unwrap();
    let last = evaluations.last().map_or(0, |e| e.0);
    std::fs::write(
        dir.join(format!("samples/step-{last}-cat0.png")),
        format!("grid of {}", dir.display()),
    )
    .unwrap();
    dir.to_path_buf()
}

#[test]
fn runs_are_ranked_by_their_newest_evaluation() {
    let dir = temp_dir("rank-known");
    // Older evaluations do not count: run a's best score is its first.
    let a = fake_run(&dir.join("a"), &[(100, 2.2, 0.9), (200, 1.0, 0.2)]);
    let b = fake_run(&dir.join("b"), &[(200, 1.5, 0.1)]);
    let c = fake_run(&dir.join("c"), &[(200, 2.0, 0.3)]);
    let pick = dir.join("pick.png");
    let text = ok(infogan(&[
        "rank",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        c.to_str().unwrap(),
        "--json",
        "--grid",
        pick.to_str().unwrap(),
    ]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let order: Vec<&str> =
        json["runs"].as_array().unwrap().iter().map(|r| r["run"].as_str().unwrap()).collect();
    assert_eq!(order, [c.to_str().unwrap(), b.to_str().unwrap(), a.to_str().unwrap()], "{json}");
    assert_eq!(json["pick"], c.to_str().unwrap());
    assert_eq!(json["best_by_accuracy"], c.to_str().unwrap());
    assert_eq!(
        std::fs::read(&pick).unwrap(),
        std::fs::read(c.join("samples/step-200-cat0.png")).unwrap()
    );
    // Scores 1.0, 1.5, 2.0 against accuracies 0.2, 0.1, 0.3: ranks (1, 2, 3) and (2, 1, 3).
    assert_eq!(json["spearman_with_accuracy"]["posterior_information"], 0.5);
    // As text: one row per run, the pick and its standing.
    let text =
        ok(infogan(&["rank", a.to_str().unwrap(), b.to_str().unwrap(), c.to_str().unwrap()]));
    assert!(text.contains("the pick is also the most accurate run (30.0%)"), "{text}");
    assert!(text.contains("posterior_information +0.50"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn real_runs_rank_and_their_pick_is_named() {
    let dir = temp_dir("rank-real");
    let runs: Vec<PathBuf> = (0..3)
        .map(|seed| {
            let out = dir.join(format!("s{seed}"));
            let seed = seed.to_string();
            let args = [
                "train",
                "--widths",
                "32,8,4,8",
                "--batch",
                "8",
                "--steps",
                "3",
                "--sample-every",
                "3",
                "--seed",
                &seed,
                "--out",
                out.to_str().unwrap(),
            ];
            ok(infogan(&args));
            out
        })
        .collect();
    let names: Vec<&str> = runs.iter().map(|r| r.to_str().unwrap()).collect();
    let json: serde_json::Value =
        serde_json::from_str(&ok(infogan(&[&["rank", "--json"][..], &names].concat()))).unwrap();
    let rows = json["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let scores: Vec<f64> =
        rows.iter().map(|r| r["posterior_information"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
    assert!(
        scores.iter().all(|s| (0.0..=std::f64::consts::LN_10 + 1e-9).contains(s)),
        "within [0, ln 10]: {scores:?}"
    );
    assert!(rows.iter().all(|r| r["accuracy"].as_f64().is_some_and(|a| (0.0..=1.0).contains(&a))));
    assert_eq!(json["pick"], rows[0]["run"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn what_cannot_be_ranked_is_one_line_and_nothing_is_written() {
    let dir = temp_dir("rank-refusals");
    let good = fake_run(&dir.join("good"), &[(100, 1.0, 0.5)]);
    std::fs::create_dir_all(dir.join("plain")).unwrap();
    let unevaluated = dir.join("unevaluated");
    std::fs::create_dir_all(&unevaluated).unwrap();
    std::fs::copy(good.join("config.json"), unevaluated.join("config.json")).unwrap();
    let shapes = fake_run(&dir.join("shapes"), &[(100, 0.5, 0.4)]);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/runs/shapes32-v2");
    std::fs::copy(fixtures.join("config.json"), shapes.join("config.json")).unwrap();
    let pick = dir.join("pick.png");
    for (bad, needle) in [
        (dir.join("plain"), "is not a run folder"),
        (unevaluated.clone(), "has no evaluations"),
        (shapes.clone(), "runs of different models cannot be ranked together"),
    ] {
        let out = infogan(&[
            "rank",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--grid",
            pick.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(needle) && err.trim().lines().count() == 1, "{needle}: {err}");
        assert!(!pick.exists(), "nothing written");
    }
    std::fs::remove_dir_all(&dir).ok();
}
