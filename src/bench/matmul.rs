//! `infogan bench matmul`: squares and the paper's two large Linear layers.

use crate::bench::{print_cpu_note, print_json, pseudo_random, time_gpu, Measurement};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::matmul::{self, Gemm};

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
        let runs = time_gpu(gpu, repeats, || {
            matmul::gemm_into(gpu, &a, &b, None, &c, Gemm::new(false, trans_b))
        })?;
        out.push(Measurement::new(name, matmul::flops(m, n, k), runs));
    }
    Ok(out)
}

pub fn print_report(gpu: &Gpu, title: &str, results: &[Measurement], json: bool) {
    if json {
        print_json(gpu, title, "wall", results.iter().map(Measurement::json).collect());
        return;
    }
    println!("{title} on {}", gpu.adapter_name());
    println!(
        "kernel variant: {}; timing: wall clock around a synchronous submit",
        gpu.variant.name()
    );
    print_cpu_note(gpu);
    println!(
        "{:<42} {:>10} {:>10} {:>10} {:>9} {:>10}",
        "case", "median ms", "min ms", "max ms", "GFLOP/s", "CPU ms"
    );
    for r in results {
        println!(
            "{:<42} {:>10.3} {:>10.3} {:>10.3} {:>9.2} {:>10}",
            r.name,
            r.median_ms(),
            r.min_ms(),
            r.max_ms(),
            r.gflops(),
            r.cpu_cell()
        );
    }
}
