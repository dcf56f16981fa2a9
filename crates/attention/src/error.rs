//! Configuration errors of the attentional encoder-decoder and its attention layer.

/// Why an [`crate::AttentionConfig`] does not fit its scoring function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    /// `luong-dot` scores `hᵀ e`, so both sizes must agree.
    #[error(
        "luong-dot attention needs the decoder size ({d_query}) to equal the encoder output size \
         ({d_key}); use luong-general or bahdanau otherwise"
    )]
    DotSizes {
        /// The decoder (query) size.
        d_query: usize,
        /// The encoder output (key) size.
        d_key: usize,
    },
    /// Additive scoring has a hidden layer.
    #[error("bahdanau attention needs d_attention of at least 1")]
    NoAttentionSize,
}

/// Why an [`crate::AttentionSeq2SeqConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttentionConfigError {
    /// A size or count is zero.
    #[error("attention: {name} must be at least 1")]
    Zero {
        /// The field.
        name: &'static str,
    },
    /// The dropout probability is outside `[0, 1)`.
    #[error("attention: dropout must be in [0, 1), got {value}")]
    Dropout {
        /// The configured probability.
        value: f64,
    },
    /// The sizes do not fit the attention kind.
    #[error("attention: {0}")]
    Scoring(#[from] ScoringError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_model_and_the_problem() {
        let dot = AttentionConfigError::from(ScoringError::DotSizes {
            d_query: 100,
            d_key: 128,
        });
        assert_eq!(
            dot.to_string(),
            "attention: luong-dot attention needs the decoder size (100) to equal the encoder \
             output size (128); use luong-general or bahdanau otherwise"
        );
        let zero = AttentionConfigError::Zero { name: "d_embed" };
        assert_eq!(zero.to_string(), "attention: d_embed must be at least 1");
        let dropout = AttentionConfigError::Dropout { value: 1.0 };
        assert_eq!(
            dropout.to_string(),
            "attention: dropout must be in [0, 1), got 1"
        );
    }
}
