//! The host kernels of the fused LSTM layer: the recurrence over a whole sequence and its
//! backward pass (backpropagation through time) on `f32` slices.
//!
//! Layouts (row-major): `xw` and its gradient `[batch, len, 4h]` (gate order `i f g o`), `whh`
//! `[h, 4h]` (burn's `Linear` weight, `gates = h · whh`), states `[batch, h]`, `keep`
//! `[batch, len]`. The output is `[batch, len + 1, h]`: the hidden state after each position,
//! then the final cell state. The tape saved for the backward pass is `[batch, len, 7h]`:
//! per position the activated gates `σ(i) σ(f) tanh(g) σ(o)`, `tanh(c)` of the new cell, and
//! the cell and hidden states the step started from.
//!
//! Each step is one gemm (`gates = xw_t + h · whh`, accumulated into the step's gate rows)
//! and one pass over the rows for the cell arithmetic, threaded over the batch rows when they
//! are large enough. The backward pass runs the recurrence backwards with one gemm per step
//! (`dh = dgates · whhᵀ`) and computes the weight gradient as ONE gemm over all steps
//! (`dwhh = Hprevᵀ · dgates`, `k = batch · len`).

use rayon::prelude::*;

use crate::host_gemm::{Mat, gemm_f32, transpose};
use crate::vmath;

/// Tape floats per position and row, in units of `h`.
pub(crate) const TAPE_WIDTH: usize = 7;
/// Rows are handed to the thread pool in chunks of at least this many cells (`rows · h`):
/// below it a step's cell arithmetic (a few microseconds) runs on the calling thread.
const PARALLEL_CELLS: usize = 8 * 1024;

/// The sizes of one fused LSTM call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Rows (sentences).
    pub batch: usize,
    /// Positions.
    pub len: usize,
    /// Hidden size `h`.
    pub hidden: usize,
}

impl Dims {
    /// Floats of the output `[batch, len + 1, h]`.
    pub fn output_len(&self) -> usize {
        self.batch * (self.len + 1) * self.hidden
    }

    /// Floats of the tape `[batch, len, 7h]`.
    pub fn tape_len(&self) -> usize {
        self.batch * self.len * TAPE_WIDTH * self.hidden
    }

    /// The positions in the order the recurrence visits them.
    fn order(&self, reverse: bool) -> Vec<usize> {
        if reverse {
            (0..self.len).rev().collect()
        } else {
            (0..self.len).collect()
        }
    }

    /// Rows per parallel task.
    fn rows_per_task(&self) -> usize {
        PARALLEL_CELLS.div_ceil(self.hidden.max(1)).max(1)
    }
}

/// The inputs of the recurrence.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// Projected inputs `[batch, len, 4h]` (bias included).
    pub xw: &'a [f32],
    /// Hidden-to-gates weight `[h, 4h]`.
    pub whh: &'a [f32],
    /// Initial hidden state `[batch, h]`.
    pub h0: &'a [f32],
    /// Initial cell state `[batch, h]`.
    pub c0: &'a [f32],
    /// `[batch, len]`: 1 at real, 0 at padded positions (the state is carried through those);
    /// `None` for no padding.
    pub keep: Option<&'a [f32]>,
    /// From the last position to the first.
    pub reverse: bool,
}

