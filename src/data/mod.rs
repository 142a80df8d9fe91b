//! Datasets: images `[N, C, H, W]` as bytes plus zero or more label columns, split into images to
//! train on and held-out images to evaluate on. Loaders (`idx`, `svhn`, `folder`) produce that and
//! nothing else; what a network needs (its input size and channels) is asked of the loader once,
//! and scaling to the network's pixel range happens on the GPU (`ops::gather`).
//!
//! `--data` takes `mnist` (the embedded 10,000 digits), `fashion` (Debian's Fashion-MNIST), a
//! folder of IDX files (standard or Kaggle names, gz or raw), SVHN's `.mat` files, CelebA's
//! `img_align_celeba/` folder, any folder of PNG and JPEG images, or `shapes` / `shapes32`
//! (rendered here, with known factors).

pub mod download;
pub mod folder;
pub mod idx;
pub mod shapes;
pub mod svhn;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Images as bytes, channel-planar: image n, channel c, row y, column x at
/// `((n * channels + c) * height + y) * width + x`.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub count: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
}

impl Images {
    /// [C, H, W].
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Images `start..end`.
    pub fn slice(&self, start: usize, end: usize) -> Images {
        let len = self.image_len();
        Images { count: end - start, pixels: self.pixels[start * len..end * len].to_vec(), ..*self }
    }

    /// The images whose indices are listed, in that order.
    pub fn pick(&self, indices: &[usize]) -> Images {
        let len = self.image_len();
        let pixels = indices
            .iter()
            .flat_map(|&i| self.pixels[i * len..(i + 1) * len].iter().copied())
            .collect();
        Images { count: indices.len(), pixels, ..*self }
    }
}

/// One label per image: a class index below `classes`, with the classes' names.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelColumn {
    /// What the labels are, e.g. "digit" or "folder".
    pub name: String,
    pub class_names: Vec<String>,
    pub values: Vec<u32>,
}

impl LabelColumn {
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    fn pick(&self, indices: &[usize]) -> LabelColumn {
        LabelColumn { values: indices.iter().map(|&i| self.values[i]).collect(), ..self.clone() }
    }

    /// Classes 0..n named by their numbers.
    pub fn numbered(name: &str, classes: usize, values: Vec<u32>) -> LabelColumn {
        LabelColumn {
            name: name.into(),
            class_names: (0..classes).map(|c| c.to_string()).collect(),
            values,
        }
    }
}

/// Images drawn on demand rather than stored: the renderer and which of its images, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendered {
    pub shapes: shapes::Shapes,
    pub indices: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    /// The images; for a rendered set, their count and shape only (no pixels).
    pub images: Images,
    /// Zero or more label columns, each with one value per image.
    pub labels: Vec<LabelColumn>,
    /// Set when the images are rendered on demand.
    pub rendered: Option<Rendered>,
}

impl Dataset {
    /// Checks that the parts agree: every label column has one value per image, within its classes.
    pub fn new(name: &str, images: Images, labels: Vec<LabelColumn>) -> Result<Dataset> {
        if images.count == 0 {
            return Err(Error::new(format!("{name}: no images")));
        }
        if images.pixels.len() != images.count * images.image_len() {
            return Err(Error::new(format!(
                "{name}: {} bytes for {} images of {:?}",
                images.pixels.len(),
                images.count,
                images.shape()
            )));
        }
        for column in &labels {
            if column.values.len() != images.count {
                return Err(Error::new(format!(
                    "{name}: {} images but {} labels",
                    images.count,
                    column.values.len()
                )));
            }
            if let Some(bad) = column.values.iter().find(|&&v| v as usize >= column.classes()) {
                return Err(Error::new(format!(
                    "{name}: label {bad} outside the {} classes of `{}`",
                    column.classes(),
                    column.name
                )));
            }
        }
        Ok(Dataset { name: name.to_owned(), images, labels, rendered: None })
    }

