//! `infogan explore` as a user meets it: the page in a real browser (headless Chromium) whose
//! slider and chooser redraw the grid with exactly the pixels `infogan sample` writes for the same
//! codes, seed and checkpoint; the HTTP API's answers to bad requests (400 and one line, and the
//! server keeps serving) and to concurrent ones; and the command's own errors (no checkpoint, a
//! corrupt one, a port in use), each one line and exit status 1.

mod common;
use common::browser::{chromium, Browser};
use common::files::temp_dir;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn infogan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infogan"))
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tiny MNIST run (narrow widths, 2 steps, evaluated) to explore.
fn tiny_run(dir: &Path) {
    ok(infogan()
        .args([
            "train",
            "--widths",
            "32,8,4,8",
            "--batch",
            "8",
            "--steps",
            "2",
            "--sample-every",
            "2",
            "--seed",
            "4",
        ])
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap());
}

/// A running explorer and its address.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(source: &Path) -> Server {
        let mut child = infogan()
            .arg("explore")
            .arg(source)
            .arg("--no-open")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().expect("the explorer prints its address").unwrap();
            if let Some(at) = line.find("http://") {
                break line[at..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string();
            }
        };
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, url }
    }

    fn post(&self, body: &str) -> (u16, Vec<u8>) {
        let response = ureq::post(&format!("{}/api/grid", self.url))
            .config()
            .http_status_as_error(false)
            .build()
            .content_type("application/json")
            .send(body)
            .unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_vec().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The grey pixels of a PNG.
fn pixels(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    (image.width(), image.height(), image.into_raw())
}

#[test]
fn the_page_redraws_what_sample_draws() {
    if chromium().is_none() {
        eprintln!("note: no Chromium here (apt-get install chromium); the browser test is skipped");
        return;
    }
    let dir = temp_dir("explore-page");
    let run = dir.join("run");
    tiny_run(&run);
    let server = Server::start(&run);
    let mut browser = Browser::open(&format!("{}/", server.url), "explore").expect("chromium");
    let long = Duration::from_secs(120);
    browser
        .wait_for("window.explorer && window.explorer.drawn >= 1 && !window.explorer.busy", long);
    // What the run's evaluation knows shows beside the controls.
    let known = browser.eval("document.querySelector('.known').textContent");
    assert!(known.as_str().unwrap().contains("one-to-one"), "{known}");
    // Move the first slider and pick a category, as a user would.
    browser.eval(
        "(() => { const s = document.querySelector('input[data-cont=\"0\"]'); s.value = '1.5';
                 s.dispatchEvent(new Event('input', { bubbles: true }));
                 const c = document.querySelector('select[data-cat=\"0\"]'); c.value = '3';
                 c.dispatchEvent(new Event('change', { bubbles: true })); })()",
    );
    browser.wait_for(
        "!window.explorer.busy && window.explorer.lastRequest.categories[0] === 3 && window.explorer.lastRequest.continuous[0] === 1.5",
        long,
    );
    let shown =
        infogan::io::base64::decode(browser.eval("window.explorer.lastPng").as_str().unwrap())
            .unwrap();
    let sample = dir.join("sample.png");
    let args = ["sample", "--cat", "3", "--cont", "0=1.5", "--seed", "4", "--cols", "10"];
    ok(infogan()
        .args(args)
        .arg("--checkpoint")
        .arg(&run)
        .arg("--out")
        .arg(&sample)
        .output()
        .unwrap());
    assert_eq!(
        pixels(&shown),
        pixels(&std::fs::read(&sample).unwrap()),
        "the page's grid is sample's"
    );
    // One traversal strip per code, drawn.
    browser.wait_for(
        "[...document.querySelectorAll('img[data-strip]')].every(i => i.naturalWidth > 0)",
        long,
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('img[data-strip]').length"),
        serde_json::json!(3)
    );
    let screenshot = browser.screenshot();
    assert!(pixels(&screenshot).0 >= 1000, "a screenshot of the page");
    drop(browser);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_requests_get_one_line_and_the_server_keeps_serving() {
    let dir = temp_dir("explore-api");
    let run = dir.join("run");
    tiny_run(&run);
    let server = Server::start(&run);
    let model: serde_json::Value = ureq::get(&format!("{}/api/model", server.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(
        (model["categorical"].clone(), model["continuous"].clone()),
        (serde_json::json!([10]), serde_json::json!(2))
    );
    assert!(model["evaluation"]["codes"][0]["scores"].is_array(), "{model}");
    for (body, needle) in [
        (r#"{"seed": 1, "categories": [10]}"#, "categories 0..9"),
        (r#"{"seed": 1, "categories": [1, 2]}"#, "the model has 1 categorical codes"),
        (r#"{"seed": 1, "continuous": [0, 0, 0]}"#, "the model has 2 continuous codes"),
        (r#"{"seed": 1, "continuous": [1e9]}"#, "between -10 and 10"),
        (r#"{"seed": 1, "continuous": ["left"]}"#, "malformed request"),
        (r#"{"seed": 1, "layout": {"sweep": 7}}"#, "continuous codes 0..1"),
        (r#"{"seed": 1, "cols": 0}"#, "1 to 100"),
        (r#"{"seed": 1, "bn": "fancy"}"#, "use `eval` or `batch-stats`"),
        (r#"{"seed": 1, "colour": 3}"#, "unknown field `colour`"),
        ("{", "malformed request"),
    ] {
        let (status, text) = server.post(body);
        let text = String::from_utf8(text).unwrap();
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(needle) && text.trim().lines().count() == 1, "{body}: {text}");
        let (status, png) = server.post(r#"{"seed": 2}"#);
        assert_eq!(status, 200, "still serving after {body}");
        assert_eq!(&png[1..4], b"PNG");
    }
    let missing = ureq::get(&format!("{}/favicon.ico", server.url))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    // Concurrent requests queue for the one GPU thread; each gets its own grid.
    let answers: Vec<(u16, Vec<u8>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|seed| {
                let server = &server;
                s.spawn(move || {
                    server.post(&format!(r#"{{"seed": {seed}, "rows": 2, "cols": 3}}"#))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|(status, _)| *status == 200));
    assert_ne!(answers[0].1, answers[1].1, "different seeds, different grids");
    assert_eq!(
        server.post(r#"{"seed": 0, "rows": 2, "cols": 3}"#).1,
        answers[0].1,
        "the same request, the same grid"
    );
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_command_refuses_what_it_cannot_serve() {
    let dir = temp_dir("explore-errors");
    let fails = |args: &[&str], needle: &str| {
        let out = infogan().arg("explore").args(args).arg("--no-open").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle) && err.trim().lines().count() == 1, "{args:?}: {err}");
    };
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    fails(&[dir.join("empty").to_str().unwrap()], "no checkpoint");
    std::fs::write(dir.join("corrupt.safetensors"), b"not a checkpoint at all").unwrap();
    fails(&[dir.join("corrupt.safetensors").to_str().unwrap()], "corrupt.safetensors");
    let run = dir.join("run");
    tiny_run(&run);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    fails(&[run.to_str().unwrap(), "--port", &port], "is in use");
    std::fs::remove_dir_all(&dir).ok();
}
