//! `infogan explore`: the model is loaded and the port bound before anything is printed, so a
//! missing checkpoint, a corrupt file or a port in use is one line and exit status 1.

use std::net::IpAddr;

use infogan::explore::{self, ExploreOptions, Explorer};
use infogan::train::run::Outcome;
use infogan::{Gpu, GpuOptions};

pub fn explore(gpu_options: GpuOptions, options: ExploreOptions) -> infogan::Result<Outcome> {
    let explorer = Explorer::new(Gpu::new(&gpu_options)?, &options.source)?;
    let (server, addr) = explore::bind(options.host, options.port)?;
    let url = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("http://127.0.0.1:{}/", addr.port()),
        _ => format!("http://{addr}/"),
    };
    if !options.host.is_loopback() {
        println!("note: listening on {addr}: anyone who can reach this machine can use the page");
    }
    println!(
        "exploring {} with {} at {url} (Ctrl-C to stop)",
        options.source.display(),
        explorer.adapter_name()
    );
    if options.open {
        explore::open_in_browser(&url);
    }
    explore::serve(&explorer, &server);
    Ok(Outcome::Finished)
}
