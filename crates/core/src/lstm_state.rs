//! The state an LSTM layer carries from one time step to the next. Its own file so that both
//! the step-by-step layer (`rnn`) and the fused operation (`fused_lstm`) can use it without
//! importing each other.

use burn::prelude::*;

/// The recurrent state of one layer, `[batch, d_hidden]` each.
#[derive(Debug, Clone)]
pub struct LstmState {
    /// Hidden state.
    pub h: Tensor<2>,
    /// Cell state.
    pub c: Tensor<2>,
}

impl LstmState {
    /// All-zero state.
    pub fn zeros(batch: usize, d_hidden: usize, device: &Device) -> Self {
        Self {
            h: Tensor::zeros([batch, d_hidden], device),
            c: Tensor::zeros([batch, d_hidden], device),
        }
    }
}
