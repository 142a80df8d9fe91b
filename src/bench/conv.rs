//! `infogan bench conv`: the paper's four conv layers' three passes, each beside the plain
//! product of the same shape and a 1024^3 product.

use serde_json::json;

use crate::bench::{median, print_json, pseudo_random, round, time_alternating, Measurement};
use crate::error::Result;
use crate::gpu::Gpu;
use crate::ops::layout::Window2d;
use crate::ops::matmul::{self, Gemm};

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
    pub fn new(
        gpu: &'a Gpu,
        (_, transposed, c_in, c_out, side): (&str, bool, usize, usize, usize),
        batch: usize,
    ) -> Result<Self> {
        use crate::ops::conv;
        let (k, s, p) = ((4, 4), (2, 2), (1, 1));
        let geom = if transposed {
            conv::transposed_geom([batch, c_in, side, side], c_out, Window2d::symmetric(k, s, p))?
        } else {
            conv::ConvGeom::new([batch, c_in, side, side], c_out, Window2d::symmetric(k, s, p))
        };
        let (x_shape, y_shape) = if transposed {
            (geom.output_shape(), geom.input_shape())
        } else {
            (geom.input_shape(), geom.output_shape())
        };
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
            SavedForWeights::Rows(_) => {
                conv::conv_transpose2d(gpu, g, &self.x, &self.weight, None).map(|_| ())
            }
            SavedForWeights::Col(_) => {
                conv::conv2d(gpu, g, &self.x, &self.weight, None).map(|_| ())
            }
        }
    }

    pub fn input_grad(&self) -> Result<()> {
        self.backward(Some((&self.dx, 0.0)), None)
    }

    pub fn weight_grad(&self) -> Result<()> {
        self.backward(None, Some((&self.dweight, 0.0)))
    }

    fn backward(
        &self,
        dx: crate::ops::conv::GradOut,
        dweight: crate::ops::conv::GradOut,
    ) -> Result<()> {
        use crate::ops::conv;
        let (gpu, g) = (self.gpu, &self.geom);
        match &self.saved {
            SavedForWeights::Rows(rows) => {
                let grads = conv::ConvGrads { dx, dweight, dbias: None };
                conv::conv_transpose2d_backward(gpu, g, rows.view(), &self.weight, &self.dy, grads)
            }
            SavedForWeights::Col(col) => {
                let grads = conv::ConvGrads { dx, dweight, dbias: None };
                conv::conv2d_backward(gpu, g, col, &self.weight, &self.dy, grads)
            }
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
    let mut square = Measurement {
        name: "matmul 1024^3 (reference)".into(),
        flops: matmul::flops(side, side, side),
        times_ms: Vec::new(),
        cpu_ms: None,
    };
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
            let (out_rc, out_ri, out_ci) =
                (gpu.empty(&[rows, cols]), gpu.empty(&[rows, inner]), gpu.empty(&[cols, inner]));
            let forward_product = (rows, inner, cols, "forward");
            let data_product = (rows, cols, inner, "input grad");
            let weight_product = (cols, rows, inner, "weight grad");
            let mut conv_forward = || layer.forward();
            let mut conv_data = || layer.input_grad();
            let mut conv_weight = || layer.weight_grad();
            let mut product_forward = || {
                matmul::gemm_into(
                    gpu,
                    &rows_by_inner,
                    &cols_by_inner,
                    None,
                    &out_rc,
                    Gemm::new(false, true),
                )
            };
            let mut product_data = || {
                matmul::gemm_into(
                    gpu,
                    &rows_by_cols,
                    &cols_by_inner,
                    None,
                    &out_ri,
                    Gemm::new(false, false),
                )
            };
            let mut product_weight = || {
                matmul::gemm_into(
                    gpu,
                    &rows_by_cols,
                    &rows_by_inner,
                    None,
                    &out_ci,
                    Gemm::new(true, false),
                )
            };
            let mut square_product =
                || matmul::gemm_into(gpu, &sa, &sb, None, &sc, Gemm::new(false, true));
            let times = time_alternating(
                gpu,
                repeats,
                timestamps,
                &mut [
                    &mut square_product,
                    &mut conv_forward,
                    &mut product_forward,
                    &mut conv_data,
                    &mut product_data,
                    &mut conv_weight,
                    &mut product_weight,
                ],
            )?;
            let square_times = times[0].clone();
            square.times_ms.extend_from_slice(&square_times);
            let (forward_like, data_like) = if transposed {
                (data_product, forward_product)
            } else {
                (forward_product, data_product)
            };
            for (pass, pass_index, (m, k, n, product_name)) in [
                ("forward", 1, forward_like),
                ("input grad", 3, data_like),
                ("weight grad", 5, weight_product),
            ] {
                let (pass_times, product_times) = (&times[pass_index], &times[pass_index + 1]);
                let per_round = |other: &[f64], scale: f64| {
                    median(pass_times.iter().zip(other).map(|(t, o)| scale * o / t).collect())
                };
                cases.push(ConvCase {
                    pass: Measurement {
                        name: format!("{name} b{batch} {pass}"),
                        flops: g.flops(),
                        times_ms: pass_times.clone(),
                        cpu_ms: None,
                    },
                    product: Measurement {
                        name: format!("[{m} x {k}] . [{k} x {n}] ({product_name} product)"),
                        flops: g.flops(),
                        times_ms: product_times.clone(),
                        cpu_ms: None,
                    },
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
    let timing = if bench.timestamps {
        "GPU timestamp queries"
    } else {
        "wall clock around a synchronous submit"
    };
    if json {
        let mut items = vec![bench.square.json()];
        items.extend(bench.cases.iter().map(|c| {
            let (m, k, n) = c.product_shape;
            c.pass.json_with(json!({
                "product": [m, k, n],
                "product_median_ms": round(c.product.median_ms(), 4),
                "product_gflops": round(c.product.gflops(), 3),
                "vs_product": round(c.vs_product, 3),
                "vs_square": round(c.vs_square, 3),
            }))
        }));
        print_json(gpu, "conv", timing, items);
        return;
    }
    println!("conv on {}", gpu.adapter_name());
    println!("kernel variant: {}; timing: {timing}; each pass alternated with its same-shape product and 1024^3", gpu.variant.name());
    println!(
        "{} {:.3} ms median, {:.2} GFLOP/s",
        bench.square.name,
        bench.square.median_ms(),
        bench.square.gflops()
    );
    println!("vs product: the same-shape product's time over the pass's (1 = the product's pace); vs 1024^3: GFLOP/s ratio");
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>26} {:>9} {:>8} {:>8}",
        "case",
        "median ms",
        "min ms",
        "GFLOP/s",
        "same-shape product",
        "GFLOP/s",
        "vs prod",
        "vs 1024"
    );
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
