//! Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2) with an explicit,
//! reorderable key/value cache.
//!
//! Burn's own `MultiHeadAttention` keeps its autoregressive cache private, so beam search could
//! not reorder it. Here the projected keys and values are plain values ([`KvCache`]) that the
//! caller owns: self-attention appends one step's keys and values to them, cross-attention
//! projects the encoder states once ([`CrossAttention::project_memory`]), and
//! [`KvCache::select`] repeats and reorders batch rows for beam search.
//!
//! The attention core (scores, masked softmax, dropout, weighted values) runs as one fused
//! operation on burn-flex ([`honyaku_core::fused_attention`]), reading the queries, keys and
//! values in place from the projections' outputs, and as tensor operations elsewhere.

use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear};
use burn::prelude::*;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::fused_attention::{
    self, AttentionDropout, AttentionInputs, AttentionSpec, Memory, attention_ops,
};
use honyaku_core::linear::LinearRows;

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

/// Positions a [`KvCache`] grows to when its first step's buffer is full.
const MIN_CAPACITY: usize = 16;

/// The self-attention keys and values of the positions decoded so far, in a buffer
/// `[batch, 2 · heads, capacity, d_head]` whose first `len` positions are filled: the keys of
/// head `h` in block `h`, its values in block `heads + h`, so that each step reads every
/// head's keys as one dense block. A step writes its keys and values into the spare capacity
/// (in place when the buffer is not shared), and a full buffer doubles, so decoding `n` tokens
/// copies `O(n)` positions rather than the whole cache at every step.
#[derive(Debug, Clone)]
pub struct KvCache {
    /// Keys, then values, head after head; positions `len ..` are spare.
    pub kv: Tensor<4>,
    /// Filled positions.
    pub len: usize,
}

impl KvCache {
    /// The keys and values of `qkv: [batch, t, 3 · d_model]` (a fused query/key/value
    /// projection), as a view.
    fn from_qkv(qkv: Tensor<3>, n_heads: usize) -> Self {
        let [batch, t, width] = qkv.dims();
        let blocks = qkv.reshape([batch, t, 3 * n_heads, width / (3 * n_heads)]);
        Self {
            kv: blocks.swap_dims(1, 2).narrow(1, n_heads, 2 * n_heads),
            len: t,
        }
    }

    /// Number of cached positions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no position is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The filled positions `[batch, 2 · heads, len, d_head]` (a view).
    pub fn filled(&self) -> Tensor<4> {
        self.kv.clone().narrow(2, 0, self.len)
    }

    /// Keeps (and repeats) the batch rows `rows: [new_batch]`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            kv: self.kv.clone().select(0, rows),
            len: self.len,
        }
    }

    /// The cache with `other`'s positions appended (along the length axis).
    pub fn append(self, other: KvCache) -> Self {
        let (len, added) = (self.len, other.len);
        let [batch, blocks, capacity, d_head] = self.kv.dims();
        let kv = if len + added <= capacity {
            self.kv
        } else {
            let grown = (2 * capacity).max(len + added).max(MIN_CAPACITY);
            let shape = [batch, blocks, grown, d_head];
            let filled = self.filled();
            Tensor::zeros(shape, &filled.device()).slice_assign(s![.., .., 0..len, ..], filled)
        };
        Self {
            kv: kv.slice_assign(s![.., .., len..len + added, ..], other.filled()),
            len: len + added,
        }
    }
}

/// The cross-attention keys and values of the source, computed once per source batch.
#[derive(Debug, Clone)]
pub struct ProjectedSource {
    /// As the kernel or the tensor operations read them.
    pub memory: SourceMemory,
}

/// The layout of a [`ProjectedSource`].
#[derive(Debug, Clone)]
pub enum SourceMemory {
    /// `[batch, src_len, 2 · d_model]`, keys then values as projected: what the fused
    /// operation reads in place (burn-flex).
    Rows(Tensor<3>),
    /// `[batch, 2 · heads, src_len, d_head]`, keys then values head after head, stored once:
    /// what the tensor operations of the other backends read at every step without a copy.
    Heads(Tensor<4>),
}

