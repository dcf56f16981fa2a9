//! The training loss: label-smoothed cross-entropy over real target tokens.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::token_loss;

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
    let (nll, uniform) = row_losses(
        logits.reshape([rows, vocab]),
        targets.reshape([rows]),
        smoothing > 0.0,
    );
    let keep = pad.bool_not().float().reshape([rows]);
    let tokens = keep.clone().sum().into_scalar::<f32>().round() as usize;
    let nll = nll * keep.clone();
    let nll_sum = nll.clone().sum();
    let denom = tokens.max(1) as f64;
    let loss = match uniform {
        Some(uniform) => (nll.mul_scalar(1.0 - smoothing) + (uniform * keep).mul_scalar(smoothing))
            .sum()
            .div_scalar(denom),
        None => nll_sum.clone().div_scalar(denom),
    };
    LossOutput {
        loss,
        nll_sum: nll_sum.detach(),
        tokens,
    }
}

/// Each row's `−log p(target)` `[rows]`, and its `−mean_v log p_v` when `smoothing`, from
/// `logits: [rows, vocab]` and `targets: [rows]`: one fused operation on flex
/// ([`token_loss`]), `log_softmax` elsewhere.
fn row_losses(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    smoothing: bool,
) -> (Tensor<1>, Option<Tensor<1>>) {
    if token_loss::supported(&logits.device()) {
        let losses = token_loss::token_losses(logits, targets);
        return (losses.nll, smoothing.then_some(losses.smoothing));
    }
    let [rows, _] = logits.dims();
    let log_probs = log_softmax(logits, 1);
    let uniform = smoothing.then(|| log_probs.clone().mean_dim(1).reshape([rows]).neg());
    let nll = log_probs
        .gather(1, targets.reshape([rows, 1]))
        .reshape([rows])
        .neg();
    (nll, uniform)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::to_host_floats;

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

    #[test]
    fn the_fused_losses_equal_log_softmax_with_gradients() {
        let _rng = crate::rng_lock();
        let device = Device::flex().autodiff();
        let logits = Tensor::<2>::random(
            [6, 11],
            burn::tensor::Distribution::Normal(0.0, 3.0),
            &device,
        )
        .require_grad();
        let targets = Tensor::<1, Int>::from_data([0, 10, 3, 3, 7, 1], &device);
        let weights = Tensor::<1>::from_data([0.5, -1.0, 2.0, 0.0, 1.5, 0.25], &device);
        let fused = token_loss::token_losses(logits.clone(), targets.clone());
        // The tensor path, as other backends run it.
        let log_probs = log_softmax(logits.clone(), 1);
        let nll = log_probs
            .clone()
            .gather(1, targets.reshape([6, 1]))
            .reshape([6])
            .neg();
        let uniform = log_probs.mean_dim(1).reshape([6]).neg();
        let total = |nll: Tensor<1>, uniform: Tensor<1>| {
            (nll * weights.clone()).sum() + (uniform * weights.clone().flip([0])).sum()
        };
        let close = |a: Tensor<1>, b: Tensor<1>| {
            let (a, b) = (to_host_floats(a), to_host_floats(b));
            a.iter()
                .zip(&b)
                .all(|(x, y)| (x - y).abs() < 1e-5 + 1e-5 * y.abs())
        };
        assert!(close(fused.nll.clone(), nll.clone()));
        assert!(close(fused.smoothing.clone(), uniform.clone()));
        let g_fused = total(fused.nll, fused.smoothing).backward();
        let g_tensor = total(nll, uniform).backward();
        let (a, b) = (
            logits.grad(&g_fused).unwrap().reshape([66]),
            logits.grad(&g_tensor).unwrap().reshape([66]),
        );
        assert!(close(a, b));
    }
}
