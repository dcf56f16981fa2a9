//! The host kernels of the additive score: `e[b, s] = Σ_d v_d · tanh(keys[b, s, d] + q[b, d])`
//! and its backward pass, on `f32` slices, threaded over the sentences.
//!
//! Layouts (row-major): `keys` and its gradient `[batch, src_len, d]`, `query` and its gradient
//! `[batch, d]`, `v` `[d]`, scores `[batch, src_len]`. The tape saved for the backward pass is
//! `t = tanh(keys + q)`, `[batch, src_len, d]`.

use rayon::prelude::*;

use crate::vmath;

/// Sentences are handed to the thread pool in chunks of at least this many values
/// (`src_len · d`): below it the work (a few microseconds) runs on the calling thread.
const PARALLEL_VALUES: usize = 16 * 1024;

/// The sizes of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Sentences.
    pub batch: usize,
    /// Source positions.
    pub src_len: usize,
    /// Size of the additive hidden layer.
    pub d: usize,
}

impl Dims {
    /// Values of `keys` (and of the tape).
    pub fn keys_len(&self) -> usize {
        self.batch * self.src_len * self.d
    }

    /// Sentences per parallel task.
    fn rows_per_task(&self) -> usize {
        PARALLEL_VALUES
            .div_ceil((self.src_len * self.d).max(1))
            .max(1)
    }
}

/// The inputs of the forward pass.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `[batch, src_len, d]`.
    pub keys: &'a [f32],
    /// `[batch, d]`.
    pub query: &'a [f32],
    /// `[d]`.
    pub v: &'a [f32],
}

/// The scores `[batch, src_len]`; fills `tape` (`[batch, src_len, d]`, `tanh(keys + q)`) when
/// given.
pub fn forward(dims: Dims, inputs: Inputs<'_>, tape: Option<&mut [f32]>) -> Vec<f32> {
    let Dims { batch, src_len, d } = dims;
    assert_eq!(inputs.keys.len(), dims.keys_len());
    assert_eq!(inputs.query.len(), batch * d);
    assert_eq!(inputs.v.len(), d);
    let mut scores = vec![0.0f32; batch * src_len];
    if batch * src_len * d == 0 {
        return scores;
    }
    let rows = (
        scores.par_chunks_mut(src_len),
        inputs.keys.par_chunks(src_len * d),
        inputs.query.par_chunks(d),
    );
    let v = inputs.v;
    match tape {
        Some(tape) => {
            assert_eq!(tape.len(), dims.keys_len());
            (rows.0, rows.1, rows.2, tape.par_chunks_mut(src_len * d))
                .into_par_iter()
                .with_min_len(dims.rows_per_task())
                .for_each(|(e, k, q, t)| row_forward(k, q, v, t, e));
        }
        None => rows
            .into_par_iter()
            .with_min_len(dims.rows_per_task())
            .for_each_init(Vec::new, |t, (e, k, q)| {
                t.resize(src_len * d, 0.0);
                row_forward(k, q, v, t, e);
            }),
    }
    scores
}

/// One sentence: `t = tanh(keys + q)` (`[src_len, d]`), `e[s] = t[s] · v`.
pub(crate) fn row_forward(keys: &[f32], q: &[f32], v: &[f32], t: &mut [f32], e: &mut [f32]) {
    let d = q.len();
    for (t_s, k_s) in t.chunks_exact_mut(d).zip(keys.chunks_exact(d)) {
        for ((t, k), q) in t_s.iter_mut().zip(k_s).zip(q) {
            *t = k + q;
        }
    }
    vmath::tanh_in_place(t);
    for (e, t_s) in e.iter_mut().zip(t.chunks_exact(d)) {
        *e = dot(t_s, v);
    }
}

/// `a · b`, summed in eight lanes (so that it vectorises) and then across them.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (a8, b8) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for lane in 0..LANES {
            acc[lane] += x[lane] * y[lane];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The gradients of one call.
#[derive(Debug, Clone)]
pub struct Grads {
    /// `[batch, src_len, d]`.
    pub dkeys: Vec<f32>,
    /// `[batch, d]`.
    pub dquery: Vec<f32>,
    /// `[d]`.
    pub dv: Vec<f32>,
}

/// The backward pass from the tape of [`forward`], `v` and the scores' gradient `de`
/// (`[batch, src_len]`). With `u = de · v · (1 − t²)`: `dkeys = u`, `dquery = Σ_s u`,
/// `dv = Σ_{b, s} de · t`. Each sentence's share of `dv` is summed in sentence order, so the
/// result does not depend on the threads.
pub fn backward(dims: Dims, v: &[f32], tape: &[f32], de: &[f32]) -> Grads {
    let Dims { batch, src_len, d } = dims;
    assert_eq!(tape.len(), dims.keys_len());
    assert_eq!(v.len(), d);
    assert_eq!(de.len(), batch * src_len);
    let mut dkeys = vec![0.0f32; dims.keys_len()];
    let mut dquery = vec![0.0f32; batch * d];
    let mut dv_rows = vec![0.0f32; batch * d];
    if batch * src_len * d > 0 {
        (
            dkeys.par_chunks_mut(src_len * d),
            dquery.par_chunks_mut(d),
            dv_rows.par_chunks_mut(d),
            tape.par_chunks(src_len * d),
            de.par_chunks(src_len),
        )
            .into_par_iter()
            .with_min_len(dims.rows_per_task())
            .for_each(|(dk, dq, dv, t, de)| row_backward(v, t, de, RowGrads { dk, dq, dv }));
    }
    let mut dv = vec![0.0f32; d];
    for row in dv_rows.chunks_exact(d.max(1)) {
        for (sum, x) in dv.iter_mut().zip(row) {
            *sum += x;
        }
    }
    Grads { dkeys, dquery, dv }
}

