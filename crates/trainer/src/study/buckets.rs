//! Long-range dependencies: BLEU and chrF per source-length bucket, each with a bootstrap 95%
//! confidence interval (sacreBLEU's `--confidence`, resampling the bucket's sentences).

use anyhow::Result;
use honyaku_eval::bootstrap_estimate;
use honyaku_eval::{BleuOptions, BootstrapOptions, ChrfOptions, Metric, SystemEstimate};
use serde::{Deserialize, Serialize};

use crate::report::scoring::BUCKETS;

/// The scores of one source-length bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BucketScores {
    /// The bucket, in source words, e.g. "11-20".
    pub label: String,
    /// Sentences in the bucket.
    pub sentences: usize,
    /// BLEU with its bootstrap interval (absent for an empty bucket).
    pub bleu: Option<SystemEstimate>,
    /// chrF with its bootstrap interval.
    pub chrf: Option<SystemEstimate>,
}

/// The bucket label of `lo..=hi`.
pub fn bucket_label(lo: usize, hi: usize) -> String {
    if hi == usize::MAX {
        format!("{lo}+")
    } else {
        format!("{lo}-{hi}")
    }
}

/// BLEU and chrF with bootstrap intervals for each of [`BUCKETS`] (source length counted as
/// `compare` counts it).
pub fn bucket_scores(
    sources: &[String],
    hyps: &[String],
    refs: &[String],
    opts: &BootstrapOptions,
) -> Result<Vec<BucketScores>> {
    BUCKETS
        .iter()
        .map(|&(lo, hi)| {
            let idx: Vec<usize> = (0..sources.len().min(hyps.len()).min(refs.len()))
                .filter(|&i| {
                    let n = honyaku_data::clean::length_units(&sources[i]);
                    n >= lo && n <= hi
                })
                .collect();
            let pick = |v: &[String]| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
            let (h, r) = (pick(hyps), pick(refs));
            let (bleu, chrf) = if idx.is_empty() {
                (None, None)
            } else {
                (
                    Some(estimate(&BleuOptions::default(), &h, &r, opts)?),
                    Some(estimate(&ChrfOptions::default(), &h, &r, opts)?),
                )
            };
            Ok(BucketScores {
                label: bucket_label(lo, hi),
                sentences: idx.len(),
                bleu,
                chrf,
            })
        })
        .collect()
}

fn estimate<M: Metric>(
    metric: &M,
    hyps: &[String],
    refs: &[String],
    opts: &BootstrapOptions,
) -> Result<SystemEstimate> {
    let stats = metric.segment_stats(hyps, std::slice::from_ref(&refs.to_vec()))?;
    Ok(bootstrap_estimate(metric, &stats, opts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_bucket_has_an_interval_around_its_score() {
        let sources = lines(&[
            "a b c",
            "a b c d",
            "w x y z w x y z w x y z",
            "one two three four five six seven eight nine ten eleven twelve",
        ]);
        let refs = lines(&[
            "the cat sat",
            "the dog ran far",
            "a b c d e f",
            "x y z w v u",
        ]);
        let hyps = lines(&["the cat sat", "a dog ran", "a b c d e f", "x y q w v r"]);
        let opts = BootstrapOptions {
            n_samples: 200,
            seed: 1,
        };
        let b = bucket_scores(&sources, &hyps, &refs, &opts).unwrap();
        assert_eq!(b.len(), BUCKETS.len());
        assert_eq!(
            b.iter().map(|x| x.sentences).collect::<Vec<_>>(),
            [2, 2, 0, 0]
        );
        for bucket in &b[..2] {
            for e in [bucket.bleu.unwrap(), bucket.chrf.unwrap()] {
                assert!(
                    e.lower <= e.score + 1e-9 && e.score <= e.upper + 1e-9,
                    "{e:?}"
                );
                assert!(e.lower <= e.upper && e.ci >= 0.0);
            }
        }
        assert!(b[2].bleu.is_none() && b[2].chrf.is_none());
        // Perfect translations: the interval collapses onto 100.
        let perfect = bucket_scores(&sources, &refs, &refs, &opts).unwrap();
        let c = perfect[0].chrf.unwrap();
        assert!((c.lower - 100.0).abs() < 1e-9 && (c.upper - 100.0).abs() < 1e-9);
    }
}
