//! Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2) with an explicit,
//! reorderable key/value cache.
//!
//! Burn's own `MultiHeadAttention` keeps its autoregressive cache private, so beam search could
//! not reorder it. Here the projected keys and values are plain values ([`KvCache`]) that the
//! caller owns: self-attention appends one step's keys and values to them, cross-attention
//! projects the encoder states once ([`CrossAttention::project_memory`]), and
//! [`KvCache::select`] repeats and reorders batch rows for beam search.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::linear::LinearRows;

/// The score given to masked-out positions before the softmax. Finite, so that a row whose
/// keys are all masked stays a uniform distribution instead of NaN, and small enough that
/// `exp(MASKED - max)` is exactly `0.0` in `f32`: masked keys never change a real output.
pub const MASKED: f32 = -1.0e4;

/// Configuration of [`SelfAttention`] and [`CrossAttention`].
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Model width (input and output features).
    pub d_model: usize,
    /// Number of heads; must divide `d_model`.
    pub n_heads: usize,
    /// Dropout on the attention weights (after the softmax).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl AttentionConfig {
    /// Self-attention with one fused query/key/value projection.
    ///
    /// Panics if `n_heads` is zero or does not divide `d_model`.
    pub fn init_self(&self, device: &Device) -> SelfAttention {
        self.check();
        SelfAttention {
            qkv: xavier_linear(self.d_model, 3 * self.d_model, device),
            output: xavier_linear(self.d_model, self.d_model, device),
            dropout: DropoutConfig::new(self.dropout).init(),
            n_heads: self.n_heads,
        }
    }

    /// Cross-attention: a query projection for the decoder side and one fused key/value
    /// projection for the encoder side.
    ///
    /// Panics if `n_heads` is zero or does not divide `d_model`.
    pub fn init_cross(&self, device: &Device) -> CrossAttention {
        self.check();
        CrossAttention {
            query: xavier_linear(self.d_model, self.d_model, device),
            key_value: xavier_linear(self.d_model, 2 * self.d_model, device),
            output: xavier_linear(self.d_model, self.d_model, device),
            dropout: DropoutConfig::new(self.dropout).init(),
            n_heads: self.n_heads,
        }
    }

    fn check(&self) {
        assert!(
            self.n_heads > 0 && self.d_model.is_multiple_of(self.n_heads),
            "n_heads ({}) must divide d_model ({})",
            self.n_heads,
            self.d_model
        );
    }
}

/// A `d_in → d_out` linear layer with a Xavier-uniform weight and a zero bias. The fan-out used
/// for the Xavier bound is `d_in` (one square projection), so a fused projection is initialised
/// like the separate ones it replaces.
fn xavier_linear(d_in: usize, d_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Initializer::XavierUniform { gain: 1.0 }.init_with(
            [d_in, d_out],
            Some(d_in),
            Some(d_in),
            device,
        ),
        bias: Some(Param::from_tensor(Tensor::zeros([d_out], device))),
    }
}

/// Projected keys and values `[batch, heads, len, d_head]` of one attention layer.
#[derive(Debug, Clone)]
pub struct KvCache {
    /// Keys.
    pub key: Tensor<4>,
    /// Values.
    pub value: Tensor<4>,
}

impl KvCache {
    /// Number of cached positions.
    pub fn len(&self) -> usize {
        self.key.dims()[2]
    }

    /// Whether no position is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps (and repeats) the batch rows `rows: [new_batch]`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            key: self.key.clone().select(0, rows.clone()),
            value: self.value.clone().select(0, rows),
        }
    }

    /// The cache with `other`'s positions appended (along the length axis).
    pub fn append(self, other: KvCache) -> Self {
        Self {
            key: Tensor::cat(vec![self.key, other.key], 2),
            value: Tensor::cat(vec![self.value, other.value], 2),
        }
    }
}

/// `[batch, len, heads * d_head]` → `[batch, heads, len, d_head]`.
fn split_heads(x: Tensor<3>, n_heads: usize) -> Tensor<4> {
    let [batch, len, d_model] = x.dims();
    x.reshape([batch, len, n_heads, d_model / n_heads])
        .swap_dims(1, 2)
}

/// `[batch, heads, len, d_head]` → `[batch, len, heads * d_head]`.
fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [batch, heads, len, d_head] = x.dims();
    x.swap_dims(1, 2).reshape([batch, len, heads * d_head])
}

/// Scaled dot-product attention of `query: [batch, heads, q, d_head]` over `keys.len()`
/// positions. `mask` broadcasts to `[batch, heads, q, k]`, `true` = hidden. Returns the context
/// `[batch, heads, q, d_head]` and the attention weights `[batch, heads, q, k]` before dropout.
fn attend(
    query: Tensor<4>,
    keys: &KvCache,
    mask: Option<Tensor<4, Bool>>,
    dropout: &Dropout,
) -> (Tensor<4>, Tensor<4>) {
    let d_head = query.dims()[3];
    let query = query.mul_scalar((d_head as f64).powf(-0.5));
    let mut scores = query.matmul(keys.key.clone().swap_dims(2, 3));
    if let Some(mask) = mask {
        scores = scores.mask_fill(mask, MASKED);
    }
    let weights = softmax(scores, 3);
    let context = dropout.apply(weights.clone()).matmul(keys.value.clone());
    (context, weights)
}

/// Multi-head self-attention whose keys and values can be cached across decoding steps.
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Fused query, key and value projection `d_model → 3 · d_model` (in that order).
    pub qkv: Linear,
    /// Output projection.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Number of heads.
    pub n_heads: usize,
}

