//! The one trait every architecture implements.

use burn::module::ModuleDisplay;
use burn::prelude::*;

use crate::batch::{SourceBatch, TranslationBatch};

/// What one decoding step returns.
#[derive(Debug, Clone)]
pub struct Step<S> {
    /// Unnormalised next-token scores, `[batch, tgt_vocab]`.
    pub logits: Tensor<2>,
    /// The decoder state after consuming the input token.
    pub state: S,
    /// Attention over the source, `[batch, src_len]`, for models that have it.
    pub attention: Option<Tensor<2>>,
}

/// A sequence-to-sequence model that training and search drive without knowing its
/// architecture.
///
/// Per-sentence decoding state travels as values (`Memory`, `State`), never inside the module,
/// so that beam search can repeat, reorder and prune it with [`Seq2Seq::select`].
pub trait Seq2Seq: Module + ModuleDisplay + Clone + Send + 'static {
    /// Computed once per source batch: encoder states, pre-projected keys, the padding mask.
    type Memory: Clone;
    /// Carried from step to step: RNN state, input feed, or per-layer key/value cache.
    type State: Clone;

    /// Encodes a source batch once.
    fn encode(&self, source: &SourceBatch) -> Self::Memory;

    /// The decoder state before the first step.
    fn init_state(&self, memory: &Self::Memory) -> Self::State;

    /// Consumes one token per sentence, `prev: [batch]`, and scores the next one.
    fn decode_step(
        &self,
        memory: &Self::Memory,
        state: Self::State,
        prev: Tensor<1, Int>,
    ) -> Step<Self::State>;

    /// Keeps (and repeats) the batch rows named by `rows: [new_batch]` in both memory and
    /// state: beam expansion, reordering and pruning.
    fn select(
        &self,
        memory: &Self::Memory,
        state: Self::State,
        rows: Tensor<1, Int>,
    ) -> (Self::Memory, Self::State);

    /// Teacher-forced logits `[batch, tgt_len, tgt_vocab]` for training.
    fn forward(&self, batch: &TranslationBatch) -> Tensor<3>;

    /// Target vocabulary size.
    fn tgt_vocab(&self) -> usize;

    /// Cross-attention of every decoder layer, averaged over heads, for a teacher-forced
    /// batch: `[layers, batch, tgt_len, src_len]`, for per-layer heatmaps. Models without
    /// layered attention return `None` (the default).
    fn layer_attention(&self, _batch: &TranslationBatch) -> Option<Tensor<4>> {
        None
    }
}
