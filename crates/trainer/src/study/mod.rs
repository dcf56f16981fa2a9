//! `honyaku study`: the practitioner's "LSTM or attention?" rules of thumb, measured on the
//! user's corpus. A plan of child training runs (a main run per architecture, the data-regime
//! subsets with several seeds, the tuning sweep) gets an even share of `--budget-hours`; each
//! run trains and is scored through `compare`'s machinery (child `honyaku train`, shared
//! tokenizer, cached `eval.json`), the costs against length are measured with `bench`'s code,
//! and the report rebuilds the article's table and gives each claim a verdict.
//!
//! A killed study continues where it stopped: `study.json` records the settings (a rerun with
//! other settings is refused), finished runs are skipped, an interrupted one resumes, and each
//! measurement is stored atomically (`runs/*/eval.json`, `speed/*.json`, `data/*`).

mod buckets;
mod claims;
mod figures;
mod knobs;
mod learned;
mod markdown;
mod options;
mod plan;
mod results;
mod speed;
mod stats;
mod subsets;
mod table;
mod verdicts;
mod words;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use honyaku_core::Preset;
use honyaku_data::synth::{SynthConfig, SynthTask};
use honyaku_data::tokenizer::Tokenizers;

use self::knobs::{Knob, KnobSetting, available};
pub use self::options::StudyOptions;
use self::plan::{Budget, Overheads, PlanInputs, RunSpec, runs};
use self::results::{StudyReport, TestSet, arch_study, hybrid_test};
use self::speed::{SpeedSettings, speed_curve};
use self::subsets::{read_lines, subset};
use crate::compare::{
    CompareOptions, check_fingerprint, evaluate_arch, shared_tokenizers, train_arch,
};
use crate::run::{CheckpointChoice, write_atomic};

/// The corpus files of a study.
#[derive(Debug, Clone)]
struct Corpus {
    name: String,
    train_src: PathBuf,
    train_tgt: PathBuf,
    valid_src: PathBuf,
    valid_tgt: PathBuf,
    test_src: PathBuf,
    test_tgt: PathBuf,
}

/// The options with `--quick`'s defaults filled in.
#[derive(Debug, Clone)]
struct Resolved {
    preset: Preset,
    vocab_size: usize,
    sizes: Vec<usize>,
    budget_minutes: f64,
    knobs: Vec<(Knob, Vec<String>)>,
    valid_every: Option<usize>,
}

fn resolve(opts: &StudyOptions, has_train_flag: &dyn Fn(&str) -> bool) -> Resolved {
    let q = opts.quick;
    // `--quick` sweeps no knob unless `--knobs` names some: its time goes to main runs that
    // learn (see [`QUICK`]).
    let knobs = if opts.no_sweep || (q && opts.knobs.is_none()) {
        Vec::new()
    } else {
        available(has_train_flag)
            .into_iter()
            .filter(|k| {
                opts.knobs
                    .as_ref()
                    .is_none_or(|n| n.iter().any(|n| n == k.name))
            })
            .map(|k| {
                let values = if q { k.quick } else { k.values };
                (k, values.iter().map(|v| v.to_string()).collect())
            })
            .collect()
    };
    Resolved {
        preset: opts
            .preset
            .unwrap_or(if q { QUICK.preset } else { Preset::Small }),
        vocab_size: opts
            .vocab_size
            .unwrap_or(if q { QUICK.vocab_size } else { 8000 }),
        sizes: opts.data_sizes.clone().unwrap_or(if q {
            Vec::new()
        } else {
            vec![1000, 4000, 16000]
        }),
        budget_minutes: 60.0
            * opts
                .budget_hours
                .unwrap_or(if q { QUICK.hours } else { 2.0 }),
        knobs,
        valid_every: opts.valid_every.or(q.then_some(QUICK.valid_every)),
    }
}

/// `--quick`'s settings: `honyaku demo`'s (its corpus, the `mini` preset with each
/// architecture's recipe, a 1000-subword vocabulary, validation every 250 updates), with six
/// runs (a main run and a second seed per architecture) in 12.6 minutes, so that the models
/// learn and the study ends within 15 minutes on two CPU cores.
struct Quick {
    pairs: usize,
    max_len: usize,
    preset: Preset,
    vocab_size: usize,
    valid_every: usize,
    hours: f64,
}

