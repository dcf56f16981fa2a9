//! Attention heatmaps: source tokens against generated tokens, for `attention` and `compare`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use honyaku_core::search::to_host_floats;
use honyaku_core::{Hypothesis, Seq2Seq};
use honyaku_data::batcher::{EncodedPair, HostBatch};
use honyaku_data::tokenizer::{Tokenizer, Tokenizers};
use serde::Serialize;

use super::decoding::Decoding;
use super::lines::translate_lines;
use crate::arch::ModelTask;
use crate::backend::Backend;
use crate::run::RunDir;
use crate::run::checkpoint::load_module;

/// Translates `text` greedily and draws its attention as `<stem>.svg` and `<stem>.png`.
/// Returns `None` for architectures without attention. For the Transformer the main heatmap
/// shows the last decoder layer's cross-attention averaged over heads, and one more heatmap per
/// layer (`<stem>_layerN`) shows every layer's, averaged over heads.
pub fn heatmap(
    run: &Path,
    backend: Backend,
    text: &str,
    stem: &Path,
) -> Result<Option<[PathBuf; 2]>> {
    let decoding = Decoding::new(1, 1, 0.0).with_attention();
    let lines = [text.to_string()];
    let out = translate_lines(run, backend, &lines, decoding, 4096)?;
    let hyp = &out.hyps[0][0];
    let ids = out.tokenizers.src.encode(text);
    let Some(AttentionGrid {
        source,
        target,
        weights,
    }) = attention_grid(&out.tokenizers, &ids, hyp)
    else {
        return Ok(None);
    };
    let mut title: String = format!("Attention: {}", out.best[0])
        .chars()
        .take(70)
        .collect();
    if title.chars().count() == 70 {
        title.push('…');
    }
    let paths = crate::plots::heatmap(stem, &title, &source, &target, &weights)?;
    for (layer, weights) in layer_weights(run, backend, &ids, &hyp.tokens)?
        .iter()
        .enumerate()
    {
        let stem = stem.with_file_name(format!(
            "{}_layer{}",
            stem.file_name()
                .map_or("attention".into(), |n| n.to_string_lossy()),
            layer + 1
        ));
        let title = format!("Layer {} cross-attention (mean over heads)", layer + 1);
        crate::plots::heatmap(&stem, &title, &source, &target, weights)?;
    }
    Ok(Some(paths))
}

/// One hypothesis's attention as a labelled grid: `weights[t][s]` is generated piece `t`'s
/// weight on source piece `s`; rows sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttentionGrid {
    /// The source pieces the encoder saw, `</s>` last.
    pub source: Vec<String>,
    /// Generated pieces, `</s>` last when the hypothesis finished.
    pub target: Vec<String>,
    /// One row per generated piece, one column per source piece.
    pub weights: Vec<Vec<f32>>,
}

/// The attention of `hyp`, translated from `source_ids`, as a grid (`None` when the model has
/// no attention): the heatmaps' and `serve`'s. Rows are cut to this sentence's own columns (a
/// batch pads them), and a source cut to the run's length limit shows the pieces the encoder
/// saw.
pub fn attention_grid(
    tokenizers: &Tokenizers,
    source_ids: &[u32],
    hyp: &Hypothesis,
) -> Option<AttentionGrid> {
    let weights = hyp.attention.as_ref().filter(|w| !w.is_empty())?;
    let columns = weights[0].len();
    let mut source: Vec<String> = source_ids
        .iter()
        .take(columns.saturating_sub(1))
        .map(|&id| piece(&tokenizers.src, id))
        .collect();
    source.push("</s>".into());
    let mut target: Vec<String> = hyp
        .tokens
        .iter()
        .map(|&id| piece(&tokenizers.tgt, id))
        .collect();
    if hyp.finished {
        target.push("</s>".into());
    }
    let weights: Vec<Vec<f32>> = weights
        .iter()
        .take(target.len())
        .map(|row| row[..source.len().min(row.len())].to_vec())
        .collect();
    target.truncate(weights.len());
    Some(AttentionGrid {
        source,
        target,
        weights,
    })
}

/// A token's subword piece (`#ID` for an id the vocabulary lacks).
pub fn piece(tokenizer: &Tokenizer, id: u32) -> String {
    tokenizer
        .id_to_piece(id)
        .unwrap_or_else(|| format!("#{id}"))
}

/// Per-layer attention `[layer][target position][source position]` of the model in `run` for
/// the source `src` and its translation `tgt` (teacher-forced), for models that have it.
fn layer_weights(
    run: &Path,
    backend: Backend,
    src: &[u32],
    tgt: &[u32],
) -> Result<Vec<Vec<Vec<f32>>>> {
    let dir = RunDir::open(run)?;
    let config = dir.load_config()?;
    let checkpoint = dir.inference_checkpoint()?;
    let device = backend.device()?;
    config.model.run(
        &device,
        LayerAttentionJob {
            checkpoint: &checkpoint,
            device: device.clone(),
            pair: EncodedPair {
                src: src.to_vec(),
                tgt: tgt.to_vec(),
            },
        },
    )
}

/// Teacher-forced per-layer attention of one sentence pair.
struct LayerAttentionJob<'a> {
    checkpoint: &'a Path,
    device: burn::prelude::Device,
    pair: EncodedPair,
}

impl ModelTask for LayerAttentionJob<'_> {
    type Output = Result<Vec<Vec<Vec<f32>>>>;

    fn run<M: Seq2Seq>(self, model: M) -> Self::Output {
        let model = load_module(model, self.checkpoint)?;
        let batch = HostBatch::from_pairs(&[&self.pair]).to_batch(&self.device);
        let Some(weights) = model.layer_attention(&batch) else {
            return Ok(Vec::new());
        };
        let [layers, _, tgt_len, src_len] = weights.dims();
        let values = to_host_floats(weights);
        Ok((0..layers)
            .map(|l| {
                (0..tgt_len)
                    .map(|t| values[(l * tgt_len + t) * src_len..][..src_len].to_vec())
                    .collect()
            })
            .collect())
    }
}
