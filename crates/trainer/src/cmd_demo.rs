//! `honyaku demo`: the README's first command. Synthesizes the toy grammar corpus, trains a
//! translator on it and translates held-out sentences, all on the project's own data.

use std::fs;
use std::path::PathBuf;

use anyhow::Result;
use honyaku_data::synth::SynthTask;

use crate::arch::Arch;
use crate::cli::{DemoArgs, SynthArgs, TrainArgs, TranslateArgs};
use crate::{cmd_synth, cmd_train, cmd_translate};

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<()> {
    let corpus = args.out.join("corpus");
    cmd_synth::run(SynthArgs {
        task: SynthTask::Grammar,
        pairs: args.pairs,
        min_len: 3,
        max_len: args.max_len,
        seed: 1,
        out: corpus.clone(),
    })?;
    let file = |name: &str| corpus.join(name);
    let run_dir = args.out.join("lstm");
    cmd_train::run(TrainArgs {
        arch: Arch::Lstm,
        attention: None,
        backend: args.backend,
        train_src: Some(file("train.src")),
        train_tgt: Some(file("train.tgt")),
        train_tsv: None,
        src_col: 1,
        tgt_col: 2,
        valid_src: Some(file("valid.src")),
        valid_tgt: Some(file("valid.tgt")),
        out: run_dir.clone(),
        overwrite: true,
        preset: args.preset,
        config: None,
        epochs: Some(args.epochs),
        max_steps: None,
        max_tokens: Some(4096),
        lr: Some(2e-3),
        schedule: None,
        warmup: None,
        label_smoothing: None,
        seed: Some(42),
        vocab_size: Some(1000),
        subword: None,
        separate_vocab: false,
        lowercase: false,
        max_minutes: None,
        valid_every: None,
        early_stop_metric: None,
        patience: None,
        no_valid_bleu: false,
        quiet: false,
    })?;
    let hyp = args.out.join("test.hyp");
    cmd_translate::run(TranslateArgs {
        run: run_dir.clone(),
        backend: args.backend,
        input: Some(file("test.src")),
        output: Some(hyp.clone()),
        max_tokens: 4096,
        beam: 5,
        nbest: 1,
        alpha: 0.6,
    })?;
    summarize(&file("test.src"), &file("test.tgt"), &hyp)?;
    println!(
        "run: {}  translations: {}",
        run_dir.display(),
        hyp.display()
    );
    Ok(())
}

/// Prints exact-match accuracy and a few examples.
fn summarize(src: &PathBuf, reference: &PathBuf, hyp: &PathBuf) -> Result<()> {
    let read = |p: &PathBuf| -> Result<Vec<String>> {
        Ok(fs::read_to_string(p)?.lines().map(str::to_string).collect())
    };
    let (src, reference, hyp) = (read(src)?, read(reference)?, read(hyp)?);
    let exact = reference.iter().zip(&hyp).filter(|(r, h)| r == h).count();
    println!(
        "\ntest set: {exact} of {} sentences translated exactly ({:.1}%)\n",
        reference.len(),
        100.0 * exact as f64 / reference.len().max(1) as f64
    );
    for i in 0..reference.len().min(3) {
        println!("  source:    {}", src[i]);
        println!("  reference: {}", reference[i]);
        println!("  output:    {}\n", hyp[i]);
    }
    Ok(())
}
