//! The training loop, written once for every architecture.
//!
//! A plain loop rather than burn-train's `Learner`: it needs token-budget batches that the data
//! crate builds per epoch, the teacher-forced loss over real tokens only, validation by BLEU
//! through the shared search, and a run directory that translation and comparison read back.

use std::time::Instant;

use anyhow::{Result, bail};
use burn::optim::{
    AdamConfig, AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer,
};
use burn::prelude::*;
use honyaku_core::search::to_host_floats;
use honyaku_core::{Seq2Seq, sequence_loss};
use honyaku_data::batcher::{Batcher, HostBatch};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::arch::ModelTask;
use crate::checkpoint::{
    load_module, load_optimizer, module_bytes, optimizer_bytes, save_module, write_atomic_all,
};
use crate::clip::clip_global_norm;
use crate::cmd_average::{prune_step_checkpoints, step_checkpoint};
use crate::distributed;
use crate::metrics::{MetricLine, MetricsLog, learning_curves, progress_bar, truncate_after};
use crate::parallel::DataParallel;
use crate::resume::{DivergenceGuard, GuardDecision, TrainState, interrupted, optim_checkpoint};
use crate::run::{OptimizerKind, RunDir, TrainConfig};
use crate::schedule::{Plateau, ScheduleKind};
use crate::validation::{ValidScores, ValidSet};

/// A training job for [`crate::arch::ModelConfig::run`].
pub struct TrainJob<'a> {
    /// Training settings.
    pub config: &'a TrainConfig,
    /// Where checkpoints and metrics go.
    pub run: &'a RunDir,
    /// Training batches.
    pub batcher: &'a Batcher,
    /// Validation data, if any.
    pub valid: Option<&'a ValidSet>,
    /// The autodiff devices, at least one: the first is the main one (where the optimizer runs
    /// and validation decodes); with more, training is data parallel over all of them.
    pub devices: Vec<Device>,
    /// Hide the progress bar (tests, logs).
    pub quiet: bool,
    /// The counters to start from: `TrainState::default()` with `inputs` and `lr_scale: 1.0`
    /// for a new run, `train_state.json` for a resumed one.
    pub state: TrainState,
    /// Continue from `last.bpk`, `last.optim.bpk` and `state` instead of starting afresh.
    pub resume: bool,
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The configured epochs or steps were done.
    Completed,
    /// The wall-time budget ran out.
    TimeBudget,
    /// The validation metric stopped improving for `patience` evaluations.
    EarlyStopped,
    /// SIGINT or SIGTERM: the state was saved for `--resume`.
    Interrupted,
}

/// What a finished training run reports; also saved as `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Updates made.
    pub steps: usize,
    /// Epochs started.
    pub epochs: usize,
    /// Wall time of training (validation included), seconds.
    pub seconds: f64,
    /// Seconds spent in validation.
    pub valid_seconds: f64,
    /// Target tokens per second of the training steps alone.
    pub tokens_per_second: f64,
    /// Mean training loss over the last logging window.
    pub last_train_loss: f64,
    /// Best validation scores (by the selection metric), if validation ran.
    pub best: Option<ValidScores>,
    /// Number of parameters.
    pub parameters: usize,
    /// Peak resident memory of the process, MiB (Linux; absent elsewhere).
    pub peak_rss_mib: Option<f64>,
    /// Why training stopped.
    pub stop: StopReason,
}

/// Running sums between two log lines.
#[derive(Default)]
struct Window {
    nll: f64,
    loss_x_tokens: f64,
    tokens: usize,
    grad_norm_sum: f64,
    updates: usize,
}

/// The loop's mutable state.
struct Progress {
    step: usize,
    epoch: usize,
    train_tokens: usize,
    train_seconds: f64,
    valid_seconds: f64,
    window: Window,
    last_train_loss: f64,
    best: Option<ValidScores>,
    evals_without_gain: usize,
    plateau_evals: usize,
    validated_at: Option<usize>,
    batch_in_epoch: usize,
    elapsed_before: f64,
    lr_scale: f64,
    guard: DivergenceGuard,
}

