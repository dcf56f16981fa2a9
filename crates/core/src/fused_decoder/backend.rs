//! The fused attentional decoder as a Burn backend extension: the operation on burn-flex, and
//! on `Autodiff<Flex>` with its own backward pass ([`super::backward`]).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, ExtensionType, Flex, backend_extension};

use super::backward;
use super::kernel::{self, Dims, Inputs, Tape};
pub(crate) use crate::flex_host::Constant;
use crate::flex_host::{constant, contiguous, flex_tensor, floats, register_grads};

/// The tensors of one call (layouts in [`super::kernel`]).
#[derive(ExtensionType)]
pub struct DecoderTensors<B: Backend> {
    pub xw: FloatTensor<B>,
    pub w_feed: FloatTensor<B>,
    pub whh: FloatTensor<B>,
    pub h0: FloatTensor<B>,
    pub c0: FloatTensor<B>,
    pub keys: FloatTensor<B>,
    pub values: FloatTensor<B>,
    pub w_query: FloatTensor<B>,
    pub b_query: FloatTensor<B>,
    pub score: FloatTensor<B>,
    pub w_combine: FloatTensor<B>,
    /// `[batch, src_len]`, 1 at padded source positions.
    #[extension_type]
    pub pad: Constant<B>,
    /// `[batch, len, h]`, the scaled dropout mask of the attentional vectors.
    #[extension_type]
    pub drop: Constant<B>,
}

/// The fused attentional decoder operation.
#[backend_extension(Flex, Autodiff)]
pub trait FusedDecoderBackend: Backend {
    /// The attentional vectors `[batch, len, h]` of a teacher-forced sequence.
    fn fused_attentional_decoder(
        #[extension_type] tensors: DecoderTensors<Self>,
    ) -> FloatTensor<Self>;
}

impl FusedDecoderBackend for Flex {
    fn fused_attentional_decoder(tensors: DecoderTensors<Self>) -> FloatTensor<Self> {
        let host = HostInputs::new(tensors);
        let (out, _) = kernel::forward(host.dims, host.inputs(), false);
        host.output(out)
    }
}

/// The inputs of a call, contiguous; kept whole for the backward pass.
#[derive(Debug, Clone)]
struct HostInputs {
    dims: Dims,
    /// In the order of [`DecoderTensors`]' gradient inputs.
    tensors: [FlexTensor; 11],
    pad: Option<FlexTensor>,
    drop: Option<FlexTensor>,
}

impl HostInputs {
    fn new(t: DecoderTensors<Flex>) -> Self {
        let tensors = [
            t.xw,
            t.w_feed,
            t.whh,
            t.h0,
            t.c0,
            t.keys,
            t.values,
            t.w_query,
            t.b_query,
            t.score,
            t.w_combine,
        ]
        .map(contiguous);
        let shape = |i: usize| tensors[i].layout().shape().to_vec();
        let (xw, keys, values) = (shape(0), shape(5), shape(6));
        let dims = Dims {
            batch: xw[0],
            len: xw[1],
            src_len: keys[1],
            hidden: xw[2] / 4,
            d_value: values[2],
            d_attention: keys[2],
        };
        HostInputs {
            dims,
            tensors,
            pad: constant(t.pad),
            drop: constant(t.drop),
        }
    }

    fn inputs(&self) -> Inputs<'_> {
        let f = |i: usize| floats(&self.tensors[i]);
        Inputs {
            xw: f(0),
            w_feed: f(1),
            whh: f(2),
            h0: f(3),
            c0: f(4),
            keys: f(5),
            values: f(6),
            w_query: f(7),
            b_query: f(8),
            score: f(9),
            w_combine: f(10),
            pad: self.pad.as_ref().map(floats),
            drop: self.drop.as_ref().map(floats),
        }
    }

    fn output(&self, out: Vec<f32>) -> FlexTensor {
        let Dims {
            batch, len, hidden, ..
        } = self.dims;
        flex_tensor(out, vec![batch, len, hidden])
    }
}

/// What the backward pass keeps of a tracked call.
#[derive(Debug, Clone)]
struct DecoderState {
    host: HostInputs,
    tape: Tape,
}

/// The backward step: the gradients of the eleven tensor inputs.
#[derive(Debug)]
struct FusedDecoderBackward;

impl Backward<Flex, 11> for FusedDecoderBackward {
    type State = DecoderState;

    fn backward(
        self,
        ops: Ops<Self::State, 11>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let dout = contiguous(grads.consume::<Flex>(&ops.node));
        let DecoderState { host, tape } = ops.state;
        let g = backward::backward(host.dims, host.inputs(), &tape, floats(&dout));
        let values = [
            g.dxw,
            g.dw_feed,
            g.dwhh,
            g.dh0,
            g.dc0,
            g.dkeys,
            g.dvalues,
            g.dw_query,
            g.db_query,
            g.dscore,
            g.dw_combine,
        ];
        let shapes = host.tensors.iter().map(|t| t.layout().shape().to_vec());
        let nodes = ops.parents.into_iter().map(|node| node.map(|n| n.id));
        let results = nodes.zip(values).zip(shapes).map(|((n, v), s)| (n, v, s));
        register_grads(grads, results);
    }
}

impl<C: CheckpointStrategy> FusedDecoderBackend for Autodiff<Flex, C> {
    fn fused_attentional_decoder(t: DecoderTensors<Self>) -> FloatTensor<Self> {
        let nodes = [
            t.xw.node(),
            t.w_feed.node(),
            t.whh.node(),
            t.h0.node(),
            t.c0.node(),
            t.keys.node(),
            t.values.node(),
            t.w_query.node(),
            t.b_query.node(),
            t.score.node(),
            t.w_combine.node(),
        ];
        let inner = DecoderTensors::<Flex> {
            xw: t.xw.into_primitive(),
            w_feed: t.w_feed.into_primitive(),
            whh: t.whh.into_primitive(),
            h0: t.h0.into_primitive(),
            c0: t.c0.into_primitive(),
            keys: t.keys.into_primitive(),
            values: t.values.into_primitive(),
            w_query: t.w_query.into_primitive(),
            b_query: t.b_query.into_primitive(),
            score: t.score.into_primitive(),
            w_combine: t.w_combine.into_primitive(),
            pad: t.pad.into_inner(),
            drop: t.drop.into_inner(),
        };
        let host = HostInputs::new(inner);
        match FusedDecoderBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, tape) = kernel::forward(host.dims, host.inputs(), true);
                let output = host.output(out);
                prep.finish(DecoderState { host, tape }, output)
            }
            OpsKind::UnTracked(prep) => {
                let (out, _) = kernel::forward(host.dims, host.inputs(), false);
                prep.finish(host.output(out))
            }
        }
    }
}
