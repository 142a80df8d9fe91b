//! Encoders with no knowledge of the model: sample grids as PNG, SVG charts, base64 for pages
//! that embed their pictures.

pub mod base64;
pub mod chart;
pub mod grid;
