//! The attentional LSTM decoder over a teacher-forced target sequence as one operation on
//! burn-flex, with its own backward pass.
//!
//! Step `t` of the decoder of Luong et al. (2015) with input feeding and additive scoring:
//!
//! ```text
//! (h_t, c_t) = LSTM(xw_t + ĥ_{t−1} · W_feed, (h_{t−1}, c_{t−1}))      ĥ_{−1} = 0
//! q_t = h_t · W_q + b_q,   e_ts = vᵀ tanh(k_s + q_t)  (padded s: −1e9),   α_t = softmax(e_t)
//! ctx_t = Σ_s α_ts · values_s,   ĥ_t = tanh([ctx_t; h_t] · W_c) ⊙ dropout mask
//! ```
//!
//! As tensor operations through autodiff a step is about thirty graph nodes (slices, the cell,
//! the score, the softmax, the context, the concatenation and the combination, forward and
//! backward), each with its own allocation, and on burn-flex the small ones run on one core: at
//! the tiny preset the attention model trained at a third of the plain LSTM's rate
//! (docs/BENCHMARKS.md, change 15). Here the whole sequence is one node: the forward pass
//! runs the steps on host slices ([`kernel`]), threaded over the sentences, and keeps a tape;
//! the backward pass ([`backward`]) runs backpropagation through time and computes every
//! weight gradient as one gemm over all steps.
//!
//! It is a Burn backend extension ([`backend::FusedDecoderBackend`]) for `Flex` and
//! `Autodiff<Flex>`; [`supported`] says where it runs. The model keeps its step-by-step
//! tensor operations on other backends, for other shapes (several layers, GRU cells,
//! multiplicative scoring) and for decoding one step at a time.

mod backend;
pub mod backward;
pub mod kernel;

use burn::backend::Dispatch;
use burn::prelude::*;

use crate::lstm_state::LstmState;
use backend::{Constant, DecoderTensors, FusedDecoderBackend};

/// Whether [`attentional_sequence`] runs on `device`: burn-flex, with or without autodiff.
pub fn supported(device: &Device) -> bool {
    *device == Device::flex()
}

/// The decoder's parameters (`h` the decoder size, `a` the additive layer's, `v` the values').
#[derive(Debug, Clone)]
pub struct DecoderWeights {
    /// The input feed's part of the LSTM's input projection, `[h, 4h]`.
    pub w_feed: Tensor<2>,
    /// The LSTM's hidden-to-gates weight, `[h, 4h]`.
    pub whh: Tensor<2>,
    /// The query projection `[h, a]`.
    pub w_query: Tensor<2>,
    /// Its bias `[a]`.
    pub b_query: Tensor<1>,
    /// The score vector `v`, `[a]`.
    pub score: Tensor<1>,
    /// `W_c`, `[v + h, h]`: `[context; h_t]` to the attentional vector.
    pub w_combine: Tensor<2>,
}

/// What the decoder attends over.
#[derive(Debug, Clone)]
pub struct DecoderSource {
    /// Projected keys `[batch, src_len, a]`.
    pub keys: Tensor<3>,
    /// The values `[batch, src_len, v]`.
    pub values: Tensor<3>,
    /// `[batch, src_len]`, `true` at padded source positions.
    pub src_pad: Tensor<2, Bool>,
}

/// The attentional vectors `[batch, len, h]` (after dropout) of a teacher-forced sequence:
/// `xw: [batch, len, 4h]` the embedding part of the LSTM's input projection (its bias
/// included), `init` the initial state, `dropout` the scaled mask `[batch, len, h]` of the
/// attentional vectors (`None`: no dropout).
///
/// Only on [`supported`] devices.
pub fn attentional_sequence(
    xw: Tensor<3>,
    init: LstmState,
    source: DecoderSource,
    weights: DecoderWeights,
    dropout: Option<Tensor<3>>,
) -> Tensor<3> {
    let tensors = DecoderTensors {
        xw: xw.into_dispatch(),
        w_feed: weights.w_feed.into_dispatch(),
        whh: weights.whh.into_dispatch(),
        h0: init.h.into_dispatch(),
        c0: init.c.into_dispatch(),
        keys: source.keys.into_dispatch(),
        values: source.values.into_dispatch(),
        w_query: weights.w_query.into_dispatch(),
        b_query: weights.b_query.into_dispatch(),
        score: weights.score.into_dispatch(),
        w_combine: weights.w_combine.into_dispatch(),
        pad: constant(Some(source.src_pad.float())),
        drop: constant(dropout),
    };
    Tensor::from_dispatch(<Dispatch as FusedDecoderBackend>::fused_attentional_decoder(tensors))
}

