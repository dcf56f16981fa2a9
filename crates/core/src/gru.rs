//! The GRU layer (Cho et al. 2014), in PyTorch's formulation: with `[r z n]` the three gates,
//!
//! ```text
//! r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//! z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//! n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! As for the [`LstmLayer`](crate::rnn::LstmLayer): the three gates are one matmul each for
//! the input and the hidden state, the input projection of every time step is one matmul
//! before the recurrence, and at padded positions the state is carried through unchanged, so
//! right-padding never changes a sentence's final state. Three gates instead of four: three
//! quarters of an LSTM's recurrent weights, and no cell state.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use crate::activation::tanh;
use crate::linear::LinearRows;
use crate::rnn::time_steps;

/// Configuration of one [`GruLayer`].
#[derive(Config, Debug)]
pub struct GruLayerConfig {
    /// Input features.
    pub d_input: usize,
    /// Hidden size.
    pub d_hidden: usize,
}

/// One GRU layer: `[r z n]` from `W x + b_i` and `U h + b_h`.
#[derive(Module, Debug)]
pub struct GruLayer {
    /// Input projection to the three gates, with the bias `b_i`.
    pub input: Linear,
    /// Hidden projection to the three gates, with the bias `b_h` (the `n` part of which
    /// the reset gate scales, as in PyTorch).
    pub hidden: Linear,
    /// Hidden size.
    pub d_hidden: usize,
}

impl GruLayerConfig {
    /// Builds the layer with Burn's default initialisation of both projections.
    pub fn init(&self, device: &Device) -> GruLayer {
        let d3 = 3 * self.d_hidden;
        GruLayer {
            input: LinearConfig::new(self.d_input, d3).init(device),
            hidden: LinearConfig::new(self.d_hidden, d3).init(device),
            d_hidden: self.d_hidden,
        }
    }
}

impl GruLayer {
    /// One step from an already projected input `xw: [batch, 3 * d_hidden]` and the hidden
    /// state `h: [batch, d_hidden]`; returns the next hidden state.
    pub fn step_projected(&self, xw: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let hw = self.hidden.forward(h.clone());
        let h2 = 2 * self.d_hidden;
        let h3 = 3 * self.d_hidden;
        let rz = sigmoid(xw.clone().slice(s![.., 0..h2]) + hw.clone().slice(s![.., 0..h2]));
        let [r, z]: [Tensor<2>; 2] = rz.chunk(2, 1).try_into().expect("two gate chunks");
        let n = tanh(xw.slice(s![.., h2..h3]) + r * hw.slice(s![.., h2..h3]));
        // (1 − z) ⊙ n + z ⊙ h, with one multiplication.
        n.clone() + z * (h - n)
    }

    /// One step from the raw input `x: [batch, d_input]`.
    pub fn step(&self, x: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        self.step_projected(self.input.forward(x), h)
    }

    /// Runs over a whole sequence `x: [batch, len, d_input]` from the hidden state
    /// `h: [batch, d_hidden]`, returning the hidden states `[batch, len, d_hidden]` and the
    /// final one. `keep: [batch, len]` holds 1 at real and 0 at padded positions; the state is
    /// carried unchanged through padded positions.
    pub fn forward(
        &self,
        x: Tensor<3>,
        h: Tensor<2>,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, Tensor<2>) {
        self.run(x, h, keep, false)
    }

    /// Like [`GruLayer::forward`], but from the last position to the first: the backward
    /// direction of a bidirectional encoder. With right padding and `keep`, each sentence's
    /// pass starts at its own last real token.
    pub fn forward_reverse(
        &self,
        x: Tensor<3>,
        h: Tensor<2>,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, Tensor<2>) {
        self.run(x, h, keep, true)
    }

    fn run(
        &self,
        x: Tensor<3>,
        h: Tensor<2>,
        keep: Option<Tensor<2>>,
        reverse: bool,
    ) -> (Tensor<3>, Tensor<2>) {
        let [_, len, _] = x.dims();
        let mut steps: Vec<Option<Tensor<2>>> = time_steps(self.input.forward_rows(x))
            .into_iter()
            .map(Some)
            .collect();
        let order: Vec<usize> = if reverse {
            (0..len).rev().collect()
        } else {
            (0..len).collect()
        };
        let mut h = h;
        let mut outputs = Vec::with_capacity(len);
        for t in order {
            let xw_t = steps[t].take().expect("each step once");
            let next = self.step_projected(xw_t, h.clone());
            h = match &keep {
                Some(keep) => blend(next, h, keep.clone().slice(s![.., t])),
                None => next,
            };
            outputs.push(h.clone());
        }
        if reverse {
            outputs.reverse();
        }
        (Tensor::stack(outputs, 1), h)
    }
}

