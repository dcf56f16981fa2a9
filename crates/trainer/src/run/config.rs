//! `config.json`: the model, training and data settings of a run, as used.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use honyaku_core::recipe::{LrSchedule, Recipe};
use honyaku_data::clean::CleanConfig;
use honyaku_data::tokenizer::{SubwordModel, TokenizerConfig};
use serde::{Deserialize, Serialize};

use super::overlay::settings;

use crate::arch::ModelConfig;
use crate::backend::Backend;

settings! {
    /// How training proceeds. Every field can be set in a `--config` file and overridden on the
    /// command line; the effective values are saved in `config.json`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    pub struct TrainConfig;
    /// The training flags of `honyaku train`: each given one replaces its setting. The display
    /// orders keep the flags where `train --help` has always listed them.
    #[derive(Debug, Clone, Default, Args)]
    pub struct TrainOverrides;

    /// Passes over the training data (used when `max_steps` is not set).
    epochs: usize = 10,
        /// Passes over the training data.
        #[arg(long, conflicts_with = "max_steps", display_order = 15, value_parser = crate::checks::epochs)]
        epochs: Option<usize> => |c, v| {
            c.epochs = v;
            c.max_steps = None;
        };
    /// Stop after this many updates, whatever the epoch.
    max_steps: Option<usize> = None,
        /// Stop after this many updates.
        #[arg(long, display_order = 16, value_parser = crate::checks::steps)]
        max_steps: Option<usize> => |c, v| c.max_steps = Some(v);
    /// Token budget of a batch: sentences × padded length (the longer side).
    max_tokens: usize = 4096,
        /// Token budget per batch.
        #[arg(long, display_order = 17, value_parser = crate::checks::max_tokens)]
        max_tokens: Option<usize> => |c, v| c.max_tokens = v;
    /// The optimizer: Adam, or AdamW with decoupled weight decay.
    optimizer: OptimizerKind = OptimizerKind::Adam,
        /// Optimizer: adam (default) or adamw (decoupled weight decay, see --weight-decay).
        #[arg(long, value_enum, display_order = 38)]
        optimizer: Option<OptimizerKind> => |c, v| c.optimizer = v;
    /// AdamW's decoupled weight decay (ignored by Adam).
    weight_decay: f64 = 0.01,
        /// AdamW's weight decay (default 0.01).
        #[arg(long, display_order = 39, value_parser = crate::checks::non_negative)]
        weight_decay: Option<f64> => |c, v| c.weight_decay = v;
    /// Adam's and AdamW's β₁ (decay of the first moment).
    adam_beta1: f64 = 0.9,
        /// Adam's β₁ (default: the architecture's recipe).
        #[arg(long, display_order = 39, value_parser = crate::checks::probability)]
        adam_beta1: Option<f64> => |c, v| c.adam_beta1 = v;
    /// Adam's and AdamW's β₂ (decay of the second moment).
    adam_beta2: f64 = 0.999,
        /// Adam's β₂ (default: the architecture's recipe).
        #[arg(long, display_order = 39, value_parser = crate::checks::probability)]
        adam_beta2: Option<f64> => |c, v| c.adam_beta2 = v;
    /// Adam's and AdamW's ε (added to the denominator). The default is Burn's (runs written
    /// before recipes had it); the recipes set their own.
    adam_epsilon: f64 = 1e-5,
        /// Adam's ε (default: the architecture's recipe).
        #[arg(long, display_order = 39, value_parser = crate::checks::positive_number)]
        adam_eps: Option<f64> => |c, v| c.adam_epsilon = v;
    /// Learning rate (the peak rate of a warm-up schedule).
    lr: f64 = 1e-3,
        /// Learning rate (the peak rate with --schedule inverse-sqrt).
        #[arg(long, display_order = 18, value_parser = crate::checks::learning_rate)]
        lr: Option<f64> => |c, v| c.lr = v;
    /// Learning-rate schedule.
    schedule: ScheduleKind = ScheduleKind::Constant,
        /// Learning-rate schedule.
        #[arg(long, value_enum, display_order = 19)]
        schedule: Option<ScheduleKind> => |c, v| c.schedule = v;
    /// Warm-up updates of the `inverse-sqrt` schedule.
    warmup: usize = 4000,
        /// Warm-up updates of the inverse-sqrt schedule.
        #[arg(long, display_order = 20, value_parser = crate::checks::count)]
        warmup: Option<usize> => |c, v| c.warmup = v;
    /// `plateau` schedule: multiply the learning rate by this when the selection metric has
    /// not improved for `plateau_patience` validations.
    plateau_factor: f64 = 0.5,
        /// `--schedule plateau`: factor applied to the learning rate on a plateau (default 0.5).
        #[arg(long, display_order = 40, value_parser = crate::checks::factor)]
        plateau_factor: Option<f64> => |c, v| c.plateau_factor = v;
    /// `plateau` schedule: validations without improvement before a reduction.
    plateau_patience: usize = 2,
        /// `--schedule plateau`: validations without improvement before a reduction (default 2).
        #[arg(long, display_order = 41, value_parser = crate::checks::positive)]
        plateau_patience: Option<usize> => |c, v| c.plateau_patience = v;
    /// Label smoothing of the loss.
    label_smoothing: f64 = 0.1,
        /// Label smoothing of the training loss.
        #[arg(long, display_order = 21, value_parser = crate::checks::probability)]
        label_smoothing: Option<f64> => |c, v| c.label_smoothing = v;
    /// Clip the global L2 norm of all gradients to this (none when absent).
    clip_norm: Option<f32> = Some(1.0),
        /// Clip the global L2 norm of all gradients to this (0 disables clipping).
        #[arg(long, display_order = 34, value_parser = crate::checks::clip_norm)]
        clip_norm: Option<f32> => |c, v| c.clip_norm = (v > 0.0).then_some(v);
    /// Seed of initialisation, dropout and data order.
    seed: u64 = 42,
        /// Seed of initialisation, dropout and data order.
        #[arg(long, display_order = 22)]
        seed: Option<u64> => |c, v| c.seed = v;
    /// Log training metrics every this many updates.
    log_every: usize = 50;
    /// Stop after this many minutes of wall time (validation included).
    max_minutes: Option<f64> = None,
        /// Stop after this many minutes of wall time.
        #[arg(long, display_order = 28, value_parser = crate::checks::minutes)]
        max_minutes: Option<f64> => |c, v| c.max_minutes = Some(v);
    /// Validate every this many updates (default: at the end of every epoch).
    valid_every: Option<usize> = None,
        /// Validate every N updates (default: after every epoch).
        #[arg(long, display_order = 29, value_parser = crate::checks::positive)]
        valid_every: Option<usize> => |c, v| c.valid_every = Some(v);
    /// Decode the validation set greedily to report BLEU and chrF.
    valid_bleu: bool = true,
        /// Validate by loss only, without decoding the validation set.
        #[arg(long, display_order = 32)]
        no_valid_bleu: bool => |c, _v| c.valid_bleu = false;
    /// The metric that picks the best checkpoint and drives early stopping.
    select_metric: SelectMetric = SelectMetric::Auto,
        /// The validation metric that picks the best checkpoint and drives early stopping.
        #[arg(long, value_enum, display_order = 30)]
        early_stop_metric: Option<SelectMetric> => |c, v| c.select_metric = v;
    /// Stop after this many validations without improvement.
    patience: Option<usize> = None,
        /// Stop after N validations without improvement.
        #[arg(long, display_order = 31, value_parser = crate::checks::positive)]
        patience: Option<usize> => |c, v| c.patience = Some(v);
    /// Save the resumable state (`last.bpk`, optimizer, `train_state.json`) every this many
    /// updates, besides every validation, epoch end and interrupt.
    save_every: Option<usize> = None,
        /// Save the resumable state every N updates (besides validations and epoch ends).
        #[arg(long, display_order = 33, value_parser = crate::checks::positive)]
        save_every: Option<usize> => |c, v| c.save_every = Some(v);
    /// Gradient accumulation: batches per update (the loss is normalised by their target
    /// tokens together).
    accum: usize = 1,
        /// Accumulate gradients over N batches per update.
        #[arg(long, display_order = 35, value_parser = crate::checks::accum)]
        accum: Option<usize> => |c, v| c.accum = v;
    /// Keep the newest N step checkpoints (`checkpoints/step-K.bpk`, one per save) for
    /// `honyaku average`; 0 keeps none.
    keep_checkpoints: usize = 0,
        /// Keep the newest N step checkpoints for `honyaku average`.
        #[arg(long, display_order = 36, value_parser = crate::checks::count)]
        keep_checkpoints: Option<usize> => |c, v| c.keep_checkpoints = v;
    /// Data parallel: devices of the backend to train on at once (GPUs `0..N` for wgpu;
    /// worker threads sharing the CPU for flex and ndarray). Each takes its own batch of
    /// `max_tokens`, so an update sees `accum × devices` batches.
    devices: usize = 1,
        /// Data parallel: train on N devices of the backend at once, one batch of --max-tokens
        /// each (GPUs 0..N with wgpu; worker threads sharing the CPU with flex and ndarray).
        #[arg(long, display_order = 37, value_parser = crate::checks::devices)]
        devices: Option<usize> => |c, v| c.devices = v;
    /// CPU backends: back-propagate each batch as this many shards of its rows, on as many
    /// threads at once, and sum their gradients (each weighted by its share of the target
    /// tokens, so the update is the one of the whole batch). burn's CPU backends run
    /// element-wise operations on the calling thread, so one batch alone keeps about one core
    /// busy. 0 means one per core, at most 4; a new or resumed run saves the number it used.
    /// GPU backends use 1.
    cpu_shards: usize = 0,
        /// CPU backends: train each batch as N row shards on N threads at once (0: one per
        /// core, at most 4; the update is the same)
        #[arg(long, display_order = 37, value_parser = crate::checks::cpu_shards)]
        cpu_shards: Option<usize> => |c, v| c.cpu_shards = v;
}

