//! `infogan bench kernels`: every kernel family of the training step at the paper's shapes.

use serde_json::json;

use crate::bench::{
    print_cpu_note, print_json, pseudo_random, round, time_gpu, time_once, CpuClock, Measurement,
    PaperConv, Runs, PAPER_CONVS,
};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::matmul::{self, Gemm};

/// One kernel case of `bench kernels`: napkin FLOPs and bytes moved (each operand read or
/// written once, f32), and the times.
#[derive(Clone, Debug)]
pub struct KernelCase {
    pub m: Measurement,
    pub bytes: f64,
}

impl KernelCase {
    pub fn gbytes_per_s(&self) -> f64 {
        self.bytes / (self.m.median_ms() * 1e6)
    }
}

/// Times `record` per repeat: summed GPU timestamps of its dispatches where the adapter has
/// them, else wall clock around a synchronous submit.
fn time_case(
    gpu: &Gpu,
    repeats: usize,
    timestamps: bool,
    mut record: impl FnMut() -> Result<()>,
) -> Result<Runs> {
    if !timestamps {
        return time_gpu(gpu, repeats, record);
    }
    time_once(gpu, true, &mut record)?;
    let cpu = CpuClock::start_on_cpu_adapter(gpu);
    let times =
        (0..repeats).map(|_| time_once(gpu, true, &mut record)).collect::<Result<Vec<f64>>>()?;
    Ok(Runs { cpu_ms: cpu.per_run(repeats), times_ms: times })
}

