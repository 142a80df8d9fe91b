//! `report.html`: one self-contained page (inline SVG charts, images as data URIs) that opens
//! offline in any browser: the run's configuration as a table, the curves of both bounds, the
//! losses, D's outputs and the throughput, held-out scores over time, the newest sample grid of
//! every code (scaled up, rows labelled), and the newest evaluation.

use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::files::write_atomically;
use crate::io::base64;
use crate::io::chart::{escape, heat_map};
use crate::json::read_lines as json_lines;
use crate::model::config::TrainConfig;
use crate::train::report_charts::{charts, field, read_config};

/// The configuration as a table, the networks as one line each.
fn config_table(config: &TrainConfig) -> String {
    let latent = &config.latent;
    let slots = config.model.width_slots();
    let widths: Vec<String> =
        slots.iter().zip(&config.widths).map(|((n, _), v)| format!("{n} {v}")).collect();
    let mut rows: Vec<(&str, String)> = vec![
        ("data", config.data.clone()),
        ("model", config.model.name().to_string()),
        ("image", crate::data::describe(config.network.image)),
        (
            "latent",
            format!(
                "{} noise, categorical {:?}, {} continuous ({} inputs)",
                latent.noise,
                latent.categorical,
                latent.continuous,
                latent.width()
            ),
        ),
        ("widths", widths.join(", ")),
        ("batch, seed", format!("{}, {}", config.batch, config.seed)),
        (
            "Adam lr D / G",
            format!("{} / {} (beta1 0.5)", config.optimiser.lr_d, config.optimiser.lr_g),
        ),
        (
            "lambda cat / cont",
            format!("{} / {}", config.optimiser.lambda_cat, config.optimiser.lambda_cont),
        ),
        ("Q's std", if config.learned_std { "learned".into() } else { "1 (fixed)".into() }),
        ("LeakyReLU slope", config.leak.to_string()),
        ("wiring", config.wiring.name().into()),
    ];
    if let Some(n) = config.max_images {
        rows.push(("max images", n.to_string()));
    }
    if let Some(s) = config.schedule {
        let probes = if s.probe_every == 0 {
            "no probes".to_string()
        } else {
            format!("probes every {} ({} steps each)", s.probe_every, s.probe_steps)
        };
        rows.push((
            "cadence",
            format!(
                "log every {}, grids and evaluation every {}, checkpoint every {} (newest {} kept), {probes}",
                s.log_every, s.sample_every, s.checkpoint_every, s.keep
            ),
        ));
    }
    let [g, d, q] = config.network.summary();
    rows.extend([("G", g), ("D", d), ("Q", q)]);
    let mut html = String::from("<table class=\"config\">");
    for (key, value) in rows {
        html += &format!("<tr><th>{}</th><td>{}</td></tr>", escape(key), escape(&value));
    }
    html + "</table>"
}

/// What a grid file shows, from its name `step-N-catJ[-batchstats].png` or `step-N-contJ.png`:
/// (continuous, code J, batch statistics).
fn grid_kind(name: &str) -> Option<(bool, usize, bool)> {
    let rest = name.strip_prefix("step-")?.split_once('-')?.1.strip_suffix(".png")?;
    let (what, batch_stats) = match rest.strip_suffix("-batchstats") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    match what.strip_prefix("cat") {
        Some(j) => Some((false, j.parse().ok()?, batch_stats)),
        None => Some((true, what.strip_prefix("cont")?.parse().ok()?, batch_stats)),
    }
}

/// The newest step with grids, and its grid files (name, PNG bytes), in code order.
fn newest_grids(samples: &Path) -> (Option<u64>, Vec<(String, Vec<u8>)>) {
    let names: Vec<String> = std::fs::read_dir(samples)
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let step_of =
        |n: &str| -> Option<u64> { n.strip_prefix("step-")?.split('-').next()?.parse().ok() };
    let Some(newest) = names.iter().filter_map(|n| step_of(n)).max() else {
        return (None, Vec::new());
    };
    let mut grids: Vec<(String, Vec<u8>)> = names
        .iter()
        .filter(|n| step_of(n) == Some(newest) && n.ends_with(".png"))
        .filter_map(|n| Some((n.clone(), std::fs::read(samples.join(n)).ok()?)))
        .collect();
    grids.sort_by_key(|(n, _)| grid_kind(n));
    (Some(newest), grids)
}

