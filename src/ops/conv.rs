//! 2-D convolution and transposed convolution (NCHW) as im2col / col2im around the matmul
//! kernels, so both run at matmul's speed on every variant. Kernels: shaders/conv.wgsl.
//!
//! Transposed convolution's forward is convolution's input gradient and its input gradient is
//! convolution's forward: one geometry (`ConvGeom`, always described as the forward convolution)
//! and the same three kernels serve both layer types.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::{Gpu, Kernel};
use crate::ops::matmul::{self, Gemm};
use crate::ops::reduce::{self, Axes};
use crate::ops::grid_1d;
use crate::tensor::Tensor;
use crate::ensure;

const SOURCE: &str = include_str!("../../shaders/conv.wgsl");

const fn kernel(entry: &'static str) -> Kernel {
    Kernel { family: "conv", source: SOURCE, entry, workgroup: [256, 1, 1], defines: &[] }
}

pub static IM2COL: Kernel = kernel("im2col");
pub static IM2COL_KW4: Kernel = kernel("im2col_kw4");
pub static COL2IM: Kernel = kernel("col2im");
pub static TAPS_BY_PHASE: Kernel = kernel("taps_by_phase");
pub static COL2IM_S2: Kernel = kernel("col2im_s2");
pub static COL2IM_S2_K4: Kernel = kernel("col2im_s2_k4");
pub static SWAP_LAST: Kernel = kernel("swap_last");
pub static SWAP_LAST4: Kernel = kernel("swap_last4");
pub static SWAP_ROWS4: Kernel = kernel("swap_rows4");
pub static SWAP_COLS4: Kernel = kernel("swap_cols4");

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    [&IM2COL, &IM2COL_KW4, &COL2IM, &TAPS_BY_PHASE, &COL2IM_S2, &COL2IM_S2_K4, &SWAP_LAST, &SWAP_LAST4, &SWAP_ROWS4, &SWAP_COLS4].into_iter().map(|k| (k, vec![vec![]])).collect()
}

/// The geometry every conv kernel reads (the first 16 words of their params).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    ph: u32,
    pw: u32,
    acc: f32,
    _pad: [u32; 3],
}

/// A forward convolution's shape: input [n, c_in, h, w] to output [n, c_out, out_h, out_w].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

impl ConvGeom {
    pub fn validate(&self) -> Result<()> {
        let (kh, kw) = self.kernel;
        ensure!(kh > 0 && kw > 0, "convolution: kernel {kh}x{kw} is empty");
        ensure!(self.stride.0 > 0 && self.stride.1 > 0, "convolution: stride must be at least 1");
        ensure!(
            self.h + 2 * self.padding.0 >= kh && self.w + 2 * self.padding.1 >= kw,
            "convolution: kernel {kh}x{kw} is larger than the padded {}x{} input",
            self.h + 2 * self.padding.0,
            self.w + 2 * self.padding.1
        );
        Ok(())
    }

    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.padding.0 - self.kernel.0) / self.stride.0 + 1
    }

    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.padding.1 - self.kernel.1) / self.stride.1 + 1
    }

    /// Kernel taps per output channel: c_in * kh * kw.
    pub fn taps(&self) -> usize {
        self.c_in * self.kernel.0 * self.kernel.1
    }

    pub fn input_shape(&self) -> [usize; 4] {
        [self.n, self.c_in, self.h, self.w]
    }

    pub fn output_shape(&self) -> [usize; 4] {
        [self.n, self.c_out, self.out_h(), self.out_w()]
    }

    /// Multiply-adds of the forward pass times two.
    pub fn flops(&self) -> f64 {
        2.0 * (self.n * self.out_h() * self.out_w()) as f64 * self.c_out as f64 * self.taps() as f64
    }

    pub(crate) fn params(&self, acc: f32) -> Params {
        Params {
            n: self.n as u32,
            c: self.c_in as u32,
            h: self.h as u32,
            w: self.w as u32,
            oh: self.out_h() as u32,
            ow: self.out_w() as u32,
            kh: self.kernel.0 as u32,
            kw: self.kernel.1 as u32,
            sh: self.stride.0 as u32,
            sw: self.stride.1 as u32,
            ph: self.padding.0 as u32,
            pw: self.padding.1 as u32,
            acc,
            _pad: [0; 3],
        }
    }
}

fn launch(gpu: &Gpu, kernel: &Kernel, params: Params, count: usize, src: &Tensor, dst: &Tensor) -> Result<()> {
    gpu.dispatch(kernel, &[], &params, &[src, dst], grid_1d(count, kernel.invocations_per_workgroup()))
}

