//! The three networks of a run, built from its description (`NetworkSpec`): G; D, a body shared
//! with Q and a real/fake head; and Q's head on the body's features, which ends in one Linear
//! layer per code group (the logits of each categorical code; the means, and log-stds when
//! learned, of the continuous codes). Each network has its own arena, so either wiring (Q
//! stepped with D or with G) is a choice of which arenas a phase steps.

use crate::arena::{Arena, ArenaLayout};
use crate::ensure;
use crate::error::Result;
use crate::gpu::Gpu;
use crate::model::architectures::NetworkSpec;
use crate::model::config::TrainConfig;
use crate::model::latent::{GridRequest, LatentSpec};
use crate::nn::layers::{BatchNorm, BnMode, Linear};
use crate::nn::network::Stack;
use crate::tape::{Tape, Var};

pub struct Generator {
    pub arena: Arena,
    stack: Stack,
}

/// Q's outputs for one batch.
pub struct QOutput {
    pub cat_logits: Vec<Var>,
    pub cont_mean: Option<Var>,
    pub cont_logstd: Option<Var>,
}

/// D's body (shared with Q) and real/fake head, in one arena.
pub struct Discriminator {
    pub arena: Arena,
    body: Stack,
    head: Stack,
}

/// Q's head on D's body features: hidden layers, then one Linear per code group.
pub struct Recognizer {
    pub arena: Arena,
    hidden: Stack,
    cat: Vec<Linear>,
    mean: Option<Linear>,
    logstd: Option<Linear>,
}

impl Generator {
    pub fn new(
        gpu: &Gpu,
        spec: &NetworkSpec,
        latent: &LatentSpec,
        leak: f32,
        seed: u64,
    ) -> Result<Generator> {
        let mut l = ArenaLayout::default();
        let stack = Stack::build(gpu, &mut l, "g", &spec.generator, &[latent.width()], leak)?;
        ensure!(
            stack.output_shape() == spec.image,
            "the generator makes {:?} images, the network's input is {:?}",
            stack.output_shape(),
            spec.image
        );
        Ok(Generator { arena: Arena::new(gpu, "G", l, seed)?, stack })
    }

    /// Images [B, C, H, W] from latents [B, width].
    pub fn forward(&self, tape: &mut Tape, z: &Var, mode: BnMode) -> Result<Var> {
        self.stack.forward(tape, &self.arena, z, mode)
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }
}

impl Discriminator {
    pub fn new(gpu: &Gpu, spec: &NetworkSpec, leak: f32, seed: u64) -> Result<Discriminator> {
        let mut l = ArenaLayout::default();
        let body = Stack::build(gpu, &mut l, "d", &spec.body, &spec.image, leak)?;
        ensure!(
            body.output_shape().len() == 1,
            "D's body must end in flat features, not {:?}; end it with a reshape",
            body.output_shape()
        );
        let head = Stack::build(gpu, &mut l, "d", &spec.d_head, body.output_shape(), leak)?;
        ensure!(
            head.output_shape() == [1],
            "D's head must end in one logit, not {:?}",
            head.output_shape()
        );
        Ok(Discriminator { arena: Arena::new(gpu, "D", l, seed)?, body, head })
    }

    /// Shared features [B, F] of images [B, C, H, W].
    pub fn body(&self, tape: &mut Tape, x: &Var, mode: BnMode) -> Result<Var> {
        self.body.forward(tape, &self.arena, x, mode)
    }

    /// Real/fake logits [B, 1].
    pub fn head(&self, tape: &mut Tape, features: &Var, mode: BnMode) -> Result<Var> {
        self.head.forward(tape, &self.arena, features, mode)
    }

    pub fn stacks(&self) -> [&Stack; 2] {
        [&self.body, &self.head]
    }
}

impl Recognizer {
    pub fn new(
        gpu: &Gpu,
        spec: &NetworkSpec,
        features: usize,
        latent: &LatentSpec,
        learned_std: bool,
        leak: f32,
        seed: u64,
    ) -> Result<Recognizer> {
        let mut l = ArenaLayout::default();
        let hidden = Stack::build(gpu, &mut l, "q", &spec.q_hidden, &[features], leak)?;
        let &[width] = hidden.output_shape() else {
            return Err(crate::error::Error::new(format!(
                "Q's hidden layers must end in flat features, not {:?}",
                hidden.output_shape()
            )));
        };
        let cat = latent
            .categorical
            .iter()
            .enumerate()
            .map(|(i, &k)| Linear::new(&mut l, &format!("q.cat{i}"), width, k, true))
            .collect();
        let cont = latent.continuous;
        let mean = (cont > 0).then(|| Linear::new(&mut l, "q.mean", width, cont, true));
        let logstd =
            (cont > 0 && learned_std).then(|| Linear::new(&mut l, "q.logstd", width, cont, true));
        Ok(Recognizer { arena: Arena::new(gpu, "Q", l, seed)?, hidden, cat, mean, logstd })
    }

