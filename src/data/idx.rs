//! The IDX format of MNIST and Fashion-MNIST: a big-endian magic (0x0000_08NN: unsigned bytes,
//! NN dimensions), the dimensions as big-endian u32, then the data. Gzip is detected by its magic.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Images as bytes, row-major, with their count and side lengths.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Decompresses gzip data, or returns raw data as it is.
pub fn maybe_gunzip(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| Error::new(format!("{what}: corrupt gzip data ({e}); download the file again")))?;
        Ok(out)
    } else {
        Ok(bytes.to_vec())
    }
}

fn header(bytes: &[u8], dims: usize, what: &str) -> Result<Vec<usize>> {
    let need = 4 + 4 * dims;
    if bytes.len() < need {
        return Err(Error::new(format!("{what}: truncated IDX header ({} bytes, need {need})", bytes.len())));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0800 | dims as u32;
    if magic != expected {
        return Err(Error::new(format!(
            "{what}: wrong IDX magic {magic:#010x}, expected {expected:#010x} (unsigned bytes, {dims} dimensions); is this the right file?"
        )));
    }
    Ok((0..dims)
        .map(|i| u32::from_be_bytes([bytes[4 + 4 * i], bytes[5 + 4 * i], bytes[6 + 4 * i], bytes[7 + 4 * i]]) as usize)
        .collect())
}

fn body<'a>(bytes: &'a [u8], offset: usize, len: usize, what: &str) -> Result<&'a [u8]> {
    let have = bytes.len() - offset;
    if have < len {
        return Err(Error::new(format!("{what}: truncated: {have} data bytes, the header promises {len}")));
    }
    if have > len {
        return Err(Error::new(format!("{what}: {} bytes past the end of the data the header describes", have - len)));
    }
    Ok(&bytes[offset..])
}

/// Parses an idx3-ubyte image file (gz or raw).
pub fn parse_images(bytes: &[u8], what: &str) -> Result<Images> {
    let bytes = maybe_gunzip(bytes, what)?;
    let dims = header(&bytes, 3, what)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    let len = count.checked_mul(rows).and_then(|v| v.checked_mul(cols)).ok_or_else(|| Error::new(format!("{what}: absurd dimensions {dims:?}")))?;
    let pixels = body(&bytes, 16, len, what)?.to_vec();
    Ok(Images { count, rows, cols, pixels })
}

/// Parses an idx1-ubyte label file (gz or raw).
pub fn parse_labels(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    let bytes = maybe_gunzip(bytes, what)?;
    let count = header(&bytes, 1, what)?[0];
    Ok(body(&bytes, 8, count, what)?.to_vec())
}

pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))
}
