//! The binary as a user meets it: clear errors, exit codes, and a device listing.

use std::process::Command;

fn infogan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infogan"))
}

#[test]
fn no_adapter_at_all_says_what_to_install() {
    // No Metal on Linux: wgpu then sees no adapter at all.
    let out = infogan()
        .args(["bench", "matmul", "--quick"])
        .env("WGPU_BACKEND", "metal")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no GPU adapter found")
            && stderr.contains("lavapipe")
            && stderr.contains("which backends are tested"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn devices_names_the_adapter_and_its_limits() {
    let out = infogan().arg("devices").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("max invocations/workgroup"), "{stdout}");
    assert!(stdout.contains("storage buffers/stage"), "{stdout}");
    assert!(stdout.contains("kernel variant"), "{stdout}");
    assert!(stdout.contains("* "), "no adapter marked as chosen: {stdout}");
    assert!(
        stdout.contains("backends: Vulkan") && stdout.contains("Metal and DX12"),
        "which backends are tested how: {stdout}"
    );
}

#[test]
fn bench_matmul_json_names_adapter_and_variant() {
    let out = infogan()
        .args(["bench", "matmul", "--quick", "--repeats", "1", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for key in ["\"adapter\"", "\"variant\"", "\"gflops\"", "square 256"] {
        assert!(stdout.contains(key), "missing {key}: {stdout}");
    }
    // On lavapipe (as in CI) each case also reports the process's CPU time per run, which
    // includes the driver's worker threads (on a real GPU it is null).
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    if json["adapter"].as_str().unwrap().contains("llvmpipe") {
        for case in json["results"].as_array().unwrap() {
            assert!(case["cpu_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{case}");
        }
    }
}

#[test]
fn unknown_adapter_and_zero_repeats_are_clear_errors() {
    let out =
        infogan().args(["--adapter", "no-such-gpu", "bench", "matmul"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no adapter name contains"));
    let out = infogan().args(["bench", "matmul", "--repeats", "0"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--repeats"));
}

#[test]
fn train_writes_metrics_and_never_overwrites_a_run() {
    let out = std::env::temp_dir().join(format!("infogan-cli-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let args = ["train", "--steps", "1", "--batch", "4", "--out", out.to_str().unwrap()];
    let first = infogan().args(args).output().expect("runs");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(stdout.contains("B_GAN") && stdout.contains("L_I_cat"), "{stdout}");
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).expect("metrics written");
    assert_eq!(metrics.lines().count(), 1);
    for grid in
        ["step-1-cat0.png", "step-1-cat0-batchstats.png", "step-1-cont0.png", "step-1-cont1.png"]
    {
        assert!(out.join("samples").join(grid).is_file(), "missing {grid}");
    }
    let again = infogan().args(args).output().expect("runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a run"));
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.jsonl")).unwrap(),
        metrics,
        "the old run is untouched"
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn train_reports_bad_data_and_unwritable_output_clearly() {
    let out = infogan().args(["train", "--steps", "0"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--steps must be at least 1"));
    let out =
        infogan().args(["train", "--data", "/no/such/dir", "--steps", "1"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a folder"));
    let out = infogan()
        .args(["train", "--steps", "1", "--batch", "4", "--out", "/proc/infogan-cannot-write-here"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot create") && !stderr.contains("panicked"), "{stderr}");
    let never = std::env::temp_dir().join(format!("infogan-cli-never-{}", std::process::id()));
    let out = infogan()
        .args(["train", "--batch", "9000", "--out", never.to_str().unwrap()])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("batch 9000"));
    assert!(!never.exists(), "a rejected run must not create its folder");
}

#[test]
fn bench_step_and_kernels_report_json() {
    let out = infogan()
        .args(["bench", "step", "--batch", "2", "--repeats", "1", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert!(
        json["adapter"].is_string() && json["variant"].is_string() && json["timing"].is_string()
    );
    let result = &json["results"][0];
    assert_eq!(result["batch"], 2);
    assert!(
        result["step"]["median_ms"].as_f64().unwrap() > 0.0
            && result["samples_per_s"].as_f64().unwrap() > 0.0
    );
    assert!(
        result["d_phase"]["median_ms"].as_f64().unwrap() > 0.0
            && result["g_phase"]["median_ms"].as_f64().unwrap() > 0.0
    );
    // Where the adapter has timestamp queries (lavapipe does), the matmuls show up per kernel.
    if let Some(kernels) = result["kernels_gpu_ms"].as_array().filter(|k| !k.is_empty()) {
        assert!(
            kernels.iter().any(|k| k["kernel"].as_str().unwrap().starts_with("matmul")),
            "{kernels:?}"
        );
        // The same dispatches split by grid: every kernel's grids add up to its own line.
        let grids = result["grids_gpu_ms"].as_array().expect("grids_gpu_ms");
        assert!(grids.len() > kernels.len(), "one kernel runs several shapes in a step: {grids:?}");
        for k in kernels {
            let of_kernel: Vec<&serde_json::Value> =
                grids.iter().filter(|g| g["kernel"] == k["kernel"]).collect();
            assert!(of_kernel.iter().all(|g| g["grid"]
                .as_array()
                .is_some_and(|d| d.len() == 3 && d.iter().all(|n| n.as_u64().unwrap() > 0))));
            let dispatches: u64 = of_kernel.iter().map(|g| g["dispatches"].as_u64().unwrap()).sum();
            let ms: f64 = of_kernel.iter().map(|g| g["ms"].as_f64().unwrap()).sum();
            assert_eq!(dispatches, k["dispatches"].as_u64().unwrap(), "{k:?}");
            assert!(
                (ms - k["ms"].as_f64().unwrap()).abs() < 1e-3 * of_kernel.len() as f64,
                "{k:?}: grids sum to {ms}"
            );
        }
        let out = infogan()
            .args(["bench", "step", "--batch", "2", "--repeats", "1", "--by-grid"])
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("per kernel and dispatch grid"), "{text}");
        assert!(
            text.lines().any(|l| l.trim_start().starts_with("matmul")
                && l.split_whitespace().nth(1).is_some_and(|g| g.split('x').count() == 3)),
            "{text}"
        );
    }
    let out = infogan()
        .args(["bench", "kernels", "--batch", "3", "--repeats", "1", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let cases = json["results"].as_array().unwrap();
    for needle in [
        "D fc 6272->1024 b3 weight grad",
        "D conv 1->64 28x28 b3 forward",
        "G bn2 [3, 6272] backward",
        "Adam arena D",
    ] {
        assert!(
            cases.iter().any(|c| c["name"].as_str().unwrap().starts_with(needle)),
            "missing {needle}"
        );
    }
    assert!(cases.iter().all(|c| c["median_ms"].as_f64().unwrap() >= 0.0));
    if json["adapter"].as_str().unwrap().contains("llvmpipe") {
        assert!(cases.iter().all(|c| c["cpu_ms"].as_f64().is_some_and(|ms| ms > 0.0)), "{cases:?}");
    }
}

#[test]
fn bench_conv_puts_each_pass_beside_its_product() {
    let out = infogan()
        .args(["bench", "conv", "--batch", "1", "--repeats", "1", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 1 + 4 * 3, "the 1024^3 reference, then 4 layers x 3 passes");
    assert!(results[0]["name"].as_str().unwrap().contains("1024^3"));
    // G's 128->64 transposed conv at batch 1: its forward is the [49 x 128] . [128 x 1024] product.
    let convt = results
        .iter()
        .find(|r| r["name"] == "G convT 128->64 7x7 b1 forward")
        .expect("convT forward");
    assert_eq!(convt["product"], serde_json::json!([49, 128, 1024]));
    for r in &results[1..] {
        assert!(
            r["median_ms"].as_f64().unwrap() > 0.0
                && r["product_median_ms"].as_f64().unwrap() > 0.0,
            "{r}"
        );
        assert!(
            r["vs_product"].as_f64().unwrap() > 0.0 && r["vs_square"].as_f64().unwrap() > 0.0,
            "{r}"
        );
    }
}

#[test]
fn variant_flag_forces_a_variant_and_refuses_what_the_adapter_cannot_run() {
    let out = infogan()
        .args([
            "--variant",
            "register-tile",
            "bench",
            "matmul",
            "--quick",
            "--repeats",
            "1",
            "--json",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"variant\":\"register-tile\""));

    let out = infogan().args(["--variant", "tiled", "devices"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("subgroup-tile"), "{stderr}");

    // llvmpipe at 128 bits has 4-lane subgroups: the subgroup tile must be refused, not miscompute.
    let out = infogan()
        .args(["--variant", "subgroup-tile", "bench", "matmul", "--quick", "--repeats", "1"])
        .env("LP_NATIVE_VECTOR_WIDTH", "128")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        // Not llvmpipe: an adapter with fixed 8-wide subgroups ran it.
        assert!(String::from_utf8_lossy(&out.stdout).contains("subgroup-tile"));
    } else {
        assert!(
            stderr.contains("needs subgroups of exactly 8 lanes") && !stderr.contains("panicked"),
            "{stderr}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::process::Stdio;
    // As `infogan devices | head -0`: the reading end is closed before the first line (the
    // adapter query takes far longer than this drop), so every write meets a closed pipe.
    let mut child = infogan()
        .args(["devices"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
