//! Multi-head scaled dot-product attention (the core, after the projections) as one operation
//! on burn-flex, with its own backward pass.
//!
//! ```text
//! S = scale · Q_h K_hᵀ  (masked keys hidden),   P = softmax(S),   context_h = dropout(P) · V_h
//! ```
//!
//! As tensor operations ([`attention_ops`]) this is a head split (a copy), a batched product,
//! a mask fill, a softmax of five passes over `[batch, heads, tq, tk]`, a dropout mask drawn
//! and multiplied, a second product and a head merge (another copy), each with its own
//! allocation and each again in the backward pass. Here each sentence's heads are computed
//! block by block while the block is in cache ([`kernel`]): the queries, keys and values are
//! read in place from the projections' outputs (a fused query/key/value projection needs no
//! split), the context is written with its heads merged, the dropout masks are regenerated
//! in the backward pass from a seed instead of stored, and the only tensor kept for the
//! backward pass is the weights.
//!
//! It is a Burn backend extension ([`backend::FusedAttentionBackend`]) for `Flex` and
//! `Autodiff<Flex>`; [`supported`] says where it runs. Other backends use [`attention_ops`].

mod backend;
pub mod kernel;

use burn::backend::Dispatch;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use backend::{AttentionTensors, Constant, FusedAttentionBackend};
pub use kernel::{AttentionDropout, AttentionSpec, Layout};

/// The score given to masked keys by [`attention_ops`] before the softmax: finite, so that a
/// row whose keys are all masked stays uniform instead of NaN, and small enough that
/// `exp(MASKED - max)` is exactly `0.0` in `f32`. The fused kernel gives the same weights.
pub const MASKED: f32 = -1.0e4;

/// Whether [`attention_context`] and [`attention_with_weights`] run on `device`: burn-flex, with or
/// without autodiff.
pub fn supported(device: &Device) -> bool {
    *device == Device::flex()
}

/// Where the keys and values are.
#[derive(Debug, Clone)]
pub enum Memory {
    /// In the query tensor's rows (a fused query/key/value projection), at columns
    /// `spec.k_offset ..` and `spec.v_offset ..`.
    InQuery,
    /// `[batch, tk, ck]`, keys at columns `spec.k_offset ..`, values at `spec.v_offset ..`.
    Rows(Tensor<3>),
    /// `kv: [batch, 2 · heads, capacity, d_head]`: the keys of head `h` in block `h`, its values
    /// in block `heads + h`, the first `len` (= tk) positions of each block used (a decoding
    /// cache that grows in place: each head's keys dense).
    Heads {
        /// The blocks.
        kv: Tensor<4>,
        /// The positions used, at most `capacity`.
        len: usize,
    },
}

/// What attends to what: `query: [batch, tq, cq]` holds the queries at columns
/// `spec.q_offset ..`; `memory` the keys and values; `key_pad: [batch, tk]`, `true` at masked
/// keys.
#[derive(Debug, Clone)]
pub struct AttentionInputs {
    /// `[batch, tq, cq]`.
    pub query: Tensor<3>,
    /// The keys and values.
    pub memory: Memory,
    /// `[batch, tk]`, `true` at masked keys.
    pub key_pad: Option<Tensor<2, Bool>>,
}

impl AttentionInputs {
    /// The layout the kernel reads `memory` in.
    fn layout(&self) -> Layout {
        match self.memory {
            Memory::InQuery | Memory::Rows(_) => Layout::Rows,
            Memory::Heads { len, .. } => Layout::Heads { len },
        }
    }

    fn tensors(self, spec: &AttentionSpec) -> AttentionTensors<Dispatch> {
        check(spec, &self.query, &self.memory);
        let memory = match self.memory {
            Memory::InQuery => self.query.clone().into_dispatch(),
            Memory::Rows(m) => m.into_dispatch(),
            Memory::Heads { kv, .. } => kv.into_dispatch(),
        };
        AttentionTensors {
            query: self.query.into_dispatch(),
            memory,
            pad: match self.key_pad {
                Some(pad) => Constant::Tensor(pad.float().into_dispatch()),
                None => Constant::Absent,
            },
        }
    }
}

