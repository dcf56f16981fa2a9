//! What `compare` (and `demo`) compares: data, architectures, budget and report language. Its
//! fields are the flags of `honyaku compare`.

use std::path::PathBuf;

use clap::{Args, Parser, ValueEnum};
use honyaku_core::Preset;
use serde::Serialize;

use crate::arch::parse_arch;
use crate::arch::{Arch, ModelConfig};
use crate::backend::Backend;
use crate::report::Lang;
use crate::run::ModelOverlay;
use crate::run::config::{ScheduleKind, SettingsOverlay};
use crate::run::{CheckpointChoice, SelectMetric};
use crate::values::parse_preset;

/// The settings of one comparison.
#[derive(Debug, Clone, Args)]
pub struct CompareOptions {
    /// Architectures to compare, comma separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_arch, default_value = "lstm,attention,transformer")]
    pub archs: Vec<Arch>,
    /// Training source file.
    #[arg(long)]
    pub train_src: PathBuf,
    /// Training target file.
    #[arg(long)]
    pub train_tgt: PathBuf,
    /// Validation source file.
    #[arg(long)]
    pub valid_src: PathBuf,
    /// Validation target file.
    #[arg(long)]
    pub valid_tgt: PathBuf,
    /// Test source file.
    #[arg(long)]
    pub test_src: PathBuf,
    /// Test target file.
    #[arg(long)]
    pub test_tgt: PathBuf,
    /// Output directory: shared tokenizer, one run per architecture, report and plots.
    /// Rerunning with the same directory skips finished architectures.
    #[arg(long)]
    pub out: PathBuf,
    /// Wall-time budget per architecture, in minutes.
    #[arg(long, conflicts_with = "epochs", value_parser = crate::checks::minutes)]
    pub budget_minutes: Option<f64>,
    /// Epochs per architecture (default 10 when no budget is given).
    #[arg(long, value_parser = crate::checks::epochs)]
    pub epochs: Option<usize>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Model size for every architecture.
    #[arg(long, value_parser = parse_preset, default_value = "small")]
    pub preset: Preset,
    /// Language of the report: en or ja.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// Subword vocabulary size of the shared tokenizer.
    #[arg(long, default_value_t = 8000, value_parser = crate::checks::vocab_size)]
    pub vocab_size: usize,
    /// Token budget per batch of every run (default: each architecture's recipe).
    #[arg(long, value_parser = crate::checks::max_tokens)]
    pub max_tokens: Option<usize>,
    /// Validate every N updates (default: every epoch).
    #[arg(long, value_parser = crate::checks::positive)]
    pub valid_every: Option<usize>,
    /// Seed of every run.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Learning rate of every run (default: each architecture's recipe).
    #[arg(long, value_parser = crate::checks::learning_rate)]
    pub lr: Option<f64>,
    /// Learning-rate schedule of every run (default: each architecture's recipe).
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleKind>,
    /// Warm-up updates of every run's inverse-sqrt schedule (default: the recipe's).
    #[arg(long, value_parser = crate::checks::count)]
    pub warmup: Option<usize>,
    /// The validation metric that picks each run's best checkpoint (default: auto, BLEU for
    /// targets written with spaces, chrF for Japanese or Chinese; ties go to the lower loss).
    #[arg(long, value_enum)]
    pub early_stop_metric: Option<SelectMetric>,
    /// The checkpoint of each run that translates the test set.
    #[arg(long, value_enum, default_value_t = CheckpointChoice::Best)]
    pub checkpoint: CheckpointChoice,
    /// A `honyaku train` setting for one architecture only, over its recipe and the flags
    /// above: ARCH:FLAG=VALUE (or ARCH:FLAG for a switch), e.g. `transformer:lr=5e-4`,
    /// `lstm:schedule=plateau` or `attention:cell=gru`. Repeatable.
    #[arg(long = "set", value_name = "ARCH:FLAG=VALUE", value_parser = parse_arch_setting)]
    pub set: Vec<ArchSetting>,
}

