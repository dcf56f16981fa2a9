//! Corpus BLEU exactly as `sacrebleu.metrics.BLEU` (sacreBLEU 2.x) computes it.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::metric::{Metric, check_shapes, segment_refs};
use crate::ngrams::{NgramCounts, count_ngrams_up_to};
use crate::pystr::{py_lower, py_rstrip, py_split};
use crate::signature::Signature;
use crate::tokenize::BleuTokenizer;

/// The maximum n-gram order; sacreBLEU's default and the only one supported here.
pub const MAX_NGRAM_ORDER: usize = 4;

/// sacreBLEU's stand-in for `log(0)`.
const LOG_ZERO: f64 = -9_999_999_999.0;

/// How zero n-gram matches are smoothed (Chen & Cherry, 2014).
/// Serializes in kebab case: `"exp"`, `"none"`, `{"floor": 0.1}`, `{"add-k": 1.0}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Smoothing {
    /// No smoothing: a zero precision makes BLEU zero.
    None,
    /// Method 1: a zero match count is replaced by the given value (sacreBLEU default 0.1).
    Floor(f64),
    /// Method 2: add the given value to matches and totals of orders above 1
    /// (sacreBLEU default 1).
    AddK(f64),
    /// Method 3, mteval-v13a's exponential smoothing; sacreBLEU's default.
    #[default]
    Exp,
}

impl Smoothing {
    /// `floor` with sacreBLEU's default value 0.1.
    pub const FLOOR_DEFAULT: Smoothing = Smoothing::Floor(0.1);
    /// `add-k` with sacreBLEU's default value 1.
    pub const ADD_K_DEFAULT: Smoothing = Smoothing::AddK(1.0);

    /// The signature form: `exp`, `none`, `floor[0.10]` or `add-k[1.00]`.
    pub fn signature(self) -> String {
        match self {
            Self::None => "none".into(),
            Self::Exp => "exp".into(),
            Self::Floor(v) => format!("floor[{v:.2}]"),
            Self::AddK(v) => format!("add-k[{v:.2}]"),
        }
    }
}

/// Options of [`BleuOptions::corpus_score`]; the default equals `sacrebleu.metrics.BLEU()`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BleuOptions {
    /// Tokenizer applied to hypotheses and references (default `13a`).
    pub tokenizer: BleuTokenizer,
    /// Lowercase both sides before tokenizing (signature `case:lc`).
    pub lowercase: bool,
    /// Smoothing of zero n-gram matches (default `exp`).
    pub smoothing: Smoothing,
    /// Average only over n-gram orders the hypotheses contain; off for corpus
    /// BLEU in sacreBLEU, recommended for sentence BLEU.
    pub effective_order: bool,
}

/// Sufficient statistics of BLEU for one segment or, summed, for a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BleuStats {
    /// Hypothesis length in tokens.
    pub sys_len: u64,
    /// Length of the reference closest in length to the hypothesis (the shorter on ties).
    pub ref_len: u64,
    /// Clipped n-gram matches per order 1..=4.
    pub correct: [u64; MAX_NGRAM_ORDER],
    /// Hypothesis n-grams per order 1..=4.
    pub total: [u64; MAX_NGRAM_ORDER],
}

impl BleuStats {
    /// Adds another segment's statistics to these.
    pub fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for n in 0..MAX_NGRAM_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
    }
}

/// A BLEU score with the details sacreBLEU reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BleuScore {
    /// BLEU on the 0–100 scale.
    pub score: f64,
    /// Smoothed n-gram precisions (0–100) for orders 1..=4.
    pub precisions: [f64; MAX_NGRAM_ORDER],
    /// Brevity penalty.
    pub bp: f64,
    /// `sys_len / ref_len` (0 when `ref_len` is 0).
    pub ratio: f64,
    /// Total hypothesis length in tokens.
    pub sys_len: u64,
    /// Total effective reference length in tokens.
    pub ref_len: u64,
    /// Clipped n-gram matches per order (without `add-k` smoothing added).
    pub counts: [u64; MAX_NGRAM_ORDER],
    /// Hypothesis n-grams per order.
    pub totals: [u64; MAX_NGRAM_ORDER],
}

impl fmt::Display for BleuScore {
    /// sacreBLEU's text form, e.g.
    /// `BLEU = 45.07 84.3/58.7/39.0/25.0 (BP = 0.962 ratio = 0.962 hyp_len = 51 ref_len = 53)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.precisions;
        write!(
            f,
            "BLEU = {:.2} {:.1}/{:.1}/{:.1}/{:.1} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
            self.score, p[0], p[1], p[2], p[3], self.bp, self.ratio, self.sys_len, self.ref_len
        )
    }
}

