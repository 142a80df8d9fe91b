//! `infogan train / sample / eval` end to end on narrow networks: exact resumption, refusals,
//! Ctrl-C, NaN, kills during checkpoint writes, and the files a run leaves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use infogan::train::checkpoint;

const NARROW: &str = "32,8,4,8";

fn infogan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infogan"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infogan-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(args: &[&str]) -> Output {
    infogan().args(args).output().expect("runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn train(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "--batch",
        "8",
        "--widths",
        NARROW,
        "--out",
        out.to_str().unwrap(),
        "--log-every",
        "1",
        "--sample-every",
        "2",
        "--checkpoint-every",
        "2",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// metrics.jsonl without the wall-clock field.
fn metrics(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| l.split(",\"samples_per_s\"").next().unwrap().to_owned())
        .collect()
}

/// sessions.jsonl: one start and one end line per `infogan train` process.
fn sessions(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("sessions.jsonl")).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn resuming_gives_the_uninterrupted_run() {
    let (a, b) = (scratch("whole"), scratch("halves"));
    let whole = train(&a, &["--steps", "6", "--keep", "2"]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    let first = train(&b, &["--steps", "3", "--keep", "2"]);
    assert!(first.status.success(), "{}", stderr(&first));
    // The run folder keeps the config; --resume takes everything from the checkpoint (step 3),
    // the cadence of logs, grids and checkpoints included.
    let second = run(&["train", "--resume", b.to_str().unwrap(), "--steps", "6"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(metrics(&a), metrics(&b), "same seed, same adapter: resumed == uninterrupted");
    assert_eq!(metrics(&a).len(), 6);
    let steps: Vec<u64> =
        checkpoint::list(&a.join("checkpoints")).iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![4, 6], "--keep 2 keeps the newest two");
    let (ca, cb) = (
        checkpoint::load(&a.join("checkpoints/step-6.safetensors")).unwrap(),
        checkpoint::load(&b.join("checkpoints/step-6.safetensors")).unwrap(),
    );
    assert_eq!((ca.step, ca.config.clone()), (cb.step, cb.config.clone()));
    // Every output of a run is there.
    let report = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(
        report.contains("<svg")
            && report.contains("data:image/png;base64,")
            && report.contains("accuracy")
            && report.contains("grids and evaluation every 2, checkpoint every 2 (newest 2 kept)"),
        "report.html incomplete"
    );
    let evaluated = |dir: &Path| -> Vec<u64> {
        let text = std::fs::read_to_string(dir.join("eval.jsonl")).unwrap();
        text.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64().unwrap()
            })
            .collect()
    };
    assert_eq!(evaluated(&a), vec![2, 4, 6]);
    assert_eq!(
        evaluated(&b),
        vec![2, 3, 4, 6],
        "the first part ended at 3; the resumed one kept every 2"
    );
    // A cadence flag given on resume changes the cadence (and nothing else), and is kept.
    let third =
        run(&["train", "--resume", b.to_str().unwrap(), "--steps", "9", "--sample-every", "3"]);
    assert!(third.status.success(), "{}", stderr(&third));
    assert_eq!(evaluated(&b), vec![2, 3, 4, 6, 9]);
    let kept = checkpoint::load(&b.join("checkpoints/step-9.safetensors")).unwrap().config;
    assert_eq!(kept.schedule.map(|s| (s.sample_every, s.log_every, s.keep)), Some((3, 1, 2)));
    // Each of the three processes recorded its command, build, adapter, steps and outcome.
    let lines = sessions(&b);
    let field = |i: usize, key: &str| lines[i][key].clone();
    let events: Vec<_> = (0..lines.len()).map(|i| field(i, "event")).collect();
    assert_eq!(events, ["start", "end", "start", "end", "start", "end"]);
    let steps: Vec<_> = (0..6).map(|i| field(i, "step").as_u64().unwrap()).collect();
    assert_eq!(steps, [0, 3, 3, 6, 6, 9]);
    assert!((0..3).all(|i| field(2 * i + 1, "outcome") == "finished"), "{lines:?}");
    assert_eq!(field(2, "command"), format!("infogan train --resume {} --steps 6", b.display()));
    assert_eq!(field(0, "build"), infogan::BUILD);
    assert!(infogan::BUILD.starts_with(env!("CARGO_PKG_VERSION")));
    let adapter = field(0, "adapter");
    assert!(adapter.as_str().is_some_and(|a| !a.is_empty()), "{adapter}");
    let report = std::fs::read_to_string(b.join("report.html")).unwrap();
    assert!(
        report.contains("<h2>Sessions</h2>") && report.contains(": steps 6 to 9, finished after"),
        "report.html lists the sessions, the last one closed"
    );
    for dir in [a, b] {
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn resume_refuses_another_configuration_and_finished_runs() {
    let dir = scratch("mismatch");
    assert!(train(&dir, &["--steps", "2"]).status.success());
    let before = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let out = run(&[
        "train",
        "--resume",
        dir.to_str().unwrap(),
        "--steps",
        "4",
        "--batch",
        "16",
        "--leak",
        "0.01",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("another configuration")
            && err.contains("batch: 8 vs 16")
            && err.contains("leak"),
        "{err}"
    );
    let out = run(&["train", "--resume", dir.to_str().unwrap(), "--steps", "2"]);
    assert!(
        !out.status.success() && stderr(&out).contains("already at step 2"),
        "{}",
        stderr(&out)
    );
    let out = run(&["train", "--resume", "/no/such/run", "--steps", "2"]);
    assert!(!out.status.success() && stderr(&out).contains("no checkpoint at"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap(),
        before,
        "nothing overwritten"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn nan_stops_training_and_keeps_the_last_good_checkpoint() {
    let dir = scratch("nan");
    let out = train(&dir, &["--steps", "8", "--debug-nan-after", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("diverged at step 4")
            && err.contains("step-2.safetensors")
            && err.contains("kept"),
        "{err}"
    );
    let kept: Vec<u64> =
        checkpoint::list(&dir.join("checkpoints")).iter().map(|(s, _)| *s).collect();
    assert_eq!(kept, vec![2]);
    assert!(checkpoint::load(&dir.join("checkpoints/step-2.safetensors")).is_ok());
    let end = sessions(&dir).pop().unwrap();
    let outcome = end["outcome"].as_str().unwrap();
    assert!(outcome.starts_with("failed: training diverged at step 4"), "{outcome}");
    std::fs::remove_dir_all(&dir).ok();
    // Poisoned right after step 4's losses were read: the checkpoint of step 4 is refused.
    let out = train(&dir, &["--steps", "8", "--debug-nan-after", "4"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("diverged at step 4")
            && err.contains("holds NaN or Inf")
            && err.contains("step-2.safetensors"),
        "{err}"
    );
    let kept: Vec<u64> =
        checkpoint::list(&dir.join("checkpoints")).iter().map(|(s, _)| *s).collect();
    assert_eq!(kept, vec![2]);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_failure_after_a_step_keeps_the_step_and_says_how_to_resume() {
    // The grids cannot be written (`samples` is a file, as a full disk or a permission would
    // refuse them): step 3 trained, its checkpoint is written before the error.
    let dir = scratch("after-step");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("samples"), b"in the way").unwrap();
    let args = ["train", "--batch", "8", "--widths", NARROW, "--steps", "5", "--sample-every", "3"];
    let out = run(&[&args[..], &["--out", dir.to_str().unwrap(), "--log-every", "1"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("samples")
            && err.contains("3 steps are kept")
            && err.contains("step-3.safetensors")
            && err.contains(&format!("infogan train --resume {} --steps 5", dir.display())),
        "{err}"
    );
    let kept: Vec<u64> =
        checkpoint::list(&dir.join("checkpoints")).iter().map(|(s, _)| *s).collect();
    assert_eq!(kept, vec![3]);
    assert_eq!(metrics(&dir).len(), 3, "the failed step's line is logged");
    // With the cause removed, the run resumes from that checkpoint and finishes.
    std::fs::remove_file(dir.join("samples")).unwrap();
    let out = run(&["train", "--resume", dir.to_str().unwrap(), "--steps", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Steps 4 (the first after resuming) and 5 (the last) join the three logged before.
    assert_eq!(metrics(&dir).len(), 5);
    std::fs::remove_dir_all(&dir).ok();
}

fn wait_for_lines(path: &Path, lines: usize, child: &mut std::process::Child) {
    let start = Instant::now();
    while std::fs::read_to_string(path).map_or(0, |t| t.lines().count()) < lines {
        assert!(child.try_wait().unwrap().is_none(), "training ended early");
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_writes_a_checkpoint_and_resume_continues() {
    let dir = scratch("ctrlc");
    let mut child = infogan()
        .args([
            "train",
            "--batch",
            "8",
            "--widths",
            NARROW,
            "--steps",
            "100000",
            "--log-every",
            "1",
            "--checkpoint-every",
            "100000",
            "--sample-every",
            "100000",
        ])
        .args(["--out", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lines(&dir.join("metrics.jsonl"), 2, &mut child);
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "exit code after Ctrl-C");
    let saved = checkpoint::list(&dir.join("checkpoints"));
    assert_eq!(saved.len(), 1, "one checkpoint on interrupt");
    let step = saved[0].0;
    let logged = metrics(&dir).len() as u64;
    assert_eq!(step, logged, "checkpoint at the last logged step");
    let end = sessions(&dir).pop().unwrap();
    assert_eq!((end["outcome"].as_str(), end["step"].as_u64()), (Some("interrupted"), Some(step)));
    let more = (step + 2).to_string();
    let out = run(&["train", "--resume", dir.to_str().unwrap(), "--steps", &more]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        metrics(&dir).len() as u64,
        logged + 2,
        "the first and the last resumed steps are logged"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_kill_never_leaves_a_torn_checkpoint() {
    let dir = scratch("kill");
    for (round, delay_ms) in [350u64, 900, 1500].into_iter().enumerate() {
        let mut cmd = infogan();
        if round == 0 {
            cmd.args([
                "train",
                "--batch",
                "8",
                "--widths",
                "256,16,8,8",
                "--out",
                dir.to_str().unwrap(),
            ]);
        } else {
            cmd.args(["train", "--resume", dir.to_str().unwrap()]);
        }
        let mut child = cmd
            .args([
                "--steps",
                "100000",
                "--checkpoint-every",
                "1",
                "--keep",
                "2",
                "--sample-every",
                "100000",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if round == 0 {
            wait_for_lines(&dir.join("metrics.jsonl"), 1, &mut child);
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let saved = checkpoint::list(&dir.join("checkpoints"));
        assert!(!saved.is_empty(), "round {round}: no checkpoint");
        for (step, path) in &saved {
            let ckpt = checkpoint::load(path).unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(ckpt.step, *step);
        }
        // Resuming rewinds the log to the checkpoint, so no step is ever logged twice.
        let steps: Vec<u64> = std::fs::read_to_string(dir.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64().unwrap()
            })
            .collect();
        assert!(
            steps.windows(2).all(|w| w[0] < w[1]),
            "round {round}: steps logged out of order or twice: {steps:?}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sample_and_eval_read_checkpoints() {
    let dir = scratch("sample");
    let out = train(
        &dir,
        &[
            "--steps",
            "2",
            "--cat",
            "10",
            "--cat",
            "3",
            "--noise",
            "20",
            "--cont",
            "1",
            "--learned-std",
            "--wiring",
            "q-with-g",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let png = dir.join("grid.png");
    let sample = |extra: &[&str]| {
        let mut args =
            vec!["sample", "--checkpoint", dir.to_str().unwrap(), "--out", png.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(&args)
    };
    let out = sample(&["--cat", "1=2", "--cont", "0=1.5", "--cols", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!(
        (info.width, info.height),
        (7 * 30 + 2, 10 * 30 + 2),
        "10 rows (categories) x 7 columns"
    );
    let out = sample(&["--cat", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (bad, needle) in [
        (&["--cat", "10"][..], "categories 0..9"),
        (&["--cat", "2=0"], "2 categorical codes"),
        (&["--cont", "3=1"], "continuous codes 0..0"),
        (&["--cont", "x"], "expected VALUE"),
    ] {
        let out = sample(bad);
        assert!(
            !out.status.success() && stderr(&out).contains(needle),
            "{bad:?}: {}",
            stderr(&out)
        );
    }
    let out = run(&["eval", "--checkpoint", dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for mode in ["eval", "batch_stats"] {
        let acc = json[mode]["accuracy_hungarian"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
        let total: u64 = json[mode]["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap())
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total, 2000, "every held-out image counted");
    }
    let out = run(&["eval", "--checkpoint", dir.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("cat -> label"));
    // A file that is not a checkpoint, and a missing one: clear errors.
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"not a checkpoint at all").unwrap();
    let out = run(&["eval", "--checkpoint", junk.to_str().unwrap()]);
    assert!(
        !out.status.success() && stderr(&out).contains("not a usable infogan checkpoint"),
        "{}",
        stderr(&out)
    );
    let out =
        run(&["sample", "--checkpoint", "/no/such.safetensors", "--out", png.to_str().unwrap()]);
    assert!(!out.status.success() && stderr(&out).contains("no checkpoint at"), "{}", stderr(&out));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn probes_log_both_pairs_and_leave_training_untouched() {
    let (plain, probed) = (scratch("no-probes"), scratch("probes"));
    let extra = ["--steps", "4"];
    assert!(train(&plain, &extra).status.success());
    let out = train(&probed, &[&extra[..], &["--probe-every", "2", "--probe-steps", "3"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(metrics(&plain), metrics(&probed), "probes change nothing in training");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(probed.join("probes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.iter().map(|l| l["step"].as_u64().unwrap()).collect::<Vec<_>>(), vec![2, 4]);
    for line in &lines {
        assert_eq!(line["k"], 3);
        for pair in ["copy", "scratch"] {
            for which in ["best", "last"] {
                assert!(
                    line[pair][which]["B_GAN"].as_f64().unwrap().is_finite()
                        && line[pair][which]["L_I_cat"].as_f64().unwrap().is_finite(),
                    "{line}"
                );
            }
            // The best of three steps is at least their last-steps mean.
            assert!(
                line[pair]["best"]["B_GAN"].as_f64().unwrap()
                    >= line[pair]["last"]["B_GAN"].as_f64().unwrap() - 1e-12
            );
        }
        // The copy starts as the training networks: its best is at least their value.
        assert!(
            line["copy"]["best"]["B_GAN"].as_f64().unwrap()
                >= line["train"]["B_GAN"].as_f64().unwrap() - 1e-12
        );
    }
    let report = std::fs::read_to_string(probed.join("report.html")).unwrap();
    assert!(
        report.contains("B_GAN: training D vs probe discriminators"),
        "report plots the probes"
    );
    std::fs::remove_dir_all(&plain).ok();
    std::fs::remove_dir_all(&probed).ok();
}

#[test]
fn opengl_trains_samples_and_evaluates() {
    // Mesa's llvmpipe through OpenGL in CI; machines without an OpenGL adapter skip this.
    let gl =
        |cmd: &mut Command| -> Output { cmd.env("WGPU_BACKEND", "gl").output().expect("runs") };
    let devices = gl(infogan().arg("devices"));
    if !devices.status.success() {
        eprintln!("note: no OpenGL adapter here; the OpenGL run is skipped");
        return;
    }
    assert!(String::from_utf8_lossy(&devices.stdout).contains("backend Gl"));
    let out = scratch("opengl");
    let trained = gl(infogan().args([
        "train",
        "--batch",
        "8",
        "--widths",
        NARROW,
        "--steps",
        "2",
        "--log-every",
        "1",
        "--sample-every",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(
        String::from_utf8_lossy(&trained.stdout).contains("(Gl, Cpu"),
        "trained through OpenGL"
    );
    assert_eq!(metrics(&out).len(), 2);
    let png = out.join("sample.png");
    assert!(gl(infogan().args([
        "sample",
        "--checkpoint",
        out.to_str().unwrap(),
        "--out",
        png.to_str().unwrap()
    ]))
    .status
    .success());
    let eval = gl(infogan().args(["eval", "--checkpoint", out.to_str().unwrap(), "--json"]));
    assert!(eval.status.success(), "{}", stderr(&eval));
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert!(json["eval"]["accuracy_hungarian"].as_f64().is_some_and(|a| (0.0..=1.0).contains(&a)));
    std::fs::remove_dir_all(&out).ok();
}
