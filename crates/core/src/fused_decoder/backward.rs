//! The host kernel of the fused attentional decoder's backward pass: backpropagation through
//! time from the forward pass's [`Tape`], one gemm per product per step, and every weight
//! gradient as one gemm over all `batch · len` rows at the end.

use rayon::prelude::*;

use super::kernel::{Dims, Inputs, Tape};
use crate::additive_score::kernel::{self as score, dot, row_backward, row_forward};
use crate::fused_lstm::kernel::{RowGrads, TAPE_WIDTH, cell_backward};
use crate::host_gemm::{Mat, gemm_f32, transpose};

/// The gradients of one call, each laid out as its input in [`Inputs`].
#[derive(Debug, Clone)]
pub struct Grads {
    /// Of `xw`: the gate pre-activations' gradient.
    pub dxw: Vec<f32>,
    /// Of `w_feed`.
    pub dw_feed: Vec<f32>,
    /// Of `whh`.
    pub dwhh: Vec<f32>,
    /// Of `h0`.
    pub dh0: Vec<f32>,
    /// Of `c0`.
    pub dc0: Vec<f32>,
    /// Of `keys`.
    pub dkeys: Vec<f32>,
    /// Of `values`.
    pub dvalues: Vec<f32>,
    /// Of `w_query`.
    pub dw_query: Vec<f32>,
    /// Of `b_query`.
    pub db_query: Vec<f32>,
    /// Of `score`.
    pub dscore: Vec<f32>,
    /// Of `w_combine`.
    pub dw_combine: Vec<f32>,
}

/// The per-step gradient buffers, `[batch, len, ·]`, and the running state gradients.
struct Work {
    /// Of the gate pre-activations (`4h`): the gradient of `xw`.
    dgates: Vec<f32>,
    /// Of `[context; h] · w_combine` (`h`).
    du: Vec<f32>,
    /// Of the query (`a`).
    dquery: Vec<f32>,
    /// `[batch, 2h]`, each row `[dfeed | dh]`: of the input feed the next step read and of
    /// `h_t` from the later steps (one gemm with `[w_feed; whh]ᵀ` gives both).
    dfeed_h: Vec<f32>,
    /// Of `c_t` from the later steps (`[batch, h]`).
    dc: Vec<f32>,
    /// Of `[context; h]` at the current step (`[batch, v + h]`).
    dcombined: Vec<f32>,
    dkeys: Vec<f32>,
    dvalues: Vec<f32>,
    /// Each sentence's share of the score vector's gradient (`[batch, a]`).
    dscore_rows: Vec<f32>,
}

/// The transposed weights the per-step products read.
struct Transposed {
    w_combine: Vec<f32>,
    w_query: Vec<f32>,
    /// `[w_feed; whh]ᵀ`, `[4h, 2h]`.
    stacked: Vec<f32>,
}

/// Backpropagation through time: `dout` is the gradient of the output `[batch, len, h]`.
pub fn backward(dims: Dims, inputs: Inputs<'_>, tape: &Tape, dout: &[f32]) -> Grads {
    let Dims {
        batch,
        len,
        src_len,
        hidden,
        d_value,
        d_attention,
    } = dims;
    assert_eq!(dout.len(), batch * len * hidden);
    assert_eq!(tape.cell.len(), batch * len * TAPE_WIDTH * hidden);
    let h4 = 4 * hidden;
    let mut work = Work {
        dgates: vec![0.0; batch * len * h4],
        du: vec![0.0; batch * len * hidden],
        dquery: vec![0.0; batch * len * d_attention],
        dfeed_h: vec![0.0; batch * 2 * hidden],
        dc: vec![0.0; batch * hidden],
        dcombined: vec![0.0; batch * dims.d_combined()],
        dkeys: vec![0.0; batch * src_len * d_attention],
        dvalues: vec![0.0; batch * src_len * d_value],
        dscore_rows: vec![0.0; batch * d_attention],
    };
    let transposed = Transposed {
        w_combine: transpose(inputs.w_combine, dims.d_combined(), hidden),
        w_query: transpose(inputs.w_query, hidden, d_attention),
        stacked: transpose(&[inputs.w_feed, inputs.whh].concat(), 2 * hidden, h4),
    };
    for t in (0..len).rev() {
        output_back(dims, &inputs, tape, dout, t, &mut work);
        let du = Mat::rows(&work.du[t * hidden..], len * hidden);
        let w_combine_t = Mat::rows(&transposed.w_combine, dims.d_combined());
        let shape = [batch, dims.d_combined(), hidden];
        gemm_f32(
            shape,
            &mut work.dcombined,
            dims.d_combined(),
            false,
            du,
            w_combine_t,
        );
        attend_back(dims, &inputs, tape, t, &mut work);
        add_query_share(dims, t, &transposed, &mut work);
        cell_back(dims, tape, t, &transposed, &mut work);
    }
    weight_grads(dims, tape, work)
}

