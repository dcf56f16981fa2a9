//! `honyaku train`: corpus → cleaning → tokenizers → batches → training → run directory.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use honyaku_core::Preset;

use crate::arch::{Arch, ModelConfig};
use crate::backend::Backend;
use crate::run::ModelOverlay;
use crate::run::TrainConfig;
use crate::run::config::{FileConfig, SettingsOverlay};
use crate::training::StopReason;
use crate::training::distributed::{self, Distributed};
use crate::training::launch::{NewRun, Trained, resume, start};
use crate::training::resume::TrainInputs;
use crate::values::parse_preset;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Architecture.
    #[arg(long, value_enum, default_value_t = Arch::Lstm)]
    pub arch: Arch,
    // The model flags: --attention, --cell.
    #[command(flatten)]
    pub model: ModelOverlay,
    /// Compute backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Training source file (plain or .gz), aligned line by line with --train-tgt.
    #[arg(long, requires = "train_tgt", conflicts_with = "train_tsv")]
    pub train_src: Option<PathBuf>,
    /// Training target file (plain or .gz).
    #[arg(long, requires = "train_src")]
    pub train_tgt: Option<PathBuf>,
    /// Training pairs as one TSV file (Tatoeba/Anki exports), see --src-col/--tgt-col.
    #[arg(long)]
    pub train_tsv: Option<PathBuf>,
    /// 1-based source column of the TSV files.
    #[arg(long, default_value_t = 1, value_parser = crate::checks::column)]
    pub src_col: usize,
    /// 1-based target column of the TSV files.
    #[arg(long, default_value_t = 2, value_parser = crate::checks::column)]
    pub tgt_col: usize,
    /// Validation source file: validation loss and perplexity after every epoch.
    #[arg(long, requires = "valid_tgt")]
    pub valid_src: Option<PathBuf>,
    /// Validation target file.
    #[arg(long, requires = "valid_src")]
    pub valid_tgt: Option<PathBuf>,
    /// Run directory to write.
    #[arg(long, required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its latest checkpoint (weights, optimizer,
    /// counters, data position); its config.json is used, other flags are ignored except
    /// --max-steps/--epochs (to extend the run) and --quiet.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["out", "overwrite", "config"])]
    pub resume: Option<PathBuf>,
    /// Replace a run that already exists in --out.
    #[arg(long)]
    pub overwrite: bool,
    /// Model size: tiny, mini, small or base.
    #[arg(long, value_parser = parse_preset, default_value = "small")]
    pub preset: Preset,
    /// JSON file with `model`, `train` and/or `data` sections (flags override it).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Use the tokenizers saved in this directory (a run, or `compare`'s shared ones) instead
    /// of training new ones.
    #[arg(long, display_order = 27)]
    pub tokenizers_from: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, display_order = 42)]
    pub quiet: bool,
    /// Data parallel across processes: `mpi` joins the job `mpirun -np N honyaku train
    /// --distributed mpi ...` started (one process per machine or GPU); rank 0 writes the run.
    /// Needs a build with `--features mpi`.
    #[arg(long, value_enum, display_order = 43)]
    pub distributed: Option<Distributed>,
    #[command(flatten)]
    pub settings: SettingsOverlay,
}

/// Runs `honyaku train`.
pub fn run(args: TrainArgs) -> Result<()> {
    // [distributed] One rank of a job across processes: rank 0 runs what follows.
    if let Some(kind) = args.distributed {
        return distributed::run(kind, || run_here(&args));
    }
    run_here(&args)
}

/// `honyaku train` in this process.
fn run_here(args: &TrainArgs) -> Result<()> {
    let trained = match &args.resume {
        Some(dir) => resume(dir, &args.settings.train, args.quiet)?,
        None => start(new_run(args)?)?,
    };
    finish(&trained)
}

/// The new run `args` describe: the architecture's recipe for the preset, overridden by the
/// `--config` file's settings and then by the flags, checked before anything is read or
/// written.
fn new_run(args: &TrainArgs) -> Result<NewRun<'_>> {
    let file = FileConfig::load(args.config.as_deref())?;
    // The vocabulary sizes come with the tokenizers.
    let model = model_config(args, file.model.clone())?;
    // The architecture's recipe, then the config file, then the flags.
    let recipe = model.arch().recipe(args.preset);
    let mut train = file.train_over(TrainConfig::from_recipe(&recipe))?;
    let mut data = file.data.unwrap_or_default();
    args.settings.merge(&mut train, &mut data);
    train.validate()?;
    crate::limits::check_positions(&model, data.max_len)
        .map_err(|e| anyhow::anyhow!("invalid model configuration: {e}"))?;
    let out = args
        .out
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("give the run directory to write with --out"))?;
    Ok(NewRun {
        out,
        overwrite: args.overwrite,
        model,
        preset: args.preset,
        train,
        data,
        backend: args.backend,
        inputs: train_inputs(args, |p| p.clone()),
        saved_inputs: train_inputs(args, |p| {
            std::path::absolute(p).unwrap_or_else(|_| p.clone())
        }),
        tokenizers_from: args.tokenizers_from.as_deref(),
        quiet: args.quiet,
    })
}

/// The corpus paths of `args`, each passed through `path` (made absolute so that `--resume`
/// works from any directory).
fn train_inputs(args: &TrainArgs, path: impl Fn(&PathBuf) -> PathBuf) -> TrainInputs {
    let each = |p: &Option<PathBuf>| p.as_ref().map(&path);
    TrainInputs {
        train_src: each(&args.train_src),
        train_tgt: each(&args.train_tgt),
        train_tsv: each(&args.train_tsv),
        src_col: args.src_col,
        tgt_col: args.tgt_col,
        valid_src: each(&args.valid_src),
        valid_tgt: each(&args.valid_tgt),
    }
}

/// The model configuration from the config file or the preset, with flag overrides, checked.
fn model_config(args: &TrainArgs, file: Option<ModelConfig>) -> Result<ModelConfig> {
    let model = file.unwrap_or_else(|| ModelConfig::preset(args.arch, args.preset, 1, 1));
    let model = args.model.apply(model).map_err(anyhow::Error::msg)?;
    model
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid model configuration: {e}"))?;
    Ok(model)
}

/// Reports the end of training; an interrupted run exits with code 130 after saying how to
/// resume it.
fn finish(trained: &Trained) -> Result<()> {
    let Trained { run, summary } = trained;
    if summary.stop == StopReason::Interrupted {
        eprintln!(
            "interrupted at step {}; resume with: {}",
            summary.steps,
            distributed::resume_command(&run.root)
        );
        // [distributed] The other ranks wait for this save; leave the job with them.
        distributed::finalize();
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