/// The optimizer of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba 2015), with the run's β and ε.
    #[default]
    Adam,
    /// AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.
    Adamw,
}

impl SelectMetric {
    /// `Auto` decided for these validation targets (BLEU when at least half of the
    /// sentences of more than one character hold a space); other metrics as they are.
    pub fn resolved(self, targets: &[String]) -> Self {
        if self != Self::Auto {
            return self;
        }
        let sentences: Vec<&str> = targets
            .iter()
            .map(|t| t.trim())
            .filter(|t| t.chars().nth(1).is_some())
            .collect();
        let spaced = sentences
            .iter()
            .filter(|t| t.contains(char::is_whitespace))
            .count();
        if spaced * 2 >= sentences.len() {
            Self::Bleu
        } else {
            Self::Chrf
        }
    }
}

/// How the learning rate changes with the update count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Linear warm-up to the peak rate, then decay with the inverse square root of the step
    /// (Vaswani et al. 2017, as fairseq's `inverse_sqrt`).
    InverseSqrt,
    /// Reduce on plateau: the constant rate, multiplied by `plateau_factor` whenever the
    /// validation metric has not improved for `plateau_patience` validations (needs
    /// validation data).
    Plateau,
}

/// A validation metric that picks checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum SelectMetric {
    /// BLEU when the validation targets separate words by spaces, chrF when most do not
    /// (Japanese, Chinese, Thai: 13a BLEU would count whole sentences as single words). Decided
    /// when the run starts; `config.json` keeps the metric chosen.
    #[default]
    Auto,
    /// BLEU of greedy translations (higher is better).
    Bleu,
    /// chrF of greedy translations (higher is better).
    Chrf,
    /// Validation loss (lower is better).
    Loss,
}

