//! matmul against the f64 reference: every transpose form, bias, accumulation, both variants,
//! sizes that are not multiples of any tile (and multiples of 4, which take the vec4 path).

mod common;
use common::*;
use infogan::ops::matmul::{gemm_into, Gemm};

const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 3, 17),
    (3, 17, 129),
    (129, 3, 17),
    (17, 129, 3),
    (65, 66, 67),
    (4, 8, 12),
    (68, 132, 260),
    (64, 72, 128),
    (100, 36, 40),
    (36, 260, 8),
    (130, 196, 12),
    // A small C with a long K: split into K ranges summed afterwards (2 and 4 splits, the last
    // range off a multiple of 4), unless there is a bias.
    (5, 7, 1037),
    (64, 16, 2052),
    // Narrow C: the small tile walks row blocks along x (the lanes on llvmpipe), with and
    // without vec4 loads, with ragged row and column blocks.
    (203, 13, 36),
    (97, 5, 19),
];

#[test]
fn long_thin_products_split_k() {
    for variant in [infogan::Variant::RegisterTile, infogan::Variant::SubgroupTile] {
        let splits = |m, n, k, bias| {
            infogan::ops::matmul_tiles::k_splits_of(variant, m, n, k, true, false, bias)
        };
        assert_eq!((splits(5, 7, 1037, false), splits(64, 16, 2052, false)), (2, 4), "{variant:?}");
        assert_eq!(splits(64, 16, 2052, true), 1, "{variant:?}: a bias is added once, so no split");
        assert_eq!(
            splits(64, 16, 12544, false),
            16,
            "{variant:?}: D's first conv weight gradient at batch 64"
        );
    }
    // The workgroup tile aims at 512 workgroups in ranges of at least 64.
    let splits = |m, n, k, bias| {
        infogan::ops::matmul_tiles::k_splits_of(
            infogan::Variant::WorkgroupTile,
            m,
            n,
            k,
            false,
            true,
            bias,
        )
    };
    assert_eq!((splits(5, 7, 1037, false), splits(64, 16, 2052, false)), (16, 32));
    assert_eq!(
        splits(64, 1024, 6272, false),
        32,
        "D's FC forward at batch 64: 16 tiles of C, 32 ranges of K"
    );
    assert_eq!(splits(64, 1024, 6272, true), 1, "a bias is added once");
    assert_eq!(splits(1024, 6272, 64, false), 1, "the FC weight gradient has workgroups enough");
}

#[test]
fn narrow_products_walk_rows_along_lanes() {
    for variant in [infogan::Variant::RegisterTile, infogan::Variant::SubgroupTile] {
        let along =
            |m, n, k| infogan::ops::matmul_tiles::rows_along_x_of(variant, m, n, k, false, false);
        assert!(
            along(203, 13, 36) && along(97, 5, 19) && along(64, 16, 2052),
            "{variant:?}: narrow test shapes"
        );
        assert!(along(12544, 16, 64), "{variant:?}: G's last transposed conv at batch 64");
        assert!(
            !along(65, 66, 67) && !along(5, 7, 1037),
            "{variant:?}: wide enough, or as few row blocks as column blocks"
        );
        assert!(!infogan::ops::matmul_tiles::rows_along_x_of(
            infogan::Variant::WorkgroupTile,
            203,
            13,
            36,
            false,
            false
        ));
    }
}

#[test]
fn test_shapes_reach_every_entry_point() {
    let mut seen = std::collections::BTreeSet::new();
    let (mut transposed_in_blocks, mut transposed_per_element) = (false, false);
    for variant in infogan::Variant::ALL {
        for &(m, n, k) in SHAPES {
            for ta in [false, true] {
                for tb in [false, true] {
                    let choice = infogan::ops::matmul_tiles::select(variant, m, n, k, ta, tb);
                    seen.insert(choice.kernel.label(choice.defines()));
                    // The launcher transposes A^T [k, m] first for entry points without A^T,
                    // by 4x4 blocks (conv's swap) where both sides allow it.
                    if choice.transpose_a_first && infogan::ops::layout::transposes_in_blocks(k, m)
                    {
                        transposed_in_blocks = true;
                    } else if choice.transpose_a_first {
                        transposed_per_element = true;
                    }
                }
            }
        }
    }
    let all: usize = infogan::ops::matmul_tiles::kernels().iter().map(|(_, d)| d.len()).sum();
    assert_eq!(seen.len(), all, "instantiations reached: {seen:?}");
    assert!(transposed_in_blocks, "no test shape transposes A^T by 4x4 blocks");
    assert!(transposed_per_element, "no test shape transposes A^T one element at a time");
}

