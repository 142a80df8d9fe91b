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
    /// This process's CPU time per run, all threads, where measured (see `Runs::cpu_ms`).
    pub cpu_ms: Option<f64>,
}

/// The timed runs of one case.
#[derive(Clone, Debug)]
pub struct Runs {
    pub times_ms: Vec<f64>,
    /// Where the adapter runs on the CPU (lavapipe): this process's CPU time per run, mean over
    /// the timed runs, every thread included (the driver's workers do the work). On a shared VM
    /// whose cores are taken away for a while, wall time and GPU timestamps swung 2x between
    /// back-to-back runs while this moved a few percent, so A/B comparisons read this column.
    pub cpu_ms: Option<f64>,
}

impl Measurement {
    pub fn new(name: String, flops: f64, runs: Runs) -> Measurement {
        Measurement { name, flops, times_ms: runs.times_ms, cpu_ms: runs.cpu_ms }
    }

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
            "{{\"name\":{},\"median_ms\":{:.4},\"min_ms\":{:.4},\"max_ms\":{:.4},\"gflops\":{:.3},\"cpu_ms\":{}}}",
            json_string(&self.name),
            self.median_ms(),
            self.min_ms(),
            self.max_ms(),
            self.gflops(),
            json_number(self.cpu_ms)
        )
    }

    /// The CPU-time column: ms per run, or "-" where not measured.
    fn cpu_cell(&self) -> String {
        self.cpu_ms.map_or("-".into(), |v| format!("{v:.3}"))
    }
}

fn json_number(value: Option<f64>) -> String {
    value.map_or("null".into(), |v| format!("{v:.4}"))
}

/// `text` as a JSON string literal (quotes and escapes included).
fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// One line: `{"bench", "adapter", "variant", "timing", "results": [items]}` for `--json`.
fn print_json(gpu: &Gpu, bench: &str, timing: &str, items: &[String]) {
    println!(
        "{{\"bench\":{},\"adapter\":{},\"variant\":\"{}\",\"timing\":{},\"results\":[{}]}}",
        json_string(bench),
        json_string(&gpu.adapter_name()),
        gpu.variant.name(),
        json_string(timing),
        items.join(",")
    );
}

/// Times `record` (which records GPU work) `repeats` times after one warm-up run: wall time
/// around a synchronous submit.
pub fn time_gpu(gpu: &Gpu, repeats: usize, mut record: impl FnMut() -> Result<()>) -> Result<Runs> {
    record()?;
    gpu.wait()?;
    let mut times = Vec::with_capacity(repeats);
    let cpu = CpuClock::start_on_cpu_adapter(gpu);
    for _ in 0..repeats {
        let start = Instant::now();
        record()?;
        gpu.wait()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Runs { cpu_ms: cpu.per_run(repeats), times_ms: times })
}

/// This process's CPU time since `start`.
struct CpuClock(Option<f64>);

impl CpuClock {
    fn start() -> CpuClock {
        CpuClock(process_cpu_ms())
    }

    /// Kept only where the adapter runs on the CPU: on a real GPU a kernel's CPU time is the
    /// host's idle waiting, not the work.
    fn start_on_cpu_adapter(gpu: &Gpu) -> CpuClock {
        if gpu.runs_on_cpu() { CpuClock::start() } else { CpuClock(None) }
    }

    fn per_run(&self, runs: usize) -> Option<f64> {
        let start = self.0?;
        Some((process_cpu_ms()? - start) / runs.max(1) as f64)
    }
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
        let runs = time_gpu(gpu, repeats, || matmul::gemm_into(gpu, &a, &b, None, &c, Gemm::new(false, trans_b)))?;
        out.push(Measurement::new(name, matmul::flops(m, n, k), runs));
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
        print_json(gpu, title, "wall", &items);
        return;
    }
    println!("{title} on {}", gpu.adapter_name());
    println!("kernel variant: {}; timing: wall clock around a synchronous submit", gpu.variant.name());
    print_cpu_note(gpu);
    println!("{:<42} {:>10} {:>10} {:>10} {:>9} {:>10}", "case", "median ms", "min ms", "max ms", "GFLOP/s", "CPU ms");
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

