//! Attention heatmaps: source tokens against generated tokens, for `attention` and `compare`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use honyaku_core::Seq2Seq;
use honyaku_core::search::to_host_floats;
use honyaku_data::batcher::{EncodedPair, HostBatch};

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
    let Some(weights) = hyp.attention.as_ref().filter(|w| !w.is_empty()) else {
        return Ok(None);
    };
    let piece = |t: &honyaku_data::tokenizer::Tokenizer, id: u32| {
        t.id_to_piece(id).unwrap_or_else(|| format!("#{id}"))
    };
    let mut source: Vec<String> = out
        .tokenizers
        .src
        .encode(text)
        .iter()
        .map(|&id| piece(&out.tokenizers.src, id))
        .collect();
    // A text over the run's length limit was translated from its first tokens: one column
    // per token the encoder saw, and its EOS.
    let columns = weights.first().map_or(0, Vec::len);
    source.truncate(columns.saturating_sub(1));
    source.push("</s>".into());
    let mut target: Vec<String> = hyp
        .tokens
        .iter()
        .map(|&id| piece(&out.tokenizers.tgt, id))
        .collect();
    if hyp.finished {
        target.push("</s>".into());
    }
    let weights: Vec<Vec<f32>> = weights
        .iter()
        .take(target.len())
        .map(|row| row[..source.len().min(row.len())].to_vec())
        .collect();
    let mut title: String = format!("Attention: {}", out.best[0])
        .chars()
        .take(70)
        .collect();
    if title.chars().count() == 70 {
        title.push('…');
    }
    let paths = crate::plots::heatmap(stem, &title, &source, &target, &weights)?;
    let ids = out.tokenizers.src.encode(text);
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
