//! Multi-layer LSTM encoder-decoder without attention (Sutskever et al. 2014): the decoder
//! starts from the encoder's final state and sees the source only through it.

pub mod error;
pub mod model;
pub mod recipe;

pub use error::LstmConfigError;
pub use model::{LstmMemory, LstmSeq2Seq, LstmSeq2SeqConfig};
