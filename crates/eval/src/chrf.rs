//! chrF and chrF++ exactly as `sacrebleu.metrics.CHRF` (sacreBLEU 2.x) computes them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::metric::{Metric, check_shapes, segment_refs};
use crate::ngrams::{NgramCounts, clipped_matches, count_ngrams, total};
use crate::pystr::{is_py_whitespace, py_lower, py_split};
use crate::signature::Signature;

/// The punctuation chrF++ splits off word edges: Python's `string.punctuation`.
const ASCII_PUNCT: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The smoothing term of sacreBLEU's epsilon smoothing.
const EPS: f64 = 1e-16;

/// Options of chrF; the default equals `sacrebleu.metrics.CHRF()`, and
/// [`ChrfOptions::chrf_plus_plus`] equals `CHRF(word_order=2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChrfOptions {
    /// Maximum character n-gram order (default 6).
    pub char_order: usize,
    /// Maximum word n-gram order: 0 for chrF, 2 for chrF++.
    pub word_order: usize,
    /// Weight of recall relative to precision (default 2).
    pub beta: u32,
    /// Lowercase both sides first (signature `case:lc`).
    pub lowercase: bool,
    /// Keep whitespace inside character n-grams (signature `space:yes`).
    pub whitespace: bool,
    /// chrF++.py-style epsilon smoothing (signature `eff:no`). sacreBLEU's
    /// default is `false`: average precision and recall over the effective
    /// orders only (signature `eff:yes`).
    pub eps_smoothing: bool,
}

impl Default for ChrfOptions {
    fn default() -> Self {
        Self {
            char_order: 6,
            word_order: 0,
            beta: 2,
            lowercase: false,
            whitespace: false,
            eps_smoothing: false,
        }
    }
}

/// Per-order chrF statistics, `[hypothesis n-grams, reference n-grams, matches]`
/// for the character orders followed by the word orders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChrfStats {
    /// One `[hyp, ref, match]` triple per n-gram order.
    pub orders: Vec<[u64; 3]>,
}

impl ChrfStats {
    /// Adds another segment's statistics; an empty accumulator takes the other's shape.
    pub fn add(&mut self, other: &ChrfStats) {
        if self.orders.len() < other.orders.len() {
            self.orders.resize(other.orders.len(), [0; 3]);
        }
        for (acc, o) in self.orders.iter_mut().zip(&other.orders) {
            for k in 0..3 {
                acc[k] += o[k];
            }
        }
    }
}

/// A chrF score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChrfScore {
    /// chrF on the 0–100 scale.
    pub score: f64,
    /// Character n-gram order used.
    pub char_order: usize,
    /// Word n-gram order used.
    pub word_order: usize,
    /// Recall weight used.
    pub beta: u32,
}

impl ChrfScore {
    /// sacreBLEU's metric name: `chrF2`, or `chrF2++` for word order 2.
    pub fn name(&self) -> String {
        format!("chrF{}{}", self.beta, "+".repeat(self.word_order))
    }
}

impl fmt::Display for ChrfScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:.2}", self.name(), self.score)
    }
}

/// The n-grams of one preprocessed segment.
struct SegmentNgrams<'a> {
    chars: Vec<NgramCounts<'a, char>>,
    words: Vec<NgramCounts<'a, &'a str>>,
}

impl ChrfOptions {
    /// chrF++: chrF with word unigrams and bigrams.
    pub fn chrf_plus_plus() -> Self {
        Self {
            word_order: 2,
            ..Self::default()
        }
    }

    /// Rejects orders and weights the metric cannot use.
    pub fn validate(&self) -> Result<(), EvalError> {
        if self.char_order + self.word_order == 0 {
            return Err(EvalError::InvalidOption(
                "chrF needs char_order + word_order >= 1".into(),
            ));
        }
        if self.beta == 0 {
            return Err(EvalError::InvalidOption("chrF beta must be >= 1".into()));
        }
        Ok(())
    }

