//! Translating encoded sentences with a model, for any architecture and backend.

use std::path::Path;

use anyhow::Result;
use burn::prelude::*;
use honyaku_core::shards::{default_shards, in_row_shards};
use honyaku_core::{Hypothesis, Seq2Seq, beam_search, greedy_search};
use honyaku_data::batcher::inference_batches;

use super::decoding::Decoding;
use crate::arch::ModelTask;
use crate::run::checkpoint::load_module;

/// Translates already-encoded source sentences with a checkpoint; returns the hypotheses of
/// each source (best first), in input order.
pub struct TranslateJob<'a> {
    /// The checkpoint to load.
    pub checkpoint: &'a Path,
    /// The inference device.
    pub device: Device,
    /// Source ids (no specials), one entry per input line.
    pub sources: &'a [Vec<u32>],
    /// Token budget per batch (beams count: a batch holds `max_tokens / beam` source tokens).
    pub max_tokens: usize,
    /// Search settings.
    pub decoding: Decoding,
}

impl ModelTask for TranslateJob<'_> {
    type Output = Result<Vec<Vec<Hypothesis>>>;

    fn run<M: Seq2Seq>(self, model: M) -> Result<Vec<Vec<Hypothesis>>> {
        let model = load_module(model, self.checkpoint)?;
        Ok(translate_loaded(
            &model,
            self.sources,
            self.max_tokens,
            &self.decoding,
            &self.device,
        ))
    }
}

/// Translates with a loaded model: batches sorted by length, results in input order. Empty
/// sources get an empty hypothesis without running the model. On the CPU backends each batch
/// is searched in row shards, one thread per core ([`in_row_shards`]).
pub fn translate_loaded<M: Seq2Seq>(
    model: &M,
    sources: &[Vec<u32>],
    max_tokens: usize,
    decoding: &Decoding,
    device: &Device,
) -> Vec<Vec<Hypothesis>> {
    let mut out: Vec<Vec<Hypothesis>> = vec![Vec::new(); sources.len()];
    let budget = match decoding {
        Decoding::Greedy(_) => max_tokens,
        Decoding::Beam(b) => (max_tokens / b.beam.max(1)).max(1),
    };
    let order: Vec<usize> = (0..sources.len())
        .filter(|&i| !sources[i].is_empty())
        .collect();
    let non_empty: Vec<Vec<u32>> = order.iter().map(|&i| sources[i].clone()).collect();
    let shards = default_shards(device);
    for batch in inference_batches(&non_empty, budget) {
        let source = batch.to_source(device);
        let hyps: Vec<Vec<Hypothesis>> = match decoding {
            Decoding::Greedy(search) => {
                in_row_shards(model, &source, shards, |m, s| greedy_search(m, s, search))
                    .into_iter()
                    .map(|h| vec![h])
                    .collect()
            }
            Decoding::Beam(beam) => {
                in_row_shards(model, &source, shards, |m, s| beam_search(m, s, beam))
            }
        };
        for (hyps, &index) in hyps.into_iter().zip(&batch.indices) {
            out[order[index]] = hyps;
        }
    }
    for hyps in out.iter_mut().filter(|h| h.is_empty()) {
        hyps.push(Hypothesis {
            tokens: Vec::new(),
            score: 0.0,
            finished: true,
            attention: None,
        });
    }
    out
}