const QUICK: Quick = Quick {
    pairs: 20_000,
    max_len: 30,
    preset: Preset::Mini,
    vocab_size: 1000,
    valid_every: 250,
    hours: 0.21,
};

/// Runs the study: plan, estimate, child runs, speed measurements, report.
pub fn study(opts: &StudyOptions, has_train_flag: &dyn Fn(&str) -> bool) -> Result<()> {
    let started = Instant::now();
    if opts.archs.is_empty() {
        bail!("--archs names no architecture");
    }
    let r = resolve(opts, has_train_flag);
    fs::create_dir_all(&opts.out).with_context(|| format!("creating {}", opts.out.display()))?;
    let corpus = corpus(opts)?;
    let train_pairs = read_lines(&corpus.train_src)?.len();
    let (sources, refs) = (read_lines(&corpus.test_src)?, read_lines(&corpus.test_tgt)?);
    if train_pairs == 0 || sources.is_empty() {
        bail!(
            "{} or {} is empty: a study needs training pairs and test sentences",
            corpus.train_src.display(),
            corpus.test_src.display()
        );
    }
    let plan = runs(&PlanInputs {
        archs: &opts.archs,
        preset: r.preset,
        train_pairs,
        sizes: &r.sizes,
        seeds: opts.seeds,
        base_seed: opts.seed,
        knobs: &r.knobs,
    });
    let overheads = overheads(
        r.preset,
        sources.len(),
        opts.archs.len(),
        opts.lengths.len(),
    );
    let budget = Budget::plan(plan.len(), r.budget_minutes, overheads)?;
    let mut notes = notes(opts, &r, train_pairs, has_train_flag);
    if let Some(warning) = budget.learn_warning(r.preset) {
        notes.push(warning);
    }
    print_plan(&plan, &budget, &notes);
    if opts.dry_run {
        return Ok(());
    }
    check_fingerprint(
        &opts.out,
        "study.json",
        "a study",
        &fingerprint(opts, &r, &corpus, &budget),
    )?;
    let base = compare_options(opts, &r, &corpus, budget.train_minutes);
    let tokenizers = shared_tokenizers(&base)?;
    let mut results = HashMap::new();
    for (i, run) in plan.iter().enumerate() {
        let name = run.dir_name();
        eprintln!("[{}/{}] {name}", i + 1, plan.len());
        let args = run_options(&base, run, &opts.out)?;
        let dir = opts.out.join("runs").join(&name);
        train_arch(&args, run.arch, &dir, &tokenizers)?;
        results.insert(name, evaluate_arch(&args, run.arch, &dir)?);
    }
    let vocab = Tokenizers::load_dir(&tokenizers)?.tgt.vocab_size();
    let speed = SpeedSettings {
        preset: r.preset,
        backend: opts.backend,
        vocab,
        lengths: opts.lengths.clone(),
        batch: if opts.quick { 8 } else { 16 },
        steps: if opts.quick { 1 } else { 2 },
    };
    let copy_baseline = crate::report::scoring::score(
        &sources,
        &refs,
        &honyaku_eval::BleuOptions::default(),
        &honyaku_eval::ChrfOptions::default(),
    )?;
    let test = TestSet {
        sources: &sources,
        refs: &refs,
        copy_chrf: copy_baseline.chrf,
    };
    let mut archs = Vec::new();
    for &arch in &opts.archs {
        let file = opts.out.join("speed").join(format!("{}.json", arch.name()));
        let curve = speed_curve(arch, &speed, &file)?;
        archs.extend(arch_study(
            arch,
            &plan,
            &results,
            Some(curve),
            &test,
            train_pairs,
        )?);
    }
    let hybrid = hybrid_test(&results, &plan, &refs)?;
    let knob_names: Vec<&str> = r.knobs.iter().map(|(k, _)| k.name).collect();
    let mut claims = verdicts::claims(&archs, hybrid.as_ref(), &knob_names);
    if opts.quick && r.knobs.is_empty() {
        for c in claims.iter_mut().filter(|c| c.id.starts_with("knob_")) {
            c.evidence = "not measured: --quick leaves out the tuning sweep (give --knobs)".into();
        }
    }
    let report = StudyReport {
        corpus: corpus.name.clone(),
        train_pairs,
        test_sentences: sources.len(),
        backend: opts.backend.to_string(),
        preset: r.preset.to_string(),
        budget,
        elapsed_minutes: started.elapsed().as_secs_f64() / 60.0,
        learned_rule: learned::rule_words(copy_baseline.chrf),
        copy_baseline,
        table: table::table(&archs),
        claims,
        archs,
        hybrid_test: hybrid,
        notes,
    };
    write_report(&opts.out, &report, opts.lang)?;
    eprintln!("report: {}", opts.out.join("report.md").display());
    Ok(())
}