/// One sentence's gradients, added to.
pub(crate) struct RowGrads<'a> {
    /// `[src_len, d]`.
    pub dk: &'a mut [f32],
    /// `[d]`.
    pub dq: &'a mut [f32],
    /// `[d]`: this sentence's share of `dv`.
    pub dv: &'a mut [f32],
}

pub(crate) fn row_backward(v: &[f32], t: &[f32], de: &[f32], grads: RowGrads<'_>) {
    let d = v.len();
    let RowGrads { dk, dq, dv } = grads;
    for ((dk_s, t_s), g) in dk.chunks_exact_mut(d).zip(t.chunks_exact(d)).zip(de) {
        for j in 0..d {
            let u = g * v[j] * (1.0 - t_s[j] * t_s[j]);
            dk_s[j] += u;
            dq[j] += u;
            dv[j] += g * t_s[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in `[-2, 2)`.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 4000) as f32 / 1000.0 - 2.0
            })
            .collect()
    }

    /// The scores in f64, straight from the definition.
    fn reference(dims: Dims, keys: &[f32], query: &[f32], v: &[f32]) -> Vec<f64> {
        let Dims { batch, src_len, d } = dims;
        let mut e = vec![0.0f64; batch * src_len];
        for b in 0..batch {
            for s in 0..src_len {
                e[b * src_len + s] = (0..d)
                    .map(|j| {
                        let x = keys[(b * src_len + s) * d + j] as f64 + query[b * d + j] as f64;
                        v[j] as f64 * x.tanh()
                    })
                    .sum();
            }
        }
        e
    }

    #[test]
    fn forward_matches_the_definition_with_and_without_a_tape() {
        // Sizes that run threaded (a sentence of 40 · 500 values) and ones that do not.
        for (batch, src_len, d) in [(3, 5, 7), (4, 40, 500), (2, 1, 1), (0, 3, 4)] {
            let dims = Dims { batch, src_len, d };
            let (keys, query, v) = (
                values(dims.keys_len(), 1),
                values(batch * d, 2),
                values(d, 3),
            );
            let inputs = Inputs {
                keys: &keys,
                query: &query,
                v: &v,
            };
            let mut tape = vec![0.0; dims.keys_len()];
            let with = forward(dims, inputs, Some(&mut tape));
            let without = forward(dims, inputs, None);
            assert_eq!(with, without);
            for (got, want) in with.iter().zip(reference(dims, &keys, &query, &v)) {
                assert!(
                    (*got as f64 - want).abs() < 1e-5 * (1.0 + d as f64),
                    "{got} vs {want}"
                );
            }
            for ((t, k), j) in tape.iter().zip(&keys).zip(0..) {
                let q = query[(j / (src_len * d)) * d + j % d];
                assert!((*t as f64 - (*k as f64 + q as f64).tanh()).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let dims = Dims {
            batch: 2,
            src_len: 3,
            d: 5,
        };
        let (keys, query, v) = (values(30, 4), values(10, 5), values(5, 6));
        let de = values(6, 7);
        // The loss Σ de · e, in f64, as a function of one perturbed input.
        let loss = |keys: &[f32], query: &[f32], v: &[f32]| -> f64 {
            reference(dims, keys, query, v)
                .iter()
                .zip(&de)
                .map(|(e, g)| e * *g as f64)
                .sum()
        };
        let mut tape = vec![0.0; dims.keys_len()];
        let inputs = Inputs {
            keys: &keys,
            query: &query,
            v: &v,
        };
        forward(dims, inputs, Some(&mut tape));
        let grads = backward(dims, &v, &tape, &de);
        let h = 1e-3f32;
        let check = |analytic: &[f32], which: usize| {
            for (i, a) in analytic.iter().enumerate() {
                let mut inputs = [keys.clone(), query.clone(), v.clone()];
                inputs[which][i] += h;
                let up = loss(&inputs[0], &inputs[1], &inputs[2]);
                inputs[which][i] -= 2.0 * h;
                let down = loss(&inputs[0], &inputs[1], &inputs[2]);
                let numeric = (up - down) / (2.0 * h as f64);
                assert!(
                    (*a as f64 - numeric).abs() < 2e-3,
                    "input {which}[{i}]: {a} vs {numeric}"
                );
            }
        };
        check(&grads.dkeys, 0);
        check(&grads.dquery, 1);
        check(&grads.dv, 2);
    }

    #[test]
    fn dot_sums_every_element() {
        for n in [0, 1, 7, 8, 9, 33] {
            let (a, b) = (values(n, 8), values(n, 9));
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(&a, &b) as f64 - want).abs() < 1e-5, "{n}");
        }
    }
}
