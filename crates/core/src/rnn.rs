//! Recurrent building blocks shared by the LSTM architectures: an LSTM layer with fused gates
//! and padding-aware sequence processing (forwards or backwards), and a stack of them.
//!
//! The four gates are one matmul each for the input and the hidden state; the input projection
//! of every time step is computed in a single matmul before the recurrence. At padded positions
//! the state is carried through unchanged, so right-padding never changes a sentence's final
//! state.

use crate::dropout::DropoutExt;
use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;

use crate::activation::tanh;
use crate::fused_lstm;
use crate::linear::LinearRows;
pub use crate::lstm_state::LstmState;

/// Configuration of one [`LstmLayer`].
#[derive(Config, Debug)]
pub struct LstmLayerConfig {
    /// Input features.
    pub d_input: usize,
    /// Hidden (and cell) size.
    pub d_hidden: usize,
}

/// One LSTM layer: `[i f g o] = W x + U h + b`.
#[derive(Module, Debug)]
pub struct LstmLayer {
    /// Input projection to the four gates, with the bias.
    pub input: Linear,
    /// Hidden projection to the four gates, without bias.
    pub hidden: Linear,
    /// Hidden size.
    pub d_hidden: usize,
}

impl LstmLayerConfig {
    /// Builds the layer; the forget-gate bias starts at 1 (Jozefowicz et al. 2015).
    pub fn init(&self, device: &Device) -> LstmLayer {
        let d4 = 4 * self.d_hidden;
        let mut input = LinearConfig::new(self.d_input, d4).init(device);
        let hidden = LinearConfig::new(self.d_hidden, d4)
            .with_bias(false)
            .init(device);
        let h = self.d_hidden;
        let bias: Vec<f32> = (0..d4)
            .map(|i| if (h..2 * h).contains(&i) { 1.0 } else { 0.0 })
            .collect();
        input.bias = Some(Param::from_tensor(Tensor::from_data(
            TensorData::new(bias, [d4]),
            device,
        )));
        LstmLayer {
            input,
            hidden,
            d_hidden: self.d_hidden,
        }
    }
}

impl LstmLayer {
    /// One step from an already projected input `xw: [batch, 4 * d_hidden]`: on flex the
    /// fused operation of [`crate::fused_lstm`] over a sequence of one position.
    pub fn step_projected(&self, xw: Tensor<2>, state: LstmState) -> LstmState {
        if fused_lstm::supported(&xw.device()) {
            let xw = xw.unsqueeze_dim::<3>(1);
            return fused_lstm::lstm_sequence(xw, self.hidden.weight.val(), state, None, false).1;
        }
        let scale = self.gate_scale(&xw.device());
        self.step_scaled(xw, state, &scale)
    }

    /// `[1, 4 · d_hidden]`: 1 for the `i`, `f` and `o` columns, 2 for the `g` ones, so that one
    /// sigmoid over all four gates gives `σ(i)`, `σ(f)`, `σ(2g)` and `σ(o)`, and
    /// `tanh(g) = 2σ(2g) − 1` as [`tanh`] computes it.
    fn gate_scale(&self, device: &Device) -> Tensor<2> {
        let h = self.d_hidden;
        let scale: Vec<f32> = (0..4 * h)
            .map(|i| {
                if (2 * h..3 * h).contains(&i) {
                    2.0
                } else {
                    1.0
                }
            })
            .collect();
        Tensor::from_data(TensorData::new(scale, [1, 4 * h]), device)
    }

    /// [`LstmLayer::step_projected`] with the [`LstmLayer::gate_scale`] made once per sequence.
    /// One sigmoid over the contiguous `[batch, 4 · d_hidden]` gates instead of four
    /// activations on strided quarter views: the same values bit for bit (`x · 1 = x`, and
    /// `tanh` is `2σ(2x) − 1` either way), with fewer operations to run and differentiate.
    fn step_scaled(&self, xw: Tensor<2>, state: LstmState, scale: &Tensor<2>) -> LstmState {
        let gates = xw + self.hidden.forward(state.h);
        let act = sigmoid(gates * scale.clone());
        let [i, f, g, o]: [Tensor<2>; 4] = act.chunk(4, 1).try_into().expect("four gate chunks");
        let g = g.mul_scalar(2.0).sub_scalar(1.0);
        let c = f * state.c + i * g;
        let h = o * tanh(c.clone());
        LstmState { h, c }
    }

    /// One step from the raw input `x: [batch, d_input]`.
    pub fn step(&self, x: Tensor<2>, state: LstmState) -> LstmState {
        self.step_projected(self.input.forward(x), state)
    }