impl BleuOptions {
    /// The reproducibility signature for `nrefs` references per segment.
    pub fn signature(&self, nrefs: usize) -> Signature {
        let case = if self.lowercase { "lc" } else { "mixed" };
        let eff = if self.effective_order { "yes" } else { "no" };
        Signature::new(
            nrefs,
            vec![
                ("case", case.into()),
                ("eff", eff.into()),
                ("tok", self.tokenizer.name().into()),
                ("smooth", self.smoothing.signature()),
            ],
        )
    }

    /// Corpus BLEU of `hyps` against reference streams `refs` (`refs[k][i]` is
    /// the `k`-th reference of segment `i`).
    pub fn corpus_score<R: AsRef<[String]>>(
        &self,
        hyps: &[String],
        refs: &[R],
    ) -> Result<BleuScore, EvalError> {
        let stats = self.segment_stats(hyps, refs)?;
        Ok(self.compute(&self.sum_stats(&stats)))
    }

    /// Lowercases (optionally), strips trailing whitespace and tokenizes.
    fn preprocess(&self, line: &str) -> String {
        if self.lowercase {
            self.tokenizer.tokenize(py_rstrip(&py_lower(line)))
        } else {
            self.tokenizer.tokenize(py_rstrip(line))
        }
    }

    /// Statistics of one hypothesis against its references.
    pub fn sentence_stats(&self, hyp: &str, refs: &[&str]) -> BleuStats {
        let ref_texts: Vec<String> = refs.iter().map(|r| self.preprocess(r)).collect();
        let ref_tokens: Vec<Vec<&str>> = ref_texts.iter().map(|t| py_split(t).collect()).collect();
        let ref_lens: Vec<u64> = ref_tokens.iter().map(|t| t.len() as u64).collect();
        let ref_counts = max_ref_counts(&ref_tokens);

        let hyp_text = self.preprocess(hyp);
        let hyp_tokens: Vec<&str> = py_split(&hyp_text).collect();
        let sys_len = hyp_tokens.len() as u64;
        let mut stats = BleuStats {
            sys_len,
            ref_len: closest_ref_len(sys_len, &ref_lens),
            ..BleuStats::default()
        };
        for (gram, count) in count_ngrams_up_to(&hyp_tokens, MAX_NGRAM_ORDER) {
            let n = gram.len() - 1;
            stats.total[n] += count;
            stats.correct[n] += ref_counts.get(gram).map_or(0, |&r| count.min(r));
        }
        stats
    }

    /// BLEU from (summed) statistics, following sacreBLEU's `compute_bleu`.
    pub fn compute(&self, stats: &BleuStats) -> BleuScore {
        let (sys_len, ref_len) = (stats.sys_len, stats.ref_len);
        let mut score = BleuScore {
            score: 0.0,
            precisions: [0.0; MAX_NGRAM_ORDER],
            bp: brevity_penalty(sys_len, ref_len),
            ratio: if ref_len > 0 {
                sys_len as f64 / ref_len as f64
            } else {
                0.0
            },
            sys_len,
            ref_len,
            counts: stats.correct,
            totals: stats.total,
        };
        // No match at all: BLEU is 0 whatever the smoothing (sacreBLEU #141).
        if stats.correct.iter().all(|&c| c == 0) {
            return score;
        }
        let eff_order = self.fill_precisions(stats, &mut score.precisions);
        let log_sum = score.precisions[..eff_order]
            .iter()
            .fold(0.0, |acc, &p| acc + floored_log(p));
        score.score = score.bp * (log_sum / eff_order as f64).exp();
        score
    }

    /// Writes the smoothed precisions and returns the number of orders to average.
    fn fill_precisions(&self, stats: &BleuStats, precisions: &mut [f64; MAX_NGRAM_ORDER]) -> usize {
        let mut smooth_mteval = 1.0;
        let mut eff_order = MAX_NGRAM_ORDER;
        let orders = stats
            .correct
            .iter()
            .zip(&stats.total)
            .zip(precisions.iter_mut());
        for (n, ((&correct, &total), precision)) in orders.enumerate() {
            let (mut correct, mut total) = (correct as f64, total as f64);
            if let Smoothing::AddK(k) = self.smoothing
                && n > 0
            {
                correct += k;
                total += k;
            }
            if total == 0.0 {
                break;
            }
            if self.effective_order {
                eff_order = n + 1;
            }
            *precision = if correct != 0.0 {
                100.0 * correct / total
            } else {
                match self.smoothing {
                    Smoothing::Exp => {
                        smooth_mteval *= 2.0;
                        100.0 / (smooth_mteval * total)
                    }
                    Smoothing::Floor(v) => 100.0 * v / total,
                    Smoothing::None | Smoothing::AddK(_) => 0.0,
                }
            };
        }
        eff_order
    }
}

