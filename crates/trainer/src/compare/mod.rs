//! The comparison behind `honyaku compare` and `demo`: the same data, tokenizer and budget for
//! every architecture, then test-set scores, significance, learning curves and a report
//! (`report.md`, `report.json`, plots).
//!
//! Each architecture trains in a child `honyaku train` process: its peak memory is its own, and
//! a killed comparison resumes by skipping the architectures whose run has a `summary.json`.

mod child;
mod options;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use honyaku_data::clean::CleanConfig;
use honyaku_data::corpus::CorpusSource;
use honyaku_data::prepare::{PrepareEvent, TokenizerSource, tokenize_corpus};
use honyaku_data::tokenizer::{TokenizerConfig, Tokenizers};
use honyaku_eval::{BleuOptions, BootstrapOptions, ChrfOptions, paired_bootstrap};

pub use options::CompareOptions;

use self::child::{budget_words, train_arch};
use crate::arch::Arch;
use crate::inference::Decoding;
use crate::inference::attention::heatmap;
use crate::inference::input::read_input;
use crate::inference::lines::translate_lines;
use crate::report::scoring::{bleu_by_length, score};
use crate::report::{ArchResult, CompareReport, Curve, Example, PairTest};
use crate::run::{RunDir, write_atomic};
use crate::training::validation::ValidScores;

/// Trains and evaluates every architecture of `args`, then writes the report.
pub fn compare(args: &CompareOptions) -> Result<()> {
    if args.archs.is_empty() {
        bail!("--archs names no architecture");
    }
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let tokenizer_dir = shared_tokenizers(args)?;
    let mut results = Vec::new();
    for &arch in &args.archs {
        let run = args.out.join("runs").join(arch.name());
        train_arch(args, arch, &run, &tokenizer_dir)?;
        results.push(evaluate_arch(args, arch, &run)?);
    }
    let report = assemble(args, results)?;
    crate::report::write(&args.out, &report, args.lang)?;
    eprintln!("{}", crate::report::table(&report, args.lang));
    eprintln!("report: {}", args.out.join("report.md").display());
    Ok(())
}

/// One tokenizer for every architecture, trained once on the cleaned training data.
fn shared_tokenizers(args: &CompareOptions) -> Result<PathBuf> {
    let dir = args.out.join("tokenizer");
    if Tokenizers::load_dir(&dir).is_ok() {
        return Ok(dir);
    }
    let source = CorpusSource::Parallel {
        src: args.train_src.clone(),
        tgt: args.train_tgt.clone(),
    };
    let config = TokenizerConfig {
        vocab_size: args.vocab_size,
        ..TokenizerConfig::default()
    };
    let corpus = tokenize_corpus(
        &source,
        &CleanConfig::default(),
        &TokenizerSource::Train(config),
        &mut |event| {
            if let PrepareEvent::Cleaned { report, .. } = event {
                eprintln!("{report}");
            }
        },
    )?;
    corpus.tokenizers.save_dir(&dir)?;
    Ok(dir)
}

/// The fields of a run's `summary.json` that the report uses.
#[derive(Debug, serde::Deserialize)]
struct RunSummary {
    parameters: usize,
    seconds: f64,
    steps: usize,
    tokens_per_second: f64,
    best: Option<ValidScores>,
    peak_rss_mib: Option<f64>,
}

