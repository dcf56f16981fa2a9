//! Paired bootstrap resampling between a baseline and a candidate system, as
//! sacreBLEU's `--paired-bs` test computes it.
//!
//! Each resample draws `n` segment indices with replacement; both systems are
//! scored on the same draw by summing their per-segment sufficient statistics.
//! Means, confidence intervals and the p-value follow sacreBLEU exactly.
//!
//! The random draws cannot equal sacreBLEU's: sacreBLEU uses numpy's PCG64
//! generator (`default_rng(12345)`), this crate uses rand's `StdRng`
//! (`seed_from_u64`). Results are therefore close to sacreBLEU's, not
//! identical, but fully deterministic for a given seed and `rand` version.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::metric::Metric;

/// Settings of a bootstrap run; the default matches sacreBLEU (1000 resamples, seed 12345).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapOptions {
    /// Number of resamples.
    pub n_samples: usize,
    /// Seed of the index generator.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            n_samples: 1000,
            seed: 12345,
        }
    }
}

/// One system's score with its bootstrap estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SystemEstimate {
    /// The score on the full corpus.
    pub score: f64,
    /// Mean score over the resamples.
    pub mean: f64,
    /// Half-width of the 95% interval, as sacreBLEU prints `μ = mean ± ci`.
    pub ci: f64,
    /// Lower end of the 95% interval: the resample score at sorted index `n / 40`.
    pub lower: f64,
    /// Upper end of the 95% interval: the score at sorted index `n - n / 40 - 1`.
    pub upper: f64,
}

/// The outcome of a paired bootstrap test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedBootstrap {
    /// The baseline system.
    pub baseline: SystemEstimate,
    /// The candidate system.
    pub candidate: SystemEstimate,
    /// p-value of the candidate against the baseline; at least `1 / (n_samples + 1)`.
    pub p_value: f64,
    /// Number of resamples used.
    pub n_samples: usize,
    /// Seed used.
    pub seed: u64,
}

/// Paired bootstrap test on per-segment statistics of two systems scored on
/// the same references.
pub fn paired_bootstrap_stats<M: Metric>(
    metric: &M,
    baseline: &[M::Stats],
    candidate: &[M::Stats],
    opts: &BootstrapOptions,
) -> Result<PairedBootstrap, EvalError> {
    if baseline.len() != candidate.len() {
        return Err(EvalError::PairedLengthMismatch {
            baseline: baseline.len(),
            candidate: candidate.len(),
        });
    }
    let [base_scores, cand_scores] = resample_scores(metric, [baseline, candidate], opts)?;
    let base = estimate(
        metric.score_from_stats(&metric.sum_stats(baseline)),
        &base_scores,
    );
    let cand = estimate(
        metric.score_from_stats(&metric.sum_stats(candidate)),
        &cand_scores,
    );
    Ok(PairedBootstrap {
        p_value: p_value(&base_scores, &cand_scores, (base.score - cand.score).abs()),
        baseline: base,
        candidate: cand,
        n_samples: opts.n_samples,
        seed: opts.seed,
    })
}

/// Paired bootstrap test from texts: computes both systems' statistics
/// against the reference streams `refs`, then calls [`paired_bootstrap_stats`].
pub fn paired_bootstrap<M: Metric, R: AsRef<[String]>>(
    metric: &M,
    baseline: &[String],
    candidate: &[String],
    refs: &[R],
    opts: &BootstrapOptions,
) -> Result<PairedBootstrap, EvalError> {
    let base = metric.segment_stats(baseline, refs)?;
    let cand = metric.segment_stats(candidate, refs)?;
    paired_bootstrap_stats(metric, &base, &cand, opts)
}