/// Writes `report.json`, the plots and `report.md`.
fn write_report(dir: &Path, r: &StudyReport, lang: crate::report::Lang) -> Result<()> {
    let plots = figures::write_plots(dir, r)?;
    write_atomic(
        &dir.join("report.json"),
        serde_json::to_string_pretty(r)?.as_bytes(),
    )?;
    write_atomic(
        &dir.join("report.md"),
        markdown::markdown(r, lang, &plots).as_bytes(),
    )
}

/// The user's corpus, or with `--quick` the synthetic grammar corpus (written once).
fn corpus(opts: &StudyOptions) -> Result<Corpus> {
    if opts.quick {
        let dir = opts.out.join("corpus");
        if !dir.join("test.tgt").is_file() {
            let config = SynthConfig {
                task: SynthTask::Grammar,
                pairs: QUICK.pairs,
                min_len: 3,
                max_len: QUICK.max_len,
                seed: 1,
            };
            crate::corpus::write_synthetic(&config, &dir)?;
        }
        let f = |n: &str| dir.join(n);
        return Ok(Corpus {
            name: "synthetic English→Japanese-like grammar (honyaku synth --task grammar)".into(),
            train_src: f("train.src"),
            train_tgt: f("train.tgt"),
            valid_src: f("valid.src"),
            valid_tgt: f("valid.tgt"),
            test_src: f("test.src"),
            test_tgt: f("test.tgt"),
        });
    }
    let need = |p: &Option<PathBuf>, flag: &str| {
        p.clone()
            .ok_or_else(|| anyhow::anyhow!("give {flag} (or --quick)"))
    };
    let train_src = need(&opts.train_src, "--train-src")?;
    Ok(Corpus {
        name: train_src.display().to_string(),
        train_tgt: need(&opts.train_tgt, "--train-tgt")?,
        valid_src: need(&opts.valid_src, "--valid-src")?,
        valid_tgt: need(&opts.valid_tgt, "--valid-tgt")?,
        test_src: need(&opts.test_src, "--test-src")?,
        test_tgt: need(&opts.test_tgt, "--test-tgt")?,
        train_src,
    })
}

/// Rough costs besides training: the estimate printed before anything runs.
fn overheads(preset: Preset, test_sentences: usize, archs: usize, lengths: usize) -> Overheads {
    // Greedy sentences per second on two CPU cores, minutes per speed length, least training.
    let (decode_rate, per_length, min_train) = match preset {
        Preset::Tiny => (150.0, 0.02, 0.05),
        Preset::Mini => (60.0, 0.05, 0.25),
        Preset::Small => (20.0, 0.3, 1.0),
        Preset::Base => (5.0, 1.0, 3.0),
    };
    Overheads {
        per_run_minutes: 0.1 + test_sentences as f64 / decode_rate / 60.0,
        speed_minutes: (archs * lengths) as f64 * per_length,
        min_train_minutes: min_train,
    }
}