/// Test-set scores of one trained architecture, cached in `eval.json`.
fn evaluate_arch(args: &CompareOptions, arch: Arch, run: &Path) -> Result<ArchResult> {
    let cached = run.join("eval.json");
    if let Ok(text) = fs::read_to_string(&cached)
        && let Ok(result) = serde_json::from_str::<ArchResult>(&text)
    {
        return Ok(result);
    }
    let run_dir = RunDir::open(run)?;
    let summary: RunSummary = serde_json::from_str(&fs::read_to_string(run_dir.summary_path())?)
        .with_context(|| format!("reading {}", run_dir.summary_path().display()))?;
    let sources = read_input(Some(&args.test_src))?;
    let refs = read_input(Some(&args.test_tgt))?;
    let start = Instant::now();
    let out = translate_lines(run, args.backend, &sources, Decoding::new(1, 1, 0.0), 4096)?;
    let greedy_sps = sources.len() as f64 / start.elapsed().as_secs_f64().max(1e-9);
    let bleu = BleuOptions::default();
    let scores = score(&out.best, &refs, &bleu, &ChrfOptions::default())?;
    let buckets = bleu_by_length(&sources, &out.best, &refs, &bleu)?;
    write_atomic(
        &run.join("test.hyp"),
        (out.best.join("\n") + "\n").as_bytes(),
    )?;
    let result = ArchResult {
        arch: arch.name().to_string(),
        parameters: summary.parameters,
        train_seconds: summary.seconds,
        steps: summary.steps,
        tokens_per_second: summary.tokens_per_second,
        best_valid_ppl: summary.best.as_ref().map(|b| b.ppl()),
        best_valid_bleu: summary.best.as_ref().and_then(|b| b.bleu),
        test: scores,
        bleu_by_length: buckets,
        greedy_sentences_per_second: greedy_sps,
        peak_rss_mib: summary.peak_rss_mib,
        curve: Curve::read(&run_dir.metrics_path())?,
        hypotheses: out.best,
    };
    write_atomic(&cached, serde_json::to_string(&result)?.as_bytes())?;
    Ok(result)
}

/// Significance between every pair, examples side by side, everything in one report.
fn assemble(args: &CompareOptions, archs: Vec<ArchResult>) -> Result<CompareReport> {
    let refs = read_input(Some(&args.test_tgt))?;
    let sources = read_input(Some(&args.test_src))?;
    let refs_stream = [refs.clone()];
    let mut significance = Vec::new();
    for (i, a) in archs.iter().enumerate() {
        for b in &archs[i + 1..] {
            let test = paired_bootstrap(
                &BleuOptions::default(),
                &a.hypotheses,
                &b.hypotheses,
                &refs_stream,
                &BootstrapOptions::default(),
            )?;
            significance.push(PairTest {
                baseline: a.arch.clone(),
                candidate: b.arch.clone(),
                metric: "BLEU".into(),
                result: test,
            });
        }
    }
    let examples = example_indices(&sources)
        .into_iter()
        .map(|i| Example {
            source: sources[i].clone(),
            reference: refs[i].clone(),
            outputs: archs
                .iter()
                .map(|a| (a.arch.clone(), a.hypotheses[i].clone()))
                .collect(),
        })
        .collect();
    Ok(CompareReport {
        budget: budget_words(args),
        backend: args.backend.to_string(),
        preset: args.preset.to_string(),
        test_sentences: refs.len(),
        heatmaps: heatmaps(args, &archs, &sources)?,
        archs,
        significance,
        examples,
    })
}

/// One attention heatmap per architecture that has attention, on a mid-length test sentence.
fn heatmaps(
    args: &CompareOptions,
    archs: &[ArchResult],
    sources: &[String],
) -> Result<Vec<String>> {
    let indices = example_indices(sources);
    let Some(&i) = indices.get(indices.len() / 2) else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for a in archs {
        let run = args.out.join("runs").join(&a.arch);
        let stem = args.out.join("plots").join(format!("attention_{}", a.arch));
        if heatmap(&run, args.backend, &sources[i], &stem)?.is_some() {
            names.push(format!("plots/attention_{}.png", a.arch));
            let layer = |n: usize| format!("plots/attention_{}_layer{n}.png", a.arch);
            names.extend((1..).map(layer).take_while(|f| args.out.join(f).is_file()));
        }
    }
    Ok(names)
}

/// A handful of test sentences spread over source lengths: the shortest, the longest and
/// some in between.
fn example_indices(sources: &[String]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sources.len())
        .filter(|&i| !sources[i].trim().is_empty())
        .collect();
    order.sort_by_key(|&i| (honyaku_data::clean::length_units(&sources[i]), i));
    let n = order.len();
    if n == 0 {
        return Vec::new();
    }
    let mut picks: Vec<usize> = [0, n / 4, n / 2, 3 * n / 4, n - 1]
        .iter()
        .map(|&k| order[k])
        .collect();
    picks.dedup();
    picks
}
