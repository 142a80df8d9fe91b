//! The real images of each step: epoch e visits a dataset in an order drawn from stream (seed,
//! e), in whole batches (an epoch's remainder is skipped). Stored datasets live on the GPU and
//! each batch is gathered there; rendered ones (`--data shapes`) are drawn batch by batch on the
//! host and uploaded.

use rand::seq::SliceRandom;

use crate::data::{Dataset, Rendered};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Tensor};
use crate::model::architectures::PixelRange;
use crate::ops::gather::GpuImages;
use crate::train::random::{stream, Purpose};

enum Source {
    Resident(GpuImages),
    Rendered { rendered: Rendered, scale_shift: (f32, f32) },
}

enum Order {
    Gpu(Tensor),
    Host(Vec<usize>),
}

/// Batches of one dataset, in the order a seed fixes.
pub struct Batches {
    source: Source,
    count: usize,
    shape: [usize; 3],
    batch: usize,
    seed: u64,
    purpose: Purpose,
    /// The order of the current epoch.
    order: Option<(u64, Order)>,
}

impl Batches {
    /// Batches of `batch` images of `data`, in the network's pixel range; `purpose` names the
    /// stream the epochs' orders come from.
    pub fn new(
        gpu: &Gpu,
        data: &Dataset,
        range: PixelRange,
        batch: usize,
        seed: u64,
        purpose: Purpose,
    ) -> Result<Batches> {
        if batch == 0 || batch > data.len() {
            return Err(Error::new(format!(
                "batch {batch} must be between 1 and the {} images of {}",
                data.len(),
                data.name
            )));
        }
        let scale_shift = range.from_byte();
        let source = match &data.rendered {
            Some(rendered) => Source::Rendered { rendered: rendered.clone(), scale_shift },
            None => Source::Resident(GpuImages::upload(
                gpu,
                &data.images.pixels,
                data.images.image_len(),
                scale_shift,
            )?),
        };
        Ok(Batches {
            source,
            count: data.len(),
            shape: data.images.shape(),
            batch,
            seed,
            purpose,
            order: None,
        })
    }

    /// Batch number `n` (counting from 0 over the epochs) as [B, C, H, W].
    pub fn get(&mut self, gpu: &Gpu, n: u64) -> Result<Tensor> {
        let b = self.batch;
        let per_epoch = (self.count / b) as u64;
        let (epoch, index) = (n / per_epoch, (n % per_epoch) as usize);
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut order: Vec<usize> = (0..self.count).collect();
            order.shuffle(&mut stream(self.seed, epoch, self.purpose));
            let order = match &self.source {
                Source::Resident(_) => Order::Gpu(GpuImages::upload_order(gpu, &order)?),
                Source::Rendered { .. } => Order::Host(order),
            };
            self.order = Some((epoch, order));
        }
        let [c, h, w] = self.shape;
        let order =
            self.order.as_ref().map(|(_, o)| o).ok_or_else(|| Error::new("no epoch order"))?;
        match (&self.source, order) {
            (Source::Resident(images), Order::Gpu(order)) => {
                Ok(images.gather(gpu, order, index * b, b)?.reshape(&[b, c, h, w]))
            }
            (Source::Rendered { rendered, scale_shift: (scale, shift) }, Order::Host(order)) => {
                let len = c * h * w;
                let mut bytes = vec![0u8; len];
                let mut values = Vec::with_capacity(b * len);
                for &i in &order[index * b..(index + 1) * b] {
                    rendered.shapes.render(rendered.indices[i], &mut bytes);
                    values.extend(bytes.iter().map(|&p| f32::from(p) / 255.0 * scale + shift));
                }
                gpu.upload(&[b, c, h, w], &values)
            }
            _ => Err(Error::new("batch order kept for the wrong kind of images")),
        }
    }
}
