//! Compares this crate with sacreBLEU on the fixtures written by
//! `scripts/make_metric_fixtures.py` (every `tests/fixtures/*.json`).
//!
//! Scores on the 0–100 scale must agree within 0.005, lengths and counts
//! exactly, signatures up to the `version` field. Bootstrap results can only
//! agree in spirit, since the random streams differ (see `bootstrap.rs`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use honyaku_eval::{
    BleuOptions, BleuTokenizer, BootstrapOptions, ChrfOptions, Metric, Smoothing, SystemEstimate,
    paired_bootstrap,
};
use serde::Deserialize;

const SCORE_TOL: f64 = 0.005;

#[derive(Deserialize)]
struct TokenizerFixture {
    cases: Vec<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct SetFixture {
    name: String,
    hyps: Vec<String>,
    refs: Vec<Vec<String>>,
    segment_stats_tokenize: String,
    segment_stats: SegmentStats,
    bleu: Vec<BleuCase>,
    chrf: Vec<ChrfCase>,
}

#[derive(Deserialize)]
struct SegmentStats {
    bleu: Vec<Vec<u64>>,
    #[serde(rename = "chrf++")]
    chrf_pp: Vec<Vec<u64>>,
}

#[derive(Deserialize)]
struct BleuCase {
    tokenize: String,
    lowercase: bool,
    effective_order: bool,
    smooth_method: String,
    smooth_value: Option<f64>,
    score: f64,
    precisions: Vec<f64>,
    bp: f64,
    sys_len: u64,
    ref_len: u64,
    counts: Vec<u64>,
    totals: Vec<u64>,
    signature: String,
}

#[derive(Deserialize)]
struct ChrfCase {
    word_order: usize,
    lowercase: bool,
    whitespace: bool,
    eps_smoothing: bool,
    name: String,
    score: f64,
    signature: String,
}

#[derive(Deserialize)]
struct BootstrapFixture {
    n_samples: usize,
    seed: u64,
    refs: Vec<Vec<String>>,
    systems: BTreeMap<String, Vec<String>>,
    signatures: BTreeMap<String, String>,
    results: BTreeMap<String, BTreeMap<String, BootstrapResult>>,
}

#[derive(Deserialize)]
struct BootstrapResult {
    score: f64,
    mean: f64,
    ci: f64,
    p_value: Option<f64>,
    /// Range of sacreBLEU's p-value over seeds 1..=20.
    p_value_range_seeds_1_20: Option<[f64; 2]>,
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn set_fixtures() -> Vec<SetFixture> {
    let mut paths: Vec<PathBuf> = fs::read_dir(fixture_dir())
        .expect("fixture directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("set_"))
        })
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 10,
        "expected the fixture sets, found {}",
        paths.len()
    );
    paths.iter().map(|p| load(p)).collect()
}

fn strip_version(sig: &str) -> &str {
    sig.split("|version:").next().unwrap_or(sig)
}

fn smoothing(method: &str, value: Option<f64>) -> Smoothing {
    match method {
        "exp" => Smoothing::Exp,
        "none" => Smoothing::None,
        "floor" => Smoothing::Floor(value.unwrap_or(0.1)),
        "add-k" => Smoothing::AddK(value.unwrap_or(1.0)),
        other => panic!("unknown smoothing {other}"),
    }
}

/// Collects mismatches so that one run reports all of them.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
    checked: usize,
    max_deviation: f64,
}

impl Report {
    fn close(&mut self, what: &str, ours: f64, theirs: f64, tol: f64) {
        self.max_deviation = self.max_deviation.max((ours - theirs).abs());
        if (ours - theirs).abs() >= tol {
            self.failures
                .push(format!("{what}: ours {ours} vs sacreBLEU {theirs}"));
        }
    }

    fn equal<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, ours: T, theirs: T) {
        if ours != theirs {
            self.failures
                .push(format!("{what}: ours {ours:?} vs sacreBLEU {theirs:?}"));
        }
    }

    fn finish(self, kind: &str) {
        println!(
            "{kind}: {} fixture cases checked, {} mismatches, largest numeric deviation {:e}",
            self.checked,
            self.failures.len(),
            self.max_deviation
        );
        assert!(
            self.failures.is_empty(),
            "{kind} mismatches:\n{}",
            self.failures.join("\n")
        );
    }
}

