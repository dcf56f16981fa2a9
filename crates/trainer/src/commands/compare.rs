//! `honyaku compare`: the same data, tokenizer and budget for every architecture, then a report
//! with plots (see [`crate::compare`]).

use anyhow::Result;
use clap::Args;

use crate::compare::{CompareOptions, compare};

/// Arguments of `honyaku compare`: the comparison's settings.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub options: CompareOptions,
}

/// Runs `honyaku compare`.
pub fn run(args: CompareArgs) -> Result<()> {
    compare(&args.options)
}
