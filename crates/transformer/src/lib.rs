//! Transformer encoder-decoder (Vaswani et al. 2017) for Honyaku, with an explicit per-layer
//! key/value cache that beam search can repeat and reorder.
//!
//! - [`attention`]: multi-head self- and cross-attention with a caller-owned [`KvCache`];
//! - [`layers`]: encoder and decoder layers, pre-norm (default) or post-norm;
//! - [`position`]: sinusoidal (default) or learned positions;
//! - [`model`]: the [`Transformer`] and its [`honyaku_core::Seq2Seq`] implementation.

pub mod attention;
pub mod layers;
pub mod model;
pub mod position;
pub mod recipe;

#[cfg(test)]
mod testutil;

pub use attention::{AttentionConfig, CrossAttention, KvCache, SelfAttention};
pub use layers::{DecoderLayer, EncoderLayer, LayerConfig, NormPosition};
pub use model::{Transformer, TransformerConfig, TransformerMemory, TransformerState};
pub use position::{PositionEncoding, PositionEncodingConfig, PositionKind};
