//! `infogan download` against a local HTTP server on 127.0.0.1 (never the internet): mirrors are
//! tried in order, bytes are written only when their MD5 matches, and failures say why.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use infogan::data::download::{download, md5_hex, Manifest, RemoteFile};

/// Serves `files` (path -> bytes) over HTTP/1.1 until the test ends; returns the base URL.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let mut stream = reader.into_inner();
            let _ = match files.get(&path) {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    base
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infogan-download-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const NAMES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// The embedded digits under the four standard names.
fn real_files() -> Vec<(String, Vec<u8>)> {
    let images =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/images-idx3-ubyte.gz")).unwrap();
    let labels =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/labels-idx1-ubyte.gz")).unwrap();
    NAMES
        .iter()
        .map(|n| {
            (n.to_string(), if n.contains("images") { images.clone() } else { labels.clone() })
        })
        .collect()
}

#[test]
fn md5_known_answers() {
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(
        md5_hex(b"The quick brown fox jumps over the lazy dog"),
        "9e107d9d372bb6826bd81d3542a419d6"
    );
}

#[test]
fn mirrors_are_tried_in_order_and_only_verified_bytes_land() {
    let files = real_files();
    let mut served = HashMap::new();
    for (name, bytes) in &files {
        served.insert(format!("/good/{name}"), bytes.clone());
        // The second mirror serves a corrupted copy.
        let mut bad = bytes.clone();
        bad[100] ^= 0xff;
        served.insert(format!("/corrupt/{name}"), bad);
    }
    let base = serve(served);
    let manifest = Manifest {
        files: files
            .iter()
            .map(|(name, bytes)| RemoteFile { name: name.clone(), md5: md5_hex(bytes) })
            .collect(),
        mirrors: vec![
            format!("{base}/missing/"),
            format!("{base}/corrupt"),
            format!("{base}/good/"),
        ],
    };
    let dir = scratch("ok");
    let mut log = Vec::new();
    download(&manifest, &dir, &mut |l| log.push(l.to_owned())).unwrap();
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
    }
    assert!(log.iter().all(|l| l.contains("/good/")), "{log:?}");
    let split = infogan::data::idx::load_dir(&dir).expect("the downloaded folder is a dataset");
    assert_eq!(split.train.len(), 10_000);
    // A second run finds everything in place and fetches nothing.
    let mut again = Vec::new();
    download(&Manifest { mirrors: vec![], ..manifest.clone() }, &dir, &mut |l| {
        again.push(l.to_owned())
    })
    .unwrap();
    assert!(again.iter().all(|l| l.contains("already there")), "{again:?}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_command_refuses_bytes_whose_md5_is_wrong() {
    // Serves the 10k-digit subset under MNIST's names: real IDX files, but not MNIST's bytes.
    let base = serve(real_files().into_iter().map(|(n, b)| (format!("/mnist/{n}"), b)).collect());
    let dir = scratch("wrong");
    let out = Command::new(env!("CARGO_BIN_EXE_infogan"))
        .args(["download", "mnist", dir.to_str().unwrap(), "--mirror", &format!("{base}/mnist/")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not download train-images-idx3-ubyte.gz")
            && stderr.contains("instead of f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    let out = Command::new(env!("CARGO_BIN_EXE_infogan"))
        .args(["download", "cifar", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown dataset")
    );
    std::fs::remove_dir_all(dir).ok();
}
