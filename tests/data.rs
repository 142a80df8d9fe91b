//! The IDX reader and datasets: the embedded subset's provenance figures, folders of IDX files
//! (gz or raw), and every kind of bad input as one clear error. No GPU.

use std::io::Write;
use std::path::PathBuf;

use infogan::data::{self, idx};

/// The mnist network's input.
const MNIST: [usize; 3] = [1, 28, 28];

fn idx_images(count: u32, rows: u32, cols: u32, fill: u8) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [count, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v.extend(std::iter::repeat_n(fill, (count * rows * cols) as usize));
    v
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((labels.len() as u32).to_be_bytes());
    v.extend(labels);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infogan-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn embedded_subset_matches_its_provenance() {
    let split = data::embedded_mnist().expect("embedded data parses");
    assert_eq!(split.train.len(), 8_000);
    assert_eq!(split.eval.len(), 2_000);
    let mut counts = [0usize; 10];
    for &l in split.train.labels[0].values.iter().chain(&split.eval.labels[0].values) {
        counts[l as usize] += 1;
    }
    // data/README.md: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 digits of 0..9.
    assert_eq!(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    // Interleaved: every class is in the held-out slice.
    assert!((0..10).all(|c| split.eval.labels[0].values.contains(&c)));
    let px = split.train.pixels_f32();
    assert_eq!(px.len(), 8_000 * 784);
    assert!(px.iter().all(|&p| (0.0..=1.0).contains(&p)));
    let mean = px.iter().sum::<f32>() / px.len() as f32;
    assert!((0.1..0.2).contains(&mean), "MNIST's mean intensity is about 0.13, got {mean}");
}

#[test]
fn a_folder_of_idx_files_loads_gz_or_raw() {
    let dir = temp_dir("folder");
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gzip(&idx_images(3, 28, 28, 7))).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), idx_labels(&[1, 2, 3])).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), idx_images(2, 28, 28, 9)).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), gzip(&idx_labels(&[4, 5]))).unwrap();
    let split = data::load(dir.to_str().unwrap(), MNIST).expect("loads");
    assert_eq!(split.train.labels[0].values, vec![1, 2, 3]);
    assert_eq!(split.eval.images.pixels, vec![9; 2 * 784]);
    std::fs::remove_dir_all(&dir).ok();
}

fn error_of(images: Vec<u8>, labels: Vec<u8>) -> String {
    let images = idx::parse_images(&images, "imgs");
    let labels = idx::parse_labels(&labels, "lbls");
    match (images, labels) {
        (Err(e), _) | (_, Err(e)) => e.to_string(),
        (Ok(i), Ok(l)) => idx::from_parts("set", i, l).expect_err("should be rejected").to_string(),
    }
}

#[test]
fn bad_files_are_one_clear_error_each() {
    let good_images = idx_images(2, 28, 28, 1);
    let good_labels = idx_labels(&[0, 1]);
    let mut wrong_magic = good_images.clone();
    wrong_magic[3] = 1;
    assert!(error_of(wrong_magic, good_labels.clone()).contains("wrong IDX magic"));
    let truncated = good_images[..good_images.len() - 10].to_vec();
    assert!(error_of(truncated, good_labels.clone()).contains("truncated"));
    assert!(error_of(good_images[..9].to_vec(), good_labels.clone()).contains("truncated IDX header"));
    let mut corrupt = gzip(&good_images);
    let mid = corrupt.len() / 2;
    corrupt.truncate(mid);
    assert!(error_of(corrupt, good_labels.clone()).contains("corrupt gzip"));
    assert!(error_of(good_images.clone(), idx_labels(&[0, 1, 2])).contains("2 images but 3 labels"));
    let mut trailing = good_images;
    trailing.push(0);
    assert!(error_of(trailing, good_labels).contains("past the end"));
}

#[test]
fn missing_folders_and_files_say_what_to_do() {
    let err = data::load("/no/such/folder", MNIST).unwrap_err().to_string();
    assert!(err.contains("not a folder"), "{err}");
    let dir = temp_dir("missing");
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), idx_images(2, 28, 28, 9)).unwrap();
    let err = data::load(dir.to_str().unwrap(), MNIST).unwrap_err().to_string();
    assert!(err.contains("missing train-images-idx3-ubyte") && err.contains("download"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