    /// Runs over a whole sequence `x: [batch, len, d_input]`, returning the hidden states
    /// `[batch, len, d_hidden]` and the final state. `keep: [batch, len]` holds 1 at real and 0
    /// at padded positions; the state is carried unchanged through padded positions.
    pub fn forward(
        &self,
        x: Tensor<3>,
        state: LstmState,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, LstmState) {
        self.run(x, state, keep, false)
    }

    /// Like [`LstmLayer::forward`], but from the last position to the first: the backward
    /// direction of a bidirectional encoder. With right padding and `keep`, each sentence's
    /// pass starts at its own last real token.
    pub fn forward_reverse(
        &self,
        x: Tensor<3>,
        state: LstmState,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, LstmState) {
        self.run(x, state, keep, true)
    }

    /// On flex the fused operation of [`crate::fused_lstm`] (the same values and gradients, one
    /// operation per layer and sequence), elsewhere [`LstmLayer::run_steps`].
    fn run(
        &self,
        x: Tensor<3>,
        state: LstmState,
        keep: Option<Tensor<2>>,
        reverse: bool,
    ) -> (Tensor<3>, LstmState) {
        let xw = self.input.forward_rows(x);
        if xw.dims()[1] > 0 && fused_lstm::supported(&xw.device()) {
            return fused_lstm::lstm_sequence(xw, self.hidden.weight.val(), state, keep, reverse);
        }
        self.run_steps(xw, state, keep, reverse)
    }

    /// The recurrence as tensor operations, one step at a time, from the projected inputs
    /// `xw: [batch, len, 4 · d_hidden]`.
    pub(crate) fn run_steps(
        &self,
        xw: Tensor<3>,
        state: LstmState,
        keep: Option<Tensor<2>>,
        reverse: bool,
    ) -> (Tensor<3>, LstmState) {
        let [_, len, _] = xw.dims();
        let scale = self.gate_scale(&xw.device());
        let mut state = state;
        let mut outputs = Vec::with_capacity(len);
        let order: Vec<usize> = if reverse {
            (0..len).rev().collect()
        } else {
            (0..len).collect()
        };
        let mut steps: Vec<Option<Tensor<2>>> = time_steps(xw).into_iter().map(Some).collect();
        for t in order {
            let xw_t = steps[t].take().expect("each step once");
            let next = self.step_scaled(xw_t, state.clone(), &scale);
            state = match &keep {
                Some(keep) => {
                    let k = keep.clone().slice(s![.., t]);
                    blend(next, state, k)
                }
                None => next,
            };
            outputs.push(state.h.clone());
        }
        if reverse {
            outputs.reverse();
        }
        (Tensor::stack(outputs, 1), state)
    }
}

/// The time steps of `x: [batch, len, d]` as `len` tensors `[batch, d]`, cut by halving.
///
/// The same values as slicing each step out of `x`, but cheaper to differentiate: autodiff
/// turns a slice's gradient into a zero tensor of the sliced tensor's whole shape, so `len`
/// slices of `x` cost `len` full-size zero tensors and additions, the halving about
/// `2 log₂ len` (16 steps: 8 instead of 16, and 4 additions instead of 15).
pub fn time_steps(x: Tensor<3>) -> Vec<Tensor<2>> {
    let [batch, len, d] = x.dims();
    if len <= 1 {
        return vec![x.reshape([batch, d])];
    }
    let mid = len / 2;
    let mut steps = time_steps(x.clone().slice(s![.., 0..mid, ..]));
    steps.extend(time_steps(x.slice(s![.., mid..len, ..])));
    steps
}

/// `keep · new + (1 - keep) · old`, with `keep: [batch, 1]`.
fn blend(new: LstmState, old: LstmState, keep: Tensor<2>) -> LstmState {
    let drop = keep.clone().neg().add_scalar(1.0);
    LstmState {
        h: new.h * keep.clone() + old.h * drop.clone(),
        c: new.c * keep + old.c * drop,
    }
}

