//! What decoding carries: the encoder's projected memory and the decoder's key/value cache.

use burn::prelude::*;

use crate::attention::{KvCache, ProjectedSource};

/// Encoder output as the decoder needs it.
#[derive(Debug, Clone)]
pub struct TransformerMemory {
    /// Per decoder layer, the cross-attention keys and values of the encoder states,
    /// projected once.
    pub cross: Vec<ProjectedSource>,
    /// `[batch, src_len]`, `true` at source padding.
    pub src_pad: Tensor<2, Bool>,
    /// The output projection `[d_model, tgt_vocab]`, laid out row-major once per search for
    /// the decoding steps' products; `None` in teacher-forced passes, which project with the
    /// parameter itself.
    pub output_weight: Option<Tensor<2>>,
}

impl TransformerMemory {
    /// Keeps (and repeats) the batch rows `rows`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            cross: self
                .cross
                .iter()
                .map(|kv| kv.select(rows.clone()))
                .collect(),
            src_pad: self.src_pad.clone().select(0, rows),
            output_weight: self.output_weight.clone(),
        }
    }
}

/// Decoder state between steps.
#[derive(Debug, Clone)]
pub struct TransformerState {
    /// Per decoder layer, the self-attention keys and values `[batch, 2 · heads, step, d_head]`
    /// of every target position consumed so far. Empty before the first step.
    pub cache: Vec<KvCache>,
    /// Number of tokens consumed: the position of the next one.
    pub step: usize,
}

impl TransformerState {
    /// Keeps (and repeats) the batch rows `rows`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            cache: self
                .cache
                .iter()
                .map(|kv| kv.select(rows.clone()))
                .collect(),
            step: self.step,
        }
    }
}
