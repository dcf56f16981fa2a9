//! Attention over the encoder states: additive scoring (Bahdanau et al. 2015) and multiplicative
//! scoring (Luong et al. 2015, `dot` and `general`), normalised by a softmax masked over padded
//! source positions.
//!
//! Scoring is split in two so that the part that depends only on the source is computed once
//! per sentence: [`Attention::keys`] projects the encoder states (in `encode`), and
//! [`Attention::attend`] scores one decoder state against those keys (in every decoder step).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use honyaku_core::additive_score;
use honyaku_core::linear::LinearRows;
use serde::{Deserialize, Serialize};

use crate::error::ScoringError;

/// Score given to padded source positions before the softmax. Finite (rather than `-inf`) so
/// that a fully padded row gives uniform weights instead of NaN; `exp` of it underflows to
/// exactly 0 next to any real position.
const MASKED_SCORE: f32 = -1.0e9;

pub use honyaku_core::activation::tanh;

/// How a decoder state `h` is scored against an encoder state `e`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttentionKind {
    /// Additive (Bahdanau et al. 2015): `vᵀ tanh(W_q h + W_k e)`.
    #[default]
    Bahdanau,
    /// Multiplicative `dot` (Luong et al. 2015): `hᵀ e`. Needs the decoder size to equal the
    /// encoder output size (twice the per-direction size).
    LuongDot,
    /// Multiplicative `general` (Luong et al. 2015): `hᵀ W_a e`.
    LuongGeneral,
}

impl AttentionKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 3] = [Self::Bahdanau, Self::LuongDot, Self::LuongGeneral];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bahdanau => "bahdanau",
            Self::LuongDot => "luong-dot",
            Self::LuongGeneral => "luong-general",
        }
    }
}

impl std::str::FromStr for AttentionKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| {
                format!("unknown attention '{s}' (expected bahdanau, luong-dot or luong-general)")
            })
    }
}

impl std::fmt::Display for AttentionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Configuration of an [`Attention`] layer.
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// The scoring function.
    pub kind: AttentionKind,
    /// Size of the query (the decoder's top hidden state).
    pub d_query: usize,
    /// Size of the encoder states attended over.
    pub d_key: usize,
    /// Size of the hidden layer of additive scoring (unused by the multiplicative kinds).
    pub d_attention: usize,
}

impl AttentionConfig {
    /// Checks that the sizes fit the scoring function.
    pub fn validate(&self) -> Result<(), ScoringError> {
        if self.kind == AttentionKind::LuongDot && self.d_query != self.d_key {
            return Err(ScoringError::DotSizes {
                d_query: self.d_query,
                d_key: self.d_key,
            });
        }
        if self.kind == AttentionKind::Bahdanau && self.d_attention == 0 {
            return Err(ScoringError::NoAttentionSize);
        }
        Ok(())
    }

    /// Builds the layer.
    ///
    /// # Panics
    ///
    /// If [`AttentionConfig::validate`] fails.
    pub fn init(&self, device: &Device) -> Attention {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        let no_bias = |d_input, d_output| {
            LinearConfig::new(d_input, d_output)
                .with_bias(false)
                .init(device)
        };
        let kind = self.kind;
        match kind {
            AttentionKind::Bahdanau => Attention {
                kind,
                key: Some(no_bias(self.d_key, self.d_attention)),
                query: Some(LinearConfig::new(self.d_query, self.d_attention).init(device)),
                score: Some(no_bias(self.d_attention, 1)),
            },
            AttentionKind::LuongDot => Attention {
                kind,
                key: None,
                query: None,
                score: None,
            },
            AttentionKind::LuongGeneral => Attention {
                kind,
                key: Some(no_bias(self.d_key, self.d_query)),
                query: None,
                score: None,
            },
        }
    }
}

/// Attention scoring. Holds only parameters; everything computed from the source lives in the
/// model's memory.
#[derive(Module, Debug)]
pub struct Attention {
    /// The scoring function.
    #[module(skip)]
    pub kind: AttentionKind,
    /// Key projection, applied once per source: `W_k` (bahdanau, to `d_attention`) or `W_a`
    /// (luong-general, to `d_query`). Absent for luong-dot.
    pub key: Option<Linear>,
    /// Query projection `W_q` with the bias of the additive hidden layer (bahdanau only).
    pub query: Option<Linear>,
    /// The vector `v` of additive scoring, `d_attention → 1` (bahdanau only).
    pub score: Option<Linear>,
}

impl Attention {
    /// Keys for the encoder states `values: [batch, src_len, d_key]`: what scoring needs from
    /// the source, computed once per sentence. `[batch, src_len, d_attention]` for bahdanau,
    /// `[batch, src_len, d_query]` for the Luong kinds (the states themselves for `dot`).
    pub fn keys(&self, values: Tensor<3>) -> Tensor<3> {
        match &self.key {
            Some(key) => key.forward_rows(values),
            None => values,
        }
    }

