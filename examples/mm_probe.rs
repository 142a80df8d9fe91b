use infogan::ops::matmul::{gemm_into, Gemm};
fn main() {
    let gpu = infogan::Gpu::new(&Default::default()).expect("gpu");
    for &(m, n, k) in &[(64usize, 72usize, 128usize), (100, 36, 40), (36, 260, 8), (68, 132, 260)] {
        for ta in [false, true] { for tb in [false, true] {
            let a = gpu.upload(&if ta {[k, m]} else {[m, k]}, &vec![0.5; m * k]).unwrap();
            let b = gpu.upload(&if tb {[n, k]} else {[k, n]}, &vec![0.25; n * k]).unwrap();
            let c = gpu.empty(&[m, n]);
            let t = std::time::Instant::now();
            gemm_into(&gpu, &a, &b, None, &c, Gemm::new(ta, tb)).unwrap();
            let out = gpu.download(&c).unwrap();
            println!("{m} {n} {k} {ta} {tb}: {:?} {:.1} ms", &out[..2], t.elapsed().as_secs_f64()*1e3);
        }}
    }
}
