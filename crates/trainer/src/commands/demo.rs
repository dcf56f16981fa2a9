//! `honyaku demo`: the README's first command. Synthesizes the toy English→Japanese grammar
//! corpus (sentences of 3 to 30 words), compares the architectures on it on the CPU within about
//! ten minutes, prints the table and says where the report is. Nothing is downloaded.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use honyaku_core::Preset;
use honyaku_data::synth::{SynthConfig, SynthTask};

use crate::arch::Arch;
use crate::backend::Backend;
use crate::compare::{CompareOptions, compare};
use crate::corpus::write_synthetic;
use crate::report::Lang;
use crate::run::CheckpointChoice;
use crate::values::parse_preset;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output directory (corpus, runs, report).
    #[arg(long, default_value = "demo")]
    pub out: PathBuf,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Training pairs of the synthetic corpus.
    #[arg(long, default_value_t = 20_000, value_parser = crate::checks::pairs)]
    pub pairs: usize,
    /// Longest source sentence, in words.
    #[arg(long, default_value_t = 30, value_parser = crate::checks::demo_len)]
    pub max_len: usize,
    /// Model size.
    #[arg(long, value_parser = parse_preset, default_value = "mini")]
    pub preset: Preset,
    /// Training budget per architecture, minutes.
    #[arg(long, default_value_t = 2.5, value_parser = crate::checks::minutes)]
    pub minutes_per_arch: f64,
    /// Validate every N updates.
    #[arg(long, default_value_t = 250, value_parser = crate::checks::positive)]
    pub valid_every: usize,
    /// Language of the report: en or ja.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<()> {
    let corpus = args.out.join("corpus");
    if !corpus.join("test.tgt").is_file() {
        let config = SynthConfig {
            task: SynthTask::Grammar,
            pairs: args.pairs,
            min_len: 3,
            max_len: args.max_len,
            seed: 1,
        };
        write_synthetic(&config, &corpus)?;
    }
    let file = |name: &str| corpus.join(name);
    compare(&CompareOptions {
        archs: Arch::ALL.to_vec(),
        train_src: file("train.src"),
        train_tgt: file("train.tgt"),
        valid_src: file("valid.src"),
        valid_tgt: file("valid.tgt"),
        test_src: file("test.src"),
        test_tgt: file("test.tgt"),
        out: args.out.join("compare"),
        budget_minutes: Some(args.minutes_per_arch),
        epochs: None,
        backend: args.backend,
        preset: args.preset,
        lang: args.lang,
        vocab_size: 1000,
        max_tokens: None,
        valid_every: Some(args.valid_every),
        seed: 42,
        lr: None,
        schedule: None,
        warmup: None,
        early_stop_metric: None,
        checkpoint: CheckpointChoice::Best,
        set: Vec::new(),
    })
}
