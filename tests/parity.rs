//! Parity with PyTorch: one full D+G step of a narrow copy of the networks on fixed weights,
//! digits and latents, against `tests/data/parity_golden.safetensors` (made by
//! `scripts/parity_golden.py` in float64). Losses, every gradient, the updated parameters and the
//! batch-norm running statistics must match within f32 tolerance, for both wirings.

mod common;
use std::collections::HashMap;

use common::*;
use infogan::data;
use infogan::infogan::config::{TrainConfig, Wiring};
use infogan::infogan::latent::{LatentBatch, LatentSpec};
use infogan::infogan::train::Trainer;

const GOLDEN: &[u8] = include_bytes!("data/parity_golden.safetensors");

fn golden() -> HashMap<String, Vec<f64>> {
    let file = safetensors::SafeTensors::deserialize(GOLDEN).expect("golden file");
    file.tensors().into_iter().map(|(name, view)| (name, view.data().chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect())).collect()
}

fn get<'a>(g: &'a HashMap<String, Vec<f64>>, key: &str) -> &'a [f64] {
    g.get(key).unwrap_or_else(|| panic!("golden file lacks {key}"))
}

fn latents(g: &HashMap<String, Vec<f64>>, tag: &str, phase: &str) -> LatentBatch {
    LatentBatch {
        z: to_f32(get(g, &format!("{tag}/z_{phase}"))),
        categories: vec![to_f32(get(g, &format!("{tag}/cat_{phase}")))],
        continuous: to_f32(get(g, &format!("{tag}/cont_{phase}"))),
    }
}

fn check_case(tag: &str, learned_std: bool, wiring: Wiring) {
    let g = golden();
    let gpu = gpu();
    let mut config = TrainConfig::paper(6, 0);
    config.latent = LatentSpec { noise: 5, categorical: vec![4], continuous: 2 };
    config.set_widths(&[16, 8, 4, 8]).unwrap();
    config.learned_std = learned_std;
    config.wiring = wiring;
    let split = data::embedded_mnist().unwrap();
    let mut trainer = Trainer::new(&gpu, config, &split.train.slice(0, 8, "unused")).unwrap();
    // PyTorch's initial state into our arenas and running statistics.
    for arena in trainer.model.arenas() {
        let mut values = vec![0.0; arena.values.len()];
        for slot in &arena.layout.slots {
            let init = get(&g, &format!("{tag}/init/{}", slot.name));
            assert_eq!(init.len(), slot.len(), "{}", slot.name);
            values[slot.offset..slot.offset + slot.len()].copy_from_slice(&to_f32(init));
        }
        gpu.write(&arena.values, &values).unwrap();
        // Stale gradients (as a previous step leaves them): the step must not add to them.
        gpu.write(&arena.grads, &vec![123.0; values.len()]).unwrap();
    }
    for (name, bn) in trainer.model.batch_norms() {
        let mut running = to_f32(get(&g, &format!("{tag}/init/{name}.running_mean")));
        running.extend(to_f32(get(&g, &format!("{tag}/init/{name}.running_var"))));
        gpu.write(&bn.running, &running).unwrap();
    }
    let real = to_f32(get(&g, &format!("{tag}/real")));
    let m = trainer.step_with(&real, &latents(&g, tag, "d"), &latents(&g, tag, "g"), true).unwrap().unwrap();

    let scalar = |key: &str| get(&g, &format!("{tag}/scalar/{key}"))[0];
    let ours = [m.loss_d, m.loss_g, m.bce_real, m.bce_fake, 4f64.ln() - m.l_i_cat, 2.0 * 2f64.ln() - m.l_i_cont];
    let theirs = ["loss_d", "loss_g", "bce_real", "bce_fake", "ce_g", "nll_g"].map(scalar);
    assert_close(&format!("{tag} losses"), &ours, &theirs, 1e-5);

    let mut grads_checked = 0;
    for arena in trainer.model.arenas() {
        let (values, grads) = (to_f64(&gpu.download(&arena.values).unwrap()), to_f64(&gpu.download(&arena.grads).unwrap()));
        for slot in &arena.layout.slots {
            let range = slot.offset..slot.offset + slot.len();
            if let Some(want) = g.get(&format!("{tag}/grad/{}", slot.name)) {
                assert_close(&format!("{tag} grad {}", slot.name), &grads[range.clone()], want, 2e-4);
                grads_checked += 1;
            }
            // One Adam step moves each parameter by about lr * sign(grad): compare the moves.
            let (init, after) = (get(&g, &format!("{tag}/init/{}", slot.name)), get(&g, &format!("{tag}/after/{}", slot.name)));
            let moved: Vec<f64> = values[range].iter().zip(init).map(|(v, i)| v - i).collect();
            let want: Vec<f64> = after.iter().zip(init).map(|(a, i)| a - i).collect();
            let worst = moved.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            println!("max-abs-error {tag} update {}: {worst:.3e}", slot.name);
            assert!(worst < 1e-6, "{tag} update of {}: off by {worst:.3e} (lr 2e-4 / 1e-3)", slot.name);
        }
    }
    assert!(grads_checked >= 10, "only {grads_checked} gradients compared");
    for (name, bn) in trainer.model.batch_norms() {
        let mut want = get(&g, &format!("{tag}/after/{name}.running_mean")).to_vec();
        want.extend_from_slice(get(&g, &format!("{tag}/after/{name}.running_var")));
        assert_close(&format!("{tag} running stats {name}"), &to_f64(&gpu.download(&bn.running).unwrap()), &want, 1e-5);
    }
}

#[test]
fn one_step_matches_pytorch_official_wiring_fixed_std() {
    check_case("official", false, Wiring::Official);
}

#[test]
fn one_step_matches_pytorch_q_with_g_learned_std() {
    check_case("qwithg", true, Wiring::QWithG);
}
