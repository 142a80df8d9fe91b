//! `report.html`: one self-contained page (inline SVG curves, images as data URIs) that opens
//! offline in any browser: the run's configuration, the curves of both bounds and the losses,
//! held-out accuracy over time, the newest sample grids and the newest evaluation table.

use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::files::write_atomically;
use crate::io::base64;

const COLORS: [&str; 4] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// `value[a][b]..` as f64.
fn field(value: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_f64()
}

fn series(lines: &[Value], path: &[&str]) -> Vec<(f64, f64)> {
    lines.iter().filter_map(|v| Some((field(v, &["step"])?, field(v, path)?))).filter(|(_, y)| y.is_finite()).collect()
}

/// A line chart of several series against the step, with an optional dashed reference line.
pub fn chart(title: &str, lines: &[(&str, Vec<(f64, f64)>)], reference: Option<(&str, f64)>) -> String {
    let (w, h, left, right, top, bottom) = (460.0, 240.0, 52.0, 12.0, 26.0, 30.0);
    let points: Vec<(f64, f64)> = lines.iter().flat_map(|(_, s)| s.iter().copied()).chain(reference.map(|(_, y)| (f64::NAN, y))).collect();
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">");
    svg += &format!("<text x=\"{left}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>", escape(title));
    if points.iter().all(|p| !p.1.is_finite()) {
        return svg + "<text x=\"60\" y=\"120\">no data yet</text></svg>";
    }
    let xs = points.iter().map(|p| p.0).filter(|x| x.is_finite());
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (x0, x1) = if x0.is_finite() { (x0, if x1 > x0 { x1 } else { x0 + 1.0 }) } else { (0.0, 1.0) };
    let (mut y0, mut y1) = points.iter().map(|p| p.1).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    if y1 - y0 < 1e-9 {
        (y0, y1) = (y0 - 0.5, y1 + 0.5);
    }
    let pad = 0.05 * (y1 - y0);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let px = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let py = |y: f64| top + (y1 - y) / (y1 - y0) * (h - top - bottom);
    svg += &format!("<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>", w - left - right, h - top - bottom);
    for i in 0..=4 {
        let y = y0 + (y1 - y0) * f64::from(i) / 4.0;
        svg += &format!("<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{:.3}</text>", left - 4.0, py(y) + 4.0, y);
        let x = x0 + (x1 - x0) * f64::from(i) / 4.0;
        svg += &format!("<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{:.0}</text>", px(x), h - bottom + 14.0, x);
    }
    if let Some((label, y)) = reference {
        let (x2, yy, tx) = (w - right, py(y), w - right - 4.0);
        svg += &format!("<line x1=\"{left}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>");
        svg += &format!("<text x=\"{tx}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#666\">{}</text>", yy - 3.0, escape(label));
    }
    for (i, (name, s)) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = s.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        svg += &format!("<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>", path.join(" "));
        svg += &format!("<text x=\"{}\" y=\"{}\" fill=\"{color}\">{}</text>", left + 8.0 + 110.0 * i as f64, h - 2.0, escape(name));
    }
    svg + "</svg>"
}

fn newest_grids(samples: &Path) -> (Option<u64>, Vec<(String, String)>) {
    let names: Vec<String> = std::fs::read_dir(samples).map(|d| d.flatten().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect()).unwrap_or_default();
    let step_of = |n: &str| -> Option<u64> { n.strip_prefix("step-")?.split('-').next()?.parse().ok() };
    let Some(newest) = names.iter().filter_map(|n| step_of(n)).max() else { return (None, Vec::new()) };
    let mut grids: Vec<(String, String)> = names
        .iter()
        .filter(|n| step_of(n) == Some(newest) && n.ends_with(".png"))
        .filter_map(|n| Some((n.clone(), base64::encode(&std::fs::read(samples.join(n)).ok()?))))
        .collect();
    grids.sort();
    (Some(newest), grids)
}

fn eval_table(eval: &Value) -> String {
    let mut html = String::new();
    for (key, title) in [("eval", "batch norm with running statistics"), ("batch_stats", "batch norm with batch statistics")] {
        let Some(r) = eval.get(key) else { continue };
        html += &format!(
            "<h3>{title}</h3><p>accuracy {:.1}% one-to-one (Hungarian), {:.1}% many-to-one (majority); NMI {:.3}; {} images</p>",
            100.0 * field(r, &["accuracy_hungarian"]).unwrap_or(f64::NAN),
            100.0 * field(r, &["accuracy_majority"]).unwrap_or(f64::NAN),
            field(r, &["nmi"]).unwrap_or(f64::NAN),
            field(r, &["images"]).unwrap_or(0.0)
        );
        let Some(rows) = r.get("confusion").and_then(Value::as_array) else { continue };
        let mapping = r.get("mapping_hungarian").and_then(Value::as_array).cloned().unwrap_or_default();
        html += "<table><tr><th>category &rarr; label</th>";
        for l in 0..rows.first().and_then(Value::as_array).map_or(0, Vec::len) {
            html += &format!("<th>{l}</th>");
        }
        html += "</tr>";
        for (k, row) in rows.iter().enumerate() {
            let mapped = mapping.get(k).and_then(Value::as_u64);
            html += &format!("<tr><th>{k} &rarr; {}</th>", mapped.map_or("-".into(), |m| m.to_string()));
            for (l, n) in row.as_array().into_iter().flatten().enumerate() {
                let hit = mapped == Some(l as u64);
                html += &format!("<td{}>{}</td>", if hit { " class=\"hit\"" } else { "" }, n);
            }
            html += "</tr>";
        }
        html += "</table>";
    }
    html
}

