//! The JSON bodies of `POST /api/translate`: the request as read, and the results built from
//! the model's hypotheses.

use honyaku_core::Hypothesis;
use honyaku_data::tokenizer::Tokenizers;
use serde::{Deserialize, Serialize};

use super::limits::SearchRequest;
use crate::inference::attention::{AttentionGrid, attention_grid};

/// `POST /api/translate`'s body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslateRequest {
    /// Name of the run to translate with (see `GET /api/runs`).
    pub run: String,
    /// Lines to translate; one result per line, in order.
    pub text: Vec<String>,
    /// Beam size (1 = greedy).
    #[serde(default = "default_beam")]
    pub beam: usize,
    /// Hypotheses per line.
    #[serde(default = "default_nbest")]
    pub nbest: usize,
    /// Return each hypothesis's attention weights (architectures with attention).
    #[serde(default)]
    pub attention: bool,
    /// Length penalty exponent.
    #[serde(default = "default_alpha")]
    pub alpha: f32,
}

fn default_beam() -> usize {
    5
}

fn default_nbest() -> usize {
    1
}

fn default_alpha() -> f32 {
    0.6
}

impl TranslateRequest {
    /// The search settings asked for.
    pub fn search(&self) -> SearchRequest {
        SearchRequest {
            beam: self.beam,
            nbest: self.nbest,
            alpha: self.alpha,
            attention: self.attention,
        }
    }
}

/// The answer to a translation request.
#[derive(Debug, Clone, Serialize)]
pub struct TranslateResponse {
    /// The run that translated.
    pub run: String,
    /// One entry per input line, in input order.
    pub results: Vec<LineResult>,
    /// Milliseconds from the request's arrival to its answer.
    pub elapsed_ms: f64,
}

/// The translations of one line.
#[derive(Debug, Clone, Serialize)]
pub struct LineResult {
    /// The input line.
    pub source: String,
    /// Best first.
    pub hypotheses: Vec<HypothesisOut>,
}

/// One translation of a line.
#[derive(Debug, Clone, Serialize)]
pub struct HypothesisOut {
    /// Detokenized text.
    pub text: String,
    /// Sum of the token log-probabilities (EOS included when produced).
    pub score: f32,
    /// Attention weights, when asked for and the model has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<AttentionGrid>,
}

/// Builds the result of one line from its source ids and hypotheses.
pub fn line_result(
    tokenizers: &Tokenizers,
    source: &str,
    ids: &[u32],
    hyps: &[Hypothesis],
) -> LineResult {
    let blank = source.trim().is_empty();
    let hypotheses = hyps
        .iter()
        .map(|hyp| HypothesisOut {
            text: if blank {
                String::new()
            } else {
                tokenizers.tgt.decode(&hyp.tokens)
            },
            score: hyp.score,
            attention: attention_grid(tokenizers, ids, hyp),
        })
        .collect();
    LineResult {
        source: source.to_string(),
        hypotheses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_takes_defaults_and_refuses_unknown_fields() {
        let req: TranslateRequest = serde_json::from_str(r#"{"run": "a", "text": ["x"]}"#).unwrap();
        assert_eq!((req.beam, req.nbest, req.attention), (5, 1, false));
        let err = serde_json::from_str::<TranslateRequest>(r#"{"run":"a","text":[],"beams":2}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `beams`"), "{err}");
        assert!(serde_json::from_str::<TranslateRequest>(r#"{"run":"a","text":"x"}"#).is_err());
    }
}
