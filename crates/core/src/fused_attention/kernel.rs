//! The host kernels of the fused attention core: the forward pass (the context, and the
//! weights when the backward pass or the caller needs them) and the backward pass.
//!
//! Layouts (all row-major, contiguous):
//!
//! - `query: [batch, tq, cq]`: head `h`'s queries are the `d_head` columns from
//!   `q_offset + h · d_head` (so `query` may be a fused query/key/value projection);
//! - `memory`, in one of two [`Layout`]s: [`Layout::Rows`], `[batch, tk, ck]` with head `h`'s
//!   keys from column `k_offset + h · d_head` and its values from `v_offset + h · d_head`
//!   (projections as they come, or `query` itself); or [`Layout::Heads`],
//!   `[batch, 2 · heads, capacity, d_head]` with the keys of head `h` in block `h` and its
//!   values in block `heads + h`, the first `tk` positions of each block used (a decoding
//!   cache that grows in place, each head's keys dense);
//! - `pad: [batch, tk]`, non-zero at masked keys;
//! - the context `[batch, tq, heads · d_head]` (the heads merged), the weights
//!   `[batch, heads, tq, tk]`.
//!
//! The work is threaded over the sentences; per sentence and head the two products are gemm
//! calls on strided blocks, and the softmax and dropout run on the `[tq, tk]` block while it
//! is in cache.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::additive_score::kernel::dot;
use crate::host_gemm::{Mat, gemm_f32};
use crate::vmath::exp_in_place;

/// Below this many multiply-adds per product (`batch · heads · tq · tk · d_head`) the forward
/// pass runs on the calling thread, as burn-flex's own batched matmul does below its
/// threshold: waking the thread pool costs more than it saves.
const PARALLEL_WORK: usize = 128 * 128 * 128;

/// Dropout on the attention weights after the softmax.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionDropout {
    /// Probability of keeping a weight (kept weights are scaled by `1 / keep`).
    pub keep: f32,
    /// Seed of the masks; block `(sentence, head)` draws its own from it
    /// ([`dropout_block`]), so the backward pass regenerates them instead of storing them.
    pub seed: u64,
}

/// What a call computes, besides its tensors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionSpec {
    /// Number of heads.
    pub heads: usize,
    /// Features of one head.
    pub d_head: usize,
    /// Column of the first query feature in `query`.
    pub q_offset: usize,
    /// Column of the first key feature in `memory` ([`Layout::Rows`]).
    pub k_offset: usize,
    /// Column of the first value feature in `memory` ([`Layout::Rows`]).
    pub v_offset: usize,
    /// Whether query `i` sees only the keys `j ≤ i + tk − tq` (a target attending to itself,
    /// after `tk − tq` cached positions).
    pub causal: bool,
    /// Factor of the dot products (`1 / √d_head`).
    pub scale: f32,
    /// Dropout on the weights, or `None`.
    pub dropout: Option<AttentionDropout>,
}

/// The layout of the keys and values (module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[batch, tk, ck]`, heads side by side in each row.
    Rows,
    /// `[batch, 2 · heads, capacity, d_head]`, keys then values, head after head, the first
    /// `len` positions of each head's block used (tk = `len`).
    Heads {
        /// The positions used.
        len: usize,
    },
}

impl AttentionSpec {
    /// Width of the context, `heads · d_head`.
    pub fn d_model(&self) -> usize {
        self.heads * self.d_head
    }
}

/// The sizes of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Sentences.
    pub batch: usize,
    /// Query positions.
    pub tq: usize,
    /// Key positions.
    pub tk: usize,
    /// Columns of `query`.
    pub cq: usize,
    /// Where `memory`'s keys and values are.
    pub memory: Strides,
}

