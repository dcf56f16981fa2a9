//! Inference: decoding settings, translation of encoded sentences and of lines of text, reading
//! input, attention heatmaps.

pub mod attention;
pub mod decoding;
pub mod input;
pub mod lines;
pub mod translate;

pub use decoding::Decoding;
