//! 2-D convolution and transposed convolution (NCHW) as matrix products between layout moves
//! (im2col / col2im / swaps, `ops::layout`), so both run at matmul's speed on every variant.
//! This family has no kernels of its own.
//!
//! Transposed convolution's forward is convolution's input gradient and its input gradient is
//! convolution's forward: one geometry (`ConvGeom`, always described as the forward convolution)
//! and the same kernels serve both layer types.

use crate::ensure;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};
use crate::ops::layout::{self, col2im_into, im2col, phased, swap_last, swap_last_into, Window2d};
use crate::ops::matmul::{self, Gemm};
use crate::ops::reduce::{self, Axes};

pub use crate::ops::layout::ConvGeom;

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
pub fn input_gradient_into(
    gpu: &Gpu,
    g: &ConvGeom,
    rows: Rows,
    weight: &Tensor,
    x: &Tensor,
    acc: f32,
) -> Result<()> {
    let weight = weight.reshape(&[g.c_out, g.taps()]);
    if !phased(g) {
        let col = rows_times(gpu, g, rows, &weight)?;
        return col2im_into(gpu, g, &col, x, acc);
    }
    // The columns come out in taps_by_phase order because the weight's columns are in it.
    let by_phase = layout::taps_by_phase(gpu, g, &weight)?;
    let col = rows_times(gpu, g, rows, &by_phase)?;
    layout::col2im_phased_into(gpu, g, &col, x, acc)
}

fn check_weight(weight: &Tensor, expected: [usize; 4], what: &str) -> Result<()> {
    if weight.shape() != expected {
        return Err(Error::new(format!(
            "{what}: weight {:?}, expected {expected:?}",
            weight.shape()
        )));
    }
    Ok(())
}

/// Convolution forward. Weight [c_out, c_in, kh, kw] (PyTorch's layout), bias [c_out].
/// Returns the output [n, c_out, out_h, out_w] and the column matrix the weight gradient needs.
pub fn conv2d(
    gpu: &Gpu,
    g: &ConvGeom,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
) -> Result<(Tensor, Tensor)> {
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

/// The gradients a convolution's backward may write: of its input, weight and bias.
pub struct ConvGrads<'a> {
    pub dx: GradOut<'a>,
    pub dweight: GradOut<'a>,
    pub dbias: GradOut<'a>,
}

/// Convolution backward from the output gradient `dy` [n, c_out, out_h, out_w].
pub fn conv2d_backward(
    gpu: &Gpu,
    g: &ConvGeom,
    col: &Tensor,
    weight: &Tensor,
    dy: &Tensor,
    grads: ConvGrads,
) -> Result<()> {
    let ConvGrads { dx, dweight, dbias } = grads;
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
/// output [n, c_out, (h-1)*s - p - p_end + k, ...], the full transposed convolution with `padding`
/// rows and columns cut from the start and `padding_end` from the end; `geom` describes the
/// convolution from that output back to the input.
pub fn transposed_geom(
    [n, c_in, h, w]: [usize; 4],
    c_out: usize,
    window: Window2d,
) -> Result<ConvGeom> {
    let Window2d { kernel, stride, padding, padding_end } = window;
    let out_h = ((h.max(1) - 1) * stride.0 + kernel.0).checked_sub(padding.0 + padding_end.0);
    let out_w = ((w.max(1) - 1) * stride.1 + kernel.1).checked_sub(padding.1 + padding_end.1);
    let (Some(out_h), Some(out_w)) = (out_h, out_w) else {
        return Err(Error::new(format!(
            "transposed convolution: padding {padding:?}/{padding_end:?} leaves no output"
        )));
    };
    let g = ConvGeom::new([n, c_out, out_h, out_w], c_in, window);
    g.validate()?;
    ensure!(g.out_h() == h && g.out_w() == w, "transposed convolution: geometry does not invert");
    Ok(g)
}

/// Transposed convolution forward. `g` from `transposed_geom`. Returns the output and the input
/// as the weight gradient takes it: rows [n*h*w, c_in], or the input map itself where the
/// product read it in place (`reads_map_in_place`; the backward permutes it when it needs rows).
pub fn conv_transpose2d(
    gpu: &Gpu,
    g: &ConvGeom,
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
) -> Result<(Tensor, SavedRows)> {
    // In `g` the roles are swapped: g.c_out is this layer's input channels, g.c_in its output's.
    check_weight(weight, [g.c_out, g.c_in, g.kernel.0, g.kernel.1], "conv_transpose2d")?;
    ensure!(
        x.shape() == g.output_shape(),
        "conv_transpose2d: input {:?}, expected {:?}",
        x.shape(),
        g.output_shape()
    );
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
        ensure!(
            bias.len() == g.c_in,
            "conv_transpose2d: bias holds {}, expected {}",
            bias.len(),
            g.c_in
        );
        reduce::broadcast_into(
            gpu,
            bias,
            Axes { outer: g.n, mid: g.c_in, inner: g.h * g.w },
            &out,
            1.0,
            1.0,
        )?;
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
pub fn conv_transpose2d_backward(
    gpu: &Gpu,
    g: &ConvGeom,
    saved: Rows,
    weight: &Tensor,
    dy: &Tensor,
    grads: ConvGrads,
) -> Result<()> {
    let ConvGrads { dx, dweight, dbias } = grads;
    let pixels = g.out_h() * g.out_w();
    let dcol = im2col(gpu, g, &dy.reshape(&g.input_shape()))?;
    if let Some((dx, acc)) = dx {
        let dx_rows =
            matmul::gemm(gpu, &dcol, &weight.reshape(&[g.c_out, g.taps()]), None, false, true)?;
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
        reduce::sum_into(
            gpu,
            dy,
            Axes { outer: g.n, mid: g.c_in, inner: g.h * g.w },
            db,
            1.0,
            acc,
        )?;
    }
    Ok(())
}
