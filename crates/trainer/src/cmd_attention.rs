//! `honyaku attention`: a heatmap of source tokens against generated tokens.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::backend::Backend;
use crate::cli::AttentionArgs;
use crate::cmd_translate::translate_lines;
use crate::translate::Decoding;

/// Runs `honyaku attention`.
pub fn run(args: AttentionArgs) -> Result<()> {
    let stem = args.out.with_extension("");
    match heatmap(&args.run, args.backend, &args.text, &stem)? {
        Some([svg, png]) => {
            eprintln!("wrote {} and {}", png.display(), svg.display());
            Ok(())
        }
        None => bail!(
            "the model in {} has no attention to show (the plain LSTM architecture sees the \
             source only through its final state); use an attention or transformer run",
            args.run.display()
        ),
    }
}

/// Translates `text` greedily and draws its attention as `<stem>.svg` and `<stem>.png`.
/// Returns `None` for architectures without attention. For the Transformer the weights are
/// those of the last decoder layer's cross-attention, averaged over heads.
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
    crate::plots::heatmap(stem, &title, &source, &target, &weights).map(Some)
}
