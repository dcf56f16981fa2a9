//! The operations of [`super::FusedAdam`] as a Burn backend extension on burn-flex: each
//! updates its first tensor in place (copied first when its storage is shared) and returns it.

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};

use super::kernel::{self, Step};
use crate::flex_host::{contiguous, floats, floats_mut};

/// Adam's element-wise passes.
#[backend_extension(Flex)]
pub trait FusedAdamBackend: Backend {
    /// `x·β + g·(1−β)`, with `g²` when `square`.
    fn adam_ema(
        x: FloatTensor<Self>,
        g: FloatTensor<Self>,
        beta: f32,
        square: bool,
    ) -> FloatTensor<Self>;

    /// `p − (m·combined / (√v + ε))·lr`.
    fn adam_apply(
        p: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        lr: f32,
        combined: f32,
        epsilon: f32,
    ) -> FloatTensor<Self>;
}

impl FusedAdamBackend for Flex {
    fn adam_ema(x: FlexTensor, g: FlexTensor, beta: f32, square: bool) -> FlexTensor {
        let (mut x, g) = (contiguous(x), contiguous(g));
        kernel::ema(floats_mut(&mut x), floats(&g), beta, square);
        x
    }

    fn adam_apply(
        p: FlexTensor,
        m: FlexTensor,
        v: FlexTensor,
        lr: f32,
        combined: f32,
        epsilon: f32,
    ) -> FlexTensor {
        let (mut p, m, v) = (contiguous(p), contiguous(m), contiguous(v));
        let step = Step {
            lr,
            combined,
            epsilon,
        };
        kernel::apply(floats_mut(&mut p), floats(&m), floats(&v), step);
        p
    }
}
