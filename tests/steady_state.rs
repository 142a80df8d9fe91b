//! The real trainer in steady state: no GPU objects created per step (buffers, bind groups,
//! pipelines), one submit per step, GPU buffer bytes and host memory flat.

mod common;
use common::*;
use infogan::data;
use infogan::model::config::TrainConfig;
use infogan::train::trainer::Trainer;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn training_steps_create_nothing_and_submit_once() {
    let gpu = gpu();
    let split = data::embedded_mnist().unwrap();
    // 64 images at batch 8: a new epoch (and a new order upload) every 8 steps.
    let train = split.train.slice(0, 64, "tiny");
    let mut config = TrainConfig::paper(8, 0);
    config.set_widths(&[64, 16, 8, 16]).unwrap();
    let mut trainer = Trainer::new(&gpu, config, &train).unwrap();
    // Warm-up: pipelines, pool and bind-group cache fill; a logged step too.
    for step in 0..20 {
        trainer.step(step % 10 == 0).unwrap();
    }
    gpu.wait().unwrap();
    let (before, rss_before) = (gpu.counters(), rss_kib());
    // INFOGAN_STEADY_STEPS=2000 for the long check (the default keeps the suite quick).
    let steps: u64 =
        std::env::var("INFOGAN_STEADY_STEPS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    for step in 0..steps {
        trainer.step(step % 10 == 0).unwrap();
    }
    gpu.wait().unwrap();
    let (after, rss_after) = (gpu.counters(), rss_kib());
    assert_eq!(
        after.pipelines_created, before.pipelines_created,
        "pipelines created in steady state"
    );
    assert_eq!(
        after.bind_groups_created, before.bind_groups_created,
        "bind groups created in steady state"
    );
    assert_eq!(after.buffers_created, before.buffers_created, "buffers created in steady state");
    assert_eq!(after.buffer_bytes, before.buffer_bytes, "GPU buffer bytes grew");
    // One submit per step, logged steps included (their readback copies ride along).
    assert_eq!(after.submits - before.submits, steps, "submits per step");
    let grown = rss_after.saturating_sub(rss_before);
    println!("rss {rss_before} KiB -> {rss_after} KiB over {steps} steps");
    assert!(grown < 16 * 1024, "host memory grew by {grown} KiB over {steps} steps");
}
