//! Benchmarks shared by `infogan bench` and `cargo bench`: wall time around a synchronous submit
//! (the report says so), median over repeats after a warm-up, FLOP counts written beside each case.

use std::time::Instant;

use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::matmul::{self, Gemm};

/// One measured case.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub name: String,
    pub flops: f64,
    pub times_ms: Vec<f64>,
}

impl Measurement {
    pub fn median_ms(&self) -> f64 {
        let mut t = self.times_ms.clone();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }

    pub fn min_ms(&self) -> f64 {
        self.times_ms.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn max_ms(&self) -> f64 {
        self.times_ms.iter().copied().fold(0.0, f64::max)
    }

    pub fn gflops(&self) -> f64 {
        self.flops / (self.median_ms() * 1e6)
    }

    pub fn json(&self) -> String {
        format!(
            "{{\"name\":\"{}\",\"median_ms\":{:.4},\"min_ms\":{:.4},\"max_ms\":{:.4},\"gflops\":{:.3}}}",
            self.name,
            self.median_ms(),
            self.min_ms(),
            self.max_ms(),
            self.gflops()
        )
    }
}

/// Times `record` (which records GPU work) `repeats` times after one warm-up run.
pub fn time_gpu(gpu: &Gpu, repeats: usize, mut record: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    record()?;
    gpu.wait()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        record()?;
        gpu.wait()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(times)
}

/// The matmul cases of `infogan bench matmul`: squares, and the paper's two large Linear layers
/// (D's 6272->1024 and G's 1024->6272) at batch 64 and 128, as x.W^T like the layers run them.
pub fn matmul_cases() -> Vec<(String, usize, usize, usize, bool)> {
    let mut cases = Vec::new();
    for s in [256, 512, 1024] {
        cases.push((format!("square {s}"), s, s, s, false));
    }
    for batch in [64, 128] {
        cases.push((format!("D fc {batch}x6272.6272x1024"), batch, 1024, 6272, true));
        cases.push((format!("G fc {batch}x1024.1024x6272"), batch, 6272, 1024, true));
    }
    cases
}

pub fn bench_matmul(gpu: &Gpu, repeats: usize, quick: bool) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    for (name, m, n, k, trans_b) in matmul_cases() {
        if quick && m * n * k > 512 * 512 * 512 {
            continue;
        }
        let a = gpu.upload(&[m, k], &pseudo_random(m * k, 1))?;
        let b_shape = if trans_b { [n, k] } else { [k, n] };
        let b = gpu.upload(&b_shape, &pseudo_random(k * n, 2))?;
        let c = gpu.empty(&[m, n]);
        let times = time_gpu(gpu, repeats, || matmul::gemm_into(gpu, &a, &b, None, &c, Gemm::new(false, trans_b)))?;
        out.push(Measurement { name, flops: matmul::flops(m, n, k), times_ms: times });
    }
    Ok(out)
}

/// Deterministic values in [-1, 1) without a seeded RNG dependency in the hot path.
pub fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

pub fn print_report(gpu: &Gpu, title: &str, results: &[Measurement], json: bool) {
    if json {
        let items: Vec<String> = results.iter().map(Measurement::json).collect();
        println!(
            "{{\"bench\":\"{title}\",\"adapter\":\"{}\",\"variant\":\"{}\",\"timing\":\"wall\",\"results\":[{}]}}",
            gpu.adapter_name().replace('"', "'"),
            gpu.variant.name(),
            items.join(",")
        );
        return;
    }
    println!("{title} on {}", gpu.adapter_name());
    println!("kernel variant: {}; timing: wall clock around a synchronous submit", gpu.variant.name());
    println!("{:<42} {:>10} {:>10} {:>10} {:>9}", "case", "median ms", "min ms", "max ms", "GFLOP/s");
    for r in results {
        println!(
            "{:<42} {:>10.3} {:>10.3} {:>10.3} {:>9.2}",
            r.name,
            r.median_ms(),
            r.min_ms(),
            r.max_ms(),
            r.gflops()
        );
    }
}

