//! Convolution and transposed convolution against direct f64 references on awkward geometries
//! (batch 1, odd channels, non-square maps and kernels, stride 1 and 2, padding 0 to 2), both
//! kernel variants; backward through the tape against finite differences.

#![allow(clippy::too_many_arguments)] // references spell out each geometry parameter

mod common;
use common::*;
use infogan::ops::conv::{self, ConvGeom};
use infogan::ops::layout::{self, Window2d};
use infogan::ops::reduce::Axes;
use infogan::Tape;

fn geom(
    n: usize,
    c_in: usize,
    h: usize,
    w: usize,
    c_out: usize,
    k: (usize, usize),
    s: (usize, usize),
    p: (usize, usize),
) -> ConvGeom {
    ConvGeom::new([n, c_in, h, w], c_out, Window2d::symmetric(k, s, p))
}

fn geometries() -> Vec<ConvGeom> {
    vec![
        geom(1, 1, 5, 5, 1, (3, 3), (1, 1), (0, 0)),
        geom(2, 3, 7, 5, 5, (3, 2), (2, 1), (1, 0)),
        geom(3, 2, 9, 6, 4, (4, 4), (2, 2), (1, 1)),
        geom(1, 5, 6, 7, 3, (2, 3), (1, 2), (2, 1)),
        geom(2, 1, 28, 28, 3, (4, 4), (2, 2), (1, 1)),
        geom(2, 7, 14, 14, 9, (4, 4), (2, 2), (1, 1)),
        // KW = 4 takes im2col_kw4; here with stride 3 and padding 2 along x.
        geom(1, 3, 6, 9, 2, (3, 4), (1, 3), (2, 2)),
        // Few taps and many output channels, as D's first conv: a product with a short K.
        geom(1, 1, 13, 11, 16, (4, 4), (2, 2), (1, 1)),
        geom(3, 2, 9, 7, 32, (3, 3), (1, 1), (0, 2)),
        // Stride 2 and even kernels: the input gradient takes col2im_s2, here with padding 0 and
        // 2 and non-square kernels (blocks cut off at every border).
        geom(1, 3, 7, 8, 5, (2, 4), (2, 2), (0, 2)),
        geom(2, 1, 9, 5, 3, (6, 2), (2, 2), (2, 1)),
        // "Same" padding of a 4x4 kernel at stride 1 (one more row and column after), as the
        // chairs preset's stride-1 convs; and uneven padding at stride 2 (the plain col2im).
        geom(2, 3, 8, 8, 5, (4, 4), (1, 1), (1, 1)).with_padding_end((2, 2)),
        geom(1, 2, 7, 6, 3, (4, 4), (2, 2), (2, 1)).with_padding_end((1, 2)),
    ]
}

