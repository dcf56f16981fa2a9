//! `honyaku translate`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use honyaku_core::Hypothesis;
use honyaku_data::tokenizer::Tokenizers;

use crate::backend::Backend;
use crate::checkpoint::write_atomic;
use crate::cli::TranslateArgs;
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

/// Runs `honyaku translate`.
pub fn run(args: TranslateArgs) -> Result<()> {
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