impl TrainConfig {
    /// The defaults with `recipe`'s settings: where a new run starts, before its config file and
    /// its flags.
    pub fn from_recipe(recipe: &Recipe) -> Self {
        let mut config = Self {
            lr: recipe.lr,
            adam_beta1: recipe.adam.beta1,
            adam_beta2: recipe.adam.beta2,
            adam_epsilon: recipe.adam.epsilon,
            label_smoothing: recipe.label_smoothing,
            clip_norm: recipe.clip_norm,
            max_tokens: recipe.max_tokens,
            ..Self::default()
        };
        match recipe.schedule {
            LrSchedule::Constant => config.schedule = ScheduleKind::Constant,
            LrSchedule::InverseSqrt { warmup } => {
                config.schedule = ScheduleKind::InverseSqrt;
                config.warmup = warmup;
            }
            LrSchedule::Plateau { factor, patience } => {
                config.schedule = ScheduleKind::Plateau;
                config.plateau_factor = factor;
                config.plateau_patience = patience;
            }
        }
        config
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
        if !(1..=crate::checks::MAX_DEVICES).contains(&self.devices) {
            bail!(
                "devices must be 1 to {}, got {}",
                crate::checks::MAX_DEVICES,
                self.devices
            );
        }
        if self.cpu_shards > crate::checks::MAX_CPU_SHARDS {
            bail!(
                "cpu_shards must be 0 (one per core) to {}, got {}",
                crate::checks::MAX_CPU_SHARDS,
                self.cpu_shards
            );
        }
        for (name, beta) in [
            ("adam_beta1", self.adam_beta1),
            ("adam_beta2", self.adam_beta2),
        ] {
            if !(0.0..1.0).contains(&beta) {
                bail!("{name} must be in [0, 1), got {beta}");
            }
        }
        if !(self.adam_epsilon > 0.0 && self.adam_epsilon.is_finite()) {
            bail!(
                "adam_epsilon must be a positive number, got {}",
                self.adam_epsilon
            );
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

settings! {
    /// Corpus handling saved with the run.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    pub struct DataConfig;
    /// The data flags of `honyaku train`: each given one replaces its setting.
    #[derive(Debug, Clone, Default, Args)]
    pub struct DataOverrides;

    /// Subword tokenizer settings.
    tokenizer: TokenizerConfig = TokenizerConfig::default(),
        /// Subword vocabulary size.
        #[arg(long, display_order = 23, value_parser = crate::checks::vocab_size)]
        vocab_size: Option<usize> => |d, v| d.tokenizer.vocab_size = v,
        /// Subword model.
        #[arg(long, value_enum, display_order = 24)]
        subword: Option<SubwordArg> => |d, v| d.tokenizer.model = v.model(),
        /// Separate source and target vocabularies (default: one joint vocabulary).
        #[arg(long, display_order = 25)]
        separate_vocab: bool => |d, _v| d.tokenizer.joint = false,
        /// Lowercase the text before tokenizing.
        #[arg(long, display_order = 26)]
        lowercase: bool => |d, _v| d.tokenizer.lowercase = true;
    /// Training pairs longer than this (in tokens) are dropped.
    max_len: usize = 100;
    /// Training pairs whose length ratio exceeds this are dropped.
    max_ratio: f32 = 3.0;
    /// Drop exact duplicate pairs.
    dedup: bool = false;
}

/// Subword model of the tokenizer.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubwordArg {
    Bpe,
    Unigram,
}

impl SubwordArg {
    /// The data crate's subword model.
    pub fn model(self) -> SubwordModel {
        match self {
            Self::Bpe => SubwordModel::Bpe,
            Self::Unigram => SubwordModel::Unigram,
        }
    }
}

/// The command line's overlay of a run's settings: the training and the data flags of
/// `honyaku train`, merged onto the settings of a `--config` file (or the defaults) here only.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsOverlay {
    #[command(flatten)]
    pub train: TrainOverrides,
    #[command(flatten)]
    pub data: DataOverrides,
}

impl SettingsOverlay {
    /// Sets every setting given on the command line in `train` and `data`.
    pub fn merge(&self, train: &mut TrainConfig, data: &mut DataConfig) {
        self.train.merge(train);
        self.data.merge(data);
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

/// What a `--config` file may hold; every section is optional and unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The `model` section.
    pub model: Option<ModelConfig>,
    /// The `train` section: the settings it names replace those of the architecture's recipe
    /// (see [`FileConfig::train_over`]).
    pub train: Option<serde_json::Map<String, serde_json::Value>>,
    /// The `data` section.
    pub data: Option<DataConfig>,
    /// Where the file was read from, for messages.
    #[serde(skip)]
    path: Option<PathBuf>,
}

/// The message of a config file that cannot be read as one.
fn invalid_file(path: &Path) -> String {
    format!(
        "config file {} is not valid (expected a JSON object with optional `model`, `train` and \
         `data` sections)",
        path.display()
    )
}

impl FileConfig {
    /// `base` (the recipe's settings) with every setting the `train` section names replaced.
    pub fn train_over(&self, base: TrainConfig) -> Result<TrainConfig> {
        let Some(section) = &self.train else {
            return Ok(base);
        };
        let mut merged = match serde_json::to_value(base)? {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("TrainConfig serializes to an object"),
        };
        merged.extend(section.clone());
        serde_json::from_value(serde_json::Value::Object(merged))
            .with_context(|| invalid_file(self.path.as_deref().unwrap_or(Path::new("(config)"))))
    }