impl ProjectedSource {
    /// Number of source positions.
    pub fn len(&self) -> usize {
        match &self.memory {
            SourceMemory::Rows(kv) => kv.dims()[1],
            SourceMemory::Heads(kv) => kv.dims()[2],
        }
    }

    /// Whether the source is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps (and repeats) the batch rows `rows: [new_batch]`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        let memory = match &self.memory {
            SourceMemory::Rows(kv) => SourceMemory::Rows(kv.clone().select(0, rows)),
            SourceMemory::Heads(kv) => SourceMemory::Heads(kv.clone().select(0, rows)),
        };
        Self { memory }
    }

    fn attention_memory(&self) -> Memory {
        match &self.memory {
            SourceMemory::Rows(kv) => Memory::Rows(kv.clone()),
            SourceMemory::Heads(kv) => Memory::Heads {
                kv: kv.clone(),
                len: kv.dims()[2],
            },
        }
    }
}

/// Which keys each query may see.
#[derive(Debug, Clone, Default)]
pub struct KeyMask {
    /// `[batch, keys]`, `true` at padding.
    pub pad: Option<Tensor<2, Bool>>,
    /// Query `i` of `t` sees only the keys `j ≤ i + keys − t` (a target attending to itself).
    pub causal: bool,
}

/// Where a layer's heads are read from: the columns of the queries, keys and values.
struct Columns {
    d_model: usize,
    n_heads: usize,
    query: usize,
    key: usize,
    value: usize,
}

