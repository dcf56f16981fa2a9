//! What `compare` (and `demo`) compares: data, architectures, budget and report language. Its
//! fields are the flags of `honyaku compare`.

use std::path::PathBuf;

use clap::Args;
use honyaku_core::Preset;

use crate::arch::Arch;
use crate::backend::Backend;
use crate::report::Lang;
use crate::values::{parse_arch, parse_preset};

/// The settings of one comparison.
#[derive(Debug, Clone, Args)]
pub struct CompareOptions {
    /// Architectures to compare, comma separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_arch, default_value = "lstm,attention")]
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
    #[arg(long, conflicts_with = "epochs")]
    pub budget_minutes: Option<f64>,
    /// Epochs per architecture (default 10 when no budget is given).
    #[arg(long)]
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
    #[arg(long, default_value_t = 8000)]
    pub vocab_size: usize,
    /// Token budget per batch.
    #[arg(long, default_value_t = 4096)]
    pub max_tokens: usize,
    /// Validate every N updates (default: every epoch).
    #[arg(long)]
    pub valid_every: Option<usize>,
    /// Seed of every run.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Learning rate of every run (default: `train`'s).
    #[arg(long)]
    pub lr: Option<f64>,
}
