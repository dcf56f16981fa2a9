//! `honyaku translate`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use honyaku_core::Hypothesis;
use honyaku_data::tokenizer::Tokenizers;

use crate::backend::Backend;
use crate::checkpoint::write_atomic;
use crate::cli::TranslateArgs;
use crate::limits::{truncate_sources, truncation_warning};
use crate::output::write_stdout;
use crate::run::RunDir;
use crate::translate::{Decoding, TranslateJob};

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

/// Runs `honyaku translate`.
pub fn run(args: TranslateArgs) -> Result<()> {
    if args.nbest > args.beam {
        bail!(
            "--nbest {} is more than --beam {}: beam search keeps --beam hypotheses per \
             sentence; give --beam {} or more, or a smaller --nbest",
            args.nbest,
            args.beam,
            args.nbest
        );
    }
    let lines = read_input(args.input.as_deref())?;
    let decoding = Decoding::new(args.beam, args.nbest, args.alpha);
    let out = translate_lines(&args.run, args.backend, &lines, decoding, args.max_tokens)?;
    let mut text = String::new();
    if args.nbest <= 1 {
        for line in &out.best {
            text.push_str(line);
            text.push('\n');
        }
    } else {
        // Moses n-best format: index ||| translation ||| score
        for (i, hyps) in out.hyps.iter().enumerate() {
            for h in hyps {
                let words = out.tokenizers.tgt.decode(&h.tokens);
                text.push_str(&format!("{i} ||| {words} ||| {:.4}\n", h.score));
            }
        }
    }
    match &args.output {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => write_stdout(&text),
    }
}

/// Reads lines from a file or stdin; invalid UTF-8 is an error naming the line. A byte order
/// mark at the start and `\r` line endings are removed.
pub fn read_input(path: Option<&Path>) -> Result<Vec<String>> {
    let (name, reader): (String, Box<dyn Read>) = match path {
        Some(path) => (
            path.display().to_string(),
            Box::new(
                File::open(path).with_context(|| format!("opening input {}", path.display()))?,
            ),
        ),
        None => ("standard input".to_string(), Box::new(io::stdin())),
    };
    let mut lines = Vec::new();
    for (i, line) in BufReader::new(reader).split(b'\n').enumerate() {
        let bytes = line.with_context(|| format!("reading {name}"))?;
        let mut text = String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "{name} line {}: invalid UTF-8 at byte {}; convert the input to UTF-8, e.g. with \
                 `iconv -f latin1 -t utf-8`",
                i + 1,
                e.utf8_error().valid_up_to()
            )
        })?;
        if i == 0 && text.starts_with('\u{feff}') {
            text.remove(0);
        }
        if text.ends_with('\r') {
            text.pop();
        }
        lines.push(text);
    }
    Ok(lines)
}