/// `du_t = (dout_t + dfeed) · drop · (1 − a²)`.
fn output_back(
    dims: Dims,
    inputs: &Inputs<'_>,
    tape: &Tape,
    dout: &[f32],
    t: usize,
    work: &mut Work,
) {
    let Dims { len, hidden, .. } = dims;
    (
        work.du.par_chunks_mut(len * hidden),
        work.dfeed_h
            .par_chunks(2 * hidden)
            .map(|row| &row[..hidden]),
    )
        .into_par_iter()
        .with_min_len(dims.rows_per_task(4 * hidden))
        .enumerate()
        .for_each(|(b, (du, dfeed))| {
            let at = (b * len + t) * hidden;
            let du = &mut du[t * hidden..][..hidden];
            let a = &tape.attentional[at..][..hidden];
            let dy = &dout[at..][..hidden];
            for j in 0..hidden {
                let m = inputs.drop.map_or(1.0, |d| d[at + j]);
                du[j] = (dy[j] + dfeed[j]) * m * (1.0 - a[j] * a[j]);
            }
        });
}

/// Through the context, the softmax and the score, per row: the gradients of the values, the
/// keys, the score vector and (into `dquery`) the query.
fn attend_back(dims: Dims, inputs: &Inputs<'_>, tape: &Tape, t: usize, work: &mut Work) {
    let Dims {
        len,
        src_len,
        d_value,
        d_attention,
        ..
    } = dims;
    (
        work.dcombined.par_chunks(dims.d_combined()),
        work.dquery.par_chunks_mut(len * d_attention),
        work.dkeys.par_chunks_mut(src_len * d_attention),
        work.dvalues.par_chunks_mut(src_len * d_value),
        work.dscore_rows.par_chunks_mut(d_attention),
    )
        .into_par_iter()
        .with_min_len(dims.attention_rows())
        .enumerate()
        .for_each_init(Vec::new, |scratch, (b, (dcombined, dq, dk, dv, ds))| {
            let row = b * len + t;
            let weights = &tape.weights[row * src_len..][..src_len];
            let values = &inputs.values[b * src_len * d_value..][..src_len * d_value];
            let dcontext = &dcombined[..d_value];
            scratch.resize(src_len * (d_attention + 2), 0.0);
            let (tanh, rest) = scratch.split_at_mut(src_len * d_attention);
            let (de, scores) = rest.split_at_mut(src_len);
            for (s, (value, dvalue)) in values
                .chunks_exact(d_value)
                .zip(dv.chunks_exact_mut(d_value))
                .enumerate()
            {
                de[s] = dot(dcontext, value);
                for (g, x) in dvalue.iter_mut().zip(dcontext) {
                    *g += weights[s] * x;
                }
            }
            let expected: f32 = weights.iter().zip(de.iter()).map(|(w, g)| w * g).sum();
            for (g, w) in de.iter_mut().zip(weights) {
                *g = w * (*g - expected);
            }
            let keys = &inputs.keys[b * src_len * d_attention..][..src_len * d_attention];
            let query = &tape.query[row * d_attention..][..d_attention];
            row_forward(keys, query, inputs.score, tanh, scores);
            let grads = score::RowGrads {
                dk,
                dq: &mut dq[t * d_attention..][..d_attention],
                dv: ds,
            };
            row_backward(inputs.score, tanh, de, grads);
        });
}

