//! The two phases of an InfoGAN step, as functions of the networks they read and step, so that
//! the trainer and the bound probes (`probe`) run the same code on different arenas.
//!
//! D/Q phase: BCE(D(x), 1) + BCE(D(G(z,c)), 0), plus (when Q is stepped here) lambda * (the
//! cross-entropy of Q's categorical outputs + the Gaussian NLL of its continuous ones), with G's
//! output detached; steps D's arena (and Q's). G phase: the non-saturating BCE(D(G(z,c)), 1) +
//! the same MI terms on fresh latents, with D's parameters frozen; steps G's arena (and Q's with
//! the Q-with-G wiring).

use crate::error::Result;
use crate::gpu::{Gpu, Tensor};
use crate::model::config::TrainConfig;
use crate::model::latent::LatentBatch;
use crate::model::networks::{Discriminator, Generator, QOutput, Recognizer};
use crate::nn::layers::BnMode;
use crate::ops::adam::AdamConfig;
use crate::ops::reduce::Axes;
use crate::tape::{Tape, Var};

/// One batch of latents on the GPU: z [B, width], each categorical code's categories [B], the
/// continuous codes [B, codes].
pub struct Latents {
    pub z: Tensor,
    pub cats: Vec<Tensor>,
    pub cont: Option<Tensor>,
}

impl Latents {
    pub fn upload(gpu: &Gpu, config: &TrainConfig, latents: &LatentBatch) -> Result<Latents> {
        let b = latents.z.len() / config.latent.width();
        let spec = &config.latent;
        Ok(Latents {
            z: gpu.upload(&[b, spec.width()], &latents.z)?,
            cats: latents
                .categories
                .iter()
                .map(|c| gpu.upload(&[b], c))
                .collect::<Result<Vec<_>>>()?,
            cont: (spec.continuous > 0)
                .then(|| gpu.upload(&[b, spec.continuous], &latents.continuous))
                .transpose()?,
        })
    }
}

/// The scalars of one phase, still on the GPU.
pub struct PhaseScalars {
    pub loss: Var,
    /// D/Q phase: [BCE on real, BCE on fake]; G phase: [BCE of the fakes against "real"].
    pub bce: Vec<Var>,
    /// Cross-entropy of each categorical code (empty when Q is not in the phase).
    pub ce: Vec<Var>,
    /// The continuous codes' NLL summed over codes, mean over rows.
    pub nll: Option<Var>,
    /// D's logits, in the order of `bce`.
    pub logits: Vec<Var>,
    pub logstd: Option<Var>,
}

/// The constant targets of the BCE losses at one batch size.
pub struct Targets {
    pub ones: Tensor,
    pub zeros: Tensor,
}

impl Targets {
    pub fn new(gpu: &Gpu, batch: usize) -> Result<Targets> {
        Ok(Targets {
            ones: crate::ops::elementwise::full(gpu, &[batch, 1], 1.0)?,
            zeros: crate::ops::elementwise::full(gpu, &[batch, 1], 0.0)?,
        })
    }
}

/// What every phase of a step reads and never changes.
#[derive(Clone, Copy)]
pub struct StepContext<'a> {
    pub gpu: &'a Gpu,
    pub config: &'a TrainConfig,
    pub targets: &'a Targets,
}

/// The discriminator and recogniser a D/Q phase trains (the training pair, or a probe's).
pub struct Critics<'a> {
    pub d: &'a mut Discriminator,
    pub q: &'a mut Recognizer,
}

/// What a D/Q phase does beyond the networks it is given.
#[derive(Clone, Copy, Debug)]
pub struct DPhase {
    /// Q is trained here (the official wiring, and every probe).
    pub with_q: bool,
    /// How G's batch norm runs while making the fakes: `Train` in training (as the official
    /// code, its running statistics move), `BatchStats` in probes (G stays as it was).
    pub g_mode: BnMode,
    pub lr: f32,
}

