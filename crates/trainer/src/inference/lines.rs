//! Translating lines of text with a run: the shared path of `translate`, `evaluate`, `compare`
//! and `attention`.

use std::path::Path;

use anyhow::Result;
use honyaku_core::Hypothesis;
use honyaku_data::tokenizer::Tokenizers;

use super::decoding::Decoding;
use super::translate::TranslateJob;
use crate::backend::Backend;
use crate::run::RunDir;

/// Translations of a list of lines.
pub struct Translations {
    /// Per input line, its hypotheses (best first).
    pub hyps: Vec<Vec<Hypothesis>>,
    /// Per input line, the detokenized best hypothesis ("" for an empty input line).
    pub best: Vec<String>,
    /// The run's tokenizers.
    pub tokenizers: Tokenizers,
}

/// Loads a run and translates `lines` with it: the shared path of `translate`, `evaluate` and
/// `compare`. Lines longer than the run's maximum length are truncated with a warning.
pub fn translate_lines(
    run_dir: &Path,
    backend: Backend,
    lines: &[String],
    decoding: Decoding,
    max_tokens: usize,
) -> Result<Translations> {
    let run = RunDir::open(run_dir)?;
    let config = run.load_config()?;
    let tokenizers = Tokenizers::load_dir(&run.root)?;
    let checkpoint = run.inference_checkpoint()?;
    let max_len = config.data.max_len;
    let mut truncated = Vec::new();
    let sources: Vec<Vec<u32>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let mut ids = tokenizers.src.encode(line);
            if ids.len() > max_len {
                ids.truncate(max_len);
                truncated.push(i + 1);
            }
            ids
        })
        .collect();
    if !truncated.is_empty() {
        let shown: Vec<String> = truncated.iter().take(10).map(|n| n.to_string()).collect();
        eprintln!(
            "warning: {} input line(s) longer than the run's maximum of {max_len} tokens were \
             translated from their first {max_len} tokens only (line{} {}{}); split long \
             sentences to translate them whole",
            truncated.len(),
            if truncated.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if truncated.len() > 10 { ", ..." } else { "" }
        );
    }
    let device = backend.device()?;
    let hyps = config.model.run(
        &device,
        TranslateJob {
            checkpoint: &checkpoint,
            device: device.clone(),
            sources: &sources,
            max_tokens,
            decoding,
        },
    )?;
    let best = lines
        .iter()
        .zip(&hyps)
        .map(|(line, h)| {
            if line.trim().is_empty() {
                String::new()
            } else {
                tokenizers.tgt.decode(&h[0].tokens)
            }
        })
        .collect();
    Ok(Translations {
        hyps,
        best,
        tokenizers,
    })
}
