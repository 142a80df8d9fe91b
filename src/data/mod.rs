//! Datasets: the embedded 10,000-digit MNIST subset, any folder of standard IDX files (MNIST,
//! Fashion-MNIST; gz or raw), and Debian's Fashion-MNIST package.

pub mod download;
pub mod idx;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use idx::{parse_images, parse_labels, read_file, Images};

/// 28x28 grey images with labels 0..9.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub images: Images,
    pub labels: Vec<u8>,
}

/// Training and evaluation sets. Evaluation images are never trained on.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub eval: Dataset,
}

pub const SIDE: usize = 28;

/// Digits held out of the embedded subset for evaluation (its last 2,000).
pub const EMBEDDED_EVAL: usize = 2_000;

const EMBEDDED_IMAGES: &[u8] = include_bytes!("../../data/images-idx3-ubyte.gz");
const EMBEDDED_LABELS: &[u8] = include_bytes!("../../data/labels-idx1-ubyte.gz");

/// Where Debian's `dataset-fashion-mnist` package puts its files.
pub const DEBIAN_FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

impl Dataset {
    pub fn from_parts(name: &str, images: Images, labels: Vec<u8>) -> Result<Dataset> {
        if images.rows != SIDE || images.cols != SIDE {
            return Err(Error::new(format!("{name}: images are {}x{}, expected {SIDE}x{SIDE}", images.rows, images.cols)));
        }
        if images.count != labels.len() {
            return Err(Error::new(format!("{name}: {} images but {} labels", images.count, labels.len())));
        }
        if let Some(bad) = labels.iter().find(|&&l| l > 9) {
            return Err(Error::new(format!("{name}: label {bad} outside 0..9")));
        }
        if images.count == 0 {
            return Err(Error::new(format!("{name}: no images")));
        }
        Ok(Dataset { name: name.to_owned(), images, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Images `range` as a contiguous subset.
    pub fn slice(&self, start: usize, end: usize, name: &str) -> Dataset {
        let px = SIDE * SIDE;
        Dataset {
            name: name.to_owned(),
            images: Images { count: end - start, rows: SIDE, cols: SIDE, pixels: self.images.pixels[start * px..end * px].to_vec() },
            labels: self.labels[start..end].to_vec(),
        }
    }

    /// Pixels scaled to [0, 1], as the networks see them.
    pub fn pixels_f32(&self) -> Vec<f32> {
        self.images.pixels.iter().map(|&p| f32::from(p) / 255.0).collect()
    }
}

/// The embedded subset: the first 8,000 digits to train on, the last 2,000 to evaluate.
pub fn embedded_mnist() -> Result<Split> {
    let images = parse_images(EMBEDDED_IMAGES, "embedded MNIST images")?;
    let labels = parse_labels(EMBEDDED_LABELS, "embedded MNIST labels")?;
    let all = Dataset::from_parts("mnist-10k", images, labels)?;
    let cut = all.len() - EMBEDDED_EVAL;
    Ok(Split { train: all.slice(0, cut, "mnist-10k train"), eval: all.slice(cut, all.len(), "mnist-10k eval") })
}

/// The four standard files in `dir`, gz or raw: train-images-idx3-ubyte, train-labels-idx1-ubyte,
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (t10k is the evaluation set).
pub fn load_dir(dir: &Path) -> Result<Split> {
    if !dir.is_dir() {
        return Err(Error::new(format!("{} is not a folder; --data takes mnist, fashion or a folder of IDX files", dir.display())));
    }
    let find = |stem: &str| -> Result<PathBuf> {
        for candidate in [format!("{stem}.gz"), stem.to_owned()] {
            let path = dir.join(candidate);
            if path.is_file() {
                return Ok(path);
            }
        }
        Err(Error::new(format!("{}: missing {stem} (or {stem}.gz); `infogan download mnist DIR` fetches MNIST", dir.display())))
    };
    let load = |prefix: &str| -> Result<Dataset> {
        let images_path = find(&format!("{prefix}-images-idx3-ubyte"))?;
        let labels_path = find(&format!("{prefix}-labels-idx1-ubyte"))?;
        let images = parse_images(&read_file(&images_path)?, &images_path.display().to_string())?;
        let labels = parse_labels(&read_file(&labels_path)?, &labels_path.display().to_string())?;
        Dataset::from_parts(&format!("{} {prefix}", dir.display()), images, labels)
    };
    Ok(Split { train: load("train")?, eval: load("t10k")? })
}

/// `--data`: `mnist` (embedded), `fashion` (Debian's package), or a folder.
pub fn load(spec: &str) -> Result<Split> {
    match spec {
        "mnist" => embedded_mnist(),
        "fashion" => {
            let dir = Path::new(DEBIAN_FASHION_DIR);
            if !dir.is_dir() {
                return Err(Error::new(format!(
                    "Fashion-MNIST not found in {DEBIAN_FASHION_DIR}; install it with `apt-get install dataset-fashion-mnist` or pass --data DIR"
                )));
            }
            load_dir(dir)
        }
        folder => load_dir(Path::new(folder)),
    }
}
