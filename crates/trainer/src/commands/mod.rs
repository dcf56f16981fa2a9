//! The command line: one file per subcommand, each owning its arguments; this module holds the
//! subcommand list and the one dispatch.

pub mod attention;
pub mod average;
pub mod bench;
pub mod compare;
pub mod demo;
pub mod evaluate;
pub mod serve;
pub mod study;
pub mod synth;
pub mod train;
pub mod translate;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Train, compare and run neural machine translators on parallel corpora.
#[derive(Debug, Parser)]
#[command(name = "honyaku", version, about, arg_required_else_help = false)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Write a synthetic parallel corpus (copy, reverse or a toy English→Japanese grammar).
    Synth(synth::SynthArgs),
    /// Train a translator and write a run directory.
    Train(train::TrainArgs),
    /// Average the last N step checkpoints of a run into checkpoints/averaged.bpk.
    Average(average::AverageArgs),
    /// Translate lines (stdin to stdout by default) with a trained run.
    Translate(translate::TranslateArgs),
    /// Score translations with sacreBLEU-exact BLEU and chrF, per length bucket, or compare
    /// two systems by paired bootstrap resampling.
    Evaluate(evaluate::EvaluateArgs),
    /// Train several architectures on the same data and budget; write a report with plots.
    Compare(compare::CompareArgs),
    /// Draw the attention of a run's translation of one sentence as a heatmap.
    Attention(attention::AttentionArgs),
    /// Synthesize a toy corpus, compare the architectures on it: the README's first command.
    Demo(demo::DemoArgs),
    /// Measure the "LSTM or attention?" rules of thumb on a corpus: scores by length, cost
    /// against length, data regime, tuning sensitivity, size; a report with verdicts.
    Study(study::StudyArgs),
    /// Measure training and decoding throughput on random batches (JSON to stdout).
    Bench(bench::BenchArgs),
    /// Serve runs over HTTP: a JSON API and a web page to translate with and compare them.
    Serve(serve::ServeArgs),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            Self::Synth(args) => synth::run(args),
            Self::Train(args) => train::run(args),
            Self::Average(args) => average::run(args),
            Self::Translate(args) => translate::run(args),
            Self::Evaluate(args) => evaluate::run(args),
            Self::Compare(args) => compare::run(args),
            Self::Attention(args) => attention::run(args),
            Self::Demo(args) => demo::run(args),
            Self::Study(args) => study::run(args),
            Self::Bench(args) => bench::run(args),
            Self::Serve(args) => serve::run(args),
        }
    }
}
