//! Linear layers over all rows of a sequence batch as one matrix product.
//!
//! Burn's [`Linear::forward`] on a `[batch, time, d_in]` input may keep the batch dimension and
//! multiply by the weight broadcast to `[batch, d_in, d_out]` (its matmul transform policy
//! keeps batched products whose rows fill a tile). Forward, that is as fast; under autodiff,
//! the weight's gradient is then one `[d_in, time] · [time, d_out]` product per sequence,
//! materialised as a `[batch, d_in, d_out]` tensor and summed: for the small preset's output
//! layer at length 64, a 500 MiB intermediate in every update, and products with an inner
//! dimension of only `time`. Folding the leading dimensions into rows first makes the gradient
//! one `[d_in, batch·time] · [batch·time, d_out]` product, as PyTorch's `nn.Linear` computes it.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::module::linear;

/// `x · weight + bias` over the last dimension of `x` `[.., d_in]`, as one matrix product of
/// all its rows `[rows, d_in] · [d_in, d_out]`; returns `[.., d_out]`.
pub fn linear_rows<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    if D <= 2 {
        return linear(x, weight, bias);
    }
    let mut dims = x.dims();
    let d_in = dims[D - 1];
    let rows = dims[..D - 1].iter().product::<usize>();
    let out = linear(x.reshape([rows, d_in]), weight.clone(), bias);
    dims[D - 1] = weight.dims()[1];
    out.reshape(dims)
}

/// [`Linear`] through [`linear_rows`].
pub trait LinearRows {
    /// The layer on `input` `[.., d_in]` as one product over all rows; returns `[.., d_out]`.
    fn forward_rows<const D: usize>(&self, input: Tensor<D>) -> Tensor<D>;
}

impl LinearRows for Linear {
    fn forward_rows<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        linear_rows(
            input,
            self.weight.val(),
            self.bias.as_ref().map(|b| b.val()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::to_host_floats;
    use burn::nn::LinearConfig;

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y}");
        }
    }

    #[test]
    fn rows_equal_the_layer_forward_and_backward() {
        let _lock = crate::rng_lock();
        let device = Device::flex().autodiff();
        device.seed(3);
        let layer = LinearConfig::new(6, 5).init(&device);
        // 32 rows per sequence: burn keeps this batched product, whose gradient differs in form.
        let x = Tensor::<3>::random([3, 32, 6], burn::tensor::Distribution::Default, &device)
            .require_grad();
        let ours = layer.forward_rows(x.clone());
        let theirs = layer.forward(x.clone());
        assert_eq!(ours.dims(), [3, 32, 5]);
        close(
            &to_host_floats(ours.clone()),
            &to_host_floats(theirs.clone()),
        );

        let weight = |out: Tensor<3>| {
            let grads = (out.clone() * out).sum().backward();
            let w = layer.weight.grad(&grads).unwrap();
            let b = layer.bias.as_ref().unwrap().grad(&grads).unwrap();
            let dx = x.grad(&grads).unwrap();
            (to_host_floats(w), to_host_floats(b), to_host_floats(dx))
        };
        let (ours, theirs) = (weight(ours), weight(theirs));
        close(&ours.0, &theirs.0);
        close(&ours.1, &theirs.1);
        close(&ours.2, &theirs.2);
    }

    #[test]
    fn two_dimensional_inputs_pass_through() {
        let device = Device::flex();
        let layer = LinearConfig::new(4, 3).with_bias(false).init(&device);
        let x = Tensor::<2>::ones([2, 4], &device);
        close(
            &to_host_floats(layer.forward_rows(x.clone())),
            &to_host_floats(layer.forward(x)),
        );
    }
}