/// The paper's four convolution layers (MNIST, 4x4 kernels, stride 2, padding 1):
/// (name, transposed, in channels, out channels, input side).
pub const PAPER_CONVS: [(&str, bool, usize, usize, usize); 4] = [
    ("D conv 1->64 28x28", false, 1, 64, 28),
    ("D conv 64->128 14x14", false, 64, 128, 14),
    ("G convT 128->64 7x7", true, 128, 64, 7),
    ("G convT 64->1 14x14", true, 64, 1, 14),
];

/// Forward, input-gradient and weight-gradient passes of the paper's conv layers. Each pass does
/// the same FLOPs: 2 * output pixels * taps * channels of the underlying convolution.
pub fn bench_conv(gpu: &Gpu, repeats: usize, batches: &[usize]) -> Result<Vec<Measurement>> {
    use crate::ops::conv;
    // The reference the conv figures are read against, measured in the same run.
    let a = gpu.upload(&[1024, 1024], &pseudo_random(1 << 20, 1))?;
    let b = gpu.upload(&[1024, 1024], &pseudo_random(1 << 20, 2))?;
    let c = gpu.empty(&[1024, 1024]);
    let times = time_gpu(gpu, repeats, || matmul::gemm_into(gpu, &a, &b, None, &c, Gemm::new(false, true)))?;
    let mut out = vec![Measurement { name: "matmul 1024^3 (reference)".into(), flops: matmul::flops(1024, 1024, 1024), times_ms: times }];
    for &batch in batches {
        for (name, transposed, c_in, c_out, side) in PAPER_CONVS {
            let (k, s, p) = ((4, 4), (2, 2), (1, 1));
            let g = if transposed {
                conv::transposed_geom(batch, c_in, side, side, c_out, k, s, p)?
            } else {
                conv::ConvGeom { n: batch, c_in, h: side, w: side, c_out, kernel: k, stride: s, padding: p }
            };
            let x_shape = if transposed { g.output_shape() } else { g.input_shape() };
            let y_shape = if transposed { g.input_shape() } else { g.output_shape() };
            let w_shape = [g.c_out, g.c_in, 4, 4];
            let x = gpu.upload(&x_shape, &pseudo_random(x_shape.iter().product(), 3))?;
            let w = gpu.upload(&w_shape, &pseudo_random(w_shape.iter().product(), 4))?;
            let dy = gpu.upload(&y_shape, &pseudo_random(y_shape.iter().product(), 5))?;
            let dx = gpu.empty(&x_shape);
            let dw = gpu.empty(&w_shape);
            let (_, saved) = if transposed { conv::conv_transpose2d(gpu, &g, &x, &w, None)? } else { conv::conv2d(gpu, &g, &x, &w, None)? };
            let label = |pass: &str| format!("{name} b{batch} {pass}");
            let forward = time_gpu(gpu, repeats, || {
                if transposed { conv::conv_transpose2d(gpu, &g, &x, &w, None).map(|_| ()) } else { conv::conv2d(gpu, &g, &x, &w, None).map(|_| ()) }
            })?;
            let backward = |dx: Option<(&crate::Tensor, f32)>, dw: Option<(&crate::Tensor, f32)>| {
                if transposed {
                    conv::conv_transpose2d_backward(gpu, &g, &saved, &w, &dy, dx, dw, None)
                } else {
                    conv::conv2d_backward(gpu, &g, &saved, &w, &dy, dx, dw, None)
                }
            };
            let data = time_gpu(gpu, repeats, || backward(Some((&dx, 0.0)), None))?;
            let weight = time_gpu(gpu, repeats, || backward(None, Some((&dw, 0.0))))?;
            for (pass, times) in [("forward", forward), ("backward-data", data), ("backward-weight", weight)] {
                out.push(Measurement { name: label(pass), flops: g.flops(), times_ms: times });
            }
        }
    }
    Ok(out)
}
