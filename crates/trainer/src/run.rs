//! The run directory: effective configuration, tokenizers, checkpoints and metrics of one
//! training run.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use honyaku_data::clean::CleanConfig;
use honyaku_data::tokenizer::TokenizerConfig;
use serde::{Deserialize, Serialize};

use crate::arch::ModelConfig;
use crate::backend::Backend;
use crate::checkpoint::write_atomic;
use crate::schedule::{Schedule, ScheduleKind};

/// How training proceeds. Every field can be set in a `--config` file and overridden on the
/// command line; the effective values are saved in `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training data (used when `max_steps` is not set).
    pub epochs: usize,
    /// Stop after this many updates, whatever the epoch.
    pub max_steps: Option<usize>,
    /// Token budget of a batch: sentences × padded length (the longer side).
    pub max_tokens: usize,
    /// The optimizer: Adam, or AdamW with decoupled weight decay.
    pub optimizer: OptimizerKind,
    /// AdamW's decoupled weight decay (ignored by Adam).
    pub weight_decay: f64,
    /// Learning rate (the peak rate of a warm-up schedule).
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: ScheduleKind,
    /// Warm-up updates of the `inverse-sqrt` schedule.
    pub warmup: usize,
    /// `plateau` schedule: multiply the learning rate by this when the selection metric has
    /// not improved for `plateau_patience` validations.
    pub plateau_factor: f64,
    /// `plateau` schedule: validations without improvement before a reduction.
    pub plateau_patience: usize,
    /// Label smoothing of the loss.
    pub label_smoothing: f64,
    /// Clip the global L2 norm of all gradients to this (none when absent).
    pub clip_norm: Option<f32>,
    /// Seed of initialisation, dropout and data order.
    pub seed: u64,
    /// Log training metrics every this many updates.
    pub log_every: usize,
    /// Stop after this many minutes of wall time (validation included).
    pub max_minutes: Option<f64>,
    /// Validate every this many updates (default: at the end of every epoch).
    pub valid_every: Option<usize>,
    /// Decode the validation set greedily to report BLEU and chrF.
    pub valid_bleu: bool,
    /// The metric that picks the best checkpoint and drives early stopping.
    pub select_metric: SelectMetric,
    /// Stop after this many validations without improvement.
    pub patience: Option<usize>,
    /// Save the resumable state (`last.bpk`, optimizer, `train_state.json`) every this many
    /// updates, besides every validation, epoch end and interrupt.
    pub save_every: Option<usize>,
    /// Gradient accumulation: batches per update (the loss is normalised by their target
    /// tokens together).
    pub accum: usize,
    /// Keep the newest N step checkpoints (`checkpoints/step-K.bpk`, one per save) for
    /// `honyaku average`; 0 keeps none.
    pub keep_checkpoints: usize,
    /// Data parallel: devices of the backend to train on at once (GPUs `0..N` for wgpu;
    /// worker threads sharing the CPU for flex and ndarray). Each takes its own batch of
    /// `max_tokens`, so an update sees `accum × devices` batches.
    pub devices: usize,
}

/// The optimizer of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba 2015), β = (0.9, 0.999), ε = 1e-5.
    #[default]
    Adam,
    /// AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.
    Adamw,
}

/// A validation metric that picks checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum SelectMetric {
    /// BLEU of greedy translations (higher is better).
    #[default]
    Bleu,
    /// chrF of greedy translations (higher is better).
    Chrf,
    /// Validation loss (lower is better).
    Loss,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            max_steps: None,
            max_tokens: 4096,
            optimizer: OptimizerKind::Adam,
            weight_decay: 0.01,
            lr: 1e-3,
            schedule: ScheduleKind::Constant,
            warmup: 4000,
            plateau_factor: 0.5,
            plateau_patience: 2,
            label_smoothing: 0.1,
            clip_norm: Some(1.0),
            seed: 42,
            log_every: 50,
            max_minutes: None,
            valid_every: None,
            valid_bleu: true,
            select_metric: SelectMetric::Bleu,
            patience: None,
            save_every: None,
            accum: 1,
            keep_checkpoints: 0,
            devices: 1,
        }
    }
}

impl TrainConfig {
    /// The learning-rate schedule these settings describe.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            kind: self.schedule,
            lr: self.lr,
            warmup: self.warmup,
        }
    }

    /// Checks values, with messages a user can act on.
    pub fn validate(&self) -> Result<()> {
        if self.max_tokens == 0 {
            bail!("max_tokens must be at least 1");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            bail!("lr must be a positive number, got {}", self.lr);
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            bail!(
                "label_smoothing must be in [0, 1), got {}",
                self.label_smoothing
            );
        }
        if self.max_minutes.is_some_and(|m| m.is_nan() || m <= 0.0) {
            bail!("max_minutes must be positive");
        }
        if self.valid_every == Some(0) || self.patience == Some(0) || self.save_every == Some(0) {
            bail!("valid_every, patience and save_every must be at least 1");
        }
        if self.accum == 0 {
            bail!("accum must be at least 1");
        }
        if self.devices == 0 {
            bail!("devices must be at least 1");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            bail!("weight_decay must be 0 or more, got {}", self.weight_decay);
        }
        if !(self.plateau_factor > 0.0 && self.plateau_factor < 1.0) {
            bail!(
                "plateau_factor must be between 0 and 1 (exclusive), got {}",
                self.plateau_factor
            );
        }
        if self.plateau_patience == 0 {
            bail!("plateau_patience must be at least 1");
        }
        if self.max_steps.is_none() && self.epochs == 0 {
            bail!("epochs must be at least 1 (or give max_steps)");
        }
        Ok(())
    }
}