    /// Images of `shapes` at `indices`, rendered when they are needed; labelled by their factors.
    pub fn rendered(name: &str, shapes: shapes::Shapes, indices: Vec<usize>) -> Dataset {
        let images = Images {
            count: indices.len(),
            channels: 1,
            height: shapes.side,
            width: shapes.side,
            pixels: Vec::new(),
        };
        Dataset {
            name: name.to_owned(),
            images,
            labels: shapes::factor_columns(&indices),
            rendered: Some(Rendered { shapes, indices }),
        }
    }

    pub fn len(&self) -> usize {
        self.images.count
    }

    pub fn is_empty(&self) -> bool {
        self.images.count == 0
    }

    /// Images `start..end` as a contiguous subset.
    pub fn slice(&self, start: usize, end: usize, name: &str) -> Dataset {
        let indices: Vec<usize> = (start..end).collect();
        self.pick(&indices, name)
    }

    /// The images (and their labels) whose indices are listed.
    pub fn pick(&self, indices: &[usize], name: &str) -> Dataset {
        let labels = self.labels.iter().map(|c| c.pick(indices)).collect();
        match &self.rendered {
            Some(r) => {
                let picked = Rendered {
                    shapes: r.shapes,
                    indices: indices.iter().map(|&i| r.indices[i]).collect(),
                };
                let images =
                    Images { count: indices.len(), pixels: Vec::new(), ..self.images.clone() };
                Dataset { name: name.to_owned(), images, labels, rendered: Some(picked) }
            }
            None => Dataset {
                name: name.to_owned(),
                images: self.images.pick(indices),
                labels,
                rendered: None,
            },
        }
    }

    /// Pixels scaled to [0, 1].
    pub fn pixels_f32(&self) -> Vec<f32> {
        self.images.pixels.iter().map(|&p| f32::from(p) / 255.0).collect()
    }

    /// Keeps the first `n` images (all when there are fewer).
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            *self = self.slice(0, n, &self.name);
        }
    }
}

/// Training and evaluation sets. Evaluation images are never trained on.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub eval: Dataset,
}

/// Digits held out of the embedded subset for evaluation (its last 2,000).
pub const EMBEDDED_EVAL: usize = 2_000;

const EMBEDDED_IMAGES: &[u8] = include_bytes!("../../data/images-idx3-ubyte.gz");
const EMBEDDED_LABELS: &[u8] = include_bytes!("../../data/labels-idx1-ubyte.gz");

/// Where Debian's `dataset-fashion-mnist` package puts its files.
pub const DEBIAN_FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The embedded subset: the first 8,000 digits to train on, the last 2,000 to evaluate.
pub fn embedded_mnist() -> Result<Split> {
    let all = idx::dataset("mnist-10k", EMBEDDED_IMAGES, EMBEDDED_LABELS, "embedded MNIST")?;
    let cut = all.len() - EMBEDDED_EVAL;
    Ok(Split {
        train: all.slice(0, cut, "mnist-10k train"),
        eval: all.slice(cut, all.len(), "mnist-10k eval"),
    })
}

/// Where `--data` points, recognised before anything is decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The 10,000 digits inside the binary.
    EmbeddedMnist,
    /// A folder with the four IDX files (MNIST, Fashion-MNIST).
    Idx(PathBuf),
    /// SVHN's cropped digits: a training `.mat` file and the test file beside it, if any.
    Svhn { train: PathBuf, test: Option<PathBuf> },
    /// A folder of PNG and JPEG images, searched recursively (CelebA's aligned folder is one).
    Folder(PathBuf),
    /// The rendered dataset with known factors, at this side (64 or 32).
    Shapes(usize),
}

