//! `honyaku average`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::training::average::average_last;

/// Arguments of `honyaku average`.
#[derive(Debug, Args)]
pub struct AverageArgs {
    /// Run directory written by `honyaku train --keep-checkpoints N`.
    #[arg(long)]
    pub run: PathBuf,
    /// Average the newest N step checkpoints.
    #[arg(long, default_value_t = 5, value_parser = crate::checks::positive)]
    pub last: usize,
}

/// Runs `honyaku average`.
pub fn run(args: AverageArgs) -> Result<()> {
    let averaged = average_last(&args.run, args.last)?;
    let steps: Vec<String> = averaged.steps.iter().map(|s| s.to_string()).collect();
    eprintln!(
        "averaged steps {} into {}",
        steps.join(", "),
        averaged.path.display()
    );
    Ok(())
}