/// The column matrix [n*out_h*out_w, taps] of an input [n, c_in, h, w].
pub fn im2col(gpu: &Gpu, g: &ConvGeom, x: &Tensor) -> Result<Tensor> {
    ensure!(x.shape() == g.input_shape(), "im2col: input {:?}, geometry {:?}", x.shape(), g.input_shape());
    let rows = g.n * g.out_h() * g.out_w();
    let col = gpu.empty(&[rows, g.taps()]);
    if g.kernel.1 == 4 {
        launch(gpu, &IM2COL_KW4, g.params(0.0), rows * g.c_in, x, &col)?;
    } else {
        launch(gpu, &IM2COL, g.params(0.0), rows * g.c_in * g.kernel.0, x, &col)?;
    }
    Ok(col)
}

/// `x = acc * x + col2im(col)`: every input pixel gathers the column entries it feeds.
pub fn col2im_into(gpu: &Gpu, g: &ConvGeom, col: &Tensor, x: &Tensor, acc: f32) -> Result<()> {
    ensure!(x.len() == g.input_shape().iter().product::<usize>(), "col2im: output {:?} for {:?}", x.shape(), g.input_shape());
    ensure!(col.len() == g.n * g.out_h() * g.out_w() * g.taps(), "col2im: column matrix {:?} for {g:?}", col.shape());
    launch(gpu, &COL2IM, g.params(acc), x.len(), col, x)
}

/// Whether the input gradient takes the stride-2 path (`taps_by_phase` + `col2im_s2`), as the
/// paper's four layers do.
pub fn phased(g: &ConvGeom) -> bool {
    g.stride == (2, 2) && g.kernel.0.is_multiple_of(2) && g.kernel.1.is_multiple_of(2)
}

/// The rows [n*out_h*out_w, c_out] of a convolution's output side, as its products take them:
/// stored as such, or an NCHW map [n, c_out, out_h, out_w] that the product reads in place
/// (only where `reads_map_in_place`).
#[derive(Clone, Copy)]
pub enum Rows<'a> {
    Stored(&'a Tensor),
    Map(&'a Tensor),
}

/// `Rows` owned: what `conv_transpose2d` keeps of its input for the weight gradient.
#[derive(Clone, Debug)]
pub enum SavedRows {
    Stored(Tensor),
    Map(Tensor),
}

impl SavedRows {
    pub fn view(&self) -> Rows<'_> {
        match self {
            SavedRows::Stored(rows) => Rows::Stored(rows),
            SavedRows::Map(map) => Rows::Map(map),
        }
    }
}

/// Whether the input-gradient product of `g` can read its rows as an NCHW map in place
/// (`matmul::gemm_blocked_at_into`) rather than permuted into rows first: the entry points that
/// read A^T themselves can, the big tiles cannot. G's last transposed conv (N = 16) does.
pub fn reads_map_in_place(gpu: &Gpu, g: &ConvGeom) -> bool {
    matmul::reads_blocked_at(gpu.variant, g.n * g.out_h() * g.out_w(), g.taps(), g.c_out, false)
}

/// `rows . b` for the output-side rows of `g` and b [c_out, cols].
fn rows_times(gpu: &Gpu, g: &ConvGeom, rows: Rows, b: &Tensor) -> Result<Tensor> {
    match rows {
        Rows::Stored(rows) => matmul::gemm(gpu, rows, b, None, false, false),
        Rows::Map(map) => {
            let pixels = g.out_h() * g.out_w();
            let out = gpu.empty(&[g.n * pixels, b.cols()]);
            matmul::gemm_blocked_at_into(gpu, map, pixels, b, &out, Gemm::new(false, false))?;
            Ok(out)
        }
    }
}

/// `x = acc * x + col2im(rows . weight)`: a convolution's input gradient from the output
/// gradient as rows and its weight [c_out, c_in, kh, kw], which is also a transposed
/// convolution's forward.
pub fn input_gradient_into(gpu: &Gpu, g: &ConvGeom, rows: Rows, weight: &Tensor, x: &Tensor, acc: f32) -> Result<()> {
    let weight = weight.reshape(&[g.c_out, g.taps()]);
    if !phased(g) {
        let col = rows_times(gpu, g, rows, &weight)?;
        return col2im_into(gpu, g, &col, x, acc);
    }
    ensure!(x.len() == g.input_shape().iter().product::<usize>(), "col2im: output {:?} for {:?}", x.shape(), g.input_shape());
    // The columns come out in taps_by_phase order because the weight's columns are in it.
    let by_phase = gpu.empty(weight.shape());
    let order = Params { n: g.c_out as u32, c: g.c_in as u32, kh: g.kernel.0 as u32, kw: g.kernel.1 as u32, ..Params::zeroed() };
    launch(gpu, &TAPS_BY_PHASE, order, weight.len(), &weight, &by_phase)?;
    let col = rows_times(gpu, g, rows, &by_phase)?;
    let blocks = (g.h + g.padding.0).div_ceil(2) - g.padding.0 / 2;
    let blocks = blocks * ((g.w + g.padding.1).div_ceil(2) - g.padding.1 / 2);
    let kernel = if g.kernel == (4, 4) { &COL2IM_S2_K4 } else { &COL2IM_S2 };
    launch(gpu, kernel, g.params(acc), g.n * g.c_in * blocks, &col, x)
}