/// Element offsets of the keys and values in one sentence's part of `memory`: row `j` of head
/// `h`'s keys starts at `key + h · head + j · row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strides {
    /// Between consecutive positions.
    pub row: usize,
    /// Between consecutive heads.
    pub head: usize,
    /// Of head 0's first key.
    pub key: usize,
    /// Of head 0's first value.
    pub value: usize,
    /// Between consecutive sentences.
    pub sentence: usize,
}

impl Strides {
    /// The strides of a memory of `shape` in `layout`: `[batch, tk, columns]`
    /// ([`Layout::Rows`]) or `[batch, 2 · heads, capacity, d_head]` ([`Layout::Heads`]).
    pub fn new(spec: &AttentionSpec, layout: Layout, shape: &[usize]) -> Self {
        let dh = spec.d_head;
        match layout {
            Layout::Rows => Strides {
                row: shape[2],
                head: dh,
                key: spec.k_offset,
                value: spec.v_offset,
                sentence: shape[1] * shape[2],
            },
            Layout::Heads { .. } => {
                let block = shape[2] * dh;
                Strides {
                    row: dh,
                    head: block,
                    key: 0,
                    value: spec.heads * block,
                    sentence: 2 * spec.heads * block,
                }
            }
        }
    }

    fn key(&self, h: usize) -> usize {
        self.key + h * self.head
    }

    fn value(&self, h: usize) -> usize {
        self.value + h * self.head
    }
}

/// The inputs of one call, in the layouts of the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `[batch, tq, cq]`.
    pub query: &'a [f32],
    /// In the spec's [`Layout`].
    pub memory: &'a [f32],
    /// `[batch, tk]`, non-zero at masked keys; `None`: no padding.
    pub pad: Option<&'a [f32]>,
}

/// One sentence's blocks: its query rows, memory rows and padding.
struct Sentence<'a> {
    index: usize,
    query: &'a [f32],
    memory: &'a [f32],
    pad: Option<&'a [f32]>,
}

impl<'a> Inputs<'a> {
    fn sentence(&self, dims: Dims, b: usize) -> Sentence<'a> {
        Sentence {
            index: b,
            query: &self.query[b * dims.tq * dims.cq..][..dims.tq * dims.cq],
            memory: &self.memory[b * dims.memory.sentence..][..dims.memory.sentence],
            pad: self.pad.map(|p| &p[b * dims.tk..][..dims.tk]),
        }
    }
}

/// The weights `p: [heads, tq, tk]` of one sentence: scaled dot products, masked softmax. A
/// row whose keys are all masked is uniform (as with the finite masked score of the tensor
/// operations); masked keys of other rows get exactly 0.
fn sentence_weights(spec: &AttentionSpec, dims: Dims, s: &Sentence, p: &mut [f32]) {
    let (tq, tk, dh) = (dims.tq, dims.tk, spec.d_head);
    for (h, p) in p.chunks_exact_mut(tq * tk).enumerate() {
        let q = Mat::rows(&s.query[spec.q_offset + h * dh..], dims.cq);
        let k = Mat::transposed(&s.memory[dims.memory.key(h)..], dims.memory.row);
        gemm_f32([tq, tk, dh], p, tk, false, q, k);
        for (i, row) in p.chunks_exact_mut(tk).enumerate() {
            softmax_row(row, spec.scale, visible(spec, dims, i), s.pad);
        }
    }
}

/// How many leading keys query row `i` may see (all but the causally hidden ones).
fn visible(spec: &AttentionSpec, dims: Dims, i: usize) -> usize {
    if spec.causal {
        (i + 1 + dims.tk).saturating_sub(dims.tq).min(dims.tk)
    } else {
        dims.tk
    }
}