/// Bootstrap confidence interval of a single system (sacreBLEU's
/// `--confidence`). With the same options it equals the baseline estimate of
/// [`paired_bootstrap_stats`], as in sacreBLEU.
pub fn bootstrap_estimate<M: Metric>(
    metric: &M,
    stats: &[M::Stats],
    opts: &BootstrapOptions,
) -> Result<SystemEstimate, EvalError> {
    let [scores] = resample_scores(metric, [stats], opts)?;
    let full = metric.score_from_stats(&metric.sum_stats(stats));
    Ok(estimate(full, &scores))
}

/// Scores every system on the same `opts.n_samples` resamples. The index draws
/// are made resample by resample, so the stream of indices does not depend on
/// the number of systems.
fn resample_scores<M: Metric, const K: usize>(
    metric: &M,
    systems: [&[M::Stats]; K],
    opts: &BootstrapOptions,
) -> Result<[Vec<f64>; K], EvalError> {
    let n = systems.first().map_or(0, |s| s.len());
    if n == 0 {
        return Err(EvalError::EmptyCorpus);
    }
    if opts.n_samples == 0 {
        return Err(EvalError::InvalidOption(
            "bootstrap needs n_samples >= 1".into(),
        ));
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut indices = vec![0_usize; n];
    let mut scores: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(opts.n_samples));
    for _ in 0..opts.n_samples {
        for idx in indices.iter_mut() {
            *idx = rng.random_range(0..n);
        }
        for (system, out) in systems.iter().zip(scores.iter_mut()) {
            let mut acc = metric.zero_stats();
            for &i in &indices {
                metric.add_stats(&mut acc, &system[i]);
            }
            out.push(metric.score_from_stats(&acc));
        }
    }
    Ok(scores)
}

/// Mean and sacreBLEU's 95% interval of resampled scores (at least one).
fn estimate(score: f64, resampled: &[f64]) -> SystemEstimate {
    let mut sorted = resampled.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let lower_idx = n / 40;
    let (lower, upper) = (sorted[lower_idx], sorted[n - lower_idx - 1]);
    SystemEstimate {
        score,
        mean: sorted.iter().sum::<f64>() / n as f64,
        ci: 0.5 * (upper - lower),
        lower,
        upper,
    }
}

