//! The bidirectional recurrent encoder: per layer a forward and a backward [`RecurrentLayer`]
//! (LSTM or GRU), their outputs concatenated and fed to the next layer.
//!
//! Padding-aware: with right padding and the `keep` weights, the forward pass carries its state
//! through the padding after a sentence, and the backward pass starts from the zero state at
//! each sentence's own last token, so padded positions never change the outputs at real
//! positions or the final states.

use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::recurrent::{Cell, RecurrentLayer, RecurrentLayerConfig, RecurrentState};

/// Configuration of a [`BiLstmEncoder`].
#[derive(Config, Debug)]
pub struct BiLstmEncoderConfig {
    /// Input features of the first layer.
    pub d_input: usize,
    /// Hidden size of each direction; outputs have twice as many features.
    pub d_hidden: usize,
    /// Number of bidirectional layers.
    pub n_layers: usize,
    /// Dropout between layers.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// The recurrent cell of every layer.
    #[config(default = "Cell::Lstm")]
    pub cell: Cell,
}

impl BiLstmEncoderConfig {
    /// Builds the encoder.
    pub fn init(&self, device: &Device) -> BiLstmEncoder {
        let layers = (0..self.n_layers)
            .map(|i| {
                let d_input = if i == 0 {
                    self.d_input
                } else {
                    2 * self.d_hidden
                };
                let layer =
                    || RecurrentLayerConfig::new(self.cell, d_input, self.d_hidden).init(device);
                BiLstmLayer {
                    fwd: layer(),
                    bwd: layer(),
                }
            })
            .collect();
        BiLstmEncoder {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// One bidirectional layer.
#[derive(Module, Debug)]
pub struct BiLstmLayer {
    /// Reads the sentence left to right.
    pub fwd: RecurrentLayer,
    /// Reads the sentence right to left.
    pub bwd: RecurrentLayer,
}

/// The final states of one bidirectional layer.
#[derive(Debug, Clone)]
pub struct BiFinal {
    /// The forward direction's state after each sentence's last real token.
    pub fwd: RecurrentState,
    /// The backward direction's state after the first token.
    pub bwd: RecurrentState,
}

/// What [`BiLstmEncoder::forward`] returns.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The top layer's outputs `[batch, len, 2 * d_hidden]`, forward features first.
    pub states: Tensor<3>,
    /// Each layer's final states, bottom first.
    pub finals: Vec<BiFinal>,
}

/// A stack of bidirectional recurrent layers.
#[derive(Module, Debug)]
pub struct BiLstmEncoder {
    /// The layers, bottom first.
    pub layers: Vec<BiLstmLayer>,
    /// Dropout on each layer's output except the last.
    pub dropout: Dropout,
}

impl BiLstmEncoder {
    /// Encodes `x: [batch, len, d_input]` with `keep: [batch, len]` (1 at real, 0 at padded
    /// positions).
    pub fn forward(&self, x: Tensor<3>, keep: Tensor<2>) -> Encoded {
        let [batch, _, _] = x.dims();
        let device = x.device();
        let last = self.layers.len() - 1;
        let mut x = x;
        let mut finals = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let zeros = || layer.fwd.zero_state(batch, &device);
            let (fwd_out, fwd) = layer.fwd.forward(x.clone(), zeros(), Some(keep.clone()));
            let (bwd_out, bwd) = layer.bwd.forward_reverse(x, zeros(), Some(keep.clone()));
            let out = Tensor::cat(vec![fwd_out, bwd_out], 2);
            x = if i < last {
                self.dropout.apply(out)
            } else {
                out
            };
            finals.push(BiFinal { fwd, bwd });
        }
        Encoded { states: x, finals }
    }

    /// Size of the outputs: twice the per-direction hidden size.
    pub fn d_output(&self) -> usize {
        2 * self.layers[0].fwd.d_hidden()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use honyaku_conformance::max_abs_diff;

    #[test]
    fn padding_never_changes_real_outputs_or_final_states() {
        for cell in Cell::ALL {
            padding_changes_nothing(cell);
        }
    }

    fn padding_changes_nothing(cell: Cell) {
        let device = Device::flex();
        let encoder = BiLstmEncoderConfig::new(3, 4, 2)
            .with_cell(cell)
            .init(&device);
        let x = Tensor::<3>::random([1, 3, 3], Distribution::Normal(0.0, 1.0), &device);
        let alone = encoder.forward(x.clone(), Tensor::ones([1, 3], &device));
        // The same sentence followed by two padded positions holding arbitrary inputs.
        let junk = Tensor::<3>::random([1, 2, 3], Distribution::Normal(0.0, 5.0), &device);
        let padded = Tensor::cat(vec![x, junk], 1);
        let keep = Tensor::<2>::from_data([[1.0, 1.0, 1.0, 0.0, 0.0]], &device);
        let padded = encoder.forward(padded, keep);
        assert_eq!(padded.states.dims(), [1, 5, 8]);
        let real = padded.states.slice(s![.., 0..3, ..]);
        assert!(max_abs_diff(real, alone.states) < 1e-6);
        let states = |f: BiFinal| [Some(f.fwd.h), f.fwd.c, Some(f.bwd.h), f.bwd.c];
        for (a, b) in padded.finals.into_iter().zip(alone.finals) {
            let (a, b) = (states(a), states(b));
            let present = a.iter().filter(|s| s.is_some()).count();
            assert_eq!(present, 2 * cell.states(), "{cell}");
            for (a, b) in a.into_iter().zip(b) {
                assert_eq!(a.is_some(), b.is_some(), "{cell}");
                if let (Some(a), Some(b)) = (a, b) {
                    assert!(max_abs_diff(a, b) < 1e-6, "{cell}");
                }
            }
        }
    }
}
