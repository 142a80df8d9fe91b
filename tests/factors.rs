//! The rendered dataset with known factors and the metrics that use them (mutual information of
//! codes with factors, MIG), against hand-computed cases. No GPU.

use infogan::data::shapes::{self, Shapes, COUNT, FACTORS, HELD_OUT};
use infogan::data::LabelColumn;
use infogan::eval::factors::{bin, entropy, factor_report, mutual_information};

fn pixels(shapes: Shapes, index: usize) -> Vec<u8> {
    let mut out = vec![0; shapes.side * shapes.side];
    shapes.render(index, &mut out);
    out
}

/// The index of a factor combination (shape slowest, y fastest).
fn index(f: [usize; 5]) -> usize {
    FACTORS.iter().zip(f).fold(0, |acc, ((_, n), v)| acc * n + v)
}

/// (lit pixels, centroid x, centroid y).
fn moments(image: &[u8], side: usize) -> (usize, f64, f64) {
    let lit: Vec<(usize, usize)> =
        (0..side * side).filter(|&i| image[i] > 0).map(|i| (i % side, i / side)).collect();
    let n = lit.len().max(1) as f64;
    (
        lit.len(),
        lit.iter().map(|p| p.0 as f64).sum::<f64>() / n,
        lit.iter().map(|p| p.1 as f64).sum::<f64>() / n,
    )
}

#[test]
fn factors_enumerate_every_combination_once() {
    assert_eq!(COUNT, 737_280);
    assert_eq!(FACTORS.iter().map(|(_, n)| n).product::<usize>(), COUNT);
    for f in [[0, 0, 0, 0, 0], [2, 5, 39, 31, 31], [1, 3, 17, 4, 29]] {
        assert_eq!(Shapes::factors(index(f)), f);
    }
    let held = Shapes::held_out();
    assert_eq!(held.len(), HELD_OUT);
    assert!(
        held.windows(2).all(|w| w[0] < w[1]) && *held.last().unwrap() < COUNT,
        "sorted, distinct, in range"
    );
    assert_eq!(held, Shapes::held_out(), "the same subset every time");
    // Every shape and position is represented in the held-out subset.
    let columns = shapes::factor_columns(&held);
    for (column, (_, n)) in columns.iter().zip(FACTORS) {
        assert!(
            (0..n as u32).all(|v| column.values.contains(&v)) || n > 20,
            "{} covers its values",
            column.name
        );
    }
}

#[test]
fn renderings_follow_their_factors() {
    for side in [32, 64] {
        let s = Shapes { side };
        // Binary, deterministic, inside the frame (the border rows and columns are empty).
        let image = pixels(s, index([2, 5, 7, 0, 31]));
        assert!(image.iter().all(|&p| p == 0 || p == 255));
        assert_eq!(image, pixels(s, index([2, 5, 7, 0, 31])));
        for extreme in [[0, 5, 5, 0, 0], [1, 5, 10, 31, 31], [2, 5, 20, 0, 31]] {
            let im = pixels(s, index(extreme));
            let border =
                (0..side).flat_map(|i| [i, (side - 1) * side + i, i * side, i * side + side - 1]);
            assert!(
                border.map(|i| im[i]).all(|p| p == 0),
                "side {side}, factors {extreme:?}: the shape leaves the frame"
            );
        }
        // Larger scales light more pixels; x and y move the centroid right and down.
        let area = |scale| moments(&pixels(s, index([0, scale, 0, 16, 16])), side).0;
        assert!(
            area(0) < area(3) && area(3) < area(5),
            "side {side}: areas {} {} {}",
            area(0),
            area(3),
            area(5)
        );
        let (_, x0, y0) = moments(&pixels(s, index([1, 3, 0, 2, 20])), side);
        let (_, x1, y1) = moments(&pixels(s, index([1, 3, 0, 29, 20])), side);
        assert!(
            x1 > x0 + side as f64 * 0.4 && (y1 - y0).abs() < 1.0,
            "side {side}: x moves the shape right"
        );
        let (_, _, ya) = moments(&pixels(s, index([1, 3, 0, 16, 3])), side);
        let (_, _, yb) = moments(&pixels(s, index([1, 3, 0, 16, 28])), side);
        assert!(yb > ya + side as f64 * 0.4, "side {side}: y moves the shape down");
    }
    // At 64x64 the three shapes differ, and rotation changes an ellipse and a heart.
    let s = Shapes { side: 64 };
    let shapes: Vec<Vec<u8>> =
        (0..3).map(|shape| pixels(s, index([shape, 5, 3, 16, 16]))).collect();
    assert!(shapes[0] != shapes[1] && shapes[1] != shapes[2] && shapes[0] != shapes[2]);
    for shape in [1, 2] {
        assert_ne!(
            pixels(s, index([shape, 5, 0, 16, 16])),
            pixels(s, index([shape, 5, 10, 16, 16])),
            "shape {shape} turns"
        );
    }
    // An ellipse at a quarter turn is its own transpose about the centre (to a pixel or two).
    let (a, b) = (pixels(s, index([1, 5, 0, 16, 16])), pixels(s, index([1, 5, 10, 16, 16])));
    let (wa, ha) = extent(&a, 64);
    let (wb, hb) = extent(&b, 64);
    assert!(
        (wa as i64 - hb as i64).abs() <= 1 && (ha as i64 - wb as i64).abs() <= 1 && wa > ha + 4,
        "ellipse {wa}x{ha} turns to {wb}x{hb}"
    );
}

