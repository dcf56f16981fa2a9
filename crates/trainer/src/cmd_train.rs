//! `honyaku train`: corpus → cleaning → tokenizers → batches → training → run directory.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use honyaku_data::batcher::{Batcher, BatcherConfig};
use honyaku_data::clean::{CleanConfig, clean};
use honyaku_data::corpus::{CorpusSource, read_parallel};
use honyaku_data::tokenizer::{SubwordModel, Tokenizers};
use serde::Deserialize;

use crate::arch::ModelConfig;
use crate::cli::{SubwordArg, TrainArgs};
use crate::resume::{TrainInputs, TrainState, install_interrupt_handler, resume_hint};
use crate::run::{DataConfig, RunConfig, RunDir, TrainConfig};
use crate::schedule::ScheduleKind;
use crate::train::{StopReason, TrainJob, TrainSummary};
use crate::validation::ValidSet;

/// What a `--config` file may hold; every section is optional and unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    model: Option<ModelConfig>,
    train: Option<TrainConfig>,
    data: Option<DataConfig>,
}

/// Runs `honyaku train`.
pub fn run(args: TrainArgs) -> Result<()> {
    // [distributed] `--distributed mpi`: one rank of a job across processes (distributed/).
    if let Some(kind) = args.distributed {
        return crate::distributed::run(kind, args);
    }
    run_local(args)
}

/// `honyaku train` in this process (rank 0 of a distributed job runs it too).
pub fn run_local(args: TrainArgs) -> Result<()> {
    if let Some(dir) = args.resume.clone() {
        return resume(args, &dir);
    }
    let file = load_file_config(args.config.as_deref())?;
    let train = train_config(&args, file.train.unwrap_or_default());
    train.validate()?;
    let data = data_config(&args, file.data.unwrap_or_default());
    // Checked before anything is read or written; the vocabulary sizes come later.
    let model = model_config(&args, file.model)?;

    let source = corpus_source(&args)?;
    let cleaned = clean(source.read()?, &clean_config(&data))?;
    eprintln!("{source}: {}", cleaned.report);

    let out = args
        .out
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("give the run directory to write with --out"))?;
    let run = RunDir::create(out, args.overwrite)?;
    let tokenizers = match &args.tokenizers_from {
        Some(dir) => Tokenizers::load_dir(dir)?,
        None => {
            eprintln!("training tokenizers ({} pairs)...", cleaned.pairs.len());
            Tokenizers::train(&cleaned.pairs, &data.tokenizer)?
        }
    };
    tokenizers.save_dir(&run.root)?;
    let (src_vocab, tgt_vocab) = (tokenizers.src.vocab_size(), tokenizers.tgt.vocab_size());

    let model = model.with_vocab(src_vocab, tgt_vocab);
    let config = RunConfig {
        model,
        train,
        data,
        backend: args.backend,
        honyaku_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    run.save_config(&config)?;

    let (batcher, valid, devices) = training_inputs(&args, &tokenizers, &cleaned.pairs, &config)?;
    eprintln!(
        "training {} ({} preset) on {}{}: {} batches per epoch, vocabularies {src_vocab}/{tgt_vocab}",
        config.model.arch(),
        args.preset,
        args.backend,
        match config.train.devices {
            1 => String::new(),
            n => format!(" x{n} devices"),
        },
        batcher.num_batches()
    );
    let state = TrainState {
        inputs: train_inputs(&args),
        lr_scale: 1.0,
        ..TrainState::default()
    };
    let job = TrainJob {
        config: &config.train,
        run: &run,
        batcher: &batcher,
        valid: valid.as_ref(),
        devices,
        quiet: args.quiet,
        state,
        resume: false,
    };
    run_job(&config, job)
}

/// Trains (SIGINT/SIGTERM save and stop) and reports the end of training.
fn run_job(config: &RunConfig, job: TrainJob<'_>) -> Result<()> {
    install_interrupt_handler();
    // [distributed] Rank 0 gives the other ranks the run.
    crate::distributed::lead(config, &job)?;
    let run = job.run;
    let summary = config.model.run(&job.devices[0].clone(), job)?;
    finish(&summary, run)
}

