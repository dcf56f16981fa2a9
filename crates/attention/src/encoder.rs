//! The bidirectional LSTM encoder: per layer a forward and a backward [`LstmLayer`], their
//! outputs concatenated and fed to the next layer.
//!
//! Padding-aware: with right padding and the `keep` weights, the forward pass carries its state
//! through the padding after a sentence, and the backward pass starts from the zero state at
//! each sentence's own last token, so padded positions never change the outputs at real
//! positions or the final states.

use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::rnn::{LstmLayer, LstmLayerConfig, LstmState};

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
                let layer = || LstmLayerConfig::new(d_input, self.d_hidden).init(device);
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
    pub fwd: LstmLayer,
    /// Reads the sentence right to left.
    pub bwd: LstmLayer,
}

/// The final states of one bidirectional layer.
#[derive(Debug, Clone)]
pub struct BiFinal {
    /// The forward direction's state after each sentence's last real token.
    pub fwd: LstmState,
    /// The backward direction's state after the first token.
    pub bwd: LstmState,
}

/// What [`BiLstmEncoder::forward`] returns.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The top layer's outputs `[batch, len, 2 * d_hidden]`, forward features first.
    pub states: Tensor<3>,
    /// Each layer's final states, bottom first.
    pub finals: Vec<BiFinal>,
}

/// A stack of bidirectional LSTM layers.
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
            let zeros = || LstmState::zeros(batch, layer.fwd.d_hidden, &device);
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
        2 * self.layers[0].fwd.d_hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use honyaku_conformance::max_abs_diff;

    #[test]
    fn padding_never_changes_real_outputs_or_final_states() {
        let device = Device::flex();
        let encoder = BiLstmEncoderConfig::new(3, 4, 2).init(&device);
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
        for (a, b) in padded.finals.into_iter().zip(alone.finals) {
            assert!(max_abs_diff(a.fwd.h, b.fwd.h) < 1e-6);
            assert!(max_abs_diff(a.fwd.c, b.fwd.c) < 1e-6);
            assert!(max_abs_diff(a.bwd.h, b.bwd.h) < 1e-6);
            assert!(max_abs_diff(a.bwd.c, b.bwd.c) < 1e-6);
        }
    }
}
