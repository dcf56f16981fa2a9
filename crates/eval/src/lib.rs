//! Translation metrics that reproduce sacreBLEU 2.x: corpus BLEU with its
//! tokenizers (`13a`, `intl`, `char`, `none`), chrF and chrF++, and paired
//! bootstrap resampling between two systems.
//!
//! ```
//! use honyaku_eval::{BleuOptions, ChrfOptions, corpus_bleu, corpus_chrf};
//!
//! let hyps = vec!["The cat sat on the mat.".to_string()];
//! let refs = vec!["The cat sat on the mat.".to_string()];
//! let bleu = corpus_bleu(&hyps, &refs, &BleuOptions::default())?;
//! assert!((bleu.score - 100.0).abs() < 1e-9);
//! assert_eq!(
//!     BleuOptions::default().signature(1).to_string(),
//!     "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
//! );
//! let chrf = corpus_chrf(&hyps, &refs, &ChrfOptions::chrf_plus_plus())?;
//! assert_eq!(chrf.name(), "chrF2++");
//! # Ok::<(), honyaku_eval::EvalError>(())
//! ```

pub mod bleu;
pub mod bootstrap;
pub mod chrf;
pub mod error;
pub mod metric;
mod ngrams;
pub mod pystr;
pub mod signature;
pub mod tokenize;

pub use bleu::{BleuOptions, BleuScore, BleuStats, MAX_NGRAM_ORDER, Smoothing};
pub use bootstrap::{
    BootstrapOptions, PairedBootstrap, SystemEstimate, bootstrap_estimate, paired_bootstrap,
    paired_bootstrap_stats,
};
pub use chrf::{ChrfOptions, ChrfScore, ChrfStats};
pub use error::EvalError;
pub use metric::Metric;
pub use signature::{SACREBLEU_VERSION, Signature};
pub use tokenize::BleuTokenizer;

/// Corpus BLEU with one reference per segment.
///
/// Fails if `hyps` and `refs` differ in length (the message gives both counts)
/// or are empty.
pub fn corpus_bleu(
    hyps: &[String],
    refs: &[String],
    opts: &BleuOptions,
) -> Result<BleuScore, EvalError> {
    opts.corpus_score(hyps, std::slice::from_ref(&refs))
}

/// Corpus BLEU against several reference streams (`refs[k][i]` is the `k`-th
/// reference of segment `i`).
pub fn corpus_bleu_multi<R: AsRef<[String]>>(
    hyps: &[String],
    refs: &[R],
    opts: &BleuOptions,
) -> Result<BleuScore, EvalError> {
    opts.corpus_score(hyps, refs)
}

/// Corpus chrF (or chrF++) with one reference per segment.
pub fn corpus_chrf(
    hyps: &[String],
    refs: &[String],
    opts: &ChrfOptions,
) -> Result<ChrfScore, EvalError> {
    opts.corpus_score(hyps, std::slice::from_ref(&refs))
}

/// Corpus chrF (or chrF++) against several reference streams.
pub fn corpus_chrf_multi<R: AsRef<[String]>>(
    hyps: &[String],
    refs: &[R],
    opts: &ChrfOptions,
) -> Result<ChrfScore, EvalError> {
    opts.corpus_score(hyps, refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn length_mismatch_names_both_counts() {
        let err = corpus_bleu(
            &strings(&["a", "b"]),
            &strings(&["a"]),
            &BleuOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            EvalError::LengthMismatch {
                hyps: 2,
                refs: 1,
                stream: 0
            }
        );
        let err = corpus_chrf(
            &strings(&["a"]),
            &strings(&["a", "b", "c"]),
            &ChrfOptions::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("1 hypotheses") && msg.contains("3 segments"),
            "{msg}"
        );
    }

    #[test]
    fn empty_corpus_is_an_error() {
        assert_eq!(
            corpus_bleu(&[], &[], &BleuOptions::default()),
            Err(EvalError::EmptyCorpus)
        );
    }

    #[test]
    fn single_and_multi_reference_entry_points_agree() {
        let hyps = strings(&["a small test here", "and another one"]);
        let refs = strings(&["a small test there", "and one more"]);
        let opts = BleuOptions::default();
        let single = corpus_bleu(&hyps, &refs, &opts).unwrap();
        assert_eq!(
            single,
            corpus_bleu_multi(&hyps, std::slice::from_ref(&refs), &opts).unwrap()
        );
        let chrf = ChrfOptions::default();
        assert_eq!(
            corpus_chrf(&hyps, &refs, &chrf).unwrap(),
            corpus_chrf_multi(&hyps, std::slice::from_ref(&refs), &chrf).unwrap()
        );
        // a second, perfect reference stream can only help
        let multi = corpus_bleu_multi(&hyps, &[refs, hyps.clone()], &opts).unwrap();
        assert!((multi.score - 100.0).abs() < 1e-9 && single.score < 50.0);
    }
}