    /// Reads a `--config` file; no file gives empty sections.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let mut file: Self = serde_json::from_str(&text).with_context(|| invalid_file(path))?;
        file.path = Some(path.to_path_buf());
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use honyaku_data::tokenizer::SubwordModel;

    use super::*;

    /// The overlay as `train` parses it.
    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        settings: SettingsOverlay,
    }

    fn merged(args: &[&str], mut train: TrainConfig) -> (TrainConfig, DataConfig) {
        let flags =
            Flags::try_parse_from(std::iter::once("train").chain(args.iter().copied())).unwrap();
        let mut data = DataConfig::default();
        flags.settings.merge(&mut train, &mut data);
        (train, data)
    }

    #[test]
    fn no_flags_leave_the_file_settings_as_they_are() {
        let file = TrainConfig {
            lr: 0.5,
            max_steps: Some(7),
            clip_norm: None,
            ..TrainConfig::default()
        };
        let (train, data) = merged(&[], file.clone());
        assert_eq!(train, file);
        assert_eq!(data, DataConfig::default());
    }

    #[test]
    fn each_given_flag_replaces_its_setting_only() {
        let file = TrainConfig {
            lr: 0.5,
            max_steps: Some(7),
            ..TrainConfig::default()
        };
        let (train, data) = merged(
            &[
                "--epochs",
                "3",
                "--clip-norm",
                "0",
                "--no-valid-bleu",
                "--early-stop-metric",
                "loss",
                "--valid-every",
                "20",
                "--subword",
                "unigram",
                "--separate-vocab",
                "--vocab-size",
                "500",
            ],
            file,
        );
        let expected = TrainConfig {
            epochs: 3,
            max_steps: None,
            lr: 0.5,
            clip_norm: None,
            valid_bleu: false,
            select_metric: SelectMetric::Loss,
            valid_every: Some(20),
            ..TrainConfig::default()
        };
        assert_eq!(train, expected);
        assert_eq!(data.tokenizer.model, SubwordModel::Unigram);
        assert!(!data.tokenizer.joint);
        assert_eq!(data.tokenizer.vocab_size, 500);
        assert!(!data.tokenizer.lowercase);
    }

