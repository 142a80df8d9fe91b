//! Checkpoints: safetensors files holding every parameter, the Adam moments, the batch-norm
//! running statistics, and (as metadata) the step, the Adam step counts and the run
//! configuration. Written to a temporary file, synced and renamed, so a kill at any moment leaves
//! either the old or the new file, never a torn one.
//!
//! There is no RNG state to store: every random draw of step `n` comes from a stream seeded by
//! (seed, n, purpose), see `train::stream`, so the step number is the whole state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};

use crate::arena::Arena;
use crate::error::{Error, Result};
use crate::files::write_atomically;
use crate::gpu::Gpu;
use crate::model::config::TrainConfig;
use crate::model::networks::InfoGan;

const FORMAT: &str = "infogan-checkpoint-1";

/// A checkpoint read back into host memory.
pub struct Checkpoint {
    pub path: PathBuf,
    pub config: TrainConfig,
    pub step: u64,
    /// Adapter that wrote it (bit-exact resumption needs the same one).
    pub adapter: String,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
    adam_steps: HashMap<String, u64>,
}

/// A tensor on the host: name, shape, values.
type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Every tensor of the model as (name, shape, values): parameters under their own names, Adam
/// moments under `adam_m.` / `adam_v.`, running statistics as `<bn>.running_mean` / `_var`.
fn model_tensors(gpu: &Gpu, model: &InfoGan) -> Result<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for arena in model.arenas() {
        let pending = [&arena.values, &arena.m, &arena.v].map(|t| gpu.read_later(t));
        let [values, m, v] = pending.map(|r| r.wait(gpu));
        let (values, m, v) = (values?, m?, v?);
        for slot in &arena.layout.slots {
            let range = slot.offset..slot.offset + slot.len();
            out.push((slot.name.clone(), slot.shape.clone(), values[range.clone()].to_vec()));
            out.push((
                format!("adam_m.{}", slot.name),
                slot.shape.clone(),
                m[range.clone()].to_vec(),
            ));
            out.push((format!("adam_v.{}", slot.name), slot.shape.clone(), v[range].to_vec()));
        }
    }
    for (name, bn) in model.batch_norms() {
        let running = gpu.download(&bn.running)?;
        let c = bn.channels;
        out.push((format!("{name}.running_mean"), vec![c], running[..c].to_vec()));
        out.push((format!("{name}.running_var"), vec![c], running[c..].to_vec()));
    }
    Ok(out)
}

/// What `save` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    Written,
    /// Nothing written: this tensor holds NaN or Inf (a diverged state never replaces a good
    /// checkpoint).
    NotFinite(String),
}

/// Writes `path` atomically, unless some value is NaN or infinite.
pub fn save(
    path: &Path,
    gpu: &Gpu,
    model: &InfoGan,
    config: &TrainConfig,
    step: u64,
) -> Result<Saved> {
    let tensors = model_tensors(gpu, model)?;
    if let Some((name, _, _)) = tensors.iter().find(|(_, _, v)| v.iter().any(|x| !x.is_finite())) {
        return Ok(Saved::NotFinite(name.clone()));
    }
    let mut metadata = HashMap::new();
    metadata.insert("format".to_owned(), FORMAT.to_owned());
    metadata.insert("step".to_owned(), step.to_string());
    metadata.insert("config".to_owned(), config.to_json());
    metadata.insert("adapter".to_owned(), gpu.adapter_name());
    metadata.insert(
        "rng".to_owned(),
        "counter-based: streams seeded by (seed, step, purpose); the step is the state".to_owned(),
    );
    for arena in model.arenas() {
        metadata.insert(format!("adam_step.{}", arena.name), arena.step.to_string());
    }
    let views = tensors
        .iter()
        .map(|(name, shape, values)| {
            Ok((
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), bytemuck::cast_slice(values))
                    .map_err(|e| Error::new(format!("{name}: {e}")))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::new(format!("cannot encode checkpoint: {e}")))?;
    write_atomically(path, &bytes)?;
    Ok(Saved::Written)
}

pub fn load(path: &Path) -> Result<Checkpoint> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::new(format!("cannot read checkpoint {}: {e}", path.display())))?;
    let bad = |what: String| {
        Error::new(format!("{} is not a usable infogan checkpoint: {what}", path.display()))
    };
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(bad(format!("format {:?}, expected {FORMAT}", meta.get("format"))));
    }
    let field = |key: &str| meta.get(key).ok_or_else(|| bad(format!("no `{key}` in its metadata")));
    let step = field("step")?.parse().map_err(|_| bad("bad step".into()))?;
    let config = TrainConfig::from_json(field("config")?).map_err(|e| bad(e.to_string()))?;
    let adapter = field("adapter")?.clone();
    let mut adam_steps = HashMap::new();
    for (key, value) in &meta {
        if let Some(arena) = key.strip_prefix("adam_step.") {
            adam_steps
                .insert(arena.to_owned(), value.parse().map_err(|_| bad(format!("bad {key}")))?);
        }
    }
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(bad(format!("{name} is {:?}, expected F32", view.dtype())));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.insert(name, (view.shape().to_vec(), values));
    }
    Ok(Checkpoint { path: path.to_owned(), config, step, adapter, tensors, adam_steps })
}

