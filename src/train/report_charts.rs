//! The curves of report.html, read from a run folder's logs: both bounds, the losses, D's
//! outputs, throughput, held-out scores, code usage and the probes, as inline SVG charts.

use std::path::Path;

use serde_json::Value;

use crate::io::chart::line_chart;
use crate::json::read_lines as json_lines;
use crate::model::config::TrainConfig;

/// `value[a][b]..` as f64.
pub fn field(value: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_f64()
}

fn series(lines: &[Value], path: &[&str]) -> Vec<(f64, f64)> {
    lines
        .iter()
        .filter_map(|v| Some((field(v, &["step"])?, field(v, path)?)))
        .filter(|(_, y)| y.is_finite())
        .collect()
}

/// Series of the `i`-th code's entry in each evaluation's `codes` list.
fn code_series(
    evals: &[Value],
    mode: &str,
    code: usize,
    value: impl Fn(&Value) -> Option<f64>,
) -> Vec<(f64, f64)> {
    evals
        .iter()
        .filter_map(|e| Some((field(e, &["step"])?, value(e.get(mode)?.get("codes")?.get(code)?)?)))
        .collect()
}

pub fn read_config(out: &Path) -> Option<TrainConfig> {
    TrainConfig::from_json(&std::fs::read_to_string(out.join("config.json")).ok()?).ok()
}

/// The run's curves as (file stem, title of their section, SVG).
pub fn charts(out: &Path) -> Vec<(&'static str, &'static str, String)> {
    let metrics = json_lines(&out.join("metrics.jsonl"));
    let evals = json_lines(&out.join("eval.jsonl"));
    let config = read_config(out);
    let (ln_k, continuous) = config.as_ref().map_or((0.0, 0), |c| {
        (c.latent.categorical.iter().map(|&k| (k as f64).ln()).sum(), c.latent.continuous)
    });
    let mut charts = Vec::new();
    if ln_k > 0.0 || config.is_none() {
        charts.push((
            "l_i_cat",
            "",
            line_chart(
                "L_I_cat = sum(ln K - CE), categorical MI bound",
                &[("L_I_cat", series(&metrics, &["L_I_cat"]))],
                (ln_k > 0.0).then_some(("H(c) = sum ln K", ln_k)),
            ),
        ));
    }
    if continuous > 0 || config.is_none() {
        charts.push((
            "l_i_cont",
            "",
            line_chart(
                "L_I_cont = sum(ln 2 - NLL), continuous MI bound",
                &[("L_I_cont", series(&metrics, &["L_I_cont"]))],
                (continuous > 0).then_some(("H(c)", continuous as f64 * 2f64.ln())),
            ),
        ));
    }
    if let Some(first) = charts.first_mut() {
        first.1 = "Bounds (nats)";
    }
    charts.extend([
        (
            "b_gan",
            "",
            line_chart(
                "B_GAN = ln 2 - (BCE_real + BCE_fake)/2",
                &[("B_GAN", series(&metrics, &["B_GAN"]))],
                Some(("ln 2", 2f64.ln())),
            ),
        ),
        (
            "losses",
            "Losses, D and throughput",
            line_chart(
                "losses",
                &[
                    ("loss_D", series(&metrics, &["loss_D"])),
                    ("loss_G", series(&metrics, &["loss_G"])),
                ],
                None,
            ),
        ),
        (
            "d_outputs",
            "",
            line_chart(
                "mean D output",
                &[
                    ("D(x)", series(&metrics, &["D_real", "mean"])),
                    ("D(G(z))", series(&metrics, &["D_fake", "mean"])),
                ],
                Some(("0.5", 0.5)),
            ),
        ),
        (
            "samples_per_s",
            "",
            line_chart(
                "samples/s over each logged interval",
                &[("samples/s", series(&metrics, &["samples_per_s"]))],
                None,
            ),
        ),
    ]);
    let labelled = evals.iter().any(|e| e.pointer("/eval/accuracy_hungarian").is_some());
    if labelled {
        charts.push((
            "accuracy",
            "Held-out images",
            line_chart(
                "held-out accuracy of code 0 (one-to-one mapping)",
                &[
                    ("BN eval", series(&evals, &["eval", "accuracy_hungarian"])),
                    ("BN batch stats", series(&evals, &["batch_stats", "accuracy_hungarian"])),
                ],
                None,
            ),
        ));
    }
    let probes = json_lines(&out.join("probes.jsonl"));
    if !probes.is_empty() {
        let li = |path: [&str; 2]| -> Vec<(f64, f64)> {
            probes
                .iter()
                .filter_map(|p| {
                    Some((
                        field(p, &["step"])?,
                        field(p, &[path[0], path[1], "L_I_cat"])?
                            + field(p, &[path[0], path[1], "L_I_cont"])?,
                    ))
                })
                .collect()
        };
        let li_train: Vec<(f64, f64)> = probes
            .iter()
            .filter_map(|p| {
                Some((
                    field(p, &["step"])?,
                    field(p, &["train", "L_I_cat"])? + field(p, &["train", "L_I_cont"])?,
                ))
            })
            .collect();
        charts.push((
            "probe_b_gan",
            "The bounds' slack: probes against the frozen G",
            line_chart(
                "B_GAN: training D vs probe discriminators",
                &[
                    ("training D", series(&probes, &["train", "B_GAN"])),
                    ("copy, best", series(&probes, &["copy", "best", "B_GAN"])),
                    ("fresh, best", series(&probes, &["scratch", "best", "B_GAN"])),
                ],
                Some(("ln 2", 2f64.ln())),
            ),
        ));
        charts.push((
            "probe_l_i",
            "",
            line_chart(
                "L_I: training Q vs probe recognisers",
                &[
                    ("training Q", li_train),
                    ("copy, best", li(["copy", "best"])),
                    ("fresh, best", li(["scratch", "best"])),
                ],
                None,
            ),
        ));
    }
    if evals.iter().any(|e| e.pointer("/eval/factors/mig").is_some()) {
        charts.push((
            "mig",
            "",
            line_chart(
                "MIG of the codes against the known factors",
                &[
                    ("BN eval", series(&evals, &["eval", "factors", "mig"])),
                    ("BN batch stats", series(&evals, &["batch_stats", "factors", "mig"])),
                ],
                None,
            ),
        ));
    }
    let codes = config.as_ref().map_or(0, |c| c.latent.categorical.len());
    if codes > 0 && !evals.is_empty() {
        let lines: Vec<(String, Vec<(f64, f64)>)> = (0..codes.min(5))
            .map(|code| {
                (
                    format!("code {code}"),
                    code_series(&evals, "eval", code, |c| {
                        Some(c.get("usage_nats")?.as_f64()? / c.get("ln_k")?.as_f64()?)
                    }),
                )
            })
            .collect();
        let named: Vec<(&str, Vec<(f64, f64)>)> =
            lines.iter().map(|(n, s)| (n.as_str(), s.clone())).collect();
        charts.push((
            "usage",
            if labelled { "" } else { "Held-out images" },
            line_chart(
                "code usage: entropy of the argmax / ln K",
                &named,
                Some(("all categories used", 1.0)),
            ),
        ));
    }
    charts
}
