//! Global-norm gradient clipping, as fairseq and Marian do: the L2 norm over all parameters'
//! gradients together, and every gradient scaled by `min(1, max_norm / norm)`. Burn's own
//! `GradientClipping::Norm` clips each parameter separately, which changes the direction of the
//! update.

use crate::search::to_host_floats;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Collects the squared sums of the gradients of a module's float parameters.
struct SquaredSums<'a> {
    grads: &'a GradientsParams,
    sums: Vec<Tensor<1>>,
}

impl ModuleVisitor for SquaredSums<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.sums.push(g.powi_scalar(2).sum());
        }
    }
}

/// Scales every gradient it visits.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f32,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads
                .register::<D>(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// The global L2 norm of the gradients of `module`'s parameters (one read from the device).
pub fn global_grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> f32 {
    let mut v = SquaredSums {
        grads,
        sums: Vec::new(),
    };
    module.visit(&mut v);
    if v.sums.is_empty() {
        return 0.0;
    }
    let total = Tensor::cat(v.sums, 0).sum();
    to_host_floats(total)[0].sqrt()
}

/// Scales all gradients by `min(1, max_norm / norm)` where `norm` is their global L2 norm, and
/// returns that norm (before clipping). With `max_norm` absent the gradients are left alone and
/// only the norm is computed. A non-finite norm leaves the gradients as they are.
pub fn clip_global_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: Option<f32>,
) -> f32 {
    let norm = global_grad_norm(module, grads);
    if let Some(max) = max_norm
        && norm.is_finite()
        && norm > max
    {
        let mut v = Scale {
            grads,
            factor: max / norm,
        };
        module.visit(&mut v);
    }
    norm
}