    #[test]
    fn a_positive_clip_norm_and_max_steps_are_set() {
        let (train, _) = merged(
            &["--clip-norm", "2.5", "--max-steps", "9"],
            TrainConfig::default(),
        );
        assert_eq!(train.clip_norm, Some(2.5));
        assert_eq!(train.max_steps, Some(9));
        assert_eq!(train.epochs, TrainConfig::default().epochs);
    }

    #[test]
    fn config_json_keeps_its_fields_in_their_order() {
        let text = serde_json::to_string(&TrainConfig::default()).unwrap();
        let order = [
            "epochs",
            "max_steps",
            "max_tokens",
            "optimizer",
            "weight_decay",
            "adam_beta1",
            "adam_beta2",
            "adam_epsilon",
            "lr",
            "schedule",
            "warmup",
            "plateau_factor",
            "plateau_patience",
            "label_smoothing",
            "clip_norm",
            "seed",
            "log_every",
            "max_minutes",
            "valid_every",
            "valid_bleu",
            "select_metric",
            "patience",
            "save_every",
            "accum",
            "keep_checkpoints",
            "devices",
            "cpu_shards",
        ];
        let at: Vec<usize> = order
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(text.matches("\":").count(), order.len(), "{text}");
        let back: TrainConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, TrainConfig::default());
    }

