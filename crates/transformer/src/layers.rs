//! Encoder and decoder layers: attention and feed-forward sublayers, each wrapped in a residual
//! connection with dropout and a layer norm, placed before the sublayer (pre-norm, the default:
//! stable without a long warm-up) or after the residual sum (post-norm, as in Vaswani et al.
//! 2017).

use burn::nn::transformer::{PositionWiseFeedForward, PositionWiseFeedForwardConfig};
use burn::nn::{
    Dropout, DropoutConfig, Initializer, LayerNorm, LayerNormConfig, activation::ActivationConfig,
};
use burn::prelude::*;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::linear::LinearRows;
use serde::{Deserialize, Serialize};

use crate::attention::{
    AttentionConfig, CrossAttention, KeyMask, KvCache, ProjectedSource, SelfAttention,
};

/// Where each sublayer's layer norm sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormPosition {
    /// `x + Dropout(F(LayerNorm(x)))`, with a final layer norm after the last layer.
    #[default]
    Pre,
    /// `LayerNorm(x + Dropout(F(x)))`, as in the original paper.
    Post,
}

/// Configuration of [`EncoderLayer`] and [`DecoderLayer`].
#[derive(Config, Debug)]
pub struct LayerConfig {
    /// Model width.
    pub d_model: usize,
    /// Attention heads.
    pub n_heads: usize,
    /// Hidden width of the feed-forward sublayer.
    pub d_ff: usize,
    /// Dropout on each sublayer's output before the residual sum.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Dropout on the attention weights.
    #[config(default = 0.1)]
    pub attention_dropout: f64,
    /// Dropout on the feed-forward hidden activations (after the ReLU).
    #[config(default = 0.1)]
    pub ff_dropout: f64,
    /// Layer norm placement.
    #[config(default = "NormPosition::Pre")]
    pub norm: NormPosition,
}

impl LayerConfig {
    fn attention(&self) -> AttentionConfig {
        AttentionConfig::new(self.d_model, self.n_heads).with_dropout(self.attention_dropout)
    }

    fn feed_forward(&self, device: &Device) -> PositionWiseFeedForward {
        PositionWiseFeedForwardConfig::new(self.d_model, self.d_ff)
            .with_dropout(self.ff_dropout)
            .with_activation(ActivationConfig::Relu)
            .with_initializer(Initializer::XavierUniform { gain: 1.0 })
            .init(device)
    }

    fn norm(&self, device: &Device) -> LayerNorm {
        LayerNormConfig::new(self.d_model).init(device)
    }

    /// Builds an encoder layer.
    pub fn init_encoder(&self, device: &Device) -> EncoderLayer {
        EncoderLayer {
            self_attn: self.attention().init_self(device),
            feed_forward: self.feed_forward(device),
            norm_attn: self.norm(device),
            norm_ff: self.norm(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            pre_norm: self.norm == NormPosition::Pre,
        }
    }

    /// Builds a decoder layer.
    pub fn init_decoder(&self, device: &Device) -> DecoderLayer {
        DecoderLayer {
            self_attn: self.attention().init_self(device),
            cross_attn: self.attention().init_cross(device),
            feed_forward: self.feed_forward(device),
            norm_self: self.norm(device),
            norm_cross: self.norm(device),
            norm_ff: self.norm(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            pre_norm: self.norm == NormPosition::Pre,
        }
    }
}

/// One residual sublayer: `x + Dropout(f(LayerNorm(x)))` (pre-norm) or
/// `LayerNorm(x + Dropout(f(x)))` (post-norm). `f` may return a by-product (a cache, weights).
fn residual<T>(
    pre_norm: bool,
    norm: &LayerNorm,
    dropout: &Dropout,
    x: Tensor<3>,
    f: impl FnOnce(Tensor<3>) -> (Tensor<3>, T),
) -> (Tensor<3>, T) {
    if pre_norm {
        let (y, extra) = f(norm.forward(x.clone()));
        (x + dropout.apply(y), extra)
    } else {
        let (y, extra) = f(x.clone());
        (norm.forward(x + dropout.apply(y)), extra)
    }
}

/// Encoder layer: self-attention over the source, then a feed-forward network.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    /// Self-attention.
    pub self_attn: SelfAttention,
    /// Position-wise feed-forward network (ReLU).
    pub feed_forward: PositionWiseFeedForward,
    /// Layer norm of the attention sublayer.
    pub norm_attn: LayerNorm,
    /// Layer norm of the feed-forward sublayer.
    pub norm_ff: LayerNorm,
    /// Residual dropout.
    pub dropout: Dropout,
    /// Pre-norm (`true`) or post-norm.
    pub pre_norm: bool,
}

impl EncoderLayer {
    /// `x: [batch, src_len, d_model]`; `pad: [batch, src_len]`, `true` at padding.
    pub fn forward(&self, x: Tensor<3>, pad: Tensor<2, Bool>) -> Tensor<3> {
        let mask = KeyMask {
            pad: Some(pad),
            causal: false,
        };
        let (x, _) = residual(self.pre_norm, &self.norm_attn, &self.dropout, x, |h| {
            self.self_attn.forward(h, None, mask)
        });
        let (x, _) = residual(self.pre_norm, &self.norm_ff, &self.dropout, x, |h| {
            (feed_forward(&self.feed_forward, h), ())
        });
        x
    }
}

/// Decoder layer: masked self-attention, attention over the source, feed-forward network.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    /// Masked self-attention over the target prefix.
    pub self_attn: SelfAttention,
    /// Attention over the encoder states.
    pub cross_attn: CrossAttention,
    /// Position-wise feed-forward network (ReLU).
    pub feed_forward: PositionWiseFeedForward,
    /// Layer norm of the self-attention sublayer.
    pub norm_self: LayerNorm,
    /// Layer norm of the cross-attention sublayer.
    pub norm_cross: LayerNorm,
    /// Layer norm of the feed-forward sublayer.
    pub norm_ff: LayerNorm,
    /// Residual dropout.
    pub dropout: Dropout,
    /// Pre-norm (`true`) or post-norm.
    pub pre_norm: bool,
}