/// Corpus handling saved with the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Subword tokenizer settings.
    pub tokenizer: TokenizerConfig,
    /// Training pairs longer than this (in tokens) are dropped.
    pub max_len: usize,
    /// Training pairs whose length ratio exceeds this are dropped.
    pub max_ratio: f32,
    /// Drop exact duplicate pairs.
    pub dedup: bool,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            tokenizer: TokenizerConfig::default(),
            max_len: 100,
            max_ratio: 3.0,
            dedup: false,
        }
    }
}

/// Everything `config.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Architecture and dimensions.
    pub model: ModelConfig,
    /// Training settings.
    pub train: TrainConfig,
    /// Data settings.
    pub data: DataConfig,
    /// The backend the run was trained on (any backend can load it).
    pub backend: Backend,
    /// Honyaku version that wrote the run.
    pub honyaku_version: String,
}

impl RunConfig {
    /// Checks the model, training and data settings together.
    pub fn check(&self) -> Result<()> {
        self.model
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid model configuration: {e}"))?;
        self.train.validate()?;
        crate::limits::check_positions(&self.model, self.data.max_len)
            .map_err(anyhow::Error::msg)?;
        CleanConfig {
            max_len: self.data.max_len,
            max_ratio: self.data.max_ratio,
            dedup: self.data.dedup,
        }
        .validate()?;
        Ok(())
    }
}

/// Paths inside a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory itself.
    pub root: PathBuf,
}

impl RunDir {
    /// Creates a new run directory; refuses to reuse one that holds a run unless `overwrite`.
    pub fn create(root: &Path, overwrite: bool) -> Result<Self> {
        let run = Self {
            root: root.to_path_buf(),
        };
        if run.config_path().exists() {
            if !overwrite {
                bail!(
                    "{} already holds a run; choose another --out, or pass --overwrite to \
                     replace it",
                    root.display()
                );
            }
            let journal = crate::commit::journal_path(root);
            for p in [run.checkpoint_dir(), run.metrics_path(), journal] {
                if p.is_dir() {
                    fs::remove_dir_all(&p)?;
                } else if p.exists() {
                    fs::remove_file(&p)?;
                }
            }
        }
        fs::create_dir_all(run.checkpoint_dir())
            .with_context(|| format!("creating run directory {}", root.display()))?;
        Ok(run)
    }

    /// Opens an existing run directory, with a clear error if it is not one.
    pub fn open(root: &Path) -> Result<Self> {
        let run = Self {
            root: root.to_path_buf(),
        };
        if !root.is_dir() {
            bail!(
                "{} is not a directory; --run expects a run directory written by `honyaku train`",
                root.display()
            );
        }
        if !run.config_path().is_file() {
            bail!(
                "{} is not a Honyaku run: it has no config.json (train one with `honyaku train \
                 --out {}`)",
                root.display(),
                root.display()
            );
        }
        Ok(run)
    }

    /// `config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// `checkpoints/`.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// The latest checkpoint.
    pub fn last_checkpoint(&self) -> PathBuf {
        self.checkpoint_dir().join("last.bpk")
    }

    /// The checkpoint with the best validation loss.
    pub fn best_checkpoint(&self) -> PathBuf {
        self.checkpoint_dir().join("best.bpk")
    }

    /// The checkpoint translation uses: the best one when validation ran, else the last.
    pub fn inference_checkpoint(&self) -> Result<PathBuf> {
        for p in [self.best_checkpoint(), self.last_checkpoint()] {
            if p.is_file() {
                return Ok(p);
            }
        }
        bail!(
            "{} has no checkpoint yet (looked for {} and {})",
            self.root.display(),
            self.best_checkpoint().display(),
            self.last_checkpoint().display()
        )
    }

    /// `summary.json`: what the finished training run reports.
    pub fn summary_path(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    /// Saves `summary.json` atomically.
    pub fn save_summary<T: Serialize>(&self, summary: &T) -> Result<()> {
        let json = serde_json::to_string_pretty(summary)?;
        write_atomic(&self.summary_path(), json.as_bytes())
    }

    /// `metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// Saves `config.json` atomically.
    pub fn save_config(&self, config: &RunConfig) -> Result<()> {
        let json = serde_json::to_string_pretty(config)?;
        write_atomic(&self.config_path(), json.as_bytes())
    }

    /// Reads `config.json` and checks its values, so that a hand-edited file gives an error
    /// rather than a model that cannot be built.
    pub fn load_config(&self) -> Result<RunConfig> {
        let path = self.config_path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let config: RunConfig = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid run configuration; restore the file `honyaku train` wrote, \
                 or train the run again",
                path.display()
            )
        })?;
        config.check().with_context(|| {
            format!(
                "{} holds an impossible value; correct it, or train the run again",
                path.display()
            )
        })?;
        Ok(config)
    }
}
