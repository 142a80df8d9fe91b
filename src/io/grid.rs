//! Sample grids as greyscale PNGs: `rows x cols` tiles of 28x28 images with a 2-pixel gutter.

use std::path::Path;

use crate::error::{Error, Result};

const SIDE: usize = 28;
const GAP: usize = 2;

/// Lays out `images` ([rows*cols, 784] in [0, 1], row-major tiles) as one greyscale picture.
pub fn compose(images: &[f32], rows: usize, cols: usize) -> Result<(Vec<u8>, usize, usize)> {
    if images.len() != rows * cols * SIDE * SIDE {
        return Err(Error::new(format!("grid: {} values for {rows}x{cols} images of 28x28", images.len())));
    }
    let width = cols * SIDE + (cols + 1) * GAP;
    let height = rows * SIDE + (rows + 1) * GAP;
    let mut pixels = vec![64u8; width * height];
    for (tile, image) in images.chunks(SIDE * SIDE).enumerate() {
        let (r, c) = (tile / cols, tile % cols);
        let (top, left) = (GAP + r * (SIDE + GAP), GAP + c * (SIDE + GAP));
        for y in 0..SIDE {
            for x in 0..SIDE {
                let v = image[y * SIDE + x].clamp(0.0, 1.0);
                pixels[(top + y) * width + left + x] = (v * 255.0).round() as u8;
            }
        }
    }
    Ok((pixels, width, height))
}

/// Writes the grid to `path` atomically (a temporary file renamed into place).
pub fn write_png(path: &Path, images: &[f32], rows: usize, cols: usize) -> Result<()> {
    let (pixels, width, height) = compose(images, rows, cols)?;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width as u32, height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| Error::new(format!("PNG encoding failed: {e}")))?;
        writer.write_image_data(&pixels).map_err(|e| Error::new(format!("PNG encoding failed: {e}")))?;
    }
    crate::files::write_atomically(path, &bytes)
}
