//! Synthetic corpora on disk: what `synth` writes and `demo` compares on.

use std::path::Path;

use anyhow::Result;
use honyaku_data::synth::{SynthConfig, default_heldout, write_splits};

/// Writes the training, validation and test splits of `config` to `out` and says what was
/// written.
pub fn write_synthetic(config: &SynthConfig, out: &Path) -> Result<()> {
    let heldout = default_heldout(config.pairs);
    let counts = write_splits(out, config, heldout, heldout)?;
    eprintln!(
        "wrote the {} corpus to {}: {} training, {} validation and {} test pairs",
        config.task,
        out.display(),
        counts.train,
        counts.valid,
        counts.test
    );
    Ok(())
}