impl Source {
    /// What `spec` names: `mnist`, `fashion`, a `.mat` file, or a folder (IDX files, SVHN's
    /// files, or images).
    pub fn detect(spec: &str) -> Result<Source> {
        match spec {
            "mnist" => return Ok(Source::EmbeddedMnist),
            "shapes" => return Ok(Source::Shapes(64)),
            "shapes32" => return Ok(Source::Shapes(32)),
            "fashion" => {
                let dir = Path::new(DEBIAN_FASHION_DIR);
                if !dir.is_dir() {
                    return Err(Error::new(format!(
                        "Fashion-MNIST not found in {DEBIAN_FASHION_DIR}; install it with `apt-get install dataset-fashion-mnist` or pass --data DIR"
                    )));
                }
                return Ok(Source::Idx(dir.to_owned()));
            }
            _ => {}
        }
        let path = Path::new(spec);
        if path.is_file() {
            if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("mat")) {
                let test = path.with_file_name("test_32x32.mat");
                let test = (test.is_file() && test != path).then_some(test);
                return Ok(Source::Svhn { train: path.to_owned(), test });
            }
            return Err(Error::new(format!("{spec}: --data takes mnist, fashion, a folder (IDX files, SVHN's .mat files, or images) or an SVHN .mat file")));
        }
        if !path.is_dir() {
            return Err(Error::new(format!("{spec} is not a folder or file; --data takes mnist, fashion, a folder of IDX files or images, or an SVHN .mat file")));
        }
        if idx::find(path, "train").is_ok() {
            return Ok(Source::Idx(path.to_owned()));
        }
        let svhn_train = path.join("train_32x32.mat");
        if svhn_train.is_file() {
            let test = path.join("test_32x32.mat");
            return Ok(Source::Svhn { train: svhn_train, test: test.is_file().then_some(test) });
        }
        let celeba = path.join("img_align_celeba");
        if celeba.is_dir() {
            return Ok(Source::Folder(celeba));
        }
        if idx::has_idx_files(path) {
            // Some IDX files but not the training pair: name what is missing.
            idx::find(path, "train")?;
        }
        Ok(Source::Folder(path.to_owned()))
    }

    /// The preset this data is for: IDX -> mnist, SVHN -> svhn, CelebA -> celeba, shapes ->
    /// shapes (shapes32 at 32x32); another image folder -> celeba when its first image is in
    /// colour, else faces (both take 32x32).
    pub fn default_model(&self) -> Result<&'static str> {
        Ok(match self {
            Source::EmbeddedMnist | Source::Idx(_) => "mnist",
            Source::Svhn { .. } => "svhn",
            Source::Shapes(64) => "shapes",
            Source::Shapes(_) => "shapes32",
            Source::Folder(dir) if folder::is_celeba(dir) => "celeba",
            Source::Folder(dir) => {
                if folder::first_image_is_colour(dir)? {
                    "celeba"
                } else {
                    "faces"
                }
            }
        })
    }

    /// The image shape a fixed-format source always has; None for image folders, which are
    /// resized to whatever the network takes.
    pub fn fixed_shape(&self) -> Result<Option<[usize; 3]>> {
        Ok(match self {
            Source::EmbeddedMnist => Some([1, 28, 28]),
            Source::Idx(dir) => Some(idx::image_shape(&idx::find(dir, "train")?.0)?),
            Source::Svhn { .. } => Some([3, 32, 32]),
            Source::Shapes(side) => Some([1, *side, *side]),
            Source::Folder(_) => None,
        })
    }

    /// Loads the data for a network taking `input` [C, H, W] images.
    pub fn load(&self, input: [usize; 3]) -> Result<Split> {
        if let Some(shape) = self.fixed_shape()? {
            if shape != input {
                return Err(Error::new(format!(
                    "the data holds {} images but the network takes {}; choose the model made for this data ({}) or other data",
                    describe(shape),
                    describe(input),
                    self.default_model()?
                )));
            }
        }
        match self {
            Source::EmbeddedMnist => embedded_mnist(),
            Source::Idx(dir) => idx::load_dir(dir),
            Source::Svhn { train, test } => svhn::load(train, test.as_deref()),
            Source::Folder(dir) => folder::load(dir, input),
            Source::Shapes(side) => shapes::Shapes { side: *side }.split(),
        }
    }
}

/// `3x32x32` for [3, 32, 32].
pub fn describe(shape: [usize; 3]) -> String {
    format!("{}x{}x{}", shape[0], shape[1], shape[2])
}

/// `--data` for a network taking `input` images: detects the source and loads it.
pub fn load(spec: &str, input: [usize; 3]) -> Result<Split> {
    Source::detect(spec)?.load(input)
}
