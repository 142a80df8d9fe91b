//! The tape's backward rules against finite differences of an f64 reference of the same graph,
//! gradient accumulation where a value feeds several ops, detach, and a small MLP that learns.

mod common;
use common::*;
use infogan::arena::{Arena, ArenaLayout, Init};
use infogan::ops::adam::AdamConfig;
use infogan::ops::elementwise::Activation;
use infogan::ops::reduce::Axes;
use infogan::{Tape, Tensor};

/// A tensor on the GPU and its f64 values.
type Uploaded = (Tensor, Vec<f64>);

/// sum(w * (op(A).op(B) + bias)) for every transpose form, gradients of A, B and bias.
#[test]
fn matmul_backward_matches_finite_differences_for_every_form() {
    for gpu in gpus() {
        let mut r = rng(11);
        let (m, n, k) = (5, 3, 7);
        for ta in [false, true] {
            for tb in [false, true] {
                let sa = if ta { [k, m] } else { [m, k] };
                let sb = if tb { [n, k] } else { [k, n] };
                let (a, a64) = upload(&gpu, &sa, &uniform(&mut r, m * k, -1.0, 1.0));
                let (b, b64) = upload(&gpu, &sb, &uniform(&mut r, k * n, -1.0, 1.0));
                let (bias, bias64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
                let (w, w64) = upload(&gpu, &[m, n], &uniform(&mut r, m * n, -1.0, 1.0));
                let mut tape = Tape::new(&gpu);
                let (va, vb, vbias) =
                    (tape.input(a, true), tape.input(b, true), tape.input(bias, true));
                let vw = tape.constant(w);
                let c = tape.matmul(&va, &vb, ta, tb, Some(&vbias)).unwrap();
                let weighted = tape.mul(&c, &vw).unwrap();
                let loss = tape.sum(&weighted, Axes::all(m * n), 1.0).unwrap();
                tape.backward(&loss).unwrap();

                let f = |a: &[f64], b: &[f64], bias: &[f64]| {
                    let (c, _, _) =
                        matmul_ref(a, (sa[0], sa[1]), ta, b, (sb[0], sb[1]), tb, Some(bias));
                    c.iter().zip(&w64).map(|(c, w)| c * w).sum::<f64>()
                };
                let fd_a = finite_diff(&|x| f(x, &b64, &bias64), &a64, 1e-5);
                let fd_b = finite_diff(&|x| f(&a64, x, &bias64), &b64, 1e-5);
                let fd_bias = finite_diff(&|x| f(&a64, &b64, x), &bias64, 1e-5);
                let what = format!("{:?} ta={ta} tb={tb}", gpu.variant);
                assert_close(
                    &format!("matmul dA {what}"),
                    &download(&gpu, &tape.grad(&va).unwrap()),
                    &fd_a,
                    1e-5,
                );
                assert_close(
                    &format!("matmul dB {what}"),
                    &download(&gpu, &tape.grad(&vb).unwrap()),
                    &fd_b,
                    1e-5,
                );
                assert_close(
                    &format!("matmul dbias {what}"),
                    &download(&gpu, &tape.grad(&vbias).unwrap()),
                    &fd_bias,
                    1e-5,
                );
            }
        }
    }
}

const B: usize = 3;
const IN: usize = 3;
const HID: usize = 5;
const OUT: usize = 4;

/// The composite graph below, in f64: two Linear layers, LeakyReLU, then y used by sigmoid, tanh,
/// mul, add, reshape and every loss. `p` = x, W1, b1, W2, b2 flattened.
fn composite_ref(p: &[f64], labels: &[f64], bce_t: &[f64], gauss_x: &[f64], w: &[f64]) -> f64 {
    let (x, rest) = p.split_at(B * IN);
    let (w1, rest) = rest.split_at(HID * IN);
    let (b1, rest) = rest.split_at(HID);
    let (w2, b2) = rest.split_at(OUT * HID);
    let (h, _, _) = matmul_ref(x, (B, IN), false, w1, (HID, IN), true, Some(b1));
    let h: Vec<f64> = h.iter().map(|&v| if v >= 0.0 { v } else { 0.1 * v }).collect();
    let (y, _, _) = matmul_ref(&h, (B, HID), false, w2, (OUT, HID), true, Some(b2));
    let mut total = 0.0;
    for i in 0..B * OUT {
        let (s, t) = (sigmoid(y[i]), y[i].tanh());
        total += w[i] * (s * t + 0.5 * y[i] - 2.0 * t);
        total += (y[i].max(0.0) - y[i] * bce_t[i] + (-y[i].abs()).exp().ln_1p()) / (B * OUT) as f64;
        let d = gauss_x[i] - y[i];
        total += (0.5 * d * d / 0.49 + 0.7f64.ln()) / (B * OUT) as f64; // constant ln(2pi)/2 dropped: no gradient
        total += (t + 0.5 * d * d * (-2.0 * t).exp()) / (B * OUT) as f64;
    }
    for r in 0..B {
        let row = &y[r * OUT..(r + 1) * OUT];
        let top = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = top + row.iter().map(|v| (v - top).exp()).sum::<f64>().ln();
        total += (lse - row[labels[r] as usize]) / B as f64;
    }
    total
}

#[test]
fn composite_graph_gradients_match_finite_differences() {
    for gpu in backends() {
        let mut r = rng(12);
        let mut layout = ArenaLayout::default();
        let w1_id = layout.add("w1", &[HID, IN], Init::Uniform { bound: 0.8 });
        let b1_id = layout.add("b1", &[HID], Init::Uniform { bound: 0.5 });
        let w2_id = layout.add("w2", &[OUT, HID], Init::Uniform { bound: 0.8 });
        let b2_id = layout.add("b2", &[OUT], Init::Uniform { bound: 0.5 });
        let arena = Arena::new(&gpu, "net", layout.clone(), 99).unwrap();
        arena.zero_grads(&gpu).unwrap();
        let init = to_f64(&layout.initial_values(99));
        let slice = |id: infogan::arena::ParamId| {
            let s = &layout.slots[id.0];
            init[s.offset..s.offset + s.len()].to_vec()
        };

        let (x, x64) = upload(&gpu, &[B, IN], &uniform(&mut r, B * IN, -1.0, 1.0));
        let labels64 = vec![1.0, 3.0, 0.0];
        let (labels, _) = upload(&gpu, &[B], &labels64);
        let (bce_t, bce64) = upload(&gpu, &[B * OUT], &uniform(&mut r, B * OUT, 0.0, 1.0));
        let (gx, gx64) = upload(&gpu, &[B * OUT], &uniform(&mut r, B * OUT, -1.0, 1.0));
        let (w, w64) = upload(&gpu, &[B, OUT], &uniform(&mut r, B * OUT, -1.0, 1.0));

        let mut tape = Tape::new(&gpu);
        let vx = tape.input(x, true);
        let (w1, b1) = (tape.param(&arena, w1_id), tape.param(&arena, b1_id));
        let (w2, b2) = (tape.param(&arena, w2_id), tape.param(&arena, b2_id));
        let h = tape.linear(&vx, &w1, Some(&b1)).unwrap();
        let h = tape.activation(&h, Activation::LeakyRelu { slope: 0.1 }).unwrap();
        let y = tape.linear(&h, &w2, Some(&b2)).unwrap();
        let s = tape.activation(&y, Activation::Sigmoid).unwrap();
        let t = tape.activation(&y, Activation::Tanh).unwrap();
        let st = tape.mul(&s, &t).unwrap();
        let u = tape.add(&st, &y, 1.0, 0.5).unwrap();
        let u = tape.add(&u, &t, 1.0, -2.0).unwrap();
        let vw = tape.constant(w);
        let weighted = tape.mul(&u, &vw).unwrap();
        let term_w = tape.sum(&weighted, Axes::all(B * OUT), 1.0).unwrap();
        let flat = tape.reshape(&y, &[B * OUT]).unwrap();
        let bce = tape.bce_logits(&flat, &bce_t).unwrap();
        let term_bce = tape.mean(&bce).unwrap();
        let gauss = tape.gauss_nll(&flat, &gx, 0.7).unwrap();
        let term_gauss = tape.mean(&gauss).unwrap();
        let tflat = tape.reshape(&t, &[B * OUT]).unwrap();
        let learned = tape.gauss_nll_learned(&flat, &tflat, &gx).unwrap();
        let term_learned = tape.mean(&learned).unwrap();
        let xent = tape.softmax_xent(&y, &labels).unwrap();
        let term_xent = tape.mean(&xent).unwrap();
        let mut loss = tape.add(&term_w, &term_bce, 1.0, 1.0).unwrap();
        for term in [&term_gauss, &term_learned, &term_xent] {
            loss = tape.add(&loss, term, 1.0, 1.0).unwrap();
        }
        tape.backward(&loss).unwrap();

        let mut p64 = x64.clone();
        for id in [w1_id, b1_id, w2_id, b2_id] {
            p64.extend(slice(id));
        }
        let f = |p: &[f64]| composite_ref(p, &labels64, &bce64, &gx64, &w64);
        let fd = finite_diff(&f, &p64, 1e-6);
        let mut got = download(&gpu, &tape.grad(&vx).unwrap());
        for id in [w1_id, b1_id, w2_id, b2_id] {
            got.extend(download(&gpu, &arena.grad(id)));
        }
        assert_close("composite graph gradients", &got, &fd, 2e-4);
        // The forward value too (plus the dropped constants of the two Gaussian terms).
        let value = download(&gpu, &loss.value)[0];
        let want = f(&p64) + 2.0 * 0.918_938_533_204_672_7;
        assert!((value - want).abs() < 1e-4 * want.abs().max(1.0), "loss {value} vs {want}");
    }
}

#[test]
fn detach_and_constants_get_no_gradient() {
    for gpu in backends() {
        let x = gpu.upload(&[2, 2], &[0.5, -1.0, 2.0, 0.25]).unwrap();
        let mut tape = Tape::new(&gpu);
        let vx = tape.input(x, true);
        let y = tape.activation(&vx, Activation::Tanh).unwrap();
        let cut = tape.detach(&y);
        let z = tape.activation(&cut, Activation::Sigmoid).unwrap();
        assert!(!z.requires_grad());
        let err = tape.backward(&z).unwrap_err();
        assert!(err.message().contains("does not depend"), "{err}");
        // A loss that uses x both directly and through the detached branch: only the direct path counts.
        let sum = tape.add(&vx, &cut, 1.0, 1.0).unwrap();
        let loss = tape.sum(&sum, Axes::all(4), 1.0).unwrap();
        tape.backward(&loss).unwrap();
        assert_eq!(gpu.download(&tape.grad(&vx).unwrap()).unwrap(), vec![1.0; 4]);
    }
}

/// Three Gaussian blobs in 2-D, classified by a 2-32-3 MLP trained with Adam through the tape.
#[test]
fn small_mlp_learns_through_the_tape() {
    for gpu in backends() {
        let mut r = rng(13);
        let n = 96;
        let centres = [(-1.5, 0.0), (1.5, 0.5), (0.0, -1.5)];
        let mut xs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let c = i % 3;
            let noise = uniform(&mut r, 2, -0.6, 0.6);
            xs.extend([centres[c].0 + noise[0], centres[c].1 + noise[1]]);
            labels.push(c as f64);
        }
        let (x, _) = upload(&gpu, &[n, 2], &xs);
        let (labels, _) = upload(&gpu, &[n], &labels);
        let mut layout = ArenaLayout::default();
        let w1 = layout.add("w1", &[32, 2], Init::Normal { mean: 0.0, std: 0.5 });
        let b1 = layout.add("b1", &[32], Init::Constant(0.0));
        let w2 = layout.add("w2", &[3, 32], Init::Normal { mean: 0.0, std: 0.5 });
        let b2 = layout.add("b2", &[3], Init::Constant(0.0));
        let mut arena = Arena::new(&gpu, "mlp", layout, 5).unwrap();
        let step = |arena: &mut Arena| -> Tensor {
            arena.zero_grads(&gpu).unwrap();
            let mut tape = Tape::new(&gpu);
            let vx = tape.constant(x.clone());
            let (pw1, pb1, pw2, pb2) = (
                tape.param(arena, w1),
                tape.param(arena, b1),
                tape.param(arena, w2),
                tape.param(arena, b2),
            );
            let h = tape.linear(&vx, &pw1, Some(&pb1)).unwrap();
            let h = tape.activation(&h, Activation::Relu).unwrap();
            let logits = tape.linear(&h, &pw2, Some(&pb2)).unwrap();
            let xent = tape.softmax_xent(&logits, &labels).unwrap();
            let loss = tape.mean(&xent).unwrap();
            tape.backward(&loss).unwrap();
            arena.adam_step(&gpu, AdamConfig::infogan(0.02)).unwrap();
            loss.value
        };
        let first = gpu.download(&step(&mut arena)).unwrap()[0];
        let mut last = first;
        for _ in 0..150 {
            last = gpu.download(&step(&mut arena)).unwrap()[0];
        }
        println!("mlp loss {first} -> {last}");
        assert!(first > 0.5, "initial loss {first} should be near ln 3");
        assert!(last < 0.2 * first, "loss fell only from {first} to {last}");
    }
}

