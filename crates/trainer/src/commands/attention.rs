//! `honyaku attention`: a heatmap of source tokens against generated tokens.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use crate::backend::Backend;
use crate::inference::attention::heatmap;

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

/// Runs `honyaku attention`.
pub fn run(args: AttentionArgs) -> Result<()> {
    if args.text.trim().is_empty() {
        bail!("--text is empty; give the sentence to translate and draw");
    }
    let stem = args.out.with_extension("");
    match heatmap(&args.run, args.backend, &args.text, &stem)? {
        Some([svg, png]) => {
            eprintln!("wrote {} and {}", png.display(), svg.display());
            Ok(())
        }
        None => bail!(
            "the model in {} has no attention to show (the plain LSTM architecture sees the \
             source only through its final state); use an attention or transformer run",
            args.run.display()
        ),
    }
}
