//! A folder of PNG and JPEG images, searched recursively: each image is centre-cropped to the
//! network's aspect (CelebA's aligned faces to the usual central 108x108 square), resized to its
//! input and converted to its channels, once at load. Sub-folder names become labels when every
//! image sits in one. The held-out split is CelebA's own (`list_eval_partition.txt`, partition
//! 2) where that file is beside the folder, else the images whose path hashes to 0 mod 10, which
//! keeps an image on its side when others are added.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use crate::data::{Dataset, Images, LabelColumn, Split};
use crate::error::{Error, Result};

/// CelebA's aligned images are 178x218; the usual crop keeps the central 108x108 square.
const CELEBA_CROP: u32 = 108;

pub fn is_celeba(dir: &Path) -> bool {
    dir.file_name().is_some_and(|n| n == "img_align_celeba")
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["png", "jpg", "jpeg"].contains(&e.to_ascii_lowercase().as_str()))
}

/// Every image file under `root`, sorted.
pub fn list_images(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::new(format!("cannot read the folder {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_image(&path) {
                found.push(path);
            }
        }
    }
    if found.is_empty() {
        return Err(Error::new(format!(
            "{}: no PNG or JPEG images in this folder or below it",
            root.display()
        )));
    }
    found.sort();
    Ok(found)
}

/// Whether the first image (in sorted order) has colour channels.
pub fn first_image_is_colour(root: &Path) -> Result<bool> {
    let first = list_images(root)?.remove(0);
    let reader = image::ImageReader::open(&first)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| Error::new(format!("{}: unreadable image ({e})", first.display())))?;
    let decoder = reader
        .into_decoder()
        .map_err(|e| Error::new(format!("{}: unreadable image ({e})", first.display())))?;
    use image::ImageDecoder;
    Ok(decoder.color_type().has_color())
}

/// FNV-1a of a path's text: a stable held-out assignment.
fn held_out_by_hash(relative: &Path) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in relative.to_string_lossy().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h.is_multiple_of(10)
}

/// CelebA's partition (0 train, 1 validation, 2 test) of each file name, where the file exists
/// in the folder or beside it.
fn celeba_partition(dir: &Path) -> Result<Option<std::collections::HashMap<String, u8>>> {
    let candidates = [
        dir.join("list_eval_partition.txt"),
        dir.parent().map(|p| p.join("list_eval_partition.txt")).unwrap_or_default(),
    ];
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    let mut map = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(part)) =
            (parts.next(), parts.next().and_then(|p| p.parse::<u8>().ok()))
        else {
            return Err(Error::new(format!(
                "{}: line {} is not `<file> <0|1|2>`",
                path.display(),
                i + 1
            )));
        };
        map.insert(name.to_owned(), part);
    }
    Ok(Some(map))
}

/// The folder's images as [C, H, W] = `input`, split into training and held-out images.
pub fn load(root: &Path, input: [usize; 3]) -> Result<Split> {
    let paths = list_images(root)?;
    let relative: Vec<PathBuf> =
        paths.iter().map(|p| p.strip_prefix(root).unwrap_or(p).to_owned()).collect();
    let labels = folder_labels(&relative);
    let crop = is_celeba(root).then_some(CELEBA_CROP);
    let pixels = decode_all(&paths, input, crop)?;
    let images = Images {
        count: paths.len(),
        channels: input[0],
        height: input[1],
        width: input[2],
        pixels,
    };
    let all = Dataset::new(&root.display().to_string(), images, labels.into_iter().collect())?;
    let held: Vec<bool> = match celeba_partition(root)? {
        Some(parts) => relative
            .iter()
            .map(|r| parts.get(&r.to_string_lossy().into_owned()).is_some_and(|&p| p == 2))
            .collect(),
        None => relative.iter().map(|r| held_out_by_hash(r)).collect(),
    };
    let (mut eval, train): (Vec<usize>, Vec<usize>) = (0..paths.len()).partition(|&i| held[i]);
    let mut train = train;
    // Evaluation needs two images (batch statistics); a small folder lends them from the end.
    while eval.len() < 2 && train.len() > 2 {
        eval.extend(train.pop());
    }
    if train.len() < 2 || eval.len() < 2 {
        return Err(Error::new(format!(
            "{}: {} images are too few to train on and hold out; add images",
            root.display(),
            paths.len()
        )));
    }
    let name = root.display().to_string();
    Ok(Split {
        train: all.pick(&train, &format!("{name} train")),
        eval: all.pick(&eval, &format!("{name} held out")),
    })
}

