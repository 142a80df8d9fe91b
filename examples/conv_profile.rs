// Per-kernel GPU time of each pass of the paper's conv layers at batch 64 (dev tool).
use infogan::bench::{PaperConv, PAPER_CONVS};
fn main() -> infogan::Result<()> {
    let gpu = infogan::Gpu::new(&Default::default())?;
    gpu.set_profiling(true)?;
    for spec in PAPER_CONVS {
        let layer = PaperConv::new(&gpu, spec, 64)?;
        gpu.take_profile()?;
        for pass in ["forward", "input grad", "weight grad"] {
            let mut totals: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
            for _ in 0..7 {
                match pass {
                    "forward" => layer.forward()?,
                    "input grad" => layer.input_grad()?,
                    _ => layer.weight_grad()?,
                }
                for k in gpu.take_profile()? {
                    totals.entry(k.kernel.to_string()).or_default().push(k.ms);
                }
            }
            let parts: Vec<String> = totals
                .into_iter()
                .map(|(k, mut t)| {
                    t.sort_by(f64::total_cmp);
                    format!("{k} {:.1}", t[t.len() / 2])
                })
                .collect();
            println!("{} {pass}: {}", spec.0, parts.join(", "));
        }
    }
    Ok(())
}