/// One grid as a figure: scaled up with crisp pixels, each row labelled, a caption.
fn grid_figure(name: &str, png: &[u8], config: Option<&TrainConfig>) -> String {
    let (width, height) = png_size(png).unwrap_or((300, 300));
    // Small tiles (28 or 32 pixels) at two or three times their size; 64-pixel tiles as they are.
    let scale = (640 / width.max(1)).clamp(1, 3);
    let Some(config) = config else {
        return format!("<figure><img src=\"data:image/png;base64,{}\" width=\"{}\"><figcaption>{}</figcaption></figure>", base64::encode(png), width * scale, escape(name));
    };
    let latent = &config.latent;
    let side = config.network.image[1];
    let rows = (height - 2) / (side + 2);
    let (continuous, code, batch_stats) = grid_kind(name).unwrap_or((false, 0, false));
    let (labels, caption): (Vec<String>, String) = if !continuous {
        let batch = if batch_stats { ", batch norm on the grid's own statistics" } else { "" };
        ((0..rows).map(|r| format!("c{code} = {r}")).collect(), format!("categorical code {code}: one row per category; columns: fixed draws of the noise and the other codes{batch}"))
    } else if !latent.categorical.is_empty() {
        ((0..rows).map(|r| format!("c0 = {r}")).collect(), format!("continuous code {code} swept from -2 to 2 along the columns; rows: the first code's categories"))
    } else {
        (
            (0..rows).map(|r| format!("sample {r}")).collect(),
            format!(
                "continuous code {code} swept from -2 to 2 along the columns; rows: noise draws"
            ),
        )
    };
    let row_px = (side + 2) * scale;
    let cols = (width - 2) / (side + 2);
    // Column headings: the swept value for a continuous code, else the column's number.
    let heading = |c: usize| {
        if continuous {
            format!("{:+.1}", -2.0 + 4.0 * c as f64 / (cols.max(2) - 1) as f64)
        } else {
            format!("{c}")
        }
    };
    let mut html = format!(
        "<figure class=\"grid\"><div></div><div class=\"columns\" style=\"padding-left:{}px\">",
        2 * scale
    );
    for c in 0..cols {
        html += &format!("<div style=\"width:{row_px}px\">{}</div>", heading(c));
    }
    html += &format!("</div><div class=\"labels\" style=\"padding-top:{}px\">", 2 * scale);
    for label in labels {
        html += &format!(
            "<div style=\"height:{row_px}px;line-height:{row_px}px\">{}</div>",
            escape(&label)
        );
    }
    html += &format!(
        "</div><img src=\"data:image/png;base64,{}\" width=\"{}\" height=\"{}\" alt=\"{}\"><figcaption>{}: {}</figcaption></figure>",
        base64::encode(png),
        width * scale,
        height * scale,
        escape(name),
        escape(name),
        escape(&caption)
    );
    html
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> Option<(usize, usize)> {
    let word = |at: usize| -> Option<usize> {
        Some(u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    (png.get(12..16)? == b"IHDR").then_some((word(16)?, word(20)?))
}

/// The code x factor information table of one evaluation as a heat map.
fn factor_heat_map(factors: &Value) -> Option<String> {
    let strings = |key: &str| -> Option<Vec<String>> {
        factors.get(key)?.as_array()?.iter().map(|v| v.as_str().map(str::to_owned)).collect()
    };
    let (codes, names) = (strings("codes")?, strings("factors")?);
    let entropy: Vec<f64> =
        factors.get("factor_entropy")?.as_array()?.iter().filter_map(Value::as_f64).collect();
    let columns: Vec<String> =
        names.iter().zip(&entropy).map(|(n, h)| format!("{n} (H {h:.2})")).collect();
    let mi: Vec<Vec<f64>> = factors
        .get("mi")?
        .as_array()?
        .iter()
        .map(|row| {
            row.as_array().map(|r| r.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
        })
        .collect();
    let mig = factors.get("mig")?.as_f64()?;
    Some(heat_map(
        &format!("information between codes and factors (nats); MIG {mig:.3}"),
        &codes,
        &columns,
        &mi,
    ))
}

fn eval_section(eval: &Value) -> String {
    let mut html = String::new();
    if let Some(map) = eval.pointer("/eval/factors").and_then(factor_heat_map) {
        html += &map;
    }
    for (key, title) in [
        ("eval", "batch norm with running statistics"),
        ("batch_stats", "batch norm with batch statistics"),
    ] {
        let Some(r) = eval.get(key) else { continue };
        html += &format!("<h3>{title}</h3>");
        if let Some(codes) = r.get("codes").and_then(Value::as_array) {
            let labelled = codes
                .iter()
                .any(|c| c.get("scores").and_then(Value::as_array).is_some_and(|s| !s.is_empty()));
            html += if labelled {
                "<table><tr><th>code</th><th>usage (nats)</th><th>ln K</th><th>against</th><th>accuracy one-to-one</th><th>many-to-one</th><th>NMI</th></tr>"
            } else {
                "<p>no labels: each code's usage, the entropy of its argmax over the held-out images</p><table><tr><th>code</th><th>usage (nats)</th><th>ln K</th></tr>"
            };
            for c in codes {
                let base = format!(
                    "<td>{}</td><td>{:.3}</td><td>{:.3}</td>",
                    c.get("code").and_then(Value::as_u64).unwrap_or(0),
                    field(c, &["usage_nats"]).unwrap_or(f64::NAN),
                    field(c, &["ln_k"]).unwrap_or(f64::NAN)
                );
                let scores = c.get("scores").and_then(Value::as_array).cloned().unwrap_or_default();
                if scores.is_empty() {
                    html += &format!("<tr>{base}</tr>");
                }
                for s in scores {
                    html += &format!(
                        "<tr>{base}<td>{}</td><td>{:.1}%</td><td>{:.1}%</td><td>{:.3}</td></tr>",
                        escape(s.get("labels").and_then(Value::as_str).unwrap_or("")),
                        100.0 * field(&s, &["accuracy_hungarian"]).unwrap_or(f64::NAN),
                        100.0 * field(&s, &["accuracy_majority"]).unwrap_or(f64::NAN),
                        field(&s, &["nmi"]).unwrap_or(f64::NAN)
                    );
                }
            }
            html += "</table>";
        }
        let Some(rows) = r.get("confusion").and_then(Value::as_array) else {
            continue;
        };
        let mapping =
            r.get("mapping_hungarian").and_then(Value::as_array).cloned().unwrap_or_default();
        html += "<p>code 0 against the first labels: rows are Q's categories with the label the one-to-one mapping gives them</p><table><tr><th>category &rarr; label</th>";
        for l in 0..rows.first().and_then(Value::as_array).map_or(0, Vec::len) {
            html += &format!("<th>{l}</th>");
        }
        html += "</tr>";
        for (k, row) in rows.iter().enumerate() {
            let mapped = mapping.get(k).and_then(Value::as_u64);
            html += &format!(
                "<tr><th>{k} &rarr; {}</th>",
                mapped.map_or("-".into(), |m| m.to_string())
            );
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

const STYLE: &str = "body{font-family:sans-serif;max-width:1400px;margin:1em auto;padding:0 1em;color:#222}\
svg{margin:4px;border:1px solid #eee;vertical-align:top}\
table{border-collapse:collapse;font-size:12px;margin:6px 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}\
table.config th{text-align:left;background:#f4f4f4}table.config td{text-align:left;font-family:monospace}\
td.hit{background:#cfe8cf}figure{margin:8px 0}figure.grid{display:inline-grid;grid-template-columns:4.5em auto;column-gap:6px;vertical-align:top;margin:8px 24px 16px 0}\
figure.grid figcaption{grid-column:1 / span 2;font-size:12px;color:#444;max-width:40em}.labels{font-size:11px;color:#555;text-align:right}\
.columns{display:flex;font-size:10px;color:#555;text-align:center}\
img{image-rendering:pixelated}";

/// Rebuilds `OUT/report.html` from the files of the run folder.
pub fn write(out: &Path) -> Result<()> {
    let metrics = json_lines(&out.join("metrics.jsonl"));
    let evals = json_lines(&out.join("eval.jsonl"));
    let config = read_config(out);
    let last_step = metrics.last().and_then(|m| field(m, &["step"])).unwrap_or(0.0);
    let folder = escape(&out.display().to_string());
    let mut html = format!("<!doctype html><html><head><meta charset=\"utf-8\"><title>infogan run {folder}</title><style>{STYLE}</style></head><body>");
    html +=
        &format!("<h1>infogan run</h1><p>folder <code>{folder}</code>, step {last_step:.0}</p>");
    if let Some(c) = &config {
        html += "<h2>Configuration</h2>";
        html += &config_table(c);
    }
    let sessions = crate::train::sessions::describe(&json_lines(&out.join("sessions.jsonl")));
    if !sessions.is_empty() {
        html += "<h2>Sessions</h2><ul class=\"sessions\">";
        for line in sessions {
            html += &format!("<li>{}</li>", escape(&line));
        }
        html += "</ul>";
    }
    for (_, section, svg) in charts(out) {
        if !section.is_empty() {
            html += &format!("<h2>{section}</h2>");
        }
        html += &svg;
    }
    if let Some(last) = evals.last() {
        html +=
            &format!("<h2>Evaluation at step {:.0}</h2>", field(last, &["step"]).unwrap_or(0.0));
        html += &eval_section(last);
    }
    let (grid_step, grids) = newest_grids(&out.join("samples"));
    if let Some(step) = grid_step {
        html += &format!("<h2>Samples at step {step}</h2>");
        for (name, png) in grids {
            html += &grid_figure(&name, &png, config.as_ref());
        }
    }
    html += "</body></html>\n";
    write_atomically(&out.join("report.html"), html.as_bytes())
}
