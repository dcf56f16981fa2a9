//! Translating lines of text with a run: the shared path of `translate`, `evaluate`, `compare`
//! and `attention`.

use std::path::Path;

use anyhow::{Result, bail};
use honyaku_core::Hypothesis;
use honyaku_data::tokenizer::Tokenizers;

use super::decoding::Decoding;
use super::translate::TranslateJob;
use crate::backend::Backend;
use crate::limits::{truncate_sources, truncation_warning};
use crate::run::{CheckpointChoice, RunDir};

/// Translations of a list of lines.
pub struct Translations {
    /// Per input line, its hypotheses (best first).
    pub hyps: Vec<Vec<Hypothesis>>,
    /// Per input line, the detokenized best hypothesis ("" for an empty input line).
    pub best: Vec<String>,
    /// The run's tokenizers.
    pub tokenizers: Tokenizers,
}

/// Loads a run's default (best) checkpoint and translates `lines` with it; see
/// [`translate_lines_with`].
pub fn translate_lines(
    run_dir: &Path,
    backend: Backend,
    lines: &[String],
    decoding: Decoding,
    max_tokens: usize,
) -> Result<Translations> {
    let checkpoint = CheckpointChoice::Best;
    translate_lines_with(run_dir, checkpoint, backend, lines, decoding, max_tokens)
}

/// Loads a run's `checkpoint` and translates `lines` with it: the shared path of `translate`,
/// `evaluate` and `compare`. Lines longer than the run's maximum length are truncated with a
/// warning.
pub fn translate_lines_with(
    run_dir: &Path,
    checkpoint: CheckpointChoice,
    backend: Backend,
    lines: &[String],
    decoding: Decoding,
    max_tokens: usize,
) -> Result<Translations> {
    let run = RunDir::open(run_dir)?;
    let config = run.load_config()?;
    let tokenizers = Tokenizers::load_dir(&run.root)?;
    let checkpoint = run.checkpoint(checkpoint)?;
    check_beam(&decoding, config.model.tgt_vocab())?;
    let max_len = config.data.max_len;
    let mut sources: Vec<Vec<u32>> = lines.iter().map(|l| tokenizers.src.encode(l)).collect();
    let truncated = truncate_sources(&mut sources, max_len);
    if let Some(warning) = truncation_warning(&truncated, max_len) {
        eprintln!("{warning}");
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

/// Refuses a beam wider than the run's target vocabulary: a search step extends at most one
/// hypothesis per token.
fn check_beam(decoding: &Decoding, tgt_vocab: usize) -> Result<()> {
    if let Decoding::Beam(b) = decoding
        && b.beam > tgt_vocab
    {
        bail!(
            "--beam {} is wider than this run's target vocabulary of {tgt_vocab} tokens; give \
             --beam {tgt_vocab} or less",
            b.beam
        );
    }
    Ok(())
}
