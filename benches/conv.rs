//! `cargo bench --bench conv`: the same cases as `infogan bench conv`.

fn main() {
    let run = || -> infogan::Result<()> {
        let gpu = infogan::Gpu::new(&infogan::GpuOptions::default())?;
        let results = infogan::bench::bench_conv(&gpu, 5, &[64, 128])?;
        infogan::bench::print_conv_report(&gpu, &results, false);
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
