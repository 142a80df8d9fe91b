//! `infogan explore`: a local web page that turns a trained model's codes and redraws G's grid
//! as they move. One HTTP server (tiny_http) on one thread, which also owns the GPU: requests
//! queue in the server and are answered one after another, so concurrent requests never make a
//! second device. Each grid request is one `GridRequest`, drawn by the same kernels and the same
//! function as `infogan sample`, so the page's pixels are the command's.
//!
//! Routes: `GET /` the page (embedded: no file, CDN or font from elsewhere), `GET /api/model` the
//! model's codes and what each is known to capture, `POST /api/grid` a grid as PNG. A bad request
//! is answered 400 with one line; the server keeps serving.

pub mod api;
pub mod latency;

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use tiny_http::{Header, Method, Request, Response, Server};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::io::grid;
use crate::model::networks::InfoGan;
use crate::train::checkpoint::{self, Checkpoint};

/// The page: HTML, CSS and JavaScript in one file, served as is.
const PAGE: &str = include_str!("page.html");

/// Where to listen and what to show.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    /// A run folder (its newest checkpoint, and its evaluations) or a checkpoint file.
    pub source: PathBuf,
    pub host: IpAddr,
    /// 0: a free port.
    pub port: u16,
    /// Open the page in the desktop's browser, where there is one.
    pub open: bool,
}

/// A loaded model, ready to draw.
pub struct Explorer {
    gpu: Gpu,
    checkpoint: Checkpoint,
    model: InfoGan,
    /// The run folder, when the checkpoint lies in one (for its evaluations).
    run: Option<PathBuf>,
}

impl Explorer {
    /// Loads the checkpoint and builds its networks on `gpu`.
    pub fn new(gpu: Gpu, source: &Path) -> Result<Explorer> {
        let path = checkpoint::resolve(source)?;
        let checkpoint = checkpoint::load(&path)?;
        let model = checkpoint.model(&gpu)?;
        let run = run_folder(source, &path);
        Ok(Explorer { gpu, checkpoint, model, run })
    }

    /// The answer to one request: status, content type and body.
    pub fn answer(&self, method: &Method, url: &str, body: &[u8]) -> (u16, &'static str, Vec<u8>) {
        let path = url.split('?').next().unwrap_or(url);
        match (method, path) {
            (Method::Get, "/") => (200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec()),
            (Method::Get, "/api/model") => {
                let config = &self.checkpoint.config;
                let description = api::model_description(
                    config,
                    self.checkpoint.step,
                    &self.checkpoint.path,
                    self.run.as_deref(),
                );
                (200, "application/json", description.to_string().into_bytes())
            }
            (Method::Post, "/api/grid") => match self.grid(body) {
                Ok(png) => (200, "image/png", png),
                Err((status, e)) => {
                    (status, "text/plain; charset=utf-8", format!("{e}\n").into_bytes())
                }
            },
            (_, "/" | "/api/model" | "/api/grid") => {
                (405, "text/plain; charset=utf-8", b"method not allowed here\n".to_vec())
            }
            _ => (404, "text/plain; charset=utf-8", format!("no such page: {path}\n").into_bytes()),
        }
    }

    /// A grid request's PNG, or the status and message of its error (400 for the request's own
    /// faults, 500 for the GPU's).
    fn grid(&self, body: &[u8]) -> std::result::Result<Vec<u8>, (u16, Error)> {
        let config = &self.checkpoint.config;
        let (request, mode) = api::grid_request(body, config).map_err(|e| (400, e))?;
        let draw = || -> Result<Vec<u8>> {
            let (images, rows) = self.model.draw_grid(&self.gpu, &config.latent, &request, mode)?;
            grid::png_bytes(&images, rows, request.cols, config.network.image)
        };
        draw().map_err(|e| (500, e))
    }

    pub fn adapter_name(&self) -> String {
        self.gpu.adapter_name()
    }
}

/// The run folder of a source given as a folder, or of a checkpoint in a run's `checkpoints/`.
fn run_folder(source: &Path, checkpoint: &Path) -> Option<PathBuf> {
    if source.is_dir() {
        return Some(source.to_path_buf());
    }
    let dir = checkpoint.parent()?;
    (dir.file_name()? == "checkpoints").then(|| dir.parent().map(Path::to_path_buf)).flatten()
}

/// Binds the server (nothing is served yet). A port in use or an address that cannot be bound is
/// an error naming it.
pub fn bind(host: IpAddr, port: u16) -> Result<(Server, SocketAddr)> {
    let wanted = SocketAddr::new(host, port);
    let server = Server::http(wanted).map_err(|e| {
        let in_use = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse);
        if in_use {
            Error::new(format!(
                "{wanted} is in use; choose another --port, or leave it out for a free one"
            ))
        } else {
            Error::new(format!("cannot listen on {wanted}: {e}"))
        }
    })?;
    let addr =
        server.server_addr().to_ip().ok_or_else(|| Error::new("the server has no IP address"))?;
    Ok((server, addr))
}

/// Serves `explorer` until the process is stopped.
pub fn serve(explorer: &Explorer, server: &Server) {
    for mut request in server.incoming_requests() {
        let mut body = Vec::new();
        let read = request.as_reader().take(api::MAX_BODY as u64 + 1).read_to_end(&mut body);
        let (status, kind, bytes) = match read {
            Err(e) => (
                400,
                "text/plain; charset=utf-8",
                format!("unreadable request body: {e}\n").into_bytes(),
            ),
            Ok(_) if body.len() > api::MAX_BODY => (
                413,
                "text/plain; charset=utf-8",
                format!("request body over {} bytes\n", api::MAX_BODY).into_bytes(),
            ),
            Ok(_) => explorer.answer(request.method(), request.url(), &body),
        };
        respond(request, status, kind, bytes);
    }
}

fn respond(request: Request, status: u16, kind: &str, bytes: Vec<u8>) {
    let mut response = Response::from_data(bytes).with_status_code(status);
    if let Ok(header) = Header::from_bytes("Content-Type", kind) {
        response.add_header(header);
    }
    if let Ok(header) = Header::from_bytes("Cache-Control", "no-store") {
        response.add_header(header);
    }
    // A client that went away is not the server's error.
    let _ = request.respond(response);
}

/// Opens `url` in the desktop's browser where there is a desktop; says so when it cannot.
pub fn open_in_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if cfg!(target_os = "windows") {
        Some("explorer")
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some("xdg-open")
    } else {
        None
    };
    let opened = opener.is_some_and(|program| {
        std::process::Command::new(program)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    });
    if !opened {
        println!("(no desktop browser here: open the address above in one)");
    }
}