/// The run's curves as (file stem, SVG): the three bounds, losses, D's outputs, samples/s and
/// held-out accuracy.
pub fn charts(out: &Path) -> Vec<(&'static str, String)> {
    let metrics = json_lines(&out.join("metrics.jsonl"));
    let evals = json_lines(&out.join("eval.jsonl"));
    let config: Value = serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap_or_default()).unwrap_or(Value::Null);
    let ln_k: f64 = config.pointer("/latent/categorical").and_then(Value::as_array).map_or(0.0, |ks| ks.iter().filter_map(Value::as_f64).map(f64::ln).sum());
    let continuous = config.pointer("/latent/continuous").and_then(Value::as_f64).unwrap_or(0.0);
    vec![
        ("l_i_cat", chart("L_I_cat = ln K - CE (categorical MI bound)", &[("L_I_cat", series(&metrics, &["L_I_cat"]))], (ln_k > 0.0).then_some(("H(c) = ln K", ln_k)))),
        ("l_i_cont", chart("L_I_cont = sum(ln 2 - NLL)", &[("L_I_cont", series(&metrics, &["L_I_cont"]))], (continuous > 0.0).then_some(("H(c)", continuous * 2f64.ln())))),
        ("b_gan", chart("B_GAN = ln 2 - (BCE_real + BCE_fake)/2", &[("B_GAN", series(&metrics, &["B_GAN"]))], Some(("ln 2", 2f64.ln())))),
        ("losses", chart("losses", &[("loss_D", series(&metrics, &["loss_D"])), ("loss_G", series(&metrics, &["loss_G"]))], None)),
        ("d_outputs", chart("mean D output", &[("D(x)", series(&metrics, &["D_real", "mean"])), ("D(G(z))", series(&metrics, &["D_fake", "mean"]))], Some(("0.5", 0.5)))),
        ("samples_per_s", chart("samples/s", &[("samples/s", series(&metrics, &["samples_per_s"]))], None)),
        (
            "accuracy",
            chart(
                "held-out accuracy (one-to-one mapping)",
                &[("BN eval", series(&evals, &["eval", "accuracy_hungarian"])), ("BN batch stats", series(&evals, &["batch_stats", "accuracy_hungarian"]))],
                None,
            ),
        ),
    ]
}

/// Rebuilds `OUT/report.html` from the files of the run folder.
pub fn write(out: &Path) -> Result<()> {
    let metrics = json_lines(&out.join("metrics.jsonl"));
    let evals = json_lines(&out.join("eval.jsonl"));
    let config = std::fs::read_to_string(out.join("config.json")).unwrap_or_default();
    let last_step = metrics.last().and_then(|m| field(m, &["step"])).unwrap_or(0.0);
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>infogan run</title><style>\
body{font-family:sans-serif;max-width:1000px;margin:1em auto;color:#222}svg{margin:4px;border:1px solid #eee}\
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}\
td.hit{background:#cfe8cf}img{image-rendering:pixelated;width:300px;margin:4px}code{font-size:11px}</style></head><body>",
    );
    html += &format!("<h1>infogan run: {}</h1><p>step {last_step:.0}; folder <code>{}</code></p>", escape(&out.display().to_string()), escape(&out.display().to_string()));
    html += &format!("<p>configuration: <code>{}</code></p>", escape(&config));
    let charts = charts(out);
    for (i, (_, svg)) in charts.iter().enumerate() {
        html += match i {
            0 => "<h2>Bounds (nats)</h2>",
            3 => "<h2>Losses and D</h2>",
            6 => "<h2>Held-out accuracy of the categorical code</h2>",
            _ => "",
        };
        html += svg;
    }
    if let Some(last) = evals.last() {
        html += &format!("<h3>evaluation at step {:.0}</h3>", field(last, &["step"]).unwrap_or(0.0));
        html += &eval_table(last);
    }
    let (grid_step, grids) = newest_grids(&out.join("samples"));
    if let Some(step) = grid_step {
        html += &format!("<h2>Samples at step {step}</h2><p>rows: categories of the first code; columns: fixed noise (cat) or the continuous code swept over -2..2 (contJ).</p>");
        for (name, data) in grids {
            html += &format!("<figure style=\"display:inline-block\"><img src=\"data:image/png;base64,{data}\" alt=\"{0}\"><figcaption>{0}</figcaption></figure>", escape(&name));
        }
    }
    html += "</body></html>\n";
    write_atomically(&out.join("report.html"), html.as_bytes())
}
