//! The training loss: label-smoothed cross-entropy over real target tokens.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// The loss of one batch.
#[derive(Debug, Clone)]
pub struct LossOutput {
    /// Mean label-smoothed loss per real target token: what training differentiates.
    pub loss: Tensor<1>,
    /// Sum of the plain negative log-likelihood over real tokens (for perplexity), `[1]`.
    pub nll_sum: Tensor<1>,
    /// Number of real (non-padding) target tokens.
    pub tokens: usize,
}

/// Label-smoothed cross-entropy that ignores padding.
///
/// `logits: [batch, tgt_len, vocab]`, `targets: [batch, tgt_len]`, `pad: [batch, tgt_len]`
/// (`true` = padding). With `smoothing = ε`, each token's loss is
/// `(1 - ε) · nll + ε · mean_v(-log p_v)`, as in Szegedy et al. 2016.
pub fn sequence_loss(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    pad: Tensor<2, Bool>,
    smoothing: f64,
) -> LossOutput {
    let [batch, tgt_len, vocab] = logits.dims();
    let rows = batch * tgt_len;
    let log_probs = log_softmax(logits.reshape([rows, vocab]), 1);
    let keep = pad.bool_not().float().reshape([rows]);
    let tokens = keep.clone().sum().into_scalar::<f32>().round() as usize;
    let nll = log_probs
        .clone()
        .gather(1, targets.reshape([rows, 1]))
        .reshape([rows])
        .neg()
        * keep.clone();
    let nll_sum = nll.clone().sum();
    let denom = tokens.max(1) as f64;
    let loss = if smoothing > 0.0 {
        let uniform = log_probs.mean_dim(1).reshape([rows]).neg() * keep;
        (nll.mul_scalar(1.0 - smoothing) + uniform.mul_scalar(smoothing))
            .sum()
            .div_scalar(denom)
    } else {
        nll_sum.clone().div_scalar(denom)
    };
    LossOutput {
        loss,
        nll_sum: nll_sum.detach(),
        tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Device {
        Device::flex()
    }

    #[test]
    fn uniform_logits_give_ln_vocab() {
        let logits = Tensor::<3>::zeros([2, 3, 10], &device());
        let targets = Tensor::<2, Int>::from_data([[1, 2, 3], [4, 0, 0]], &device());
        let pad =
            Tensor::<2, Bool>::from_data([[false, false, false], [false, true, true]], &device());
        let out = sequence_loss(logits, targets, pad, 0.0);
        assert_eq!(out.tokens, 4);
        let loss = out.loss.into_scalar::<f32>();
        assert!((loss - 10f32.ln()).abs() < 1e-5, "{loss}");
    }

    #[test]
    fn padding_never_contributes() {
        let _rng = crate::rng_lock();
        let device = device();
        let mut logits = Tensor::<3>::random(
            [1, 3, 5],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let targets = Tensor::<2, Int>::from_data([[1, 2, 0]], &device);
        let pad = Tensor::<2, Bool>::from_data([[false, false, true]], &device);
        let a = sequence_loss(logits.clone(), targets.clone(), pad.clone(), 0.1);
        logits = logits.slice_fill(burn::prelude::s![0, 2, ..], 100.0);
        let b = sequence_loss(logits, targets, pad, 0.1);
        let (a, b) = (a.loss.into_scalar::<f32>(), b.loss.into_scalar::<f32>());
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }

    #[test]
    fn smoothing_penalises_overconfidence() {
        let _rng = crate::rng_lock();
        let device = device();
        // A confident, correct prediction: smoothing makes its loss larger than the plain nll.
        let logits = Tensor::<3>::from_data([[[10.0, 0.0, 0.0, 0.0]]], &device);
        let targets = Tensor::<2, Int>::from_data([[0]], &device);
        let pad = Tensor::<2, Bool>::from_data([[false]], &device);
        let plain = sequence_loss(logits.clone(), targets.clone(), pad.clone(), 0.0);
        let smooth = sequence_loss(logits, targets, pad, 0.1);
        assert!(smooth.loss.into_scalar::<f32>() > plain.loss.into_scalar::<f32>());
        // The perplexity statistic ignores smoothing.
        let (p, s) = (
            plain.nll_sum.into_scalar::<f32>(),
            smooth.nll_sum.into_scalar::<f32>(),
        );
        assert!((p - s).abs() < 1e-6);
    }
}