    /// The reproducibility signature for `nrefs` references per segment.
    pub fn signature(&self, nrefs: usize) -> Signature {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        Signature::new(
            nrefs,
            vec![
                ("case", if self.lowercase { "lc" } else { "mixed" }.into()),
                ("eff", yes_no(!self.eps_smoothing)),
                ("nc", self.char_order.to_string()),
                ("nw", self.word_order.to_string()),
                ("space", yes_no(self.whitespace)),
            ],
        )
    }

    /// Corpus chrF of `hyps` against reference streams `refs`: statistics are
    /// summed over segments, then turned into one F-score.
    pub fn corpus_score<R: AsRef<[String]>>(
        &self,
        hyps: &[String],
        refs: &[R],
    ) -> Result<ChrfScore, EvalError> {
        let stats = self.segment_stats(hyps, refs)?;
        Ok(self.compute(&self.sum_stats(&stats)))
    }

    /// The score of (summed) statistics.
    pub fn compute(&self, stats: &ChrfStats) -> ChrfScore {
        ChrfScore {
            score: self.f_score(&stats.orders),
            char_order: self.char_order,
            word_order: self.word_order,
            beta: self.beta,
        }
    }

    /// Statistics of one hypothesis against the reference giving the best F-score
    /// (the first one on ties).
    pub fn sentence_stats(&self, hyp: &str, refs: &[&str]) -> ChrfStats {
        let hyp = self.preprocess(hyp);
        let (hyp_chars, hyp_words) = self.split_segment(&hyp);
        let hyp_ngrams = self.ngrams(&hyp_chars, &hyp_words);
        let mut best: Option<(f64, Vec<[u64; 3]>)> = None;
        for reference in refs {
            let reference = self.preprocess(reference);
            let (ref_chars, ref_words) = self.split_segment(&reference);
            let ref_ngrams = self.ngrams(&ref_chars, &ref_words);
            let orders = match_statistics(&hyp_ngrams, &ref_ngrams);
            let f = self.f_score(&orders);
            if best.as_ref().is_none_or(|(best_f, _)| f > *best_f) {
                best = Some((f, orders));
            }
        }
        ChrfStats {
            orders: best.map(|(_, orders)| orders).unwrap_or_default(),
        }
    }

    fn preprocess(&self, line: &str) -> String {
        if self.lowercase {
            py_lower(line)
        } else {
            line.to_owned()
        }
    }

    /// The characters (whitespace removed unless kept) and the chrF++ words of a segment.
    fn split_segment<'a>(&self, line: &'a str) -> (Vec<char>, Vec<&'a str>) {
        let chars = if self.whitespace {
            line.chars().collect()
        } else {
            line.chars().filter(|&c| !is_py_whitespace(c)).collect()
        };
        let words = if self.word_order > 0 {
            split_punctuation(line)
        } else {
            Vec::new()
        };
        (chars, words)
    }

    fn ngrams<'a>(&self, chars: &'a [char], words: &'a [&'a str]) -> SegmentNgrams<'a> {
        SegmentNgrams {
            chars: (1..=self.char_order)
                .map(|n| count_ngrams(chars, n))
                .collect(),
            words: (1..=self.word_order)
                .map(|n| count_ngrams(words, n))
                .collect(),
        }
    }

    /// sacreBLEU's `_compute_f_score` over `[hyp, ref, match]` triples.
    fn f_score(&self, orders: &[[u64; 3]]) -> f64 {
        let factor = f64::from(self.beta * self.beta);
        let mut eps_sum = 0.0;
        let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0_usize);
        for &[n_hyp, n_ref, n_match] in orders {
            let prec = if n_hyp > 0 {
                n_match as f64 / n_hyp as f64
            } else {
                EPS
            };
            let rec = if n_ref > 0 {
                n_match as f64 / n_ref as f64
            } else {
                EPS
            };
            let denom = factor * prec + rec;
            eps_sum += if denom > 0.0 {
                (1.0 + factor) * prec * rec / denom
            } else {
                EPS
            };
            if n_hyp > 0 && n_ref > 0 {
                avg_prec += prec;
                avg_rec += rec;
                effective += 1;
            }
        }
        if self.eps_smoothing {
            return 100.0 * eps_sum / orders.len() as f64;
        }
        if effective == 0 {
            return 0.0;
        }
        avg_prec /= effective as f64;
        avg_rec /= effective as f64;
        if avg_prec + avg_rec == 0.0 {
            return 0.0;
        }
        let score = (1.0 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec);
        100.0 * score
    }
}

