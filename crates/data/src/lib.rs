//! Data pipeline: corpus readers, cleaning, subword tokenizers, token-budget batching and the
//! project's own synthetic corpora.

pub mod atomic;
pub mod batcher;
pub mod clean;
pub mod corpus;
pub mod error;
pub mod length;
pub mod prepare;
pub mod report;
pub mod shard;
pub mod special;
pub mod synth;
pub mod tensors;
pub mod tokenizer;

pub use atomic::{write_atomic, write_atomic_with};
pub use error::DataError;