impl Checkpoint {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<&[f32]> {
        let (have, values) = self.tensors.get(name).ok_or_else(|| {
            Error::new(format!(
                "{}: no tensor `{name}`; it was written for another model configuration",
                self.path.display()
            ))
        })?;
        if have != shape {
            return Err(Error::new(format!(
                "{}: `{name}` has shape {have:?}, the model needs {shape:?}",
                self.path.display()
            )));
        }
        Ok(values)
    }

    fn restore_arena(&self, gpu: &Gpu, arena: &mut Arena) -> Result<()> {
        let n = arena.values.len();
        let mut buffers = [vec![0.0; n], vec![0.0; n], vec![0.0; n]];
        for slot in &arena.layout.slots {
            let range = slot.offset..slot.offset + slot.len();
            for (buffer, prefix) in buffers.iter_mut().zip(["", "adam_m.", "adam_v."]) {
                buffer[range.clone()]
                    .copy_from_slice(self.tensor(&format!("{prefix}{}", slot.name), &slot.shape)?);
            }
        }
        gpu.write(&arena.values, &buffers[0])?;
        gpu.write(&arena.m, &buffers[1])?;
        gpu.write(&arena.v, &buffers[2])?;
        arena.step = *self.adam_steps.get(&arena.name).ok_or_else(|| {
            Error::new(format!("{}: no Adam step for {}", self.path.display(), arena.name))
        })?;
        Ok(())
    }

    /// The networks exactly as saved (parameters, Adam state, running statistics).
    pub fn model(&self, gpu: &Gpu) -> Result<InfoGan> {
        let mut model = InfoGan::new(gpu, &self.config)?;
        for arena in model.arenas_mut() {
            self.restore_arena(gpu, arena)?;
        }
        for (name, bn) in model.batch_norms() {
            let c = bn.channels;
            let mut running = self.tensor(&format!("{name}.running_mean"), &[c])?.to_vec();
            running.extend_from_slice(self.tensor(&format!("{name}.running_var"), &[c])?);
            gpu.write(&bn.running, &running)?;
        }
        Ok(model)
    }
}

/// `DIR/step-N.safetensors` files in `dir`, sorted by step (temporary files ignored).
pub fn list(dir: &Path) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            let step = name.strip_prefix("step-")?.strip_suffix(".safetensors")?.parse().ok()?;
            Some((step, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// Removes temporary files a killed writer left behind.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with('.') && n.contains(".tmp-")) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Deletes all but the newest `keep` checkpoints in `dir`.
pub fn prune(dir: &Path, keep: usize) -> Result<()> {
    let all = list(dir);
    for (_, path) in all.iter().take(all.len().saturating_sub(keep.max(1))) {
        std::fs::remove_file(path).map_err(|e| {
            Error::new(format!("cannot remove old checkpoint {}: {e}", path.display()))
        })?;
    }
    Ok(())
}

/// `path` itself if it is a file, else the newest checkpoint in `path/checkpoints` or `path`.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_owned());
    }
    for dir in [path.join("checkpoints"), path.to_owned()] {
        if let Some((_, newest)) = list(&dir).pop() {
            return Ok(newest);
        }
    }
    Err(Error::new(format!("no checkpoint at {} (expected a .safetensors file or a run folder with checkpoints/step-N.safetensors)", path.display())))
}
