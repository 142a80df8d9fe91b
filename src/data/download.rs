//! `infogan download mnist DIR`: the four standard MNIST files from the public mirrors, each
//! checked against its known MD5 before it is written (atomically) into DIR.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use md5::{Digest, Md5};

use crate::error::{Error, Result};
use crate::files::write_atomically;

/// One file of a dataset and the MD5 of its canonical bytes.
#[derive(Clone, Debug)]
pub struct RemoteFile {
    pub name: String,
    pub md5: String,
}

/// A dataset as published: its files and where they are mirrored (tried in order).
#[derive(Clone, Debug)]
pub struct Manifest {
    pub files: Vec<RemoteFile>,
    pub mirrors: Vec<String>,
}

/// Largest file accepted (MNIST's largest is 9.9 MB).
const MAX_BYTES: u64 = 64 << 20;

impl Manifest {
    /// MNIST, with the MD5s torchvision checks and its mirror order (plus TensorFlow's and the
    /// original site).
    pub fn mnist() -> Manifest {
        let file = |name: &str, md5: &str| RemoteFile { name: name.into(), md5: md5.into() };
        Manifest {
            files: vec![
                file("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                file("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                file("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                file("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
            ],
            mirrors: vec![
                "https://ossci-datasets.s3.amazonaws.com/mnist/".into(),
                "https://storage.googleapis.com/cvdf-datasets/mnist/".into(),
                "http://yann.lecun.com/exdb/mnist/".into(),
            ],
        }
    }
}

pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn fetch(url: &str) -> std::result::Result<Vec<u8>, String> {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(300))).build().into();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!("larger than {} MB", MAX_BYTES >> 20));
    }
    Ok(bytes)
}

/// Fetches every file of `manifest` missing from `dir` (or whose bytes do not match), trying
/// the mirrors in order; a file is written only once its MD5 matches. `say` reports progress.
pub fn download(manifest: &Manifest, dir: &Path, say: &mut dyn FnMut(&str)) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dir.display())))?;
    for file in &manifest.files {
        let path = dir.join(&file.name);
        if std::fs::read(&path).is_ok_and(|bytes| md5_hex(&bytes) == file.md5) {
            say(&format!("{}: already there, MD5 ok", file.name));
            continue;
        }
        let mut failures = Vec::new();
        let mut done = false;
        for mirror in &manifest.mirrors {
            let url = format!("{}/{}", mirror.trim_end_matches('/'), file.name);
            match fetch(&url) {
                Ok(bytes) if md5_hex(&bytes) == file.md5 => {
                    write_atomically(&path, &bytes)?;
                    say(&format!("{}: {} bytes from {url}, MD5 ok", file.name, bytes.len()));
                    done = true;
                    break;
                }
                Ok(bytes) => {
                    failures.push(format!("{url}: MD5 {} instead of {}", md5_hex(&bytes), file.md5))
                }
                Err(e) => failures.push(format!("{url}: {e}")),
            }
        }
        if !done {
            return Err(Error::new(format!(
                "could not download {} (nothing was written for it): {}. Check the network, or pass --mirror URL",
                file.name,
                failures.join("; ")
            )));
        }
    }
    Ok(())
}