/// What the plan leaves out, and why.
fn notes(
    opts: &StudyOptions,
    r: &Resolved,
    train_pairs: usize,
    has_train_flag: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut notes = Vec::new();
    if opts.quick {
        if opts.data_sizes.is_none() {
            notes.push(
                "data regime: --quick measures the whole set only (two seeds); the training \
                 subsets (little data) are left out"
                    .into(),
            );
        }
        if opts.knobs.is_none() && !opts.no_sweep {
            notes.push("tuning sweep: left out by --quick (give --knobs to sweep some)".into());
        }
    }
    for &n in r.sizes.iter().filter(|&&n| n >= train_pairs) {
        notes.push(format!(
            "data size {n}: not below the {train_pairs} training pairs, measured as the whole set"
        ));
    }
    if opts.no_sweep {
        notes.push("tuning sweep: skipped (--no-sweep)".into());
    } else if !has_train_flag("cell")
        && opts
            .knobs
            .as_ref()
            .is_none_or(|n| n.iter().any(|n| n == "cell"))
    {
        notes.push(
            "knob `cell` (LSTM vs GRU gates): `honyaku train` has no --cell flag in this build"
                .into(),
        );
    }
    for (knob, values) in &r.knobs {
        for &arch in &opts.archs {
            for v in values {
                if let Some(KnobSetting::Invalid(why)) = knob.setting(arch, r.preset, v) {
                    notes.push(format!("{arch} {}={v}: skipped ({why})", knob.name));
                }
            }
        }
    }
    notes
}

fn print_plan(plan: &[RunSpec], budget: &Budget, notes: &[String]) {
    eprintln!("study plan: {budget}");
    for run in plan {
        eprintln!("  run {}", run.dir_name());
    }
    for n in notes {
        eprintln!("  note: {n}");
    }
}

/// The settings that decide the results, as `study.json` records them.
fn fingerprint(
    opts: &StudyOptions,
    r: &Resolved,
    c: &Corpus,
    budget: &Budget,
) -> serde_json::Value {
    let knobs: Vec<(&str, &Vec<String>)> = r.knobs.iter().map(|(k, v)| (k.name, v)).collect();
    serde_json::json!({
        "train_src": c.train_src, "train_tgt": c.train_tgt,
        "valid_src": c.valid_src, "valid_tgt": c.valid_tgt,
        "test_src": c.test_src, "test_tgt": c.test_tgt,
        "train_minutes": budget.train_minutes, "backend": opts.backend.to_string(),
        "preset": r.preset.to_string(), "vocab_size": r.vocab_size, "sizes": r.sizes,
        "seeds": opts.seeds, "seed": opts.seed, "knobs": knobs, "lengths": opts.lengths,
        "max_tokens": opts.max_tokens, "valid_every": r.valid_every,
    })
}

/// The comparison settings every child run starts from.
fn compare_options(
    opts: &StudyOptions,
    r: &Resolved,
    c: &Corpus,
    train_minutes: f64,
) -> CompareOptions {
    CompareOptions {
        archs: opts.archs.clone(),
        train_src: c.train_src.clone(),
        train_tgt: c.train_tgt.clone(),
        valid_src: c.valid_src.clone(),
        valid_tgt: c.valid_tgt.clone(),
        test_src: c.test_src.clone(),
        test_tgt: c.test_tgt.clone(),
        out: opts.out.clone(),
        budget_minutes: Some(train_minutes),
        epochs: None,
        backend: opts.backend,
        preset: r.preset,
        lang: opts.lang,
        vocab_size: r.vocab_size,
        max_tokens: opts.max_tokens,
        valid_every: r.valid_every,
        seed: opts.seed,
        lr: None,
        schedule: None,
        warmup: None,
        early_stop_metric: None,
        checkpoint: CheckpointChoice::Best,
        set: Vec::new(),
    }
}

/// One run's settings: its training subset, seed and knob.
fn run_options(base: &CompareOptions, run: &RunSpec, out: &Path) -> Result<CompareOptions> {
    let mut args = base.clone();
    args.seed = run.seed;
    if let Some(n) = run.size {
        let s = subset(
            &base.train_src,
            &base.train_tgt,
            n,
            run.seed,
            &out.join("data"),
        )?;
        (args.train_src, args.train_tgt) = (s.src, s.tgt);
    }
    if let Some(k) = &run.knob {
        let file = out.join("knobs").join(format!("{}.json", run.dir_name()));
        args.set = k.setting.arch_settings(run.arch, &file)?;
    }
    Ok(args)
}