/// Configuration of a stack of LSTM layers with dropout between them.
#[derive(Config, Debug)]
pub struct LstmStackConfig {
    /// Input features of the first layer.
    pub d_input: usize,
    /// Hidden size of every layer.
    pub d_hidden: usize,
    /// Number of layers.
    pub n_layers: usize,
    /// Dropout between layers.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// A stack of LSTM layers.
#[derive(Module, Debug)]
pub struct LstmStack {
    /// The layers, bottom first.
    pub layers: Vec<LstmLayer>,
    /// Dropout applied to each layer's output except the last.
    pub dropout: Dropout,
}

impl LstmStackConfig {
    /// Builds the stack.
    pub fn init(&self, device: &Device) -> LstmStack {
        let layers = (0..self.n_layers)
            .map(|i| {
                let d_input = if i == 0 { self.d_input } else { self.d_hidden };
                LstmLayerConfig::new(d_input, self.d_hidden).init(device)
            })
            .collect();
        LstmStack {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl LstmStack {
    /// Runs every layer over `x: [batch, len, d_input]` from the given per-layer states.
    /// Returns the top layer's outputs `[batch, len, d_hidden]` and each layer's final state.
    pub fn forward(
        &self,
        x: Tensor<3>,
        states: Vec<LstmState>,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, Vec<LstmState>) {
        let last = self.layers.len() - 1;
        let mut x = x;
        let mut finals = Vec::with_capacity(self.layers.len());
        for (i, (layer, state)) in self.layers.iter().zip(states).enumerate() {
            let (out, fin) = layer.forward(x, state, keep.clone());
            x = if i < last {
                self.dropout.apply(out)
            } else {
                out
            };
            finals.push(fin);
        }
        (x, finals)
    }

    /// One step of every layer for `x: [batch, d_input]`. Returns the top hidden state and the
    /// new per-layer states.
    pub fn step(&self, x: Tensor<2>, states: Vec<LstmState>) -> (Tensor<2>, Vec<LstmState>) {
        let last = self.layers.len() - 1;
        let mut x = x;
        let mut next = Vec::with_capacity(self.layers.len());
        for (i, (layer, state)) in self.layers.iter().zip(states).enumerate() {
            let s = layer.step(x, state);
            x = if i < last {
                self.dropout.apply(s.h.clone())
            } else {
                s.h.clone()
            };
            next.push(s);
        }
        (x, next)
    }

    /// Zero states for every layer.
    pub fn zero_states(&self, batch: usize, device: &Device) -> Vec<LstmState> {
        self.layers
            .iter()
            .map(|l| LstmState::zeros(batch, l.d_hidden, device))
            .collect()
    }
}

#[cfg(test)]
mod fused_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn sequence_equals_steps() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let layer = LstmLayerConfig::new(3, 5).init(&device);
        let x = Tensor::<3>::random([2, 4, 3], Distribution::Normal(0.0, 1.0), &device);
        let (out, fin) = layer.forward(x.clone(), LstmState::zeros(2, 5, &device), None);
        let mut state = LstmState::zeros(2, 5, &device);
        for t in 0..4 {
            state = layer.step(x.clone().slice(s![.., t, ..]).reshape([2, 3]), state);
            let at_t = out.clone().slice(s![.., t, ..]).reshape([2, 5]);
            at_t.into_data()
                .assert_approx_eq::<f32>(&state.h.to_data(), Tolerance::default());
        }
        fin.c
            .into_data()
            .assert_approx_eq::<f32>(&state.c.into_data(), Tolerance::default());
    }

    #[test]
    fn reverse_pass_starts_at_each_sentences_last_token() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let layer = LstmLayerConfig::new(2, 4).init(&device);
        let x = Tensor::<3>::random([1, 4, 2], Distribution::Normal(0.0, 1.0), &device);
        let keep = Tensor::<2>::from_data([[1.0, 1.0, 0.0, 0.0]], &device);
        let zeros = || LstmState::zeros(1, 4, &device);
        let (out, padded) = layer.forward_reverse(x.clone(), zeros(), Some(keep));
        let (short_out, short) = layer.forward_reverse(x.slice(s![.., 0..2, ..]), zeros(), None);
        padded
            .h
            .into_data()
            .assert_approx_eq::<f32>(&short.h.into_data(), Tolerance::default());
        out.slice(s![.., 0..2, ..])
            .into_data()
            .assert_approx_eq::<f32>(&short_out.into_data(), Tolerance::default());
    }

    #[test]
    fn padded_steps_carry_the_state() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let layer = LstmLayerConfig::new(2, 4).init(&device);
        let x = Tensor::<3>::random([1, 5, 2], Distribution::Normal(0.0, 1.0), &device);
        let keep = Tensor::<2>::from_data([[1.0, 1.0, 0.0, 0.0, 0.0]], &device);
        let (_, padded) = layer.forward(x.clone(), LstmState::zeros(1, 4, &device), Some(keep));
        let (_, short) = layer.forward(
            x.slice(s![.., 0..2, ..]),
            LstmState::zeros(1, 4, &device),
            None,
        );
        padded
            .h
            .into_data()
            .assert_approx_eq::<f32>(&short.h.into_data(), Tolerance::default());
    }
}
