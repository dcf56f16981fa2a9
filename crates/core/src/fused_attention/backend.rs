//! The fused attention core as a Burn backend extension: the operations on burn-flex, and on
//! `Autodiff<Flex>` with the context's own backward pass.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, ExtensionType, Flex, backend_extension};

use super::kernel::{self, AttentionSpec, Dims, Inputs, Layout, Strides};
pub(crate) use crate::flex_host::Constant;
use crate::flex_host::{constant, contiguous, flex_tensor, floats, register_grads};

/// The tensors of one call (layouts in [`super::kernel`]).
#[derive(ExtensionType)]
pub struct AttentionTensors<B: Backend> {
    /// `[batch, tq, cq]`.
    pub query: FloatTensor<B>,
    /// `[batch, tk, ck]` (may be the same tensor as `query`) or
    /// `[batch, 2 · heads, capacity, d_head]`, as `layout` says.
    pub memory: FloatTensor<B>,
    /// `[batch, tk]`, 1 at masked keys.
    #[extension_type]
    pub pad: Constant<B>,
}

/// The fused attention core.
#[backend_extension(Flex, Autodiff)]
pub trait FusedAttentionBackend: Backend {
    /// The context `[batch, tq, heads · d_head]`.
    fn fused_attention(
        #[extension_type] tensors: AttentionTensors<Self>,
        spec: AttentionSpec,
        layout: Layout,
    ) -> FloatTensor<Self>;

    /// The context and the attention weights `[batch, heads, tq, tk]` before dropout, both
    /// untracked (for decoding and inspection, not for training).
    fn fused_attention_with_weights(
        #[extension_type] tensors: AttentionTensors<Self>,
        spec: AttentionSpec,
        layout: Layout,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl FusedAttentionBackend for Flex {
    fn fused_attention(
        tensors: AttentionTensors<Self>,
        spec: AttentionSpec,
        layout: Layout,
    ) -> FloatTensor<Self> {
        let host = HostInputs::new(tensors, spec, layout);
        let (context, _) = kernel::forward(&spec, host.dims, host.inputs(), false);
        host.context(context)
    }

    fn fused_attention_with_weights(
        tensors: AttentionTensors<Self>,
        spec: AttentionSpec,
        layout: Layout,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let host = HostInputs::new(tensors, spec, layout);
        let Dims { batch, tq, tk, .. } = host.dims;
        let (context, weights) = kernel::forward(&spec, host.dims, host.inputs(), true);
        let weights = flex_tensor(weights, vec![batch, spec.heads, tq, tk]);
        (host.context(context), weights)
    }
}

/// The inputs of a call, contiguous; kept whole for the backward pass.
#[derive(Debug, Clone)]
struct HostInputs {
    dims: Dims,
    spec: AttentionSpec,
    query: FlexTensor,
    memory: FlexTensor,
    pad: Option<FlexTensor>,
}

impl HostInputs {
    fn new(t: AttentionTensors<Flex>, spec: AttentionSpec, layout: Layout) -> Self {
        let (query, memory) = (contiguous(t.query), contiguous(t.memory));
        let (qs, ms) = (query.layout().shape(), memory.layout().shape());
        // `[batch, tk, ck]` or `[batch, 2 · heads, capacity, d_head]`.
        let tk = match layout {
            Layout::Rows => ms[1],
            Layout::Heads { len } => len,
        };
        let dims = Dims {
            batch: qs[0],
            tq: qs[1],
            tk,
            cq: qs[2],
            memory: Strides::new(&spec, layout, ms),
        };
        HostInputs {
            dims,
            spec,
            query,
            memory,
            pad: constant(t.pad),
        }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs {
            query: floats(&self.query),
            memory: floats(&self.memory),
            pad: self.pad.as_ref().map(floats),
        }
    }

    fn context(&self, values: Vec<f32>) -> FlexTensor {
        let Dims { batch, tq, .. } = self.dims;
        flex_tensor(values, vec![batch, tq, self.spec.d_model()])
    }
}

/// What the backward pass keeps of a tracked call.
#[derive(Debug, Clone)]
struct AttentionState {
    host: HostInputs,
    /// The weights before dropout, `[batch, heads, tq, tk]`.
    weights: Vec<f32>,
}

/// The backward step: the gradients of `query` and `memory`.
#[derive(Debug)]
struct FusedAttentionBackward;

impl Backward<Flex, 2> for FusedAttentionBackward {
    type State = AttentionState;

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let dout = contiguous(grads.consume::<Flex>(&ops.node));
        let AttentionState { host, weights } = ops.state;
        let [query_node, memory_node] = ops.parents.map(|node| node.map(|n| n.id));
        let aliased = query_node.is_some() && query_node == memory_node;
        let g = kernel::backward(
            &host.spec,
            host.dims,
            host.inputs(),
            &weights,
            floats(&dout),
            aliased,
        );
        let shape = |t: &FlexTensor| t.layout().shape().to_vec();
        let memory = (!aliased).then(|| (memory_node, g.dmemory, shape(&host.memory)));
        let results = [(query_node, g.dquery, shape(&host.query))];
        register_grads(grads, results.into_iter().chain(memory));
    }
}

/// The "backward step" of an output that has no tracked inputs (the weights).
#[derive(Debug)]
struct Untracked;

impl Backward<Flex, 0> for Untracked {
    type State = ();

    fn backward(self, _: Ops<(), 0>, _: &mut Gradients, _: &mut Checkpointer) {}
}

impl<C: CheckpointStrategy> FusedAttentionBackend for Autodiff<Flex, C> {
    fn fused_attention(
        t: AttentionTensors<Self>,
        spec: AttentionSpec,
        layout: Layout,
    ) -> FloatTensor<Self> {
        let nodes = [t.query.node(), t.memory.node()];
        let host = HostInputs::new(inner(t), spec, layout);
        match FusedAttentionBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (context, weights) = kernel::forward(&spec, host.dims, host.inputs(), true);
                let output = host.context(context);
                prep.finish(AttentionState { host, weights }, output)
            }
            OpsKind::UnTracked(prep) => {
                let (context, _) = kernel::forward(&spec, host.dims, host.inputs(), false);
                prep.finish(host.context(context))
            }
        }
    }

    fn fused_attention_with_weights(
        t: AttentionTensors<Self>,
        spec: AttentionSpec,
        layout: Layout,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (context, weights) = Flex::fused_attention_with_weights(inner(t), spec, layout);
        // No parents: the outputs are leaves without a backward pass.
        let leaf = |x| Untracked.prepare::<C>([]).compute_bound().stateless(x);
        (leaf(context), leaf(weights))
    }
}

/// The call's tensors on the inner backend.
fn inner<C: CheckpointStrategy>(t: AttentionTensors<Autodiff<Flex, C>>) -> AttentionTensors<Flex> {
    AttentionTensors {
        query: t.query.into_primitive(),
        memory: t.memory.into_primitive(),
        pad: t.pad.into_inner(),
    }
}
