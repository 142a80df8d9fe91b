//! The runtime's promises: the steady state creates no GPU objects, one submit per step, batches
//! keep their order around host writes, readbacks do not need a stall, adapter errors are clear.

mod common;
use common::*;
use infogan::gpu::adapter;
use infogan::ops::elementwise::{self, Activation};
use infogan::ops::matmul;

/// One "training step" of recorded work whose temporaries are dropped at the end.
fn step(gpu: &infogan::Gpu, x: &infogan::Tensor, w: &infogan::Tensor) -> infogan::Tensor {
    let h = matmul::gemm(gpu, x, w, None, false, true).unwrap();
    let h = elementwise::activate(gpu, &h, Activation::LeakyRelu { slope: 0.1 }).unwrap();
    let y = matmul::gemm(gpu, &h, w, None, false, false).unwrap();
    elementwise::add(gpu, &y, x, 1.0, -1.0).unwrap()
}

#[test]
fn steady_state_creates_no_gpu_objects_and_submits_once_per_step() {
    for gpu in gpus() {
        let mut r = rng(20);
        let (x, _) = upload(&gpu, &[37, 19], &uniform(&mut r, 37 * 19, -1.0, 1.0));
        let (w, _) = upload(&gpu, &[19, 19], &uniform(&mut r, 19 * 19, -1.0, 1.0));
        // Warm up with the same pattern as the measured loop (the previous output lives on).
        let mut last = None;
        for _ in 0..3 {
            last = Some(step(&gpu, &x, &w));
            gpu.flush().unwrap();
        }
        let before = gpu.counters();
        for _ in 0..5 {
            last = Some(step(&gpu, &x, &w));
            gpu.flush().unwrap();
        }
        let after = gpu.counters();
        assert_eq!(after.pipelines_created, before.pipelines_created, "{:?}", gpu.variant);
        assert_eq!(after.bind_groups_created, before.bind_groups_created, "{:?}", gpu.variant);
        assert_eq!(after.buffers_created, before.buffers_created, "{:?}", gpu.variant);
        assert_eq!(after.submits - before.submits, 5);
        assert!(after.dispatches - before.dispatches >= 20);
        assert!(download(&gpu, &last.unwrap()).iter().all(|v| v.is_finite()));
    }
}

#[test]
fn a_host_write_never_overtakes_recorded_work() {
    let gpu = gpu();
    let x = gpu.upload(&[5], &[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let doubled =
        elementwise::activate(&gpu, &x, Activation::Scale { alpha: 2.0, beta: 0.0 }).unwrap();
    // The write lands after the recorded scale has read the old values.
    gpu.write(&x, &[-1.0; 5]).unwrap();
    assert_eq!(gpu.download(&doubled).unwrap(), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(gpu.download(&x).unwrap(), vec![-1.0; 5]);
}

#[test]
fn readback_can_be_polled_without_blocking() {
    let gpu = gpu();
    let x = gpu.upload(&[3], &[1.0, 2.0, 3.0]).unwrap();
    let y = elementwise::activate(&gpu, &x, Activation::Relu).unwrap();
    let mut pending = gpu.read_later(&y);
    let mut polls = 0;
    let data = loop {
        if let Some(data) = pending.try_take(&gpu).unwrap() {
            break data;
        }
        polls += 1;
        assert!(polls < 1_000_000, "readback never completed");
        std::thread::yield_now();
    };
    assert_eq!(data, vec![1.0, 2.0, 3.0]);
}

#[test]
fn an_adapter_filter_that_matches_nothing_is_a_clear_error() {
    let instance = adapter::instance();
    let err = adapter::choose(&instance, Some("no-such-adapter-xyz")).unwrap_err();
    assert!(err.message().contains("no adapter name contains"), "{err}");
    assert!(err.message().contains("--adapter"), "{err}");
}

#[test]
fn uploads_of_the_wrong_size_are_rejected() {
    let gpu = gpu();
    let err = gpu.upload(&[2, 3], &[1.0; 5]).unwrap_err();
    assert!(err.message().contains("holds 6 values"), "{err}");
}

#[test]
fn copies_respect_slice_offsets() {
    let gpu = gpu();
    let arena = gpu.upload(&[256], &vec![0.0; 256]).unwrap();
    let src = gpu.upload(&[3], &[1.0, 2.0, 3.0]).unwrap();
    gpu.copy(&src, &arena.slice(128, &[3])).unwrap();
    let got = gpu.download(&arena).unwrap();
    assert_eq!(got[128..131], [1.0, 2.0, 3.0]);
    assert_eq!(got.iter().filter(|&&v| v != 0.0).count(), 3);
    assert_eq!(gpu.download(&arena.slice(128, &[3])).unwrap(), vec![1.0, 2.0, 3.0]);
}
