//! Transformer encoder-decoder (Vaswani et al. 2017) for Honyaku, with an explicit per-layer
//! key/value cache that beam search can repeat and reorder.
//!
//! - [`attention`]: multi-head self- and cross-attention with a caller-owned [`KvCache`];
//! - [`layers`]: encoder and decoder layers, pre-norm (default) or post-norm;
//! - [`position`]: sinusoidal (default) or learned positions;
//! - [`config`]: the [`TransformerConfig`], its presets and validation ([`flops`]: its FLOP
//!   count);
//! - [`model`]: the [`Transformer`] and its [`honyaku_core::Seq2Seq`] implementation;
//! - [`recipe`]: how to train it, per preset;
//! - [`state`]: the decoding memory and key/value cache; [`decode`]: one step at a time.

pub mod attention;
pub mod config;
pub mod decode;
pub mod error;
pub mod flops;
pub mod layers;
pub mod model;
pub mod position;
pub mod recipe;
pub mod state;

pub use attention::{
    AttentionConfig, CrossAttention, KvCache, ProjectedSource, SelfAttention, SourceMemory,
};
pub use config::TransformerConfig;
pub use error::{TransformerConfigError, TransformerProblem};
pub use layers::{DecoderLayer, EncoderLayer, LayerConfig, NormPosition};
pub use model::Transformer;
pub use position::{PositionEncoding, PositionEncodingConfig, PositionKind};
pub use state::{TransformerMemory, TransformerState};
