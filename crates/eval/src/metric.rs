//! The [`Metric`] trait: corpus metrics that decompose into per-segment
//! sufficient statistics, which is what makes bootstrap resampling cheap.

use crate::error::EvalError;

/// A corpus-level metric computed from summed per-segment statistics, the
/// way sacreBLEU computes BLEU and chrF.
///
/// References are given as streams: `refs[k][i]` is the `k`-th reference of
/// segment `i`. Any `&[Vec<String>]` or `&[&[String]]` works; a single
/// reference list `r: &[String]` becomes one stream with `std::slice::from_ref(&r)`.
pub trait Metric {
    /// Sufficient statistics of one segment (or of a whole corpus, once summed).
    type Stats: Clone;

    /// Statistics of every segment, in order.
    fn segment_stats<R: AsRef<[String]>>(
        &self,
        hyps: &[String],
        refs: &[R],
    ) -> Result<Vec<Self::Stats>, EvalError>;

    /// The statistics of an empty corpus, the identity of [`Metric::add_stats`].
    fn zero_stats(&self) -> Self::Stats;

    /// Adds one segment's statistics to an accumulator.
    fn add_stats(&self, acc: &mut Self::Stats, segment: &Self::Stats);

    /// The score (0–100) of summed statistics.
    fn score_from_stats(&self, total: &Self::Stats) -> f64;

    /// Sums the statistics of several segments.
    fn sum_stats(&self, segments: &[Self::Stats]) -> Self::Stats {
        let mut acc = self.zero_stats();
        for segment in segments {
            self.add_stats(&mut acc, segment);
        }
        acc
    }
}

/// Checks that there is at least one segment and one reference stream, and
/// that every stream has one reference per hypothesis.
pub(crate) fn check_shapes<R: AsRef<[String]>>(
    hyps: &[String],
    refs: &[R],
) -> Result<(), EvalError> {
    if refs.is_empty() {
        return Err(EvalError::NoReferences);
    }
    for (stream, r) in refs.iter().enumerate() {
        let len = r.as_ref().len();
        if len != hyps.len() {
            return Err(EvalError::LengthMismatch {
                hyps: hyps.len(),
                refs: len,
                stream,
            });
        }
    }
    if hyps.is_empty() {
        return Err(EvalError::EmptyCorpus);
    }
    Ok(())
}

/// The references of segment `i`, one per stream.
pub(crate) fn segment_refs<R: AsRef<[String]>>(refs: &[R], i: usize) -> Vec<&str> {
    refs.iter().map(|r| r.as_ref()[i].as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn mismatch_reports_both_counts_and_stream() {
        let hyps = strings(&["a", "b", "c"]);
        let refs = vec![strings(&["a", "b", "c"]), strings(&["a"])];
        let err = check_shapes(&hyps, &refs).unwrap_err();
        assert_eq!(
            err,
            EvalError::LengthMismatch {
                hyps: 3,
                refs: 1,
                stream: 1
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("3 hypotheses") && msg.contains("1 segments"),
            "{msg}"
        );
    }

    #[test]
    fn empty_inputs_are_errors() {
        let none: Vec<Vec<String>> = vec![];
        assert_eq!(
            check_shapes(&strings(&["a"]), &none),
            Err(EvalError::NoReferences)
        );
        assert_eq!(
            check_shapes(&[], &[Vec::<String>::new()]),
            Err(EvalError::EmptyCorpus)
        );
    }

    #[test]
    fn segment_refs_collects_one_per_stream() {
        let refs = vec![strings(&["a0", "a1"]), strings(&["b0", "b1"])];
        assert_eq!(segment_refs(&refs, 1), ["a1", "b1"]);
    }
}
