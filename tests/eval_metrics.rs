//! The evaluation metrics against hand-computed cases, and the Hungarian method against brute
//! force on random tables.

mod common;
use common::rng;
use infogan::eval::confusion::{min_cost_assignment, Confusion};
use infogan::eval::evaluate::EvalReport;
use rand::RngExt;

#[test]
fn confusion_counts_and_rejects_bad_input() {
    let c = Confusion::new(&[0, 0, 1, 1, 2, 2], &[1, 1, 0, 0, 0, 2], 3, 3).unwrap();
    assert_eq!(c.counts, vec![0, 2, 0, 2, 0, 0, 1, 0, 1]);
    assert_eq!(c.total(), 6);
    assert!(Confusion::new(&[0, 3], &[0, 0], 3, 3).is_err());
    assert!(Confusion::new(&[0], &[0, 0], 3, 3).is_err());
}

#[test]
fn one_to_one_and_many_to_one_differ_where_they_should() {
    // Category 0 holds three 5s; category 1 two 5s and one 3.
    let c = Confusion::new(&[0, 0, 0, 1, 1, 1], &[5, 5, 5, 5, 5, 3], 2, 10).unwrap();
    let (majority_map, majority) = c.majority();
    assert_eq!(majority_map, vec![Some(5), Some(5)]);
    assert!((majority - 5.0 / 6.0).abs() < 1e-12);
    let (hungarian_map, hungarian) = c.hungarian();
    assert_eq!(hungarian_map, vec![Some(5), Some(3)]);
    assert!((hungarian - 4.0 / 6.0).abs() < 1e-12);
    // More categories than labels: one category stays unmatched.
    let c = Confusion::new(&[0, 1, 2, 2], &[0, 1, 1, 1], 3, 2).unwrap();
    let (map, acc) = c.hungarian();
    assert_eq!(map, vec![Some(0), None, Some(1)]);
    assert!((acc - 3.0 / 4.0).abs() < 1e-12);
}

#[test]
fn nmi_matches_hand_computation() {
    // Relabelled perfect clustering: 1. Independent: 0.
    let perfect = Confusion::new(&[2, 2, 0, 1], &[0, 0, 1, 2], 3, 3).unwrap();
    assert!((perfect.nmi() - 1.0).abs() < 1e-12);
    let independent = Confusion::new(&[0, 1, 0, 1], &[0, 0, 1, 1], 2, 2).unwrap();
    assert!(independent.nmi().abs() < 1e-12);
    // p = [0,0,1,1], l = [0,0,0,1]: I = .5 ln(4/3) + .25 ln(2/3) + .25 ln 2,
    // H(p) = ln 2, H(l) = -(.75 ln .75 + .25 ln .25); NMI = I / mean(H) = 0.343711.
    let c = Confusion::new(&[0, 0, 1, 1], &[0, 0, 0, 1], 2, 2).unwrap();
    assert!((c.nmi() - 0.343_711_018_5).abs() < 1e-9, "{}", c.nmi());
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..n {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn hungarian_finds_the_brute_force_optimum() {
    let mut r = rng(5);
    for n in 1..=6 {
        for _ in 0..20 {
            let cost: Vec<i64> = (0..n * n).map(|_| r.random_range(0..20)).collect();
            let assignment = min_cost_assignment(n, |i, j| cost[i * n + j]);
            let mut seen = assignment.clone();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "a permutation");
            let got: i64 = assignment.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum();
            let best = permutations(n)
                .iter()
                .map(|p| p.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum::<i64>())
                .min()
                .unwrap();
            assert_eq!(got, best, "n {n} cost {cost:?}");
        }
    }
}

#[test]
fn report_json_and_table_carry_the_numbers() {
    let r = EvalReport::from_predictions("eval", &[0, 0, 1, 1], &[7, 7, 2, 2], 2).unwrap();
    assert_eq!((r.hungarian, r.majority, r.images), (1.0, 1.0, 4));
    let json: serde_json::Value = r.json();
    assert_eq!(json["mapping_hungarian"], serde_json::json!([7, 2]));
    assert_eq!(json["confusion"][0][7], 2);
    assert!(r.table().contains("0 ->     7"), "{}", r.table());
}
