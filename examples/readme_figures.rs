//! The README's figures, drawn with the same charts as report.html.
//!
//! `cargo run --release --example readme_figures -- RUN_DIR OUT_DIR PREFIX` writes one run's
//! curves as standalone SVG files; `... -- --accuracy OUT.svg RUN_DIR...` draws the held-out
//! accuracy of several runs (seeds) in one chart, one line per run named after its folder.

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match &args[1..] {
        [flag, out, runs @ ..] if flag == "--accuracy" && !runs.is_empty() => accuracy_chart(Path::new(out), runs),
        [run, out, prefix] => run_charts(Path::new(run), Path::new(out), prefix),
        _ => Err("usage: readme_figures RUN_DIR OUT_DIR PREFIX | readme_figures --accuracy OUT.svg RUN_DIR...".to_string()),
    };
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run_charts(run: &Path, out: &Path, prefix: &str) -> Result<(), String> {
    for (stem, _, svg) in infogan::train::report_charts::charts(run) {
        write(&out.join(format!("{prefix}-{stem}.svg")), &svg)?;
    }
    Ok(())
}

/// Held-out accuracy (one-to-one mapping, batch norm in eval mode) of each run's eval.jsonl.
fn accuracy_chart(out: &Path, runs: &[String]) -> Result<(), String> {
    let mut lines = Vec::new();
    for run in runs {
        let path = Path::new(run).join("eval.jsonl");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut series = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("{}: {e}", path.display()))?;
            if let (Some(step), Some(accuracy)) =
                (value["step"].as_f64(), value["eval"]["accuracy_hungarian"].as_f64())
            {
                series.push((step, accuracy));
            }
        }
        let name =
            Path::new(run).file_name().map_or(run.clone(), |n| n.to_string_lossy().into_owned());
        lines.push((name, series));
    }
    let lines: Vec<(&str, Vec<(f64, f64)>)> =
        lines.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
    let svg = infogan::io::chart::line_chart(
        "held-out accuracy (one-to-one)",
        &lines,
        Some(("paper: 0.95", 0.95)),
    );
    write(out, &svg)
}

fn write(path: &Path, svg: &str) -> Result<(), String> {
    std::fs::write(path, svg).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
