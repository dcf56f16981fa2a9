//! The fused LSTM layer as a Burn backend extension: the operation on burn-flex, and on
//! `Autodiff<Flex>` with its own backward pass (BPTT in [`super::kernel`]).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, ExtensionType, Flex, backend_extension};
use burn::tensor::DType;

use super::kernel::{self, Dims, Inputs, Saved};
use crate::flex_host::{contiguous, flex_tensor, floats, register_grads};

/// The tensors of one fused LSTM call.
#[derive(ExtensionType)]
pub struct LstmSequence<B: Backend> {
    /// Projected inputs `[batch, len, 4h]`, bias included.
    pub xw: FloatTensor<B>,
    /// Hidden-to-gates weight `[h, 4h]`.
    pub whh: FloatTensor<B>,
    /// Initial hidden state `[batch, h]`.
    pub h0: FloatTensor<B>,
    /// Initial cell state `[batch, h]`.
    pub c0: FloatTensor<B>,
    /// The padding.
    #[extension_type]
    pub keep: Keep<B>,
}

/// Which positions are real.
#[derive(ExtensionType)]
pub enum Keep<B: Backend> {
    /// `[batch, len]`: 1 at real, 0 at padded positions (a constant: no gradient).
    Mask(FloatTensor<B>),
    /// Every position.
    All,
}

/// The fused LSTM layer operation.
#[backend_extension(Flex, Autodiff)]
pub trait FusedLstmBackend: Backend {
    /// The recurrence over a whole sequence (from the last position to the first when
    /// `reverse`). Returns `[batch, len + 1, h]`: the hidden state after each position, then
    /// the final cell state.
    fn fused_lstm(#[extension_type] seq: LstmSequence<Self>, reverse: bool) -> FloatTensor<Self>;
}

impl FusedLstmBackend for Flex {
    fn fused_lstm(seq: LstmSequence<Self>, reverse: bool) -> FloatTensor<Self> {
        run_forward(seq, reverse, false).output
    }
}

/// The forward call's output, and its tape when asked for.
struct Forward {
    output: FlexTensor,
    tape: Option<FlexTensor>,
}

fn dims_of(xw: &FlexTensor) -> Dims {
    let shape = xw.layout().shape();
    Dims {
        batch: shape[0],
        len: shape[1],
        hidden: shape[2] / 4,
    }
}

/// The inputs of a call, contiguous, with the weight and mask kept for the backward pass.
struct HostInputs {
    dims: Dims,
    xw: FlexTensor,
    whh: FlexTensor,
    h0: FlexTensor,
    c0: FlexTensor,
    keep: Option<FlexTensor>,
}

impl HostInputs {
    fn new(seq: LstmSequence<Flex>) -> Self {
        assert_eq!(seq.xw.dtype(), DType::F32, "the fused LSTM computes in f32");
        let xw = contiguous(seq.xw);
        HostInputs {
            dims: dims_of(&xw),
            xw,
            whh: contiguous(seq.whh),
            h0: contiguous(seq.h0),
            c0: contiguous(seq.c0),
            keep: match seq.keep {
                Keep::Mask(keep) => Some(contiguous(keep)),
                Keep::All => None,
            },
        }
    }
}

fn run_forward(seq: LstmSequence<Flex>, reverse: bool, with_tape: bool) -> Forward {
    forward_host(HostInputs::new(seq), reverse, with_tape)
}

fn forward_host(host: HostInputs, reverse: bool, with_tape: bool) -> Forward {
    let dims = host.dims;
    let mut tape = with_tape.then(|| vec![0.0f32; dims.tape_len()]);
    let inputs = Inputs {
        xw: floats(&host.xw),
        whh: floats(&host.whh),
        h0: floats(&host.h0),
        c0: floats(&host.c0),
        keep: host.keep.as_ref().map(floats),
        reverse,
    };
    let output = kernel::forward(dims, inputs, tape.as_deref_mut());
    Forward {
        output: flex_tensor(output, vec![dims.batch, dims.len + 1, dims.hidden]),
        tape: tape.map(|t| flex_tensor(t, vec![dims.tape_len()])),
    }
}

/// What the backward pass keeps of a tracked call.
#[derive(Debug, Clone)]
struct LstmState {
    dims: Dims,
    whh: FlexTensor,
    keep: Option<FlexTensor>,
    reverse: bool,
    tape: FlexTensor,
}

/// The backward step of the fused LSTM: gradients of `xw`, `whh`, `h0` and `c0`.
#[derive(Debug)]
struct FusedLstmBackward;

impl Backward<Flex, 4> for FusedLstmBackward {
    type State = LstmState;

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [xw, whh, h0, c0] = ops.parents.map(|node| node.map(|n| n.id));
        let dout = contiguous(grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let Dims { batch, len, hidden } = state.dims;
        let saved = Saved {
            whh: floats(&state.whh),
            keep: state.keep.as_ref().map(floats),
            reverse: state.reverse,
            tape: floats(&state.tape),
        };
        let g = kernel::backward(state.dims, saved, floats(&dout));
        let results = [
            (xw, g.dxw, vec![batch, len, 4 * hidden]),
            (whh, g.dwhh, vec![hidden, 4 * hidden]),
            (h0, g.dh0, vec![batch, hidden]),
            (c0, g.dc0, vec![batch, hidden]),
        ];
        register_grads(grads, results);
    }
}

impl<C: CheckpointStrategy> FusedLstmBackend for Autodiff<Flex, C> {
    fn fused_lstm(seq: LstmSequence<Self>, reverse: bool) -> FloatTensor<Self> {
        let nodes = [seq.xw.node(), seq.whh.node(), seq.h0.node(), seq.c0.node()];
        let inner = LstmSequence::<Flex> {
            xw: seq.xw.into_primitive(),
            whh: seq.whh.into_primitive(),
            h0: seq.h0.into_primitive(),
            c0: seq.c0.into_primitive(),
            keep: match seq.keep {
                Keep::Mask(keep) => Keep::Mask(keep.into_primitive()),
                Keep::All => Keep::All,
            },
        };
        match FusedLstmBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let host = HostInputs::new(inner);
                let whh = host.whh.clone();
                let keep = host.keep.clone();
                let dims = host.dims;
                let forward = forward_host(host, reverse, true);
                let state = LstmState {
                    dims,
                    whh,
                    keep,
                    reverse,
                    tape: forward.tape.expect("a tape was asked for"),
                };
                prep.finish(state, forward.output)
            }
            OpsKind::UnTracked(prep) => prep.finish(run_forward(inner, reverse, false).output),
        }
    }
}
