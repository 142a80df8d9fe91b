//! Data movement between the layouts the products need: im2col and col2im (convolutions as
//! matrix products), the swaps between NCHW maps and rows [N*H*W, C], and matrix transposes.
//! No arithmetic beyond the `acc` blend, so every kernel here is exact. Kernels:
//! shaders/layout.wgsl; users: `ops::conv` and `ops::matmul`.

use bytemuck::Zeroable;

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, GpuParams, Kernel, Tensor};
use crate::ops::grid_1d;

const SOURCE: &str = include_str!("../../shaders/layout.wgsl");

const fn kernel(entry: &'static str) -> Kernel {
    Kernel::new("layout", SOURCE, entry, [256, 1, 1], <Params as GpuParams>::FIELDS)
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
/// `c[j, i] = a[i, j]`, one invocation per element.
pub static TRANSPOSE: Kernel = Kernel { workgroup: [16, 16, 1], ..kernel("transpose_matrix") };

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    [
        &IM2COL,
        &IM2COL_KW4,
        &COL2IM,
        &TAPS_BY_PHASE,
        &COL2IM_S2,
        &COL2IM_S2_K4,
        &SWAP_LAST,
        &SWAP_LAST4,
        &SWAP_ROWS4,
        &SWAP_COLS4,
        &TRANSPOSE,
    ]
    .into_iter()
    .map(|k| (k, vec![vec![]]))
    .collect()
}

crate::gpu_params! {
    /// The geometry every layout kernel reads: a convolution's, or (batch, rows, columns) in
    /// (n, h, w) for the swaps and transposes.
    struct Params {
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
        _pad0: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

/// A forward convolution's shape: input [n, c_in, h, w] to output [n, c_out, out_h, out_w].
/// Padding may differ before and after (TensorFlow's "same" padding of an even kernel at stride
/// 1 pads one more after): the kernels read only the leading padding, and the trailing one fixes
/// the output size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// Rows and columns of zeros before the input (top, left).
    pub padding: (usize, usize),
    /// Rows and columns of zeros after the input (bottom, right).
    pub padding_end: (usize, usize),
}

/// A convolution's window, each as (rows, columns): kernel, stride, and the zeros before
/// (top, left) and after (bottom, right) the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub padding_end: (usize, usize),
}

impl Window2d {
    /// Padded alike on both sides.
    pub fn symmetric(
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Window2d {
        Window2d { kernel, stride, padding, padding_end: padding }
    }
}

impl ConvGeom {
    /// A convolution of an [n, c_in, h, w] input into `c_out` channels.
    pub fn new([n, c_in, h, w]: [usize; 4], c_out: usize, window: Window2d) -> ConvGeom {
        let Window2d { kernel, stride, padding, padding_end } = window;
        ConvGeom { n, c_in, h, w, c_out, kernel, stride, padding, padding_end }
    }

    /// The same with another trailing padding.
    pub fn with_padding_end(self, padding_end: (usize, usize)) -> ConvGeom {
        ConvGeom { padding_end, ..self }
    }

    /// Input rows and columns with the padding.
    fn padded(&self) -> (usize, usize) {
        (self.h + self.padding.0 + self.padding_end.0, self.w + self.padding.1 + self.padding_end.1)
    }

    pub fn validate(&self) -> Result<()> {
        let (kh, kw) = self.kernel;
        ensure!(kh > 0 && kw > 0, "convolution: kernel {kh}x{kw} is empty");
        ensure!(self.stride.0 > 0 && self.stride.1 > 0, "convolution: stride must be at least 1");
        let (ph, pw) = self.padded();
        ensure!(
            ph >= kh && pw >= kw,
            "convolution: kernel {kh}x{kw} is larger than the padded {ph}x{pw} input"
        );
        Ok(())
    }

    pub fn out_h(&self) -> usize {
        (self.padded().0 - self.kernel.0) / self.stride.0 + 1
    }

