//! [`RecurrentLayer`]: an LSTM or a GRU layer behind one interface, and its state.

use burn::nn::Linear;
use burn::prelude::*;

use super::Cell;
use crate::gru::{GruLayer, GruLayerConfig};
use crate::rnn::{LstmLayer, LstmLayerConfig, LstmState};

/// The recurrent state of one layer, `[batch, d_hidden]` each.
#[derive(Debug, Clone)]
pub struct RecurrentState {
    /// Hidden state.
    pub h: Tensor<2>,
    /// The LSTM's cell state; `None` for the GRU, which has none.
    pub c: Option<Tensor<2>>,
}

impl RecurrentState {
    /// The all-zero state of `cell`.
    pub fn zeros(cell: Cell, batch: usize, d_hidden: usize, device: &Device) -> Self {
        let zeros = || Tensor::zeros([batch, d_hidden], device);
        Self {
            h: zeros(),
            c: (cell == Cell::Lstm).then(zeros),
        }
    }

    /// Keeps (and repeats) the batch rows named by `rows`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            h: self.h.clone().select(0, rows.clone()),
            c: self.c.clone().map(|c| c.select(0, rows)),
        }
    }

    fn into_lstm(self) -> LstmState {
        LstmState {
            h: self.h,
            c: self.c.expect("an LSTM layer's state has a cell state"),
        }
    }
}

impl From<LstmState> for RecurrentState {
    fn from(state: LstmState) -> Self {
        Self {
            h: state.h,
            c: Some(state.c),
        }
    }
}

/// Configuration of one [`RecurrentLayer`].
#[derive(Config, Debug)]
pub struct RecurrentLayerConfig {
    /// The cell.
    pub cell: Cell,
    /// Input features.
    pub d_input: usize,
    /// Hidden size.
    pub d_hidden: usize,
}

impl RecurrentLayerConfig {
    /// Builds the layer of the configured cell.
    pub fn init(&self, device: &Device) -> RecurrentLayer {
        match self.cell {
            Cell::Lstm => {
                RecurrentLayer::Lstm(LstmLayerConfig::new(self.d_input, self.d_hidden).init(device))
            }
            Cell::Gru => {
                RecurrentLayer::Gru(GruLayerConfig::new(self.d_input, self.d_hidden).init(device))
            }
        }
    }
}

/// One recurrent layer of either cell. Its parameters are named as the cell's own (see
/// `module.rs`): an LSTM layer's checkpoint entries are those of an [`LstmLayer`].
#[derive(Debug)]
pub enum RecurrentLayer {
    /// An LSTM layer.
    Lstm(LstmLayer),
    /// A GRU layer.
    Gru(GruLayer),
}

impl RecurrentLayer {
    /// The cell.
    pub fn cell(&self) -> Cell {
        match self {
            Self::Lstm(_) => Cell::Lstm,
            Self::Gru(_) => Cell::Gru,
        }
    }

    /// Hidden size.
    pub fn d_hidden(&self) -> usize {
        match self {
            Self::Lstm(l) => l.d_hidden,
            Self::Gru(l) => l.d_hidden,
        }
    }

    /// The input projection to the gates, `[d_input, gates · d_hidden]` with its bias.
    pub fn input(&self) -> &Linear {
        match self {
            Self::Lstm(l) => &l.input,
            Self::Gru(l) => &l.input,
        }
    }

    /// The all-zero state for `batch` sentences.
    pub fn zero_state(&self, batch: usize, device: &Device) -> RecurrentState {
        RecurrentState::zeros(self.cell(), batch, self.d_hidden(), device)
    }

    /// One step from an already projected input `xw: [batch, gates · d_hidden]` (see
    /// [`RecurrentLayer::input`]).
    pub fn step_projected(&self, xw: Tensor<2>, state: RecurrentState) -> RecurrentState {
        match self {
            Self::Lstm(l) => l.step_projected(xw, state.into_lstm()).into(),
            Self::Gru(l) => gru_state(l.step_projected(xw, state.h)),
        }
    }