    /// Unnormalised scores `[batch, src_len]` of `query: [batch, d_query]` against `keys`.
    /// Additive scoring runs as one fused operation on flex ([`additive_score`]).
    pub fn scores(&self, keys: Tensor<3>, query: Tensor<2>) -> Tensor<2> {
        let [batch, src_len, _] = keys.dims();
        match (&self.query, &self.score) {
            (Some(project), Some(score)) => {
                let query = project.forward(query);
                if additive_score::supported(&keys.device()) {
                    let [d_attention, _] = score.weight.dims();
                    let v = score.weight.val().reshape([d_attention]);
                    return additive_score::additive_scores(keys, query, v);
                }
                score
                    .forward_rows(tanh(keys + query.unsqueeze_dim::<3>(1)))
                    .reshape([batch, src_len])
            }
            _ => keys
                .matmul(query.unsqueeze_dim::<3>(2))
                .reshape([batch, src_len]),
        }
    }

    /// Scores `query: [batch, d_query]` against `keys` and averages `values: [batch, src_len,
    /// d_value]` with the weights, exactly 0 where `src_pad` is `true`.
    pub fn attend(
        &self,
        keys: Tensor<3>,
        values: Tensor<3>,
        src_pad: Tensor<2, Bool>,
        query: Tensor<2>,
    ) -> Attended {
        let weights = masked_softmax(self.scores(keys, query), src_pad);
        Attended {
            context: context(weights.clone(), values),
            weights,
        }
    }
}

/// What [`Attention::attend`] returns.
#[derive(Debug, Clone)]
pub struct Attended {
    /// The context vector `[batch, d_value]`: the weighted sum of the values.
    pub context: Tensor<2>,
    /// The weights `[batch, src_len]`, exactly 0 at padded source positions.
    pub weights: Tensor<2>,
}

/// Softmax over the last dimension of `scores: [batch, src_len]` with the positions where
/// `mask` is `true` given weight exactly 0.
pub fn masked_softmax(scores: Tensor<2>, mask: Tensor<2, Bool>) -> Tensor<2> {
    softmax(scores.mask_fill(mask, MASKED_SCORE), 1)
}

/// Weighted sum `[batch, d_value]` of `values: [batch, src_len, d_value]` with
/// `weights: [batch, src_len]`.
pub fn context(weights: Tensor<2>, values: Tensor<3>) -> Tensor<2> {
    let [batch, _, d_value] = values.dims();
    weights
        .unsqueeze_dim::<3>(1)
        .matmul(values)
        .reshape([batch, d_value])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use honyaku_core::search::to_host_rows;

    #[test]
    fn kinds_parse_print_and_serialise_by_name() {
        for kind in AttentionKind::ALL {
            let name = kind.to_string();
            assert_eq!(name.parse::<AttentionKind>(), Ok(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
            let back: AttentionKind = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(back, kind);
        }
        let names: Vec<_> = AttentionKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["bahdanau", "luong-dot", "luong-general"]);
        assert!("luong".parse::<AttentionKind>().is_err());
    }

    #[test]
    fn masked_weights_are_a_distribution_and_exactly_zero_on_padding() {
        let device = Device::flex();
        // Large scores at padded positions must not leak through the mask.
        let scores = Tensor::<2>::random([3, 5], Distribution::Normal(0.0, 30.0), &device);
        let mask = Tensor::<2, Bool>::from_data(
            [
                [false, false, false, false, false],
                [false, false, false, true, true],
                [false, true, true, true, true],
            ],
            &device,
        );
        let rows = to_host_rows(masked_softmax(scores, mask));
        let lens = [5, 3, 1];
        for (row, len) in rows.iter().zip(lens) {
            let sum: f32 = row[..len].iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "{row:?}");
            assert!(row[len..].iter().all(|&w| w == 0.0), "{row:?}");
        }
        assert_eq!(rows[2][0], 1.0);
    }

    #[test]
    fn every_kind_scores_to_the_right_shape() {
        let device = Device::flex();
        let values = Tensor::<3>::random([2, 4, 6], Distribution::Normal(0.0, 1.0), &device);
        let query = Tensor::<2>::random([2, 6], Distribution::Normal(0.0, 1.0), &device);
        let pad = Tensor::<2, Bool>::from_data(
            [[false, false, false, false], [false, false, true, true]],
            &device,
        );
        for kind in AttentionKind::ALL {
            let attention = AttentionConfig::new(kind, 6, 6, 5).init(&device);
            let keys = attention.keys(values.clone());
            let attended = attention.attend(keys, values.clone(), pad.clone(), query.clone());
            assert_eq!(attended.context.dims(), [2, 6], "{kind}");
            assert_eq!(attended.weights.dims(), [2, 4], "{kind}");
        }
    }

    #[test]
    fn dot_needs_matching_sizes() {
        assert!(
            AttentionConfig::new(AttentionKind::LuongDot, 8, 6, 5)
                .validate()
                .is_err()
        );
        assert!(
            AttentionConfig::new(AttentionKind::LuongGeneral, 8, 6, 5)
                .validate()
                .is_ok()
        );
    }
}
