//! `cargo bench --bench matmul`: the same cases as `infogan bench matmul`.

fn main() {
    let gpu = match infogan::Gpu::new(&infogan::GpuOptions::default()) {
        Ok(gpu) => gpu,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    match infogan::bench::bench_matmul(&gpu, 5, false) {
        Ok(results) => infogan::bench::print_report(&gpu, "matmul", &results, false),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
