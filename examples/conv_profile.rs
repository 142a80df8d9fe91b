// Per-kernel GPU time of each pass of the paper's thin conv layers (dev tool).
use infogan::bench::pseudo_random;
use infogan::ops::conv;
fn main() -> infogan::Result<()> {
    let gpu = infogan::Gpu::new(&Default::default())?;
    gpu.set_profiling(true)?;
    for (transposed, c_in, c_out, side) in [(false, 1, 64, 28), (true, 64, 1, 14), (false, 64, 128, 14), (true, 128, 64, 7)] {
        let (k, s, p) = ((4, 4), (2, 2), (1, 1));
        let g = if transposed { conv::transposed_geom(64, c_in, side, side, c_out, k, s, p)? } else { conv::ConvGeom { n: 64, c_in, h: side, w: side, c_out, kernel: k, stride: s, padding: p } };
        let x_shape = if transposed { g.output_shape() } else { g.input_shape() };
        let y_shape = if transposed { g.input_shape() } else { g.output_shape() };
        let w_shape = [g.c_out, g.c_in, 4, 4];
        let x = gpu.upload(&x_shape, &pseudo_random(x_shape.iter().product(), 3))?;
        let w = gpu.upload(&w_shape, &pseudo_random(w_shape.iter().product(), 4))?;
        let dy = gpu.upload(&y_shape, &pseudo_random(y_shape.iter().product(), 5))?;
        let (dx, dw) = (gpu.empty(&x_shape), gpu.empty(&w_shape));
        let (_, saved) = if transposed { conv::conv_transpose2d(&gpu, &g, &x, &w, None)? } else { conv::conv2d(&gpu, &g, &x, &w, None)? };
        gpu.take_profile()?;
        for pass in ["forward", "input grad", "weight grad"] {
            let mut totals: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
            for _ in 0..7 {
                match (pass, transposed) {
                    ("forward", false) => conv::conv2d(&gpu, &g, &x, &w, None).map(|_| ())?,
                    ("forward", true) => conv::conv_transpose2d(&gpu, &g, &x, &w, None).map(|_| ())?,
                    ("input grad", false) => conv::conv2d_backward(&gpu, &g, &saved, &w, &dy, Some((&dx, 0.0)), None, None)?,
                    ("input grad", true) => conv::conv_transpose2d_backward(&gpu, &g, &saved, &w, &dy, Some((&dx, 0.0)), None, None)?,
                    (_, false) => conv::conv2d_backward(&gpu, &g, &saved, &w, &dy, None, Some((&dw, 0.0)), None)?,
                    (_, true) => conv::conv_transpose2d_backward(&gpu, &g, &saved, &w, &dy, None, Some((&dw, 0.0)), None)?,
                }
                for k in gpu.take_profile()? {
                    totals.entry(k.kernel.to_string()).or_default().push(k.ms);
                }
            }
            let parts: Vec<String> = totals.into_iter().map(|(k, mut t)| { t.sort_by(f64::total_cmp); format!("{k} {:.1}", t[t.len() / 2]) }).collect();
            println!("{} {c_in}->{c_out} {pass}: {}", if transposed { "convT" } else { "conv" }, parts.join(", "));
        }
    }
    Ok(())
}