/// Panics unless the spec's columns lie inside the tensors and the batches agree.
fn check(spec: &AttentionSpec, query: &Tensor<3>, memory: &Memory) {
    let [bq, _, cq] = query.dims();
    let d = spec.d_model();
    assert!(spec.heads > 0 && spec.d_head > 0, "empty heads: {spec:?}");
    assert!(
        spec.q_offset + d <= cq,
        "query columns out of range: {spec:?}, {cq}"
    );
    let rows = |bm: usize, cm: usize| {
        assert_eq!(bq, bm, "query and memory batches differ");
        assert!(
            spec.k_offset + d <= cm && spec.v_offset + d <= cm,
            "memory columns out of range"
        );
        assert!(
            spec.k_offset.abs_diff(spec.v_offset) >= d,
            "keys and values overlap"
        );
    };
    match memory {
        Memory::InQuery => rows(bq, cq),
        Memory::Rows(m) => rows(m.dims()[0], m.dims()[2]),
        Memory::Heads { kv, len } => {
            let [bm, blocks, capacity, dh] = kv.dims();
            assert_eq!(bq, bm, "query and memory batches differ");
            assert_eq!([blocks, dh], [2 * spec.heads, spec.d_head], "memory blocks");
            assert!(*len <= capacity, "{len} positions used of {capacity}");
        }
    }
}

/// The context `[batch, tq, heads · d_head]` (heads merged), through autodiff when the inputs
/// are tracked. Only on [`supported`] devices.
///
/// # Panics
///
/// If the spec's columns do not lie inside the tensors.
pub fn attention_context(inputs: AttentionInputs, spec: AttentionSpec) -> Tensor<3> {
    let layout = inputs.layout();
    let tensors = inputs.tensors(&spec);
    Tensor::from_dispatch(<Dispatch as FusedAttentionBackend>::fused_attention(
        tensors, spec, layout,
    ))
}

/// The context `[batch, tq, heads · d_head]` and the weights `[batch, heads, tq, tk]` before
/// dropout, in one pass and not tracked (for decoding, heatmaps and alignments: no gradient
/// flows back). Only on [`supported`] devices.
///
/// # Panics
///
/// As [`attention_context`].
pub fn attention_with_weights(
    inputs: AttentionInputs,
    spec: AttentionSpec,
) -> (Tensor<3>, Tensor<4>) {
    let layout = inputs.layout();
    let tensors = inputs.tensors(&spec);
    let (context, weights) =
        <Dispatch as FusedAttentionBackend>::fused_attention_with_weights(tensors, spec, layout);
    (
        Tensor::from_dispatch(context),
        Tensor::from_dispatch(weights),
    )
}

/// The same attention as tensor operations, on any backend: the context
/// `[batch, tq, heads · d_head]` and the weights `[batch, heads, tq, tk]` before
/// `dropout` (applied to the weights; `spec.dropout` is ignored).
pub fn attention_ops(
    inputs: AttentionInputs,
    spec: &AttentionSpec,
    dropout: impl FnOnce(Tensor<4>) -> Tensor<4>,
) -> (Tensor<3>, Tensor<4>) {
    check(spec, &inputs.query, &inputs.memory);
    let (d, h) = (spec.d_model(), spec.heads);
    let rows = |x: &Tensor<3>, offset: usize| split_heads(x.clone().narrow(2, offset, d), h);
    let q = rows(&inputs.query, spec.q_offset);
    let (k, v) = match &inputs.memory {
        Memory::InQuery => (
            rows(&inputs.query, spec.k_offset),
            rows(&inputs.query, spec.v_offset),
        ),
        Memory::Rows(m) => (rows(m, spec.k_offset), rows(m, spec.v_offset)),
        Memory::Heads { kv, len } => {
            let kv = kv.clone().narrow(2, 0, *len);
            (kv.clone().narrow(1, 0, h), kv.narrow(1, h, h))
        }
    };
    let [batch, tq, _] = inputs.query.dims();
    let tk = k.dims()[2];
    let device = v.device();
    let mut scores = q.mul_scalar(spec.scale).matmul(k.swap_dims(2, 3));
    if let Some(mask) = ops_mask(inputs.key_pad, spec.causal, [batch, tq, tk], &device) {
        scores = scores.mask_fill(mask, MASKED);
    }
    let weights = softmax(scores, 3);
    let context = dropout(weights.clone()).matmul(v);
    (merge_heads(context), weights)
}

/// The mask `[batch or 1, 1, tq or 1, tk]` of [`attention_ops`], `true` = hidden.
fn ops_mask(
    key_pad: Option<Tensor<2, Bool>>,
    causal: bool,
    [batch, tq, tk]: [usize; 3],
    device: &Device,
) -> Option<Tensor<4, Bool>> {
    let pad = key_pad.map(|p| p.reshape([batch, 1, 1, tk]));
    let causal = causal.then(|| {
        // Query `i` sees keys `j ≤ i + tk − tq`.
        let rows = Tensor::<1, Int>::arange(0..tq as i64, device).reshape([tq, 1]);
        let cols = Tensor::<1, Int>::arange(0..tk as i64, device).reshape([1, tk]);
        cols.greater(rows.add_scalar((tk - tq) as i64))
            .reshape([1, 1, tq, tk])
    });
    match (pad, causal) {
        (Some(p), Some(c)) => Some(
            p.expand([batch, 1, tq, tk])
                .bool_or(c.expand([batch, 1, tq, tk])),
        ),
        (p, c) => p.or(c),
    }
}