impl SelfAttention {
    /// Attends from `x: [batch, t, d_model]` over the cached positions `past` followed by `x`'s
    /// own. `mask` broadcasts to `[batch, heads, t, past + t]` (`true` = hidden): the causal
    /// mask of a full target, the padding mask `[batch, 1, 1, t]` of a source, or `None` for a
    /// single decoding step, which may see every earlier position.
    ///
    /// Returns the output `[batch, t, d_model]` and the cache extended with `x`'s keys and
    /// values.
    pub fn forward(
        &self,
        x: Tensor<3>,
        past: Option<KvCache>,
        mask: Option<Tensor<4, Bool>>,
    ) -> (Tensor<3>, KvCache) {
        let mut qkv = self.qkv.forward_rows(x).chunk(3, 2).into_iter();
        let mut heads = || split_heads(qkv.next().expect("three chunks"), self.n_heads);
        let (query, key, value) = (heads(), heads(), heads());
        let new = KvCache { key, value };
        let cache = match past {
            Some(past) => past.append(new),
            None => new,
        };
        let (context, _) = attend(query, &cache, mask, &self.dropout);
        (self.output.forward_rows(merge_heads(context)), cache)
    }
}

/// Multi-head attention from the decoder over the encoder states.
#[derive(Module, Debug)]
pub struct CrossAttention {
    /// Query projection (decoder side).
    pub query: Linear,
    /// Fused key and value projection `d_model → 2 · d_model` (encoder side).
    pub key_value: Linear,
    /// Output projection.
    pub output: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Number of heads.
    pub n_heads: usize,
}

impl CrossAttention {
    /// Projects the encoder states `[batch, src_len, d_model]` to keys and values once per
    /// source batch.
    pub fn project_memory(&self, memory: Tensor<3>) -> KvCache {
        let mut kv = self.key_value.forward_rows(memory).chunk(2, 2).into_iter();
        let mut heads = || split_heads(kv.next().expect("two chunks"), self.n_heads);
        let (key, value) = (heads(), heads());
        KvCache { key, value }
    }

    /// Attends from `x: [batch, t, d_model]` over the projected source `memory`; `src_mask`
    /// broadcasts to `[batch, heads, t, src_len]` (normally the padding mask
    /// `[batch, 1, 1, src_len]`). Returns the output `[batch, t, d_model]` and the weights
    /// `[batch, heads, t, src_len]` (before dropout).
    pub fn forward(
        &self,
        x: Tensor<3>,
        memory: &KvCache,
        src_mask: Option<Tensor<4, Bool>>,
    ) -> (Tensor<3>, Tensor<4>) {
        let query = split_heads(self.query.forward_rows(x), self.n_heads);
        let (context, weights) = attend(query, memory, src_mask, &self.dropout);
        (self.output.forward_rows(merge_heads(context)), weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use honyaku_conformance::max_abs_diff;
    use honyaku_core::mask::causal_mask;
    use honyaku_core::search::to_host_floats;

    fn device() -> Device {
        Device::flex()
    }

    fn random(shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    #[test]
    fn cached_steps_equal_one_causal_pass() {
        let device = device();
        let attn = AttentionConfig::new(16, 4).init_self(&device);
        let x = random([2, 5, 16], &device);
        let mask = causal_mask(5, &device).reshape([1, 1, 5, 5]);
        let (full, cache) = attn.forward(x.clone(), None, Some(mask));
        assert_eq!(cache.key.dims(), [2, 4, 5, 4]);

        let mut past: Option<KvCache> = None;
        let mut outs = Vec::new();
        for t in 0..5 {
            let (out, next) = attn.forward(x.clone().slice(s![.., t..t + 1, ..]), past, None);
            assert_eq!(next.len(), t + 1);
            outs.push(out);
            past = Some(next);
        }
        let diff = max_abs_diff(full, Tensor::cat(outs, 1));
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn padded_keys_are_ignored_exactly() {
        let device = device();
        let attn = AttentionConfig::new(8, 2).init_cross(&device);
        let x = random([1, 3, 8], &device);
        let memory = random([1, 4, 8], &device);
        // The last source position is padding: changing it must not change anything.
        let other = memory.clone().slice_fill(s![.., 3..4, ..], 7.0);
        let mask = Tensor::<2, Bool>::from_data([[false, false, false, true]], &device)
            .reshape([1, 1, 1, 4]);
        let (a, wa) = attn.forward(x.clone(), &attn.project_memory(memory), Some(mask.clone()));
        let (b, _) = attn.forward(x, &attn.project_memory(other), Some(mask));
        assert_eq!(max_abs_diff(a, b), 0.0);
        assert_eq!(wa.dims(), [1, 2, 3, 4]);
        let padded: f32 = wa.slice(s![.., .., .., 3..4]).abs().max().into_scalar();
        assert_eq!(padded, 0.0);
    }

    #[test]
    fn select_repeats_and_reorders_rows() {
        let device = device();
        let key = Tensor::<4>::from_data([[[[1.0]]], [[[2.0]]]], &device);
        let cache = KvCache {
            key: key.clone(),
            value: key,
        };
        let rows = Tensor::<1, Int>::from_data([1, 0, 0], &device);
        let picked = to_host_floats(cache.select(rows).key);
        assert_eq!(picked, vec![2.0, 1.0, 1.0]);
    }
}
