//! The flags of `honyaku study`: the corpus (as `compare` takes it, or `--quick`'s synthetic
//! one), the total budget, what to measure and the report language.

use std::path::PathBuf;

use clap::Args;
use honyaku_core::Preset;

use crate::arch::Arch;
use crate::arch::parse_arch;
use crate::backend::Backend;
use crate::report::Lang;
use crate::values::parse_preset;

/// The settings of one study.
#[derive(Debug, Clone, Args)]
pub struct StudyOptions {
    /// Architectures to study, comma separated (the claims compare `lstm` with the others).
    #[arg(long, value_delimiter = ',', value_parser = parse_arch, default_value = "lstm,attention,transformer")]
    pub archs: Vec<Arch>,
    /// Training source file (not with --quick).
    #[arg(long, required_unless_present = "quick", conflicts_with = "quick")]
    pub train_src: Option<PathBuf>,
    /// Training target file.
    #[arg(long, required_unless_present = "quick", conflicts_with = "quick")]
    pub train_tgt: Option<PathBuf>,
    /// Validation source file.
    #[arg(long, required_unless_present = "quick", conflicts_with = "quick")]
    pub valid_src: Option<PathBuf>,
    /// Validation target file.
    #[arg(long, required_unless_present = "quick", conflicts_with = "quick")]
    pub valid_tgt: Option<PathBuf>,
    /// Test source file.
    #[arg(long, required_unless_present = "quick", conflicts_with = "quick")]
    pub test_src: Option<PathBuf>,
    /// Test target file.
    #[arg(long, required_unless_present = "quick", conflicts_with = "quick")]
    pub test_tgt: Option<PathBuf>,
    /// `honyaku demo`'s synthetic grammar corpus and settings (mini models, each with its
    /// recipe), a main run and a second seed per architecture, no subsets and no sweep
    /// (unless --data-sizes or --knobs), a 12.6-minute budget: within 15 minutes on two CPU
    /// cores, with models that learn.
    #[arg(long)]
    pub quick: bool,
    /// Output directory: corpus (with --quick), tokenizer, runs, measurements, report.
    /// Rerunning with the same directory continues where a killed study stopped.
    #[arg(long, default_value = "study")]
    pub out: PathBuf,
    /// Total wall-time budget, hours (default 2, or 0.21 with --quick). The plan and its
    /// estimate are printed first; a plan that cannot fit is refused.
    #[arg(long, value_parser = crate::checks::hours)]
    pub budget_hours: Option<f64>,
    /// Print the plan and its estimate, then stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Compute backend of the training runs and of the speed measurements.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Model size (default small, or mini with --quick).
    #[arg(long, value_parser = parse_preset)]
    pub preset: Option<Preset>,
    /// Language of the report: en or ja.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// Subword vocabulary size of the shared tokenizer (default 8000, or 1000 with --quick).
    #[arg(long, value_parser = crate::checks::vocab_size)]
    pub vocab_size: Option<usize>,
    /// Training-set sizes of the data regime, comma separated; the whole set is always a
    /// point (default 1000,4000,16000; none with --quick).
    #[arg(long, value_delimiter = ',', value_parser = crate::checks::positive)]
    pub data_sizes: Option<Vec<usize>>,
    /// Seeds per data-regime point.
    #[arg(long, default_value_t = 2, value_parser = crate::checks::seeds)]
    pub seeds: usize,
    /// Seed of the main runs (the others count up from it).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Skip the tuning-sensitivity sweep.
    #[arg(long, conflicts_with = "knobs")]
    pub no_sweep: bool,
    /// The knobs to sweep, comma separated (default: every knob this build has: cell,
    /// layers, heads, hidden).
    #[arg(long, value_delimiter = ',', value_parser = super::knobs::parse_knob)]
    pub knobs: Option<Vec<String>>,
    /// Sentence lengths of the speed measurements, comma separated.
    #[arg(long, value_delimiter = ',', value_parser = crate::checks::bench_len, default_value = "8,16,32,64,128,256")]
    pub lengths: Vec<usize>,
    /// Token budget per batch of every run (default: each architecture's recipe).
    #[arg(long, value_parser = crate::checks::max_tokens)]
    pub max_tokens: Option<usize>,
    /// Validate every N updates (default: every epoch, or 250 with --quick).
    #[arg(long, value_parser = crate::checks::positive)]
    pub valid_every: Option<usize>,
}
