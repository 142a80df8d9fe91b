//! `cargo bench --bench kernels`: the same as `infogan bench kernels` (batch 64 and 128).

fn main() {
    let run = || -> infogan::Result<()> {
        let gpu = infogan::Gpu::new(&infogan::GpuOptions::default())?;
        let (cases, timestamps) = infogan::bench::bench_kernels(
            &gpu,
            5,
            &[64, 128],
            &infogan::model::networks::InfoGan::new(
                &gpu,
                &infogan::model::config::TrainConfig::paper(64, 0),
            )?
            .arena_sizes(),
        )?;
        infogan::bench::print_kernels_report(&gpu, &cases, timestamps, false);
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
