//! The per-token losses as a Burn backend extension: the operation on burn-flex, and on
//! `Autodiff<Flex>` with its own backward pass ([`super::kernel`]).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};

use super::kernel;
use crate::flex_host::{contiguous, flex_tensor, floats};

/// The per-token loss operation.
#[backend_extension(Flex, Autodiff)]
pub trait TokenLossBackend: Backend {
    /// `logits: [rows, vocab]`, `targets: [rows]` (ids as floats, a constant) → `[rows, 2]`:
    /// each row's `−log p(target)` and `−mean_v log p_v`.
    fn token_losses(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl TokenLossBackend for Flex {
    fn token_losses(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        forward_host(&HostInputs::new(logits, targets)).losses
    }
}

/// The inputs of a call, contiguous.
#[derive(Debug, Clone)]
struct HostInputs {
    vocab: usize,
    logits: FlexTensor,
    targets: FlexTensor,
}

impl HostInputs {
    fn new(logits: FlexTensor, targets: FlexTensor) -> Self {
        HostInputs {
            vocab: logits.layout().shape()[1],
            logits: contiguous(logits),
            targets: contiguous(targets),
        }
    }
}

/// The forward call's losses and each row's `log Σ e^z`.
struct Forward {
    losses: FlexTensor,
    lse: Vec<f32>,
}

fn forward_host(host: &HostInputs) -> Forward {
    let targets = floats(&host.targets);
    let out = kernel::forward(host.vocab, floats(&host.logits), targets);
    Forward {
        losses: flex_tensor(out.losses, vec![targets.len(), 2]),
        lse: out.lse,
    }
}

/// What the backward pass keeps of a tracked call: the inputs and each row's `log Σ e^z`.
#[derive(Debug, Clone)]
struct LossState {
    inputs: HostInputs,
    lse: Vec<f32>,
}

/// The backward step: the gradient of the logits.
#[derive(Debug)]
struct TokenLossBackward;

impl Backward<Flex, 1> for TokenLossBackward {
    type State = LossState;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [logits] = ops.parents;
        let dlosses = contiguous(grads.consume::<Flex>(&ops.node));
        let LossState { inputs, lse } = ops.state;
        let targets = floats(&inputs.targets);
        let dz = kernel::backward(
            inputs.vocab,
            floats(&inputs.logits),
            targets,
            &lse,
            floats(&dlosses),
        );
        if let Some(node) = logits {
            grads.register::<Flex>(node.id, flex_tensor(dz, vec![targets.len(), inputs.vocab]));
        }
    }
}

impl<C: CheckpointStrategy> TokenLossBackend for Autodiff<Flex, C> {
    fn token_losses(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        let nodes = [logits.node()];
        let inputs = HostInputs::new(logits.into_primitive(), targets.into_primitive());
        match TokenLossBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let forward = forward_host(&inputs);
                let state = LossState {
                    inputs,
                    lse: forward.lse,
                };
                prep.finish(state, forward.losses)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward_host(&inputs).losses),
        }
    }
}
