//! What a study measured, per architecture, assembled from the child runs' `eval.json` files
//! and the speed measurements; `report.json` is this, with the table and the claims.

use std::collections::HashMap;

use anyhow::Result;
use honyaku_eval::{BootstrapOptions, ChrfOptions, paired_bootstrap};
use serde::{Deserialize, Serialize};

use super::buckets::{BucketScores, bucket_scores};
use super::claims::Claim;
use super::learned::{self, Learned};
use super::plan::{Budget, RunSpec};
use super::speed::SpeedCurve;
use super::stats::Spread;
use crate::arch::Arch;
use crate::report::ArchResult;
use crate::report::PairTest;
use crate::report::scoring::Scores;

/// One row of the measured table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRow {
    /// Row identifier (its label comes from the report's language).
    pub id: String,
    /// One cell per architecture, in the report's order.
    pub values: Vec<String>,
}

/// One point of the data regime: test scores of the seeds trained on `pairs` pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataPoint {
    /// Training pairs.
    pub pairs: usize,
    /// Whether this is the whole training set.
    pub whole: bool,
    /// Test BLEU across seeds.
    pub bleu: Spread,
    /// Test chrF across seeds.
    pub chrf: Spread,
    /// The seeds.
    pub seeds: Vec<u64>,
    /// Why each run of this point that did not learn failed (see [`super::learned`]).
    pub not_learned: Vec<String>,
}

/// The test scores of one knob value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnobScore {
    /// The value.
    pub value: String,
    /// Test BLEU.
    pub bleu: f64,
    /// Test chrF.
    pub chrf: f64,
    /// Parameters of the model.
    pub parameters: usize,
    /// Whether the run learned.
    pub learned: Learned,
}

/// One knob swept on one architecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sweep {
    /// The knob.
    pub knob: String,
    /// Every value measured, the default (the main run) included.
    pub points: Vec<KnobScore>,
    /// chrF range across the values.
    pub chrf_range: f64,
}

/// Everything measured for one architecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchStudy {
    /// Architecture.
    pub arch: String,
    /// Parameters of the main run's model.
    pub parameters: usize,
    /// Peak resident memory of the main run's training process, MiB.
    pub peak_rss_mib: Option<f64>,
    /// Training wall time of the main run, seconds.
    pub train_seconds: f64,
    /// Training target tokens per second of the main run.
    pub tokens_per_second: f64,
    /// Test scores of the main run.
    pub test: Scores,
    /// Whether the main run learned.
    pub learned: Learned,
    /// Scores per source-length bucket with bootstrap intervals.
    pub buckets: Vec<BucketScores>,
    /// Costs against sentence length.
    pub speed: Option<SpeedCurve>,
    /// Test scores against training-set size.
    pub data: Vec<DataPoint>,
    /// The tuning sweeps.
    pub sweeps: Vec<Sweep>,
}

/// The whole study.
#[derive(Debug, Clone, Serialize)]
pub struct StudyReport {
    /// Where the corpus came from.
    pub corpus: String,
    /// Training pairs of the whole set.
    pub train_pairs: usize,
    /// Test sentences.
    pub test_sentences: usize,
    /// Backend.
    pub backend: String,
    /// Preset.
    pub preset: String,
    /// The plan's budget and estimate.
    pub budget: Budget,
    /// Wall time this invocation took, minutes (less than the plan's when resumed).
    pub elapsed_minutes: f64,
    /// One entry per architecture.
    pub archs: Vec<ArchStudy>,
    /// Test scores of copying the source sentence: the trivial baseline.
    pub copy_baseline: Scores,
    /// The rule that says whether a run learned, in words.
    pub learned_rule: String,
    /// The attention LSTM against the plain LSTM, paired bootstrap on chrF.
    pub hybrid_test: Option<PairTest>,
    /// The article's table, measured.
    pub table: Vec<TableRow>,
    /// The claims and their verdicts.
    pub claims: Vec<Claim>,
    /// What was not measured, and why.
    pub notes: Vec<String>,
}

/// The test set the runs were scored on.
pub struct TestSet<'a> {
    /// Source sentences.
    pub sources: &'a [String],
    /// References.
    pub refs: &'a [String],
    /// chrF of copying the source (the baseline a run must beat to count as learned).
    pub copy_chrf: f64,
}

