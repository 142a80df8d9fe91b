// Times the parts of the paper's 64->128 convolution forward separately (dev tool).
use infogan::bench::{pseudo_random, time_gpu};
use infogan::ops::{conv, matmul};
fn main() -> infogan::Result<()> {
    let gpu = infogan::Gpu::new(&Default::default())?;
    let g = conv::ConvGeom { n: 64, c_in: 64, h: 14, w: 14, c_out: 128, kernel: (4, 4), stride: (2, 2), padding: (1, 1) };
    let x = gpu.upload(&g.input_shape(), &pseudo_random(64 * 64 * 196, 1))?;
    let w = gpu.upload(&[128, 1024], &pseudo_random(128 * 1024, 2))?;
    let col = conv::im2col(&gpu, &g, &x)?;
    let med = |mut t: Vec<f64>| { t.sort_by(f64::total_cmp); t[t.len() / 2] };
    println!("im2col {:.1} ms", med(time_gpu(&gpu, 5, || conv::im2col(&gpu, &g, &x).map(|_| ()))?));
    println!("gemm col.W^T {:.1} ms", med(time_gpu(&gpu, 5, || matmul::gemm(&gpu, &col, &w, None, false, true).map(|_| ()))?));
    let rows = matmul::gemm(&gpu, &col, &w, None, false, true)?;
    let out = gpu.empty(&g.output_shape());
    println!("swap {:.1} ms", med(time_gpu(&gpu, 5, || conv::swap_last_into(&gpu, &rows, (64, 49, 128), &out, 0.0))?));
    let dcol = gpu.empty(&[3136, 1024]);
    let dx = gpu.empty(&g.input_shape());
    println!("col2im {:.1} ms", med(time_gpu(&gpu, 5, || conv::col2im_into(&gpu, &g, &dcol, &dx, 0.0))?));
    let dyr = gpu.empty(&[3136, 128]);
    println!("gemm dY.W {:.1} ms", med(time_gpu(&gpu, 5, || matmul::gemm(&gpu, &dyr, &w, None, false, false).map(|_| ()))?));
    println!("gemm dY^T.col {:.1} ms", med(time_gpu(&gpu, 5, || matmul::gemm(&gpu, &dyr, &col, None, true, false).map(|_| ()))?));
    Ok(())
}