#[test]
fn tokenizers_match_sacrebleu() {
    let fixture: TokenizerFixture = load(&fixture_dir().join("tokenizers.json"));
    let mut report = Report::default();
    for case in &fixture.cases {
        let input = &case["input"];
        for tok in BleuTokenizer::ALL {
            report.equal(
                &format!("{tok} on {input:?}"),
                tok.tokenize(input),
                case[tok.name()].clone(),
            );
        }
        report.checked += 1;
    }
    report.finish("tokenizer inputs");
}

fn check_bleu_case(report: &mut Report, set: &SetFixture, case: &BleuCase) {
    let opts = BleuOptions {
        tokenizer: case.tokenize.parse().expect("known tokenizer"),
        lowercase: case.lowercase,
        smoothing: smoothing(&case.smooth_method, case.smooth_value),
        effective_order: case.effective_order,
    };
    let what = format!("{} [{}]", set.name, case.signature);
    let ours = opts
        .corpus_score(&set.hyps, &set.refs)
        .expect("valid fixture");
    report.close(&format!("{what} score"), ours.score, case.score, SCORE_TOL);
    for (n, (p, q)) in ours.precisions.iter().zip(&case.precisions).enumerate() {
        report.close(&format!("{what} precision {}", n + 1), *p, *q, SCORE_TOL);
    }
    report.close(&format!("{what} bp"), ours.bp, case.bp, SCORE_TOL / 100.0);
    report.equal(
        &format!("{what} lengths"),
        (ours.sys_len, ours.ref_len),
        (case.sys_len, case.ref_len),
    );
    // sacreBLEU reports add-k counts with k already added to orders 2..4,
    // unless it stopped early because nothing matched.
    let k = match opts.smoothing {
        Smoothing::AddK(k) if ours.counts.iter().any(|&c| c > 0) => k as u64,
        _ => 0,
    };
    let shifted = |v: [u64; 4]| [v[0], v[1] + k, v[2] + k, v[3] + k].to_vec();
    report.equal(
        &format!("{what} counts"),
        shifted(ours.counts),
        case.counts.clone(),
    );
    report.equal(
        &format!("{what} totals"),
        shifted(ours.totals),
        case.totals.clone(),
    );
    let sig = opts.signature(set.refs.len()).to_string();
    report.equal(
        &format!("{what} signature"),
        strip_version(&sig),
        strip_version(&case.signature),
    );
    report.checked += 1;
}

#[test]
fn bleu_matches_sacrebleu() {
    let mut report = Report::default();
    for set in set_fixtures() {
        for case in &set.bleu {
            check_bleu_case(&mut report, &set, case);
        }
    }
    report.finish("BLEU");
}

fn check_chrf_case(report: &mut Report, set: &SetFixture, case: &ChrfCase) {
    let opts = ChrfOptions {
        word_order: case.word_order,
        lowercase: case.lowercase,
        whitespace: case.whitespace,
        eps_smoothing: case.eps_smoothing,
        ..ChrfOptions::default()
    };
    let what = format!("{} [{}]", set.name, case.signature);
    let ours = opts
        .corpus_score(&set.hyps, &set.refs)
        .expect("valid fixture");
    report.close(&format!("{what} score"), ours.score, case.score, SCORE_TOL);
    report.equal(&format!("{what} name"), ours.name(), case.name.clone());
    let sig = opts.signature(set.refs.len()).to_string();
    report.equal(
        &format!("{what} signature"),
        strip_version(&sig),
        strip_version(&case.signature),
    );
    report.checked += 1;
}

#[test]
fn chrf_matches_sacrebleu() {
    let mut report = Report::default();
    for set in set_fixtures() {
        for case in &set.chrf {
            check_chrf_case(&mut report, &set, case);
        }
    }
    report.finish("chrF");
}