impl CompareOptions {
    /// The settings that decide the results, as `compare.json` records them: everything but
    /// the architectures (adding one reuses the others), the output directory and the report
    /// language.
    pub fn fingerprint(&self) -> serde_json::Value {
        let name = |v: Option<clap::builder::PossibleValue>| v.map(|v| v.get_name().to_string());
        serde_json::json!({
            "train_src": self.train_src, "train_tgt": self.train_tgt,
            "valid_src": self.valid_src, "valid_tgt": self.valid_tgt,
            "test_src": self.test_src, "test_tgt": self.test_tgt,
            "budget_minutes": self.budget_minutes, "epochs": self.epochs,
            "backend": self.backend.to_string(), "preset": self.preset.to_string(),
            "vocab_size": self.vocab_size, "max_tokens": self.max_tokens,
            "valid_every": self.valid_every, "seed": self.seed, "lr": self.lr,
            "schedule": name(self.schedule.and_then(|v| v.to_possible_value())),
            "warmup": self.warmup,
            "early_stop_metric": name(self.early_stop_metric.and_then(|v| v.to_possible_value())),
            "checkpoint": self.checkpoint.to_string(),
            "set": self.set,
        })
    }
}

/// One `--set ARCH:FLAG=VALUE`: a training flag for one architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchSetting {
    /// The architecture it applies to.
    pub arch: Arch,
    /// The `honyaku train` flag, without its dashes.
    pub flag: String,
    /// Its value (none for a switch).
    pub value: Option<String>,
}

impl ArchSetting {
    /// The flag as `honyaku train` arguments.
    pub fn train_args(&self) -> Vec<String> {
        let mut args = vec![format!("--{}", self.flag)];
        args.extend(self.value.clone());
        args
    }
}

/// Flags that `--set` may not give one architecture: the budget, the seed and the data are the
/// same for every architecture of a comparison.
const SHARED_FLAGS: [&str; 8] = [
    "epochs",
    "max-steps",
    "max-minutes",
    "seed",
    "vocab-size",
    "subword",
    "separate-vocab",
    "lowercase",
];

/// Parses and checks `ARCH:FLAG=VALUE`: the flag must be a training or model setting of
/// `honyaku train`, its value must parse, and a model setting must be one the architecture has.
fn parse_arch_setting(s: &str) -> Result<ArchSetting, String> {
    let (arch, setting) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not ARCH:FLAG=VALUE (e.g. transformer:lr=5e-4)"))?;
    let arch = parse_arch(arch)?;
    let (flag, value) = match setting.split_once('=') {
        Some((f, v)) => (f, Some(v.to_string())),
        None => (setting, None),
    };
    let flag = flag.trim().trim_start_matches("--").to_string();
    if SHARED_FLAGS.contains(&flag.as_str()) {
        return Err(format!(
            "--{flag} is shared by every architecture of a comparison; set it for all with \
             compare's own flags (--budget-minutes, --epochs, --seed, --vocab-size)"
        ));
    }
    let setting = ArchSetting { arch, flag, value };
    let probe =
        Probe::try_parse_from(std::iter::once("set".to_string()).chain(setting.train_args()))
            .map_err(|e| {
                let first = e.to_string();
                let first = first
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ");
                format!("{s}: {first}")
            })?;
    probe
        .model
        .apply(ModelConfig::preset(arch, Preset::Tiny, 8, 8))
        .map_err(|e| format!("{s}: {e}"))?;
    Ok(setting)
}

/// `honyaku train`'s setting and model flags, to check a `--set`.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = false)]
struct Probe {
    #[command(flatten)]
    settings: SettingsOverlay,
    #[command(flatten)]
    model: ModelOverlay,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_per_architecture_setting_is_a_train_flag_with_a_value_that_parses() {
        let s = parse_arch_setting("transformer:lr=5e-4").unwrap();
        assert_eq!((s.arch, s.flag.as_str()), (Arch::Transformer, "lr"));
        assert_eq!(s.train_args(), ["--lr", "5e-4"]);
        assert_eq!(
            parse_arch_setting("lstm:no-valid-bleu")
                .unwrap()
                .train_args(),
            ["--no-valid-bleu"]
        );
        for arch in ["lstm", "attention"] {
            let s = parse_arch_setting(&format!("{arch}:cell=gru")).unwrap();
            assert_eq!(s.train_args(), ["--cell", "gru"]);
        }
        for (bad, needle) in [
            ("transformer-lr=5e-4", "not ARCH:FLAG=VALUE"),
            ("gru:lr=1", "unknown architecture"),
            ("lstm:lrr=1", "--lrr"),
            ("lstm:lr=fast", "fast"),
            ("lstm:epochs=3", "shared by every architecture"),
            ("lstm:cell=rnn", "unknown cell 'rnn'"),
            (
                "transformer:cell=gru",
                "--cell applies to --arch lstm and --arch attention, not to transformer",
            ),
            (
                "lstm:attention=luong-dot",
                "--attention applies to --arch attention",
            ),
        ] {
            let err = parse_arch_setting(bad).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }
}
