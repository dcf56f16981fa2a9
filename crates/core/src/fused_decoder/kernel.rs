//! The host kernel of the fused attentional decoder's forward pass, on `f32` slices.
//!
//! Layouts (row-major, every per-position array `[batch, len, ·]` so that the weight gradients
//! of [`super::backward`] are one gemm over all `batch · len` rows):
//!
//! - inputs: `xw [batch, len, 4h]`, `w_feed` and `whh [h, 4h]`, `h0` and `c0 [batch, h]`,
//!   `keys [batch, src_len, a]`, `values [batch, src_len, v]`, `pad [batch, src_len]` (1 at
//!   padded positions), `w_query [h, a]`, `b_query` and `score [a]`, `w_combine [v + h, h]`,
//!   `drop [batch, len, h]` (the scaled dropout mask of the attentional vector);
//! - output: the attentional vectors `[batch, len, h]` (after dropout);
//! - [`Tape`]: what the backward pass reads.
//!
//! One step is one gemm into the gates (`[feed | h] · [w_feed; whh]`), the LSTM cell of
//! [`crate::fused_lstm::kernel`] per row, a gemm for the query, the additive score of
//! [`crate::additive_score::kernel`], the masked softmax and the context per row, a gemm for
//! `[context; h] · w_combine` and `tanh` per row. The row passes run on the thread pool when
//! the rows are large enough.

use rayon::prelude::*;

use crate::additive_score::kernel::row_forward;
use crate::fused_lstm::kernel::{Cell, Row, TAPE_WIDTH, cell_forward};
use crate::host_gemm::{Mat, gemm_f32};
use crate::vmath;

/// Score of padded source positions before the softmax, as in the attention model's
/// `masked_softmax`: finite, so that a fully padded row gives uniform weights.
const MASKED_SCORE: f32 = -1.0e9;

/// Rows go to the thread pool in chunks of at least this many values of work.
const PARALLEL_VALUES: usize = 16 * 1024;

/// The sizes of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Sentences.
    pub batch: usize,
    /// Target positions.
    pub len: usize,
    /// Source positions.
    pub src_len: usize,
    /// Decoder hidden size `h` (also the attentional vector's).
    pub hidden: usize,
    /// Size `v` of the values attended over.
    pub d_value: usize,
    /// Size `a` of the additive score's hidden layer.
    pub d_attention: usize,
}

impl Dims {
    /// `[context; h]`: `v + h`.
    pub fn d_combined(&self) -> usize {
        self.d_value + self.hidden
    }

    /// Rows per parallel task of a pass doing `per_row` values of work per row.
    pub(crate) fn rows_per_task(&self, per_row: usize) -> usize {
        PARALLEL_VALUES.div_ceil(per_row.max(1)).max(1)
    }

    /// Rows per task of the attention passes.
    pub(crate) fn attention_rows(&self) -> usize {
        self.rows_per_task(self.src_len * (self.d_attention + self.d_value))
    }
}

/// The inputs of the forward pass (layouts in the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The embedding part of the gates, bias included, `[batch, len, 4h]`.
    pub xw: &'a [f32],
    /// The input feed's part of the input projection, `[h, 4h]`.
    pub w_feed: &'a [f32],
    /// Hidden-to-gates weight `[h, 4h]`.
    pub whh: &'a [f32],
    /// Initial hidden state `[batch, h]`.
    pub h0: &'a [f32],
    /// Initial cell state `[batch, h]`.
    pub c0: &'a [f32],
    /// Projected keys `[batch, src_len, a]`.
    pub keys: &'a [f32],
    /// Values attended over `[batch, src_len, v]`.
    pub values: &'a [f32],
    /// `[batch, src_len]`, 1 at padded source positions; `None`: no padding.
    pub pad: Option<&'a [f32]>,
    /// Query projection `[h, a]`.
    pub w_query: &'a [f32],
    /// Its bias `[a]`.
    pub b_query: &'a [f32],
    /// The score vector `[a]`.
    pub score: &'a [f32],
    /// `W_c`, `[v + h, h]`.
    pub w_combine: &'a [f32],
    /// The scaled dropout mask of the attentional vectors `[batch, len, h]`; `None`: none.
    pub drop: Option<&'a [f32]>,
}

/// What the forward pass keeps for the backward pass, each `[batch, len, ·]`.
#[derive(Debug, Clone)]
pub struct Tape {
    /// The LSTM cell's tape (`7h`, see [`crate::fused_lstm::kernel`]).
    pub cell: Vec<f32>,
    /// The input feed each step read (`h`): the previous attentional vector.
    pub feed: Vec<f32>,
    /// `[context; h_t]` (`v + h`).
    pub combined: Vec<f32>,
    /// The attention weights (`src_len`).
    pub weights: Vec<f32>,
    /// The query `h_t · w_query + b_query` (`a`).
    pub query: Vec<f32>,
    /// `tanh([context; h_t] · w_combine)` before dropout (`h`).
    pub attentional: Vec<f32>,
}