    pub fn forward(&self, tape: &mut Tape, features: &Var, mode: BnMode) -> Result<QOutput> {
        let a = &self.arena;
        let h = self.hidden.forward(tape, a, features, mode)?;
        let cat_logits =
            self.cat.iter().map(|l| l.forward(tape, a, &h)).collect::<Result<Vec<_>>>()?;
        let cont_mean = self.mean.as_ref().map(|l| l.forward(tape, a, &h)).transpose()?;
        let cont_logstd = self.logstd.as_ref().map(|l| l.forward(tape, a, &h)).transpose()?;
        Ok(QOutput { cat_logits, cont_mean, cont_logstd })
    }

    pub fn hidden(&self) -> &Stack {
        &self.hidden
    }

    /// Forward FLOPs per sample of the code heads.
    pub fn heads_flops(&self) -> f64 {
        self.cat
            .iter()
            .chain(&self.mean)
            .chain(&self.logstd)
            .map(|l| 2.0 * (l.inputs * l.outputs) as f64)
            .sum()
    }
}

/// Q's reading of a batch: each categorical code's logits, and the continuous codes' means.
pub type CodeReadout = (Vec<Vec<f32>>, Option<Vec<f32>>);

/// The three networks of one run.
pub struct InfoGan {
    pub g: Generator,
    pub d: Discriminator,
    pub q: Recognizer,
    pub spec: NetworkSpec,
}

impl InfoGan {
    /// Fresh networks with the official initialisation; each arena has its own seed stream.
    pub fn new(gpu: &Gpu, config: &TrainConfig) -> Result<InfoGan> {
        config.latent.validate()?;
        let spec = &config.network;
        let g = Generator::new(gpu, spec, &config.latent, config.leak, config.seed)?;
        let d = Discriminator::new(gpu, spec, config.leak, config.seed.wrapping_add(1))?;
        let features = d.body.output_shape()[0];
        let q = Recognizer::new(
            gpu,
            spec,
            features,
            &config.latent,
            config.learned_std,
            config.leak,
            config.seed.wrapping_add(3),
        )?;
        Ok(InfoGan { g, d, q, spec: spec.clone() })
    }

    /// Napkin FLOPs of one D+G training step per image, counted layer by layer from the built
    /// networks (2 * multiply-adds of each Linear and conv; batch norm, activations and Adam are
    /// memory-bound and left out). A forward pass counts once; a backward pass counts once more for
    /// the input gradient and once more for the weight gradient where each is computed.
    ///   D/Q phase: G forward only (frozen, its output detached); D on real and on fake images,
    ///   forward and weight gradients, input gradients of every layer but the first; Q's head on the
    ///   fake features, forward and both gradients (with the official wiring: Q stepped with D).
    ///   G phase: G forward and both gradients (no input gradient at its first layer); D body and
    ///   head and Q forward and input gradients only (frozen).
    pub fn step_flops_per_image(&self) -> f64 {
        let sum = |s: &Stack| s.layer_flops().iter().sum::<f64>();
        let first = |s: &Stack| s.layer_flops().first().copied().unwrap_or(0.0);
        let g = sum(self.g.stack());
        let [body, head] = self.d.stacks();
        let d = sum(body) + sum(head);
        let q = sum(self.q.hidden()) + self.q.heads_flops();
        let d_phase = g + 2.0 * (3.0 * d - first(body)) + 3.0 * q;
        let g_phase = 3.0 * g - first(self.g.stack()) + 2.0 * (d + q);
        d_phase + g_phase
    }

    /// Floats per sample of the largest buffer a training step (or generating, or recognising)
    /// allocates: the widest layer's columns, over G, D and Q.
    pub fn largest_per_sample(&self) -> usize {
        let stacks = [&self.g.stack, &self.d.body, &self.d.head, &self.q.hidden];
        stacks.iter().map(|s| s.largest_per_sample()).max().unwrap_or(1).max(1)
    }

    /// The largest batch whose buffers each fit in one storage binding of `max_binding_bytes`.
    pub fn max_batch(&self, max_binding_bytes: u64) -> usize {
        (max_binding_bytes / (4 * self.largest_per_sample() as u64)) as usize
    }

    /// Refuses, before any GPU work, a batch one of whose buffers would not fit in one storage
    /// binding of this adapter.
    pub fn check_batch(&self, gpu: &Gpu, batch: usize, what: &str) -> Result<()> {
        let limit = gpu.max_binding_bytes();
        let bytes = 4 * (batch * self.largest_per_sample()) as u64;
        ensure!(
            bytes <= limit,
            "{what} of {batch} images needs a {} MiB buffer (its widest layer's columns), more than this adapter's largest storage binding ({} MiB); use a batch of {} or fewer",
            bytes.div_ceil(1 << 20),
            limit >> 20,
            self.max_batch(limit)
        );
        Ok(())
    }

    /// (name, floats) of each parameter arena: G's, D's and Q's.
    pub fn arena_sizes(&self) -> Vec<(String, usize)> {
        self.arenas().iter().map(|a| (a.name.to_string(), a.values.len())).collect()
    }

    pub fn arenas(&self) -> [&Arena; 3] {
        [&self.g.arena, &self.d.arena, &self.q.arena]
    }

