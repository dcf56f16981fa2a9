//! Validation during training: loss and perplexity by teacher forcing, BLEU and chrF by greedy
//! decoding through the shared search, scored exactly as `evaluate` scores.

use std::fmt;

use anyhow::Result;
use burn::prelude::*;
use honyaku_core::search::to_host_floats;
use honyaku_core::{SearchConfig, Seq2Seq, sequence_loss};
use honyaku_data::batcher::HostBatch;
use honyaku_data::tokenizer::Tokenizer;
use honyaku_eval::{BleuOptions, ChrfOptions};
use serde::{Deserialize, Serialize};

use crate::inference::Decoding;
use crate::inference::translate::translate_loaded;
use crate::report::scoring::score;
use crate::run::SelectMetric;

/// A validation set.
pub struct ValidSet {
    /// Teacher-forced batches for the loss.
    pub batches: Vec<HostBatch>,
    /// Source ids for decoding (empty: no BLEU).
    pub sources: Vec<Vec<u32>>,
    /// Reference sentences, as written.
    pub refs: Vec<String>,
    /// The target tokenizer, to detokenize hypotheses.
    pub tokenizer: Tokenizer,
    /// Token budget of decoding batches.
    pub max_tokens: usize,
}

/// Scores of one validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidScores {
    /// Loss per target token (no smoothing).
    pub loss: f64,
    /// BLEU of greedy translations, when decoded.
    pub bleu: Option<f64>,
    /// chrF of greedy translations, when decoded.
    pub chrf: Option<f64>,
}

impl ValidScores {
    /// Perplexity.
    pub fn ppl(&self) -> f64 {
        self.loss.exp()
    }

    /// Whether these scores beat `other` by `metric`. An equal score is broken by the loss, and
    /// the loss decides when a score is missing.
    pub fn better_than(&self, other: &Self, metric: SelectMetric) -> bool {
        let scores = match metric {
            SelectMetric::Bleu | SelectMetric::Auto => self.bleu.zip(other.bleu),
            SelectMetric::Chrf => self.chrf.zip(other.chrf),
            SelectMetric::Loss => None,
        };
        match scores {
            Some((a, b)) if a != b => a > b,
            _ => self.loss < other.loss,
        }
    }
}

impl fmt::Display for ValidScores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "valid loss {:.3}, perplexity {:.2}",
            self.loss,
            self.ppl()
        )?;
        if let (Some(b), Some(c)) = (self.bleu, self.chrf) {
            write!(f, ", BLEU {b:.2}, chrF {c:.2}")?;
        }
        Ok(())
    }
}

impl ValidSet {
    /// Validates `model` (already in inference mode) on `device`.
    pub fn evaluate<M: Seq2Seq>(&self, model: &M, device: &Device) -> Result<ValidScores> {
        let (mut nll, mut tokens) = (0.0f64, 0usize);
        for host in &self.batches {
            let batch = host.to_batch(device);
            let out = sequence_loss(
                model.forward(&batch),
                batch.tgt_out.clone(),
                batch.tgt_pad.clone(),
                0.0,
            );
            nll += to_host_floats(out.nll_sum)[0] as f64;
            tokens += out.tokens;
        }
        let loss = nll / tokens.max(1) as f64;
        if self.sources.is_empty() {
            return Ok(ValidScores {
                loss,
                bleu: None,
                chrf: None,
            });
        }
        let decoding = Decoding::Greedy(SearchConfig::default());
        let hyps: Vec<String> =
            translate_loaded(model, &self.sources, self.max_tokens, &decoding, device)
                .iter()
                .map(|h| self.tokenizer.decode(&h[0].tokens))
                .collect();
        let s = score(
            &hyps,
            &self.refs,
            &BleuOptions::default(),
            &ChrfOptions::default(),
        )?;
        Ok(ValidScores {
            loss,
            bleu: Some(s.bleu),
            chrf: Some(s.chrf),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(loss: f64, bleu: f64, chrf: f64) -> ValidScores {
        ValidScores {
            loss,
            bleu: Some(bleu),
            chrf: Some(chrf),
        }
    }

    #[test]
    fn the_metric_decides_and_an_equal_score_goes_to_the_lower_loss() {
        let (a, b) = (scores(2.0, 30.0, 50.0), scores(1.5, 30.0, 55.0));
        assert!(
            b.better_than(&a, SelectMetric::Bleu),
            "tie: lower loss wins"
        );
        assert!(!a.better_than(&b, SelectMetric::Bleu));
        assert!(b.better_than(&a, SelectMetric::Chrf));
        assert!(scores(3.0, 31.0, 40.0).better_than(&a, SelectMetric::Bleu));
        assert!(!scores(3.0, 31.0, 40.0).better_than(&a, SelectMetric::Loss));
        let no_scores = ValidScores {
            loss: 1.0,
            bleu: None,
            chrf: None,
        };
        assert!(no_scores.better_than(&a, SelectMetric::Chrf));
    }
}
