//! Writes a run's curves as standalone SVG files (the README's figures), with the same charts
//! as report.html: `cargo run --release --example readme_figures -- RUN_DIR OUT_DIR PREFIX`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, run, out, prefix] = &args[..] else {
        eprintln!("usage: readme_figures RUN_DIR OUT_DIR PREFIX");
        std::process::exit(2);
    };
    for (stem, _, svg) in infogan::io::report::charts(std::path::Path::new(run)) {
        let path = std::path::Path::new(out).join(format!("{prefix}-{stem}.svg"));
        if let Err(e) = std::fs::write(&path, svg) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("wrote {}", path.display());
    }
}
