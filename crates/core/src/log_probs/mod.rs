//! The searches' next-token log-probabilities as fused operations on burn-flex: the
//! log-softmax of every row of logits, and greedy search's best token of every row with its
//! log-probability.
//!
//! As tensor operations, `log_softmax` is a max, a subtraction, a scalar `expf` per logit, a
//! sum and a logarithm, each a pass over the `[rows, vocab]` logits; greedy search then takes
//! the argmax in one more pass and gathers the scores. At every decoding step of the small
//! Transformer (vocabulary 8000) this took about a sixth of greedy search's time
//! (docs/BENCHMARKS.md, change 18). Here each row is two passes (the maximum, then the
//! exponentials vectorised by [`crate::vmath`]), and greedy's pick needs no `[rows, vocab]`
//! output at all; rows are threaded.
//!
//! A Burn backend extension ([`backend::LogProbsBackend`]) for `Flex` without autodiff (the
//! searches run on the inference model); [`supported`] says where it runs. Other backends keep
//! the tensor operations.

mod backend;
pub mod kernel;

use burn::backend::Dispatch;
use burn::prelude::*;
use burn::tensor::DType;
use burn::tensor::activation::log_softmax;

use backend::LogProbsBackend;

/// Whether the fused operations run for `logits`: `f32` on burn-flex without autodiff.
pub fn supported(logits: &Tensor<2>) -> bool {
    let device = logits.device();
    device == Device::flex() && !device.is_autodiff() && logits.dtype() == DType::F32
}

/// `log_softmax` of every row of `logits` `[rows, vocab]`; returns `[rows, vocab]`.
pub fn log_probs(logits: Tensor<2>) -> Tensor<2> {
    if !supported(&logits) {
        return log_softmax(logits, 1);
    }
    Tensor::from_dispatch(<Dispatch as LogProbsBackend>::log_probs(
        logits.into_dispatch(),
    ))
}

/// Greedy search's pick from `logits` `[rows, vocab]`: `[rows, 2]`, each row's most probable
/// token id (the lowest among equals; as `f32`, exact below 2²⁴) and its log-probability.
pub fn best_tokens(logits: Tensor<2>) -> Tensor<2> {
    if !supported(&logits) {
        let log_probs = log_softmax(logits, 1);
        let best = log_probs.clone().argmax(1);
        let scores = log_probs.gather(1, best.clone());
        return Tensor::cat(vec![best.float(), scores], 1);
    }
    Tensor::from_dispatch(<Dispatch as LogProbsBackend>::best_tokens(
        logits.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_host_floats(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Logits `[rows, vocab]` with a repeated maximum in row 1 (columns 2 and 5).
    fn logits(device: &Device) -> Tensor<2> {
        let values = [
            [0.5, -1.0, 2.0, 0.0, 1.5, -3.0, 0.25],
            [1.0, 0.0, 4.0, -2.0, 3.0, 4.0, -1.0],
            [-30.0, 20.0, -5.0, 19.5, 0.0, 1.0, 2.0],
        ];
        Tensor::from_data(values, device)
    }

    fn close(a: &[f32], b: &[f32], tolerance: f32) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tolerance, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn the_fused_operations_equal_the_tensor_operations() {
        let flex = Device::flex();
        assert!(supported(&logits(&flex)));
        // ndarray runs the tensor operations: the reference.
        #[allow(deprecated)] // ndarray is deprecated upstream but still selectable
        let reference = Device::ndarray();
        assert!(!supported(&logits(&reference)));
        close(
            &to_host_floats(log_probs(logits(&flex))),
            &to_host_floats(log_softmax(logits(&reference), 1)),
            1e-5,
        );
        let ours = to_host_floats(best_tokens(logits(&flex)));
        let theirs = to_host_floats(best_tokens(logits(&reference)));
        close(&ours, &theirs, 1e-5);
        // The ids: row 1's tie goes to the lower id.
        assert_eq!([ours[0], ours[2], ours[4]], [2.0, 2.0, 1.0]);
    }

    #[test]
    fn a_view_of_some_rows_gives_those_rows_and_leaves_the_tensor_unchanged() {
        let flex = Device::flex();
        let all = logits(&flex);
        let before = to_host_floats(all.clone());
        // Rows 1..3: a contiguous view that starts inside the buffer, which `all` shares.
        let got = to_host_floats(log_probs(all.clone().slice(s![1..3, ..])));
        #[allow(deprecated)] // ndarray is deprecated upstream but still selectable
        let reference = logits(&Device::ndarray()).slice(s![1..3, ..]);
        close(&got, &to_host_floats(log_softmax(reference, 1)), 1e-5);
        assert_eq!(to_host_floats(all), before);
    }

    #[test]
    fn autodiff_devices_keep_the_tensor_operations() {
        let device = Device::flex().autodiff();
        assert!(!supported(&logits(&device)));
        let out = to_host_floats(best_tokens(logits(&device)));
        assert_eq!([out[0], out[2], out[4]], [2.0, 2.0, 1.0]);
    }
}