#[test]
fn matmul_matches_reference_for_every_form_and_variant() {
    let mut r = rng(1);
    for gpu in gpus() {
        let mut worst = 0.0f64;
        for &(m, n, k) in SHAPES {
            for ta in [false, true] {
                for tb in [false, true] {
                    let (sa, sb) =
                        (if ta { [k, m] } else { [m, k] }, if tb { [n, k] } else { [k, n] });
                    let (a, a64) = upload(&gpu, &sa, &uniform(&mut r, m * k, -1.0, 1.0));
                    let (b, b64) = upload(&gpu, &sb, &uniform(&mut r, k * n, -1.0, 1.0));
                    let (bias, bias64) = upload(&gpu, &[n], &uniform(&mut r, n, -1.0, 1.0));
                    let (c_old, c_old64) =
                        upload(&gpu, &[m, n], &uniform(&mut r, m * n, -1.0, 1.0));
                    for with_bias in [false, true] {
                        for acc in [0.0f32, 1.0, 0.5] {
                            let c = gpu.empty(&[m, n]);
                            gpu.copy(&c_old, &c).unwrap();
                            let g = Gemm { trans_a: ta, trans_b: tb, alpha: 0.75, acc };
                            gemm_into(&gpu, &a, &b, with_bias.then_some(&bias), &c, g).unwrap();
                            let (want, _, _) = matmul_ref(
                                &a64,
                                (sa[0], sa[1]),
                                ta,
                                &b64,
                                (sb[0], sb[1]),
                                tb,
                                None,
                            );
                            let want: Vec<f64> = want
                                .iter()
                                .enumerate()
                                .map(|(i, v)| {
                                    0.75 * v
                                        + if with_bias { bias64[i % n] } else { 0.0 }
                                        + f64::from(acc) * c_old64[i]
                                })
                                .collect();
                            let got = download(&gpu, &c);
                            let err = rel_error(&got, &want);
                            assert!(
                                err < 1e-5 * (k as f64).sqrt().max(1.0),
                                "{:?} m{m} n{n} k{k} ta{ta} tb{tb} bias{with_bias} acc{acc}: error {err:.2e}",
                                gpu.variant
                            );
                            worst = worst.max(err);
                        }
                    }
                }
            }
        }
        println!("max-rel-error matmul {:?}: {worst:.3e}", gpu.variant);
    }
}

#[test]
fn matmul_rejects_mismatched_shapes() {
    for gpu in backends() {
        let a = gpu.empty(&[3, 4]);
        let b = gpu.empty(&[5, 6]);
        let c = gpu.empty(&[3, 6]);
        let err = gemm_into(&gpu, &a, &b, None, &c, Gemm::new(false, false)).unwrap_err();
        assert!(err.message().contains("inner dimensions"), "{err}");
    }
}

/// A' [M, K] read from blocked storage [M / rows, K, rows] (an NCHW map as a conv product's rows)
/// against the reference on the unpacked matrix, on every variant whose entry point takes it.
#[test]
fn blocked_a_transpose_reads_nchw_maps_as_rows() {
    use infogan::ops::matmul::{gemm_blocked_at_into, reads_blocked_at};
    let mut r = rng(7);
    // (rows per block, blocks, K, N): vec4 loads (rows % 4 == 0 with N % 4 == 0), scalar ones,
    // one block, and the thin conv's N = 16.
    let cases = [(12, 3, 5, 8), (8, 5, 12, 16), (7, 3, 9, 5), (20, 1, 6, 3), (196, 2, 64, 16)];
    let mut covered = 0;
    for gpu in gpus() {
        for &(rows, blocks, k, n) in &cases {
            let m = rows * blocks;
            for tb in [false, true] {
                if !reads_blocked_at(gpu.variant, m, n, k, tb) {
                    continue;
                }
                covered += 1;
                let stored = uniform(&mut r, m * k, -1.0, 1.0);
                let (a, stored) = upload(&gpu, &[blocks, k, rows], &stored);
                // Unpack: A'[blk * rows + i, kk] = stored[blk, kk, i].
                let mut unpacked = vec![0.0; m * k];
                for blk in 0..blocks {
                    for kk in 0..k {
                        for i in 0..rows {
                            unpacked[(blk * rows + i) * k + kk] = stored[(blk * k + kk) * rows + i];
                        }
                    }
                }
                let sb = if tb { [n, k] } else { [k, n] };
                let (b, b64) = upload(&gpu, &sb, &uniform(&mut r, k * n, -1.0, 1.0));
                let (c_old, c_old64) = upload(&gpu, &[m, n], &uniform(&mut r, m * n, -1.0, 1.0));
                for acc in [0.0f32, 1.0] {
                    let c = gpu.empty(&[m, n]);
                    gpu.copy(&c_old, &c).unwrap();
                    let g = Gemm { trans_a: false, trans_b: tb, alpha: 0.75, acc };
                    gemm_blocked_at_into(&gpu, &a, rows, &b, &c, g).unwrap();
                    let (want, _, _) =
                        matmul_ref(&unpacked, (m, k), false, &b64, (sb[0], sb[1]), tb, None);
                    let want: Vec<f64> = want
                        .iter()
                        .zip(&c_old64)
                        .map(|(v, o)| 0.75 * v + f64::from(acc) * o)
                        .collect();
                    let err = rel_error(&download(&gpu, &c), &want);
                    assert!(
                        err < 1e-5 * (k as f64).sqrt(),
                        "{:?} rows{rows} blocks{blocks} k{k} n{n} tb{tb} acc{acc}: error {err:.2e}",
                        gpu.variant
                    );
                }
            }
        }
    }
    assert!(covered >= cases.len() * 2, "blocked A^T ran on {covered} cases");
    for gpu in backends() {
        let (a, _) = upload(&gpu, &[2, 4, 6], &uniform(&mut r, 48, -1.0, 1.0));
        let (b, _) = upload(&gpu, &[4, 3], &uniform(&mut r, 12, -1.0, 1.0));
        let err =
            gemm_blocked_at_into(&gpu, &a, 5, &b, &gpu.empty(&[12, 3]), Gemm::new(false, false))
                .unwrap_err();
        assert!(err.message().contains("blocks of 5 rows"), "{err}");
    }
}