/// The forward recurrence. Returns the output `[batch, len + 1, h]`; fills `tape`
/// (`[batch, len, 7h]`, see the module documentation) when given.
pub fn forward(dims: Dims, inputs: Inputs<'_>, mut tape: Option<&mut [f32]>) -> Vec<f32> {
    let Dims { batch, len, hidden } = dims;
    let h4 = 4 * hidden;
    assert_eq!(inputs.xw.len(), batch * len * h4);
    assert_eq!(inputs.whh.len(), hidden * h4);
    assert_eq!(inputs.h0.len(), batch * hidden);
    assert_eq!(inputs.c0.len(), batch * hidden);
    if let Some(tape) = tape.as_deref() {
        assert_eq!(tape.len(), dims.tape_len());
    }
    let mut state = State {
        h: inputs.h0.to_vec(),
        c: inputs.c0.to_vec(),
    };
    let mut out = vec![0.0f32; dims.output_len()];
    let mut gates = vec![0.0f32; batch * h4];
    let whh = Mat::rows(inputs.whh, h4);
    for p in dims.order(inputs.reverse) {
        for (b, row) in gates.chunks_mut(h4).enumerate() {
            row.copy_from_slice(&inputs.xw[(b * len + p) * h4..][..h4]);
        }
        let h_prev = Mat::rows(&state.h, hidden);
        gemm_f32([batch, h4, hidden], &mut gates, h4, true, h_prev, whh);
        let step = Step {
            dims,
            p,
            keep: inputs.keep,
        };
        match tape.as_deref_mut() {
            Some(tape) => {
                let w = TAPE_WIDTH * hidden;
                let rows = tape
                    .par_chunks_mut(len * w)
                    .map(|t| Some(&mut t[p * w..][..w]));
                step.run(&mut gates, &mut state, &mut out, rows);
            }
            None => {
                let rows = (0..batch).into_par_iter().map(|_| None);
                step.run(&mut gates, &mut state, &mut out, rows);
            }
        }
    }
    for (o, c) in out
        .chunks_mut((len + 1) * hidden)
        .zip(state.c.chunks(hidden))
    {
        o[len * hidden..].copy_from_slice(c);
    }
    out
}

/// The running state `[batch, h]` of the forward recurrence.
struct State {
    h: Vec<f32>,
    c: Vec<f32>,
}

/// One step of the forward recurrence over all rows.
struct Step<'a> {
    dims: Dims,
    /// The position.
    p: usize,
    keep: Option<&'a [f32]>,
}

impl Step<'_> {
    /// Runs [`cell_forward`] on every row, on the thread pool when the rows are large enough;
    /// `tapes` yields each row's tape slot of this position (or `None`). `gates` holds the
    /// step's pre-activations and is overwritten with the activated gates.
    fn run<'t, I>(&self, gates: &mut [f32], state: &mut State, out: &mut [f32], tapes: I)
    where
        I: IndexedParallelIterator<Item = Option<&'t mut [f32]>>,
    {
        let Dims { len, hidden, .. } = self.dims;
        let (p, keep) = (self.p, self.keep);
        let outs = out.par_chunks_mut((len + 1) * hidden);
        let hs = state.h.par_chunks_mut(hidden);
        let cs = state.c.par_chunks_mut(hidden);
        (gates.par_chunks_mut(4 * hidden), outs, hs, cs, tapes)
            .into_par_iter()
            .with_min_len(self.dims.rows_per_task())
            .enumerate()
            .for_each_init(Vec::new, |scratch, (b, (g, o, h, c, tape))| {
                let k = keep.map(|keep| keep[b * len + p]);
                let row = Row {
                    cell: Cell { h, c },
                    out: &mut o[p * hidden..][..hidden],
                    tape,
                };
                cell_forward(g, row, k, scratch);
            });
    }
}

/// One row's state, updated in place.
pub(crate) struct Cell<'a> {
    pub h: &'a mut [f32],
    pub c: &'a mut [f32],
}

/// What one row of a step writes: its state, its output slot and its tape slot (when kept).
pub(crate) struct Row<'a> {
    pub cell: Cell<'a>,
    pub out: &'a mut [f32],
    pub tape: Option<&'a mut [f32]>,
}

