//! The per-token losses of [`crate::loss::sequence_loss`] as one fused operation on
//! burn-flex: `−log p(target)` and the label-smoothing term `−mean_v log p_v` of every row of
//! logits, with its own backward pass.
//!
//! As tensor operations (`log_softmax`, `gather`, `mean_dim`) the loss is several passes over
//! the `[rows, vocab]` logits forward and backward, with scalar `expf` (about a tenth of the
//! tiny models' training time; docs/BENCHMARKS.md, change 13). Here the forward pass is one
//! pass per row (the `exp` vectorised by [`crate::vmath`]) and the backward pass recomputes the
//! probabilities in one more, writing the gradient directly; both are threaded over the rows.
//!
//! A Burn backend extension ([`backend::TokenLossBackend`]) for `Flex` and `Autodiff<Flex>`;
//! [`supported`] says where it runs. Other backends keep the tensor operations.

mod backend;
pub mod kernel;

use burn::backend::Dispatch;
use burn::prelude::*;

use backend::TokenLossBackend;

/// Whether [`token_losses`] runs on `device`: burn-flex, with or without autodiff.
pub fn supported(device: &Device) -> bool {
    *device == Device::flex()
}

/// The two losses of each row.
#[derive(Debug, Clone)]
pub struct TokenLosses {
    /// `[rows]`: `−log p(target)`.
    pub nll: Tensor<1>,
    /// `[rows]`: `−mean_v log p_v`, the label-smoothing term.
    pub smoothing: Tensor<1>,
}

/// The losses of `logits: [rows, vocab]` against `targets: [rows]`.
///
/// Only on [`supported`] devices.
///
/// # Panics
///
/// If a target is outside `0..vocab`.
pub fn token_losses(logits: Tensor<2>, targets: Tensor<1, Int>) -> TokenLosses {
    let [rows, _] = logits.dims();
    let both = Tensor::<2>::from_dispatch(<Dispatch as TokenLossBackend>::token_losses(
        logits.into_dispatch(),
        targets.float().into_dispatch(),
    ));
    TokenLosses {
        nll: both.clone().slice(s![.., 0]).reshape([rows]),
        smoothing: both.slice(s![.., 1]).reshape([rows]),
    }
}
