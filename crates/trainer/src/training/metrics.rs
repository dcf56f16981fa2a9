//! The training log: `metrics.jsonl` lines and the progress bar.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::validation::ValidScores;
use crate::plots::{Series, line_chart};
use crate::run::{RunDir, write_atomic};

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

/// Drops the lines of `metrics.jsonl` logged after update `step` (and a torn last line): what
/// a crashed session logged past its last checkpoint, which the resumed session logs again.
/// Returns how many lines were dropped.
pub fn truncate_after(path: &Path, step: usize) -> Result<usize> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(0);
    };
    let total = text.lines().count();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s as usize <= step)
        })
        .collect();
    let dropped = total - kept.len();
    if dropped > 0 {
        let mut out = kept.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        write_atomic(path, out.as_bytes())?;
    }
    Ok(dropped)
}

/// Draws `plots/learning_curves.{svg,png}` of a run from its `metrics.jsonl`: training and
/// validation loss per token against updates.
pub fn learning_curves(run: &RunDir) -> Result<[PathBuf; 2]> {
    let text = std::fs::read_to_string(run.metrics_path())
        .with_context(|| format!("reading {}", run.metrics_path().display()))?;
    let mut train = Vec::new();
    let mut valid = Vec::new();
    for v in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        let (Some(step), Some(loss)) = (v["step"].as_f64(), v["loss"].as_f64()) else {
            continue;
        };
        match v["kind"].as_str() {
            Some("train") => train.push((step, loss)),
            Some("valid") => valid.push((step, loss)),
            _ => {}
        }
    }
    let dir = run.root.join("plots");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    line_chart(
        &dir.join("learning_curves"),
        "Learning curves",
        "updates",
        "loss per token",
        &[
            Series {
                name: "training (label-smoothed)".into(),
                points: train,
            },
            Series {
                name: "validation".into(),
                points: valid,
            },
        ],
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_lines_up_to_the_checkpoint_and_drops_a_torn_one() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        std::fs::write(
            &path,
            "{\"kind\":\"train\",\"step\":50}\n{\"kind\":\"valid\",\"step\":100}\n\
             {\"kind\":\"train\",\"step\":150}\n{\"kind\":\"tra",
        )
        .unwrap();
        assert_eq!(truncate_after(&path, 100).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"kind\":\"train\",\"step\":50}\n{\"kind\":\"valid\",\"step\":100}\n"
        );
        assert_eq!(truncate_after(&path, 100).unwrap(), 0);
        assert_eq!(truncate_after(&dir.path().join("absent"), 1).unwrap(), 0);
    }
}
