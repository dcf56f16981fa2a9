//! `honyaku evaluate`: sacreBLEU-exact scores of a hypothesis file, of a run on a test set
//! (with BLEU per source-length bucket), or paired bootstrap between two systems.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use honyaku_eval::{BleuOptions, BleuTokenizer, ChrfOptions};

use crate::backend::Backend;
use crate::inference::Decoding;
use crate::inference::input::read_input;
use crate::inference::lines::translate_lines_with;
use crate::output::write_stdout;
use crate::report::evaluation::{EvalMetric, pair, render_text, single};
use crate::report::scoring::{bleu_by_length, score};
use crate::run::CheckpointChoice;
use crate::values::parse_tokenizer;

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Hypothesis file; give it twice to compare two systems (paired bootstrap).
    #[arg(long)]
    pub hyp: Vec<PathBuf>,
    /// Reference file, one line per hypothesis line.
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Translate this test source with --run and score the result.
    #[arg(long)]
    pub src: Option<PathBuf>,
    /// Run directory to translate --src with.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// BLEU tokenizer, as sacreBLEU: 13a, intl, char or none.
    #[arg(long, default_value = "13a", value_parser = parse_tokenizer)]
    pub tokenize: BleuTokenizer,
    /// Lowercase before scoring.
    #[arg(long)]
    pub lowercase: bool,
    /// Metrics to report.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "bleu,chrf")]
    pub metrics: Vec<EvalMetric>,
    /// Print one JSON object (scores on the 0-100 scale).
    #[arg(long)]
    pub json: bool,
    /// Beam size for --run (1 = greedy).
    #[arg(long, default_value_t = 5, value_parser = crate::checks::beam)]
    pub beam: usize,
    /// Length penalty for --run.
    #[arg(long, default_value_t = 0.6, value_parser = crate::checks::alpha)]
    pub alpha: f32,
    /// Backend for --run.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Checkpoint of --run: best (by the run's selection metric; the last one when the run
    /// had no validation), last, or averaged (written by `honyaku average`).
    #[arg(long, value_enum, default_value_t = CheckpointChoice::Best)]
    pub checkpoint: CheckpointChoice,
    /// Token budget per batch for --run.
    #[arg(long, default_value_t = 4096, value_parser = crate::checks::max_tokens)]
    pub max_tokens: usize,
    /// Also write the translations of --run here.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Runs `honyaku evaluate`.
pub fn run(args: EvaluateArgs) -> Result<()> {
    let refs = read_input(Some(&args.reference))?;
    let bleu_opts = BleuOptions {
        tokenizer: args.tokenize,
        lowercase: args.lowercase,
        ..BleuOptions::default()
    };
    let chrf_opts = ChrfOptions {
        lowercase: args.lowercase,
        ..ChrfOptions::default()
    };
    let report = match (&args.run, args.hyp.as_slice()) {
        (Some(run), []) => {
            let Some(src) = &args.src else {
                bail!("--run needs --src, the source side of the test set");
            };
            let sources = read_input(Some(src))?;
            check_aligned(src, sources.len(), &args.reference, refs.len())?;
            let decoding = Decoding::new(args.beam, 1, args.alpha);
            let start = Instant::now();
            let out = translate_lines_with(
                run,
                args.checkpoint,
                args.backend,
                &sources,
                decoding,
                args.max_tokens,
            )?;
            let speed = sources.len() as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let scores = score(&out.best, &refs, &bleu_opts, &chrf_opts)?;
            let buckets = bleu_by_length(&sources, &out.best, &refs, &bleu_opts)?;
            if let Some(path) = &args.output {
                crate::run::write_atomic(path, (out.best.join("\n") + "\n").as_bytes())?;
            }
            single(scores, &args.metrics, buckets, Some(speed))
        }
        (None, [hyp]) => {
            let hyps = read_input(Some(hyp))?;
            check_aligned(hyp, hyps.len(), &args.reference, refs.len())?;
            single(
                score(&hyps, &refs, &bleu_opts, &chrf_opts)?,
                &args.metrics,
                Vec::new(),
                None,
            )
        }
        (None, [a, b]) => {
            let (a_path, b_path) = (a, b);
            let (a, b) = (read_input(Some(a))?, read_input(Some(b))?);
            check_aligned(a_path, a.len(), &args.reference, refs.len())?;
            check_aligned(b_path, b.len(), &args.reference, refs.len())?;
            pair(&a, &b, &refs, &bleu_opts, &chrf_opts, &args.metrics)?
        }
        (Some(_), [_, ..]) => bail!("give either --run (with --src) or --hyp, not both"),
        (None, []) => bail!(
            "nothing to evaluate: give --hyp FILE (twice to compare two systems) or --run RUN_DIR --src FILE"
        ),
        (None, _) => bail!("--hyp can be given once (score) or twice (paired bootstrap), not more"),
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        render_text(&report)
    };
    write_stdout(&text)
}

/// Refuses a hypothesis (or source) file whose line count differs from the reference's.
fn check_aligned(path: &Path, lines: usize, reference: &Path, refs: usize) -> Result<()> {
    if lines != refs {
        bail!(
            "{} has {lines} lines but the reference {} has {refs}; give files of the same test \
             set, one sentence per line",
            path.display(),
            reference.display()
        );
    }
    Ok(())
}