    #[test]
    fn a_recipe_sets_the_schedule_adam_and_batch_and_leaves_the_rest_at_the_defaults() {
        let recipe = Recipe {
            lr: 2e-3,
            schedule: LrSchedule::InverseSqrt { warmup: 300 },
            adam: honyaku_core::recipe::AdamSettings::TRANSFORMER,
            label_smoothing: 0.2,
            clip_norm: None,
            max_tokens: 1024,
        };
        let c = TrainConfig::from_recipe(&recipe);
        assert_eq!(
            (c.lr, c.schedule, c.warmup),
            (2e-3, ScheduleKind::InverseSqrt, 300)
        );
        assert_eq!(
            (c.adam_beta1, c.adam_beta2, c.adam_epsilon),
            (0.9, 0.98, 1e-9)
        );
        assert_eq!(
            (c.label_smoothing, c.clip_norm, c.max_tokens),
            (0.2, None, 1024)
        );
        assert_eq!(c.seed, TrainConfig::default().seed);
        let plateau = Recipe {
            schedule: LrSchedule::Plateau {
                factor: 0.7,
                patience: 3,
            },
            ..recipe
        };
        let c = TrainConfig::from_recipe(&plateau);
        assert_eq!(
            (c.schedule, c.plateau_factor, c.plateau_patience),
            (ScheduleKind::Plateau, 0.7, 3)
        );
    }

    #[test]
    fn a_config_file_replaces_only_the_settings_it_names() {
        let base = TrainConfig {
            lr: 2e-3,
            warmup: 300,
            ..TrainConfig::default()
        };
        let file: FileConfig =
            serde_json::from_str(r#"{"train": {"lr": 5e-4, "seed": 7}}"#).unwrap();
        let merged = file.train_over(base.clone()).unwrap();
        assert_eq!((merged.lr, merged.seed, merged.warmup), (5e-4, 7, 300));
        assert_eq!(
            FileConfig::default().train_over(base.clone()).unwrap(),
            base
        );
        let typo: FileConfig = serde_json::from_str(r#"{"train": {"epochz": 3}}"#).unwrap();
        let err = format!("{:#}", typo.train_over(base).unwrap_err());
        assert!(err.contains("unknown field `epochz`"), "{err}");
    }

    #[test]
    fn auto_selects_bleu_for_spaced_targets_and_chrf_for_unsegmented_ones() {
        let spaced = ["a cat sleeps .", "dogs run", "x"].map(String::from);
        let unsegmented = ["猫が寝ている。", "犬が走る", "はい、そうです"].map(String::from);
        assert_eq!(SelectMetric::Auto.resolved(&spaced), SelectMetric::Bleu);
        assert_eq!(
            SelectMetric::Auto.resolved(&unsegmented),
            SelectMetric::Chrf
        );
        assert_eq!(
            SelectMetric::Loss.resolved(&unsegmented),
            SelectMetric::Loss
        );
        assert_eq!(
            SelectMetric::Bleu.resolved(&unsegmented),
            SelectMetric::Bleu
        );
    }

    #[test]
    fn adam_settings_out_of_range_are_refused() {
        for (beta2, eps) in [(1.0, 1e-8), (0.98, 0.0), (-0.1, 1e-8)] {
            let c = TrainConfig {
                adam_beta2: beta2,
                adam_epsilon: eps,
                ..TrainConfig::default()
            };
            assert!(c.validate().is_err(), "β₂ {beta2}, ε {eps}");
        }
    }
}
