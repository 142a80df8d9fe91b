//! Line charts and heat maps as inline SVG, with axes on round tick values (1, 2 or 5 times a
//! power of ten), for report.html and the README's figures.

/// A series with at most this many points draws a dot at each.
const SPARSE_POINTS: usize = 40;

const COLORS: [&str; 5] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Round tick values covering [lo, hi], about `count` of them: multiples of 1, 2 or 5 times a
/// power of ten.
pub fn ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick's label without float noise: as many decimals as the step needs.
fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10()).ceil() as usize };
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_string()
    } else {
        text
    }
}

/// A line chart of several series (x = step) with an optional dashed reference line.
pub fn line_chart(
    title: &str,
    lines: &[(&str, Vec<(f64, f64)>)],
    reference: Option<(&str, f64)>,
) -> String {
    let (w, h, left, right, top, bottom) = (460.0, 262.0, 56.0, 14.0, 30.0, 50.0);
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">");
    svg += &format!(
        "<text x=\"{left}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    let points: Vec<(f64, f64)> = lines.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    if points.is_empty() {
        return svg + "<text x=\"60\" y=\"120\">no data yet</text></svg>";
    }
    let (x0, x1) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    // One step alone sits in the middle of the axis.
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0 - 1.0, x0 + 1.0) };
    let ys = points.iter().map(|p| p.1).chain(reference.map(|r| r.1));
    let (mut y0, mut y1) =
        ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    if y1 - y0 < 1e-9 {
        (y0, y1) = (y0 - 0.5, y1 + 0.5);
    }
    let pad = 0.05 * (y1 - y0);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let px = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let py = |y: f64| top + (y1 - y) / (y1 - y0) * (h - top - bottom);
    svg += &format!(
        "<rect x=\"{left}\" y=\"{top}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        w - left - right,
        h - top - bottom
    );
    let y_ticks = ticks(y0, y1, 5);
    let y_step = if y_ticks.len() > 1 { y_ticks[1] - y_ticks[0] } else { 1.0 };
    for &y in &y_ticks {
        svg += &format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>",
            w - right,
            py(y),
            py(y)
        );
        svg += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 4.0,
            py(y) + 4.0,
            tick_label(y, y_step)
        );
    }
    // x is a training step: whole numbers only.
    let x_ticks: Vec<f64> = ticks(x0, x1, 5).into_iter().filter(|x| x.fract() == 0.0).collect();
    let x_step = if x_ticks.len() > 1 { x_ticks[1] - x_ticks[0] } else { 1.0 };
    for &x in &x_ticks {
        svg += &format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
            px(x),
            px(x),
            h - bottom,
            h - bottom + 4.0
        );
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            px(x),
            h - bottom + 15.0,
            tick_label(x, x_step)
        );
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#666\">x: training step</text>",
        w - right,
        16.0
    );
    if let Some((label, y)) = reference {
        let yy = py(y);
        svg += &format!("<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>", w - right);
        svg += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#666\">{}</text>",
            w - right - 4.0,
            yy - 3.0,
            escape(label)
        );
    }
    for (i, (name, s)) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> =
            s.iter().map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>",
            path.join(" ")
        );
        // Sparse series (evaluations every few hundred steps) mark their points, so that one
        // evaluation shows as a dot rather than as nothing.
        if s.len() <= SPARSE_POINTS {
            for &(x, y) in s {
                svg += &format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"/>",
                    px(x),
                    py(y)
                );
            }
        }
        svg += &format!(
            "<text x=\"{}\" y=\"{}\" fill=\"{color}\">{}</text>",
            left + 4.0 + 80.0 * i as f64,
            h - bottom + 30.0,
            escape(name)
        );
    }
    svg + "</svg>"
}

/// A heat map of `values[row][col]` in [0, max] with each cell's value written in it.
pub fn heat_map(title: &str, rows: &[String], cols: &[String], values: &[Vec<f64>]) -> String {
    let (cell_w, cell_h, left, top) = (88.0, 24.0, 110.0, 58.0);
    // Wide enough for the title too (bold 13 px sans-serif: about 7.5 px a character).
    let w =
        (left + cell_w * cols.len() as f64 + 10.0).max(8.0 + 7.5 * title.chars().count() as f64);
    let h = top + cell_h * rows.len() as f64 + 10.0;
    let max = values.iter().flatten().copied().fold(1e-9, f64::max);
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">");
    svg += &format!(
        "<text x=\"4\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(title)
    );
    // Column headings on up to two lines, split at the first space.
    for (j, col) in cols.iter().enumerate() {
        let x = left + cell_w * (j as f64 + 0.5);
        let (first, second) = col.split_once(' ').unwrap_or((col, ""));
        svg += &format!(
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            top - 20.0,
            escape(first)
        );
        svg += &format!(
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">{}</text>",
            top - 6.0,
            escape(second)
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = top + cell_h * i as f64;
        svg += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + cell_h * 0.65,
            escape(row)
        );
        for (j, &v) in values.get(i).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
            let shade = (255.0 * (1.0 - (v / max).clamp(0.0, 1.0))) as u8;
            let x = left + cell_w * j as f64;
            svg += &format!("<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell_w}\" height=\"{cell_h}\" fill=\"rgb({shade},{shade},255)\" stroke=\"#fff\"/>");
            let ink = if shade < 120 { "#fff" } else { "#000" };
            svg += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\">{v:.3}</text>",
                x + cell_w / 2.0,
                y + cell_h * 0.65
            );
        }
    }
    svg + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(ticks(0.0, 250.0, 5), vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0]);
        assert_eq!(ticks(1.0, 1000.0, 5), vec![200.0, 400.0, 600.0, 800.0, 1000.0]);
        let t = ticks(-0.55, 0.21, 4);
        assert_eq!(t.len(), 4);
        assert!(t.iter().all(|v| ((v / 0.2).round() * 0.2 - v).abs() < 1e-9), "{t:?}");
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(-0.0, 0.2), "0.0");
        assert_eq!(tick_label(63.0 * 2.0, 50.0), "126");
    }

    #[test]
    fn one_evaluation_is_a_dot_in_the_middle_on_whole_steps() {
        let svg = line_chart("accuracy", &[("eval", vec![(4.0, 0.337)])], None);
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        let middle = 56.0 + (460.0 - 56.0 - 14.0) / 2.0;
        assert!(svg.contains(&format!("cx=\"{middle:.1}\"")), "{svg}");
        let x_labels: Vec<&str> = svg
            .split("text-anchor=\"middle\">")
            .skip(1)
            .map(|t| t.split('<').next().unwrap_or(""))
            .collect();
        assert_eq!(x_labels, ["3", "4", "5"]);
        let dense: Vec<(f64, f64)> =
            (0..=SPARSE_POINTS).map(|i| (i as f64, (i as f64).sin())).collect();
        assert_eq!(line_chart("loss", &[("loss", dense)], None).matches("<circle").count(), 0);
    }
}
