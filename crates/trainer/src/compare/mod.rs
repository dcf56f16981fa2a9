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
use clap::ValueEnum;
use honyaku_data::clean::CleanConfig;
use honyaku_data::corpus::CorpusSource;
use honyaku_data::prepare::{PrepareEvent, TokenizerSource, tokenize_corpus};
use honyaku_data::tokenizer::{TokenizerConfig, Tokenizers};
use honyaku_eval::{BleuOptions, BootstrapOptions, ChrfOptions, paired_bootstrap};

pub use options::{ArchSetting, CompareOptions};

use self::child::budget_words;
pub(crate) use self::child::train_arch;
use crate::arch::Arch;
use crate::inference::Decoding;
use crate::inference::attention::heatmap;
use crate::inference::input::read_input;
use crate::inference::lines::translate_lines_with;
use crate::report::scoring::{bleu_by_length, score};
use crate::report::{ArchResult, CompareReport, Curve, Example, PairTest, RunSettings};
use crate::run::config::ScheduleKind;
use crate::run::{CheckpointChoice, RunConfig, RunDir, write_atomic};
use crate::training::validation::ValidScores;

/// Trains and evaluates every architecture of `args`, then writes the report.
pub fn compare(args: &CompareOptions) -> Result<()> {
    if args.archs.is_empty() {
        bail!("--archs names no architecture");
    }
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    check_same_settings(args)?;
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

/// A comparison directory holds the results of one set of settings: `compare.json` records
/// them, and a rerun with other settings is refused instead of mixing old and new results.
fn check_same_settings(args: &CompareOptions) -> Result<()> {
    check_fingerprint(
        &args.out,
        "compare.json",
        "a comparison",
        &args.fingerprint(),
    )
}

/// Records `now` in `dir/file`, or refuses when the file holds other settings (a comparison
/// or a study made with other settings), naming each difference.
pub(crate) fn check_fingerprint(
    dir: &Path,
    file: &str,
    what: &str,
    now: &serde_json::Value,
) -> Result<()> {
    let path = dir.join(file);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let before: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is damaged", path.display()))?;
            let changed = changed_settings(&before, now);
            if !changed.is_empty() {
                bail!(
                    "{} holds {what} made with other settings ({}); its runs and scores \
                     would be mixed with the new ones. Give a new --out, or delete {} to start \
                     over",
                    dir.display(),
                    changed.join("; "),
                    dir.display()
                );
            }
            Ok(())
        }
        Err(_) => write_atomic(&path, serde_json::to_string_pretty(now)?.as_bytes()),
    }
}

/// `key: before → now` for every setting that differs.
fn changed_settings(before: &serde_json::Value, now: &serde_json::Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, n) = (
        before.as_object().unwrap_or(&empty),
        now.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = b.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != n.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| v.map_or("-".into(), |v| v.to_string());
            format!("{k}: {} → {}", show(b.get(k)), show(n.get(k)))
        })
        .collect()
}

/// One tokenizer for every architecture, trained once on the cleaned training data.
pub(crate) fn shared_tokenizers(args: &CompareOptions) -> Result<PathBuf> {
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
    #[serde(default)]
    epochs: usize,
    #[serde(default)]
    valid_seconds: f64,
    #[serde(default)]
    target_tokens: usize,
    tokens_per_second: f64,
    best: Option<ValidScores>,
    peak_rss_mib: Option<f64>,
}

/// The settings a run trained with, from its `config.json`.
fn run_settings(config: &RunConfig, checkpoint: CheckpointChoice) -> RunSettings {
    let t = &config.train;
    let schedule = match t.schedule {
        ScheduleKind::Constant => "constant".to_string(),
        ScheduleKind::InverseSqrt => format!("inverse-sqrt, {} warm-up", t.warmup),
        ScheduleKind::Plateau => format!(
            "plateau ×{} after {} validations",
            t.plateau_factor, t.plateau_patience
        ),
    };
    let model = serde_json::to_value(&config.model).unwrap_or_default();
    let metric = t.select_metric.to_possible_value();
    RunSettings {
        lr: t.lr,
        schedule,
        adam: [t.adam_beta1, t.adam_beta2, t.adam_epsilon],
        label_smoothing: t.label_smoothing,
        clip_norm: t.clip_norm,
        max_tokens: t.max_tokens,
        dropout: model["dropout"].as_f64(),
        select_metric: metric.map_or("-".into(), |m| m.get_name().to_string()),
        checkpoint: checkpoint.to_string(),
    }
}

/// Test-set scores of one trained architecture, cached in `eval.json`.
pub(crate) fn evaluate_arch(args: &CompareOptions, arch: Arch, run: &Path) -> Result<ArchResult> {
    let cached = run.join("eval.json");
    if let Ok(text) = fs::read_to_string(&cached)
        && let Ok(result) = serde_json::from_str::<ArchResult>(&text)
    {
        return Ok(result);
    }
    let run_dir = RunDir::open(run)?;
    let config = run_dir.load_config()?;
    let summary: RunSummary = serde_json::from_str(&fs::read_to_string(run_dir.summary_path())?)
        .with_context(|| format!("reading {}", run_dir.summary_path().display()))?;
    let sources = read_input(Some(&args.test_src))?;
    let refs = read_input(Some(&args.test_tgt))?;
    let start = Instant::now();
    let greedy = Decoding::new(1, 1, 0.0);
    let out = translate_lines_with(run, args.checkpoint, args.backend, &sources, greedy, 4096)?;
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
        epochs: summary.epochs,
        target_tokens: summary.target_tokens,
        valid_seconds: summary.valid_seconds,
        settings: run_settings(&config, args.checkpoint),
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

#[cfg(test)]
mod tests {
    use super::changed_settings;

    #[test]
    fn changed_settings_name_each_difference_once() {
        let before = serde_json::json!({"lr": null, "seed": 42, "epochs": 1});
        let now = serde_json::json!({"lr": 0.001, "seed": 42, "warmup": 10});
        assert_eq!(
            changed_settings(&before, &now),
            ["epochs: 1 → -", "lr: null → 0.001", "warmup: - → 10"]
        );
        assert!(changed_settings(&now, &now).is_empty());
    }
}