#[test]
fn segment_statistics_match_sacrebleu() {
    let mut report = Report::default();
    for set in set_fixtures() {
        let bleu = BleuOptions {
            tokenizer: set.segment_stats_tokenize.parse().expect("known tokenizer"),
            ..BleuOptions::default()
        };
        let ours: Vec<Vec<u64>> = bleu
            .segment_stats(&set.hyps, &set.refs)
            .expect("valid fixture")
            .iter()
            .map(|s| [[s.sys_len, s.ref_len].as_slice(), &s.correct, &s.total].concat())
            .collect();
        report.equal(
            &format!("{} BLEU segment stats", set.name),
            ours,
            set.segment_stats.bleu.clone(),
        );
        let chrf = ChrfOptions::chrf_plus_plus();
        let ours: Vec<Vec<u64>> = chrf
            .segment_stats(&set.hyps, &set.refs)
            .expect("valid fixture")
            .iter()
            .map(|s| s.orders.concat())
            .collect();
        report.equal(
            &format!("{} chrF++ segment stats", set.name),
            ours,
            set.segment_stats.chrf_pp.clone(),
        );
        report.checked += 1;
    }
    report.finish("segment statistics sets");
}

/// Our estimate must be statistically compatible with sacreBLEU's.
fn check_estimate(
    report: &mut Report,
    what: &str,
    ours: &SystemEstimate,
    theirs: &BootstrapResult,
) {
    report.close(
        &format!("{what} score"),
        ours.score,
        theirs.score,
        SCORE_TOL,
    );
    // Means of 1000 resamples: within a fifth of the interval half-width (plus slack).
    report.close(
        &format!("{what} mean"),
        ours.mean,
        theirs.mean,
        0.2 * theirs.ci + 0.05,
    );
    let ratio = ours.ci / theirs.ci;
    if !(0.75..=1.33).contains(&ratio) {
        report.failures.push(format!(
            "{what} ci: ours {} vs sacreBLEU {}",
            ours.ci, theirs.ci
        ));
    }
}

#[test]
fn paired_bootstrap_agrees_with_sacrebleu_in_spirit() {
    let fixture: BootstrapFixture = load(&fixture_dir().join("paired_bootstrap.json"));
    let opts = BootstrapOptions {
        n_samples: fixture.n_samples,
        seed: fixture.seed,
    };
    let mut report = Report::default();
    let baseline = &fixture.systems["baseline"];
    for (metric_name, results) in &fixture.results {
        for (system, theirs) in results {
            let (Some(theirs_p), Some([p_min, p_max])) =
                (theirs.p_value, theirs.p_value_range_seeds_1_20)
            else {
                continue;
            };
            let hyps = &fixture.systems[system];
            let what = format!("{metric_name} {system}");
            let ours = match metric_name.as_str() {
                "BLEU" => paired_bootstrap(
                    &BleuOptions::default(),
                    baseline,
                    hyps,
                    &fixture.refs,
                    &opts,
                ),
                "chrF2" => paired_bootstrap(
                    &ChrfOptions::default(),
                    baseline,
                    hyps,
                    &fixture.refs,
                    &opts,
                ),
                other => panic!("unexpected metric {other}"),
            }
            .expect("valid fixture");
            println!(
                "{what}: mean {:.2} ± {:.2}, p = {:.4} (sacreBLEU: {:.2} ± {:.2}, p = {theirs_p:.4})",
                ours.candidate.mean, ours.candidate.ci, ours.p_value, theirs.mean, theirs.ci
            );
            check_estimate(
                &mut report,
                &format!("{what} (baseline)"),
                &ours.baseline,
                &results["baseline"],
            );
            check_estimate(&mut report, &what, &ours.candidate, theirs);
            // Our p-value must fall where sacreBLEU's falls under other seeds
            // (a near tie moves a lot between draws), and a clear win stays clear.
            if !(p_min - 0.02..=p_max + 0.02).contains(&ours.p_value) {
                report.failures.push(format!(
                    "{what} p-value: ours {} outside sacreBLEU's seed range [{p_min}, {p_max}]",
                    ours.p_value
                ));
            }
            report.equal(
                &format!("{what} significant at 1%"),
                ours.p_value < 0.01,
                theirs_p < 0.01,
            );
            report.checked += 1;
        }
    }
    let bleu_sig = BleuOptions::default()
        .signature(1)
        .with_bootstrap(opts.n_samples, opts.seed);
    let chrf_sig = ChrfOptions::default()
        .signature(1)
        .with_bootstrap(opts.n_samples, opts.seed);
    for (name, ours) in [("BLEU", bleu_sig), ("chrF2", chrf_sig)] {
        let theirs = &fixture.signatures[name];
        report.equal(
            &format!("{name} bootstrap signature"),
            strip_version(&ours.to_string()),
            strip_version(theirs),
        );
    }
    report.finish("paired bootstrap comparisons");
}
