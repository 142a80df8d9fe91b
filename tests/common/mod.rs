//! Shared test helpers: a GPU per kernel variant, random inputs, f64 CPU references, and error
//! measures. Every kernel is compared with these references on awkward sizes.
#![allow(dead_code)]

pub mod browser;
pub mod files;

use infogan::{Gpu, GpuOptions, Tensor, Variant};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The preferred adapter of each backend wgpu finds (lavapipe through Vulkan and llvmpipe
/// through OpenGL in CI; `WGPU_BACKEND` narrows the list).
fn adapters() -> Vec<wgpu::Adapter> {
    let instance = infogan::gpu::adapter::instance();
    let mut all = infogan::gpu::adapter::all_adapters(&instance);
    assert!(!all.is_empty(), "tests need a GPU adapter (lavapipe in CI)");
    all.sort_by_key(|a| infogan::gpu::adapter::preference(&a.get_info()));
    let mut backends = Vec::new();
    all.retain(|a| {
        let backend = a.get_info().backend;
        let first = !backends.contains(&backend);
        backends.push(backend);
        first
    });
    all
}

/// One runtime per (backend, kernel variant) this machine can run: every variant on the
/// preferred adapter of each backend.
pub fn gpus() -> Vec<Gpu> {
    let mut out = Vec::new();
    for adapter in adapters() {
        let info = adapter.get_info();
        for variant in Variant::ALL {
            if variant.runs_on(&adapter) {
                out.push(
                    Gpu::from_adapter(adapter.clone(), Some(variant))
                        .unwrap_or_else(|e| panic!("opening {}: {e}", info.name)),
                );
            } else {
                eprintln!(
                    "note: {} ({:?}) cannot run the {} variant; its kernels are not tested there",
                    info.name,
                    info.backend,
                    variant.name()
                );
            }
        }
    }
    out
}

/// One runtime per backend, each with its adapter's own kernel variant: for the kernels every
/// variant shares.
pub fn backends() -> Vec<Gpu> {
    adapters()
        .into_iter()
        .map(|a| {
            Gpu::from_adapter(a.clone(), None)
                .unwrap_or_else(|e| panic!("opening {}: {e}", a.get_info().name))
        })
        .collect()
}

pub fn gpu() -> Gpu {
    Gpu::new(&GpuOptions::default()).unwrap_or_else(|e| panic!("tests need a GPU adapter: {e}"))
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn uniform(rng: &mut StdRng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

pub fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

pub fn to_f64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}

/// Uploads f64 values (rounded to f32) and returns the tensor with the rounded values in f64, so
/// the reference sees exactly what the GPU sees.
pub fn upload(gpu: &Gpu, shape: &[usize], x: &[f64]) -> (Tensor, Vec<f64>) {
    let rounded = to_f32(x);
    let t = gpu.upload(shape, &rounded).expect("upload");
    (t, to_f64(&rounded))
}

pub fn download(gpu: &Gpu, t: &Tensor) -> Vec<f64> {
    to_f64(&gpu.download(t).expect("download"))
}

/// Normwise relative error: max |got - want| / max(max |want|, floor).
pub fn rel_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "length mismatch");
    let scale = want.iter().fold(1e-30f64, |m, v| m.max(v.abs()));
    let worst = got.iter().zip(want).fold(0.0f64, |m, (g, w)| {
        if g.is_nan() != w.is_nan() {
            f64::INFINITY
        } else if g.is_nan() {
            m
        } else {
            m.max((g - w).abs())
        }
    });
    worst / scale
}

/// Asserts a relative error within `tol` and prints it for the closing note's error table.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) -> f64 {
    let err = rel_error(got, want);
    println!("max-rel-error {what}: {err:.3e}");
    assert!(err <= tol, "{what}: relative error {err:.3e} > {tol:.1e}");
    err
}

/// op(X) of a row-major [r, c] matrix as an (r', c') accessor.
pub fn at(x: &[f64], rows: usize, cols: usize, transposed: bool, i: usize, j: usize) -> f64 {
    if transposed {
        x[j * cols + i]
    } else {
        debug_assert!(i < rows);
        x[i * cols + j]
    }
}

/// C = op(A).op(B) (+ bias) with A stored [ra, ca] and B stored [rb, cb].
pub fn matmul_ref(
    a: &[f64],
    (ra, ca): (usize, usize),
    ta: bool,
    b: &[f64],
    (rb, cb): (usize, usize),
    tb: bool,
    bias: Option<&[f64]>,
) -> (Vec<f64>, usize, usize) {
    let (m, k) = if ta { (ca, ra) } else { (ra, ca) };
    let n = if tb { rb } else { cb };
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for l in 0..k {
                s += at(a, ra, ca, ta, i, l) * at(b, rb, cb, tb, l, j);
            }
            c[i * n + j] = s + bias.map_or(0.0, |bb| bb[j]);
        }
    }
    (c, m, n)
}

/// Central finite differences of a scalar f64 function.
pub fn finite_diff(f: &dyn Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut x = x.to_vec();
    (0..x.len())
        .map(|i| {
            let keep = x[i];
            x[i] = keep + h;
            let up = f(&x);
            x[i] = keep - h;
            let down = f(&x);
            x[i] = keep;
            (up - down) / (2.0 * h)
        })
        .collect()
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