/// Direct convolution: out[n, o, y, x] = b[o] + sum_{c,i,j} x[n, c, y*s-p+i, x*s-p+j] w[o, c, i, j].
fn conv_ref(g: &ConvGeom, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let (oh, ow) = (g.out_h(), g.out_w());
    let (kh, kw) = g.kernel;
    let mut out = vec![0.0; g.n * g.c_out * oh * ow];
    for n in 0..g.n {
        for o in 0..g.c_out {
            for y in 0..oh {
                for xx in 0..ow {
                    let mut s = b[o];
                    for c in 0..g.c_in {
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (y * g.stride.0 + i) as isize - g.padding.0 as isize;
                                let ix = (xx * g.stride.1 + j) as isize - g.padding.1 as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w
                                {
                                    s += x[((n * g.c_in + c) * g.h + iy as usize) * g.w
                                        + ix as usize]
                                        * w[((o * g.c_in + c) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                    out[((n * g.c_out + o) * oh + y) * ow + xx] = s;
                }
            }
        }
    }
    out
}

/// Direct transposed convolution of x [n, ci, h, w] with w [ci, co, kh, kw] (scatter form): the
/// full output with `p` rows and columns cut at the start and `pe` at the end.
fn conv_t_ref(
    n: usize,
    ci: usize,
    h: usize,
    wd: usize,
    co: usize,
    k: (usize, usize),
    s: (usize, usize),
    (p, pe): ((usize, usize), (usize, usize)),
    x: &[f64],
    w: &[f64],
    b: &[f64],
) -> (Vec<f64>, usize, usize) {
    let oh = (h - 1) * s.0 + k.0 - p.0 - pe.0;
    let ow = (wd - 1) * s.1 + k.1 - p.1 - pe.1;
    let mut out = vec![0.0; n * co * oh * ow];
    for b_ in 0..n {
        for o in 0..co {
            for v in out[(b_ * co + o) * oh * ow..(b_ * co + o + 1) * oh * ow].iter_mut() {
                *v = b[o];
            }
        }
        for c in 0..ci {
            for y in 0..h {
                for xx in 0..wd {
                    let xv = x[((b_ * ci + c) * h + y) * wd + xx];
                    for o in 0..co {
                        for i in 0..k.0 {
                            for j in 0..k.1 {
                                let oy = (y * s.0 + i) as isize - p.0 as isize;
                                let ox = (xx * s.1 + j) as isize - p.1 as isize;
                                if oy >= 0 && ox >= 0 && (oy as usize) < oh && (ox as usize) < ow {
                                    out[((b_ * co + o) * oh + oy as usize) * ow + ox as usize] +=
                                        xv * w[((c * co + o) * k.0 + i) * k.1 + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (out, oh, ow)
}

#[test]
fn conv2d_forward_matches_reference() {
    for gpu in gpus() {
        let mut r = rng(30);
        for g in geometries() {
            let (x, x64) = upload(
                &gpu,
                &g.input_shape(),
                &uniform(&mut r, g.input_shape().iter().product(), -1.0, 1.0),
            );
            let wshape = [g.c_out, g.c_in, g.kernel.0, g.kernel.1];
            let (w, w64) =
                upload(&gpu, &wshape, &uniform(&mut r, wshape.iter().product(), -1.0, 1.0));
            let (b, b64) = upload(&gpu, &[g.c_out], &uniform(&mut r, g.c_out, -1.0, 1.0));
            let (out, _) = conv::conv2d(&gpu, &g, &x, &w, Some(&b)).unwrap();
            assert_eq!(out.shape(), g.output_shape());
            assert_close(
                &format!("conv2d {:?} {g:?}", gpu.variant),
                &download(&gpu, &out),
                &conv_ref(&g, &x64, &w64, &b64),
                1e-5,
            );
        }
    }
}

#[test]
fn conv2d_backward_matches_finite_differences() {
    for gpu in gpus() {
        let mut r = rng(31);
        for g in
            geometries().into_iter().filter(|g| g.input_shape().iter().product::<usize>() <= 400)
        {
            let xlen: usize = g.input_shape().iter().product();
            let wshape = [g.c_out, g.c_in, g.kernel.0, g.kernel.1];
            let wlen: usize = wshape.iter().product();
            let olen: usize = g.output_shape().iter().product();
            let (x, x64) = upload(&gpu, &g.input_shape(), &uniform(&mut r, xlen, -1.0, 1.0));
            let (w, w64) = upload(&gpu, &wshape, &uniform(&mut r, wlen, -1.0, 1.0));
            let (b, b64) = upload(&gpu, &[g.c_out], &uniform(&mut r, g.c_out, -1.0, 1.0));
            let (m, m64) = upload(&gpu, &g.output_shape(), &uniform(&mut r, olen, -1.0, 1.0));
            let mut tape = Tape::new(&gpu);
            let (vx, vw, vb) = (tape.input(x, true), tape.input(w, true), tape.input(b, true));
            let out = tape.conv2d(&vx, &vw, Some(&vb), g).unwrap();
            let vm = tape.constant(m);
            let weighted = tape.mul(&out, &vm).unwrap();
            let loss = tape.sum(&weighted, Axes::all(olen), 1.0).unwrap();
            tape.backward(&loss).unwrap();
            let f = |x: &[f64], w: &[f64], b: &[f64]| {
                conv_ref(&g, x, w, b).iter().zip(&m64).map(|(o, m)| o * m).sum::<f64>()
            };
            let what = format!("{:?} {g:?}", gpu.variant);
            assert_close(
                &format!("conv2d dx {what}"),
                &download(&gpu, &tape.grad(&vx).unwrap()),
                &finite_diff(&|v| f(v, &w64, &b64), &x64, 1e-5),
                1e-5,
            );
            assert_close(
                &format!("conv2d dw {what}"),
                &download(&gpu, &tape.grad(&vw).unwrap()),
                &finite_diff(&|v| f(&x64, v, &b64), &w64, 1e-5),
                1e-5,
            );
            assert_close(
                &format!("conv2d db {what}"),
                &download(&gpu, &tape.grad(&vb).unwrap()),
                &finite_diff(&|v| f(&x64, &w64, v), &b64, 1e-5),
                1e-5,
            );
        }
    }
}

/// (n, c_in, h, w, c_out, kernel, stride, padding, padding after) of transposed convolutions.
type TCase = (
    usize,
    usize,
    usize,
    usize,
    usize,
    (usize, usize),
    (usize, usize),
    (usize, usize),
    (usize, usize),
);

const TRANSPOSED: &[TCase] = &[
    (1, 1, 3, 3, 1, (3, 3), (1, 1), (0, 0), (0, 0)),
    (2, 3, 4, 3, 5, (4, 3), (2, 1), (1, 0), (1, 0)),
    (3, 5, 7, 7, 3, (4, 4), (2, 2), (1, 1), (1, 1)),
    (1, 2, 5, 4, 3, (3, 2), (2, 2), (2, 0), (2, 0)),
    // One output channel, as in G's last layer: narrow products (row blocks along the lanes).
    (2, 16, 5, 4, 1, (4, 4), (2, 2), (1, 1), (1, 1)),
    // Stride 2 and even kernels (col2im_s2) with padding 0 to 2.
    (2, 3, 4, 5, 3, (2, 4), (2, 2), (0, 1), (0, 1)),
    (1, 4, 3, 3, 5, (6, 4), (2, 2), (2, 0), (2, 0)),
    // "Same" padding at stride 1 (the chairs preset's 8x8 -> 8x8 layers), and uneven at stride 2.
    (2, 3, 8, 8, 4, (4, 4), (1, 1), (1, 1), (2, 2)),
    (1, 2, 4, 3, 3, (4, 4), (2, 2), (1, 2), (2, 1)),
];

#[test]
fn conv_transpose2d_forward_and_backward_match_reference() {
    for gpu in gpus() {
        let mut r = rng(32);
        for &(n, ci, h, wd, co, k, s, p, pe) in TRANSPOSED {
            let g = conv::transposed_geom(
                [n, ci, h, wd],
                co,
                Window2d { kernel: k, stride: s, padding: p, padding_end: pe },
            )
            .unwrap();
            let xlen = n * ci * h * wd;
            let wshape = [ci, co, k.0, k.1];
            let wlen: usize = wshape.iter().product();
            let (x, x64) = upload(&gpu, &[n, ci, h, wd], &uniform(&mut r, xlen, -1.0, 1.0));
            let (w, w64) = upload(&gpu, &wshape, &uniform(&mut r, wlen, -1.0, 1.0));
            let (b, b64) = upload(&gpu, &[co], &uniform(&mut r, co, -1.0, 1.0));
            let (want, oh, ow) = conv_t_ref(n, ci, h, wd, co, k, s, (p, pe), &x64, &w64, &b64);
            let olen = n * co * oh * ow;
            let (m, m64) = upload(&gpu, &[n, co, oh, ow], &uniform(&mut r, olen, -1.0, 1.0));
            let mut tape = Tape::new(&gpu);
            let (vx, vw, vb) = (tape.input(x, true), tape.input(w, true), tape.input(b, true));
            let out = tape.conv_transpose2d(&vx, &vw, Some(&vb), g).unwrap();
            assert_eq!(out.shape(), [n, co, oh, ow]);
            let what = format!(
                "{:?} n{n} ci{ci} {h}x{wd} co{co} k{k:?} s{s:?} p{p:?}/{pe:?}",
                gpu.variant
            );
            assert_close(
                &format!("conv_transpose2d {what}"),
                &download(&gpu, &out.value),
                &want,
                1e-5,
            );
            let vm = tape.constant(m);
            let weighted = tape.mul(&out, &vm).unwrap();
            let loss = tape.sum(&weighted, Axes::all(olen), 1.0).unwrap();
            tape.backward(&loss).unwrap();
            let f = |x: &[f64], w: &[f64], b: &[f64]| {
                conv_t_ref(n, ci, h, wd, co, k, s, (p, pe), x, w, b)
                    .0
                    .iter()
                    .zip(&m64)
                    .map(|(o, m)| o * m)
                    .sum::<f64>()
            };
            assert_close(
                &format!("conv_transpose2d dx {what}"),
                &download(&gpu, &tape.grad(&vx).unwrap()),
                &finite_diff(&|v| f(v, &w64, &b64), &x64, 1e-5),
                1e-5,
            );
            assert_close(
                &format!("conv_transpose2d dw {what}"),
                &download(&gpu, &tape.grad(&vw).unwrap()),
                &finite_diff(&|v| f(&x64, v, &b64), &w64, 1e-5),
                1e-5,
            );
            assert_close(
                &format!("conv_transpose2d db {what}"),
                &download(&gpu, &tape.grad(&vb).unwrap()),
                &finite_diff(&|v| f(&x64, &w64, v), &b64, 1e-5),
                1e-5,
            );
        }
    }
}

#[test]
fn bad_geometry_is_a_clear_error() {
    for gpu in backends() {
        let g = geom(1, 1, 2, 2, 1, (5, 5), (1, 1), (0, 0));
        let x = gpu.empty(&g.input_shape());
        let w = gpu.empty(&[1, 1, 5, 5]);
        let err = conv::conv2d(&gpu, &g, &x, &w, None).unwrap_err();
        assert!(err.message().contains("larger than"), "{err}");
        let w = gpu.empty(&[1, 2, 5, 5]);
        let g = geom(1, 1, 8, 8, 1, (5, 5), (1, 1), (0, 0));
        let x = gpu.empty(&g.input_shape());
        assert!(conv::conv2d(&gpu, &g, &x, &w, None).unwrap_err().message().contains("weight"));
    }
}

#[test]
fn swap_last_matches_a_transpose_with_and_without_vec4_blocks() {
    let mut r = rng(31);
    for gpu in backends() {
        // (b, rows, cols): odd sizes take the scalar kernel, multiples of 4 on one side or both the
        // vec4 ones.
        for (b, rows, cols) in [
            (1, 1, 1),
            (2, 3, 5),
            (3, 7, 4),
            (2, 8, 5),
            (1, 4, 4),
            (2, 8, 12),
            (3, 20, 16),
            (2, 196, 64),
            (2, 49, 12),
            (2, 12, 49),
        ] {
            let (src, src64) =
                upload(&gpu, &[b, rows, cols], &uniform(&mut r, b * rows * cols, -1.0, 1.0));
            let (old, old64) =
                upload(&gpu, &[b, cols, rows], &uniform(&mut r, b * rows * cols, -1.0, 1.0));
            for acc in [0.0f32, 0.5] {
                let dst = gpu.empty(&[b, cols, rows]);
                gpu.copy(&old, &dst).unwrap();
                layout::swap_last_into(&gpu, &src, (b, rows, cols), &dst, acc).unwrap();
                let mut want = vec![0.0; b * rows * cols];
                for n in 0..b {
                    for i in 0..rows {
                        for j in 0..cols {
                            let at = (n * cols + j) * rows + i;
                            want[at] =
                                f64::from(acc) * old64[at] + src64[(n * rows + i) * cols + j];
                        }
                    }
                }
                assert_close(
                    &format!("swap {b}x{rows}x{cols} acc {acc}"),
                    &download(&gpu, &dst),
                    &want,
                    1e-6,
                );
            }
        }
    }
}

/// A convolution's input gradient: dx[n, c, y*s-p+i, x*s-p+j] += dy[n, o, y, x] w[o, c, i, j].
fn input_gradient_ref(g: &ConvGeom, dy: &[f64], w: &[f64]) -> Vec<f64> {
    let (oh, ow) = (g.out_h(), g.out_w());
    let (kh, kw) = g.kernel;
    let mut dx = vec![0.0; g.input_shape().iter().product()];
    for n in 0..g.n {
        for o in 0..g.c_out {
            for y in 0..oh {
                for xx in 0..ow {
                    let d = dy[((n * g.c_out + o) * oh + y) * ow + xx];
                    for c in 0..g.c_in {
                        for i in 0..kh {
                            for j in 0..kw {
                                let iy = (y * g.stride.0 + i) as isize - g.padding.0 as isize;
                                let ix = (xx * g.stride.1 + j) as isize - g.padding.1 as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w
                                {
                                    dx[((n * g.c_in + c) * g.h + iy as usize) * g.w
                                        + ix as usize] +=
                                        d * w[((o * g.c_in + c) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    dx
}

#[test]
fn input_gradient_writes_and_accumulates_on_both_paths() {
    let mut r = rng(33);
    let cases = [
        geom(1, 3, 7, 8, 5, (2, 4), (2, 2), (0, 2)),
        geom(2, 5, 14, 14, 7, (4, 4), (2, 2), (1, 1)),
        geom(3, 2, 9, 6, 4, (4, 4), (2, 2), (1, 1)),
        geom(1, 1, 11, 10, 2, (6, 4), (2, 2), (2, 2)),
        // 4x4 kernels take the unrolled col2im_s2_k4: padding 0 and 2 cut blocks off at borders.
        geom(2, 3, 9, 8, 3, (4, 4), (2, 2), (0, 0)),
        geom(1, 2, 7, 10, 3, (4, 4), (2, 2), (2, 0)),
        geom(2, 3, 7, 5, 5, (3, 2), (2, 1), (1, 0)),
    ];
    assert!(
        cases.iter().any(|g| !layout::phased(g))
            && cases.iter().filter(|g| layout::phased(g)).count() >= 3
    );
    let mut read_in_place = 0;
    for gpu in gpus() {
        for g in cases {
            let (oh, ow) = (g.out_h(), g.out_w());
            let rows_len = g.n * oh * ow * g.c_out;
            let (rows, rows64) =
                upload(&gpu, &[g.n * oh * ow, g.c_out], &uniform(&mut r, rows_len, -1.0, 1.0));
            let wshape = [g.c_out, g.c_in, g.kernel.0, g.kernel.1];
            let (w, w64) =
                upload(&gpu, &wshape, &uniform(&mut r, wshape.iter().product(), -1.0, 1.0));
            let xlen: usize = g.input_shape().iter().product();
            let (old, old64) = upload(&gpu, &g.input_shape(), &uniform(&mut r, xlen, -1.0, 1.0));
            // rows [n*oh*ow, c_out] as dy [n, c_out, oh, ow].
            let mut dy = vec![0.0; rows_len];
            for n in 0..g.n {
                for o in 0..g.c_out {
                    for px in 0..oh * ow {
                        dy[(n * g.c_out + o) * oh * ow + px] =
                            rows64[(n * oh * ow + px) * g.c_out + o];
                    }
                }
            }
            let grad = input_gradient_ref(&g, &dy, &w64);
            for acc in [0.0f32, 1.0] {
                let x = gpu.empty(&g.input_shape());
                gpu.copy(&old, &x).unwrap();
                let want: Vec<f64> =
                    grad.iter().zip(&old64).map(|(d, o)| d + f64::from(acc) * o).collect();
                conv::input_gradient_into(&gpu, &g, conv::Rows::Stored(&rows), &w, &x, acc)
                    .unwrap();
                let what = format!(
                    "input gradient {:?} {g:?} acc {acc} phased {}",
                    gpu.variant,
                    layout::phased(&g)
                );
                assert_close(&what, &download(&gpu, &x), &want, 1e-5);
                // The same rows as the NCHW map dy, read in place where the product can.
                if conv::reads_map_in_place(&gpu, &g) {
                    read_in_place += 1;
                    let (map, _) = upload(&gpu, &g.output_shape(), &dy);
                    gpu.copy(&old, &x).unwrap();
                    conv::input_gradient_into(&gpu, &g, conv::Rows::Map(&map), &w, &x, acc)
                        .unwrap();
                    assert_close(&format!("{what} from the map"), &download(&gpu, &x), &want, 1e-5);
                }
            }
        }
    }
    assert!(read_in_place >= 4, "the products read the map in place {read_in_place} times");
}