/// Assembles one architecture's measurements from its runs' results (keyed by run directory
/// name).
pub fn arch_study(
    arch: Arch,
    runs: &[RunSpec],
    results: &HashMap<String, ArchResult>,
    speed: Option<SpeedCurve>,
    test: &TestSet,
    train_pairs: usize,
) -> Result<Option<ArchStudy>> {
    let mine: Vec<&RunSpec> = runs.iter().filter(|r| r.arch == arch).collect();
    let Some(main_spec) = mine.first() else {
        return Ok(None);
    };
    let Some(main) = results.get(&main_spec.dir_name()) else {
        return Ok(None);
    };
    let buckets = bucket_scores(
        test.sources,
        &main.hypotheses,
        test.refs,
        &BootstrapOptions::default(),
    )?;
    let learned = |r: &RunSpec, a: &ArchResult| {
        learned::check(&r.dir_name(), a.test.bleu, a.test.chrf, test.copy_chrf)
    };
    Ok(Some(ArchStudy {
        learned: learned(main_spec, main),
        arch: arch.name().into(),
        parameters: main.parameters,
        peak_rss_mib: main.peak_rss_mib,
        train_seconds: main.train_seconds,
        tokens_per_second: main.tokens_per_second,
        test: main.test.clone(),
        buckets,
        speed,
        data: data_points(&mine, results, train_pairs, &learned),
        sweeps: sweeps(&mine, results, &learned),
    }))
}

/// Whether a run learned, from its spec and result.
type LearnedCheck<'a> = dyn Fn(&RunSpec, &ArchResult) -> Learned + 'a;

fn data_points(
    runs: &[&RunSpec],
    results: &HashMap<String, ArchResult>,
    train_pairs: usize,
    learned: &LearnedCheck,
) -> Vec<DataPoint> {
    let mut sizes: Vec<Option<usize>> = runs
        .iter()
        .filter(|r| r.knob.is_none())
        .map(|r| r.size)
        .collect();
    sizes.sort_by_key(|s| s.unwrap_or(usize::MAX));
    sizes.dedup();
    sizes
        .into_iter()
        .filter_map(|size| {
            let at: Vec<(&RunSpec, &ArchResult)> = runs
                .iter()
                .filter(|r| r.knob.is_none() && r.size == size)
                .filter_map(|r| Some((*r, results.get(&r.dir_name())?)))
                .collect();
            let scores =
                |f: fn(&ArchResult) -> f64| at.iter().map(|(_, a)| f(a)).collect::<Vec<_>>();
            Some(DataPoint {
                pairs: size.unwrap_or(train_pairs),
                whole: size.is_none(),
                bleu: Spread::of(&scores(|a| a.test.bleu))?,
                chrf: Spread::of(&scores(|a| a.test.chrf))?,
                seeds: at.iter().map(|(r, _)| r.seed).collect(),
                not_learned: at
                    .iter()
                    .map(|(r, a)| learned(r, a))
                    .filter(|l| !l.learned)
                    .map(|l| l.why)
                    .collect(),
            })
        })
        .collect()
}

fn sweeps(
    runs: &[&RunSpec],
    results: &HashMap<String, ArchResult>,
    learned: &LearnedCheck,
) -> Vec<Sweep> {
    let Some(main_spec) = runs.first() else {
        return Vec::new();
    };
    let Some(main) = results.get(&main_spec.dir_name()) else {
        return Vec::new();
    };
    let mut names: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.knob.as_ref().map(|k| k.knob.as_str()))
        .collect();
    names.dedup();
    names
        .into_iter()
        .map(|knob| {
            let mut points = vec![KnobScore {
                value: "default".into(),
                bleu: main.test.bleu,
                chrf: main.test.chrf,
                parameters: main.parameters,
                learned: learned(main_spec, main),
            }];
            for r in runs {
                if let (Some(k), Some(a)) = (&r.knob, results.get(&r.dir_name()))
                    && k.knob == knob
                {
                    points.push(KnobScore {
                        value: k.value.clone(),
                        bleu: a.test.bleu,
                        chrf: a.test.chrf,
                        parameters: a.parameters,
                        learned: learned(r, a),
                    });
                }
            }
            let chrf: Vec<f64> = points.iter().map(|p| p.chrf).collect();
            Sweep {
                knob: knob.into(),
                chrf_range: Spread::of(&chrf).map_or(0.0, |s| s.range()),
                points,
            }
        })
        .collect()
}

/// The attention LSTM against the plain LSTM on the test set (paired bootstrap, chrF).
pub fn hybrid_test(
    results: &HashMap<String, ArchResult>,
    runs: &[RunSpec],
    refs: &[String],
) -> Result<Option<PairTest>> {
    let main = |arch: Arch| {
        runs.iter()
            .find(|r| r.arch == arch)
            .and_then(|r| results.get(&r.dir_name()))
    };
    let (Some(lstm), Some(hybrid)) = (main(Arch::Lstm), main(Arch::Attention)) else {
        return Ok(None);
    };
    let result = paired_bootstrap(
        &ChrfOptions::default(),
        &lstm.hypotheses,
        &hybrid.hypotheses,
        &[refs.to_vec()],
        &BootstrapOptions::default(),
    )?;
    Ok(Some(PairTest {
        baseline: "lstm".into(),
        candidate: "attention".into(),
        metric: "chrF2".into(),
        result,
    }))
}