/// `softmax(scale · row)` over the first `visible` keys that `pad` does not mask, 0 at the
/// others; uniform when every key is hidden.
fn softmax_row(row: &mut [f32], scale: f32, visible: usize, pad: Option<&[f32]>) {
    for v in row.iter_mut() {
        *v *= scale;
    }
    hide(row, visible, pad, f32::NEG_INFINITY);
    let max = row
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    if max == f32::NEG_INFINITY {
        row.fill(1.0 / row.len() as f32);
        return;
    }
    for v in row.iter_mut() {
        *v -= max;
    }
    exp_in_place(row);
    // `exp` gives a tiny positive value for −∞: hidden keys are set to exactly 0.
    hide(row, visible, pad, 0.0);
    let inv = 1.0 / lane_sum(row);
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// Sets the keys of `row` that its query may not see (from `visible` on, and where `pad` is
/// non-zero) to `value`.
fn hide(row: &mut [f32], visible: usize, pad: Option<&[f32]>, value: f32) {
    row[visible..].fill(value);
    if let Some(pad) = pad {
        for (v, p) in row.iter_mut().zip(pad) {
            *v = if *p != 0.0 { value } else { *v };
        }
    }
}

/// The sum of `values`, added in eight lanes (so that it vectorises) and then across them.
fn lane_sum(values: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = values.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The scaled dropout mask of block `block` (`sentence · heads + head`): `1 / keep` with
/// probability `keep`, else 0, from a generator of its own seeded by `dropout.seed` and the
/// block.
pub fn dropout_block(dropout: AttentionDropout, block: usize, mask: &mut [f32]) {
    let seed = dropout.seed ^ (block as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = SmallRng::seed_from_u64(seed);
    // `u < threshold` with `u` uniform over the 32-bit integers: probability `keep` (to 2⁻³²).
    let threshold = (f64::from(dropout.keep) * 2f64.powi(32)).min(f64::from(u32::MAX)) as u32;
    let scale = 1.0 / dropout.keep;
    let pick = |u: u32| if u < threshold { scale } else { 0.0 };
    for pair in mask.chunks_mut(2) {
        let bits: u64 = rng.random();
        pair[0] = pick(bits as u32);
        if let Some(second) = pair.get_mut(1) {
            *second = pick((bits >> 32) as u32);
        }
    }
}

/// The context `out: [tq, d_model]` of one sentence from its weights `a: [heads, tq, tk]`
/// (after dropout).
fn sentence_context(spec: &AttentionSpec, dims: Dims, s: &Sentence, a: &[f32], out: &mut [f32]) {
    let (tq, tk, dh, d) = (dims.tq, dims.tk, spec.d_head, spec.d_model());
    for (h, a) in a.chunks_exact(tq * tk).enumerate() {
        let v = Mat::rows(&s.memory[dims.memory.value(h)..], dims.memory.row);
        gemm_f32(
            [tq, dh, tk],
            &mut out[h * dh..],
            d,
            false,
            Mat::rows(a, tk),
            v,
        );
    }
}

/// The context `[batch, tq, d_model]` and, when `keep_weights`, the weights
/// `[batch, heads, tq, tk]` before dropout (for the backward pass; empty otherwise).
pub fn forward(
    spec: &AttentionSpec,
    dims: Dims,
    inputs: Inputs,
    keep_weights: bool,
) -> (Vec<f32>, Vec<f32>) {
    let (d, per_sentence) = (spec.d_model(), spec.heads * dims.tq * dims.tk);
    let mut context = vec![0.0f32; dims.batch * dims.tq * d];
    let mut weights = vec![
        0.0f32;
        if keep_weights {
            dims.batch * per_sentence
        } else {
            0
        }
    ];
    let run = |own: &mut Vec<f32>,
               mask: &mut Vec<f32>,
               b: usize,
               out: &mut [f32],
               kept: Option<&mut [f32]>| {
        let s = inputs.sentence(dims, b);
        own.resize(per_sentence, 0.0);
        let p: &mut [f32] = kept.unwrap_or(&mut own[..]);
        sentence_weights(spec, dims, &s, p);
        let a: &[f32] = match spec.dropout {
            Some(dropout) => {
                mask.resize(per_sentence, 0.0);
                let blocks = mask.chunks_exact_mut(dims.tq * dims.tk).enumerate();
                for (h, block) in blocks {
                    dropout_block(dropout, b * spec.heads + h, block);
                }
                for (m, p) in mask.iter_mut().zip(p.iter()) {
                    *m *= p;
                }
                &mask[..]
            }
            None => p,
        };
        sentence_context(spec, dims, &s, a, out);
    };
    let rows = dims.tq * d;
    if dims.batch * per_sentence * spec.d_head < PARALLEL_WORK {
        // A decoding step's few products: on this thread, without waking the pool. (Without
        // `keep_weights`, `weights` is empty and yields no chunks.)
        let (mut own, mut mask) = (Vec::new(), Vec::new());
        let mut kept = weights.chunks_mut(per_sentence.max(1));
        for (b, out) in context.chunks_mut(rows).enumerate() {
            run(&mut own, &mut mask, b, out, kept.next());
        }
        return (context, weights);
    }
    let outs = context.par_chunks_mut(rows).enumerate();
    let init = || (Vec::new(), Vec::new());
    if keep_weights {
        outs.zip(weights.par_chunks_mut(per_sentence.max(1)))
            .for_each_init(init, |(own, mask), ((b, out), w)| {
                run(own, mask, b, out, Some(w))
            });
    } else {
        outs.for_each_init(init, |(own, mask), (b, out)| run(own, mask, b, out, None));
    }
    (context, weights)
}

/// The gradients of one call.
#[derive(Debug, Clone)]
pub struct Grads {
    /// `[batch, tq, cq]` (zero outside the query columns), plus the key and value gradients
    /// when `memory` is `query` (aliased).
    pub dquery: Vec<f32>,
    /// Shaped as `memory` (zero outside the keys and values); empty when aliased.
    pub dmemory: Vec<f32>,
}

/// The per-thread buffers of the backward pass, one `[tq, tk]` block each.
#[derive(Default)]
struct Scratch {
    /// The dropout mask.
    mask: Vec<f32>,
    /// The weights after dropout.
    dropped: Vec<f32>,
    /// The gradient of the weights, then of the scores.
    grad: Vec<f32>,
}

/// The gradients of `query` and `memory` from `dout: [batch, tq, d_model]`, with `weights`
/// from [`forward`]. `aliased`: `memory` is the same tensor as `query` (self-attention from a
/// fused projection); its gradient is then added into `dquery`.
pub fn backward(
    spec: &AttentionSpec,
    dims: Dims,
    inputs: Inputs,
    weights: &[f32],
    dout: &[f32],
    aliased: bool,
) -> Grads {
    let d = spec.d_model();
    let mut dquery = vec![0.0f32; dims.batch * dims.tq * dims.cq];
    let mut dmemory = vec![
        0.0f32;
        if aliased {
            0
        } else {
            dims.batch * dims.memory.sentence
        }
    ];
    let per_memory = if aliased { 1 } else { dims.memory.sentence };
    let run = |scratch: &mut Scratch, b: usize, dq: &mut [f32], mut dm: Option<&mut [f32]>| {
        let s = inputs.sentence(dims, b);
        let w = &weights[b * spec.heads * dims.tq * dims.tk..];
        let dout = &dout[b * dims.tq * d..][..dims.tq * d];
        for h in 0..spec.heads {
            let p = &w[h * dims.tq * dims.tk..][..dims.tq * dims.tk];
            let grads = BlockGrads {
                dq: &mut *dq,
                dm: dm.as_deref_mut(),
            };
            block_backward(
                spec,
                dims,
                &s,
                h,
                p,
                &dout[h * spec.d_head..],
                grads,
                scratch,
            );
        }
    };
    let dqs = dquery.par_chunks_mut(dims.tq * dims.cq).enumerate();
    if aliased {
        dqs.for_each_init(Scratch::default, |scratch, (b, dq)| {
            run(scratch, b, dq, None)
        });
    } else {
        dqs.zip(dmemory.par_chunks_mut(per_memory))
            .for_each_init(Scratch::default, |scratch, ((b, dq), dm)| {
                run(scratch, b, dq, Some(dm))
            });
    }
    Grads { dquery, dmemory }
}

/// Where one sentence's gradients go: its query rows, and its memory rows unless aliased.
struct BlockGrads<'a> {
    dq: &'a mut [f32],
    dm: Option<&'a mut [f32]>,
}

impl BlockGrads<'_> {
    /// The memory's gradient (the query's when aliased: then `query` is `memory`, in
    /// [`Layout::Rows`], and [`Dims::memory`] addresses it too).
    fn memory(&mut self) -> &mut [f32] {
        match self.dm.as_deref_mut() {
            Some(dm) => dm,
            None => &mut *self.dq,
        }
    }
}

/// Head `h`'s part of the backward pass for one sentence; `dout` starts at the head's first
/// column (row stride `d_model`).
#[allow(clippy::too_many_arguments)]
fn block_backward(
    spec: &AttentionSpec,
    dims: Dims,
    s: &Sentence,
    h: usize,
    p: &[f32],
    dout: &[f32],
    mut grads: BlockGrads,
    scratch: &mut Scratch,
) {
    let (tq, tk, dh, d) = (dims.tq, dims.tk, spec.d_head, spec.d_model());
    let Scratch {
        mask,
        dropped,
        grad,
    } = scratch;
    grad.resize(tq * tk, 0.0);
    let a: &[f32] = match spec.dropout {
        Some(dropout) => {
            mask.resize(tq * tk, 0.0);
            dropout_block(dropout, s.index * spec.heads + h, mask);
            dropped.clear();
            dropped.extend(mask.iter().zip(p).map(|(m, p)| m * p));
            &dropped[..]
        }
        None => p,
    };
    let q = &s.query[spec.q_offset + h * dh..];
    let k = &s.memory[dims.memory.key(h)..];
    let v = &s.memory[dims.memory.value(h)..];
    // dA = dO · Vᵀ, dV = Aᵀ · dO.
    gemm_f32(
        [tq, tk, dh],
        grad,
        tk,
        false,
        Mat::rows(dout, d),
        Mat::transposed(v, dims.memory.row),
    );
    let dm_row = dims.memory.row;
    let dv = &mut grads.memory()[dims.memory.value(h)..];
    gemm_f32(
        [tk, dh, tq],
        dv,
        dm_row,
        false,
        Mat::transposed(a, tk),
        Mat::rows(dout, d),
    );
    if spec.dropout.is_some() {
        for (g, m) in grad.iter_mut().zip(mask.iter()) {
            *g *= m;
        }
    }
    // dS = scale · P ⊙ (dP − Σ_j dP ⊙ P), 0 at masked keys.
    for (i, (g, p)) in grad
        .chunks_exact_mut(tk)
        .zip(p.chunks_exact(tk))
        .enumerate()
    {
        let sum = dot(g, p);
        for (g, p) in g.iter_mut().zip(p) {
            *g = spec.scale * p * (*g - sum);
        }
        // Hidden keys get no gradient (their weight is 0 unless the whole row is hidden).
        hide(g, visible(spec, dims, i), s.pad, 0.0);
    }
    // dK = dSᵀ · Q, dQ = dS · K.
    let dk = &mut grads.memory()[dims.memory.key(h)..];
    gemm_f32(
        [tk, dh, tq],
        dk,
        dm_row,
        false,
        Mat::transposed(grad, tk),
        Mat::rows(q, dims.cq),
    );
    let dq = &mut grads.dq[spec.q_offset + h * dh..];
    gemm_f32(
        [tq, dh, tk],
        dq,
        dims.cq,
        false,
        Mat::rows(grad, tk),
        Mat::rows(k, dims.memory.row),
    );
}
