//! `honyaku study`: the "LSTM or attention?" rules of thumb measured on a corpus (see
//! [`crate::study`]).

use anyhow::Result;
use clap::{Args, CommandFactory, Parser};

use crate::study::{StudyOptions, study};

/// Arguments of `honyaku study`.
#[derive(Debug, Clone, Args)]
pub struct StudyArgs {
    #[command(flatten)]
    pub options: StudyOptions,
}

/// `honyaku train`'s arguments, to ask whether it has a flag.
#[derive(Debug, Parser)]
struct TrainFlags {
    #[command(flatten)]
    args: super::train::TrainArgs,
}

/// Whether `honyaku train` accepts `--flag` (the study sweeps a flag knob only then).
pub fn train_has_flag(flag: &str) -> bool {
    TrainFlags::command()
        .get_arguments()
        .any(|a| a.get_long() == Some(flag))
}

/// Runs `honyaku study`.
pub fn run(args: StudyArgs) -> Result<()> {
    study(&args.options, &train_has_flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn train_flags_are_found_by_name() {
        assert!(train_has_flag("preset"));
        assert!(train_has_flag("lr"));
        assert!(!train_has_flag("no-such-flag"));
    }
}
