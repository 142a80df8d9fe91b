//! `cargo bench --bench explore`: the explorer's latency, as `infogan bench explore`, for the MNIST
//! and chairs models (a 10x10 grid per request, 100 requests each).

use infogan::model::presets::Model;

fn main() {
    let run = || -> infogan::Result<()> {
        for model in [Model::Mnist, Model::Chairs] {
            let latency =
                infogan::explore::latency::measure(&infogan::GpuOptions::default(), model, 100)?;
            println!("{}", latency.json());
        }
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
