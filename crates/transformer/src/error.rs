//! Configuration errors of the Transformer.

use std::fmt;

/// One problem of a [`crate::TransformerConfig`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransformerProblem {
    /// `n_heads` is zero or does not divide `d_model`.
    #[error("n_heads ({n_heads}) must be at least 1 and divide d_model ({d_model})")]
    Heads {
        /// Attention heads.
        n_heads: usize,
        /// Model width.
        d_model: usize,
    },
    /// Sinusoids pair the features.
    #[error("sinusoidal positions need an even d_model, got {d_model}")]
    OddWidth {
        /// Model width.
        d_model: usize,
    },
    /// The sinusoid table is limited.
    #[error("sinusoidal positions cover at most 10000 positions, max_len is {max_len}")]
    TooLong {
        /// The configured longest sequence.
        max_len: usize,
    },
    /// A dropout probability is outside `[0, 1)`.
    #[error("{name} must be in [0, 1), got {value}")]
    Dropout {
        /// The field.
        name: &'static str,
        /// The configured probability.
        value: f64,
    },
    /// A size or count is zero.
    #[error("{name} must be at least 1")]
    Zero {
        /// The field.
        name: &'static str,
    },
    /// `tie_all` with two vocabularies.
    #[error(
        "tie_all needs one joint vocabulary, but src_vocab = {src_vocab} and tgt_vocab = \
         {tgt_vocab} (use tie_output to tie only the decoder's embeddings)"
    )]
    TieAllVocabularies {
        /// Source vocabulary size.
        src_vocab: usize,
        /// Target vocabulary size.
        tgt_vocab: usize,
    },
}

/// Every problem of a [`crate::TransformerConfig`], reported together.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerConfigError {
    /// The problems, in the order they were found (at least one).
    pub problems: Vec<TransformerProblem>,
}

impl TransformerConfigError {
    /// The problems joined by `; `.
    pub fn joined(&self) -> String {
        let messages: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        messages.join("; ")
    }
}

impl fmt::Display for TransformerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transformer: {}", self.joined())
    }
}

impl std::error::Error for TransformerConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_joined_after_the_model_name() {
        let err = TransformerConfigError {
            problems: vec![
                TransformerProblem::Heads {
                    n_heads: 5,
                    d_model: 32,
                },
                TransformerProblem::Zero {
                    name: "encoder_layers",
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "transformer: n_heads (5) must be at least 1 and divide d_model (32); encoder_layers \
             must be at least 1"
        );
    }
}