/// `keep · new + (1 - keep) · old`, with `keep: [batch, 1]`.
fn blend(new: Tensor<2>, old: Tensor<2>, keep: Tensor<2>) -> Tensor<2> {
    let drop = keep.clone().neg().add_scalar(1.0);
    new * keep + old * drop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::to_host_floats;
    use burn::tensor::{Distribution, Tolerance};

    fn zeros(batch: usize, d_hidden: usize, device: &Device) -> Tensor<2> {
        Tensor::zeros([batch, d_hidden], device)
    }

    #[test]
    fn one_step_is_the_gru_equations() {
        // A layer of one input and one hidden unit with hand-set weights, against the
        // equations computed here in f64.
        let device = Device::flex();
        let mut layer = GruLayerConfig::new(1, 1).init(&device);
        let param = |v: Vec<f32>, shape: [usize; 2]| {
            burn::module::Param::from_tensor(Tensor::from_data(TensorData::new(v, shape), &device))
        };
        let bias = |v: Vec<f32>| {
            Some(burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(v, [3]),
                &device,
            )))
        };
        // Weights `[d_in, 3]`: columns r, z, n.
        layer.input.weight = param(vec![0.5, -1.0, 2.0], [1, 3]);
        layer.input.bias = bias(vec![0.1, 0.2, -0.3]);
        layer.hidden.weight = param(vec![1.5, 0.25, -0.7], [1, 3]);
        layer.hidden.bias = bias(vec![-0.2, 0.4, 0.6]);
        let (x, h) = (0.8f64, -0.4f64);
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let r = sig(0.5 * x + 0.1 + 1.5 * h - 0.2);
        let z = sig(-x + 0.2 + 0.25 * h + 0.4);
        let n = (2.0 * x - 0.3 + r * (-0.7 * h + 0.6)).tanh();
        let expected = (1.0 - z) * n + z * h;
        let got = layer.step(
            Tensor::from_data([[x as f32]], &device),
            Tensor::from_data([[h as f32]], &device),
        );
        let got = to_host_floats(got)[0] as f64;
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    #[test]
    fn sequence_equals_steps() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let layer = GruLayerConfig::new(3, 5).init(&device);
        let x = Tensor::<3>::random([2, 4, 3], Distribution::Normal(0.0, 1.0), &device);
        let (out, fin) = layer.forward(x.clone(), zeros(2, 5, &device), None);
        let mut h = zeros(2, 5, &device);
        for t in 0..4 {
            h = layer.step(x.clone().slice(s![.., t, ..]).reshape([2, 3]), h);
            let at_t = out.clone().slice(s![.., t, ..]).reshape([2, 5]);
            at_t.into_data()
                .assert_approx_eq::<f32>(&h.to_data(), Tolerance::default());
        }
        fin.into_data()
            .assert_approx_eq::<f32>(&h.into_data(), Tolerance::default());
    }

    #[test]
    fn reverse_pass_starts_at_each_sentences_last_token() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let layer = GruLayerConfig::new(2, 4).init(&device);
        let x = Tensor::<3>::random([1, 4, 2], Distribution::Normal(0.0, 1.0), &device);
        let keep = Tensor::<2>::from_data([[1.0, 1.0, 0.0, 0.0]], &device);
        let (out, padded) = layer.forward_reverse(x.clone(), zeros(1, 4, &device), Some(keep));
        let (short_out, short) = layer.forward_reverse(
            x.clone().slice(s![.., 0..2, ..]),
            zeros(1, 4, &device),
            None,
        );
        padded
            .into_data()
            .assert_approx_eq::<f32>(&short.clone().into_data(), Tolerance::default());
        out.slice(s![.., 0..2, ..])
            .into_data()
            .assert_approx_eq::<f32>(&short_out.into_data(), Tolerance::default());
        // The reverse pass reads the last real token first: not what the forward pass gives.
        let (_, forwards) = layer.forward(x.slice(s![.., 0..2, ..]), zeros(1, 4, &device), None);
        let diff = to_host_floats(forwards - short);
        assert!(diff.iter().any(|d| d.abs() > 1e-4), "{diff:?}");
    }

    #[test]
    fn padded_steps_carry_the_state() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let layer = GruLayerConfig::new(2, 4).init(&device);
        let x = Tensor::<3>::random([1, 5, 2], Distribution::Normal(0.0, 1.0), &device);
        let keep = Tensor::<2>::from_data([[1.0, 1.0, 0.0, 0.0, 0.0]], &device);
        let (out, padded) = layer.forward(x.clone(), zeros(1, 4, &device), Some(keep));
        let (_, short) = layer.forward(x.slice(s![.., 0..2, ..]), zeros(1, 4, &device), None);
        padded
            .into_data()
            .assert_approx_eq::<f32>(&short.clone().into_data(), Tolerance::default());
        // Every padded position repeats the last real state.
        let last = out.slice(s![.., 4, ..]).reshape([1, 4]);
        last.into_data()
            .assert_approx_eq::<f32>(&short.into_data(), Tolerance::default());
    }
}