/// One row of a step: pre-activation `gates` (activated in place) → the new state, blended
/// with the old one by `keep`, written to the row's cell and output; the tape slot filled when
/// given. `scratch` is reused between rows. The transcendental functions run over whole gate
/// slices in [`vmath`] (vectorised).
pub(crate) fn cell_forward(
    gates: &mut [f32],
    row: Row<'_>,
    keep: Option<f32>,
    scratch: &mut Vec<f32>,
) {
    let Row { cell, out, tape } = row;
    let hidden = cell.h.len();
    vmath::sigmoid_in_place(&mut gates[..2 * hidden]);
    vmath::tanh_in_place(&mut gates[2 * hidden..3 * hidden]);
    vmath::sigmoid_in_place(&mut gates[3 * hidden..]);
    let (i, rest) = gates.split_at(hidden);
    let (f, rest) = rest.split_at(hidden);
    let (g, o) = rest.split_at(hidden);
    scratch.resize(2 * hidden, 0.0);
    let (c_new, tanh_c) = scratch.split_at_mut(hidden);
    for j in 0..hidden {
        c_new[j] = f[j] * cell.c[j] + i[j] * g[j];
    }
    tanh_c.copy_from_slice(c_new);
    vmath::tanh_in_place(tanh_c);
    if let Some(t) = tape {
        t[..4 * hidden].copy_from_slice(gates);
        t[4 * hidden..5 * hidden].copy_from_slice(tanh_c);
        t[5 * hidden..6 * hidden].copy_from_slice(cell.c);
        t[6 * hidden..].copy_from_slice(cell.h);
    }
    match keep {
        Some(k) => {
            let drop = -k + 1.0;
            for j in 0..hidden {
                let h_new = o[j] * tanh_c[j];
                cell.h[j] = h_new * k + cell.h[j] * drop;
                cell.c[j] = c_new[j] * k + cell.c[j] * drop;
            }
        }
        None => {
            for j in 0..hidden {
                cell.h[j] = o[j] * tanh_c[j];
            }
            cell.c.copy_from_slice(c_new);
        }
    }
    out.copy_from_slice(cell.h);
}

/// The gradients of one fused LSTM call.
#[derive(Debug, Clone)]
pub struct Grads {
    /// `[batch, len, 4h]`: of the projected inputs (the gate pre-activations' gradient).
    pub dxw: Vec<f32>,
    /// `[h, 4h]`: of the hidden-to-gates weight.
    pub dwhh: Vec<f32>,
    /// `[batch, h]`: of the initial hidden state.
    pub dh0: Vec<f32>,
    /// `[batch, h]`: of the initial cell state.
    pub dc0: Vec<f32>,
}

/// What the backward pass reads: the forward call's weight, padding and direction, its tape,
/// and the gradient of its output `[batch, len + 1, h]`.
#[derive(Debug, Clone, Copy)]
pub struct Saved<'a> {
    /// Hidden-to-gates weight `[h, 4h]`.
    pub whh: &'a [f32],
    /// As in [`Inputs::keep`].
    pub keep: Option<&'a [f32]>,
    /// As in [`Inputs::reverse`].
    pub reverse: bool,
    /// The tape [`forward`] filled.
    pub tape: &'a [f32],
}

