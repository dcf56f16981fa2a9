//! The training log: `metrics.jsonl` lines and the progress bar.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::validation::ValidScores;

/// One line of `metrics.jsonl`.
#[derive(Debug, Serialize)]
pub struct MetricLine {
    /// `train` or `valid`.
    pub kind: &'static str,
    /// Updates so far.
    pub step: usize,
    /// Epoch (1-based).
    pub epoch: usize,
    /// Wall time since training started, seconds.
    pub elapsed_s: f64,
    /// Loss per target token (training: label-smoothed; validation: plain).
    pub loss: f64,
    /// Perplexity.
    pub ppl: f64,
    /// Training target tokens per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
    /// Learning rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Validation BLEU (greedy decoding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bleu: Option<f64>,
    /// Validation chrF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chrf: Option<f64>,
    /// Mean global gradient norm (before clipping) over the logging window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
}

impl MetricLine {
    /// A training line.
    pub fn train(
        step: usize,
        epoch: usize,
        elapsed_s: f64,
        loss: f64,
        ppl: f64,
        tokens_per_s: f64,
        lr: f64,
    ) -> Self {
        Self {
            kind: "train",
            step,
            epoch,
            elapsed_s,
            loss,
            ppl,
            tokens_per_s: Some(tokens_per_s),
            lr: Some(lr),
            bleu: None,
            chrf: None,
            grad_norm: None,
        }
    }

    /// A validation line.
    pub fn valid(step: usize, epoch: usize, elapsed_s: f64, s: &ValidScores) -> Self {
        Self {
            kind: "valid",
            step,
            epoch,
            elapsed_s,
            loss: s.loss,
            ppl: s.loss.exp(),
            tokens_per_s: None,
            lr: None,
            bleu: s.bleu,
            chrf: s.chrf,
            grad_norm: None,
        }
    }
}

/// Appends JSON lines to `metrics.jsonl`.
pub struct MetricsLog {
    file: File,
}

impl MetricsLog {
    /// Opens (appending) the log.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Self { file })
    }

    /// Writes one line.
    pub fn write(&mut self, line: &MetricLine) -> Result<()> {
        let json = serde_json::to_string(line)?;
        writeln!(self.file, "{json}").context("writing metrics.jsonl")
    }
}

/// The training progress bar: steps, loss, tokens/s and ETA.
pub fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
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