/// `dst[b, j, i] = acc * dst + src[b, i, j]` for src [b, r, c]: NCHW <-> [N, HW, C].
pub fn swap_last_into(gpu: &Gpu, src: &Tensor, (b, r, c): (usize, usize, usize), dst: &Tensor, acc: f32) -> Result<()> {
    ensure!(src.len() == b * r * c && dst.len() == src.len(), "swap: {:?} as {b}x{r}x{c} into {:?}", src.shape(), dst.shape());
    let params = Params { n: b as u32, h: r as u32, w: c as u32, acc, ..Params::zeroed() };
    // As many vec4 accesses as the shape allows (each access is a loop over lanes on llvmpipe).
    match (r.is_multiple_of(4), c.is_multiple_of(4)) {
        (true, true) => launch(gpu, &SWAP_LAST4, params, src.len() / 16, src, dst),
        (true, false) => launch(gpu, &SWAP_ROWS4, params, src.len() / 4, src, dst),
        (false, true) => launch(gpu, &SWAP_COLS4, params, src.len() / 4, src, dst),
        (false, false) => launch(gpu, &SWAP_LAST, params, src.len(), src, dst),
    }
}

fn swap_last(gpu: &Gpu, src: &Tensor, dims: (usize, usize, usize), shape: &[usize]) -> Result<Tensor> {
    let dst = gpu.empty(shape);
    swap_last_into(gpu, src, dims, &dst, 0.0)?;
    Ok(dst)
}

fn check_weight(weight: &Tensor, expected: [usize; 4], what: &str) -> Result<()> {
    if weight.shape() != expected {
        return Err(Error::new(format!("{what}: weight {:?}, expected {expected:?}", weight.shape())));
    }
    Ok(())
}

/// Convolution forward. Weight [c_out, c_in, kh, kw] (PyTorch's layout), bias [c_out].
/// Returns the output [n, c_out, out_h, out_w] and the column matrix the weight gradient needs.
pub fn conv2d(gpu: &Gpu, g: &ConvGeom, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
    g.validate()?;
    check_weight(weight, [g.c_out, g.c_in, g.kernel.0, g.kernel.1], "conv2d")?;
    let col = im2col(gpu, g, x)?;
    let pixels = g.out_h() * g.out_w();
    let rows = matmul::gemm(gpu, &col, &weight.reshape(&[g.c_out, g.taps()]), bias, false, true)?;
    let out = swap_last(gpu, &rows, (g.n, pixels, g.c_out), &g.output_shape())?;
    Ok((out, col))
}

/// A gradient destination: the tensor and whether to add to it (1) or overwrite it (0).
pub type GradOut<'a> = Option<(&'a Tensor, f32)>;

/// Convolution backward from the output gradient `dy` [n, c_out, out_h, out_w].
#[allow(clippy::too_many_arguments)] // operands and gradient outputs, named at every call
pub fn conv2d_backward(
    gpu: &Gpu,
    g: &ConvGeom,
    col: &Tensor,
    weight: &Tensor,
    dy: &Tensor,
    dx: GradOut,
    dweight: GradOut,
    dbias: GradOut,
) -> Result<()> {
    let pixels = g.out_h() * g.out_w();
    let dy_rows = swap_last(gpu, dy, (g.n, g.c_out, pixels), &[g.n * pixels, g.c_out])?;
    if let Some((dw, acc)) = dweight {
        let dw = dw.reshape(&[g.c_out, g.taps()]);
        matmul::gemm_into(gpu, &dy_rows, col, None, &dw, Gemm::new(true, false).accumulate(acc))?;
    }
    if let Some((db, acc)) = dbias {
        reduce::sum_into(gpu, &dy_rows, Axes::columns_of(g.n * pixels, g.c_out), db, 1.0, acc)?;
    }
    if let Some((dx, acc)) = dx {
        input_gradient_into(gpu, g, Rows::Stored(&dy_rows), weight, dx, acc)?;
    }
    Ok(())
}