impl Metric for BleuOptions {
    type Stats = BleuStats;

    fn segment_stats<R: AsRef<[String]>>(
        &self,
        hyps: &[String],
        refs: &[R],
    ) -> Result<Vec<BleuStats>, EvalError> {
        check_shapes(hyps, refs)?;
        Ok(hyps
            .iter()
            .enumerate()
            .map(|(i, hyp)| self.sentence_stats(hyp, &segment_refs(refs, i)))
            .collect())
    }

    fn zero_stats(&self) -> BleuStats {
        BleuStats::default()
    }

    fn add_stats(&self, acc: &mut BleuStats, segment: &BleuStats) {
        acc.add(segment);
    }

    fn score_from_stats(&self, total: &BleuStats) -> f64 {
        self.compute(total).score
    }
}

/// Per n-gram, the maximum count over all references.
fn max_ref_counts<'a>(ref_tokens: &'a [Vec<&'a str>]) -> NgramCounts<'a, &'a str> {
    let mut merged: NgramCounts<'a, &'a str> = HashMap::new();
    for tokens in ref_tokens {
        for (gram, count) in count_ngrams_up_to(tokens, MAX_NGRAM_ORDER) {
            let slot = merged.entry(gram).or_insert(0);
            *slot = (*slot).max(count);
        }
    }
    merged
}

/// The reference length closest to `hyp_len`, preferring the shorter on ties.
/// Returns 0 when there are no references.
fn closest_ref_len(hyp_len: u64, ref_lens: &[u64]) -> u64 {
    ref_lens
        .iter()
        .copied()
        .min_by_key(|&r| (r.abs_diff(hyp_len), r))
        .unwrap_or(0)
}

/// `exp(1 - r/c)` for a hypothesis shorter than the reference, 0 for an empty one.
fn brevity_penalty(sys_len: u64, ref_len: u64) -> f64 {
    if sys_len >= ref_len {
        1.0
    } else if sys_len == 0 {
        0.0
    } else {
        (1.0 - ref_len as f64 / sys_len as f64).exp()
    }
}

