//! One training update, written once for the loop, data-parallel workers and the benchmark: the
//! token-weighted loss of a group of batches, its gradients, and the guarded optimizer step.

use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use honyaku_core::search::to_host_floats;
use honyaku_core::{Seq2Seq, sequence_loss};
use honyaku_data::batcher::HostBatch;

use super::guard::{DivergenceGuard, GuardDecision};
use crate::run::{OptimizerKind, TrainConfig};
use honyaku_core::clip::clip_global_norm;
use honyaku_core::fused_adam::FusedAdam;

/// The outcome of [`guarded_update`].
pub struct Update<M> {
    /// The model, updated or not.
    pub model: M,
    /// What the divergence guard decided.
    pub decision: GuardDecision,
    /// Global gradient norm before clipping, when the update was made.
    pub grad_norm: Option<f32>,
}

/// One guarded optimizer update: a non-finite `loss_value` skips the update (no `optim.step`,
/// so the weights and the Adam state stay as they are and `grads` are dropped); a finite one
/// clips `grads` to the global norm `clip_norm` and applies them with learning rate `lr`.
pub fn guarded_update<M: Module>(
    model: M,
    optim: &mut ModuleOptimizer,
    guard: &mut DivergenceGuard,
    loss_value: f64,
    mut grads: GradientsParams,
    lr: f64,
    clip_norm: Option<f32>,
) -> Update<M> {
    let decision = guard.observe(loss_value);
    if decision != GuardDecision::Update {
        return Update {
            model,
            decision,
            grad_norm: None,
        };
    }
    let grad_norm = clip_global_norm(&model, &mut grads, clip_norm);
    let model = optim.step(lr, model, grads);
    Update {
        model,
        decision,
        grad_norm: Some(grad_norm),
    }
}

/// Loss sums of the micro-batches of one update.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepStats {
    /// Training loss × target tokens, summed.
    pub loss_x_tokens: f64,
    /// Plain negative log-likelihood, summed.
    pub nll: f64,
    /// Target tokens.
    pub tokens: usize,
}

impl StepStats {
    /// Training loss per target token (NaN or infinite when any micro-batch's was).
    pub fn loss(&self) -> f64 {
        self.loss_x_tokens / self.tokens.max(1) as f64
    }
}

impl StepStats {
    /// Adds another batch's sums.
    pub fn add(&mut self, other: &StepStats) {
        self.loss_x_tokens += other.loss_x_tokens;
        self.nll += other.nll;
        self.tokens += other.tokens;
    }
}

/// Gradients and the loss sums they come with.
pub struct Gradients {
    /// The gradients, on the main device.
    pub grads: GradientsParams,
    /// The loss sums of the batches they were computed on.
    pub stats: StepStats,
}

/// The loss of one batch (the graph to back-propagate) and its sums.
struct BatchLoss {
    loss: Tensor<1>,
    stats: StepStats,
}

/// The loss of one batch and its sums (one host read for both values).
fn batch_loss<M: Seq2Seq>(
    model: &M,
    host: &HostBatch,
    device: &Device,
    label_smoothing: f64,
) -> BatchLoss {
    let batch = host.to_batch(device);
    let out = sequence_loss(
        model.forward(&batch),
        batch.tgt_out.clone(),
        batch.tgt_pad.clone(),
        label_smoothing,
    );
    let values = to_host_floats(Tensor::cat(vec![out.loss.clone(), out.nll_sum.clone()], 0));
    let stats = StepStats {
        loss_x_tokens: values[0] as f64 * out.tokens as f64,
        nll: values[1] as f64,
        tokens: out.tokens,
    };
    BatchLoss {
        loss: out.loss,
        stats,
    }
}

/// The loss sums of one batch, without back-propagation.
pub fn batch_stats<M: Seq2Seq>(
    model: &M,
    host: &HostBatch,
    device: &Device,
    label_smoothing: f64,
) -> StepStats {
    batch_loss(model, host, device, label_smoothing).stats
}

/// The gradients of `weight` × the per-token loss of one batch, and the batch's loss sums.
pub fn batch_grads<M: Seq2Seq>(
    model: &M,
    host: &HostBatch,
    device: &Device,
    weight: f32,
    label_smoothing: f64,
) -> Gradients {
    let BatchLoss { loss, stats } = batch_loss(model, host, device, label_smoothing);
    let loss = if weight == 1.0 {
        loss
    } else {
        loss.mul_scalar(weight)
    };
    Gradients {
        grads: GradientsParams::from_grads(loss.backward(), model),
        stats,
    }
}

/// The gradients of one update over the micro-batches `group` (gradient accumulation): each
/// batch's per-token loss is weighted by its share of the group's target tokens, so the sum is
/// the gradient of the per-token loss over all of them, as one batch holding them all would
/// give. Each micro-batch is back-propagated as soon as it is computed, so only one graph lives
/// at a time.
pub fn accumulated_grads<M: Seq2Seq>(
    model: &M,
    group: &[HostBatch],
    device: &Device,
    label_smoothing: f64,
) -> Gradients {
    accumulated_grads_over(model, group, group_tokens(group), device, label_smoothing)
}

/// The target tokens of a group of batches (at least 1).
pub fn group_tokens(group: &[HostBatch]) -> usize {
    group.iter().map(|h| h.n_tgt_tokens).sum::<usize>().max(1)
}

/// [`accumulated_grads`] for part of an update of `total` target tokens (a rank's share in a
/// distributed update): each batch's loss is weighted by its share of `total`.
pub fn accumulated_grads_over<M: Seq2Seq>(
    model: &M,
    group: &[HostBatch],
    total: usize,
    device: &Device,
    label_smoothing: f64,
) -> Gradients {
    let mut acc = GradientsAccumulator::<M>::new();
    let mut stats = StepStats::default();
    for host in group {
        let weight = if host.n_tgt_tokens == total {
            1.0
        } else {
            (host.n_tgt_tokens as f64 / total as f64) as f32
        };
        let batch = batch_grads(model, host, device, weight, label_smoothing);
        stats.add(&batch.stats);
        acc.accumulate(model, batch.grads);
    }
    Gradients {
        grads: acc.grads(),
        stats,
    }
}

/// The device seed of step `step`: dropout masks depend on the step, not on how many steps
/// this process has made, so a resumed run draws the same ones.
pub fn step_seed(seed: u64, step: usize) -> u64 {
    seed ^ (step as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Adam with Burn's defaults, as the benchmark uses it (clipping is global, done by
/// [`clip_global_norm`]); its update is fused on flex ([`FusedAdam`]).
pub fn new_optimizer() -> ModuleOptimizer {
    // burn's `AdamConfig` defaults.
    FusedAdam::new(0.9, 0.999, 1e-5).init()
}

/// The optimizer `config` asks for, with its β and ε. Adam's update is fused on flex
/// ([`FusedAdam`]: the same floats and the same saved state as burn's `Adam`).
pub fn optimizer_for(config: &TrainConfig) -> ModuleOptimizer {
    let (beta_1, beta_2, epsilon) = (
        config.adam_beta1 as f32,
        config.adam_beta2 as f32,
        config.adam_epsilon as f32,
    );
    match config.optimizer {
        OptimizerKind::Adam => FusedAdam::new(beta_1, beta_2, epsilon).init(),
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .with_weight_decay(config.weight_decay as f32)
            .init(),
    }
}
