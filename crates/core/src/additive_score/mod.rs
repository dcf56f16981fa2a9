//! The additive (Bahdanau) attention score as one fused operation on burn-flex:
//! `e[b, s] = vᵀ tanh(keys[b, s] + query[b])`, with its own backward pass.
//!
//! As tensor operations (`keys + query`, `tanh` as `2σ(2x) − 1`, the product with `v`) the
//! score is about eight graph nodes per decoder step over `[batch, src_len, d_attention]`
//! values, each a pass over memory with its own allocation, forward and backward; at the tiny
//! preset it was about 40% of the attention model's training time (docs/BENCHMARKS.md,
//! change 12). Here the forward pass is one pass over the keys per sentence (the `tanh`
//! vectorised by [`crate::vmath`]) that keeps `tanh(keys + query)` for the backward pass,
//! which is one more pass. Both are threaded over the sentences.
//!
//! It is a Burn backend extension ([`backend::AdditiveScoreBackend`]) implemented for `Flex`
//! and `Autodiff<Flex>`; [`supported`] says where it runs. Other backends keep the tensor
//! operations.

mod backend;
pub mod kernel;

use burn::backend::Dispatch;
use burn::prelude::*;

use backend::AdditiveScoreBackend;

/// Whether [`additive_scores`] runs on `device`: burn-flex, with or without autodiff.
pub fn supported(device: &Device) -> bool {
    *device == Device::flex()
}

/// `Σ_d v[d] · tanh(keys[b, s, d] + query[b, d])`: `keys: [batch, src_len, d]`,
/// `query: [batch, d]`, `v: [d]` → `[batch, src_len]`.
///
/// Only on [`supported`] devices.
pub fn additive_scores(keys: Tensor<3>, query: Tensor<2>, v: Tensor<1>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as AdditiveScoreBackend>::additive_scores(
        keys.into_dispatch(),
        query.into_dispatch(),
        v.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::tanh;
    use crate::search::to_host_floats;
    use burn::tensor::Distribution;

    /// The same score as tensor operations.
    fn unfused(keys: Tensor<3>, query: Tensor<2>, v: Tensor<1>) -> Tensor<2> {
        let [batch, src_len, d] = keys.dims();
        let t = tanh(keys + query.unsqueeze_dim::<3>(1));
        t.reshape([batch * src_len, d])
            .matmul(v.reshape([d, 1]))
            .reshape([batch, src_len])
    }

    fn assert_close(what: &str, a: Tensor<2>, b: Tensor<2>) {
        let (a, b) = (to_host_floats(a), to_host_floats(b));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5 + 1e-4 * y.abs(), "{what}: {x} vs {y}");
        }
    }

    #[test]
    fn values_and_gradients_equal_the_tensor_operations() {
        let _rng = crate::rng_lock();
        let device = Device::flex().autodiff();
        let normal = Distribution::Normal(0.0, 1.0);
        let keys = Tensor::<3>::random([3, 7, 5], normal, &device).require_grad();
        let query = Tensor::<2>::random([3, 5], normal, &device).require_grad();
        let v = Tensor::<1>::random([5], normal, &device).require_grad();
        // A weighting of the scores so that every score's gradient differs.
        let w = Tensor::<2>::random([3, 7], normal, &device);
        let fused = additive_scores(keys.clone(), query.clone(), v.clone());
        let reference = unfused(keys.clone(), query.clone(), v.clone());
        assert_close("scores", fused.clone(), reference.clone());
        let g_fused = (fused * w.clone()).sum().backward();
        let g_reference = (reference * w).sum().backward();
        assert_close(
            "keys",
            keys.grad(&g_fused).unwrap().reshape([3, 35]),
            keys.grad(&g_reference).unwrap().reshape([3, 35]),
        );
        assert_close(
            "query",
            query.grad(&g_fused).unwrap(),
            query.grad(&g_reference).unwrap(),
        );
        assert_close(
            "v",
            v.grad(&g_fused).unwrap().reshape([1, 5]),
            v.grad(&g_reference).unwrap().reshape([1, 5]),
        );
    }

    #[test]
    fn inference_gives_the_same_scores() {
        let _rng = crate::rng_lock();
        let device = Device::flex();
        let normal = Distribution::Normal(0.0, 2.0);
        let keys = Tensor::<3>::random([2, 4, 6], normal, &device);
        let query = Tensor::<2>::random([2, 6], normal, &device);
        let v = Tensor::<1>::random([6], normal, &device);
        let fused = additive_scores(keys.clone(), query.clone(), v.clone());
        assert_eq!(fused.dims(), [2, 4]);
        assert_close("scores", fused, unfused(keys, query, v));
    }
}