/// `honyaku train --resume RUN_DIR`: the run's own configuration, corpus and tokenizers, and
/// the loop continued from `train_state.json`.
fn resume(mut args: TrainArgs, dir: &Path) -> Result<()> {
    let run = RunDir::open(dir)?;
    let mut config = run.load_config()?;
    let state = TrainState::load(&run)?;
    if let Some(e) = args.epochs {
        config.train.epochs = e;
        config.train.max_steps = None;
    }
    if args.max_steps.is_some() {
        config.train.max_steps = args.max_steps;
    }
    config.train.validate()?;
    run.save_config(&config)?;
    let inputs = &state.inputs;
    args.train_src = inputs.train_src.clone();
    args.train_tgt = inputs.train_tgt.clone();
    args.train_tsv = inputs.train_tsv.clone();
    args.src_col = inputs.src_col;
    args.tgt_col = inputs.tgt_col;
    args.valid_src = inputs.valid_src.clone();
    args.valid_tgt = inputs.valid_tgt.clone();
    let source = corpus_source(&args)?;
    let cleaned = clean(source.read()?, &clean_config(&config.data))?;
    let tokenizers = Tokenizers::load_dir(&run.root)?;
    let (batcher, valid, devices) = training_inputs(&args, &tokenizers, &cleaned.pairs, &config)?;
    eprintln!(
        "resuming {} at step {} (epoch {}, batch {} of {})",
        run.root.display(),
        state.step,
        state.epoch + 1,
        state.batch_in_epoch,
        batcher.num_batches()
    );
    let job = TrainJob {
        config: &config.train,
        run: &run,
        batcher: &batcher,
        valid: valid.as_ref(),
        devices,
        quiet: args.quiet,
        state,
        resume: true,
    };
    run_job(&config, job)
}

/// The corpus paths of `args`, made absolute so that `--resume` works from any directory.
fn train_inputs(args: &TrainArgs) -> TrainInputs {
    let abs = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
    };
    TrainInputs {
        train_src: abs(&args.train_src),
        train_tgt: abs(&args.train_tgt),
        train_tsv: abs(&args.train_tsv),
        src_col: args.src_col,
        tgt_col: args.tgt_col,
        valid_src: abs(&args.valid_src),
        valid_tgt: abs(&args.valid_tgt),
    }
}

/// Reports the end of training; an interrupted run exits with code 130 after saying how to
/// resume it.
fn finish(summary: &TrainSummary, run: &RunDir) -> Result<()> {
    if summary.stop == StopReason::Interrupted {
        eprintln!(
            "interrupted at step {}; resume with: {}",
            summary.steps,
            resume_hint(&run.root)
        );
        // [distributed] The other ranks wait for this save; leave the job with them.
        crate::distributed::finalize();
        std::process::exit(130);
    }
    eprintln!(
        "done: {} steps in {:.1}s ({:.0} target tokens/s), {} parameters{}",
        summary.steps,
        summary.seconds,
        summary.tokens_per_second,
        summary.parameters,
        summary
            .best
            .as_ref()
            .map(|b| format!("; best {b}"))
            .unwrap_or_default()
    );
    eprintln!("run written to {}", run.root.display());
    Ok(())
}

/// The model configuration from the config file or the preset, with flag overrides, checked.
fn model_config(args: &TrainArgs, file: Option<ModelConfig>) -> Result<ModelConfig> {
    let mut model = file.unwrap_or_else(|| ModelConfig::preset(args.arch, args.preset, 1, 1));
    if let Some(kind) = args.attention {
        model = model
            .with_attention_kind(kind)
            .map_err(anyhow::Error::msg)?;
    }
    model
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid model configuration: {e}"))?;
    Ok(model)
}

/// What a fresh run and a resumed one both build: the training batches, the validation set and
/// the training devices of the run's backend (the first, main one seeded).
fn training_inputs(
    args: &TrainArgs,
    tokenizers: &Tokenizers,
    pairs: &[honyaku_data::corpus::SentencePair],
    config: &RunConfig,
) -> Result<(Batcher, Option<ValidSet>, Vec<burn::prelude::Device>)> {
    let batcher = Batcher::new(
        tokenizers.encode_pairs(pairs),
        BatcherConfig {
            max_tokens: config.train.max_tokens,
            shuffle: true,
            seed: config.train.seed,
        },
    )?;
    let valid = valid_set(args, tokenizers, config)?;
    if config.train.schedule == ScheduleKind::Plateau && valid.is_none() {
        bail!(
            "--schedule plateau reduces the learning rate when validation stops improving; \
             give validation data with --valid-src and --valid-tgt, or use another schedule"
        );
    }
    let devices = config.backend.train_devices(config.train.devices)?;
    devices[0].seed(config.train.seed);
    Ok((batcher, valid, devices))
}

