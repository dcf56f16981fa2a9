//! Decoding one token at a time with the key/value cache, and the cross-attention weights
//! for heatmaps.

use burn::prelude::*;
use honyaku_core::{Step, TranslationBatch};

use crate::model::{CrossWeights, Transformer};
use crate::state::{TransformerMemory, TransformerState};

impl Transformer {
    /// One decoding step with the key/value cache: only the new token runs through the decoder.
    /// Returns the step and the cross-attention weights `[batch, heads, 1, src_len]` of the
    /// layers `weights` asks for (at least the last: the step's alignment).
    pub(crate) fn step_cached(
        &self,
        memory: &TransformerMemory,
        state: TransformerState,
        prev: Tensor<1, Int>,
        weights: CrossWeights,
    ) -> (Step<TransformerState>, Vec<Tensor<4>>) {
        let [batch] = prev.dims();
        let ids = prev.reshape([batch, 1]);
        let run = self.run_decoder(memory, ids, state.cache, state.step, weights);
        let hidden = run.hidden.reshape([batch, self.d_model]);
        let state = TransformerState {
            cache: run.cache,
            step: state.step + 1,
        };
        let weight = memory.output_weight.clone();
        let weight = weight.unwrap_or_else(|| self.output_weight_rows());
        self.finish_step(hidden, weight, state, run.cross_weights)
    }

    fn finish_step(
        &self,
        hidden: Tensor<2>,
        output_weight: Tensor<2>,
        state: TransformerState,
        cross_weights: Vec<Tensor<4>>,
    ) -> (Step<TransformerState>, Vec<Tensor<4>>) {
        let attention = cross_weights.last().map(|w| {
            let [batch, _, _, src_len] = w.dims();
            w.clone().mean_dim(1).reshape([batch, src_len])
        });
        let step = Step {
            logits: self.project_with(hidden, output_weight),
            state,
            attention,
        };
        (step, cross_weights)
    }

    /// [`Seq2Seq::decode_step`] that also returns every decoder layer's cross-attention,
    /// averaged over heads: `[layers, batch, 1, src_len]`.
    pub fn decode_step_with_cross_attention(
        &self,
        memory: &TransformerMemory,
        state: TransformerState,
        prev: Tensor<1, Int>,
    ) -> (Step<TransformerState>, Tensor<4>) {
        let (step, weights) = self.step_cached(memory, state, prev, CrossWeights::All);
        (step, average_heads(weights))
    }

    /// Teacher-forced cross-attention of every decoder layer, averaged over heads:
    /// `[layers, batch, tgt_len, src_len]` (for heatmaps).
    pub fn cross_attention(&self, batch: &TranslationBatch) -> Tensor<4> {
        let memory = self.memory(&batch.source, None);
        let ids = batch.tgt_in.clone();
        let run = self.run_decoder(&memory, ids, Vec::new(), 0, CrossWeights::All);
        average_heads(run.cross_weights)
    }
}

/// Per-layer weights `[batch, heads, t, src_len]` → `[layers, batch, t, src_len]`.
fn average_heads(weights: Vec<Tensor<4>>) -> Tensor<4> {
    let layers: Vec<Tensor<3>> = weights
        .into_iter()
        .map(|w| w.mean_dim(1).squeeze_dim::<3>(1))
        .collect();
    Tensor::stack(layers, 0)
}
