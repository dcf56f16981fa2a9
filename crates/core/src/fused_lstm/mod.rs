//! A fused LSTM layer operation for the flex backend: the whole recurrence of one layer as one
//! operation with its own backward pass.
//!
//! Through autodiff, [`crate::rnn::LstmLayer`]'s recurrence is about fifteen tensor operations
//! per time step, each a node of the graph with its own allocations, and on burn-flex the
//! element-wise ones (64 × 2048 values at the benchmark shapes) run below its threading
//! threshold, on one core. The backward pass then computes the hidden weight's gradient step
//! by step (`h_{t−1}ᵀ · dgates_t`, k = batch) and adds the pieces. Here, the forward pass is
//! one gemm per step plus one pass over the rows for the cell arithmetic (threaded over the
//! rows), and the backward pass runs backpropagation through time itself and computes that
//! gradient as one gemm over all steps (k = batch · len). See docs/BENCHMARKS.md.
//!
//! It is a Burn backend extension ([`backend::FusedLstmBackend`]) implemented for `Flex` and
//! `Autodiff<Flex>`: [`lstm_sequence`] runs on flex devices only. [`supported`] says where
//! [`crate::rnn::LstmLayer`] uses it (flex); other backends keep the layer's tensor-operation
//! path.

mod backend;
pub mod kernel;

use burn::backend::Dispatch;
use burn::prelude::*;

use crate::lstm_state::LstmState;
use backend::{FusedLstmBackend, Keep, LstmSequence};

/// Whether [`crate::rnn::LstmLayer`] runs its sequences through [`lstm_sequence`] on
/// `device`: burn-flex, with autodiff (training) and without (translation). Since the cell's
/// activations are vectorised ([`crate::vmath`]) the fused forward beats the step-by-step
/// tensor operations in inference as well (docs/BENCHMARKS.md, change 11).
pub fn supported(device: &Device) -> bool {
    *device == Device::flex()
}

/// The LSTM recurrence over a whole sequence: `xw: [batch, len, 4h]` the projected inputs
/// (bias included, gate order `i f g o`), `whh: [h, 4h]` the hidden-to-gates weight,
/// `keep: [batch, len]` 1 at real and 0 at padded positions (the state is carried through
/// those). Returns the hidden states `[batch, len, h]` and the final state, as
/// [`crate::rnn::LstmLayer::forward`] (or `forward_reverse` when `reverse`) does.
///
/// Only on [`supported`] devices.
pub fn lstm_sequence(
    xw: Tensor<3>,
    whh: Tensor<2>,
    state: LstmState,
    keep: Option<Tensor<2>>,
    reverse: bool,
) -> (Tensor<3>, LstmState) {
    let [batch, len, _] = xw.dims();
    let [hidden, _] = whh.dims();
    let seq = LstmSequence {
        xw: xw.into_dispatch(),
        whh: whh.into_dispatch(),
        h0: state.h.into_dispatch(),
        c0: state.c.into_dispatch(),
        keep: match keep {
            Some(keep) => Keep::Mask(keep.into_dispatch()),
            None => Keep::All,
        },
    };
    let packed =
        Tensor::<3>::from_dispatch(<Dispatch as FusedLstmBackend>::fused_lstm(seq, reverse));
    let hs = packed.clone().slice(s![.., 0..len, ..]);
    let c = packed.slice(s![.., len, ..]).reshape([batch, hidden]);
    let last = if reverse { 0 } else { len - 1 };
    let h = hs.clone().slice(s![.., last, ..]).reshape([batch, hidden]);
    (hs, LstmState { h, c })
}
