//! LSTM encoder-decoder with attention: a bidirectional LSTM encoder, and an LSTM decoder that
//! attends over the encoder states at every step with additive (Bahdanau et al. 2015) or
//! multiplicative (Luong et al. 2015, `dot` and `general`) scoring, with input feeding and a
//! bridge from the encoder's final states to the decoder's initial state.

pub mod attention;
pub mod encoder;
pub mod error;
pub mod model;
pub mod recipe;

pub use attention::{Attended, Attention, AttentionConfig, AttentionKind};
pub use encoder::{BiFinal, BiLstmEncoder, BiLstmEncoderConfig, BiLstmLayer, Encoded};
pub use error::{AttentionConfigError, ScoringError};
pub use model::{AttentionMemory, AttentionSeq2Seq, AttentionSeq2SeqConfig, AttentionState};