impl Tape {
    fn zeros(dims: Dims, with_cell: bool) -> Self {
        let rows = dims.batch * dims.len;
        let cell = if with_cell {
            TAPE_WIDTH * dims.hidden
        } else {
            0
        };
        Tape {
            cell: vec![0.0; rows * cell],
            feed: vec![0.0; rows * dims.hidden],
            combined: vec![0.0; rows * dims.d_combined()],
            weights: vec![0.0; rows * dims.src_len],
            query: vec![0.0; rows * dims.d_attention],
            attentional: vec![0.0; rows * dims.hidden],
        }
    }
}

/// The forward pass: the attentional vectors `[batch, len, h]`, and the [`Tape`] (with the
/// cell's part only when `with_cell_tape`, which the backward pass needs and inference not).
pub fn forward(dims: Dims, inputs: Inputs<'_>, with_cell_tape: bool) -> (Vec<f32>, Tape) {
    check(dims, &inputs);
    let Dims {
        batch, len, hidden, ..
    } = dims;
    let mut tape = Tape::zeros(dims, with_cell_tape);
    let mut out = vec![0.0f32; batch * len * hidden];
    // Each row's `[feed | h]`: the input feed and the hidden state the next step reads, side
    // by side so that one gemm with the stacked `[w_feed; whh]` gives the gates.
    let mut feed_h = vec![0.0f32; batch * 2 * hidden];
    for (row, h0) in feed_h.chunks_mut(2 * hidden).zip(inputs.h0.chunks(hidden)) {
        row[hidden..].copy_from_slice(h0);
    }
    let w_stacked = [inputs.w_feed, inputs.whh].concat();
    let mut c = inputs.c0.to_vec();
    let mut gates = vec![0.0f32; batch * 4 * hidden];
    let mut u = vec![0.0f32; batch * hidden];
    for t in 0..len {
        gate_inputs(dims, inputs.xw, t, [&feed_h, &w_stacked], &mut gates);
        let state = [&mut feed_h[..], &mut c[..]];
        cell_step(dims, t, &mut gates, state, &mut tape, with_cell_tape);
        attend_step(dims, &inputs, t, &mut tape);
        let combined = Mat::rows(
            &tape.combined[t * dims.d_combined()..],
            len * dims.d_combined(),
        );
        let w_combine = Mat::rows(inputs.w_combine, hidden);
        gemm_f32(
            [batch, hidden, dims.d_combined()],
            &mut u,
            hidden,
            false,
            combined,
            w_combine,
        );
        output_step(dims, inputs.drop, t, &u, &mut tape, &mut out, &mut feed_h);
        if t + 1 < len {
            for (b, row) in feed_h.chunks(2 * hidden).enumerate() {
                tape.feed[(b * len + t + 1) * hidden..][..hidden].copy_from_slice(&row[..hidden]);
            }
        }
    }
    (out, tape)
}

fn check(dims: Dims, inputs: &Inputs<'_>) {
    let Dims {
        batch,
        len,
        src_len,
        hidden,
        d_value,
        d_attention,
    } = dims;
    assert_eq!(inputs.xw.len(), batch * len * 4 * hidden);
    assert_eq!(inputs.w_feed.len(), hidden * 4 * hidden);
    assert_eq!(inputs.whh.len(), hidden * 4 * hidden);
    assert_eq!(inputs.h0.len(), batch * hidden);
    assert_eq!(inputs.c0.len(), batch * hidden);
    assert_eq!(inputs.keys.len(), batch * src_len * d_attention);
    assert_eq!(inputs.values.len(), batch * src_len * d_value);
    assert!(inputs.pad.is_none_or(|p| p.len() == batch * src_len));
    assert_eq!(inputs.w_query.len(), hidden * d_attention);
    assert_eq!(inputs.b_query.len(), d_attention);
    assert_eq!(inputs.score.len(), d_attention);
    assert_eq!(inputs.w_combine.len(), dims.d_combined() * hidden);
    assert!(inputs.drop.is_none_or(|d| d.len() == batch * len * hidden));
}

/// `gates = xw_t + [feed | h] · [w_feed; whh]`, `[batch, 4h]`: one gemm with `k = 2h`.
fn gate_inputs(
    dims: Dims,
    xw: &[f32],
    t: usize,
    [feed_h, w_stacked]: [&[f32]; 2],
    gates: &mut [f32],
) {
    let Dims {
        batch, len, hidden, ..
    } = dims;
    let h4 = 4 * hidden;
    for (b, row) in gates.chunks_mut(h4).enumerate() {
        row.copy_from_slice(&xw[(b * len + t) * h4..][..h4]);
    }
    let feed_h = Mat::rows(feed_h, 2 * hidden);
    let w_stacked = Mat::rows(w_stacked, h4);
    gemm_f32([batch, h4, 2 * hidden], gates, h4, true, feed_h, w_stacked);
}

