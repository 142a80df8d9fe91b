//! Sample grids as PNGs: `rows x cols` tiles of [C, H, W] images (grey or colour) with a 2-pixel
//! gutter, values in [0, 1].

use std::path::Path;

use crate::error::{Error, Result};

const GAP: usize = 2;
/// The gutter's grey level.
const GUTTER: u8 = 64;

/// Lays out `images` ([rows * cols, C*H*W] in [0, 1], row-major tiles, channel-planar) as one
/// picture: grey for C = 1, RGB for C = 3. Returns (interleaved bytes, width, height).
pub fn compose(
    images: &[f32],
    rows: usize,
    cols: usize,
    [channels, side_h, side_w]: [usize; 3],
) -> Result<(Vec<u8>, usize, usize)> {
    let len = channels * side_h * side_w;
    if images.len() != rows * cols * len || !(channels == 1 || channels == 3) {
        return Err(Error::new(format!(
            "grid: {} values for {rows}x{cols} images of {channels}x{side_h}x{side_w}",
            images.len()
        )));
    }
    let width = cols * side_w + (cols + 1) * GAP;
    let height = rows * side_h + (rows + 1) * GAP;
    let mut pixels = vec![GUTTER; width * height * channels];
    let plane = side_h * side_w;
    for (tile, image) in images.chunks(len).enumerate() {
        let (r, c) = (tile / cols, tile % cols);
        let (top, left) = (GAP + r * (side_h + GAP), GAP + c * (side_w + GAP));
        for y in 0..side_h {
            for x in 0..side_w {
                for ch in 0..channels {
                    let v = image[ch * plane + y * side_w + x].clamp(0.0, 1.0);
                    pixels[((top + y) * width + left + x) * channels + ch] =
                        (v * 255.0).round() as u8;
                }
            }
        }
    }
    Ok((pixels, width, height))
}

/// Writes the grid to `path` atomically.
pub fn write_png(
    path: &Path,
    images: &[f32],
    rows: usize,
    cols: usize,
    shape: [usize; 3],
) -> Result<()> {
    crate::files::write_atomically(path, &png_bytes(images, rows, cols, shape)?)
}

/// The grid as a PNG file's bytes.
pub fn png_bytes(images: &[f32], rows: usize, cols: usize, shape: [usize; 3]) -> Result<Vec<u8>> {
    let (pixels, width, height) = compose(images, rows, cols, shape)?;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width as u32, height as u32);
        encoder.set_color(if shape[0] == 3 {
            png::ColorType::Rgb
        } else {
            png::ColorType::Grayscale
        });
        encoder.set_depth(png::BitDepth::Eight);
        // Grids are small and drawn on demand (the explorer answers each slider move with one):
        // fast compression costs a few percent in size and saves most of the encoding time.
        encoder.set_compression(png::Compression::Fast);
        let mut writer =
            encoder.write_header().map_err(|e| Error::new(format!("PNG encoding failed: {e}")))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| Error::new(format!("PNG encoding failed: {e}")))?;
    }
    Ok(bytes)
}