/// A constant input of the operation.
fn constant<const D: usize>(tensor: Option<Tensor<D>>) -> Constant<Dispatch> {
    match tensor {
        Some(t) => Constant::Tensor(t.into_dispatch()),
        None => Constant::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::to_host_floats;
    use burn::tensor::Distribution;
    use burn::tensor::activation::{sigmoid, softmax, tanh};

    const B: usize = 3;
    const T: usize = 4;
    const S: usize = 5;
    const H: usize = 6;
    const V: usize = 7;
    const A: usize = 8;

    /// Every input, tracked.
    struct Case {
        xw: Tensor<3>,
        init: LstmState,
        source: DecoderSource,
        weights: DecoderWeights,
        dropout: Option<Tensor<3>>,
    }

    fn case(device: &Device, dropout: bool) -> Case {
        let normal = Distribution::Normal(0.0, 0.5);
        // Tracked on an autodiff device.
        let ad = device.is_autodiff();
        let r2 = |shape: [usize; 2]| {
            let t = Tensor::<2>::random(shape, normal, device);
            if ad { t.require_grad() } else { t }
        };
        let r3 = |shape: [usize; 3]| {
            let t = Tensor::<3>::random(shape, normal, device);
            if ad { t.require_grad() } else { t }
        };
        let r1 = |n: usize| {
            let t = Tensor::<1>::random([n], normal, device);
            if ad { t.require_grad() } else { t }
        };
        let mut pad = vec![false; B * S];
        pad[S + 3..2 * S].fill(true);
        pad[2 * S + 1..].fill(true);
        let keep = Distribution::Bernoulli(0.8);
        Case {
            xw: r3([B, T, 4 * H]),
            init: LstmState {
                h: r2([B, H]),
                c: r2([B, H]),
            },
            source: DecoderSource {
                keys: r3([B, S, A]),
                values: r3([B, S, V]),
                src_pad: Tensor::from_data(TensorData::new(pad, [B, S]), device),
            },
            weights: DecoderWeights {
                w_feed: r2([H, 4 * H]),
                whh: r2([H, 4 * H]),
                w_query: r2([H, A]),
                b_query: r1(A),
                score: r1(A),
                w_combine: r2([V + H, H]),
            },
            dropout: dropout.then(|| Tensor::<3>::random([B, T, H], keep, device).mul_scalar(1.25)),
        }
    }

    /// The same decoder as tensor operations, step by step.
    fn reference(c: &Case) -> Tensor<3> {
        let w = &c.weights;
        let (mut h, mut cell) = (c.init.h.clone(), c.init.c.clone());
        let mut feed = Tensor::<2>::zeros([B, H], &h.device());
        let mut outputs = Vec::new();
        for t in 0..T {
            let xw = c.xw.clone().slice(s![.., t..t + 1, ..]).reshape([B, 4 * H]);
            let gates = xw + feed.matmul(w.w_feed.clone()) + h.matmul(w.whh.clone());
            let [i, f, g, o]: [Tensor<2>; 4] = gates.chunk(4, 1).try_into().unwrap();
            cell = sigmoid(f) * cell + sigmoid(i) * tanh(g);
            h = sigmoid(o) * tanh(cell.clone());
            let q = h.clone().matmul(w.w_query.clone()) + w.b_query.clone().unsqueeze_dim(0);
            let e = tanh(c.source.keys.clone() + q.unsqueeze_dim::<3>(1))
                .matmul(w.score.clone().reshape([1, A, 1]))
                .reshape([B, S])
                .mask_fill(c.source.src_pad.clone(), -1.0e9);
            let alpha = softmax(e, 1);
            let context = alpha
                .unsqueeze_dim::<3>(1)
                .matmul(c.source.values.clone())
                .reshape([B, V]);
            let a = tanh(Tensor::cat(vec![context, h.clone()], 1).matmul(w.w_combine.clone()));
            feed = match &c.dropout {
                Some(mask) => a * mask.clone().slice(s![.., t..t + 1, ..]).reshape([B, H]),
                None => a,
            };
            outputs.push(feed.clone());
        }
        Tensor::stack(outputs, 1)
    }

    fn fused(c: &Case) -> Tensor<3> {
        attentional_sequence(
            c.xw.clone(),
            c.init.clone(),
            c.source.clone(),
            c.weights.clone(),
            c.dropout.clone(),
        )
    }

    fn assert_close<const D: usize>(what: &str, a: Tensor<D>, b: Tensor<D>) {
        let (a, b) = (to_host_floats(a), to_host_floats(b));
        assert_eq!(a.len(), b.len(), "{what}");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 2e-5 + 1e-4 * y.abs(), "{what}: {x} vs {y}");
        }
    }

    #[test]
    fn values_and_every_gradient_equal_the_tensor_operations() {
        let _rng = crate::rng_lock();
        let device = Device::flex().autodiff();
        for dropout in [false, true] {
            let c = case(&device, dropout);
            let weighting = Tensor::<3>::random([B, T, H], Distribution::Normal(0.0, 1.0), &device);
            let (got, want) = (fused(&c), reference(&c));
            assert_close("output", got.clone(), want.clone());
            let g_got = (got * weighting.clone()).sum().backward();
            let g_want = (want * weighting).sum().backward();
            let grad = |x: &Tensor<2>, what: &str| {
                assert_close(what, x.grad(&g_got).unwrap(), x.grad(&g_want).unwrap())
            };
            let w = &c.weights;
            grad(&w.w_feed, "w_feed");
            grad(&w.whh, "whh");
            grad(&w.w_query, "w_query");
            grad(&w.w_combine, "w_combine");
            grad(&c.init.h, "h0");
            grad(&c.init.c, "c0");
            for (x, what) in [(&w.b_query, "b_query"), (&w.score, "score")] {
                assert_close(what, x.grad(&g_got).unwrap(), x.grad(&g_want).unwrap());
            }
            for (x, what) in [
                (&c.xw, "xw"),
                (&c.source.keys, "keys"),
                (&c.source.values, "values"),
            ] {
                assert_close(what, x.grad(&g_got).unwrap(), x.grad(&g_want).unwrap());
            }
        }
    }

    #[test]
    fn inference_gives_the_same_vectors() {
        let _rng = crate::rng_lock();
        let c = case(&Device::flex(), false);
        let got = fused(&c);
        assert_eq!(got.dims(), [B, T, H]);
        assert_close("output", got, reference(&c));
    }
}