/// The forward convolution whose input gradient a transposed convolution computes: input
/// [n, c_in, h, w] and weight [c_in, c_out, kh, kw] (PyTorch's ConvTranspose2d layout) give an
/// output [n, c_out, (h-1)*s - 2p + k, ...]; `geom` describes the convolution from that output
/// back to the input.
#[allow(clippy::too_many_arguments)] // operands and gradient outputs, named at every call
pub fn transposed_geom(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, kernel: (usize, usize), stride: (usize, usize), padding: (usize, usize)) -> Result<ConvGeom> {
    let out_h = ((h.max(1) - 1) * stride.0 + kernel.0).checked_sub(2 * padding.0);
    let out_w = ((w.max(1) - 1) * stride.1 + kernel.1).checked_sub(2 * padding.1);
    let (Some(out_h), Some(out_w)) = (out_h, out_w) else {
        return Err(Error::new(format!("transposed convolution: padding {padding:?} leaves no output")));
    };
    let g = ConvGeom { n, c_in: c_out, h: out_h, w: out_w, c_out: c_in, kernel, stride, padding };
    g.validate()?;
    ensure!(g.out_h() == h && g.out_w() == w, "transposed convolution: geometry does not invert");
    Ok(g)
}

/// Transposed convolution forward. `g` from `transposed_geom`. Returns the output and the input
/// as the weight gradient takes it: rows [n*h*w, c_in], or the input map itself where the
/// product read it in place (`reads_map_in_place`; the backward permutes it when it needs rows).
pub fn conv_transpose2d(gpu: &Gpu, g: &ConvGeom, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<(Tensor, SavedRows)> {
    // In `g` the roles are swapped: g.c_out is this layer's input channels, g.c_in its output's.
    check_weight(weight, [g.c_out, g.c_in, g.kernel.0, g.kernel.1], "conv_transpose2d")?;
    ensure!(x.shape() == g.output_shape(), "conv_transpose2d: input {:?}, expected {:?}", x.shape(), g.output_shape());
    let out = gpu.empty(&g.input_shape());
    let saved = if reads_map_in_place(gpu, g) {
        input_gradient_into(gpu, g, Rows::Map(x), weight, &out, 0.0)?;
        SavedRows::Map(x.clone())
    } else {
        let x_rows = output_rows(gpu, g, x)?;
        input_gradient_into(gpu, g, Rows::Stored(&x_rows), weight, &out, 0.0)?;
        SavedRows::Stored(x_rows)
    };
    if let Some(bias) = bias {
        ensure!(bias.len() == g.c_in, "conv_transpose2d: bias holds {}, expected {}", bias.len(), g.c_in);
        reduce::broadcast_into(gpu, bias, Axes { outer: g.n, mid: g.c_in, inner: g.h * g.w }, &out, 1.0, 1.0)?;
    }
    Ok((out, saved))
}

/// An NCHW map on the output side of `g` as rows [n*out_h*out_w, c_out].
fn output_rows(gpu: &Gpu, g: &ConvGeom, map: &Tensor) -> Result<Tensor> {
    let pixels = g.out_h() * g.out_w();
    swap_last(gpu, map, (g.n, g.c_out, pixels), &[g.n * pixels, g.c_out])
}

/// Transposed convolution backward from the output gradient `dy` (shape `g.input_shape()`);
/// `saved` is what `conv_transpose2d` returned beside its output (`SavedRows::view`).
#[allow(clippy::too_many_arguments)] // operands and gradient outputs, named at every call
pub fn conv_transpose2d_backward(
    gpu: &Gpu,
    g: &ConvGeom,
    saved: Rows,
    weight: &Tensor,
    dy: &Tensor,
    dx: GradOut,
    dweight: GradOut,
    dbias: GradOut,
) -> Result<()> {
    let pixels = g.out_h() * g.out_w();
    let dcol = im2col(gpu, g, &dy.reshape(&g.input_shape()))?;
    if let Some((dx, acc)) = dx {
        let dx_rows = matmul::gemm(gpu, &dcol, &weight.reshape(&[g.c_out, g.taps()]), None, false, true)?;
        swap_last_into(gpu, &dx_rows, (g.n, pixels, g.c_out), dx, acc)?;
    }
    if let Some((dw, acc)) = dweight {
        let dw = dw.reshape(&[g.c_out, g.taps()]);
        let permuted;
        let x_rows = match saved {
            Rows::Stored(rows) => rows,
            Rows::Map(map) => {
                permuted = output_rows(gpu, g, map)?;
                &permuted
            }
        };
        matmul::gemm_into(gpu, x_rows, &dcol, None, &dw, Gemm::new(true, false).accumulate(acc))?;
    }
    if let Some((db, acc)) = dbias {
        reduce::sum_into(gpu, dy, Axes { outer: g.n, mid: g.c_in, inner: g.h * g.w }, db, 1.0, acc)?;
    }
    Ok(())
}
