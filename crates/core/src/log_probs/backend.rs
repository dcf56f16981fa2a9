//! The searches' log-probabilities as a Burn backend extension on burn-flex
//! ([`super::kernel`]). Forward only: the searches run on the inference model. The
//! log-softmax is written over its input (copied first when its storage is shared).

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};

use super::kernel;
use crate::flex_host::{contiguous, flex_tensor, floats, floats_mut};

/// The searches' operations on logits `[rows, vocab]`.
#[backend_extension(Flex)]
pub trait LogProbsBackend: Backend {
    /// `log_softmax` of every row: `[rows, vocab]`.
    fn log_probs(logits: FloatTensor<Self>) -> FloatTensor<Self>;

    /// Every row's best token id (as `f32`) and its log-probability: `[rows, 2]`.
    fn best_tokens(logits: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The logits, contiguous, and their `[rows, vocab]`.
fn host(logits: FlexTensor) -> (FlexTensor, [usize; 2]) {
    let shape = logits.layout().shape();
    let dims = [shape[0], shape[1]];
    (contiguous(logits), dims)
}

impl LogProbsBackend for Flex {
    fn log_probs(logits: FlexTensor) -> FlexTensor {
        let (mut logits, [_, vocab]) = host(logits);
        kernel::log_probs_in_place(vocab, floats_mut(&mut logits));
        logits
    }

    fn best_tokens(logits: FlexTensor) -> FlexTensor {
        let (logits, [rows, vocab]) = host(logits);
        flex_tensor(kernel::best_tokens(vocab, floats(&logits)), vec![rows, 2])
    }
}
