//! The training loop, written once for every architecture.
//!
//! A plain loop rather than burn-train's `Learner`: it needs token-budget batches that the data
//! crate builds per epoch, the teacher-forced loss over real tokens only, validation by BLEU
//! through the shared search, and a run directory that translation and comparison read back.

use std::time::Instant;

use anyhow::{Result, bail};
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use honyaku_core::Seq2Seq;
use honyaku_data::batcher::{Batcher, HostBatch};
use indicatif::ProgressBar;

use super::distributed::hooks as distributed;
use super::guard::{DivergenceGuard, GuardDecision};
use super::metrics::{MetricLine, MetricsLog, learning_curves, progress_bar, truncate_after};
use super::parallel::DataParallel;
use super::resume::{TrainState, interrupted, optim_checkpoint};
use super::schedule::{Plateau, Schedule, ScheduleKind};
use super::step::{
    Gradients, Update, accumulated_grads_over, group_tokens, guarded_update, optimizer_for,
    step_seed,
};
use super::summary::{StopReason, TrainSummary, peak_rss_mib};
use super::validation::{ValidScores, ValidSet};
use crate::arch::ModelTask;
use crate::run::checkpoint::{
    load_module, load_optimizer, module_bytes, optimizer_bytes, save_module,
};
use crate::run::commit::{commit_all, journal_path};
use crate::run::steps::{prune_step_checkpoints, step_checkpoint};
use crate::run::{RunDir, TrainConfig};

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

impl ModelTask for TrainJob<'_> {
    type Output = Result<TrainSummary>;

    fn run<M: Seq2Seq>(self, model: M) -> Result<TrainSummary> {
        let cfg = self.config;
        let parameters = Module::num_params(&model);
        let parallel = DataParallel::<M>::for_devices(&self.devices, cfg.cpu_shards);
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
                let update =
                    self.train_step(model, &mut optim, &group, parallel.as_ref(), &mut p)?;
                model = update.model;
                p.batch_in_epoch += group.len();
                crate::faults::forced_panic("train-step", p.step);
                match update.decision {
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
        if distributed::is_leader()
            && let Err(e) = learning_curves(self.run)
        {
            eprintln!("warning: could not draw the learning curves: {e:#}");
        }
        let summary = TrainSummary {
            steps: p.step,
            epochs: p.epoch,
            seconds: p.elapsed(start),
            valid_seconds: p.valid_seconds,
            target_tokens: p.train_tokens,
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

    /// Saves `last.bpk`, `last.optim.bpk` and `train_state.json` as one set (see
    /// [`crate::commit`]): a full disk or a crash at any point leaves the previous resume point
    /// or the new one, whole.
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
        commit_all(
            &journal_path(&self.run.root),
            &[
                (&self.run.last_checkpoint(), &module_bytes(model)?),
                (&optim_checkpoint(self.run), &optimizer_bytes(optim)?),
                (
                    &TrainState::path(self.run),
                    serde_json::to_string_pretty(&state)?.as_bytes(),
                ),
            ],
        )?;
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
    ) -> Result<Update<M>> {
        let t0 = Instant::now();
        // [distributed] This rank's slice of the group, weighted by the whole group's tokens.
        let total = group_tokens(group);
        let mine = distributed::rank_share(group);
        let seed = distributed::rank_seed(step_seed(self.config.seed, p.step));
        let ls = self.config.label_smoothing;
        let local = match parallel {
            Some(workers) => workers.grads_over(&model, mine, total, ls, seed)?,
            None => {
                self.device().seed(seed);
                accumulated_grads_over(&model, mine, total, self.device(), ls)
            }
        };
        // [distributed] The sum of every rank's gradients and loss sums.
        let Gradients { grads, stats } = distributed::all_reduce_grads(&model, local)?;
        let lr = Schedule::of(self.config).lr(p.step + 1) * p.lr_scale;
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
            return Ok(update);
        }
        p.step += 1;
        p.train_seconds += t0.elapsed().as_secs_f64();
        p.train_tokens += stats.tokens;
        p.window.loss_x_tokens += stats.loss_x_tokens;
        p.window.nll += stats.nll;
        p.window.tokens += stats.tokens;
        p.window.grad_norm_sum += update.grad_norm.unwrap_or(0.0) as f64;
        p.window.updates += 1;
        Ok(update)
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
            Schedule::of(self.config).lr(p.step) * p.lr_scale,
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
                    Schedule::of(cfg).lr(p.step) * p.lr_scale
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
