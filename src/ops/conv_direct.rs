//! Direct convolution forward for layers with few taps per output (see shaders/conv_direct.wgsl):
//! D's first conv and the input gradient of G's last transposed conv, which as im2col + matmul
//! were bound by data movement.

use bytemuck::{Pod, Zeroable};

use crate::ensure;
use crate::error::Result;
use crate::gpu::{Gpu, Kernel};
use crate::ops::conv::{self, ConvGeom};
use crate::ops::{grid_1d, matmul};
use crate::tensor::Tensor;

pub static CONV_DIRECT: Kernel = Kernel { family: "conv_direct", source: include_str!("../../shaders/conv_direct.wgsl"), entry: "conv_direct", workgroup: [64, 1, 1], defines: &[] };

pub fn kernels() -> Vec<(&'static Kernel, Vec<Vec<u32>>)> {
    vec![(&CONV_DIRECT, vec![vec![]])]
}

/// Taps per output at or below which the direct kernel is used.
pub const MAX_TAPS: usize = 32;

/// Whether `conv2d_direct_into` takes this geometry.
pub fn suits(g: &ConvGeom) -> bool {
    g.taps() <= MAX_TAPS && g.c_out.is_multiple_of(16)
}

/// The conv geometry (shared with shaders/conv.wgsl), then what only this kernel needs.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    geom: conv::Params,
    c_out: u32,
    has_bias: u32,
    _pad: [u32; 2],
}

/// `y = acc * y + conv(x, weight) (+ bias)`, weight [c_out, c_in, kh, kw], y `g.output_shape()`.
pub fn conv2d_direct_into(gpu: &Gpu, g: &ConvGeom, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>, y: &Tensor, acc: f32) -> Result<()> {
    ensure!(suits(g), "conv_direct: {} taps and {} output channels (needs <= {MAX_TAPS} and a multiple of 16)", g.taps(), g.c_out);
    ensure!(x.len() == g.input_shape().iter().product::<usize>() && y.len() == g.output_shape().iter().product::<usize>(), "conv_direct: tensors do not match the geometry");
    let wt = matmul::transpose(gpu, &weight.reshape(&[g.c_out, g.taps()]))?;
    let p = Params { geom: g.params(acc), c_out: g.c_out as u32, has_bias: u32::from(bias.is_some()), _pad: [0; 2] };
    let invocations = g.n * g.out_h() * g.out_w().div_ceil(4) * (g.c_out / 16);
    gpu.dispatch(&CONV_DIRECT, &[], &p, &[x, &wt, bias.unwrap_or(gpu.placeholder()), y], grid_1d(invocations, 64))
}
