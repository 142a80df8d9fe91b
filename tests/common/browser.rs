//! A real browser for the tests: Debian's headless Chromium driven through its DevTools protocol
//! (a WebSocket, JSON messages), enough to run JavaScript in a page and take a screenshot.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The browser this machine has, if any.
pub fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

pub struct Browser {
    child: Child,
    profile: PathBuf,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Browser {
    /// Headless Chromium showing `url`, or None where there is no Chromium.
    pub fn open(url: &str, name: &str) -> Option<Browser> {
        let binary = chromium()?;
        let profile =
            std::env::temp_dir().join(format!("infogan-browser-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        // As the machine's notes advise for root in a sandbox without network: no sandbox, no GPU,
        // no background connections, a fresh profile.
        let child = Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose into the profile.
        let active = profile.join("DevToolsActivePort");
        let started = Instant::now();
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&active)
                .ok()
                .and_then(|t| t.lines().next()?.trim().parse::<u16>().ok())
            {
                break port;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "chromium did not open its DevTools port"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let page = loop {
            let targets: serde_json::Value =
                ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
                    .call()
                    .ok()
                    .and_then(|mut r| {
                        serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()
                    })
                    .unwrap_or_default();
            let found = targets
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(String::from));
            if let Some(page) = found {
                break page;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "chromium shows no page");
            std::thread::sleep(Duration::from_millis(100));
        };
        let (socket, _) = tungstenite::connect(page).expect("DevTools WebSocket");
        Some(Browser { child, profile, socket, next_id: 1 })
    }

    /// Calls a DevTools method and returns its result.
    pub fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = serde_json::json!({ "id": id, "method": method, "params": params });
        self.socket.send(Message::text(message.to_string())).expect("sent");
        loop {
            let Message::Text(text) = self.socket.read().expect("DevTools answers") else {
                continue;
            };
            let reply: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    pub fn eval(&mut self, expression: &str) -> serde_json::Value {
        let result = self.call("Runtime.evaluate", serde_json::json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }));
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) {
        let started = Instant::now();
        while self.eval(&format!("Boolean({expression})")) != serde_json::json!(true) {
            assert!(started.elapsed() < timeout, "the page never got to: {expression}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page as a PNG.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let result = self.call("Page.captureScreenshot", serde_json::json!({ "format": "png" }));
        infogan::io::base64::decode(result["data"].as_str().expect("image data")).expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