/// One label column "folder" when every image sits in a sub-folder of the root.
fn folder_labels(relative: &[PathBuf]) -> Option<LabelColumn> {
    let first: Vec<Option<String>> = relative
        .iter()
        .map(|r| {
            let mut parts = r.components();
            let top = parts.next()?;
            parts.next()?;
            Some(top.as_os_str().to_string_lossy().into_owned())
        })
        .collect();
    if first.iter().any(Option::is_none) {
        return None;
    }
    let mut names: Vec<String> = first.iter().flatten().cloned().collect();
    names.sort();
    names.dedup();
    let values =
        first.iter().flatten().map(|n| names.binary_search(n).unwrap_or(0) as u32).collect();
    Some(LabelColumn { name: "folder".into(), class_names: names, values })
}

/// Decodes every image into planar bytes of `input`, on all cores.
fn decode_all(paths: &[PathBuf], input: [usize; 3], crop: Option<u32>) -> Result<Vec<u8>> {
    let len = input.iter().product::<usize>();
    let threads =
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(paths.len()).max(1);
    let chunk = paths.len().div_ceil(threads);
    let parts: Vec<Result<Vec<u8>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len() * len);
                    for path in part {
                        out.extend(decode(path, input, crop)?);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Err(Error::new("an image decoder thread panicked")))
            })
            .collect()
    });
    let mut pixels = Vec::with_capacity(paths.len() * len);
    for part in parts {
        pixels.extend(part?);
    }
    Ok(pixels)
}

/// One image: centre crop (to `crop` x `crop`, or the largest window of the input's aspect),
/// resize to the input, convert to its channels, planar bytes.
pub fn decode(
    path: &Path,
    [channels, height, width]: [usize; 3],
    crop: Option<u32>,
) -> Result<Vec<u8>> {
    let bad = |what: String| Error::new(format!("{}: {what}", path.display()));
    let image = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| bad(format!("cannot read ({e})")))?
        .decode()
        .map_err(|e| bad(format!("unreadable or truncated image ({e})")))?;
    let (w, h) = (image.width(), image.height());
    if (w as usize) < width || (h as usize) < height {
        return Err(bad(format!("{w}x{h} is smaller than the network's {width}x{height} input; remove it or choose a smaller model")));
    }
    let (cw, ch) = match crop {
        Some(side) if w >= side && h >= side => (side, side),
        _ => {
            // The largest centred window with the input's aspect.
            let (tw, th) = (width as u64, height as u64);
            if u64::from(w) * th >= u64::from(h) * tw {
                ((u64::from(h) * tw / th) as u32, h)
            } else {
                (w, (u64::from(w) * th / tw) as u32)
            }
        }
    };
    let cropped = image.crop_imm((w - cw) / 2, (h - ch) / 2, cw, ch);
    let resized = cropped.resize_exact(width as u32, height as u32, FilterType::Triangle);
    let plane = width * height;
    let mut out = vec![0u8; channels * plane];
    match channels {
        1 => out.copy_from_slice(resized.to_luma8().as_raw()),
        3 => {
            for (i, px) in resized.to_rgb8().as_raw().chunks_exact(3).enumerate() {
                for c in 0..3 {
                    out[c * plane + i] = px[c];
                }
            }
        }
        other => {
            return Err(bad(format!(
                "the network takes {other} channels; images give 1 (grey) or 3 (colour)"
            )))
        }
    }
    Ok(out)
}
