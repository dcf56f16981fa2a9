//! Host access to burn-flex tensors for the fused operations' kernels
//! ([`crate::fused_lstm`], [`crate::additive_score`], [`crate::fused_decoder`],
//! [`crate::token_loss`], [`crate::fused_adam`]): `f32` values as contiguous slices, and results
//! back as tensors.

use burn::backend::flex::FlexTensor;
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

/// A tensor of `shape` holding `values`.
pub(crate) fn flex_tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, Shape::from(shape)))
}