fn print_cpu_note(gpu: &Gpu) {
    if gpu.runs_on_cpu() {
        println!("CPU ms: this process's CPU time per run, all threads (steadier than wall time on a shared machine)");
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

/// One of `PAPER_CONVS` at a batch size with random operands, ready to run its three passes
/// (shared by `bench conv`, `bench kernels` and examples/conv_profile).
pub struct PaperConv<'a> {
    gpu: &'a Gpu,
    /// The underlying convolution: for a transposed one, the convolution it inverts.
    pub geom: crate::ops::conv::ConvGeom,
    x: crate::Tensor,
    weight: crate::Tensor,
    dy: crate::Tensor,
    dx: crate::Tensor,
    dweight: crate::Tensor,
    /// What the forward keeps for the weight gradient.
    saved: SavedForWeights,
}

/// A conv's im2col matrix, or a transposed conv's input rows.
enum SavedForWeights {
    Col(crate::Tensor),
    Rows(crate::ops::conv::SavedRows),
}

impl<'a> PaperConv<'a> {
    pub fn new(gpu: &'a Gpu, (_, transposed, c_in, c_out, side): (&str, bool, usize, usize, usize), batch: usize) -> Result<Self> {
        use crate::ops::conv;
        let (k, s, p) = ((4, 4), (2, 2), (1, 1));
        let geom = if transposed {
            conv::transposed_geom(batch, c_in, side, side, c_out, k, s, p)?
        } else {
            conv::ConvGeom { n: batch, c_in, h: side, w: side, c_out, kernel: k, stride: s, padding: p }
        };
        let (x_shape, y_shape) = if transposed { (geom.output_shape(), geom.input_shape()) } else { (geom.input_shape(), geom.output_shape()) };
        let w_shape = [geom.c_out, geom.c_in, k.0, k.1];
        let x = gpu.upload(&x_shape, &pseudo_random(x_shape.iter().product(), 3))?;
        let weight = gpu.upload(&w_shape, &pseudo_random(w_shape.iter().product(), 4))?;
        let dy = gpu.upload(&y_shape, &pseudo_random(y_shape.iter().product(), 5))?;
        let (dx, dweight) = (gpu.empty(&x_shape), gpu.empty(&w_shape));
        let saved = if transposed {
            SavedForWeights::Rows(conv::conv_transpose2d(gpu, &geom, &x, &weight, None)?.1)
        } else {
            SavedForWeights::Col(conv::conv2d(gpu, &geom, &x, &weight, None)?.1)
        };
        Ok(PaperConv { gpu, geom, x, weight, dy, dx, dweight, saved })
    }

    pub fn forward(&self) -> Result<()> {
        use crate::ops::conv;
        let (gpu, g) = (self.gpu, &self.geom);
        match self.saved {
            SavedForWeights::Rows(_) => conv::conv_transpose2d(gpu, g, &self.x, &self.weight, None).map(|_| ()),
            SavedForWeights::Col(_) => conv::conv2d(gpu, g, &self.x, &self.weight, None).map(|_| ()),
        }
    }

    pub fn input_grad(&self) -> Result<()> {
        self.backward(Some((&self.dx, 0.0)), None)
    }

    pub fn weight_grad(&self) -> Result<()> {
        self.backward(None, Some((&self.dweight, 0.0)))
    }

    fn backward(&self, dx: crate::ops::conv::GradOut, dweight: crate::ops::conv::GradOut) -> Result<()> {
        use crate::ops::conv;
        let (gpu, g) = (self.gpu, &self.geom);
        match &self.saved {
            SavedForWeights::Rows(rows) => conv::conv_transpose2d_backward(gpu, g, rows.view(), &self.weight, &self.dy, dx, dweight, None),
            SavedForWeights::Col(col) => conv::conv2d_backward(gpu, g, col, &self.weight, &self.dy, dx, dweight, None),
        }
    }

    /// Bytes of the input, weight and output, each moved once.
    pub fn bytes(&self) -> f64 {
        4.0 * (self.x.len() + self.weight.len() + self.dy.len()) as f64
    }
}

/// One conv pass measured next to the plain product of the same shape and FLOPs (what the pass
/// would cost if the convolution were only its GEMM), and next to a 1024^3 product. The three
/// are timed in alternation, one run each per round, so that drift on a shared machine hits
/// them alike; the ratios are medians of the per-round ratios.
pub struct ConvCase {
    pub pass: Measurement,
    pub product: Measurement,
    /// (rows, inner, cols) of the same-shape product.
    pub product_shape: (usize, usize, usize),
    /// Median over rounds of product time / pass time: 1 means the pass runs at its product's pace.
    pub vs_product: f64,
    /// Median over rounds of the pass's GFLOP/s over the 1024^3 product's in the same round.
    pub vs_square: f64,
}

/// Conv benchmark results and whether GPU timestamps timed them.
pub struct ConvBench {
    pub square: Measurement,
    pub cases: Vec<ConvCase>,
    pub timestamps: bool,
}

/// Time of one run of `record`: its dispatches' summed GPU timestamps where profiling is on,
/// else wall clock around a synchronous submit.
fn time_once(gpu: &Gpu, timestamps: bool, record: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    if timestamps {
        record()?;
        return Ok(gpu.take_profile()?.iter().map(|k| k.ms).sum());
    }
    gpu.wait()?;
    let start = Instant::now();
    record()?;
    gpu.wait()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Runs each of `records` once per round (after one warm-up round) and returns their times,
/// one list per record.
fn time_alternating(gpu: &Gpu, repeats: usize, timestamps: bool, records: &mut [&mut dyn FnMut() -> Result<()>]) -> Result<Vec<Vec<f64>>> {
    for record in records.iter_mut() {
        time_once(gpu, timestamps, *record)?;
    }
    let mut times = vec![Vec::with_capacity(repeats); records.len()];
    for _ in 0..repeats {
        for (record, t) in records.iter_mut().zip(&mut times) {
            t.push(time_once(gpu, timestamps, *record)?);
        }
    }
    Ok(times)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Forward, input-gradient and weight-gradient passes of the paper's conv layers. Each pass does
/// the same FLOPs: 2 * output pixels * taps * channels of the underlying convolution. With
/// rows = n * output pixels, K = c_in * kernel taps and C = c_out of that convolution, its forward
/// product is [rows x K] . [K x C], its input gradient [rows x C] . [C x K] and its weight
/// gradient [C x rows] . [rows x K]; a transposed convolution's forward is the input-gradient
/// product and its input gradient the forward one.
pub fn bench_conv(gpu: &Gpu, repeats: usize, batches: &[usize]) -> Result<ConvBench> {
    let timestamps = gpu.set_profiling(true)?;
    let side = 1024;
    let sa = gpu.upload(&[side, side], &pseudo_random(side * side, 1))?;
    let sb = gpu.upload(&[side, side], &pseudo_random(side * side, 2))?;
    let sc = gpu.empty(&[side, side]);
    let mut square = Measurement { name: "matmul 1024^3 (reference)".into(), flops: matmul::flops(side, side, side), times_ms: Vec::new(), cpu_ms: None };
    let mut cases = Vec::new();
    for &batch in batches {
        for spec in PAPER_CONVS {
            let (name, transposed) = (spec.0, spec.1);
            let layer = PaperConv::new(gpu, spec, batch)?;
            let g = layer.geom;
            // The underlying convolution's three products, as plain matmuls of the same shapes.
            let (rows, inner, cols) = (g.n * g.out_h() * g.out_w(), g.taps(), g.c_out);
            let rows_by_inner = gpu.upload(&[rows, inner], &pseudo_random(rows * inner, 6))?;
            let rows_by_cols = gpu.upload(&[rows, cols], &pseudo_random(rows * cols, 7))?;
            let cols_by_inner = gpu.upload(&[cols, inner], &pseudo_random(cols * inner, 8))?;
            let (out_rc, out_ri, out_ci) = (gpu.empty(&[rows, cols]), gpu.empty(&[rows, inner]), gpu.empty(&[cols, inner]));
            let forward_product = (rows, inner, cols, "forward");
            let data_product = (rows, cols, inner, "input grad");
            let weight_product = (cols, rows, inner, "weight grad");
            let mut conv_forward = || layer.forward();
            let mut conv_data = || layer.input_grad();
            let mut conv_weight = || layer.weight_grad();
            let mut product_forward = || matmul::gemm_into(gpu, &rows_by_inner, &cols_by_inner, None, &out_rc, Gemm::new(false, true));
            let mut product_data = || matmul::gemm_into(gpu, &rows_by_cols, &cols_by_inner, None, &out_ri, Gemm::new(false, false));
            let mut product_weight = || matmul::gemm_into(gpu, &rows_by_cols, &rows_by_inner, None, &out_ci, Gemm::new(true, false));
            let mut square_product = || matmul::gemm_into(gpu, &sa, &sb, None, &sc, Gemm::new(false, true));
            let times = time_alternating(
                gpu,
                repeats,
                timestamps,
                &mut [&mut square_product, &mut conv_forward, &mut product_forward, &mut conv_data, &mut product_data, &mut conv_weight, &mut product_weight],
            )?;
            let square_times = times[0].clone();
            square.times_ms.extend_from_slice(&square_times);
            let (forward_like, data_like) = if transposed { (data_product, forward_product) } else { (forward_product, data_product) };
            for (pass, pass_index, (m, k, n, product_name)) in [("forward", 1, forward_like), ("input grad", 3, data_like), ("weight grad", 5, weight_product)] {
                let (pass_times, product_times) = (&times[pass_index], &times[pass_index + 1]);
                let per_round = |other: &[f64], scale: f64| median(pass_times.iter().zip(other).map(|(t, o)| scale * o / t).collect());
                cases.push(ConvCase {
                    pass: Measurement { name: format!("{name} b{batch} {pass}"), flops: g.flops(), times_ms: pass_times.clone(), cpu_ms: None },
                    product: Measurement { name: format!("[{m} x {k}] . [{k} x {n}] ({product_name} product)"), flops: g.flops(), times_ms: product_times.clone(), cpu_ms: None },
                    product_shape: (m, k, n),
                    vs_product: per_round(product_times, 1.0),
                    vs_square: per_round(&square_times, g.flops() / square.flops),
                });
            }
        }
    }
    gpu.set_profiling(false)?;
    Ok(ConvBench { square, cases, timestamps })
}

pub fn print_conv_report(gpu: &Gpu, bench: &ConvBench, json: bool) {
    let timing = if bench.timestamps { "GPU timestamp queries" } else { "wall clock around a synchronous submit" };
    if json {
        let mut items = vec![bench.square.json()];
        items.extend(bench.cases.iter().map(|c| {
            let (m, k, n) = c.product_shape;
            format!(
                "{{\"name\":{},\"median_ms\":{:.4},\"min_ms\":{:.4},\"max_ms\":{:.4},\"gflops\":{:.3},\"product\":[{m},{k},{n}],\"product_median_ms\":{:.4},\"product_gflops\":{:.3},\"vs_product\":{:.3},\"vs_square\":{:.3}}}",
                json_string(&c.pass.name),
                c.pass.median_ms(),
                c.pass.min_ms(),
                c.pass.max_ms(),
                c.pass.gflops(),
                c.product.median_ms(),
                c.product.gflops(),
                c.vs_product,
                c.vs_square
            )
        }));
        print_json(gpu, "conv", timing, &items);
        return;
    }
    println!("conv on {}", gpu.adapter_name());
    println!("kernel variant: {}; timing: {timing}; each pass alternated with its same-shape product and 1024^3", gpu.variant.name());
    println!("{} {:.3} ms median, {:.2} GFLOP/s", bench.square.name, bench.square.median_ms(), bench.square.gflops());
    println!("vs product: the same-shape product's time over the pass's (1 = the product's pace); vs 1024^3: GFLOP/s ratio");
    println!("{:<40} {:>9} {:>9} {:>9} {:>26} {:>9} {:>8} {:>8}", "case", "median ms", "min ms", "GFLOP/s", "same-shape product", "GFLOP/s", "vs prod", "vs 1024");
    for c in &bench.cases {
        let (m, k, n) = c.product_shape;
        println!(
            "{:<40} {:>9.3} {:>9.3} {:>9.2} {:>26} {:>9.2} {:>8.2} {:>8.2}",
            c.pass.name,
            c.pass.median_ms(),
            c.pass.min_ms(),
            c.pass.gflops(),
            format!("{m}x{k}.{k}x{n}"),
            c.product.gflops(),
            c.vs_product,
            c.vs_square
        );
    }
}

/// Napkin FLOPs of one D+G training step of the paper's model per image, counted layer by layer
/// (2 * MACs of each Linear / conv; batch norm, activations and Adam are memory-bound and left
/// out). Forward passes count once; a backward pass counts once for the input gradient and once
/// for the weight gradient where each is computed.
///   D/Q phase: G forward (no backward: G is frozen, its output detached); D body + head on real
///   and on fake images, forward and both gradients (no input gradient at the first conv);
///   Q head on the fake features, forward and both gradients.
///   G phase: G forward and both gradients (no input gradient at the first Linear); D body +
///   head + Q forward and input gradients only (D and Q frozen).
pub fn step_flops_per_image(widths: crate::infogan::model::Widths, latent_width: usize, categories: usize, continuous: usize) -> f64 {
    let w = widths;
    let lin = |i: usize, o: usize| 2.0 * (i * o) as f64;
    // Convs: 2 * input pixels (transposed) or output pixels (direct) * c_in * c_out * 16 taps.
    let conv = |pixels: usize, c_in: usize, c_out: usize| 2.0 * (pixels * c_in * c_out * 16) as f64;
    let g_fc1 = lin(latent_width, w.fc);
    let g_rest = lin(w.fc, w.conv_wide * 49) + conv(49, w.conv_wide, w.conv_narrow) + conv(196, w.conv_narrow, 1);
    let d_conv1 = conv(196, 1, w.conv_narrow);
    let d_rest = conv(49, w.conv_narrow, w.conv_wide) + lin(w.conv_wide * 49, w.fc) + lin(w.fc, 1);
    let q = lin(w.fc, w.q_fc) + lin(w.q_fc, categories + 2 * continuous);
    let g = g_fc1 + g_rest;
    let d_phase = g + 2.0 * (d_conv1 + d_rest) * 2.0 + 2.0 * d_rest + q * 3.0;
    let g_phase = g * 2.0 + g_rest + (d_conv1 + d_rest + q) * 2.0 - d_conv1;
    d_phase + g_phase
}

/// `infogan bench step` at one batch size.
#[derive(Clone, Debug)]
pub struct StepBench {
    pub batch: usize,
    pub step: Measurement,
    pub d_phase: Measurement,
    pub g_phase: Measurement,
    /// GPU time per kernel and dispatch grid over one step (empty without timestamp queries);
    /// `KernelTime::per_kernel` sums it per kernel.
    pub kernels: Vec<crate::gpu::KernelTime>,
}

/// CPU time of this whole process so far (every thread), in ms; None where the OS does not
/// report it. On a CPU adapter this is the work the driver's threads did: on a shared VM whose
/// cores are taken away for a while, wall time swings by 2x between runs and this by ~5%.
pub fn process_cpu_ms() -> Option<f64> {
    #[cfg(unix)]
    {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec through a valid, exclusive pointer.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
        (status == 0).then_some(now.tv_sec as f64 * 1e3 + now.tv_nsec as f64 * 1e-6)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

pub fn bench_step(gpu: &Gpu, repeats: usize, batch: usize) -> Result<StepBench> {
    use crate::infogan::train::{TrainConfig, Trainer};
    let split = crate::data::embedded_mnist()?;
    let config = TrainConfig::paper(batch, 0);
    let flops = step_flops_per_image(config.widths, config.latent.width(), config.latent.categorical.iter().sum(), config.latent.continuous) * batch as f64;
    let mut trainer = Trainer::new(gpu, config, &split.train)?;
    // Warm-up: compiles every pipeline and fills the buffer pool and bind-group cache.
    for _ in 0..2 {
        trainer.step(false)?;
    }
    gpu.wait()?;
    let mut steps = Vec::with_capacity(repeats);
    // On any adapter: on a real GPU it is the host's share of the step.
    let cpu = CpuClock::start();
    for _ in 0..repeats {
        let start = Instant::now();
        trainer.step(false)?;
        gpu.wait()?;
        steps.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let cpu_ms_per_step = cpu.per_run(repeats);
    let (mut d, mut g) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let [dt, gt] = trainer.timed_step()?;
        d.push(dt);
        g.push(gt);
    }
    let mut kernels = Vec::new();
    if gpu.set_profiling(true)? {
        trainer.step(false)?;
        kernels = gpu.take_profile()?;
        gpu.set_profiling(false)?;
    }
    Ok(StepBench {
        batch,
        step: Measurement { name: format!("D+G step b{batch}"), flops, times_ms: steps, cpu_ms: cpu_ms_per_step },
        d_phase: Measurement { name: format!("D/Q phase b{batch}"), flops: 0.0, times_ms: d, cpu_ms: None },
        g_phase: Measurement { name: format!("G phase b{batch}"), flops: 0.0, times_ms: g, cpu_ms: None },
        kernels,
    })
}

/// `by_grid`: the per-kernel table split by dispatch grid (the JSON always has both).
pub fn print_step_report(gpu: &Gpu, results: &[StepBench], json: bool, by_grid: bool) {
    use crate::gpu::KernelTime;
    if json {
        let items: Vec<String> = results
            .iter()
            .map(|r| {
                let kernels: Vec<String> = KernelTime::per_kernel(&r.kernels).iter().map(|k| format!("{{\"kernel\":\"{}\",\"dispatches\":{},\"ms\":{:.4}}}", k.kernel, k.dispatches, k.ms)).collect();
                let grids: Vec<String> = r.kernels.iter().map(|k| format!("{{\"kernel\":\"{}\",\"grid\":{:?},\"dispatches\":{},\"ms\":{:.4}}}", k.kernel, k.grid, k.dispatches, k.ms)).collect();
                format!(
                    "{{\"batch\":{},\"step\":{},\"samples_per_s\":{:.3},\"d_phase\":{},\"g_phase\":{},\"kernels_gpu_ms\":[{}],\"grids_gpu_ms\":[{}]}}",
                    r.batch,
                    r.step.json(),
                    r.batch as f64 / (r.step.median_ms() * 1e-3),
                    r.d_phase.json(),
                    r.g_phase.json(),
                    kernels.join(","),
                    grids.join(",")
                )
            })
            .collect();
        print_json(gpu, "step", "wall (step, phases); GPU timestamps (kernels)", &items);
        return;
    }
    println!("training step (paper's model) on {}", gpu.adapter_name());
    println!("kernel variant: {}; step and phases: wall clock around a synchronous submit", gpu.variant.name());
    for r in results {
        println!(
            "batch {:>4}: {:>9.1} ms/step (min {:.1}, max {:.1}), {:.1} samples/s, {:.2} GFLOP/s of {:.1} GFLOP; D/Q phase {:.1} ms, G phase {:.1} ms",
            r.batch,
            r.step.median_ms(),
            r.step.min_ms(),
            r.step.max_ms(),
            r.batch as f64 / (r.step.median_ms() * 1e-3),
            r.step.gflops(),
            r.step.flops * 1e-9,
            r.d_phase.median_ms(),
            r.g_phase.median_ms()
        );
        if let Some(cpu) = r.step.cpu_ms {
            println!("  process CPU time: {cpu:.0} ms per step (all threads; steadier than wall time on a shared machine)");
        }
        if r.kernels.is_empty() {
            println!("  (no timestamp queries on this adapter: no per-kernel split)");
            continue;
        }
        let total: f64 = r.kernels.iter().map(|k| k.ms).sum();
        if by_grid {
            println!("  GPU time per kernel and dispatch grid (workgroups x,y,z) over one step (timestamp queries): {total:.1} ms");
            for k in &r.kernels {
                let grid = format!("{}x{}x{}", k.grid[0], k.grid[1], k.grid[2]);
                println!("  {:<34} {:>13} {:>5} dispatches {:>9.2} ms {:>5.1}%", k.kernel, grid, k.dispatches, k.ms, 100.0 * k.ms / total.max(1e-9));
            }
            continue;
        }
        println!("  GPU time per kernel over one step (timestamp queries, one pass per dispatch): {total:.1} ms");
        for k in &KernelTime::per_kernel(&r.kernels) {
            println!("  {:<34} {:>5} dispatches {:>9.2} ms {:>5.1}%", k.kernel, k.dispatches, k.ms, 100.0 * k.ms / total.max(1e-9));
        }
    }
}

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
fn time_case(gpu: &Gpu, repeats: usize, timestamps: bool, mut record: impl FnMut() -> Result<()>) -> Result<Runs> {
    if !timestamps {
        return time_gpu(gpu, repeats, record);
    }
    time_once(gpu, true, &mut record)?;
    let cpu = CpuClock::start_on_cpu_adapter(gpu);
    let times = (0..repeats).map(|_| time_once(gpu, true, &mut record)).collect::<Result<Vec<f64>>>()?;
    Ok(Runs { cpu_ms: cpu.per_run(repeats), times_ms: times })
}

/// Every kernel family of the training step at the paper's shapes: the Linear layers' products
/// (forward, input and weight gradients), the conv layers (three passes), batch norm forward and
/// backward at each normalised shape, the activations, and Adam over each network's arena.
/// Returns the cases and whether GPU timestamps timed them.
pub fn bench_kernels(gpu: &Gpu, repeats: usize, batches: &[usize]) -> Result<(Vec<KernelCase>, bool)> {
    use crate::ops::{adam, batchnorm, elementwise};
    let timestamps = gpu.set_profiling(true)?;
    let mut out = Vec::new();
    let mut push = |name: String, flops: f64, bytes: f64, runs: Runs| out.push(KernelCase { m: Measurement::new(name, flops, runs), bytes });
    let f = 4.0; // bytes per f32
    for &b in batches {
        // Linear layers: (name, in, out).
        for (name, i, o) in [("G fc1", 74, 1024), ("G fc2", 1024, 6272), ("D fc", 6272, 1024), ("Q fc", 1024, 128)] {
            let x = gpu.upload(&[b, i], &pseudo_random(b * i, 1))?;
            let w = gpu.upload(&[o, i], &pseudo_random(o * i, 2))?;
            let dy = gpu.upload(&[b, o], &pseudo_random(b * o, 3))?;
            let (y, dx, dw) = (gpu.empty(&[b, o]), gpu.empty(&[b, i]), gpu.empty(&[o, i]));
            let flops = matmul::flops(b, o, i);
            let bytes = f * (b * i + o * i + b * o) as f64;
            push(format!("{name} {i}->{o} b{b} forward"), flops, bytes, time_case(gpu, repeats, timestamps, || matmul::gemm_into(gpu, &x, &w, None, &y, Gemm::new(false, true)))?);
            push(format!("{name} {i}->{o} b{b} input grad"), flops, bytes, time_case(gpu, repeats, timestamps, || matmul::gemm_into(gpu, &dy, &w, None, &dx, Gemm::new(false, false)))?);
            push(format!("{name} {i}->{o} b{b} weight grad"), flops, bytes, time_case(gpu, repeats, timestamps, || matmul::gemm_into(gpu, &dy, &x, None, &dw, Gemm::new(true, false)))?);
        }
        for spec in PAPER_CONVS {
            let layer = PaperConv::new(gpu, spec, b)?;
            let (name, g, bytes) = (spec.0, layer.geom, layer.bytes());
            let forward = time_case(gpu, repeats, timestamps, || layer.forward())?;
            let data = time_case(gpu, repeats, timestamps, || layer.input_grad())?;
            let weight = time_case(gpu, repeats, timestamps, || layer.weight_grad())?;
            for (pass, times) in [("forward", forward), ("input grad", data), ("weight grad", weight)] {
                push(format!("{name} b{b} {pass}"), g.flops(), bytes, times);
            }
        }
        // Batch norm at every normalised shape: forward reads x twice (statistics, then
        // normalisation) and writes y; backward reads x and dy twice and writes dx.
        for (name, shape) in [("G bn1", vec![b, 1024]), ("G bn2", vec![b, 6272]), ("G bn3", vec![b, 64, 14, 14]), ("D bn2", vec![b, 128, 7, 7]), ("D bn3", vec![b, 1024]), ("Q bn", vec![b, 128])] {
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
            let forward = time_case(gpu, repeats, timestamps, || batchnorm::forward(gpu, &x, &gamma, &beta, &running, config).map(|_| ()))?;
            let backward = time_case(gpu, repeats, timestamps, || batchnorm::backward(gpu, &x, &gamma, &stats, &dy, config, Some((&dx, 0.0)), (&dg, &db, 0.0)))?;
            push(format!("{name} {shape:?} forward"), 0.0, f * 3.0 * n as f64, forward);
            push(format!("{name} {shape:?} backward"), 0.0, f * 5.0 * n as f64, backward);
        }
        // The largest activation of each kind.
        for (name, shape, act) in [("LeakyReLU D conv1", vec![b, 64, 14, 14], elementwise::Activation::LeakyRelu { slope: 0.1 }), ("ReLU G bn2", vec![b, 6272], elementwise::Activation::Relu), ("sigmoid G out", vec![b, 1, 28, 28], elementwise::Activation::Sigmoid)] {
            let n: usize = shape.iter().product();
            let x = gpu.upload(&shape, &pseudo_random(n, 10))?;
            let dy = gpu.upload(&shape, &pseudo_random(n, 11))?;
            let dx = gpu.empty(&shape);
            let forward = time_case(gpu, repeats, timestamps, || elementwise::activate(gpu, &x, act).map(|_| ()))?;
            let backward = time_case(gpu, repeats, timestamps, || elementwise::activate_backward(gpu, act, &x, &dy, &dx, 0.0))?;
            push(format!("{name} {shape:?} forward"), 0.0, f * 2.0 * n as f64, forward);
            push(format!("{name} {shape:?} backward"), 0.0, f * 3.0 * n as f64, backward);
        }
    }
    // Adam over each arena (independent of the batch): reads params, grads, m, v; writes params, m, v.
    let config = crate::infogan::train::TrainConfig::paper(64, 0);
    let model = crate::infogan::model::InfoGan::new(gpu, &config)?;
    for arena in model.arenas() {
        let n = arena.values.len();
        let mut t = 0;
        let times = time_case(gpu, repeats, timestamps, || {
            t += 1;
            adam::step(gpu, adam::AdamConfig::infogan(1e-4), t, &arena.values, &arena.grads, &arena.m, &arena.v)
        })?;
        push(format!("Adam arena {} ({n} floats)", arena.name), 0.0, f * 7.0 * n as f64, times);
    }
    gpu.set_profiling(false)?;
    Ok((out, timestamps))
}

pub fn print_kernels_report(gpu: &Gpu, cases: &[KernelCase], timestamps: bool, json: bool) {
    let timing = if timestamps { "GPU timestamp queries" } else { "wall clock around a synchronous submit" };
    if json {
        let items: Vec<String> = cases
            .iter()
            .map(|c| format!("{{\"case\":{},\"median_ms\":{:.4},\"min_ms\":{:.4},\"max_ms\":{:.4},\"gflops\":{:.3},\"gbytes_per_s\":{:.3},\"cpu_ms\":{}}}", json_string(&c.m.name), c.m.median_ms(), c.m.min_ms(), c.m.max_ms(), c.m.gflops(), c.gbytes_per_s(), json_number(c.m.cpu_ms)))
            .collect();
        print_json(gpu, "kernels", timing, &items);
        return;
    }
    println!("kernels of the training step on {}", gpu.adapter_name());
    println!("kernel variant: {}; timing: {timing}", gpu.variant.name());
    print_cpu_note(gpu);
    println!("{:<52} {:>10} {:>10} {:>10} {:>9} {:>8} {:>10}", "case", "median ms", "min ms", "max ms", "GFLOP/s", "GB/s", "CPU ms");
    for c in cases {
        let gflops = if c.m.flops > 0.0 { format!("{:.2}", c.m.gflops()) } else { "-".into() };
        println!("{:<52} {:>10.3} {:>10.3} {:>10.3} {:>9} {:>8.2} {:>10}", c.m.name, c.m.median_ms(), c.m.min_ms(), c.m.max_ms(), gflops, c.gbytes_per_s(), c.m.cpu_cell());
    }
}
