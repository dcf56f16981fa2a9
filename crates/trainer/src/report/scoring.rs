//! Scores of a translated test set: BLEU and chrF exactly as sacreBLEU, BLEU per source-length
//! bucket, and paired bootstrap between two systems. One implementation serves validation,
//! `evaluate`, `compare` and reports.

use anyhow::Result;
use honyaku_eval::{
    BleuOptions, ChrfOptions, EvalError, PairedBootstrap, corpus_bleu, corpus_chrf,
};
use serde::{Deserialize, Serialize};

/// Corpus scores with their sacreBLEU signatures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scores {
    /// BLEU, 0-100.
    pub bleu: f64,
    /// chrF, 0-100.
    pub chrf: f64,
    /// sacreBLEU-style signatures of both metrics.
    pub signature: Signatures,
    /// sacreBLEU's one-line BLEU report (precisions, brevity penalty, lengths).
    pub bleu_detail: String,
}

/// Signatures of the two metrics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signatures {
    /// BLEU signature.
    pub bleu: String,
    /// chrF signature.
    pub chrf: String,
}

/// BLEU over the sentences whose source has a given number of words.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LengthBucket {
    /// The bucket, e.g. "11-20".
    pub label: String,
    /// Sentences in the bucket.
    pub sentences: usize,
    /// BLEU of the bucket (absent when the bucket is empty).
    pub bleu: Option<f64>,
}

/// Source-length buckets, in words: 1-10, 11-20, 21-30, 31+.
pub const BUCKETS: [(usize, usize); 4] = [(1, 10), (11, 20), (21, 30), (31, usize::MAX)];

/// Whether a paired bootstrap shows a difference at p < 0.05 (identical scores never do).
pub fn is_significant(res: &PairedBootstrap) -> bool {
    res.p_value < 0.05 && res.baseline.score != res.candidate.score
}

/// Scores `hyps` against `refs`.
pub fn score(
    hyps: &[String],
    refs: &[String],
    bleu: &BleuOptions,
    chrf: &ChrfOptions,
) -> Result<Scores, EvalError> {
    let b = corpus_bleu(hyps, refs, bleu)?;
    let c = corpus_chrf(hyps, refs, chrf)?;
    Ok(Scores {
        bleu: b.score,
        chrf: c.score,
        signature: Signatures {
            bleu: bleu.signature(1).to_string(),
            chrf: chrf.signature(1).to_string(),
        },
        bleu_detail: b.to_string(),
    })
}

/// BLEU per source-length bucket (source words counted by whitespace; unspaced scripts count
/// one word per two characters, as the cleaning step does).
pub fn bleu_by_length(
    sources: &[String],
    hyps: &[String],
    refs: &[String],
    bleu: &BleuOptions,
) -> Result<Vec<LengthBucket>> {
    BUCKETS
        .iter()
        .map(|&(lo, hi)| {
            let idx: Vec<usize> = (0..sources.len())
                .filter(|&i| {
                    let n = honyaku_data::clean::length_units(&sources[i]);
                    n >= lo && n <= hi
                })
                .collect();
            let pick = |v: &[String]| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
            let score = if idx.is_empty() {
                None
            } else {
                Some(corpus_bleu(&pick(hyps), &pick(refs), bleu)?.score)
            };
            Ok(LengthBucket {
                label: if hi == usize::MAX {
                    format!("{lo}+")
                } else {
                    format!("{lo}-{hi}")
                },
                sentences: idx.len(),
                bleu: score,
            })
        })
        .collect()
}
