//! Honyaku's shared core: the [`Seq2Seq`] trait every architecture implements, the batch type
//! the data pipeline fills, special token ids, masks, the training loss and search.
//!
//! Training, translation and search are written once against [`Seq2Seq`]; nothing here knows
//! which architecture it drives.

pub mod activation;
pub mod additive_score;
pub mod batch;
pub mod beam;
pub mod clip;
pub mod dropout;
mod flex_host;
pub mod fused_adam;
pub mod fused_attention;
pub mod fused_decoder;
pub mod fused_lstm;
pub mod gru;
mod host_gemm;
pub mod linear;
pub mod log_probs;
pub mod loss;
pub mod lstm_state;
pub mod mask;
pub mod model;
pub mod search;
pub mod shards;
pub mod special;
pub mod token_loss;
pub mod vmath;

pub use batch::{SourceBatch, TranslationBatch};
pub use beam::{BeamConfig, beam_search};
pub use loss::{LossOutput, sequence_loss};
pub use model::{Seq2Seq, Step};
pub use search::{Hypothesis, SearchConfig, greedy_search};
pub mod preset;
pub mod recipe;
pub mod recurrent;
pub mod rnn;
pub use preset::Preset;

/// Tests that draw from the flex device's one random generator (parameter initialisation,
/// random tensors, dropout) hold this lock, so that a test which seeds the generator and draws
/// twice is not interleaved with another test's draws on a parallel test thread.
#[cfg(test)]
pub(crate) fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
