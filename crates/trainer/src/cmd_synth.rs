//! `honyaku synth`.

use anyhow::Result;
use honyaku_data::synth::{SynthConfig, default_heldout, write_splits};

use crate::cli::SynthArgs;

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
    let heldout = default_heldout(args.pairs);
    let counts = write_splits(&args.out, &config, heldout, heldout)?;
    eprintln!(
        "wrote the {} corpus to {}: {} training, {} validation and {} test pairs",
        args.task,
        args.out.display(),
        counts.train,
        counts.valid,
        counts.test
    );
    Ok(())
}
