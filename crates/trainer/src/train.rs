//! The training loop, written once for every architecture.
//!
//! A plain loop rather than burn-train's `Learner`: it needs token-budget batches that the data
//! crate builds per epoch, the teacher-forced loss over real tokens only, validation by BLEU
//! through the shared search, and a run directory that translation and comparison read back.

use std::time::Instant;

use anyhow::Result;
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use honyaku_core::search::to_host_floats;
use honyaku_core::{Seq2Seq, sequence_loss};
use honyaku_data::batcher::{Batcher, HostBatch};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::arch::ModelTask;
use crate::checkpoint::save_module;
use crate::metrics::{MetricLine, MetricsLog, progress_bar};
use crate::run::{RunDir, TrainConfig};
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
    /// The autodiff device.
    pub device: Device,
    /// Hide the progress bar (tests, logs).
    pub quiet: bool,
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The configured epochs or steps were done.
    Completed,
    /// The wall-time budget ran out.
    TimeBudget,
    /// The validation metric stopped improving for `patience` evaluations.
    EarlyStopped,
}

/// What a finished training run reports; also saved as `summary.json`.
#[derive(Debug, Clone, Serialize)]
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
}

impl ModelTask for TrainJob<'_> {
    type Output = Result<TrainSummary>;

    fn run<M: Seq2Seq>(self, model: M) -> Result<TrainSummary> {
        let cfg = self.config;
        let parameters = model.num_params();
        let total_steps = cfg
            .max_steps
            .unwrap_or(cfg.epochs * self.batcher.num_batches());
        let mut optim = AdamConfig::new()
            .with_grad_clipping(cfg.clip_norm.map(GradientClippingConfig::Norm))
            .init();
        let bar = progress_bar(total_steps as u64, self.quiet);
        let mut log = MetricsLog::open(&self.run.metrics_path())?;
        let start = Instant::now();
        let mut model = model;
        let mut p = Progress {
            step: 0,
            epoch: 0,
            train_tokens: 0,
            train_seconds: 0.0,
            valid_seconds: 0.0,
            window: Window::default(),
            last_train_loss: f64::NAN,
            best: None,
            evals_without_gain: 0,
        };
        let stop = 'training: loop {
            for host in self.batcher.epoch_batches(p.epoch as u64) {
                if p.step >= total_steps {
                    break 'training StopReason::Completed;
                }
                if cfg
                    .max_minutes
                    .is_some_and(|m| start.elapsed().as_secs_f64() >= m * 60.0)
                {
                    break 'training StopReason::TimeBudget;
                }
                model = self.train_step(model, &mut optim, &host, &mut p);
                self.report_step(&bar, &mut log, &mut p, start)?;
                if cfg.valid_every.is_some_and(|n| p.step % n == 0)
                    && self.validate_and_save(&model, &bar, &mut log, &mut p, start)?
                {
                    break 'training StopReason::EarlyStopped;
                }
            }
            p.epoch += 1;
            if cfg.valid_every.is_none()
                && self.validate_and_save(&model, &bar, &mut log, &mut p, start)?
            {
                break StopReason::EarlyStopped;
            }
            save_module(&model, &self.run.last_checkpoint())?;
        };
        if cfg.valid_every.is_some() || stop != StopReason::EarlyStopped {
            self.validate_and_save(&model, &bar, &mut log, &mut p, start)?;
        }
        save_module(&model, &self.run.last_checkpoint())?;
        bar.finish_and_clear();
        let summary = TrainSummary {
            steps: p.step,
            epochs: p.epoch,
            seconds: start.elapsed().as_secs_f64(),
            valid_seconds: p.valid_seconds,
            tokens_per_second: p.train_tokens as f64 / p.train_seconds.max(1e-9),
            last_train_loss: p.last_train_loss,
            best: p.best,
            parameters,
            peak_rss_mib: peak_rss_mib(),
            stop,
        };
        self.run.save_summary(&summary)?;
        Ok(summary)
    }
}

impl TrainJob<'_> {
    /// One update on one batch.
    fn train_step<M: Seq2Seq>(
        &self,
        model: M,
        optim: &mut ModuleOptimizer,
        host: &HostBatch,
        p: &mut Progress,
    ) -> M {
        let t0 = Instant::now();
        let batch = host.to_batch(&self.device);
        let out = sequence_loss(
            model.forward(&batch),
            batch.tgt_out.clone(),
            batch.tgt_pad.clone(),
            self.config.label_smoothing,
        );
        let values = to_host_floats(Tensor::cat(vec![out.loss.clone(), out.nll_sum.clone()], 0));
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        p.step += 1;
        let model = optim.step(self.config.schedule().lr(p.step), model, grads);
        p.train_seconds += t0.elapsed().as_secs_f64();
        p.train_tokens += out.tokens;
        p.window.loss_x_tokens += values[0] as f64 * out.tokens as f64;
        p.window.nll += values[1] as f64;
        p.window.tokens += out.tokens;
        model
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
        if p.step % self.config.log_every.max(1) != 0 {
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
        log.write(&MetricLine::train(
            p.step,
            p.epoch + 1,
            start.elapsed().as_secs_f64(),
            p.last_train_loss,
            (p.window.nll / tokens).exp(),
            tps,
            self.config.schedule().lr(p.step),
        ))?;
        bar.set_message(format!(
            "epoch {} | loss {:.3} | {tps:.0} tok/s",
            p.epoch + 1,
            p.last_train_loss
        ));
        p.window = Window::default();
        Ok(())
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
        let Some(valid) = self.valid else {
            return Ok(false);
        };
        let t0 = Instant::now();
        let scores = valid.evaluate(&model.valid(), &self.device.clone().without_autodiff())?;
        p.valid_seconds += t0.elapsed().as_secs_f64();
        log.write(&MetricLine::valid(
            p.step,
            p.epoch,
            start.elapsed().as_secs_f64(),
            &scores,
        ))?;
        bar.suspend(|| eprintln!("step {} (epoch {}): {scores}", p.step, p.epoch.max(1)));
        let metric = self.config.select_metric;
        if p.best
            .as_ref()
            .is_none_or(|b| scores.better_than(b, metric))
        {
            p.best = Some(scores);
            p.evals_without_gain = 0;
            save_module(model, &self.run.best_checkpoint())?;
        } else {
            p.evals_without_gain += 1;
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
