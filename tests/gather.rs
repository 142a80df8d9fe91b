//! The GPU batch gather against a CPU gather on awkward sizes (odd image counts, batch 1, an
//! offset into the order), on every kernel variant's runtime.

mod common;
use common::*;
use infogan::ops::gather::GpuImages;
use rand::seq::SliceRandom;
use rand::RngExt;

#[test]
fn gather_picks_and_scales_the_right_pixels() {
    for gpu in gpus() {
        let mut r = rng(11);
        // [0, 1] (sigmoid generators) and [-1, 1] (tanh generators); colour images of 3x4x4.
        for (images, pixels, first, count, (scale, shift)) in [
            (7, 12, 2, 3, (1.0, 0.0)),
            (1, 784, 0, 1, (1.0, 0.0)),
            (13, 784, 5, 8, (2.0, -1.0)),
            (5, 4, 4, 1, (1.0, 0.0)),
            (6, 48, 1, 5, (2.0, -1.0)),
        ] {
            let bytes: Vec<u8> = (0..images * pixels).map(|_| r.random_range(0..=255u8)).collect();
            let mut order: Vec<usize> = (0..images).collect();
            order.shuffle(&mut r);
            let on_gpu = GpuImages::upload(&gpu, &bytes, pixels, (scale, shift)).unwrap();
            assert_eq!(on_gpu.count, images);
            let order_tensor = GpuImages::upload_order(&gpu, &order).unwrap();
            let got =
                gpu.download(&on_gpu.gather(&gpu, &order_tensor, first, count).unwrap()).unwrap();
            let want: Vec<f64> = order[first..first + count]
                .iter()
                .flat_map(|&i| {
                    bytes[i * pixels..(i + 1) * pixels]
                        .iter()
                        .map(|&p| f64::from(p) / 255.0 * f64::from(scale) + f64::from(shift))
                })
                .collect();
            assert_close(
                &format!("gather {images}x{pixels} [{first}..+{count}] scale {scale}"),
                &to_f64(&got),
                &want,
                1e-7,
            );
        }
    }
}

#[test]
fn gather_rejects_bad_shapes() {
    for gpu in backends() {
        assert!(
            GpuImages::upload(&gpu, &[1, 2, 3, 4, 5, 6], 3, (1.0, 0.0)).is_err(),
            "pixels per image not a multiple of 4"
        );
        assert!(
            GpuImages::upload(&gpu, &[1, 2, 3, 4, 5, 6], 4, (1.0, 0.0)).is_err(),
            "not whole images"
        );
        let images = GpuImages::upload(&gpu, &[7; 16], 8, (1.0, 0.0)).unwrap();
        let order = GpuImages::upload_order(&gpu, &[1, 0]).unwrap();
        assert!(images.gather(&gpu, &order, 1, 2).is_err(), "past the end of the order");
    }
}