/// One weight used by several products in one tape (as D's weights are on real and fake images):
/// its gradient is the sum of theirs, whether the tape stacks the uses into one product (W, wide
/// enough that stacking pays) or runs them one by one (V), and it adds to what the arena held, or
/// with `overwrite_grads` replaces it (and a parameter with no use, U, is zeroed).
#[test]
fn shared_weight_gradients_sum_stacked_or_not() {
    for gpu in backends() {
        let mut r = rng(14);
        let (out, inp, k, n) = (24, 40, 5, 3);
        let mut layout = ArenaLayout::default();
        let w_id = layout.add("w", &[out, inp], Init::Uniform { bound: 0.8 });
        let v_id = layout.add("v", &[k, n], Init::Uniform { bound: 0.8 });
        let u_id = layout.add("u", &[3, 7], Init::Uniform { bound: 0.8 });
        let arena = Arena::new(&gpu, "shared", layout, 3).unwrap();
        arena.zero_grads(&gpu).unwrap();
        // Uses of W with 2, 3 and 4 rows (x_i . W^T, weighted by m_i), of V with 3 and 1 rows.
        let w_uses: Vec<_> = [2, 3, 4]
            .iter()
            .map(|&rows| {
                (
                    upload(&gpu, &[rows, inp], &uniform(&mut r, rows * inp, -1.0, 1.0)),
                    upload(&gpu, &[rows, out], &uniform(&mut r, rows * out, -1.0, 1.0)),
                )
            })
            .collect();
        let v_uses: Vec<_> = [3, 1]
            .iter()
            .map(|&rows| {
                (
                    upload(&gpu, &[rows, k], &uniform(&mut r, rows * k, -1.0, 1.0)),
                    upload(&gpu, &[rows, n], &uniform(&mut r, rows * n, -1.0, 1.0)),
                )
            })
            .collect();
        // dW = sum over its uses of M^T X (weights on the left), dV = sum of U^T M (input on the left).
        let sum_of = |uses: &[(Uploaded, Uploaded)],
                      (cols_a, cols_b): (usize, usize),
                      input_on_left: bool| {
            let mut total = vec![0.0; cols_a * cols_b];
            for ((x, x64), (_, m64)) in uses {
                let rows = x.rows();
                let (a, b) = if input_on_left { (x64, m64) } else { (m64, x64) };
                for (t, v) in total
                    .iter_mut()
                    .zip(matmul_ref(a, (rows, cols_a), true, b, (rows, cols_b), false, None).0)
                {
                    *t += v;
                }
            }
            total
        };
        let want_w = sum_of(&w_uses, (out, inp), false);
        let want_v = sum_of(&v_uses, (k, n), true);
        for round in 1..=3 {
            let mut tape = Tape::new(&gpu);
            if round == 3 {
                // Garbage in U's gradient; the overwriting tape must leave zeros there.
                gpu.copy(&gpu.upload(&[21], &[0.5; 21]).unwrap(), &arena.grad(u_id)).unwrap();
                tape.overwrite_grads(&arena);
            }
            let (w, v) = (tape.param(&arena, w_id), tape.param(&arena, v_id));
            let mut terms = Vec::new();
            for ((x, _), (m, _)) in &w_uses {
                let vx = tape.constant(x.clone());
                let y = tape.linear(&vx, &w, None).unwrap();
                let vm = tape.constant(m.clone());
                let weighted = tape.mul(&y, &vm).unwrap();
                terms.push(tape.sum(&weighted, Axes::all(y.value.len()), 1.0).unwrap());
            }
            for ((u, _), (m, _)) in &v_uses {
                let vu = tape.constant(u.clone());
                let y = tape.matmul(&vu, &v, false, false, None).unwrap();
                let vm = tape.constant(m.clone());
                let weighted = tape.mul(&y, &vm).unwrap();
                terms.push(tape.sum(&weighted, Axes::all(y.value.len()), 1.0).unwrap());
            }
            let mut loss = terms[0].clone();
            for t in &terms[1..] {
                loss = tape.add(&loss, t, 1.0, 1.0).unwrap();
            }
            tape.backward(&loss).unwrap();
            // The second round adds to the first's gradients (the arena is not zeroed in between); the
            // third overwrites them.
            let times = if round == 3 { 1.0 } else { round as f64 };
            let scale = |v: &[f64]| v.iter().map(|x| x * times).collect::<Vec<_>>();
            assert_close(
                &format!("stacked W gradient, round {round}"),
                &download(&gpu, &arena.grad(w_id)),
                &scale(&want_w),
                1e-5,
            );
            assert_close(
                &format!("unstacked V gradient, round {round}"),
                &download(&gpu, &arena.grad(v_id)),
                &scale(&want_v),
                1e-5,
            );
        }
        assert_eq!(
            download(&gpu, &arena.grad(u_id)),
            vec![0.0; 21],
            "an unused parameter's gradient is zeroed"
        );
    }
}