    pub fn out_w(&self) -> usize {
        (self.padded().1 - self.kernel.1) / self.stride.1 + 1
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

    fn params(&self, acc: f32) -> Params {
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
            _pad0: 0,
            _pad1: 0,
            _pad2: 0,
        }
    }
}

fn launch(
    gpu: &Gpu,
    kernel: &Kernel,
    params: Params,
    count: usize,
    src: &Tensor,
    dst: &Tensor,
) -> Result<()> {
    gpu.dispatch(
        kernel,
        &[],
        &params,
        &[src, dst],
        grid_1d(count, kernel.invocations_per_workgroup()),
    )
}

/// The column matrix [n*out_h*out_w, taps] of an input [n, c_in, h, w].
pub fn im2col(gpu: &Gpu, g: &ConvGeom, x: &Tensor) -> Result<Tensor> {
    ensure!(
        x.shape() == g.input_shape(),
        "im2col: input {:?}, geometry {:?}",
        x.shape(),
        g.input_shape()
    );
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
    ensure!(
        x.len() == g.input_shape().iter().product::<usize>(),
        "col2im: output {:?} for {:?}",
        x.shape(),
        g.input_shape()
    );
    ensure!(
        col.len() == g.n * g.out_h() * g.out_w() * g.taps(),
        "col2im: column matrix {:?} for {g:?}",
        col.shape()
    );
    launch(gpu, &COL2IM, g.params(acc), x.len(), col, x)
}

/// Whether the input gradient takes the stride-2 path (`taps_by_phase` + `col2im_s2`), as the
/// paper's four layers do.
pub fn phased(g: &ConvGeom) -> bool {
    g.stride == (2, 2)
        && g.kernel.0.is_multiple_of(2)
        && g.kernel.1.is_multiple_of(2)
        && g.padding == g.padding_end
}

/// `x = acc * x + col2im_s2(col)` for `phased` geometries, where `col`'s columns are in
/// `taps_by_phase` order (the launcher reorders the weight it multiplies by with that kernel).
pub fn col2im_phased_into(
    gpu: &Gpu,
    g: &ConvGeom,
    col: &Tensor,
    x: &Tensor,
    acc: f32,
) -> Result<()> {
    ensure!(phased(g), "col2im_s2: geometry {g:?} is not stride 2 with even kernels");
    ensure!(
        x.len() == g.input_shape().iter().product::<usize>(),
        "col2im: output {:?} for {:?}",
        x.shape(),
        g.input_shape()
    );
    let blocks = (g.h + g.padding.0).div_ceil(2) - g.padding.0 / 2;
    let blocks = blocks * ((g.w + g.padding.1).div_ceil(2) - g.padding.1 / 2);
    let kernel = if g.kernel == (4, 4) { &COL2IM_S2_K4 } else { &COL2IM_S2 };
    launch(gpu, kernel, g.params(acc), g.n * g.c_in * blocks, col, x)
}

/// A weight [c_out, c_in*kh*kw] with each input channel's taps reordered (i, j) ->
/// (i/2, j/2, i%2, j%2): the column order `col2im_phased_into` reads.
pub fn taps_by_phase(gpu: &Gpu, g: &ConvGeom, weight: &Tensor) -> Result<Tensor> {
    ensure!(
        weight.len() == g.c_out * g.taps(),
        "taps_by_phase: weight {:?} for {g:?}",
        weight.shape()
    );
    let by_phase = gpu.empty(weight.shape());
    let order = Params {
        n: g.c_out as u32,
        c: g.c_in as u32,
        kh: g.kernel.0 as u32,
        kw: g.kernel.1 as u32,
        ..Params::zeroed()
    };
    launch(gpu, &TAPS_BY_PHASE, order, weight.len(), weight, &by_phase)?;
    Ok(by_phase)
}

/// `dst[b, j, i] = acc * dst + src[b, i, j]` for src [b, r, c]: NCHW <-> [N, HW, C].
pub fn swap_last_into(
    gpu: &Gpu,
    src: &Tensor,
    (b, r, c): (usize, usize, usize),
    dst: &Tensor,
    acc: f32,
) -> Result<()> {
    ensure!(
        src.len() == b * r * c && dst.len() == src.len(),
        "swap: {:?} as {b}x{r}x{c} into {:?}",
        src.shape(),
        dst.shape()
    );
    let params = Params { n: b as u32, h: r as u32, w: c as u32, acc, ..Params::zeroed() };
    // As many vec4 accesses as the shape allows (each access is a loop over lanes on llvmpipe).
    match (r.is_multiple_of(4), c.is_multiple_of(4)) {
        (true, true) => launch(gpu, &SWAP_LAST4, params, src.len() / 16, src, dst),
        (true, false) => launch(gpu, &SWAP_ROWS4, params, src.len() / 4, src, dst),
        (false, true) => launch(gpu, &SWAP_COLS4, params, src.len() / 4, src, dst),
        (false, false) => launch(gpu, &SWAP_LAST, params, src.len(), src, dst),
    }
}

pub fn swap_last(
    gpu: &Gpu,
    src: &Tensor,
    dims: (usize, usize, usize),
    shape: &[usize],
) -> Result<Tensor> {
    let dst = gpu.empty(shape);
    swap_last_into(gpu, src, dims, &dst, 0.0)?;
    Ok(dst)
}

/// Whether `transpose` moves [rows, cols] as 4x4 blocks (`swap_last4`) rather than one float
/// per invocation (`transpose_matrix`): a quarter of the per-lane accesses, 47-55 -> 11-28 ms per
/// step for the weight gradients' transposes on lavapipe (alternated).
pub fn transposes_in_blocks(rows: usize, cols: usize) -> bool {
    rows.is_multiple_of(4) && cols.is_multiple_of(4)
}

/// A new [cols, rows] tensor holding the transpose of a 2-D tensor.
pub fn transpose(gpu: &Gpu, a: &Tensor) -> Result<Tensor> {
    let (rows, cols) = (a.rows(), a.cols());
    let out = gpu.empty(&[cols, rows]);
    if transposes_in_blocks(rows, cols) {
        swap_last_into(gpu, a, (1, rows, cols), &out, 0.0)?;
        return Ok(out);
    }
    let params = Params { h: rows as u32, w: cols as u32, ..Params::zeroed() };
    let [wx, wy, _] = TRANSPOSE.workgroup;
    let groups = [(cols as u32).div_ceil(wx), (rows as u32).div_ceil(wy), 1];
    gpu.dispatch(&TRANSPOSE, &[], &params, &[a, &out], groups)?;
    Ok(out)
}
