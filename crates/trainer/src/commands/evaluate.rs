//! `honyaku evaluate`: sacreBLEU-exact scores of a hypothesis file, of a run on a test set
//! (with BLEU per source-length bucket), or paired bootstrap between two systems.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use honyaku_eval::{BleuOptions, BleuTokenizer, ChrfOptions};

use crate::backend::Backend;
use crate::inference::Decoding;
use crate::inference::input::read_input;
use crate::inference::lines::translate_lines;
use crate::output::write_stdout;
use crate::report::evaluation::{EvalMetric, pair, render_text, single};
use crate::report::scoring::{bleu_by_length, score};
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
    #[arg(long, default_value_t = 5)]
    pub beam: usize,
    /// Length penalty for --run.
    #[arg(long, default_value_t = 0.6)]
    pub alpha: f32,
    /// Backend for --run.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Token budget per batch for --run.
    #[arg(long, default_value_t = 4096)]
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
            let decoding = Decoding::new(args.beam, 1, args.alpha);
            let start = Instant::now();
            let out = translate_lines(run, args.backend, &sources, decoding, args.max_tokens)?;
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
            single(
                score(&hyps, &refs, &bleu_opts, &chrf_opts)?,
                &args.metrics,
                Vec::new(),
                None,
            )
        }
        (None, [a, b]) => {
            let (a, b) = (read_input(Some(a))?, read_input(Some(b))?);
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