impl Progress {
    fn from_state(s: &TrainState) -> Self {
        Self {
            step: s.step,
            epoch: s.epoch,
            train_tokens: s.train_tokens,
            train_seconds: s.train_seconds,
            valid_seconds: s.valid_seconds,
            window: Window::default(),
            last_train_loss: s.last_train_loss.unwrap_or(f64::NAN),
            best: s.best.clone(),
            evals_without_gain: s.evals_without_gain,
            plateau_evals: s.plateau_evals,
            validated_at: None,
            batch_in_epoch: s.batch_in_epoch,
            elapsed_before: s.elapsed_seconds,
            lr_scale: if s.lr_scale > 0.0 { s.lr_scale } else { 1.0 },
            guard: DivergenceGuard::with_reloads(s.reloads),
        }
    }

    fn elapsed(&self, start: Instant) -> f64 {
        self.elapsed_before + start.elapsed().as_secs_f64()
    }
}

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

/// The loss of one batch and its sums (one host read for both values).
fn batch_loss<M: Seq2Seq>(
    model: &M,
    host: &HostBatch,
    device: &Device,
    label_smoothing: f64,
) -> (Tensor<1>, StepStats) {
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
    (out.loss, stats)
}

/// The loss sums of one batch, without back-propagation.
pub fn batch_stats<M: Seq2Seq>(
    model: &M,
    host: &HostBatch,
    device: &Device,
    label_smoothing: f64,
) -> StepStats {
    batch_loss(model, host, device, label_smoothing).1
}

/// The gradients of `weight` × the per-token loss of one batch, and the batch's loss sums.
pub fn batch_grads<M: Seq2Seq>(
    model: &M,
    host: &HostBatch,
    device: &Device,
    weight: f32,
    label_smoothing: f64,
) -> (GradientsParams, StepStats) {
    let (loss, stats) = batch_loss(model, host, device, label_smoothing);
    let loss = if weight == 1.0 {
        loss
    } else {
        loss.mul_scalar(weight)
    };
    (GradientsParams::from_grads(loss.backward(), model), stats)
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
) -> (GradientsParams, StepStats) {
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
) -> (GradientsParams, StepStats) {
    let mut acc = GradientsAccumulator::<M>::new();
    let mut stats = StepStats::default();
    for host in group {
        let weight = if host.n_tgt_tokens == total {
            1.0
        } else {
            (host.n_tgt_tokens as f64 / total as f64) as f32
        };
        let (grads, s) = batch_grads(model, host, device, weight, label_smoothing);
        stats.add(&s);
        acc.accumulate(model, grads);
    }
    (acc.grads(), stats)
}

