//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use honyaku_core::Preset;
use honyaku_data::synth::SynthTask;

use honyaku_attention::AttentionKind;
use honyaku_eval::BleuTokenizer;

use crate::arch::Arch;
use crate::backend::Backend;
use crate::report::Lang;
use crate::run::{OptimizerKind, SelectMetric};
use crate::schedule::ScheduleKind;

/// Train, compare and run neural machine translators on parallel corpora.
#[derive(Debug, Parser)]
#[command(name = "honyaku", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Write a synthetic parallel corpus (copy, reverse or a toy English→Japanese grammar).
    Synth(SynthArgs),
    /// Train a translator and write a run directory.
    Train(TrainArgs),
    /// Average the last N step checkpoints of a run into checkpoints/averaged.bpk.
    Average(AverageArgs),
    /// Translate lines (stdin to stdout by default) with a trained run.
    Translate(TranslateArgs),
    /// Score translations with sacreBLEU-exact BLEU and chrF, per length bucket, or compare
    /// two systems by paired bootstrap resampling.
    Evaluate(EvaluateArgs),
    /// Train several architectures on the same data and budget; write a report with plots.
    Compare(CompareArgs),
    /// Draw the attention of a run's translation of one sentence as a heatmap.
    Attention(AttentionArgs),
    /// Synthesize a toy corpus, compare the architectures on it: the README's first command.
    Demo(DemoArgs),
    /// Measure training and decoding throughput on random batches (JSON to stdout).
    Bench(crate::cmd_bench::BenchArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
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

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct AttentionArgs {
    /// Run directory of an attention or transformer model.
    #[arg(long)]
    pub run: PathBuf,
    /// The sentence to translate.
    #[arg(long)]
    pub text: String,
    /// Output file (PNG; an SVG is written beside it).
    #[arg(long, default_value = "attention.png")]
    pub out: PathBuf,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
}

/// A metric `evaluate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalMetric {
    Bleu,
    Chrf,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Hypothesis file; give it twice to compare two systems (paired bootstrap).
    #[arg(long)]
    pub hyp: Vec<PathBuf>,
    /// Reference file, one line per hypothesis line.
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Translate this test source with --run and score the result.
    #[arg(long)]
    pub src: Option<PathBuf>,
    /// Run directory to translate --src with.
    #[arg(long)]
    pub run: Option<PathBuf>,
    /// BLEU tokenizer, as sacreBLEU: 13a, intl, char or none.
    #[arg(long, default_value = "13a", value_parser = parse_tokenizer)]
    pub tokenize: BleuTokenizer,
    /// Lowercase before scoring.
    #[arg(long)]
    pub lowercase: bool,
    /// Metrics to report.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "bleu,chrf")]
    pub metrics: Vec<EvalMetric>,
    /// Print one JSON object (scores on the 0-100 scale).
    #[arg(long)]
    pub json: bool,
    /// Beam size for --run (1 = greedy).
    #[arg(long, default_value_t = 5)]
    pub beam: usize,
    /// Length penalty for --run.
    #[arg(long, default_value_t = 0.6)]
    pub alpha: f32,
    /// Backend for --run.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Token budget per batch for --run.
    #[arg(long, default_value_t = 4096)]
    pub max_tokens: usize,
    /// Also write the translations of --run here.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

fn parse_tokenizer(s: &str) -> Result<BleuTokenizer, String> {
    s.parse()
        .map_err(|e: honyaku_eval::EvalError| e.to_string())
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory (corpus, runs, report).
    #[arg(long, default_value = "demo")]
    pub out: PathBuf,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Training pairs of the synthetic corpus.
    #[arg(long, default_value_t = 20_000)]
    pub pairs: usize,
    /// Longest source sentence, in words.
    #[arg(long, default_value_t = 50)]
    pub max_len: usize,
    /// Model size.
    #[arg(long, value_parser = parse_preset, default_value = "tiny")]
    pub preset: Preset,
    /// Training budget per architecture, minutes.
    #[arg(long, default_value_t = 2.5)]
    pub minutes_per_arch: f64,
    /// Validate every N updates.
    #[arg(long, default_value_t = 100)]
    pub valid_every: usize,
    /// Language of the report: en or ja.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Which corpus.
    #[arg(long, value_parser = parse_task)]
    pub task: SynthTask,
    /// Training pairs (validation and test sets come on top).
    #[arg(long, default_value_t = 10_000)]
    pub pairs: usize,
    /// Shortest source, in words.
    #[arg(long, default_value_t = 3)]
    pub min_len: usize,
    /// Longest source, in words.
    #[arg(long, default_value_t = 20)]
    pub max_len: usize,
    /// Random seed: the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory for {train,valid,test}.{src,tgt}.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_task(s: &str) -> Result<SynthTask, String> {
    s.parse()
        .map_err(|e: honyaku_data::synth::SynthError| e.to_string())
}

fn parse_attention(s: &str) -> Result<AttentionKind, String> {
    s.parse()
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse()
}

/// Subword model of the tokenizer.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubwordArg {
    Bpe,
    Unigram,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Architecture.
    #[arg(long, value_enum, default_value_t = Arch::Lstm)]
    pub arch: Arch,
    /// Attention function of `--arch attention`: bahdanau, luong-dot or luong-general.
    #[arg(long, value_parser = parse_attention)]
    pub attention: Option<AttentionKind>,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Training source file (plain or .gz), aligned line by line with --train-tgt.
    #[arg(long, requires = "train_tgt", conflicts_with = "train_tsv")]
    pub train_src: Option<PathBuf>,
    /// Training target file (plain or .gz).
    #[arg(long, requires = "train_src")]
    pub train_tgt: Option<PathBuf>,
    /// Training pairs as one TSV file (Tatoeba/Anki exports), see --src-col/--tgt-col.
    #[arg(long)]
    pub train_tsv: Option<PathBuf>,
    /// 1-based source column of the TSV files.
    #[arg(long, default_value_t = 1)]
    pub src_col: usize,
    /// 1-based target column of the TSV files.
    #[arg(long, default_value_t = 2)]
    pub tgt_col: usize,
    /// Validation source file: validation loss and perplexity after every epoch.
    #[arg(long, requires = "valid_tgt")]
    pub valid_src: Option<PathBuf>,
    /// Validation target file.
    #[arg(long, requires = "valid_src")]
    pub valid_tgt: Option<PathBuf>,
    /// Run directory to write.
    #[arg(long, required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its latest checkpoint (weights, optimizer,
    /// counters, data position); its config.json is used, other flags are ignored except
    /// --max-steps/--epochs (to extend the run) and --quiet.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "overwrite", "config"])]
    pub resume: Option<PathBuf>,
    /// Replace a run that already exists in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Model size: tiny, small or base.
    #[arg(long, value_parser = parse_preset, default_value = "small")]
    pub preset: Preset,
    /// JSON file with `model`, `train` and/or `data` sections (flags override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Passes over the training data.
    #[arg(long, conflicts_with = "max_steps")]
    pub epochs: Option<usize>,
    /// Stop after this many updates.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Token budget per batch.
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// Learning rate (the peak rate with --schedule inverse-sqrt).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning-rate schedule.
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleKind>,
    /// Warm-up updates of the inverse-sqrt schedule.
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Label smoothing of the training loss.
    #[arg(long)]
    pub label_smoothing: Option<f64>,
    /// Seed of initialisation, dropout and data order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Subword vocabulary size.
    #[arg(long)]
    pub vocab_size: Option<usize>,
    /// Subword model.
    #[arg(long, value_enum)]
    pub subword: Option<SubwordArg>,
    /// Separate source and target vocabularies (default: one joint vocabulary).
    #[arg(long)]
    pub separate_vocab: bool,
    /// Lowercase the text before tokenizing.
    #[arg(long)]
    pub lowercase: bool,
    /// Use the tokenizers saved in this directory (a run, or `compare`'s shared ones) instead
    /// of training new ones.
    #[arg(long)]
    pub tokenizers_from: Option<PathBuf>,
    /// Stop after this many minutes of wall time.
    #[arg(long)]
    pub max_minutes: Option<f64>,
    /// Validate every N updates (default: after every epoch).
    #[arg(long)]
    pub valid_every: Option<usize>,
    /// The validation metric that picks the best checkpoint and drives early stopping.
    #[arg(long, value_enum)]
    pub early_stop_metric: Option<SelectMetric>,
    /// Stop after N validations without improvement.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Validate by loss only, without decoding the validation set.
    #[arg(long)]
    pub no_valid_bleu: bool,
    /// Save the resumable state every N updates (besides validations and epoch ends).
    #[arg(long)]
    pub save_every: Option<usize>,
    /// Clip the global L2 norm of all gradients to this (0 disables clipping).
    #[arg(long)]
    pub clip_norm: Option<f32>,
    /// Accumulate gradients over N batches per update.
    #[arg(long)]
    pub accum: Option<usize>,
    /// Keep the newest N step checkpoints for `honyaku average`.
    #[arg(long)]
    pub keep_checkpoints: Option<usize>,
    /// Data parallel: train on N devices of the backend at once, one batch of --max-tokens
    /// each (GPUs 0..N with wgpu; worker threads sharing the CPU with flex and ndarray).
    #[arg(long)]
    pub devices: Option<usize>,
    /// Optimizer: adam (default) or adamw (decoupled weight decay, see --weight-decay).
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// AdamW's weight decay (default 0.01).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// `--schedule plateau`: factor applied to the learning rate on a plateau (default 0.5).
    #[arg(long)]
    pub plateau_factor: Option<f64>,
    /// `--schedule plateau`: validations without improvement before a reduction (default 2).
    #[arg(long)]
    pub plateau_patience: Option<usize>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Data parallel across processes: `mpi` joins the job `mpirun -np N honyaku train
    /// --distributed mpi ...` started (one process per machine or GPU); rank 0 writes the run.
    /// Needs a build with `--features mpi`.
    #[arg(long, value_enum)]
    pub distributed: Option<crate::distributed::Distributed>,
}

#[derive(Debug, Args)]
pub struct AverageArgs {
    /// Run directory written by `honyaku train --keep-checkpoints N`.
    #[arg(long)]
    pub run: PathBuf,
    /// Average the newest N step checkpoints.
    #[arg(long, default_value_t = 5)]
    pub last: usize,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Run directory written by `honyaku train`.
    #[arg(long)]
    pub run: PathBuf,
    /// Compute backend (any backend loads any run).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Input file (default: stdin), one sentence per line.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Output file (default: stdout), one translation per input line.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Token budget per batch.
    #[arg(long, default_value_t = 4096)]
    pub max_tokens: usize,
    /// Beam size (1 = greedy).
    #[arg(long, default_value_t = 5)]
    pub beam: usize,
    /// Hypotheses per input; above 1, output is Moses n-best: `index ||| text ||| score`.
    #[arg(long, default_value_t = 1)]
    pub nbest: usize,
    /// Length penalty exponent (GNMT): 0 ranks by log-probability, larger favours longer.
    #[arg(long, default_value_t = 0.6)]
    pub alpha: f32,
}
