//! The training loop, written once for every architecture.
//!
//! A plain loop rather than burn-train's `Learner`: it needs token-budget batches that the data
//! crate builds per epoch, the teacher-forced loss over real tokens only, and a run directory
//! that translation and comparison read back; the loop is short enough to read at once.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use honyaku_core::search::to_host_floats;
use honyaku_core::{Seq2Seq, TranslationBatch, sequence_loss};
use honyaku_data::batcher::{Batcher, HostBatch};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::arch::ModelTask;
use crate::checkpoint::save_module;
use crate::run::{RunDir, TrainConfig};

/// A training job for [`crate::arch::ModelConfig::run`].
pub struct TrainJob<'a> {
    /// Training settings.
    pub config: &'a TrainConfig,
    /// Where checkpoints and metrics go.
    pub run: &'a RunDir,
    /// Training batches.
    pub batcher: &'a Batcher,
    /// Validation batches (evaluated at the end of every epoch).
    pub valid: &'a [HostBatch],
    /// The autodiff device.
    pub device: Device,
    /// Hide the progress bar (tests, logs).
    pub quiet: bool,
}

/// What a finished training run reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    /// Updates made.
    pub steps: usize,
    /// Epochs started.
    pub epochs: usize,
    /// Wall time of training (validation included), seconds.
    pub seconds: f64,
    /// Target tokens per second over the whole run.
    pub tokens_per_second: f64,
    /// Mean training loss over the last logging window.
    pub last_train_loss: f64,
    /// Best validation loss per token, if validation ran.
    pub best_valid_loss: Option<f64>,
    /// Number of parameters.
    pub parameters: usize,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Serialize)]
struct MetricLine<'a> {
    kind: &'a str,
    step: usize,
    epoch: usize,
    elapsed_s: f64,
    loss: f64,
    ppl: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lr: Option<f64>,
}

/// Running sums between two log lines.
#[derive(Default)]
struct Window {
    nll: f64,
    loss_x_tokens: f64,
    tokens: usize,
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
        let schedule = cfg.schedule();
        let bar = progress_bar(total_steps as u64, self.quiet);
        let mut metrics = MetricsLog::open(self.run)?;
        let start = Instant::now();
        let (mut model, mut step, mut epoch) = (model, 0usize, 0usize);
        let (mut window, mut total_tokens) = (Window::default(), 0usize);
        let mut last_train_loss = f64::NAN;
        let mut best_valid: Option<f64> = None;
        while step < total_steps {
            for host in self.batcher.epoch_batches(epoch as u64) {
                if step >= total_steps {
                    break;
                }
                let batch = host.to_batch(&self.device);
                let out = sequence_loss(
                    model.forward(&batch),
                    batch.tgt_out.clone(),
                    batch.tgt_pad.clone(),
                    cfg.label_smoothing,
                );
                let values =
                    to_host_floats(Tensor::cat(vec![out.loss.clone(), out.nll_sum.clone()], 0));
                let grads = GradientsParams::from_grads(out.loss.backward(), &model);
                step += 1;
                let lr = schedule.lr(step);
                model = optim.step(lr, model, grads);
                total_tokens += out.tokens;
                window.loss_x_tokens += values[0] as f64 * out.tokens as f64;
                window.nll += values[1] as f64;
                window.tokens += out.tokens;
                let elapsed = start.elapsed().as_secs_f64();
                let tps = total_tokens as f64 / elapsed.max(1e-9);
                bar.set_position(step as u64);
                bar.set_message(format!(
                    "epoch {} | loss {:.3} | {:.0} tok/s",
                    epoch + 1,
                    values[0],
                    tps
                ));
                if step % cfg.log_every.max(1) == 0 || step == total_steps {
                    last_train_loss = window.loss_x_tokens / window.tokens.max(1) as f64;
                    let nll = window.nll / window.tokens.max(1) as f64;
                    metrics.write(&MetricLine {
                        kind: "train",
                        step,
                        epoch: epoch + 1,
                        elapsed_s: elapsed,
                        loss: last_train_loss,
                        ppl: nll.exp(),
                        tokens_per_s: Some(tps),
                        lr: Some(lr),
                    })?;
                    window = Window::default();
                }
            }
            epoch += 1;
            let valid = self.validate(&model)?;
            if let Some(valid_loss) = valid {
                metrics.write(&MetricLine {
                    kind: "valid",
                    step,
                    epoch,
                    elapsed_s: start.elapsed().as_secs_f64(),
                    loss: valid_loss,
                    ppl: valid_loss.exp(),
                    tokens_per_s: None,
                    lr: None,
                })?;
                bar.println(format!(
                    "epoch {epoch}: step {step}, valid loss {valid_loss:.3}, perplexity {:.2}",
                    valid_loss.exp()
                ));
                if best_valid.is_none_or(|b| valid_loss < b) {
                    best_valid = Some(valid_loss);
                    save_module(&model, &self.run.best_checkpoint())?;
                }
            }
            save_module(&model, &self.run.last_checkpoint())?;
        }
        bar.finish_and_clear();
        let seconds = start.elapsed().as_secs_f64();
        Ok(TrainSummary {
            steps: step,
            epochs: epoch,
            seconds,
            tokens_per_second: total_tokens as f64 / seconds.max(1e-9),
            last_train_loss,
            best_valid_loss: best_valid,
            parameters,
        })
    }
}

impl TrainJob<'_> {
    /// Mean per-token validation loss (no smoothing, no dropout), or `None` without a
    /// validation set.
    fn validate<M: Seq2Seq>(&self, model: &M) -> Result<Option<f64>> {
        if self.valid.is_empty() {
            return Ok(None);
        }
        let model = model.valid();
        let device = self.device.clone().without_autodiff();
        let (mut nll, mut tokens) = (0.0f64, 0usize);
        for host in self.valid {
            let batch: TranslationBatch = host.to_batch(&device);
            let out = sequence_loss(
                model.forward(&batch),
                batch.tgt_out.clone(),
                batch.tgt_pad.clone(),
                0.0,
            );
            nll += to_host_floats(out.nll_sum)[0] as f64;
            tokens += out.tokens;
        }
        Ok(Some(nll / tokens.max(1) as f64))
    }
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps | {msg} | ETA {eta}",
        )
        .expect("valid progress template"),
    );
    bar
}

/// Appends JSON lines to `metrics.jsonl`.
struct MetricsLog {
    file: std::fs::File,
}

impl MetricsLog {
    fn open(run: &RunDir) -> Result<Self> {
        let path = run.metrics_path();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Self { file })
    }

    fn write(&mut self, line: &MetricLine) -> Result<()> {
        let json = serde_json::to_string(line)?;
        writeln!(self.file, "{json}").context("writing metrics.jsonl")
    }
}