    pub fn arenas_mut(&mut self) -> [&mut Arena; 3] {
        [&mut self.g.arena, &mut self.d.arena, &mut self.q.arena]
    }

    /// Every batch-norm layer with its full name (`g.bn1`), G's then D's then Q's.
    pub fn batch_norms(&self) -> Vec<(&str, &BatchNorm)> {
        let mut all = self.g.stack.batch_norms();
        all.extend(self.d.body.batch_norms());
        all.extend(self.d.head.batch_norms());
        all.extend(self.q.hidden.batch_norms());
        all
    }

    /// Images [n, C*H*W] in the network's pixel range from latents [n, width], in as few
    /// batches as fit the adapter's storage binding. `Train` mode is read as batch statistics:
    /// generating never moves the running statistics. In eval mode every image depends on its
    /// own latent alone, so the split changes nothing; with batch statistics each batch
    /// (balanced, at most the binding's worth) is normalised over its own images.
    pub fn generate(&self, gpu: &Gpu, z: &[f32], width: usize, mode: BnMode) -> Result<Vec<f32>> {
        let mode = if mode == BnMode::Train { BnMode::BatchStats } else { mode };
        let n = z.len() / width;
        let mut out = Vec::with_capacity(n * self.spec.image.iter().product::<usize>());
        for range in
            self.batches_that_fit(gpu, n, self.g.stack.largest_per_sample(), "generating an image")?
        {
            let mut tape = Tape::new(gpu);
            tape.freeze(&self.g.arena);
            let vz = tape.constant(
                gpu.upload(&[range.len(), width], &z[range.start * width..range.end * width])?,
            );
            let images = self.g.forward(&mut tape, &vz, mode)?;
            out.extend(gpu.download(&images.value)?);
        }
        Ok(out)
    }

    /// A grid of G's images for `request`, in [0, 1], and its number of rows.
    pub fn draw_grid(
        &self,
        gpu: &Gpu,
        latent: &LatentSpec,
        request: &GridRequest,
        mode: BnMode,
    ) -> Result<(Vec<f32>, usize)> {
        let (z, rows) = latent.grid(request)?;
        let range = self.spec.pixel_range();
        let images = self
            .generate(gpu, &z, latent.width(), mode)?
            .into_iter()
            .map(|v| range.to_unit(v))
            .collect();
        Ok((images, rows))
    }

    /// `n` rows split into as few balanced batches as keep every buffer of `per_sample` floats an
    /// image within one storage binding.
    fn batches_that_fit(
        &self,
        gpu: &Gpu,
        n: usize,
        per_sample: usize,
        what: &str,
    ) -> Result<Vec<std::ops::Range<usize>>> {
        let limit = gpu.max_binding_bytes();
        let fit = (limit / (4 * per_sample.max(1) as u64)) as usize;
        ensure!(fit > 0, "{what} needs a {} MiB buffer, more than this adapter's largest storage binding ({} MiB)", (4 * per_sample as u64).div_ceil(1 << 20), limit >> 20);
        let batches = n.div_ceil(fit).max(1);
        Ok((0..batches)
            .map(|b| b * n / batches..(b + 1) * n / batches)
            .filter(|r| !r.is_empty())
            .collect())
    }

    /// Q's outputs for images [n, C*H*W] in the network's pixel range: the logits of each
    /// categorical code ([n * K] each) and the means of the continuous codes ([n * codes]), in
    /// as few batches as fit the adapter's storage binding (with batch statistics, each batch is
    /// normalised over its own images).
    pub fn recognize(&self, gpu: &Gpu, images: &[f32], mode: BnMode) -> Result<CodeReadout> {
        let mode = if mode == BnMode::Train { BnMode::BatchStats } else { mode };
        let [c, h, w] = self.spec.image;
        let len = c * h * w;
        let n = images.len() / len;
        let per_sample = [&self.d.body, &self.q.hidden]
            .iter()
            .map(|s| s.largest_per_sample())
            .max()
            .unwrap_or(1);
        let mut logits_out: Vec<Vec<f32>> = vec![Vec::new(); self.q.cat.len()];
        let mut means_out: Option<Vec<f32>> = None;
        for range in self.batches_that_fit(gpu, n, per_sample, "recognising an image")? {
            let mut tape = Tape::new(gpu);
            for arena in self.arenas() {
                tape.freeze(arena);
            }
            let x = tape.constant(
                gpu.upload(&[range.len(), c, h, w], &images[range.start * len..range.end * len])?,
            );
            let features = self.d.body(&mut tape, &x, mode)?;
            let q = self.q.forward(&mut tape, &features, mode)?;
            let logits: Vec<_> = q.cat_logits.iter().map(|l| gpu.read_later(&l.value)).collect();
            let means = q.cont_mean.as_ref().map(|m| gpu.read_later(&m.value));
            for (all, part) in logits_out.iter_mut().zip(logits) {
                all.extend(part.wait(gpu)?);
            }
            if let Some(part) = means {
                means_out.get_or_insert_with(Vec::new).extend(part.wait(gpu)?);
            }
        }
        Ok((logits_out, means_out))
    }
}
