//! The error type shared by every scorer in this crate.

use thiserror::Error;

/// Everything that can go wrong while scoring: bad input shapes and bad options.
///
/// Scoring never panics on user data; malformed input is reported here instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// The hypothesis list and a reference stream differ in length.
    #[error(
        "hypotheses and references differ in length: {hyps} hypotheses but reference stream {stream} has {refs} segments"
    )]
    LengthMismatch {
        /// Number of hypothesis segments.
        hyps: usize,
        /// Number of segments in the offending reference stream.
        refs: usize,
        /// Index of the offending reference stream (0 for single-reference scoring).
        stream: usize,
    },
    /// No reference stream was given.
    #[error("no reference streams given; at least one is needed")]
    NoReferences,
    /// There is nothing to score.
    #[error("the corpus is empty: at least one segment is needed")]
    EmptyCorpus,
    /// A tokenizer name that this crate does not implement.
    #[error("unknown BLEU tokenizer {0:?}; expected one of: 13a, intl, char, none")]
    UnknownTokenizer(String),
    /// An option value that the metric cannot use.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The two systems of a paired test do not cover the same segments.
    #[error(
        "paired test needs systems of equal length: baseline has {baseline} segments, candidate has {candidate}"
    )]
    PairedLengthMismatch {
        /// Number of baseline segments.
        baseline: usize,
        /// Number of candidate segments.
        candidate: usize,
    },
}
