// Measures pipeline creation time of each kernel instantiation on the default adapter. llvmpipe
// defers its LLVM compile to the first dispatch, so there this is the front end only; `infogan
// bench matmul --variant register-tile` with an empty MESA_SHADER_CACHE_DIR times a full compile.
fn main() {
    let gpu = infogan::Gpu::new(&Default::default()).expect("gpu");
    for (kernel, list) in infogan::ops::all_kernels() {
        for defines in list {
            let t = std::time::Instant::now();
            match gpu.prepare(kernel, &defines) {
                Ok(()) => println!(
                    "{:60} {:8.1} ms",
                    kernel.label(&defines),
                    t.elapsed().as_secs_f64() * 1e3
                ),
                // The subgroup kernels need a feature some adapters lack.
                Err(e) => println!("{:60} not compiled: {e}", kernel.label(&defines)),
            }
        }
    }
}