/// Width and height of the lit pixels' bounding box.
fn extent(image: &[u8], side: usize) -> (usize, usize) {
    let lit: Vec<(usize, usize)> =
        (0..side * side).filter(|&i| image[i] > 0).map(|i| (i % side, i / side)).collect();
    let (x0, x1) = (lit.iter().map(|p| p.0).min().unwrap(), lit.iter().map(|p| p.0).max().unwrap());
    let (y0, y1) = (lit.iter().map(|p| p.1).min().unwrap(), lit.iter().map(|p| p.1).max().unwrap());
    (x1 - x0 + 1, y1 - y0 + 1)
}

#[test]
fn information_and_entropy_match_hand_computation() {
    // Two fair coins, identical: I = H = ln 2. Independent (all four pairs equally often): I = 0.
    let a = [0, 1, 0, 1, 0, 1, 0, 1];
    assert!((entropy(&a, 2) - 2f64.ln()).abs() < 1e-12);
    assert!((mutual_information(&a, 2, &a, 2) - 2f64.ln()).abs() < 1e-12);
    assert!(mutual_information(&a, 2, &[0, 0, 1, 1, 0, 0, 1, 1], 2).abs() < 1e-12);
    // b = a for a in {0, 1}, b = 1 for a = 2 (a uniform over 3): I = H(b) = H(1/3, 2/3).
    let (a, b) = ([0, 1, 2, 0, 1, 2], [0, 1, 1, 0, 1, 1]);
    let h_b = -(1.0 / 3.0f64) * (1.0 / 3.0f64).ln() - (2.0 / 3.0f64) * (2.0 / 3.0f64).ln();
    assert!((mutual_information(&a, 3, &b, 2) - h_b).abs() < 1e-12);
    // Equal-width bins over the range, the maximum in the last bin.
    assert_eq!(bin(&[0.0, 0.49, 0.5, 1.0], 2), vec![0, 0, 1, 1]);
    assert_eq!(bin(&[3.0, 3.0], 20), vec![0, 0]);
}

#[test]
fn mig_rewards_one_code_per_factor() {
    // Two factors with 4 values each, 64 images covering every pair.
    let (f1, f2): (Vec<u32>, Vec<u32>) =
        (0..64).map(|i| ((i / 4 % 4) as u32, (i % 4) as u32)).unzip();
    let labels =
        vec![LabelColumn::numbered("a", 4, f1.clone()), LabelColumn::numbered("b", 4, f2.clone())];
    // Disentangled: z0 = factor a, z1 = factor b (continuous, any monotone map).
    let z0: Vec<f32> = f1.iter().map(|&v| v as f32 * 0.7 - 1.0).collect();
    let z1: Vec<f32> = f2.iter().map(|&v| (v as f32).exp()).collect();
    let good = factor_report(&[], &[z0.clone(), z1.clone()], &labels);
    assert!((good.mig - 1.0).abs() < 1e-9, "one code per factor: MIG 1, got {}", good.mig);
    assert!((good.mi[0][0] - 4f64.ln()).abs() < 1e-9 && good.mi[0][1].abs() < 1e-9);
    // Entangled: both codes carry factor a; factor b is in none of them.
    let bad = factor_report(&[], &[z0.clone(), z0], &labels);
    assert!(bad.mig.abs() < 1e-9, "two codes share a factor: MIG 0, got {}", bad.mig);
    // A categorical code (argmax) that is factor b, beside z0 = factor a.
    let cat: Vec<usize> = f2.iter().map(|&v| v as usize).collect();
    let mixed = factor_report(&[(cat, 4)], &[z0_of(&f1)], &labels);
    assert_eq!(mixed.codes, vec!["c0", "z0"]);
    assert!((mixed.mig - 1.0).abs() < 1e-9);
}

fn z0_of(f: &[u32]) -> Vec<f32> {
    f.iter().map(|&v| v as f32).collect()
}
