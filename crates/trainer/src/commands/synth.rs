//! `honyaku synth`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use honyaku_data::synth::{SynthConfig, SynthTask};

use crate::corpus::write_synthetic;
use crate::values::parse_task;

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Which corpus.
    #[arg(long, value_parser = parse_task)]
    pub task: SynthTask,
    /// Training pairs (validation and test sets come on top).
    #[arg(long, default_value_t = 10_000, value_parser = crate::checks::pairs)]
    pub pairs: usize,
    /// Shortest source, in words.
    #[arg(long, default_value_t = 3, value_parser = crate::checks::synth_len)]
    pub min_len: usize,
    /// Longest source, in words.
    #[arg(long, default_value_t = 20, value_parser = crate::checks::synth_len)]
    pub max_len: usize,
    /// Random seed: the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory for {train,valid,test}.{src,tgt}.
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes the synthetic corpus and says what was written.
pub fn run(args: SynthArgs) -> Result<()> {
    if args.min_len > args.max_len {
        anyhow::bail!(
            "--min-len {} is more than --max-len {}; the shortest sentence cannot be longer \
             than the longest",
            args.min_len,
            args.max_len
        );
    }
    let config = SynthConfig {
        task: args.task,
        pairs: args.pairs,
        min_len: args.min_len,
        max_len: args.max_len,
        seed: args.seed,
    };
    write_synthetic(&config, &args.out)
}