/// Backpropagation through time: the steps in the opposite order of [`forward`], one gemm per
/// step for the hidden state's gradient, then the weight gradient as one gemm over all steps.
pub fn backward(dims: Dims, saved: Saved<'_>, dout: &[f32]) -> Grads {
    let Dims { batch, len, hidden } = dims;
    let (h4, w) = (4 * hidden, TAPE_WIDTH * hidden);
    assert_eq!(saved.tape.len(), dims.tape_len());
    assert_eq!(saved.whh.len(), hidden * h4);
    assert_eq!(dout.len(), dims.output_len());
    let mut dxw = vec![0.0f32; batch * len * h4];
    let mut dh = vec![0.0f32; batch * hidden];
    let mut dc: Vec<f32> = dout
        .chunks((len + 1) * hidden)
        .flat_map(|row| row[len * hidden..].iter().copied())
        .collect();
    // `whhᵀ` `[4h, h]`, copied once when there are several steps: gemm reads a strided
    // (transposed) weight by packing it on the calling thread at every step, 4 MiB at the
    // benchmark shapes. A single step (a decoder step) reads the strided view once.
    let whh_t_values = (len > 1).then(|| transpose(saved.whh, hidden, h4));
    let whh_t = match &whh_t_values {
        Some(t) => Mat::rows(t, hidden),
        None => Mat::transposed(saved.whh, h4),
    };
    for p in dims.order(saved.reverse).into_iter().rev() {
        let keep = saved.keep;
        (
            dxw.par_chunks_mut(len * h4),
            dh.par_chunks_mut(hidden),
            dc.par_chunks_mut(hidden),
            saved.tape.par_chunks(len * w),
            dout.par_chunks((len + 1) * hidden),
        )
            .into_par_iter()
            .with_min_len(dims.rows_per_task())
            .enumerate()
            .for_each(|(b, (dg, dh, dc, tape, dy))| {
                let k = keep.map(|keep| keep[b * len + p]);
                let grads = RowGrads {
                    dgates: &mut dg[p * h4..][..h4],
                    dh,
                    dc,
                };
                cell_backward(&tape[p * w..][..w], &dy[p * hidden..][..hidden], grads, k);
            });
        // `dh += dgates_p · whhᵀ`, the step's gate gradients a strided view of `dxw`.
        let dgates = Mat::rows(&dxw[p * h4..], len * h4);
        gemm_f32([batch, hidden, h4], &mut dh, hidden, true, dgates, whh_t);
    }
    // `dwhh = Hprevᵀ · dG` over all `batch · len` rows: `Hprevᵀ` is the tape's last `h`
    // columns, transposed.
    let h_prev_t = Mat::transposed(&saved.tape[6 * hidden..], w);
    let dgates = Mat::rows(&dxw, h4);
    let mut dwhh = vec![0.0f32; hidden * h4];
    gemm_f32(
        [hidden, h4, batch * len],
        &mut dwhh,
        h4,
        false,
        h_prev_t,
        dgates,
    );
    Grads {
        dxw,
        dwhh,
        dh0: dh,
        dc0: dc,
    }
}

/// One row's gradients at one position: the gate gradients written, the state gradients
/// (`dh`, `dc`: of the state after the step on entry, of the state before it on return;
/// `dh` without the recurrent term, which the caller's gemm adds).
pub(crate) struct RowGrads<'a> {
    pub dgates: &'a mut [f32],
    pub dh: &'a mut [f32],
    pub dc: &'a mut [f32],
}

/// The backward pass of [`cell_forward`] for one row, from its tape slot and the gradient of
/// its output `dy`. Without padding `keep` is 1 (the new state is all of the output).
pub(crate) fn cell_backward(tape: &[f32], dy: &[f32], grads: RowGrads<'_>, keep: Option<f32>) {
    let hidden = dy.len();
    let RowGrads { dgates, dh, dc } = grads;
    let at = |gate: usize| &tape[gate * hidden..][..hidden];
    let (i, f, g, o, tanh_c, c_old) = (at(0), at(1), at(2), at(3), at(4), at(5));
    let (di, rest) = dgates.split_at_mut(hidden);
    let (df, rest) = rest.split_at_mut(hidden);
    let (dg, do_) = rest.split_at_mut(hidden);
    let (dh, dc, do_) = (&mut dh[..hidden], &mut dc[..hidden], &mut do_[..hidden]);
    let k = keep.unwrap_or(1.0);
    let drop = -k + 1.0;
    for j in 0..hidden {
        let (dh_out, dc_out) = (dh[j] + dy[j], dc[j]);
        let (dh_new, dc_new) = (dh_out * k, dc_out * k);
        let dc_cell = dc_new + dh_new * o[j] * (1.0 - tanh_c[j] * tanh_c[j]);
        di[j] = dc_cell * g[j] * i[j] * (1.0 - i[j]);
        df[j] = dc_cell * c_old[j] * f[j] * (1.0 - f[j]);
        dg[j] = dc_cell * i[j] * (1.0 - g[j] * g[j]);
        do_[j] = dh_new * tanh_c[j] * o[j] * (1.0 - o[j]);
        dc[j] = dc_cell * f[j] + dc_out * drop;
        dh[j] = dh_out * drop;
    }
}