/// The device seed of step `step`: dropout masks depend on the step, not on how many steps
/// this process has made, so a resumed run draws the same ones.
pub fn step_seed(seed: u64, step: usize) -> u64 {
    seed ^ (step as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Adam as training uses it (clipping is global, done by [`clip_global_norm`]).
pub fn new_optimizer() -> ModuleOptimizer {
    AdamConfig::new().init()
}

/// The optimizer `config` asks for.
pub fn optimizer_for(config: &TrainConfig) -> ModuleOptimizer {
    match config.optimizer {
        OptimizerKind::Adam => new_optimizer(),
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_weight_decay(config.weight_decay as f32)
            .init(),
    }
}

impl ModelTask for TrainJob<'_> {
    type Output = Result<TrainSummary>;

    fn run<M: Seq2Seq>(self, model: M) -> Result<TrainSummary> {
        let cfg = self.config;
        let parameters = Module::num_params(&model);
        let parallel =
            (self.devices.len() > 1).then(|| DataParallel::<M>::new(self.devices.clone()));
        // [distributed] An update takes a group of batches from every rank.
        let group_size = cfg.accum.max(1) * self.devices.len() * distributed::world_size();
        let total_steps = cfg
            .max_steps
            .unwrap_or(cfg.epochs * self.batcher.num_batches().div_ceil(group_size));
        let mut p = Progress::from_state(&self.state);
        let mut model = model;
        let mut optim = optimizer_for(cfg);
        // [distributed] Only rank 0 has the run directory; every rank starts from its weights.
        if self.resume && distributed::is_leader() {
            model = load_module(model, &self.run.last_checkpoint())?;
            optim = load_optimizer(optim, &optim_checkpoint(self.run))?;
        }
        let (mut model, mut optim) = distributed::share_start(model, optim, self.resume)?;
        let bar = progress_bar(total_steps as u64, self.quiet);
        bar.set_position(p.step as u64);
        if self.resume {
            let dropped = truncate_after(&self.run.metrics_path(), p.step)?;
            if dropped > 0 {
                eprintln!(
                    "dropped {dropped} lines of metrics.jsonl logged after the checkpoint of \
                     step {} (they will be logged again)",
                    p.step
                );
            }
        }
        let mut log = MetricsLog::open(&self.run.metrics_path())?;
        let start = Instant::now();
        if !self.resume {
            // The first "last good checkpoint" of the divergence guard, and a valid resume point.
            self.save_state(&model, &optim, &p, start)?;
        }
        let stop = 'training: loop {
            let skip = p.batch_in_epoch;
            let mut batches = self
                .batcher
                .epoch_batches(p.epoch as u64)
                .skip(skip)
                .peekable();
            while batches.peek().is_some() {
                let stop = if p.step >= total_steps {
                    Some(StopReason::Completed)
                } else if cfg
                    .max_minutes
                    .is_some_and(|m| p.elapsed(start) >= m * 60.0)
                {
                    Some(StopReason::TimeBudget)
                } else if interrupted() {
                    Some(StopReason::Interrupted)
                } else {
                    None
                };
                // [distributed] Every rank stops at the same step.
                if let Some(reason) = distributed::agree_stop(stop)? {
                    break 'training reason;
                }
                let group: Vec<HostBatch> = batches.by_ref().take(group_size).collect();
                let (next, decision) =
                    self.train_step(model, &mut optim, &group, parallel.as_ref(), &mut p)?;
                model = next;
                p.batch_in_epoch += group.len();
                match decision {
                    GuardDecision::Update => {}
                    GuardDecision::Skip => {
                        bar.suspend(|| {
                            eprintln!(
                                "step {}: non-finite loss, update skipped ({} in a row)",
                                p.step + 1,
                                p.guard.bad_in_a_row
                            )
                        });
                        continue;
                    }
                    GuardDecision::Reload => {
                        p.lr_scale *= 0.5;
                        // [distributed] Rank 0 reloads, every rank takes its weights.
                        model = distributed::load_shared(model, &self.run.last_checkpoint())?;
                        optim = optimizer_for(cfg);
                        bar.suspend(|| {
                            eprintln!(
                                "step {}: {} non-finite losses in a row; reloaded {} with a \
                                 fresh optimizer and the learning rate halved (x{}), reload {} \
                                 of {}",
                                p.step + 1,
                                DivergenceGuard::MAX_BAD,
                                self.run.last_checkpoint().display(),
                                p.lr_scale,
                                p.guard.reloads,
                                DivergenceGuard::MAX_RELOADS
                            )
                        });
                        continue;
                    }
                    GuardDecision::Abort => bail!(
                        "training diverged at step {}: the loss stayed non-finite after {} \
                         reloads of the last checkpoint with halved learning rates; lower --lr, \
                         use a warm-up schedule or a smaller --clip-norm",
                        p.step + 1,
                        DivergenceGuard::MAX_RELOADS
                    ),
                }
                self.report_step(&bar, &mut log, &mut p, start)?;
                let validate = cfg.valid_every.is_some_and(|n| p.step.is_multiple_of(n));
                if validate && self.validate_and_save(&model, &bar, &mut log, &mut p, start)? {
                    break 'training StopReason::EarlyStopped;
                }
                if validate || cfg.save_every.is_some_and(|n| p.step.is_multiple_of(n)) {
                    self.save_state(&model, &optim, &p, start)?;
                }
            }
            p.epoch += 1;
            p.batch_in_epoch = 0;
            if cfg.valid_every.is_none()
                && self.validate_and_save(&model, &bar, &mut log, &mut p, start)?
            {
                break StopReason::EarlyStopped;
            }
            self.save_state(&model, &optim, &p, start)?;
        };
        if stop != StopReason::Interrupted
            && (cfg.valid_every.is_some() || stop != StopReason::EarlyStopped)
        {
            self.validate_and_save(&model, &bar, &mut log, &mut p, start)?;
        }
        self.save_state(&model, &optim, &p, start)?;
        bar.finish_and_clear();
        // [distributed] Plots are rank 0's.
        if !distributed::is_leader() {
        } else if let Err(e) = learning_curves(self.run) {
            eprintln!("warning: could not draw the learning curves: {e:#}");
        }
        let summary = TrainSummary {
            steps: p.step,
            epochs: p.epoch,
            seconds: p.elapsed(start),
            valid_seconds: p.valid_seconds,
            tokens_per_second: p.train_tokens as f64 / p.train_seconds.max(1e-9),
            last_train_loss: p.last_train_loss,
            best: p.best,
            parameters,
            peak_rss_mib: peak_rss_mib(),
            stop,
        };
        if stop != StopReason::Interrupted {
            self.run.save_summary(&summary)?;
        }
        Ok(summary)
    }
}