/// The LSTM cell on every row: the new `(h, c)` in `[feed_h, c]` (`h` the right half of each
/// `[feed | h]` row), `h` also into the tape's `[context; h]` slot.
fn cell_step(
    dims: Dims,
    t: usize,
    gates: &mut [f32],
    [feed_h, c]: [&mut [f32]; 2],
    tape: &mut Tape,
    with_cell: bool,
) {
    let Dims { len, hidden, .. } = dims;
    let (dc, w) = (dims.d_combined(), TAPE_WIDTH * hidden);
    let cells: Vec<Option<&mut [f32]>> = if with_cell {
        tape.cell
            .chunks_mut(len * w)
            .map(|r| Some(&mut r[t * w..][..w]))
            .collect()
    } else {
        (0..dims.batch).map(|_| None).collect()
    };
    (
        gates.par_chunks_mut(4 * hidden),
        feed_h
            .par_chunks_mut(2 * hidden)
            .map(|row| &mut row[hidden..]),
        c.par_chunks_mut(hidden),
        tape.combined.par_chunks_mut(len * dc),
        cells,
    )
        .into_par_iter()
        .with_min_len(dims.rows_per_task(4 * hidden))
        .for_each_init(Vec::new, |scratch, (g, h, c, combined, cell_tape)| {
            let row = Row {
                cell: Cell { h, c },
                out: &mut combined[t * dc + dims.d_value..][..hidden],
                tape: cell_tape,
            };
            cell_forward(g, row, None, scratch);
        });
}

/// The query (`h_t · w_query + b_query`), the scores, the masked softmax and the context,
/// written to the tape.
fn attend_step(dims: Dims, inputs: &Inputs<'_>, t: usize, tape: &mut Tape) {
    let Dims {
        batch,
        len,
        src_len,
        hidden,
        d_value,
        d_attention,
    } = dims;
    let dc = dims.d_combined();
    let h_t = Mat::rows(&tape.combined[t * dc + d_value..], len * dc);
    let query = &mut tape.query[t * d_attention..];
    let w_query = Mat::rows(inputs.w_query, d_attention);
    gemm_f32(
        [batch, d_attention, hidden],
        query,
        len * d_attention,
        false,
        h_t,
        w_query,
    );
    (
        tape.query.par_chunks_mut(len * d_attention),
        tape.weights.par_chunks_mut(len * src_len),
        tape.combined.par_chunks_mut(len * dc),
    )
        .into_par_iter()
        .with_min_len(dims.attention_rows())
        .enumerate()
        .for_each_init(Vec::new, |scratch, (b, (q, weights, combined))| {
            let q = &mut q[t * d_attention..][..d_attention];
            for (q, bias) in q.iter_mut().zip(inputs.b_query) {
                *q += bias;
            }
            scratch.resize(src_len * d_attention, 0.0);
            let weights = &mut weights[t * src_len..][..src_len];
            let keys = &inputs.keys[b * src_len * d_attention..][..src_len * d_attention];
            row_forward(keys, q, inputs.score, scratch, weights);
            let pad = inputs.pad.map(|p| &p[b * src_len..][..src_len]);
            softmax_in_place(weights, pad);
            let context = &mut combined[t * dc..][..d_value];
            let values = &inputs.values[b * src_len * d_value..][..src_len * d_value];
            context.fill(0.0);
            for (w, value) in weights.iter().zip(values.chunks_exact(d_value)) {
                for (c, x) in context.iter_mut().zip(value) {
                    *c += w * x;
                }
            }
        });
}

/// Softmax of one row of scores in place, padded positions scored [`MASKED_SCORE`] first.
fn softmax_in_place(scores: &mut [f32], pad: Option<&[f32]>) {
    if let Some(pad) = pad {
        for (e, p) in scores.iter_mut().zip(pad) {
            if *p != 0.0 {
                *e = MASKED_SCORE;
            }
        }
    }
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for e in scores.iter_mut() {
        *e -= max;
    }
    vmath::exp_in_place(scores);
    let sum: f32 = scores.iter().sum();
    for e in scores.iter_mut() {
        *e /= sum;
    }
}

/// `tanh(u)` into the tape, times the dropout mask into the output and the next feed (the
/// left half of each `[feed | h]` row).
fn output_step(
    dims: Dims,
    drop: Option<&[f32]>,
    t: usize,
    u: &[f32],
    tape: &mut Tape,
    out: &mut [f32],
    feed_h: &mut [f32],
) {
    let Dims { len, hidden, .. } = dims;
    (
        u.par_chunks(hidden),
        tape.attentional.par_chunks_mut(len * hidden),
        out.par_chunks_mut(len * hidden),
        feed_h
            .par_chunks_mut(2 * hidden)
            .map(|row| &mut row[..hidden]),
    )
        .into_par_iter()
        .with_min_len(dims.rows_per_task(8 * hidden))
        .enumerate()
        .for_each(|(b, (u, a, o, f))| {
            let a = &mut a[t * hidden..][..hidden];
            a.copy_from_slice(u);
            vmath::tanh_in_place(a);
            match drop {
                Some(drop) => {
                    let mask = &drop[(b * len + t) * hidden..][..hidden];
                    for ((f, a), m) in f.iter_mut().zip(a.iter()).zip(mask) {
                        *f = a * m;
                    }
                }
                None => f.copy_from_slice(a),
            }
            o[t * hidden..][..hidden].copy_from_slice(f);
        });
}
