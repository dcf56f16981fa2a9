//! Translation with a trained run, for any architecture and backend.

use std::path::Path;

use anyhow::Result;
use burn::prelude::*;
use honyaku_core::{Hypothesis, SearchConfig, Seq2Seq, greedy_search};
use honyaku_data::batcher::inference_batches;

use crate::arch::ModelTask;
use crate::checkpoint::load_module;

/// Translates already-encoded source sentences with a checkpoint; returns one hypothesis per
/// source, in input order.
pub struct TranslateJob<'a> {
    /// The checkpoint to load.
    pub checkpoint: &'a Path,
    /// The inference device.
    pub device: Device,
    /// Source ids (no specials), one entry per input line.
    pub sources: &'a [Vec<u32>],
    /// Token budget per batch.
    pub max_tokens: usize,
    /// Search settings.
    pub search: SearchConfig,
}

impl ModelTask for TranslateJob<'_> {
    type Output = Result<Vec<Hypothesis>>;

    fn run<M: Seq2Seq>(self, model: M) -> Result<Vec<Hypothesis>> {
        let model = load_module(model, self.checkpoint)?;
        translate_loaded(
            &model,
            self.sources,
            self.max_tokens,
            &self.search,
            &self.device,
        )
    }
}

/// Translates with a loaded model: batches sorted by length, results in input order.
pub fn translate_loaded<M: Seq2Seq>(
    model: &M,
    sources: &[Vec<u32>],
    max_tokens: usize,
    search: &SearchConfig,
    device: &Device,
) -> Result<Vec<Hypothesis>> {
    let mut out: Vec<Option<Hypothesis>> = vec![None; sources.len()];
    for batch in inference_batches(sources, max_tokens) {
        let source = batch.to_source(device);
        let hyps = greedy_search(model, &source, search);
        for (hyp, &index) in hyps.into_iter().zip(&batch.indices) {
            out[index] = Some(hyp);
        }
    }
    Ok(out
        .into_iter()
        .map(|h| h.expect("every input translated"))
        .collect())
}