impl Metric for ChrfOptions {
    type Stats = ChrfStats;

    fn segment_stats<R: AsRef<[String]>>(
        &self,
        hyps: &[String],
        refs: &[R],
    ) -> Result<Vec<ChrfStats>, EvalError> {
        self.validate()?;
        check_shapes(hyps, refs)?;
        Ok(hyps
            .iter()
            .enumerate()
            .map(|(i, hyp)| self.sentence_stats(hyp, &segment_refs(refs, i)))
            .collect())
    }

    fn zero_stats(&self) -> ChrfStats {
        ChrfStats {
            orders: vec![[0; 3]; self.char_order + self.word_order],
        }
    }

    fn add_stats(&self, acc: &mut ChrfStats, segment: &ChrfStats) {
        acc.add(segment);
    }

    fn score_from_stats(&self, total: &ChrfStats) -> f64 {
        self.f_score(&total.orders)
    }
}

/// `[hyp count, ref count, clipped matches]` for each order; the hypothesis
/// count is zeroed where the reference has no n-grams of that order.
fn match_statistics(hyp: &SegmentNgrams<'_>, reference: &SegmentNgrams<'_>) -> Vec<[u64; 3]> {
    fn triple<T: std::hash::Hash + Eq>(h: &NgramCounts<'_, T>, r: &NgramCounts<'_, T>) -> [u64; 3] {
        let hyp_count = if r.is_empty() { 0 } else { total(h) };
        [hyp_count, total(r), clipped_matches(h, r)]
    }
    let chars = hyp
        .chars
        .iter()
        .zip(&reference.chars)
        .map(|(h, r)| triple(h, r));
    let words = hyp
        .words
        .iter()
        .zip(&reference.words)
        .map(|(h, r)| triple(h, r));
    chars.chain(words).collect()
}