/// sacreBLEU's paired-bootstrap p-value: the share of resamples whose
/// centred absolute difference `|c_i - b_i| - mean_j |c_j - b_j|` exceeds the
/// observed difference, with add-one correction: `(count + 1) / (n + 1)`.
fn p_value(baseline: &[f64], candidate: &[f64], observed_diff: f64) -> f64 {
    let diffs: Vec<f64> = baseline
        .iter()
        .zip(candidate)
        .map(|(b, c)| (c - b).abs())
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let count = diffs.iter().filter(|&&d| d - mean > observed_diff).count();
    (count + 1) as f64 / (diffs.len() + 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bleu::BleuOptions;
    use crate::chrf::ChrfOptions;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// Twenty references of varied length; a good system with an error in
    /// every other segment, and a bad system that reverses word order.
    fn corpus() -> (Vec<String>, Vec<String>, Vec<String>) {
        let words = [
            "the", "red", "car", "and", "a", "small", "house", "are", "near", "the", "old",
            "bridge",
        ];
        let refs: Vec<Vec<&str>> = (0..20)
            .map(|i| {
                (0..5 + i % 6)
                    .map(|j| words[(i + j) % words.len()])
                    .collect()
            })
            .collect();
        let good = refs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.clone();
                if i % 2 == 0 {
                    let at = i % r.len();
                    r[at] = "zzz";
                }
                r.join(" ")
            })
            .collect();
        let bad = refs
            .iter()
            .map(|r| r.iter().rev().copied().collect::<Vec<_>>().join(" "))
            .collect();
        (refs.iter().map(|r| r.join(" ")).collect(), good, bad)
    }

    #[test]
    fn clearly_better_candidate_has_minimal_p_value() {
        let (refs, good, bad) = corpus();
        let opts = BootstrapOptions {
            n_samples: 200,
            seed: 7,
        };
        let res = paired_bootstrap(&BleuOptions::default(), &bad, &good, &[refs], &opts).unwrap();
        assert!(res.candidate.score > res.baseline.score + 30.0);
        assert!(
            (res.p_value - 1.0 / 201.0).abs() < 1e-12,
            "p = {}",
            res.p_value
        );
        assert!(res.candidate.lower < res.candidate.upper, "resamples vary");
        assert!(
            (res.candidate.ci - 0.5 * (res.candidate.upper - res.candidate.lower)).abs() < 1e-12
        );
    }

    #[test]
    fn deterministic_for_a_seed_and_sensitive_to_it() {
        let (refs, good, bad) = corpus();
        let metric = ChrfOptions::default();
        let run = |seed| {
            let opts = BootstrapOptions {
                n_samples: 100,
                seed,
            };
            paired_bootstrap(&metric, &bad, &good, std::slice::from_ref(&refs), &opts).unwrap()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1).candidate.mean, run(2).candidate.mean);
    }

    #[test]
    fn baseline_estimate_equals_single_system_bootstrap() {
        let (refs, good, bad) = corpus();
        let metric = BleuOptions::default();
        let base = metric
            .segment_stats(&bad, std::slice::from_ref(&refs))
            .unwrap();
        let cand = metric.segment_stats(&good, &[refs]).unwrap();
        let opts = BootstrapOptions {
            n_samples: 50,
            seed: 3,
        };
        let paired = paired_bootstrap_stats(&metric, &base, &cand, &opts).unwrap();
        assert_eq!(
            paired.baseline,
            bootstrap_estimate(&metric, &base, &opts).unwrap()
        );
        assert_eq!(
            paired.candidate,
            bootstrap_estimate(&metric, &cand, &opts).unwrap()
        );
    }

    #[test]
    fn identical_systems_give_sacrebleu_minimum_p_value() {
        // All resampled differences are 0, and 0 > 0 is false: sacreBLEU's
        // formula then yields 1 / (n + 1), not 1.
        let (refs, good, _) = corpus();
        let opts = BootstrapOptions {
            n_samples: 99,
            seed: 1,
        };
        let res = paired_bootstrap(&BleuOptions::default(), &good, &good, &[refs], &opts).unwrap();
        assert_eq!(res.p_value, 0.01);
        assert_eq!(res.baseline, res.candidate);
    }

    #[test]
    fn p_value_counts_centred_differences_above_observed() {
        let base = [0.0; 4];
        let cand = [1.0, 2.0, 3.0, 10.0];
        // mean diff 4: centred diffs -3, -2, -1, 6; only 6 > 2.5
        assert_eq!(p_value(&base, &cand, 2.5), 2.0 / 5.0);
    }

    #[test]
    fn interval_uses_sacrebleu_indices() {
        let scores: Vec<f64> = (0..80).rev().map(f64::from).collect();
        let e = estimate(50.0, &scores);
        // n = 80: lower index 2, upper index 77
        assert_eq!((e.lower, e.upper, e.ci), (2.0, 77.0, 37.5));
        assert_eq!(e.mean, 39.5);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let metric = BleuOptions::default();
        let stats = metric
            .segment_stats(&strings(&["a b"]), &[strings(&["a b"])])
            .unwrap();
        let opts = BootstrapOptions::default();
        assert!(matches!(
            paired_bootstrap_stats(&metric, &stats, &[], &opts),
            Err(EvalError::PairedLengthMismatch {
                baseline: 1,
                candidate: 0
            })
        ));
        assert_eq!(
            paired_bootstrap_stats(&metric, &[], &[], &opts),
            Err(EvalError::EmptyCorpus)
        );
        let zero = BootstrapOptions {
            n_samples: 0,
            seed: 0,
        };
        assert!(matches!(
            bootstrap_estimate(&metric, &stats, &zero),
            Err(EvalError::InvalidOption(_))
        ));
    }
}
