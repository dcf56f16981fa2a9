//! [`RecurrentStack`]: layers of one cell with dropout between them.

use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;

use super::{Cell, RecurrentLayer, RecurrentLayerConfig, RecurrentState};
use crate::dropout::DropoutExt;

/// Configuration of a stack of recurrent layers with dropout between them.
#[derive(Config, Debug)]
pub struct RecurrentStackConfig {
    /// The cell of every layer.
    pub cell: Cell,
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

/// A stack of recurrent layers. With LSTM layers its parameters are named as an
/// [`LstmStack`](crate::rnn::LstmStack)'s.
#[derive(Module, Debug)]
pub struct RecurrentStack {
    /// The layers, bottom first.
    pub layers: Vec<RecurrentLayer>,
    /// Dropout applied to each layer's output except the last.
    pub dropout: Dropout,
}

impl RecurrentStackConfig {
    /// Builds the stack.
    pub fn init(&self, device: &Device) -> RecurrentStack {
        let layers = (0..self.n_layers)
            .map(|i| {
                let d_input = if i == 0 { self.d_input } else { self.d_hidden };
                RecurrentLayerConfig::new(self.cell, d_input, self.d_hidden).init(device)
            })
            .collect();
        RecurrentStack {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl RecurrentStack {
    /// The cell of the layers.
    pub fn cell(&self) -> Cell {
        self.layers[0].cell()
    }

    /// Runs every layer over `x: [batch, len, d_input]` from the given per-layer states.
    /// Returns the top layer's outputs `[batch, len, d_hidden]` and each layer's final state.
    pub fn forward(
        &self,
        x: Tensor<3>,
        states: Vec<RecurrentState>,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, Vec<RecurrentState>) {
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
    pub fn step(
        &self,
        x: Tensor<2>,
        states: Vec<RecurrentState>,
    ) -> (Tensor<2>, Vec<RecurrentState>) {
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
    pub fn zero_states(&self, batch: usize, device: &Device) -> Vec<RecurrentState> {
        self.layers
            .iter()
            .map(|l| l.zero_state(batch, device))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rnn::{LstmStackConfig, LstmState};
    use crate::search::to_host_floats;
    use burn::tensor::Distribution;

    fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
        to_host_floats(a - b)
            .into_iter()
            .fold(0.0, |m, d| m.max(d.abs()))
    }

    #[test]
    fn an_lstm_stack_loads_an_lstm_stack_checkpoint_and_computes_the_same() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let plain = LstmStackConfig::new(3, 4, 2).init(&device);
        let ours = RecurrentStackConfig::new(Cell::Lstm, 3, 4, 2)
            .init(&device)
            .load_record(plain.clone().into_record());
        let x = Tensor::<3>::random([2, 5, 3], Distribution::Normal(0.0, 1.0), &device);
        let keep = Tensor::<2>::from_data([[1.0, 1.0, 1.0, 0.0, 0.0], [1.0; 5]], &device);
        let zeros = || (0..2).map(|_| LstmState::zeros(2, 4, &device)).collect();
        let (expected, _) = plain.forward(x.clone(), zeros(), Some(keep.clone()));
        let (got, finals) = ours.forward(x, ours.zero_states(2, &device), Some(keep));
        assert!(max_diff(expected, got) < 1e-6);
        assert_eq!(finals.len(), 2);
    }

    #[test]
    fn a_gru_stack_steps_as_it_runs() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let stack = RecurrentStackConfig::new(Cell::Gru, 3, 4, 2).init(&device);
        assert_eq!(stack.cell(), Cell::Gru);
        let x = Tensor::<3>::random([2, 3, 3], Distribution::Normal(0.0, 1.0), &device);
        let (out, finals) = stack.forward(x.clone(), stack.zero_states(2, &device), None);
        let mut states = stack.zero_states(2, &device);
        let mut tops = Vec::new();
        for t in 0..3 {
            let (top, next) = stack.step(x.clone().slice(s![.., t, ..]).reshape([2, 3]), states);
            tops.push(top);
            states = next;
        }
        assert!(max_diff(out, Tensor::stack(tops, 1)) < 1e-5);
        for (a, b) in finals.into_iter().zip(states) {
            assert!(max_diff(a.h.unsqueeze(), b.h.unsqueeze()) < 1e-5);
            assert!(a.c.is_none() && b.c.is_none());
        }
    }
}
