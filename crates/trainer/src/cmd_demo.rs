//! `honyaku demo`: the README's first command. Synthesizes the toy English→Japanese grammar
//! corpus (sentences up to 50 words), compares the architectures on it on the CPU within about
//! ten minutes, prints the table and says where the report is. Nothing is downloaded.

use anyhow::Result;
use honyaku_data::synth::SynthTask;

use crate::arch::Arch;
use crate::cli::{CompareArgs, DemoArgs, SynthArgs};
use crate::{cmd_compare, cmd_synth};

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<()> {
    let corpus = args.out.join("corpus");
    if !corpus.join("test.tgt").is_file() {
        cmd_synth::run(SynthArgs {
            task: SynthTask::Grammar,
            pairs: args.pairs,
            min_len: 3,
            max_len: args.max_len,
            seed: 1,
            out: corpus.clone(),
        })?;
    }
    let file = |name: &str| corpus.join(name);
    cmd_compare::run(CompareArgs {
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
        max_tokens: 2048,
        valid_every: Some(args.valid_every),
        seed: 42,
        lr: None,
    })
}