fn load_file_config(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "config file {} is not valid (expected a JSON object with optional `model`, `train` \
             and `data` sections)",
            path.display()
        )
    })
}

fn train_config(args: &TrainArgs, mut c: TrainConfig) -> TrainConfig {
    if let Some(e) = args.epochs {
        c.epochs = e;
        c.max_steps = None;
    }
    if args.max_steps.is_some() {
        c.max_steps = args.max_steps;
    }
    if let Some(v) = args.max_tokens {
        c.max_tokens = v;
    }
    if let Some(v) = args.lr {
        c.lr = v;
    }
    if let Some(v) = args.schedule {
        c.schedule = v;
    }
    if let Some(v) = args.warmup {
        c.warmup = v;
    }
    if let Some(v) = args.label_smoothing {
        c.label_smoothing = v;
    }
    if args.max_minutes.is_some() {
        c.max_minutes = args.max_minutes;
    }
    if args.valid_every.is_some() {
        c.valid_every = args.valid_every;
    }
    if let Some(m) = args.early_stop_metric {
        c.select_metric = m;
    }
    if args.patience.is_some() {
        c.patience = args.patience;
    }
    if args.no_valid_bleu {
        c.valid_bleu = false;
    }
    if let Some(v) = args.seed {
        c.seed = v;
    }
    if args.save_every.is_some() {
        c.save_every = args.save_every;
    }
    if let Some(v) = args.clip_norm {
        c.clip_norm = (v > 0.0).then_some(v);
    }
    if let Some(v) = args.accum {
        c.accum = v;
    }
    if let Some(v) = args.keep_checkpoints {
        c.keep_checkpoints = v;
    }
    if let Some(v) = args.devices {
        c.devices = v;
    }
    if let Some(v) = args.optimizer {
        c.optimizer = v;
    }
    if let Some(v) = args.weight_decay {
        c.weight_decay = v;
    }
    if let Some(v) = args.plateau_factor {
        c.plateau_factor = v;
    }
    if let Some(v) = args.plateau_patience {
        c.plateau_patience = v;
    }
    c
}

fn data_config(args: &TrainArgs, mut d: DataConfig) -> DataConfig {
    if let Some(v) = args.vocab_size {
        d.tokenizer.vocab_size = v;
    }
    if let Some(s) = args.subword {
        d.tokenizer.model = match s {
            SubwordArg::Bpe => SubwordModel::Bpe,
            SubwordArg::Unigram => SubwordModel::Unigram,
        };
    }
    if args.separate_vocab {
        d.tokenizer.joint = false;
    }
    if args.lowercase {
        d.tokenizer.lowercase = true;
    }
    d
}

fn clean_config(d: &DataConfig) -> CleanConfig {
    CleanConfig {
        max_len: d.max_len,
        max_ratio: d.max_ratio,
        dedup: d.dedup,
    }
}

fn corpus_source(args: &TrainArgs) -> Result<CorpusSource> {
    match (&args.train_src, &args.train_tgt, &args.train_tsv) {
        (Some(src), Some(tgt), None) => Ok(CorpusSource::Parallel {
            src: src.clone(),
            tgt: tgt.clone(),
        }),
        (None, None, Some(path)) => Ok(CorpusSource::Tsv {
            path: path.clone(),
            src_col: args.src_col,
            tgt_col: args.tgt_col,
        }),
        _ => bail!("give the training corpus as --train-src F --train-tgt F, or as --train-tsv F"),
    }
}

fn valid_set(
    args: &TrainArgs,
    tokenizers: &Tokenizers,
    config: &RunConfig,
) -> Result<Option<ValidSet>> {
    let (Some(src), Some(tgt)) = (&args.valid_src, &args.valid_tgt) else {
        return Ok(None);
    };
    let pairs = read_parallel(src, tgt)?;
    let encoded = tokenizers.encode_pairs(&pairs);
    let sources = if config.train.valid_bleu {
        encoded.iter().map(|p| p.src.clone()).collect()
    } else {
        Vec::new()
    };
    let batcher = Batcher::new(
        encoded,
        BatcherConfig {
            max_tokens: config.train.max_tokens,
            shuffle: false,
            seed: 0,
        },
    )?;
    Ok(Some(ValidSet {
        batches: batcher.epoch_batches(0).collect(),
        sources,
        refs: pairs.into_iter().map(|p| p.tgt).collect(),
        tokenizer: tokenizers.tgt.clone(),
        max_tokens: config.train.max_tokens,
    }))
}
