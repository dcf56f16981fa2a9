//! The additive score as a Burn backend extension: the operation on burn-flex, and on
//! `Autodiff<Flex>` with its own backward pass ([`super::kernel`]).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, backend_extension};

use super::kernel::{self, Dims, Inputs};
use crate::flex_host::{contiguous, flex_tensor, floats, register_grads};

/// The additive score operation.
#[backend_extension(Flex, Autodiff)]
pub trait AdditiveScoreBackend: Backend {
    /// `e[b, s] = Σ_d v[d] · tanh(keys[b, s, d] + query[b, d])`: `keys: [batch, src_len, d]`,
    /// `query: [batch, d]`, `v: [d]` → `[batch, src_len]`.
    fn additive_scores(
        keys: FloatTensor<Self>,
        query: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl AdditiveScoreBackend for Flex {
    fn additive_scores(
        keys: FloatTensor<Self>,
        query: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let host = HostInputs::new(keys, query, v);
        forward_host(&host, false).scores
    }
}

/// The inputs of a call, contiguous.
struct HostInputs {
    dims: Dims,
    keys: FlexTensor,
    query: FlexTensor,
    v: FlexTensor,
}

impl HostInputs {
    fn new(keys: FlexTensor, query: FlexTensor, v: FlexTensor) -> Self {
        let shape = keys.layout().shape();
        let dims = Dims {
            batch: shape[0],
            src_len: shape[1],
            d: shape[2],
        };
        HostInputs {
            dims,
            keys: contiguous(keys),
            query: contiguous(query),
            v: contiguous(v),
        }
    }
}

/// The forward call's scores, and its tape when asked for.
struct Forward {
    scores: FlexTensor,
    tape: Option<FlexTensor>,
}

fn forward_host(host: &HostInputs, with_tape: bool) -> Forward {
    let dims = host.dims;
    let mut tape = with_tape.then(|| vec![0.0f32; dims.keys_len()]);
    let inputs = Inputs {
        keys: floats(&host.keys),
        query: floats(&host.query),
        v: floats(&host.v),
    };
    let scores = kernel::forward(dims, inputs, tape.as_deref_mut());
    Forward {
        scores: flex_tensor(scores, vec![dims.batch, dims.src_len]),
        tape: tape.map(|t| flex_tensor(t, vec![dims.keys_len()])),
    }
}

/// What the backward pass keeps of a tracked call.
#[derive(Debug, Clone)]
struct ScoreState {
    dims: Dims,
    v: FlexTensor,
    tape: FlexTensor,
}

/// The backward step: gradients of `keys`, `query` and `v`.
#[derive(Debug)]
struct AdditiveScoreBackward;

impl Backward<Flex, 3> for AdditiveScoreBackward {
    type State = ScoreState;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [keys, query, v] = ops.parents.map(|node| node.map(|n| n.id));
        let de = contiguous(grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let Dims { batch, src_len, d } = state.dims;
        let g = kernel::backward(
            state.dims,
            floats(&state.v),
            floats(&state.tape),
            floats(&de),
        );
        let results = [
            (keys, g.dkeys, vec![batch, src_len, d]),
            (query, g.dquery, vec![batch, d]),
            (v, g.dv, vec![d]),
        ];
        register_grads(grads, results);
    }
}

impl<C: CheckpointStrategy> AdditiveScoreBackend for Autodiff<Flex, C> {
    fn additive_scores(
        keys: FloatTensor<Self>,
        query: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let nodes = [keys.node(), query.node(), v.node()];
        let host = HostInputs::new(
            keys.into_primitive(),
            query.into_primitive(),
            v.into_primitive(),
        );
        match AdditiveScoreBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let forward = forward_host(&host, true);
                let state = ScoreState {
                    dims: host.dims,
                    v: host.v,
                    tape: forward.tape.expect("a tape was asked for"),
                };
                prep.finish(state, forward.scores)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward_host(&host, false).scores),
        }
    }
}
