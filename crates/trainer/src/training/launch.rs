//! Starting and resuming a training run: the corpora prepared in one call of the data crate,
//! the run directory written, and the loop run on the model the configuration describes.

use std::path::Path;

use anyhow::{Result, bail};
use burn::prelude::Device;
use honyaku_core::Preset;
use honyaku_data::batcher::BatcherConfig;
use honyaku_data::clean::CleanConfig;
use honyaku_data::corpus::CorpusSource;
use honyaku_data::prepare::{
    CorpusSpec, ParallelFiles, PrepareEvent, PrepareOptions, PreparedData, TokenizerSource, prepare,
};

use super::job::TrainJob;
use super::resume::{TrainInputs, TrainState, install_interrupt_handler};
use super::schedule::ScheduleKind;
use super::summary::TrainSummary;
use super::validation::ValidSet;
use crate::arch::ModelConfig;
use crate::backend::Backend;
use crate::run::config::TrainOverrides;
use crate::run::{DataConfig, RunConfig, RunDir, TrainConfig};

/// A new run, its settings already merged and checked.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The run directory to write.
    pub out: &'a Path,
    /// Replace a run already in `out`.
    pub overwrite: bool,
    /// The model, checked (its vocabulary sizes come from the tokenizers).
    pub model: ModelConfig,
    /// The preset the model came from, for the start message.
    pub preset: Preset,
    /// Training settings, checked.
    pub train: TrainConfig,
    /// Data settings.
    pub data: DataConfig,
    /// The backend to train on.
    pub backend: Backend,
    /// The corpus paths as given (messages name them so).
    pub inputs: TrainInputs,
    /// The corpus paths saved for `--resume` (absolute).
    pub saved_inputs: TrainInputs,
    /// Load the tokenizers from this directory instead of training them.
    pub tokenizers_from: Option<&'a Path>,
    /// Hide the progress bar.
    pub quiet: bool,
}

/// A finished (or interrupted) run.
#[derive(Debug)]
pub struct Trained {
    /// Its directory.
    pub run: RunDir,
    /// What training reported.
    pub summary: TrainSummary,
}

