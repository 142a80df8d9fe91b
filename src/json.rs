//! The JSON the project writes and reads back: figures rounded for humans, and JSON-lines logs
//! (metrics.jsonl, eval.jsonl, probes.jsonl) read leniently.

use std::path::Path;

/// `x` rounded to `decimals` places; non-finite values pass through.
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    if x.is_finite() {
        (x * scale).round() / scale
    } else {
        x
    }
}

/// The JSON lines of a file; a missing file reads as none, and a line that does not parse (a torn
/// last line after a kill) is skipped.
pub fn read_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        .unwrap_or_default()
}
