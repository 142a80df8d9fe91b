//! `cargo bench --bench step`: the same as `infogan bench step` (batch 64 and 128).

fn main() {
    let run = || -> infogan::Result<()> {
        let gpu = infogan::Gpu::new(&infogan::GpuOptions::default())?;
        let results = [64, 128]
            .iter()
            .map(|&b| {
                infogan::train::step_bench::bench_step(
                    &gpu,
                    infogan::model::presets::Model::Mnist,
                    5,
                    b,
                )
            })
            .collect::<infogan::Result<Vec<_>>>()?;
        infogan::train::step_bench::print_step_report(&gpu, &results, false, false);
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