/// Prepares the data, writes the run directory (tokenizers, `config.json`) and trains.
pub fn start(new: NewRun<'_>) -> Result<Trained> {
    let corpus = corpus_spec(&new.inputs)?;
    check_plateau(&new.train, &corpus)?;
    RunDir::check_new(new.out, new.overwrite)?;
    let tokenizers = match new.tokenizers_from {
        Some(dir) => TokenizerSource::Load(dir.to_path_buf()),
        None => TokenizerSource::Train(new.data.tokenizer.clone()),
    };
    let data = prepare(
        &corpus,
        &prepare_options(&new.train, &new.data, tokenizers),
        &mut |event| match event {
            PrepareEvent::Cleaned { source, report } => eprintln!("{source}: {report}"),
            PrepareEvent::ValidCleaned { files, report } => eprintln!(
                "validation '{}' / '{}': {report}",
                files.src.display(),
                files.tgt.display()
            ),
            PrepareEvent::TooLong {
                set,
                pairs,
                max_len,
            } => {
                if let Some(warning) = crate::limits::dropped_warning(set, pairs, max_len) {
                    eprintln!("{warning}");
                }
            }
            PrepareEvent::TrainingTokenizers { pairs } => {
                eprintln!("training tokenizers ({pairs} pairs)...")
            }
        },
    )?;
    let run = RunDir::create(new.out, new.overwrite)?;
    data.tokenizers.save_dir(&run.root)?;
    let (src_vocab, tgt_vocab) = (
        data.tokenizers.src.vocab_size(),
        data.tokenizers.tgt.vocab_size(),
    );
    let mut settings = new.train;
    let targets = data.valid.as_ref().map_or(&[][..], |v| &v.refs[..]);
    settings.select_metric = settings.select_metric.resolved(targets);
    settings.cpu_shards = new.backend.cpu_shards(settings.cpu_shards);
    let config = RunConfig {
        model: new.model.with_vocab(src_vocab, tgt_vocab),
        train: settings,
        data: new.data,
        backend: new.backend,
        honyaku_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    run.save_config(&config)?;
    let devices = train_devices(&config)?;
    eprintln!(
        "training {} ({} preset) on {}{}: {} batches per epoch, vocabularies {src_vocab}/{tgt_vocab}",
        config.model.arch(),
        new.preset,
        config.backend,
        match (config.train.devices, config.train.cpu_shards) {
            (1, 1) => String::new(),
            (1, s) => format!(", each batch in {s} shards on {s} threads"),
            (n, 1) => format!(" x{n} devices"),
            (n, s) => format!(" x{n} devices, each batch in {s} shards"),
        },
        data.batcher.num_batches()
    );
    let state = TrainState {
        inputs: new.saved_inputs,
        lr_scale: 1.0,
        ..TrainState::default()
    };
    train(&config, run, data, devices, state, new.quiet, false)
}

/// `honyaku train --resume RUN_DIR`: the run's own configuration (its epochs or steps extended
/// by `extend`), corpus and tokenizers, and the loop continued from `train_state.json`.
pub fn resume(dir: &Path, extend: &TrainOverrides, quiet: bool) -> Result<Trained> {
    let run = RunDir::open(dir)?;
    let mut config = run.load_config()?;
    let state = TrainState::load(&run)?;
    extension(extend).merge(&mut config.train);
    config.train.validate()?;
    // Runs saved before `cpu_shards` existed (or with 0) get the number this machine picks.
    config.train.cpu_shards = config.backend.cpu_shards(config.train.cpu_shards);
    run.save_config(&config)?;
    let corpus = corpus_spec(&state.inputs)?;
    let tokenizers = TokenizerSource::Load(run.root.clone());
    let data = prepare(
        &corpus,
        &prepare_options(&config.train, &config.data, tokenizers),
        &mut |event| {
            if let PrepareEvent::TooLong {
                set,
                pairs,
                max_len,
            } = event
                && let Some(warning) = crate::limits::dropped_warning(set, pairs, max_len)
            {
                eprintln!("{warning}");
            }
        },
    )?;
    check_plateau(&config.train, &corpus)?;
    let devices = train_devices(&config)?;
    eprintln!(
        "resuming {} at step {} (epoch {}, batch {} of {})",
        run.root.display(),
        state.step,
        state.epoch + 1,
        state.batch_in_epoch,
        data.batcher.num_batches()
    );
    train(&config, run, data, devices, state, quiet, true)
}

/// Of the training flags, only `--epochs` and `--max-steps` extend a resumed run; its other
/// settings stay as they were.
fn extension(flags: &TrainOverrides) -> TrainOverrides {
    TrainOverrides {
        epochs: flags.epochs,
        max_steps: flags.max_steps,
        ..TrainOverrides::default()
    }
}

/// Trains (SIGINT/SIGTERM save and stop) on the model `config` describes.
fn train(
    config: &RunConfig,
    run: RunDir,
    data: PreparedData,
    devices: Vec<Device>,
    state: TrainState,
    quiet: bool,
    resume: bool,
) -> Result<Trained> {
    let valid = data.valid.map(|v| ValidSet {
        batches: v.batches,
        sources: v.sources,
        refs: v.refs,
        tokenizer: data.tokenizers.tgt.clone(),
        max_tokens: config.train.max_tokens,
    });
    let job = TrainJob {
        config: &config.train,
        run: &run,
        batcher: &data.batcher,
        valid: valid.as_ref(),
        devices,
        quiet,
        state,
        resume,
    };
    install_interrupt_handler();
    // [distributed] Rank 0 gives the other ranks the run.
    super::distributed::bundle::lead(config, &job)?;
    let summary = config.model.run(&job.devices[0].clone(), job)?;
    Ok(Trained { run, summary })
}

/// The training devices of the run's backend, the first (main) one seeded.
fn train_devices(config: &RunConfig) -> Result<Vec<Device>> {
    let devices = config.backend.train_devices(config.train.devices)?;
    devices[0].seed(config.train.seed);
    Ok(devices)
}

/// Cleaning, tokenizers and batching as the run's settings say.
pub fn prepare_options(
    train: &TrainConfig,
    data: &DataConfig,
    tokenizers: TokenizerSource,
) -> PrepareOptions {
    PrepareOptions {
        clean: CleanConfig {
            max_len: data.max_len,
            max_ratio: data.max_ratio,
            dedup: data.dedup,
        },
        tokenizers,
        batcher: BatcherConfig {
            max_tokens: train.max_tokens,
            shuffle: true,
            seed: train.seed,
        },
        valid_sources: train.valid_bleu,
    }
}

/// The `plateau` schedule needs validation data.
fn check_plateau(train: &TrainConfig, corpus: &CorpusSpec) -> Result<()> {
    if train.schedule == ScheduleKind::Plateau && corpus.valid.is_none() {
        bail!(
            "--schedule plateau reduces the learning rate when validation stops improving; \
             give validation data with --valid-src and --valid-tgt, or use another schedule"
        );
    }
    Ok(())
}

/// The corpora `inputs` name.
pub fn corpus_spec(inputs: &TrainInputs) -> Result<CorpusSpec> {
    let train = match (&inputs.train_src, &inputs.train_tgt, &inputs.train_tsv) {
        (Some(src), Some(tgt), None) => CorpusSource::Parallel {
            src: src.clone(),
            tgt: tgt.clone(),
        },
        (None, None, Some(path)) => CorpusSource::Tsv {
            path: path.clone(),
            src_col: inputs.src_col,
            tgt_col: inputs.tgt_col,
        },
        _ => bail!("give the training corpus as --train-src F --train-tgt F, or as --train-tsv F"),
    };
    let valid = match (&inputs.valid_src, &inputs.valid_tgt) {
        (Some(src), Some(tgt)) => Some(ParallelFiles {
            src: src.clone(),
            tgt: tgt.clone(),
        }),
        _ => None,
    };
    Ok(CorpusSpec { train, valid })
}
