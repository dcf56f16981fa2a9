//! Host access to burn-flex tensors for the fused operations' kernels
//! ([`crate::fused_lstm`], [`crate::additive_score`], [`crate::fused_decoder`],
//! [`crate::token_loss`], [`crate::fused_adam`]): `f32` values as contiguous slices, results
//! back as tensors, and gradients registered for the autodiff graph.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, ExtensionType, Flex};
use burn::tensor::{DType, Shape, TensorData};

/// The tensor with contiguous `f32` values (copied only when strided).
///
/// # Panics
///
/// If the tensor is not `f32` (the kernels compute in `f32`).
pub(crate) fn contiguous(tensor: FlexTensor) -> FlexTensor {
    assert_eq!(
        tensor.dtype(),
        DType::F32,
        "the fused operations compute in f32"
    );
    if tensor.as_slice::<f32>().is_some() {
        tensor
    } else {
        tensor.to_contiguous()
    }
}

/// The values of a tensor made by [`contiguous`].
pub(crate) fn floats(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice::<f32>().expect("a contiguous f32 tensor")
}

/// The values of a tensor made by [`contiguous`], writable: only the tensor's own range of its
/// buffer (a view may start inside a larger one), copied first when the buffer is shared.
pub(crate) fn floats_mut(tensor: &mut FlexTensor) -> &mut [f32] {
    let (start, end) = tensor
        .layout()
        .contiguous_offsets()
        .expect("a contiguous tensor");
    &mut tensor.storage_mut::<f32>()[start..end]
}

/// A tensor of `shape` holding `values`.
pub(crate) fn flex_tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, Shape::from(shape)))
}

/// Registers each gradient (`values` of `shape`) for its input's node, skipping the inputs
/// that are not tracked (`None`): the end of every fused operation's backward pass.
pub(crate) fn register_grads(
    grads: &mut Gradients,
    results: impl IntoIterator<Item = (Option<NodeId>, Vec<f32>, Vec<usize>)>,
) {
    for (node, values, shape) in results {
        if let Some(node) = node {
            grads.register::<Flex>(node, flex_tensor(values, shape));
        }
    }
}

/// An input of a fused operation without a gradient, which may be absent (a padding mask, a
/// dropout mask).
#[derive(ExtensionType)]
pub enum Constant<B: Backend> {
    /// The tensor.
    Tensor(FloatTensor<B>),
    /// None: no padding, no dropout.
    Absent,
}

impl<C: CheckpointStrategy> Constant<Autodiff<Flex, C>> {
    /// The same input on the inner backend.
    pub(crate) fn into_inner(self) -> Constant<Flex> {
        match self {
            Constant::Tensor(t) => Constant::Tensor(t.into_primitive()),
            Constant::Absent => Constant::Absent,
        }
    }
}

/// The tensor of a [`Constant`] made [`contiguous`], if present.
pub(crate) fn constant(c: Constant<Flex>) -> Option<FlexTensor> {
    match c {
        Constant::Tensor(t) => Some(contiguous(t)),
        Constant::Absent => None,
    }
}
