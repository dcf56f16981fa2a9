//! `honyaku compare`: the same data, tokenizer and budget for every architecture, then test-set
//! scores, significance, learning curves and a report (`report.md`, `report.json`, plots).
//!
//! Each architecture trains in a child `honyaku train` process: its peak memory is its own, and
//! a killed comparison resumes by skipping the architectures whose run has a `summary.json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use honyaku_data::clean::{CleanConfig, clean};
use honyaku_data::corpus::read_parallel;
use honyaku_data::tokenizer::{TokenizerConfig, Tokenizers};
use honyaku_eval::{BleuOptions, BootstrapOptions, ChrfOptions, paired_bootstrap};

use crate::arch::Arch;
use crate::cli::CompareArgs;
use crate::cmd_translate::{read_input, translate_lines};
use crate::report::{ArchResult, CompareReport, Curve, Example, PairTest};
use crate::resume::TrainState;
use crate::run::RunDir;
use crate::scoring::{bleu_by_length, score};
use crate::translate::Decoding;
use crate::validation::ValidScores;

/// Runs `honyaku compare`.
pub fn run(args: CompareArgs) -> Result<()> {
    if args.archs.is_empty() {
        bail!("--archs names no architecture");
    }
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let tokenizer_dir = shared_tokenizers(&args)?;
    let mut results = Vec::new();
    for &arch in &args.archs {
        let run = args.out.join("runs").join(arch.name());
        train_arch(&args, arch, &run, &tokenizer_dir)?;
        results.push(evaluate_arch(&args, arch, &run)?);
    }
    let report = assemble(&args, results)?;
    crate::report::write(&args.out, &report, args.lang)?;
    eprintln!("{}", crate::report::table(&report, args.lang));
    eprintln!("report: {}", args.out.join("report.md").display());
    Ok(())
}

/// One tokenizer for every architecture, trained once on the cleaned training data.
fn shared_tokenizers(args: &CompareArgs) -> Result<PathBuf> {
    let dir = args.out.join("tokenizer");
    if Tokenizers::load_dir(&dir).is_ok() {
        return Ok(dir);
    }
    let pairs = read_parallel(&args.train_src, &args.train_tgt)?;
    let cleaned = clean(pairs, &CleanConfig::default())?;
    eprintln!("{}", cleaned.report);
    let config = TokenizerConfig {
        vocab_size: args.vocab_size,
        ..TokenizerConfig::default()
    };
    Tokenizers::train(&cleaned.pairs, &config)?.save_dir(&dir)?;
    Ok(dir)
}

/// Trains one architecture in a child process, unless its run already finished.
fn train_arch(args: &CompareArgs, arch: Arch, run: &Path, tokenizers: &Path) -> Result<()> {
    if run.join("summary.json").is_file() {
        eprintln!("{arch}: already trained in {}, skipping", run.display());
        return Ok(());
    }
    let exe = std::env::current_exe().context("locating the honyaku executable")?;
    let mut cmd = Command::new(exe);
    let existing = RunDir {
        root: run.to_path_buf(),
    };
    match TrainState::load(&existing) {
        // A comparison killed while this architecture trained: continue where it stopped
        // (its own config.json keeps the budget; the elapsed time carries over).
        Ok(state) if run.join("config.json").is_file() => {
            eprintln!(
                "{arch}: training ({}), resuming the interrupted run at step {}",
                budget_words(args),
                state.step
            );
            cmd.arg("train").arg("--resume").arg(run).arg("--quiet");
        }
        _ => {
            eprintln!("{arch}: training ({})", budget_words(args));
            fresh_train_args(&mut cmd, args, arch, run, tokenizers);
        }
    }
    die_with_parent(&mut cmd);
    let status = cmd.status().context("starting the training process")?;
    if !status.success() {
        bail!("training {arch} failed ({status}); see the messages above");
    }
    Ok(())
}

/// The `honyaku train` arguments of a fresh run of `arch` in `run`.
fn fresh_train_args(
    cmd: &mut Command,
    args: &CompareArgs,
    arch: Arch,
    run: &Path,
    tokenizers: &Path,
) {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    cmd.arg("train")
        .args([
            "--arch",
            arch.name(),
            "--backend",
            &args.backend.to_string(),
        ])
        .args(["--preset", &args.preset.to_string()])
        .args([
            "--train-src",
            &path(&args.train_src),
            "--train-tgt",
            &path(&args.train_tgt),
        ])
        .args([
            "--valid-src",
            &path(&args.valid_src),
            "--valid-tgt",
            &path(&args.valid_tgt),
        ])
        .args(["--out", &path(run), "--overwrite"])
        .args(["--tokenizers-from", &path(tokenizers)])
        .args(["--max-tokens", &args.max_tokens.to_string()])
        .args(["--seed", &args.seed.to_string()])
        .arg("--quiet");
    match (args.budget_minutes, args.epochs) {
        (Some(m), _) => cmd.args(["--max-minutes", &m.to_string(), "--epochs", "100000"]),
        (None, Some(e)) => cmd.args(["--epochs", &e.to_string()]),
        (None, None) => cmd.args(["--epochs", "10"]),
    };
    if let Some(n) = args.valid_every {
        cmd.args(["--valid-every", &n.to_string()]);
    }
    if let Some(lr) = args.lr {
        cmd.args(["--lr", &lr.to_string()]);
    }
}

/// On Linux, the training child gets SIGTERM when `compare` dies, even by SIGKILL: it saves
/// its state and stops instead of training on unattended (and racing a rerun for its run
/// directory), and the next `compare` resumes it.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs between fork and exec; it only calls prctl, which is
        // async-signal-safe, and allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

fn budget_words(args: &CompareArgs) -> String {
    match (args.budget_minutes, args.epochs) {
        (Some(m), _) => format!("{m} minutes of wall time"),
        (None, Some(e)) => format!("{e} epochs"),
        (None, None) => "10 epochs".into(),
    }
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
fn evaluate_arch(args: &CompareArgs, arch: Arch, run: &Path) -> Result<ArchResult> {
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
    crate::checkpoint::write_atomic(
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
    crate::checkpoint::write_atomic(&cached, serde_json::to_string(&result)?.as_bytes())?;
    Ok(result)
}

/// Significance between every pair, examples side by side, everything in one report.
fn assemble(args: &CompareArgs, archs: Vec<ArchResult>) -> Result<CompareReport> {
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
fn heatmaps(args: &CompareArgs, archs: &[ArchResult], sources: &[String]) -> Result<Vec<String>> {
    let indices = example_indices(sources);
    let Some(&i) = indices.get(indices.len() / 2) else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for a in archs {
        let run = args.out.join("runs").join(&a.arch);
        let stem = args.out.join("plots").join(format!("attention_{}", a.arch));
        if crate::cmd_attention::heatmap(&run, args.backend, &sources[i], &stem)?.is_some() {
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
