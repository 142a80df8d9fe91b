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
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gzip(&idx_images(3, 28, 28, 7)))
        .unwrap();
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
    assert!(
        error_of(good_images[..9].to_vec(), good_labels.clone()).contains("truncated IDX header")
    );
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

mod common;
use common::files::{svhn_mat, write_pictures};

#[test]
fn kaggle_named_idx_files_load_too() {
    let dir = temp_dir("kaggle");
    std::fs::write(dir.join("train-images.idx3-ubyte"), idx_images(3, 28, 28, 7)).unwrap();
    std::fs::write(dir.join("train-labels.idx1-ubyte"), idx_labels(&[1, 2, 3])).unwrap();
    std::fs::write(dir.join("t10k-images.idx3-ubyte"), idx_images(2, 28, 28, 9)).unwrap();
    std::fs::write(dir.join("t10k-labels.idx1-ubyte"), idx_labels(&[4, 5])).unwrap();
    let split = data::load(dir.to_str().unwrap(), MNIST).expect("loads");
    assert_eq!((split.train.len(), split.eval.labels[0].values.clone()), (3, vec![4, 5]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn image_folders_are_cropped_resized_and_labelled_by_subfolder() {
    let dir = temp_dir("folder-images");
    // A 60x40 picture: left half black, right half white, a 20-pixel red stripe in the middle.
    // The centre 40x40 crop at 8x8 is 2 black, 4 red, 2 white columns (bilinear edges aside).
    let picture = image::RgbImage::from_fn(60, 40, |x, _| {
        if x < 20 {
            image::Rgb([0, 0, 0])
        } else if x < 40 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    std::fs::create_dir_all(dir.join("a")).unwrap();
    picture.save(dir.join("a").join("stripe.png")).unwrap();
    let colour = data::folder::decode(&dir.join("a").join("stripe.png"), [3, 8, 8], None).unwrap();
    let (red, green) = (&colour[..64], &colour[64..128]);
    assert_eq!((red[8 * 3 + 3], green[8 * 3 + 3]), (255, 0), "the middle of the crop is red");
    assert!(
        red[0] < 40 && red[7] > 215 && green[7] > 215,
        "black on the left, white on the right: {:?}",
        &red[..8]
    );
    let grey = data::folder::decode(&dir.join("a").join("stripe.png"), [1, 8, 8], None).unwrap();
    assert!((grey[3] as i32 - 54).abs() <= 2, "red's luma is about 54, got {}", grey[3]);
    // Nested sub-folders, PNG and JPEG: one label per top-level folder.
    write_pictures(&dir.join("a").join("deeper"), 9, 33, 35, false, 1);
    write_pictures(&dir.join("b"), 10, 40, 32, true, 2);
    let split = data::load(dir.to_str().unwrap(), [3, 32, 32]).expect("loads");
    assert_eq!(split.train.len() + split.eval.len(), 20);
    assert!(split.eval.len() >= 2);
    let column = &split.train.labels[0];
    assert_eq!(
        (column.name.as_str(), column.class_names.clone()),
        ("folder", vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(split.train.images.shape(), [3, 32, 32]);
    // Images straight in the root: no labels.
    let flat = temp_dir("folder-flat");
    write_pictures(&flat, 12, 32, 32, false, 3);
    assert!(data::load(flat.to_str().unwrap(), [1, 32, 32]).unwrap().train.labels.is_empty());
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&flat).ok();
}

#[test]
fn svhn_mat_files_load_compressed_or_not_with_zero_as_ten() {
    let dir = temp_dir("svhn");
    let planar: Vec<u8> = (0..3 * 3072).map(|i| (i * 7 % 251) as u8).collect();
    let digits = [0, 5, 9];
    for compressed in [false, true] {
        let path = dir.join(format!("train_32x32-{compressed}.mat"));
        std::fs::write(&path, svhn_mat(&planar, &digits, compressed)).unwrap();
        let set = data::svhn::read(&path).expect("reads");
        assert_eq!(
            set.images.pixels, planar,
            "compressed {compressed}: column-major X back to planar images"
        );
        assert_eq!(set.labels[0].values, vec![0, 5, 9]);
    }
    // Without test_32x32.mat beside it, every tenth image is held out.
    let many: Vec<u8> = (0..20 * 3072).map(|i| (i % 256) as u8).collect();
    let only = dir.join("only");
    std::fs::create_dir_all(&only).unwrap();
    std::fs::write(only.join("train_32x32.mat"), svhn_mat(&many, &[1; 20], true)).unwrap();
    let split = data::load(only.to_str().unwrap(), [3, 32, 32]).unwrap();
    assert_eq!((split.train.len(), split.eval.len()), (18, 2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_images_and_mat_files_are_one_clear_error_naming_the_file() {
    let dir = temp_dir("bad-inputs");
    // A folder without images.
    std::fs::create_dir_all(dir.join("empty").join("sub")).unwrap();
    std::fs::write(dir.join("empty").join("notes.txt"), "no pictures here").unwrap();
    let err = data::load(dir.join("empty").to_str().unwrap(), [1, 32, 32]).unwrap_err().to_string();
    assert!(err.contains("no PNG or JPEG images"), "{err}");
    // A truncated PNG among good ones.
    let pictures = write_pictures(&dir.join("truncated"), 12, 32, 32, false, 4);
    let bytes = std::fs::read(&pictures[4]).unwrap();
    std::fs::write(&pictures[4], &bytes[..bytes.len() / 2]).unwrap();
    let err =
        data::load(dir.join("truncated").to_str().unwrap(), [3, 32, 32]).unwrap_err().to_string();
    assert!(err.contains("img004.png") && err.contains("truncated"), "{err}");
    // Not an image at all, named like one.
    write_pictures(&dir.join("garbage"), 4, 32, 32, true, 5);
    std::fs::write(dir.join("garbage").join("photo.jpg"), b"this is text").unwrap();
    let err =
        data::load(dir.join("garbage").to_str().unwrap(), [1, 32, 32]).unwrap_err().to_string();
    assert!(err.contains("photo.jpg") && err.contains("unreadable"), "{err}");
    // An image smaller than the network's input.
    write_pictures(&dir.join("small"), 4, 64, 64, true, 6);
    write_pictures(&dir.join("small").join("thumbs"), 1, 40, 60, true, 7);
    let err = data::load(dir.join("small").to_str().unwrap(), [1, 64, 64]).unwrap_err().to_string();
    assert!(
        err.contains("img000.png") && err.contains("40x60 is smaller than the network's 64x64"),
        "{err}"
    );
    // A corrupt .mat: the header survives, the compressed body is cut.
    let mat = svhn_mat(&vec![9; 2 * 3072], &[1, 2], true);
    std::fs::write(dir.join("corrupt.mat"), &mat[..mat.len() - 40]).unwrap();
    let err =
        data::load(dir.join("corrupt.mat").to_str().unwrap(), [3, 32, 32]).unwrap_err().to_string();
    assert!(err.contains("corrupt.mat") && err.contains("truncated"), "{err}");
    std::fs::write(dir.join("text.mat"), b"not a mat file").unwrap();
    let err =
        data::load(dir.join("text.mat").to_str().unwrap(), [3, 32, 32]).unwrap_err().to_string();
    assert!(err.contains("text.mat"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_data_on_the_command_line_writes_nothing() {
    let dir = temp_dir("bad-cli");
    let pictures = write_pictures(&dir.join("images"), 6, 32, 32, false, 8);
    std::fs::write(&pictures[2], b"broken").unwrap();
    let out = dir.join("run");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_infogan"))
        .args([
            "train",
            "--data",
            dir.join("images").to_str().unwrap(),
            "--steps",
            "1",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!result.status.success());
    let message = String::from_utf8_lossy(&result.stderr);
    assert!(
        message.lines().count() == 1 && message.contains("img002.png"),
        "one line naming the file: {message}"
    );
    assert!(!out.exists(), "no run folder");
    std::fs::remove_dir_all(&dir).ok();
}
