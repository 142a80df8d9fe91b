//! The IDX format of MNIST and Fashion-MNIST: a big-endian magic (0x0000_08NN: unsigned bytes,
//! NN dimensions), the dimensions as big-endian u32, then the data. Gzip is detected by its magic.
//! A folder holds four files, named the original way (`train-images-idx3-ubyte`, gz or raw) or
//! the Kaggle way (`train-images.idx3-ubyte`); `t10k` is the evaluation set.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::data::{Dataset, Images, LabelColumn, Split};
use crate::error::{Error, Result};

/// Decompresses gzip data, or returns raw data as it is.
pub fn maybe_gunzip(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).map_err(|e| {
            Error::new(format!("{what}: corrupt gzip data ({e}); download the file again"))
        })?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

fn header(bytes: &[u8], dims: usize, what: &str) -> Result<Vec<usize>> {
    let need = 4 + 4 * dims;
    if bytes.len() < need {
        return Err(Error::new(format!(
            "{what}: truncated IDX header ({} bytes, need {need})",
            bytes.len()
        )));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0800 | dims as u32;
    if magic != expected {
        return Err(Error::new(format!(
            "{what}: wrong IDX magic {magic:#010x}, expected {expected:#010x} (unsigned bytes, {dims} dimensions); is this the right file?"
        )));
    }
    Ok((0..dims)
        .map(|i| {
            u32::from_be_bytes([
                bytes[4 + 4 * i],
                bytes[5 + 4 * i],
                bytes[6 + 4 * i],
                bytes[7 + 4 * i],
            ]) as usize
        })
        .collect())
}

fn body<'a>(bytes: &'a [u8], offset: usize, len: usize, what: &str) -> Result<&'a [u8]> {
    let have = bytes.len() - offset;
    if have < len {
        return Err(Error::new(format!(
            "{what}: truncated: {have} data bytes, the header promises {len}"
        )));
    }
    if have > len {
        return Err(Error::new(format!(
            "{what}: {} bytes past the end of the data the header describes",
            have - len
        )));
    }
    Ok(&bytes[offset..])
}

/// Parses an idx3-ubyte image file (gz or raw) into one-channel images.
pub fn parse_images(bytes: &[u8], what: &str) -> Result<Images> {
    let bytes = maybe_gunzip(bytes, what)?;
    let dims = header(&bytes, 3, what)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let len = count
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| Error::new(format!("{what}: absurd dimensions {dims:?}")))?;
    let pixels = body(&bytes, 16, len, what)?.to_vec();
    Ok(Images { count, channels: 1, height: rows, width: cols, pixels })
}

/// Parses an idx1-ubyte label file (gz or raw).
pub fn parse_labels(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    let bytes = maybe_gunzip(bytes, what)?;
    let count = header(&bytes, 1, what)?[0];
    Ok(body(&bytes, 8, count, what)?.to_vec())
}

pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))
}

/// Images and labels of one IDX pair as a dataset with one label column, "label".
pub fn dataset(name: &str, images: &[u8], labels: &[u8], what: &str) -> Result<Dataset> {
    let images = parse_images(images, &format!("{what} images"))?;
    let labels = parse_labels(labels, &format!("{what} labels"))?;
    from_parts(name, images, labels)
}

/// A dataset from parsed IDX images and labels (10 classes, or as many as the largest label needs).
pub fn from_parts(name: &str, images: Images, labels: Vec<u8>) -> Result<Dataset> {
    if images.count != labels.len() {
        return Err(Error::new(format!(
            "{name}: {} images but {} labels",
            images.count,
            labels.len()
        )));
    }
    let classes = labels.iter().map(|&l| usize::from(l) + 1).max().unwrap_or(0).max(10);
    Dataset::new(
        name,
        images,
        vec![LabelColumn::numbered("label", classes, labels.into_iter().map(u32::from).collect())],
    )
}

/// The image and label files of `prefix` (`train` or `t10k`) in `dir`, under either naming.
pub fn find(dir: &Path, prefix: &str) -> Result<(PathBuf, PathBuf)> {
    let one = |kind: &str, dims: u8| -> Result<PathBuf> {
        let names = [
            format!("{prefix}-{kind}-idx{dims}-ubyte"),
            format!("{prefix}-{kind}.idx{dims}-ubyte"),
        ];
        for name in &names {
            for candidate in [format!("{name}.gz"), name.clone()] {
                let path = dir.join(candidate);
                if path.is_file() {
                    return Ok(path);
                }
            }
        }
        Err(Error::new(format!("{}: missing {} (or {}.gz, or the Kaggle name {}); `infogan download mnist DIR` fetches MNIST", dir.display(), names[0], names[0], names[1])))
    };
    Ok((one("images", 3)?, one("labels", 1)?))
}

/// Whether `dir` holds any file named like an IDX file.
pub fn has_idx_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| e.file_name().to_string_lossy().contains("-ubyte"))
        })
        .unwrap_or(false)
}

/// [1, rows, cols] of an IDX image file, from its header.
pub fn image_shape(path: &Path) -> Result<[usize; 3]> {
    let what = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| Error::new(format!("cannot read {what}: {e}")))?;
    let mut head = Vec::with_capacity(16);
    let mut magic = [0u8; 2];
    let mut reader = std::io::BufReader::new(file);
    reader
        .read_exact(&mut magic)
        .map_err(|_| Error::new(format!("{what}: truncated IDX header")))?;
    let rest: Box<dyn Read> = Box::new(std::io::Cursor::new(magic.to_vec()).chain(reader));
    let mut source: Box<dyn Read> =
        if magic == [0x1f, 0x8b] { Box::new(flate2::read::GzDecoder::new(rest)) } else { rest };
    source.by_ref().take(16).read_to_end(&mut head).map_err(|e| {
        Error::new(format!("{what}: corrupt gzip data ({e}); download the file again"))
    })?;
    let dims = header(&head, 3, &what)?;
    Ok([1, dims[1], dims[2]])
}

/// The four files in `dir` (t10k is the evaluation set).
pub fn load_dir(dir: &Path) -> Result<Split> {
    let load = |prefix: &str| -> Result<Dataset> {
        let (images_path, labels_path) = find(dir, prefix)?;
        let images = parse_images(&read_file(&images_path)?, &images_path.display().to_string())?;
        let labels = parse_labels(&read_file(&labels_path)?, &labels_path.display().to_string())?;
        from_parts(&format!("{} {prefix}", dir.display()), images, labels)
    };
    Ok(Split { train: load("train")?, eval: load("t10k")? })
}