/// `ln(x)`, with sacreBLEU's large negative stand-in for `ln(0)`.
fn floored_log(x: f64) -> f64 {
    if x == 0.0 { LOG_ZERO } else { x.ln() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn bleu(hyps: &[&str], refs: &[&str], opts: &BleuOptions) -> BleuScore {
        opts.corpus_score(&strings(hyps), &[strings(refs)]).unwrap()
    }

    #[test]
    fn perfect_match_is_100() {
        let s = bleu(
            &["the cat sat on the mat ."],
            &["the cat sat on the mat ."],
            &BleuOptions::default(),
        );
        assert!((s.score - 100.0).abs() < 1e-9);
        assert_eq!(s.counts, [7, 6, 5, 4]);
        assert_eq!(s.bp, 1.0);
    }

    #[test]
    fn hand_computed_score_with_brevity_penalty() {
        // hyp: 4 tokens, ref: 6 tokens; matches 4/4, 2/3, 1/2, 0/1
        let s = bleu(&["a b c d"], &["a b x c d e"], &BleuOptions::default());
        assert_eq!((s.sys_len, s.ref_len), (4, 6));
        assert_eq!(s.counts, [4, 2, 0, 0]);
        assert_eq!(s.totals, [4, 3, 2, 1]);
        // exp smoothing: 3-grams 100/(2*2), 4-grams 100/(4*1)
        let expected_p = [100.0, 200.0 / 3.0, 25.0, 25.0];
        for (p, e) in s.precisions.iter().zip(expected_p) {
            assert!((p - e).abs() < 1e-9);
        }
        let bp = (1.0_f64 - 6.0 / 4.0).exp();
        let geo = expected_p.iter().map(|p| p.ln()).sum::<f64>() / 4.0;
        assert!((s.score - bp * geo.exp()).abs() < 1e-9);
    }

    #[test]
    fn no_match_gives_zero_even_with_smoothing() {
        let s = bleu(&["x y z"], &["a b c"], &BleuOptions::default());
        assert_eq!(s.score, 0.0);
        assert_eq!(s.precisions, [0.0; 4]);
    }

    #[test]
    fn effective_order_ignores_missing_orders() {
        let hyps = ["yes no"];
        let refs = ["yes no"];
        let plain = bleu(&hyps, &refs, &BleuOptions::default());
        let eff = bleu(
            &hyps,
            &refs,
            &BleuOptions {
                effective_order: true,
                ..Default::default()
            },
        );
        assert!(
            plain.score < 1e-6,
            "no 3-grams means ~0 without effective order"
        );
        assert!((eff.score - 100.0).abs() < 1e-9);
    }

    #[test]
    fn smoothing_variants_differ_on_zero_counts() {
        let (hyps, refs) = (["a b c d e"], ["a b x d e"]);
        let score = |smoothing| {
            bleu(
                &hyps,
                &refs,
                &BleuOptions {
                    smoothing,
                    ..Default::default()
                },
            )
        };
        assert_eq!(score(Smoothing::None).score, 0.0);
        let floor = score(Smoothing::FLOOR_DEFAULT);
        assert!((floor.precisions[2] - 100.0 * 0.1 / 3.0).abs() < 1e-9);
        let add_k = score(Smoothing::ADD_K_DEFAULT);
        assert!((add_k.precisions[1] - 100.0 * 3.0 / 5.0).abs() < 1e-9);
        assert_eq!(
            add_k.counts,
            [4, 2, 0, 0],
            "reported counts stay unsmoothed"
        );
    }

    #[test]
    fn lowercase_option() {
        let hyps = ["The Cat"];
        let refs = ["the cat"];
        assert!(bleu(&hyps, &refs, &BleuOptions::default()).counts[0] == 0);
        let lc = BleuOptions {
            lowercase: true,
            effective_order: true,
            ..Default::default()
        };
        assert!((bleu(&hyps, &refs, &lc).score - 100.0).abs() < 1e-9);
    }

    #[test]
    fn multiple_references_clip_by_max_count_and_pick_closest_length() {
        let opts = BleuOptions::default();
        let stats = opts.sentence_stats("the the the", &["the cat", "the the x y z"]);
        assert_eq!(stats.correct[0], 2);
        // lengths 2 and 5 are both 1 away from 3: the shorter wins
        let tie = opts.sentence_stats("a b c", &["a b c d", "a b"]);
        assert_eq!(tie.ref_len, 2);
    }

    #[test]
    fn empty_hypotheses_and_references() {
        let s = bleu(&["", "a b"], &["x y", ""], &BleuOptions::default());
        assert_eq!((s.sys_len, s.ref_len), (2, 2));
        assert_eq!(s.score, 0.0);
        let empty = BleuOptions::default().compute(&BleuStats::default());
        assert_eq!((empty.score, empty.bp, empty.ratio), (0.0, 1.0, 0.0));
    }

    #[test]
    fn trailing_whitespace_is_stripped_before_tokenizing() {
        let opts = BleuOptions {
            tokenizer: BleuTokenizer::Char,
            ..Default::default()
        };
        assert_eq!(opts.sentence_stats("ab  \n", &["ab"]).sys_len, 2);
    }

    #[test]
    fn signature_matches_sacrebleu_format() {
        let opts = BleuOptions {
            tokenizer: BleuTokenizer::Intl,
            lowercase: true,
            ..Default::default()
        };
        assert_eq!(
            opts.signature(1).to_string(),
            "nrefs:1|case:lc|eff:no|tok:intl|smooth:exp|version:2.6.0"
        );
        let floor = BleuOptions {
            smoothing: Smoothing::FLOOR_DEFAULT,
            effective_order: true,
            ..Default::default()
        };
        assert!(
            floor
                .signature(2)
                .to_string()
                .contains("eff:yes|tok:13a|smooth:floor[0.10]")
        );
    }

    #[test]
    fn options_deserialize_with_defaults() {
        let opts: BleuOptions =
            serde_json::from_str(r#"{"tokenizer": "char", "smoothing": {"floor": 0.2}}"#).unwrap();
        assert_eq!(opts.tokenizer, BleuTokenizer::Char);
        assert_eq!(opts.smoothing, Smoothing::Floor(0.2));
        assert!(!opts.lowercase && !opts.effective_order);
        assert_eq!(serde_json::to_string(&Smoothing::Exp).unwrap(), "\"exp\"");
    }

    #[test]
    fn display_like_sacrebleu() {
        let s = bleu(&["a b c d"], &["a b x c d e"], &BleuOptions::default());
        assert_eq!(
            s.to_string(),
            "BLEU = 27.40 100.0/66.7/25.0/25.0 (BP = 0.607 ratio = 0.667 hyp_len = 4 ref_len = 6)"
        );
    }
}
