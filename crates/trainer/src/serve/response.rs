//! The JSON bodies of `POST /api/translate`: the request as read, and the results built from
//! the model's hypotheses.

use honyaku_core::Hypothesis;
use honyaku_data::tokenizer::{Tokenizer, Tokenizers};
use serde::{Deserialize, Serialize};

use super::limits::SearchRequest;

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
    pub attention: Option<AttentionOut>,
}

/// Attention of one hypothesis: `weights[t][s]` is target piece `t`'s weight on source piece
/// `s`; rows sum to 1.
#[derive(Debug, Clone, Serialize)]
pub struct AttentionOut {
    /// Source pieces, `</s>` last.
    pub source: Vec<String>,
    /// Generated pieces, `</s>` last when the hypothesis finished.
    pub target: Vec<String>,
    /// One row per target piece, one column per source piece.
    pub weights: Vec<Vec<f32>>,
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
            attention: attention(tokenizers, ids, hyp),
        })
        .collect();
    LineResult {
        source: source.to_string(),
        hypotheses,
    }
}

fn attention(tokenizers: &Tokenizers, ids: &[u32], hyp: &Hypothesis) -> Option<AttentionOut> {
    let weights = hyp.attention.as_ref().filter(|w| !w.is_empty())?;
    let mut source: Vec<String> = ids.iter().map(|&id| piece(&tokenizers.src, id)).collect();
    source.push("</s>".into());
    let mut target: Vec<String> = hyp
        .tokens
        .iter()
        .map(|&id| piece(&tokenizers.tgt, id))
        .collect();
    if hyp.finished {
        target.push("</s>".into());
    }
    // Rows cover the padded source of the batch: keep this line's own positions.
    let weights: Vec<Vec<f32>> = weights
        .iter()
        .take(target.len())
        .map(|row| row[..source.len().min(row.len())].to_vec())
        .collect();
    target.truncate(weights.len());
    Some(AttentionOut {
        source,
        target,
        weights,
    })
}

fn piece(tokenizer: &Tokenizer, id: u32) -> String {
    tokenizer
        .id_to_piece(id)
        .unwrap_or_else(|| format!("#{id}"))
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