/// chrF++'s word splitting: whitespace words, with one ASCII punctuation mark
/// split off the end, or else off the start, of words longer than one character
/// (so `(hi)` becomes `(hi` and `)`, as in sacreBLEU).
fn split_punctuation(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for word in py_split(line) {
        let mut chars = word.chars();
        let (first, last) = (chars.next(), chars.next_back());
        let is_punct = |c: Option<char>| c.is_some_and(|c| ASCII_PUNCT.contains(c));
        if last.is_none() {
            words.push(word);
        } else if is_punct(last) {
            let cut = word.len() - last.map_or(0, char::len_utf8);
            words.extend([&word[..cut], &word[cut..]]);
        } else if is_punct(first) {
            let cut = first.map_or(0, char::len_utf8);
            words.extend([&word[..cut], &word[cut..]]);
        } else {
            words.push(word);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn chrf(hyps: &[&str], refs: &[&str], opts: &ChrfOptions) -> f64 {
        opts.corpus_score(&strings(hyps), &[strings(refs)])
            .unwrap()
            .score
    }

    #[test]
    fn punctuation_split_matches_sacrebleu_quirks() {
        assert_eq!(
            split_punctuation("(hi) 'a b. ,c x"),
            ["(hi", ")", "'", "a", "b", ".", ",", "c", "x"]
        );
        // only ASCII punctuation is split; a lone character is kept whole
        assert_eq!(split_punctuation("«ja» . 東京。"), ["«ja»", ".", "東京。"]);
    }

    #[test]
    fn identical_segments_score_100() {
        for opts in [ChrfOptions::default(), ChrfOptions::chrf_plus_plus()] {
            let s = chrf(&["Das ist schön."], &["Das ist schön."], &opts);
            assert!((s - 100.0).abs() < 1e-9);
        }
    }

    #[test]
    fn whitespace_is_ignored_by_default() {
        let opts = ChrfOptions::default();
        assert!((chrf(&["a b c"], &["abc"], &opts) - 100.0).abs() < 1e-9);
        let spaced = ChrfOptions {
            whitespace: true,
            ..opts
        };
        assert!(chrf(&["a b c"], &["abc"], &spaced) < 100.0);
    }

    #[test]
    fn hand_computed_unigram_chrf() {
        // char_order 1: hyp "ab" vs ref "abcd": P = 1, R = 0.5, F2 = 5*0.5/(4+0.5)
        let opts = ChrfOptions {
            char_order: 1,
            ..Default::default()
        };
        let expected = 100.0 * 5.0 * 0.5 / 4.5;
        assert!((chrf(&["ab"], &["abcd"], &opts) - expected).abs() < 1e-9);
    }

    #[test]
    fn effective_order_versus_eps_smoothing() {
        // a 2-character hypothesis has no 3..6-grams
        let eff = chrf(&["ab"], &["ab"], &ChrfOptions::default());
        assert!((eff - 100.0).abs() < 1e-9, "only orders 1 and 2 count");
        let eps = ChrfOptions {
            eps_smoothing: true,
            ..Default::default()
        };
        assert!((chrf(&["ab"], &["ab"], &eps) - 100.0 * 2.0 / 6.0).abs() < 1e-6);
    }

    #[test]
    fn zero_overlap_and_empty_lines_score_zero() {
        assert_eq!(chrf(&["xyz"], &["abc"], &ChrfOptions::default()), 0.0);
        assert_eq!(chrf(&[""], &["abc"], &ChrfOptions::default()), 0.0);
        let stats = ChrfOptions::default().sentence_stats("abc", &[""]);
        assert!(
            stats.orders.iter().all(|o| o[0] == 0),
            "no reference n-grams zero the hyp count"
        );
    }

    #[test]
    fn corpus_sums_statistics_before_scoring() {
        let opts = ChrfOptions::default();
        let (hyps, refs) = (strings(&["abcdef", "x"]), strings(&["abcdef", "y"]));
        let corpus = opts
            .corpus_score(&hyps, std::slice::from_ref(&refs))
            .unwrap()
            .score;
        let per_segment: Vec<f64> = hyps
            .iter()
            .zip(&refs)
            .map(|(h, r)| opts.compute(&opts.sentence_stats(h, &[r])).score)
            .collect();
        assert_eq!(per_segment[1], 0.0);
        let mean = per_segment.iter().sum::<f64>() / 2.0;
        assert!(
            corpus > mean + 1.0,
            "summed stats ({corpus}) differ from mean of scores ({mean})"
        );
    }

    #[test]
    fn best_reference_is_chosen() {
        let opts = ChrfOptions::default();
        let one = opts.sentence_stats("hello world", &["goodbye"]);
        let two = opts.sentence_stats("hello world", &["goodbye", "hello world"]);
        assert!(opts.compute(&two).score > opts.compute(&one).score);
        assert!((opts.compute(&two).score - 100.0).abs() < 1e-9);
    }

    #[test]
    fn names_and_signatures() {
        let pp = ChrfOptions::chrf_plus_plus();
        assert_eq!(pp.compute(&pp.zero_stats()).name(), "chrF2++");
        assert_eq!(
            pp.signature(1).to_string(),
            "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0"
        );
        let eps = ChrfOptions {
            eps_smoothing: true,
            lowercase: true,
            ..Default::default()
        };
        assert!(
            eps.signature(1)
                .to_string()
                .starts_with("nrefs:1|case:lc|eff:no|nc:6|nw:0|")
        );
    }

    #[test]
    fn invalid_options_are_rejected() {
        let zero = ChrfOptions {
            char_order: 0,
            ..Default::default()
        };
        let err = zero
            .corpus_score(&strings(&["a"]), &[strings(&["a"])])
            .unwrap_err();
        assert!(matches!(err, EvalError::InvalidOption(_)));
    }
}
