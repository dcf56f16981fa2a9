//! The recurrent layers of the LSTM and attention architectures, of either [`Cell`]: an
//! LSTM ([`crate::rnn`]) or a GRU ([`crate::gru`]) layer behind one [`RecurrentLayer`], its
//! [`RecurrentState`] (a cell state for the LSTM only), and a [`RecurrentStack`] of them.
//!
//! With the LSTM cell, the parameters keep the names of the plain LSTM types, so checkpoints
//! written before the GRU existed load unchanged.

mod cell;
mod layer;
mod module;
mod stack;

pub use cell::Cell;
pub use layer::{RecurrentLayer, RecurrentLayerConfig, RecurrentState};
pub use stack::{RecurrentStack, RecurrentStackConfig};
