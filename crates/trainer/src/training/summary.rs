//! What a training run reports when it ends: why it stopped, its counters and speed, its best
//! scores and peak memory (`summary.json`).

use serde::{Deserialize, Serialize};

use super::validation::ValidScores;

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
    /// Target tokens trained on (absent from summaries written before it was recorded).
    #[serde(default)]
    pub target_tokens: usize,
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

/// Peak resident set size of this process in MiB, from `/proc/self/status` (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
