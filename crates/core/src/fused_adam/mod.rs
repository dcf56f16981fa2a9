//! Adam whose update is three passes over each parameter on burn-flex, threaded.
//!
//! burn's `Adam` is a dozen tensor operations per parameter (moments, square, square root,
//! bias corrections, division, scaling), each a pass over memory with its own allocation, and
//! burn-flex runs element-wise operations on one thread: the update took about a tenth of an
//! LSTM training step at the small preset with one core idle (docs/BENCHMARKS.md, change 14).
//! [`FusedAdam`] does the same arithmetic in three passes ([`kernel::ema`] for each moment,
//! [`kernel::apply`] for the parameter), in place and on the thread pool. Its state is burn's
//! [`AdamState`], so checkpoints of the optimizer are the same; on other backends (and for
//! non-`f32` parameters) it is burn's `Adam`.

mod backend;
pub mod kernel;

use burn::backend::Dispatch;
use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::prelude::*;
use burn::tensor::DType;

use backend::FusedAdamBackend;

/// Adam (no weight decay, no AMSGrad) with a fused update on flex.
#[derive(Clone)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// burn's Adam with the same settings, for other devices.
    fallback: Adam,
}

impl FusedAdam {
    /// Adam with moment decays `beta_1`, `beta_2` and `epsilon` added to the denominator.
    pub fn new(beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let fallback = AdamConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .build();
        FusedAdam {
            beta_1,
            beta_2,
            epsilon,
            fallback,
        }
    }

    /// The module optimizer that applies it to every parameter.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

/// Whether the fused update runs for `tensor` and `grad`: plain (not autodiff) `f32` flex
/// tensors, as the module optimizer hands over a model's parameters and their gradients.
fn supported<const D: usize>(tensor: &Tensor<D>, grad: &Tensor<D>) -> bool {
    [tensor, grad].iter().all(|t| {
        let device = t.device();
        device == Device::flex() && !device.is_autodiff() && t.dtype() == DType::F32
    })
}

fn ema<const D: usize>(x: Tensor<D>, g: Tensor<D>, beta: f32, square: bool) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FusedAdamBackend>::adam_ema(
        x.into_dispatch(),
        g.into_dispatch(),
        beta,
        square,
    ))
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !supported(&tensor, &grad) {
            return self.fallback.step(lr, tensor, grad, state);
        }
        let (time, m, v) = match state {
            Some(state) => {
                let s = state.momentum;
                (s.time + 1, s.moment_1, s.moment_2)
            }
            None => (1, tensor.zeros_like(), tensor.zeros_like()),
        };
        let m = ema(m, grad.clone(), self.beta_1, false);
        let v = ema(v, grad, self.beta_2, true);
        let bias_2 = (1.0 - self.beta_2.powi(time as i32)).sqrt();
        let combined = bias_2 / (1.0 - self.beta_1.powi(time as i32));
        let updated = Tensor::from_dispatch(<Dispatch as FusedAdamBackend>::adam_apply(
            tensor.into_dispatch(),
            m.clone().into_dispatch(),
            v.clone().into_dispatch(),
            lr as f32,
            combined,
            self.epsilon * bias_2,
        ));
        let momentum = AdaptiveMomentumState::new(time, m, v);
        (updated, Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;

    use crate::search::to_host_floats;

    /// The same layer at every call, without the global RNG (which tests running at the
    /// same time draw from).
    fn layer(device: &Device) -> Linear {
        let mut layer = LinearConfig::new(5, 3).init(device);
        let w: Vec<f32> = (0..15)
            .map(|i| ((i * 7) % 11) as f32 / 10.0 - 0.5)
            .collect();
        layer.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [5, 3]), device));
        let bias = Tensor::from_data([0.1, -0.2, 0.3], device);
        layer.bias = Some(Param::from_tensor(bias));
        layer
    }

    /// `steps` updates of `layer` on a fixed batch.
    fn train(optim: &mut ModuleOptimizer, mut layer: Linear, steps: usize) -> Linear {
        let device = layer.weight.device();
        let x = Tensor::<2>::from_data(
            [[1.0, -2.0, 0.5, 3.0, 0.0], [0.1, 0.2, -0.3, 0.4, 2.0]],
            &device,
        );
        for _ in 0..steps {
            let loss = layer.forward(x.clone()).powf_scalar(2.0).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &layer);
            layer = optim.step(1e-2, layer, grads);
        }
        layer
    }

    fn weights(layer: &Linear) -> Vec<f32> {
        let bias = layer.bias.as_ref().expect("a bias").val();
        let mut w = to_host_floats(layer.weight.val().reshape([15]));
        w.extend(to_host_floats(bias));
        w
    }

    fn burn_adam() -> ModuleOptimizer {
        AdamConfig::new()
            .with_beta_1(0.9)
            .with_beta_2(0.98)
            .with_epsilon(1e-8)
            .init()
    }

    #[test]
    fn the_updates_and_the_saved_state_are_burns_adam() {
        let device = Device::flex().autodiff();
        let mut reference = burn_adam();
        let mut fused = FusedAdam::new(0.9, 0.98, 1e-8).init();
        let expected = train(&mut reference, layer(&device), 3);
        let got = train(&mut fused, layer(&device), 3);
        assert_eq!(weights(&got), weights(&expected));
        assert_ne!(weights(&got), weights(&layer(&device)));
        // burn's Adam resumes from the fused optimizer's saved state, and vice versa.
        let saved = fused.into_bytes().expect("the state saves");
        let mut resumed = burn_adam().from_bytes(saved).expect("the state loads");
        let a = train(&mut resumed, got.clone(), 1);
        let b = train(&mut fused, got, 1);
        assert_eq!(weights(&a), weights(&b));
    }
}