/// Every kernel family of the training step at the paper's shapes: the Linear layers' products
/// (forward, input and weight gradients), the conv layers (three passes), batch norm forward and
/// backward at each normalised shape, the activations, and Adam over each network's arena.
/// Returns the cases and whether GPU timestamps timed them.
/// `arenas`: (name, floats) of the parameter arenas Adam steps, e.g. the MNIST model's.
pub fn bench_kernels(
    gpu: &Gpu,
    repeats: usize,
    batches: &[usize],
    arenas: &[(String, usize)],
) -> Result<(Vec<KernelCase>, bool)> {
    use crate::ops::{adam, batchnorm, elementwise};
    let timestamps = gpu.set_profiling(true)?;
    let mut out = Vec::new();
    let mut push = |name: String, flops: f64, bytes: f64, runs: Runs| {
        out.push(KernelCase { m: Measurement::new(name, flops, runs), bytes })
    };
    let f = 4.0; // bytes per f32
    for &b in batches {
        // Linear layers: (name, in, out).
        for (name, i, o) in
            [("G fc1", 74, 1024), ("G fc2", 1024, 6272), ("D fc", 6272, 1024), ("Q fc", 1024, 128)]
        {
            let x = gpu.upload(&[b, i], &pseudo_random(b * i, 1))?;
            let w = gpu.upload(&[o, i], &pseudo_random(o * i, 2))?;
            let dy = gpu.upload(&[b, o], &pseudo_random(b * o, 3))?;
            let (y, dx, dw) = (gpu.empty(&[b, o]), gpu.empty(&[b, i]), gpu.empty(&[o, i]));
            let flops = matmul::flops(b, o, i);
            let bytes = f * (b * i + o * i + b * o) as f64;
            push(
                format!("{name} {i}->{o} b{b} forward"),
                flops,
                bytes,
                time_case(gpu, repeats, timestamps, || {
                    matmul::gemm_into(gpu, &x, &w, None, &y, Gemm::new(false, true))
                })?,
            );
            push(
                format!("{name} {i}->{o} b{b} input grad"),
                flops,
                bytes,
                time_case(gpu, repeats, timestamps, || {
                    matmul::gemm_into(gpu, &dy, &w, None, &dx, Gemm::new(false, false))
                })?,
            );
            push(
                format!("{name} {i}->{o} b{b} weight grad"),
                flops,
                bytes,
                time_case(gpu, repeats, timestamps, || {
                    matmul::gemm_into(gpu, &dy, &x, None, &dw, Gemm::new(true, false))
                })?,
            );
        }
        for spec in PAPER_CONVS {
            let layer = PaperConv::new(gpu, spec, b)?;
            let (name, g, bytes) = (spec.0, layer.geom, layer.bytes());
            let forward = time_case(gpu, repeats, timestamps, || layer.forward())?;
            let data = time_case(gpu, repeats, timestamps, || layer.input_grad())?;
            let weight = time_case(gpu, repeats, timestamps, || layer.weight_grad())?;
            for (pass, times) in
                [("forward", forward), ("input grad", data), ("weight grad", weight)]
            {
                push(format!("{name} b{b} {pass}"), g.flops(), bytes, times);
            }
        }
        // Batch norm at every normalised shape: forward reads x twice (statistics, then
        // normalisation) and writes y; backward reads x and dy twice and writes dx.
        for (name, shape) in [
            ("G bn1", vec![b, 1024]),
            ("G bn2", vec![b, 6272]),
            ("G bn3", vec![b, 64, 14, 14]),
            ("D bn2", vec![b, 128, 7, 7]),
            ("D bn3", vec![b, 1024]),
            ("Q bn", vec![b, 128]),
        ] {
            let n: usize = shape.iter().product();
            let c = shape[1];
            let x = gpu.upload(&shape, &pseudo_random(n, 6))?;
            let gamma = gpu.upload(&[c], &pseudo_random(c, 7))?;
            let beta = gpu.upload(&[c], &pseudo_random(c, 8))?;
            let mut running_init = vec![0.0; c];
            running_init.extend(vec![1.0; c]);
            let running = gpu.upload(&[2 * c], &running_init)?;
            let dy = gpu.upload(&shape, &pseudo_random(n, 9))?;
            let (dx, dg, db) = (gpu.empty(&shape), gpu.empty(&[c]), gpu.empty(&[c]));
            let config = batchnorm::BnConfig::train(1e-5, 0.1);
            let (_, stats) = batchnorm::forward(gpu, &x, &gamma, &beta, &running, config)?;
            let forward = time_case(gpu, repeats, timestamps, || {
                batchnorm::forward(gpu, &x, &gamma, &beta, &running, config).map(|_| ())
            })?;
            let backward = time_case(gpu, repeats, timestamps, || {
                let saved = batchnorm::BnSaved { x: &x, gamma: &gamma, stats: &stats };
                batchnorm::backward(gpu, saved, &dy, config, Some((&dx, 0.0)), (&dg, &db, 0.0))
            })?;
            push(format!("{name} {shape:?} forward"), 0.0, f * 3.0 * n as f64, forward);
            push(format!("{name} {shape:?} backward"), 0.0, f * 5.0 * n as f64, backward);
        }
        // The largest activation of each kind.
        for (name, shape, act) in [
            (
                "LeakyReLU D conv1",
                vec![b, 64, 14, 14],
                elementwise::Activation::LeakyRelu { slope: 0.1 },
            ),
            ("ReLU G bn2", vec![b, 6272], elementwise::Activation::Relu),
            ("sigmoid G out", vec![b, 1, 28, 28], elementwise::Activation::Sigmoid),
        ] {
            let n: usize = shape.iter().product();
            let x = gpu.upload(&shape, &pseudo_random(n, 10))?;
            let dy = gpu.upload(&shape, &pseudo_random(n, 11))?;
            let dx = gpu.empty(&shape);
            let forward = time_case(gpu, repeats, timestamps, || {
                elementwise::activate(gpu, &x, act).map(|_| ())
            })?;
            let backward = time_case(gpu, repeats, timestamps, || {
                elementwise::activate_backward(gpu, act, &x, &dy, &dx, 0.0)
            })?;
            push(format!("{name} {shape:?} forward"), 0.0, f * 2.0 * n as f64, forward);
            push(format!("{name} {shape:?} backward"), 0.0, f * 3.0 * n as f64, backward);
        }
    }
    // Adam over each arena (independent of the batch): reads params, grads, m, v; writes params, m, v.
    for (name, n) in arenas {
        let n = *n;
        let [values, grads, m, v] =
            [20, 21, 22, 23].map(|seed| gpu.upload(&[n], &pseudo_random(n, seed)));
        let (values, grads, m, v) = (values?, grads?, m?, v?);
        // Adam's second moment must be non-negative.
        crate::ops::elementwise::fill(gpu, &v, 1e-4)?;
        let mut t = 0;
        let times = time_case(gpu, repeats, timestamps, || {
            t += 1;
            let buffers = adam::AdamBuffers { params: &values, grads: &grads, m: &m, v: &v };
            adam::step(gpu, adam::AdamConfig::infogan(1e-4), t, buffers)
        })?;
        push(format!("Adam arena {name} ({n} floats)"), 0.0, f * 7.0 * n as f64, times);
    }
    gpu.set_profiling(false)?;
    Ok((out, timestamps))
}

pub fn print_kernels_report(gpu: &Gpu, cases: &[KernelCase], timestamps: bool, json: bool) {
    let timing =
        if timestamps { "GPU timestamp queries" } else { "wall clock around a synchronous submit" };
    if json {
        let items = cases
            .iter()
            .map(|c| c.m.json_with(json!({ "gbytes_per_s": round(c.gbytes_per_s(), 3) })))
            .collect();
        print_json(gpu, "kernels", timing, items);
        return;
    }
    println!("kernels of the training step on {}", gpu.adapter_name());
    println!("kernel variant: {}; timing: {timing}", gpu.variant.name());
    print_cpu_note(gpu);
    println!(
        "{:<52} {:>10} {:>10} {:>10} {:>9} {:>8} {:>10}",
        "case", "median ms", "min ms", "max ms", "GFLOP/s", "GB/s", "CPU ms"
    );
    for c in cases {
        let gflops = if c.m.flops > 0.0 { format!("{:.2}", c.m.gflops()) } else { "-".into() };
        println!(
            "{:<52} {:>10.3} {:>10.3} {:>10.3} {:>9} {:>8.2} {:>10}",
            c.m.name,
            c.m.median_ms(),
            c.m.min_ms(),
            c.m.max_ms(),
            gflops,
            c.gbytes_per_s(),
            c.m.cpu_cell()
        );
    }
}
