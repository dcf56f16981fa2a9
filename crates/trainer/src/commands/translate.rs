//! `honyaku translate`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::backend::Backend;
use crate::inference::Decoding;
use crate::inference::input::read_input;
use crate::inference::lines::translate_lines_with;
use crate::output::write_stdout;
use crate::run::CheckpointChoice;
use crate::run::write_atomic;

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Run directory written by `honyaku train`.
    #[arg(long)]
    pub run: PathBuf,
    /// Checkpoint to translate with: best (by the run's selection metric; the last one when
    /// the run had no validation), last, or averaged (written by `honyaku average`).
    #[arg(long, value_enum, default_value_t = CheckpointChoice::Best)]
    pub checkpoint: CheckpointChoice,
    /// Compute backend (any backend loads any run).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Input file (default: stdin), one sentence per line.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Output file (default: stdout), one translation per input line.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Token budget per batch.
    #[arg(long, default_value_t = 4096, value_parser = crate::checks::max_tokens)]
    pub max_tokens: usize,
    /// Beam size (1 = greedy).
    #[arg(long, default_value_t = 5, value_parser = crate::checks::beam)]
    pub beam: usize,
    /// Hypotheses per input; above 1, output is Moses n-best: `index ||| text ||| score`.
    #[arg(long, default_value_t = 1, value_parser = crate::checks::nbest)]
    pub nbest: usize,
    /// Length penalty exponent (GNMT): 0 ranks by log-probability, larger favours longer.
    #[arg(long, default_value_t = 0.6, value_parser = crate::checks::alpha)]
    pub alpha: f32,
}

/// Runs `honyaku translate`.
pub fn run(args: TranslateArgs) -> Result<()> {
    if args.nbest > args.beam {
        anyhow::bail!(
            "--nbest {} is more than --beam {}: beam search keeps --beam hypotheses per \
             sentence; give --beam {} or more, or a smaller --nbest",
            args.nbest,
            args.beam,
            args.nbest
        );
    }
    let lines = read_input(args.input.as_deref())?;
    let decoding = Decoding::new(args.beam, args.nbest, args.alpha);
    let out = translate_lines_with(
        &args.run,
        args.checkpoint,
        args.backend,
        &lines,
        decoding,
        args.max_tokens,
    )?;
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