/// Scaled dot-product attention of `inputs` (the heads at `columns`). Returns the context
/// `[batch, t, d_model]` (heads merged) and, when `want_weights`, the weights
/// `[batch, heads, t, keys]` before dropout.
fn attend(
    inputs: AttentionInputs,
    columns: Columns,
    causal: bool,
    dropout: &Dropout,
    want_weights: bool,
) -> (Tensor<3>, Option<Tensor<4>>) {
    let d_head = columns.d_model / columns.n_heads;
    let mut spec = AttentionSpec {
        heads: columns.n_heads,
        d_head,
        q_offset: columns.query,
        k_offset: columns.key,
        v_offset: columns.value,
        causal,
        scale: (d_head as f32).powf(-0.5),
        dropout: None,
    };
    let device = inputs.query.device();
    if !fused_attention::supported(&device) {
        let (context, weights) = attention_ops(inputs, &spec, |w| dropout.apply(w));
        return (context, want_weights.then_some(weights));
    }
    spec.dropout = dropout
        .host_seed(&device)
        .map(|(keep, seed)| AttentionDropout {
            keep: keep as f32,
            seed,
        });
    if want_weights {
        let (context, weights) = fused_attention::attention_with_weights(inputs, spec);
        return (context, Some(weights));
    }
    (fused_attention::attention_context(inputs, spec), None)
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
    /// own, hiding the keys `mask` hides (the causal mask of a whole target, the padding of a
    /// source; nothing for a single decoding step, which may see every earlier position).
    ///
    /// Returns the output `[batch, t, d_model]` and, when decoding (`past` given, or a single
    /// position), the cache extended with `x`'s keys and values.
    pub fn forward(
        &self,
        x: Tensor<3>,
        past: Option<KvCache>,
        mask: KeyMask,
    ) -> (Tensor<3>, Option<KvCache>) {
        let qkv = self.qkv.forward_rows(x);
        let [_, t, width] = qkv.dims();
        let d_model = width / 3;
        let decoding = past.is_some() || t == 1;
        let cache = decoding.then(|| {
            let new = KvCache::from_qkv(qkv.clone(), self.n_heads);
            match past {
                Some(past) => past.append(new),
                None => new,
            }
        });
        let columns = Columns {
            d_model,
            n_heads: self.n_heads,
            query: 0,
            key: d_model,
            value: 2 * d_model,
        };
        // The keys and values are read in place from the fused projection, or from the cache.
        let memory = match &cache {
            Some(cache) if cache.len() > t => Memory::Heads {
                kv: cache.kv.clone(),
                len: cache.len(),
            },
            _ => Memory::InQuery,
        };
        let inputs = AttentionInputs {
            query: qkv,
            memory,
            key_pad: mask.pad,
        };
        let (context, _) = attend(inputs, columns, mask.causal, &self.dropout, false);
        (self.output.forward_rows(context), cache)
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
    pub fn project_memory(&self, memory: Tensor<3>) -> ProjectedSource {
        let kv = self.key_value.forward_rows(memory);
        if fused_attention::supported(&kv.device()) {
            return ProjectedSource {
                memory: SourceMemory::Rows(kv),
            };
        }
        let [batch, len, width] = kv.dims();
        let d_model = width / 2;
        let heads = |offset| {
            let part = kv.clone().narrow(2, offset, d_model);
            part.reshape([batch, len, self.n_heads, d_model / self.n_heads])
                .swap_dims(1, 2)
        };
        ProjectedSource {
            memory: SourceMemory::Heads(Tensor::cat(vec![heads(0), heads(d_model)], 1)),
        }
    }

    /// Attends from `x: [batch, t, d_model]` over the projected source `memory`, hiding the
    /// padded source positions `src_pad: [batch, src_len]`. Returns the output
    /// `[batch, t, d_model]` and, when `want_weights`, the weights `[batch, heads, t, src_len]`
    /// (before dropout).
    pub fn forward(
        &self,
        x: Tensor<3>,
        memory: &ProjectedSource,
        src_pad: Option<Tensor<2, Bool>>,
        want_weights: bool,
    ) -> (Tensor<3>, Option<Tensor<4>>) {
        let query = self.query.forward_rows(x);
        let d_model = query.dims()[2];
        let inputs = AttentionInputs {
            query,
            memory: memory.attention_memory(),
            key_pad: src_pad,
        };
        let columns = Columns {
            d_model,
            n_heads: self.n_heads,
            query: 0,
            key: 0,
            value: d_model,
        };
        let (context, weights) = attend(inputs, columns, false, &self.dropout, want_weights);
        (self.output.forward_rows(context), weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use honyaku_conformance::max_abs_diff;
    use honyaku_core::search::to_host_floats;

    fn device() -> Device {
        Device::flex()
    }

    fn random(shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    fn causal() -> KeyMask {
        KeyMask {
            pad: None,
            causal: true,
        }
    }

    #[test]
    fn cached_steps_equal_one_causal_pass() {
        let device = device();
        let attn = AttentionConfig::new(16, 4).init_self(&device);
        let x = random([2, 5, 16], &device);
        let (full, cache) = attn.forward(x.clone(), None, causal());
        assert!(cache.is_none(), "a teacher-forced pass keeps no cache");

        let mut past: Option<KvCache> = None;
        let mut outs = Vec::new();
        for t in 0..5 {
            let step = x.clone().slice(s![.., t..t + 1, ..]);
            let (out, next) = attn.forward(step, past, KeyMask::default());
            let next = next.expect("a decoding step keeps its cache");
            assert_eq!(next.filled().dims(), [2, 8, t + 1, 4]);
            outs.push(out);
            past = Some(next);
        }
        let diff = max_abs_diff(full, Tensor::cat(outs, 1));
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn appending_grows_the_buffer_and_never_changes_a_shared_cache() {
        let device = device();
        let normal = Distribution::Normal(0.0, 1.0);
        let steps: Vec<Tensor<4>> = (0..40)
            .map(|_| Tensor::random([2, 4, 1, 3], normal, &device))
            .collect();
        let mut cache: Option<KvCache> = None;
        let mut kept = Vec::new();
        for (t, kv) in steps.iter().enumerate() {
            let new = KvCache {
                kv: kv.clone(),
                len: 1,
            };
            let next = match cache {
                Some(cache) => cache.append(new),
                None => new,
            };
            let capacity = next.kv.dims()[2];
            assert_eq!(next.len(), t + 1);
            assert!(
                capacity > t && capacity <= (2 * t).max(MIN_CAPACITY),
                "{capacity}"
            );
            // A clone shares the buffer; later appends to the original must not show in it.
            if t % 7 == 0 {
                kept.push((t + 1, next.clone()));
            }
            cache = Some(next);
        }
        let all = Tensor::cat(steps, 2);
        assert_eq!(
            to_host_floats(cache.unwrap().filled()),
            to_host_floats(all.clone())
        );
        for (len, clone) in kept {
            let want = all.clone().narrow(2, 0, len);
            assert_eq!(
                to_host_floats(clone.filled()),
                to_host_floats(want),
                "{len}"
            );
        }
    }

    #[test]
    fn padded_keys_are_ignored_exactly() {
        let device = device();
        let attn = AttentionConfig::new(8, 2).init_cross(&device);
        let x = random([1, 3, 8], &device);
        let memory = random([1, 4, 8], &device);
        // The last source position is padding: changing it must not change anything.
        let other = memory.clone().slice_fill(s![.., 3..4, ..], 7.0);
        let pad = Tensor::<2, Bool>::from_data([[false, false, false, true]], &device);
        let cross = |m| attn.forward(x.clone(), &attn.project_memory(m), Some(pad.clone()), true);
        let ((a, wa), (b, _)) = (cross(memory), cross(other));
        assert_eq!(max_abs_diff(a, b), 0.0);
        let wa = wa.expect("weights were asked for");
        assert_eq!(wa.dims(), [1, 2, 3, 4]);
        let padded: f32 = wa.slice(s![.., .., .., 3..4]).abs().max().into_scalar();
        assert_eq!(padded, 0.0);
    }

    /// The tensor operations (ndarray) and the fused operation (flex) compute the same
    /// attention, cached or not, with padding and the causal mask.
    #[test]
    fn tensor_operations_equal_the_fused_operation() {
        let flex = device();
        #[allow(deprecated)] // ndarray is deprecated upstream but still selectable
        let ndarray = Device::ndarray();
        let own = AttentionConfig::new(16, 4).init_self(&flex);
        let cross = AttentionConfig::new(16, 4).init_cross(&flex);
        let x = random([2, 5, 16], &flex);
        let src = random([2, 6, 16], &flex);
        let pad = Tensor::<2, Bool>::from_data(
            [[false; 6], [false, false, false, false, true, true]],
            &flex,
        );
        let run = |device: &Device| {
            let own = own.clone().to_device(device);
            let cross = cross.clone().to_device(device);
            let x = x.clone().to_device(device);
            let pad = pad.clone().to_device(device);
            let (full, _) = own.forward(x.clone(), None, causal());
            let mut cache = None;
            for t in 0..4 {
                let step = x.clone().slice(s![.., t..t + 1, ..]);
                cache = own.forward(step, cache, KeyMask::default()).1;
            }
            let step = x.slice(s![.., 4..5, ..]);
            let (next, _) = own.forward(step.clone(), cache, KeyMask::default());
            let memory = cross.project_memory(src.clone().to_device(device));
            let (c, w) = cross.forward(step, &memory, Some(pad.clone()), true);
            let encoder = KeyMask {
                pad: Some(pad),
                causal: false,
            };
            let (e, _) = own.forward(src.clone().to_device(device), None, encoder);
            [full, next, c, e, w.unwrap().reshape([2, 4, 6])].map(to_host_floats)
        };
        for (got, want) in run(&flex).iter().zip(run(&ndarray)) {
            let diff = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(diff < 1e-5, "{diff}");
        }
    }

    #[test]
    fn select_repeats_and_reorders_rows() {
        let device = device();
        let kv = Tensor::<4>::from_data([[[[1.0, 1.5]]], [[[2.0, 2.5]]]], &device);
        let cache = KvCache { kv, len: 1 };
        let rows = Tensor::<1, Int>::from_data([1, 0, 0], &device);
        let picked = to_host_floats(cache.select(rows.clone()).kv);
        assert_eq!(picked, vec![2.0, 2.5, 1.0, 1.5, 1.0, 1.5]);
        let kv = Tensor::<3>::from_data([[[1.0, 1.5]], [[2.0, 2.5]]], &device);
        let source = ProjectedSource {
            memory: SourceMemory::Rows(kv),
        };
        let SourceMemory::Rows(kv) = source.select(rows).memory else {
            panic!("the layout changed");
        };
        assert_eq!(to_host_floats(kv), picked);
    }
}
