//! Small datasets the tests write in the formats users have: image folders (PNG and JPEG, grey
//! and colour, any size) and SVHN's MATLAB v5 files.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A fresh, empty folder under the system's temporary folder.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infogan-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `side` x `side` RGB pixels: a disc or a square of a random colour on a random background.
pub fn shape_picture(rng: &mut StdRng, width: u32, height: u32) -> image::RgbImage {
    let background = image::Rgb([
        rng.random_range(0..255u8),
        rng.random_range(0..255u8),
        rng.random_range(0..255u8),
    ]);
    let colour = image::Rgb([
        rng.random_range(0..255u8),
        rng.random_range(0..255u8),
        rng.random_range(0..255u8),
    ]);
    let (cx, cy) =
        (rng.random_range(0.3..0.7) * width as f32, rng.random_range(0.3..0.7) * height as f32);
    let r = rng.random_range(0.15..0.3) * width.min(height) as f32;
    let disc = rng.random_range(0..2) == 0;
    image::RgbImage::from_fn(width, height, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let inside = if disc { dx * dx + dy * dy < r * r } else { dx.abs() < r && dy.abs() < r };
        if inside {
            colour
        } else {
            background
        }
    })
}

/// Writes `count` pictures of `width` x `height` into `dir` (created), alternating PNG and JPEG,
/// grey when `grey`.
pub fn write_pictures(
    dir: &Path,
    count: usize,
    width: u32,
    height: u32,
    grey: bool,
    seed: u64,
) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("picture folder");
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let picture = image::DynamicImage::ImageRgb8(shape_picture(&mut rng, width, height));
            let picture =
                if grey { image::DynamicImage::ImageLuma8(picture.to_luma8()) } else { picture };
            let path = dir.join(format!("img{i:03}.{}", if i % 2 == 0 { "png" } else { "jpg" }));
            picture.save(&path).expect("picture written");
            path
        })
        .collect()
}

/// One MATLAB v5 data element: tag (type, bytes) and the data padded to 8 bytes.
fn element(kind: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len() + 7);
    out.extend(kind.to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    out.resize(out.len().div_ceil(8) * 8, 0);
    out
}

/// A numeric matrix element: `class` (9 uint8, 6 double), dimensions, name and real values (as
/// bytes of `data_type`: 2 uint8, 9 double).
fn matrix(name: &str, class: u32, dims: &[u32], data_type: u32, values: &[u8]) -> Vec<u8> {
    let mut body = element(6, &[class.to_le_bytes(), 0u32.to_le_bytes()].concat());
    body.extend(element(
        5,
        &dims.iter().flat_map(|d| (*d as i32).to_le_bytes()).collect::<Vec<u8>>(),
    ));
    body.extend(element(1, name.as_bytes()));
    body.extend(element(data_type, values));
    let mut out = Vec::new();
    out.extend(14u32.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// An SVHN-style file: `X` uint8 [32, 32, 3, N] column-major from planar images [N, 3, 32, 32],
/// `y` double [N, 1] with labels 1..10 (10 for the digit 0). `compressed` wraps each variable
/// in a zlib-compressed element, as MATLAB's `save -v7` (and SVHN's files) do.
pub fn svhn_mat(planar: &[u8], digits: &[u32], compressed: bool) -> Vec<u8> {
    let n = digits.len();
    assert_eq!(planar.len(), n * 3 * 32 * 32);
    let mut column_major = vec![0u8; planar.len()];
    for i in 0..n {
        for c in 0..3 {
            for row in 0..32 {
                for col in 0..32 {
                    column_major[row + 32 * (col + 32 * (c + 3 * i))] =
                        planar[((i * 3 + c) * 32 + row) * 32 + col];
                }
            }
        }
    }
    let labels: Vec<u8> =
        digits.iter().flat_map(|&d| f64::from(if d == 0 { 10 } else { d }).to_le_bytes()).collect();
    let variables = [
        matrix("X", 9, &[32, 32, 3, n as u32], 2, &column_major),
        matrix("y", 6, &[n as u32, 1], 9, &labels),
    ];
    let mut out = Vec::new();
    let mut text = b"MATLAB 5.0 MAT-file, written by the infogan tests".to_vec();
    text.resize(116, b' ');
    out.extend(text);
    out.extend([0u8; 8]);
    out.extend(0x0100u16.to_le_bytes());
    out.extend(b"IM");
    for v in variables {
        if compressed {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(&v).expect("zlib");
            let packed = z.finish().expect("zlib");
            out.extend(15u32.to_le_bytes());
            out.extend((packed.len() as u32).to_le_bytes());
            out.extend(packed);
        } else {
            out.extend(v);
        }
    }
    out
}