/// `[batch, len, heads · d_head]` → `[batch, heads, len, d_head]`.
fn split_heads(x: Tensor<3>, n_heads: usize) -> Tensor<4> {
    let [batch, len, d_model] = x.dims();
    x.reshape([batch, len, n_heads, d_model / n_heads])
        .swap_dims(1, 2)
}

/// `[batch, heads, len, d_head]` → `[batch, len, heads · d_head]`.
fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [batch, heads, len, d_head] = x.dims();
    x.swap_dims(1, 2).reshape([batch, len, heads * d_head])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::to_host_floats;
    use burn::tensor::Distribution;

    const B: usize = 3;
    const HEADS: usize = 2;
    const DH: usize = 3;
    const D: usize = HEADS * DH;

    /// One call: shapes, where the heads are, and the masks.
    struct Case {
        name: &'static str,
        tq: usize,
        /// `(tk, ck)` of a [`Memory::Rows`] memory; `None`: keys and values in the query
        /// tensor (self-attention, `tk = tq`).
        memory: Option<(usize, usize)>,
        /// The memory in [`Layout::Heads`] instead (`tk` from `memory`, with spare capacity).
        heads: bool,
        cq: usize,
        q_offset: usize,
        k_offset: usize,
        v_offset: usize,
        causal: bool,
        /// Per sentence, how many trailing keys are padding.
        padded: [usize; B],
    }

    fn cases() -> Vec<Case> {
        let cross = |name, tq, padded| Case {
            name,
            tq,
            memory: Some((5, 2 * D + 2)),
            cq: D + 1,
            q_offset: 1,
            k_offset: D + 2,
            v_offset: 1,
            causal: false,
            padded,
            heads: false,
        };
        let own = |name, tq, causal| Case {
            name,
            tq,
            memory: None,
            cq: 3 * D,
            q_offset: 0,
            k_offset: D,
            v_offset: 2 * D,
            causal,
            padded: [0, 1, 0],
            heads: false,
        };
        vec![
            // Sentence 2's keys are all padding: uniform weights.
            cross("cross, gemm", 6, [0, 2, 5]),
            cross("cross, one query row", 1, [1, 0, 5]),
            own("self, causal", 6, true),
            own("self, not causal", 4, false),
            // Two new queries after three cached positions.
            Case {
                name: "causal after a cache",
                causal: true,
                ..cross("", 2, [0, 0, 1])
            },
            Case {
                name: "a decoding cache, head after head",
                causal: true,
                heads: true,
                ..cross("", 1, [0, 2, 0])
            },
            Case {
                name: "head after head, gemm",
                heads: true,
                ..cross("", 6, [1, 0, 5])
            },
        ]
    }

    fn spec(c: &Case, dropout: Option<AttentionDropout>) -> AttentionSpec {
        AttentionSpec {
            heads: HEADS,
            d_head: DH,
            q_offset: c.q_offset,
            k_offset: c.k_offset,
            v_offset: c.v_offset,
            causal: c.causal,
            scale: (DH as f32).powf(-0.5),
            dropout,
        }
    }

    fn inputs(c: &Case, device: &Device) -> AttentionInputs {
        let normal = Distribution::Normal(0.0, 1.0);
        let ad = device.is_autodiff();
        let tracked = |t: Tensor<3>| if ad { t.require_grad() } else { t };
        let tracked4 = |t: Tensor<4>| if ad { t.require_grad() } else { t };
        let query = tracked(Tensor::random([B, c.tq, c.cq], normal, device));
        let memory = match c.memory {
            None => Memory::InQuery,
            Some((tk, _)) if c.heads => {
                // Two positions of spare capacity, which the attention must not read.
                let shape = [B, 2 * HEADS, tk + 2, DH];
                let kv = tracked4(Tensor::random(shape, normal, device));
                Memory::Heads { kv, len: tk }
            }
            Some((tk, ck)) => Memory::Rows(tracked(Tensor::random([B, tk, ck], normal, device))),
        };
        let tk = c.memory.map_or(c.tq, |(tk, _)| tk);
        let pad: Vec<bool> = (0..B)
            .flat_map(|b| (0..tk).map(move |j| j + c.padded[b] >= tk))
            .collect();
        let key_pad = Some(Tensor::from_data(TensorData::new(pad, [B, tk]), device));
        AttentionInputs {
            query,
            memory,
            key_pad,
        }
    }

    /// The kernel's dropout masks of every block, `[batch, heads, tq, tk]`.
    fn mask_tensor(dropout: AttentionDropout, [tq, tk]: [usize; 2], device: &Device) -> Tensor<4> {
        let mut values = vec![0.0f32; B * HEADS * tq * tk];
        for (block, mask) in values.chunks_exact_mut(tq * tk).enumerate() {
            kernel::dropout_block(dropout, block, mask);
        }
        Tensor::from_data(TensorData::new(values, [B, HEADS, tq, tk]), device)
    }

    fn assert_close<const N: usize>(what: &str, a: Tensor<N>, b: Tensor<N>) {
        let (a, b) = (to_host_floats(a), to_host_floats(b));
        assert_eq!(a.len(), b.len(), "{what}");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5 + 1e-4 * y.abs(), "{what}: {x} vs {y}");
        }
    }

    #[test]
    fn context_and_gradients_equal_the_tensor_operations() {
        let device = Device::flex().autodiff();
        let dropouts = [
            None,
            Some(AttentionDropout {
                keep: 0.7,
                seed: 11,
            }),
        ];
        for c in cases() {
            for dropout in dropouts {
                let what = |x: &str| format!("{}, dropout {dropout:?}: {x}", c.name);
                let spec = spec(&c, dropout);
                let x = inputs(&c, &device);
                let got = attention_context(x.clone(), spec);
                let tk = c.memory.map_or(c.tq, |(tk, _)| tk);
                let drop = |w: Tensor<4>| match dropout {
                    Some(d) => w * mask_tensor(d, [c.tq, tk], &device),
                    None => w,
                };
                let (want, _) = attention_ops(x.clone(), &spec, drop);
                assert_eq!(got.dims(), [B, c.tq, D]);
                assert_close(&what("context"), got.clone(), want.clone());
                let weighting =
                    Tensor::<3>::random([B, c.tq, D], Distribution::Normal(0.0, 1.0), &device);
                let g_got = (got * weighting.clone()).sum().backward();
                let g_want = (want * weighting).sum().backward();
                let grad = |t: &Tensor<3>, name: &str| {
                    assert_close(
                        &what(name),
                        t.grad(&g_got).unwrap(),
                        t.grad(&g_want).unwrap(),
                    )
                };
                grad(&x.query, "query gradient");
                match &x.memory {
                    Memory::InQuery => {}
                    Memory::Rows(m) => grad(m, "memory gradient"),
                    Memory::Heads { kv, .. } => assert_close(
                        &what("memory gradient"),
                        kv.grad(&g_got).unwrap(),
                        kv.grad(&g_want).unwrap(),
                    ),
                }
            }
        }
    }

    #[test]
    fn weights_equal_the_tensor_operations_and_are_not_tracked() {
        for device in [Device::flex(), Device::flex().autodiff()] {
            for c in cases() {
                let spec = spec(&c, None);
                let x = inputs(&c, &device);
                let (context, weights) = attention_with_weights(x.clone(), spec);
                let (want_context, want_weights) = attention_ops(x, &spec, |w| w);
                assert!(!weights.is_require_grad() && !context.is_require_grad());
                assert_eq!(weights.dims()[..3], [B, HEADS, c.tq]);
                assert_close(c.name, weights, want_weights);
                assert_close(c.name, context, want_context);
            }
        }
    }

    #[test]
    fn padded_keys_get_no_weight_and_full_padding_is_uniform() {
        let device = Device::flex();
        let c = &cases()[0];
        let (_, w) = attention_with_weights(inputs(c, &device), spec(c, None));
        let w = to_host_floats(w);
        let (tq, tk) = (c.tq, 5);
        for (block, rows) in w.chunks_exact(tq * tk).enumerate() {
            let padded = c.padded[block / HEADS];
            for row in rows.chunks_exact(tk) {
                let sum: f32 = row.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{sum}");
                if padded < tk {
                    assert!(row[tk - padded..].iter().all(|&v| v == 0.0), "{row:?}");
                } else {
                    assert!(row.iter().all(|&v| (v - 0.2).abs() < 1e-6), "{row:?}");
                }
            }
        }
    }

    #[test]
    fn dropout_masks_keep_the_right_share_and_differ_between_blocks() {
        let dropout = AttentionDropout { keep: 0.9, seed: 5 };
        let mut a = vec![0.0f32; 20_000];
        let mut b = a.clone();
        kernel::dropout_block(dropout, 0, &mut a);
        kernel::dropout_block(dropout, 1, &mut b);
        let kept = a.iter().filter(|&&v| v != 0.0).count() as f64 / a.len() as f64;
        assert!((kept - 0.9).abs() < 0.01, "{kept}");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
        assert_ne!(a, b);
        let mut again = vec![0.0f32; a.len()];
        kernel::dropout_block(dropout, 0, &mut again);
        assert_eq!(a, again);
    }
}