/// What a decoder layer returns.
#[derive(Debug, Clone)]
pub struct DecoderLayerOutput {
    /// The layer's output `[batch, t, d_model]`.
    pub x: Tensor<3>,
    /// When decoding, the self-attention keys and values of every position seen so far (cache
    /// + these `t`).
    pub cache: Option<KvCache>,
    /// Cross-attention weights `[batch, heads, t, src_len]`, when they were asked for.
    pub cross_weights: Option<Tensor<4>>,
}

/// What a decoder layer attends over: the projected source of its cross-attention and the
/// source padding.
#[derive(Debug, Clone, Copy)]
pub struct LayerSource<'a> {
    /// This layer's projected source keys and values.
    pub memory: &'a ProjectedSource,
    /// `[batch, src_len]`, `true` at padding.
    pub src_pad: &'a Tensor<2, Bool>,
}

impl DecoderLayer {
    /// `x: [batch, t, d_model]` are the next `t` target positions, `past` the cached keys and
    /// values of the earlier ones; `causal` hides later positions from earlier ones (a whole
    /// target; a single step may see every earlier position). Returns the cross-attention
    /// weights too when `want_weights`.
    pub fn forward(
        &self,
        x: Tensor<3>,
        past: Option<KvCache>,
        causal: bool,
        source: LayerSource,
        want_weights: bool,
    ) -> DecoderLayerOutput {
        let mask = KeyMask { pad: None, causal };
        let (x, cache) = residual(self.pre_norm, &self.norm_self, &self.dropout, x, |h| {
            self.self_attn.forward(h, past, mask)
        });
        let (x, cross_weights) = residual(self.pre_norm, &self.norm_cross, &self.dropout, x, |h| {
            let pad = Some(source.src_pad.clone());
            self.cross_attn.forward(h, source.memory, pad, want_weights)
        });
        let (x, _) = residual(self.pre_norm, &self.norm_ff, &self.dropout, x, |h| {
            (feed_forward(&self.feed_forward, h), ())
        });
        DecoderLayerOutput {
            x,
            cache,
            cross_weights,
        }
    }
}

/// [`PositionWiseFeedForward::forward`] with the dropout through [`DropoutExt::apply`].
fn feed_forward(ff: &PositionWiseFeedForward, x: Tensor<3>) -> Tensor<3> {
    let hidden = ff.activation.forward(ff.linear_inner.forward_rows(x));
    ff.linear_outer.forward_rows(ff.dropout.apply(hidden))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use honyaku_conformance::max_abs_diff;

    fn config(norm: NormPosition) -> LayerConfig {
        LayerConfig::new(16, 4, 32)
            .with_dropout(0.0)
            .with_attention_dropout(0.0)
            .with_ff_dropout(0.0)
            .with_norm(norm)
    }

    #[test]
    fn decoder_layer_steps_equal_the_causal_pass() {
        let device = Device::flex();
        for norm in [NormPosition::Pre, NormPosition::Post] {
            let layer = config(norm).init_decoder(&device);
            let x = Tensor::<3>::random([2, 4, 16], Distribution::Normal(0.0, 1.0), &device);
            let src = Tensor::<3>::random([2, 3, 16], Distribution::Normal(0.0, 1.0), &device);
            let memory = layer.cross_attn.project_memory(src);
            let src_pad = Tensor::<2, Bool>::from_data(
                [[false, false, true], [false, false, false]],
                &device,
            );
            let source = LayerSource {
                memory: &memory,
                src_pad: &src_pad,
            };
            let full = layer.forward(x.clone(), None, true, source, true);
            assert_eq!(full.cross_weights.unwrap().dims(), [2, 4, 4, 3]);

            let mut past = None;
            let mut outs = Vec::new();
            for t in 0..4 {
                let step = x.clone().slice(s![.., t..t + 1, ..]);
                let out = layer.forward(step, past, false, source, false);
                assert!(out.cross_weights.is_none());
                outs.push(out.x);
                past = out.cache;
            }
            let diff = max_abs_diff(full.x, Tensor::cat(outs, 1));
            assert!(diff < 1e-5, "{norm:?}: {diff}");
        }
    }

    #[test]
    fn encoder_layer_keeps_shape() {
        let device = Device::flex();
        let layer = config(NormPosition::Post).init_encoder(&device);
        let x = Tensor::<3>::random([3, 5, 16], Distribution::Normal(0.0, 1.0), &device);
        let pad = Tensor::<2, Bool>::from_data([[false, false, false, false, true]; 3], &device);
        assert_eq!(layer.forward(x, pad).dims(), [3, 5, 16]);
    }
}