    /// One step from the raw input `x: [batch, d_input]`.
    pub fn step(&self, x: Tensor<2>, state: RecurrentState) -> RecurrentState {
        match self {
            Self::Lstm(l) => l.step(x, state.into_lstm()).into(),
            Self::Gru(l) => gru_state(l.step(x, state.h)),
        }
    }

    /// Runs over `x: [batch, len, d_input]`, returning the hidden states
    /// `[batch, len, d_hidden]` and the final state; `keep: [batch, len]` (1 real, 0 padded)
    /// carries the state unchanged through padded positions.
    pub fn forward(
        &self,
        x: Tensor<3>,
        state: RecurrentState,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, RecurrentState) {
        match self {
            Self::Lstm(l) => {
                let (out, fin) = l.forward(x, state.into_lstm(), keep);
                (out, fin.into())
            }
            Self::Gru(l) => {
                let (out, fin) = l.forward(x, state.h, keep);
                (out, gru_state(fin))
            }
        }
    }

    /// Like [`RecurrentLayer::forward`], from the last position to the first (the backward
    /// direction of a bidirectional encoder; each sentence's pass starts at its own last real
    /// token).
    pub fn forward_reverse(
        &self,
        x: Tensor<3>,
        state: RecurrentState,
        keep: Option<Tensor<2>>,
    ) -> (Tensor<3>, RecurrentState) {
        match self {
            Self::Lstm(l) => {
                let (out, fin) = l.forward_reverse(x, state.into_lstm(), keep);
                (out, fin.into())
            }
            Self::Gru(l) => {
                let (out, fin) = l.forward_reverse(x, state.h, keep);
                (out, gru_state(fin))
            }
        }
    }
}

fn gru_state(h: Tensor<2>) -> RecurrentState {
    RecurrentState { h, c: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::to_host_floats;
    use burn::tensor::Distribution;

    #[test]
    fn each_cell_has_its_state_and_gate_width() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let x = Tensor::<3>::random([2, 3, 5], Distribution::Normal(0.0, 1.0), &device);
        for cell in Cell::ALL {
            let layer = RecurrentLayerConfig::new(cell, 5, 4).init(&device);
            assert_eq!(layer.cell(), cell);
            assert_eq!(layer.input().weight.dims(), [5, cell.gates() * 4]);
            let zero = layer.zero_state(2, &device);
            assert_eq!(zero.c.is_some(), cell == Cell::Lstm);
            let (out, fin) = layer.forward(x.clone(), zero.clone(), None);
            assert_eq!(out.dims(), [2, 3, 4]);
            assert_eq!(fin.c.is_some(), cell == Cell::Lstm);
            // The projected step is the raw step.
            let x0 = x.clone().slice(s![.., 0, ..]).reshape([2, 5]);
            let raw = layer.step(x0.clone(), zero.clone());
            let projected = layer.step_projected(layer.input().forward(x0), zero.clone());
            let diff = to_host_floats(raw.h - projected.h.clone());
            assert!(diff.iter().all(|d| d.abs() < 1e-6), "{cell}: {diff:?}");
            // The first output is the first step.
            let first = to_host_floats(out.slice(s![.., 0, ..]).reshape([2, 4]) - projected.h);
            assert!(first.iter().all(|d| d.abs() < 1e-6), "{cell}: {first:?}");
            let (back, _) = layer.forward_reverse(x.clone(), zero, None);
            assert_eq!(back.dims(), [2, 3, 4]);
        }
    }

    #[test]
    fn selecting_rows_keeps_the_cell_state_only_where_there_is_one() {
        let device = Device::flex();
        let rows = Tensor::<1, Int>::from_data([1, 1, 0], &device);
        for cell in Cell::ALL {
            let state = RecurrentState::zeros(cell, 2, 3, &device).select(rows.clone());
            assert_eq!(state.h.dims(), [3, 3]);
            assert_eq!(
                state.c.map(|c| c.dims()),
                (cell == Cell::Lstm).then_some([3, 3])
            );
        }
    }
}