impl TrainJob<'_> {
    /// The main device.
    fn device(&self) -> &Device {
        &self.devices[0]
    }

    /// Saves `last.bpk`, `last.optim.bpk` and `train_state.json` together atomically: all three
    /// are written before any replaces its old version, so a full disk leaves the previous
    /// resume point whole.
    fn save_state<M: Seq2Seq>(
        &self,
        model: &M,
        optim: &ModuleOptimizer,
        p: &Progress,
        start: Instant,
    ) -> Result<()> {
        // [distributed] Only rank 0 writes the run directory.
        if !distributed::is_leader() {
            return Ok(());
        }
        let state = TrainState {
            step: p.step,
            epoch: p.epoch,
            batch_in_epoch: p.batch_in_epoch,
            train_tokens: p.train_tokens,
            train_seconds: p.train_seconds,
            valid_seconds: p.valid_seconds,
            elapsed_seconds: p.elapsed(start),
            last_train_loss: p.last_train_loss.is_finite().then_some(p.last_train_loss),
            best: p.best.clone(),
            evals_without_gain: p.evals_without_gain,
            plateau_evals: p.plateau_evals,
            lr_scale: p.lr_scale,
            reloads: p.guard.reloads,
            inputs: self.state.inputs.clone(),
        };
        write_atomic_all(&[
            (&self.run.last_checkpoint(), &module_bytes(model)?),
            (&optim_checkpoint(self.run), &optimizer_bytes(optim)?),
            (
                &TrainState::path(self.run),
                serde_json::to_string_pretty(&state)?.as_bytes(),
            ),
        ])?;
        let keep = self.config.keep_checkpoints;
        if keep > 0 && p.step > 0 {
            save_module(model, &step_checkpoint(self.run, p.step))?;
            prune_step_checkpoints(self.run, keep)?;
        }
        Ok(())
    }

    /// One guarded update on one group of `accum` batches.
    fn train_step<M: Seq2Seq>(
        &self,
        model: M,
        optim: &mut ModuleOptimizer,
        group: &[HostBatch],
        parallel: Option<&DataParallel<M>>,
        p: &mut Progress,
    ) -> Result<(M, GuardDecision)> {
        let t0 = Instant::now();
        // [distributed] This rank's slice of the group, weighted by the whole group's tokens.
        let total = group_tokens(group);
        let mine = distributed::rank_share(group);
        let seed = distributed::rank_seed(step_seed(self.config.seed, p.step));
        let ls = self.config.label_smoothing;
        let (grads, stats) = match parallel {
            Some(workers) => workers.grads_over(&model, mine, total, ls, seed)?,
            None => {
                self.device().seed(seed);
                accumulated_grads_over(&model, mine, total, self.device(), ls)
            }
        };
        // [distributed] The sum of every rank's gradients and loss sums.
        let (grads, stats) = distributed::all_reduce_grads(&model, grads, stats)?;
        let lr = self.config.schedule().lr(p.step + 1) * p.lr_scale;
        let update = guarded_update(
            model,
            optim,
            &mut p.guard,
            stats.loss(),
            grads,
            lr,
            self.config.clip_norm,
        );
        if update.decision != GuardDecision::Update {
            return Ok((update.model, update.decision));
        }
        p.step += 1;
        p.train_seconds += t0.elapsed().as_secs_f64();
        p.train_tokens += stats.tokens;
        p.window.loss_x_tokens += stats.loss_x_tokens;
        p.window.nll += stats.nll;
        p.window.tokens += stats.tokens;
        p.window.grad_norm_sum += update.grad_norm.unwrap_or(0.0) as f64;
        p.window.updates += 1;
        Ok((update.model, update.decision))
    }

    /// Progress bar every step; a metrics line every `log_every` steps.
    fn report_step(
        &self,
        bar: &ProgressBar,
        log: &mut MetricsLog,
        p: &mut Progress,
        start: Instant,
    ) -> Result<()> {
        let tps = p.train_tokens as f64 / p.train_seconds.max(1e-9);
        bar.set_position(p.step as u64);
        if !p.step.is_multiple_of(self.config.log_every.max(1)) {
            if p.step % 5 == 1 {
                let loss = p.window.loss_x_tokens / p.window.tokens.max(1) as f64;
                bar.set_message(format!(
                    "epoch {} | loss {loss:.3} | {tps:.0} tok/s",
                    p.epoch + 1
                ));
            }
            return Ok(());
        }
        let tokens = p.window.tokens.max(1) as f64;
        p.last_train_loss = p.window.loss_x_tokens / tokens;
        let mut line = MetricLine::train(
            p.step,
            p.epoch + 1,
            p.elapsed(start),
            p.last_train_loss,
            (p.window.nll / tokens).exp(),
            tps,
            self.config.schedule().lr(p.step) * p.lr_scale,
        );
        line.grad_norm = Some(p.window.grad_norm_sum / p.window.updates.max(1) as f64);
        log.write(&line)?;
        bar.set_message(format!(
            "epoch {} | loss {:.3} | {tps:.0} tok/s",
            p.epoch + 1,
            p.last_train_loss
        ));
        p.window = Window::default();
        Ok(())
    }

    /// The `plateau` schedule: after `plateau_patience` validations without improvement, the
    /// learning rate is multiplied by `plateau_factor`.
    fn reduce_on_plateau(&self, improved: bool, bar: &ProgressBar, p: &mut Progress) {
        let cfg = self.config;
        if cfg.schedule != ScheduleKind::Plateau {
            return;
        }
        let plateau = Plateau {
            factor: cfg.plateau_factor,
            patience: cfg.plateau_patience,
        };
        if let Some(factor) = plateau.observe(improved, &mut p.plateau_evals) {
            p.lr_scale *= factor;
            bar.suspend(|| {
                eprintln!(
                    "step {}: no improvement in {} validations; learning rate reduced to {:.3e}",
                    p.step,
                    cfg.plateau_patience,
                    cfg.schedule().lr(p.step) * p.lr_scale
                )
            });
        }
    }

    /// Validates, keeps the best checkpoint, and says whether to stop early.
    fn validate_and_save<M: Seq2Seq>(
        &self,
        model: &M,
        bar: &ProgressBar,
        log: &mut MetricsLog,
        p: &mut Progress,
        start: Instant,
    ) -> Result<bool> {
        // [distributed] Rank 0 validates; every rank follows its outcome.
        let stop = if distributed::is_leader() {
            self.validate_here(model, bar, log, p, start)?
        } else {
            false
        };
        distributed::agree_on_validation(stop, &mut p.lr_scale)
    }

    /// [`TrainJob::validate_and_save`] in this process.
    fn validate_here<M: Seq2Seq>(
        &self,
        model: &M,
        bar: &ProgressBar,
        log: &mut MetricsLog,
        p: &mut Progress,
        start: Instant,
    ) -> Result<bool> {
        let Some(valid) = self.valid else {
            return Ok(false);
        };
        if p.validated_at == Some(p.step) {
            // Already done for these weights (an epoch end that is also the last step).
            return Ok(false);
        }
        p.validated_at = Some(p.step);
        let t0 = Instant::now();
        let scores = valid.evaluate(&model.valid(), &self.device().clone().without_autodiff())?;
        p.valid_seconds += t0.elapsed().as_secs_f64();
        // 1-based, as in training lines: the epoch in progress, or the one just finished.
        let epoch = if p.batch_in_epoch == 0 {
            p.epoch.max(1)
        } else {
            p.epoch + 1
        };
        log.write(&MetricLine::valid(p.step, epoch, p.elapsed(start), &scores))?;
        bar.suspend(|| eprintln!("step {} (epoch {epoch}): {scores}", p.step));
        let metric = self.config.select_metric;
        if p.best
            .as_ref()
            .is_none_or(|b| scores.better_than(b, metric))
        {
            p.best = Some(scores);
            p.evals_without_gain = 0;
            self.reduce_on_plateau(true, bar, p);
            save_module(model, &self.run.best_checkpoint())?;
        } else {
            p.evals_without_gain += 1;
            self.reduce_on_plateau(false, bar, p);
        }
        Ok(self
            .config
            .patience
            .is_some_and(|n| p.evals_without_gain >= n))
    }
}

/// Peak resident set size of this process in MiB, from `/proc/self/status` (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
