//! Configuration errors of the LSTM encoder-decoder.

/// Why an [`crate::LstmSeq2SeqConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LstmConfigError {
    /// A size or count is zero.
    #[error("lstm: {name} must be at least 1")]
    Zero {
        /// The field.
        name: &'static str,
    },
    /// The dropout probability is outside `[0, 1)`.
    #[error("lstm: dropout must be in [0, 1), got {value}")]
    Dropout {
        /// The configured probability.
        value: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_model_and_the_field() {
        let zero = LstmConfigError::Zero { name: "d_hidden" };
        assert_eq!(zero.to_string(), "lstm: d_hidden must be at least 1");
        let dropout = LstmConfigError::Dropout { value: 1.5 };
        assert_eq!(
            dropout.to_string(),
            "lstm: dropout must be in [0, 1), got 1.5"
        );
    }
}