/// D (and Q) on real images and G's detached fakes; one Adam step of D's arena (and Q's).
pub fn d_phase(
    ctx: StepContext,
    g: &Generator,
    Critics { d, q }: Critics,
    real: Tensor,
    latents: &Latents,
    phase: DPhase,
) -> Result<PhaseScalars> {
    let StepContext { gpu, config, targets } = ctx;
    let mut tape = Tape::new(gpu);
    tape.overwrite_grads(&d.arena);
    tape.freeze(&g.arena);
    if phase.with_q {
        tape.overwrite_grads(&q.arena);
    } else {
        tape.freeze(&q.arena);
    }
    let vz = tape.constant(latents.z.clone());
    let fake = g.forward(&mut tape, &vz, phase.g_mode)?;
    let fake = tape.detach(&fake);
    let vreal = tape.constant(real);
    let feats_real = d.body(&mut tape, &vreal, BnMode::Train)?;
    let logit_real = d.head(&mut tape, &feats_real, BnMode::Train)?;
    let feats_fake = d.body(&mut tape, &fake, BnMode::Train)?;
    let logit_fake = d.head(&mut tape, &feats_fake, BnMode::Train)?;
    let bce_real = tape.bce_logits(&logit_real, &targets.ones)?;
    let bce_real = tape.mean(&bce_real)?;
    let bce_fake = tape.bce_logits(&logit_fake, &targets.zeros)?;
    let bce_fake = tape.mean(&bce_fake)?;
    let mut loss = tape.add(&bce_real, &bce_fake, 1.0, 1.0)?;
    let (mut ce, mut nll) = (Vec::new(), None);
    if phase.with_q {
        let out = q.forward(&mut tape, &feats_fake, BnMode::Train)?;
        let (mi, ce_d, nll_d) = mutual_information_terms(
            config,
            &mut tape,
            &out,
            &latents.cats,
            latents.cont.as_ref(),
        )?;
        if let Some(mi) = mi {
            loss = tape.add(&loss, &mi, 1.0, 1.0)?;
        }
        (ce, nll) = (ce_d, nll_d);
    }
    tape.backward(&loss)?;
    d.arena.adam_step(gpu, AdamConfig::infogan(phase.lr))?;
    if phase.with_q {
        q.arena.adam_step(gpu, AdamConfig::infogan(phase.lr))?;
    }
    Ok(PhaseScalars {
        loss,
        bce: vec![bce_real, bce_fake],
        ce,
        nll,
        logits: vec![logit_real, logit_fake],
        logstd: None,
    })
}

/// G (and, with `step_q`, Q) on fresh latents; D's parameters frozen. One Adam step of G's arena
/// (and Q's) at G's learning rate.
pub fn g_phase(
    ctx: StepContext,
    g: &mut Generator,
    d: &Discriminator,
    q: &mut Recognizer,
    latents: &Latents,
    step_q: bool,
) -> Result<PhaseScalars> {
    let StepContext { gpu, config, targets } = ctx;
    let mut tape = Tape::new(gpu);
    tape.overwrite_grads(&g.arena);
    tape.freeze(&d.arena);
    if step_q {
        tape.overwrite_grads(&q.arena);
    } else {
        tape.freeze(&q.arena);
    }
    let vz = tape.constant(latents.z.clone());
    let fake = g.forward(&mut tape, &vz, BnMode::Train)?;
    let feats = d.body(&mut tape, &fake, BnMode::Train)?;
    let logit = d.head(&mut tape, &feats, BnMode::Train)?;
    let bce = tape.bce_logits(&logit, &targets.ones)?;
    let bce = tape.mean(&bce)?;
    let out = q.forward(&mut tape, &feats, BnMode::Train)?;
    let (mi, ce, nll) =
        mutual_information_terms(config, &mut tape, &out, &latents.cats, latents.cont.as_ref())?;
    let loss = match mi {
        Some(mi) => tape.add(&bce, &mi, 1.0, 1.0)?,
        None => bce.clone(),
    };
    tape.backward(&loss)?;
    g.arena.adam_step(gpu, AdamConfig::infogan(config.optimiser.lr_g))?;
    if step_q {
        q.arena.adam_step(gpu, AdamConfig::infogan(config.optimiser.lr_g))?;
    }
    Ok(PhaseScalars { loss, bce: vec![bce], ce, nll, logits: vec![logit], logstd: out.cont_logstd })
}

/// lambda_cat * the sum of the categorical codes' mean cross-entropies + lambda_cont * the
/// continuous codes' NLL (summed over codes, mean over rows); and the terms, for the logs.
fn mutual_information_terms(
    config: &TrainConfig,
    tape: &mut Tape,
    q: &QOutput,
    cats: &[Tensor],
    cont: Option<&Tensor>,
) -> Result<(Option<Var>, Vec<Var>, Option<Var>)> {
    let mut total: Option<Var> = None;
    let mut ces = Vec::new();
    for (logits, labels) in q.cat_logits.iter().zip(cats) {
        let rows = tape.softmax_xent(logits, labels)?;
        let ce = tape.mean(&rows)?;
        total = Some(match total {
            Some(t) => tape.add(&t, &ce, 1.0, config.optimiser.lambda_cat)?,
            None => tape.add(&ce, &ce, config.optimiser.lambda_cat, 0.0)?,
        });
        ces.push(ce);
    }
    let mut nll_out = None;
    if let (Some(mean), Some(target)) = (&q.cont_mean, cont) {
        let nll = match &q.cont_logstd {
            Some(logstd) => tape.gauss_nll_learned(mean, logstd, target)?,
            None => tape.gauss_nll(mean, target, 1.0)?,
        };
        let rows = mean.shape()[0];
        let nll = tape.sum(&nll, Axes::all(nll.value.len()), 1.0 / rows as f32)?;
        total = Some(match total {
            Some(t) => tape.add(&t, &nll, 1.0, config.optimiser.lambda_cont)?,
            None => tape.add(&nll, &nll, config.optimiser.lambda_cont, 0.0)?,
        });
        nll_out = Some(nll);
    }
    Ok((total, ces, nll_out))
}