/// `dh_t`'s share from `[context; h]` is `dcombined`'s last `h` columns; adds the query's,
/// `dquery_t · w_queryᵀ`, to them.
fn add_query_share(dims: Dims, t: usize, transposed: &Transposed, work: &mut Work) {
    let Dims {
        batch,
        len,
        hidden,
        d_value,
        d_attention,
        ..
    } = dims;
    let dquery = Mat::rows(&work.dquery[t * d_attention..], len * d_attention);
    let w_query_t = Mat::rows(&transposed.w_query, hidden);
    let dh_part = &mut work.dcombined[d_value..];
    let shape = [batch, hidden, d_attention];
    gemm_f32(shape, dh_part, dims.d_combined(), true, dquery, w_query_t);
}

/// The LSTM cell's backward pass per row, then the recurrent product:
/// `[dfeed | dh] = dgates · [w_feed; whh]ᵀ`.
fn cell_back(dims: Dims, tape: &Tape, t: usize, transposed: &Transposed, work: &mut Work) {
    let Dims {
        batch,
        len,
        hidden,
        d_value,
        ..
    } = dims;
    let (h4, w, dc) = (4 * hidden, TAPE_WIDTH * hidden, dims.d_combined());
    (
        work.dgates.par_chunks_mut(len * h4),
        work.dfeed_h
            .par_chunks_mut(2 * hidden)
            .map(|row| &mut row[hidden..]),
        work.dc.par_chunks_mut(hidden),
        work.dcombined.par_chunks(dc),
    )
        .into_par_iter()
        .with_min_len(dims.rows_per_task(8 * hidden))
        .enumerate()
        .for_each(|(b, (dg, dh, dcell, dcombined))| {
            let cell_tape = &tape.cell[(b * len + t) * w..][..w];
            let grads = RowGrads {
                dgates: &mut dg[t * h4..][..h4],
                dh,
                dc: dcell,
            };
            cell_backward(cell_tape, &dcombined[d_value..], grads, None);
        });
    // Without padding the cell leaves `dh` at zero, so the product is written, not added.
    let dgates = Mat::rows(&work.dgates[t * h4..], len * h4);
    let stacked_t = Mat::rows(&transposed.stacked, 2 * hidden);
    let shape = [batch, 2 * hidden, h4];
    gemm_f32(
        shape,
        &mut work.dfeed_h,
        2 * hidden,
        false,
        dgates,
        stacked_t,
    );
}

/// The weight gradients over all `batch · len` rows, each one gemm.
fn weight_grads(dims: Dims, tape: &Tape, work: Work) -> Grads {
    let Dims {
        batch,
        len,
        hidden,
        d_value,
        d_attention,
        ..
    } = dims;
    let (rows, h4, dc) = (batch * len, 4 * hidden, dims.d_combined());
    let dgates = Mat::rows(&work.dgates, h4);
    let product = |lhs_t: Mat, n: usize, m: usize, rhs: Mat| {
        let mut out = vec![0.0f32; m * n];
        gemm_f32([m, n, rows], &mut out, n, false, lhs_t, rhs);
        out
    };
    let h_prev_t = Mat::transposed(&tape.cell[6 * hidden..], TAPE_WIDTH * hidden);
    let dwhh = product(h_prev_t, h4, hidden, dgates);
    let dw_feed = product(Mat::transposed(&tape.feed, hidden), h4, hidden, dgates);
    let du = Mat::rows(&work.du, hidden);
    let dw_combine = product(Mat::transposed(&tape.combined, dc), hidden, dc, du);
    let h_t = Mat::transposed(&tape.combined[d_value..], dc);
    let dw_query = product(
        h_t,
        d_attention,
        hidden,
        Mat::rows(&work.dquery, d_attention),
    );
    Grads {
        dxw: work.dgates,
        dw_feed,
        dwhh,
        dh0: work
            .dfeed_h
            .chunks(2 * hidden)
            .flat_map(|row| row[hidden..].iter().copied())
            .collect(),
        dc0: work.dc,
        dkeys: work.dkeys,
        dvalues: work.dvalues,
        dw_query,
        db_query: column_sums(&work.dquery, d_attention),
        dscore: column_sums(&work.dscore_rows, d_attention),
        dw_combine,
    }
}

/// The sums of the columns of the row-major `[·, width]` matrix `m`, in row order.
fn column_sums(m: &[f32], width: usize) -> Vec<f32> {
    let mut sums = vec![0.0f32; width];
    for row in m.chunks_exact(width.max(1)) {
        for (s, x) in sums.iter_mut().zip(row) {
            *s += x;
        }
    }
    sums
}
