//! `honyaku train --distributed mpi`, started by `mpirun -np N`: rank 0 runs the ordinary
//! `train` (or `train --resume`) and alone writes the run directory; before training it
//! broadcasts the run's configuration, counters and tokenizers, and the other ranks (followers)
//! build the same batches from their own copy of the corpus (the same paths on every machine)
//! and train on their slices. Only rank 0 validates; the others wait for its outcome.
//!
//! An error on any rank aborts the whole job (MPI_Abort), since the others would wait for it
//! forever; a stop (Ctrl-C, SIGTERM, the time budget) is agreed by all ranks before the next
//! update, so that every rank stops at the same step and rank 0 saves it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use honyaku_data::batcher::{Batcher, BatcherConfig};
use honyaku_data::clean::{CleanConfig, clean};
use honyaku_data::corpus::CorpusSource;
use honyaku_data::tokenizer::Tokenizers;
use serde::{Deserialize, Serialize};

use super::{Distributed, comm, say, set_run_root, uninstall};
use crate::cli::TrainArgs;
use crate::resume::{TrainInputs, TrainState, install_interrupt_handler};
use crate::run::{RunConfig, RunDir};
use crate::train::{StopReason, TrainJob};

/// The refusal of a build without the `mpi` feature.
pub const NO_MPI: &str = "--distributed mpi needs a honyaku built with MPI support, and this \
     one was built without it. Install an MPI library and build with the `mpi` feature \
     (Debian/Ubuntu: `apt-get install libopenmpi-dev openmpi-bin clang libclang-dev`, then \
     `cargo build --release -p honyaku --features mpi`), and start one process per machine \
     with `mpirun -np N honyaku train --distributed mpi ...`";

/// Runs `honyaku train` as one rank of a distributed job.
pub fn run(kind: Distributed, args: TrainArgs) -> Result<()> {
    match kind {
        Distributed::Mpi => run_mpi(args),
    }
}

#[cfg(not(feature = "mpi"))]
fn run_mpi(_args: TrainArgs) -> Result<()> {
    anyhow::bail!("{NO_MPI}")
}

#[cfg(feature = "mpi")]
fn run_mpi(args: TrainArgs) -> Result<()> {
    use super::Collectives;

    let comm = super::mpi::MpiComm::init()?;
    let (rank, size) = (comm.rank(), comm.size());
    say(&format!(
        "mpi: rank {rank} of {size}, pid {} on {}",
        std::process::id(),
        comm.host()
    ));
    // The only owner from here: `finalize` drops it, which leaves the job (MPI_Finalize).
    super::install(std::rc::Rc::new(comm));
    let result = if rank == 0 {
        crate::cmd_train::run_local(args)
    } else {
        follow()
    };
    match result {
        Ok(()) => {
            finalize();
            Ok(())
        }
        Err(e) if size > 1 => {
            say(&format!("error: rank {rank}: {e:#}"));
            say(&format!("rank {rank}: aborting every rank of the job"));
            super::mpi::abort(1)
        }
        Err(e) => {
            finalize();
            Err(e)
        }
    }
}

/// Ends this process's part of a distributed job (a no-op without one): waits for every rank
/// (rank 0 may still be saving), then leaves the job (MPI_Finalize).
pub fn finalize() {
    if let Some(comm) = comm() {
        let time = super::exchange_time();
        if comm.rank() == 0 && time.count > 0 {
            say(&format!(
                "mpi: {} gradient exchanges of {} bytes took {:.2} s, {:.1} ms each (waiting for \
                 the other ranks included)",
                time.count,
                super::grad_bytes_per_update(),
                time.seconds,
                1000.0 * time.seconds / time.count as f64
            ));
        }
        // An error here means the job is gone already; there is nothing left to wait for.
        let _ = comm.barrier("the end of training");
    }
    uninstall();
}

/// What rank 0 gives the other ranks before training.
#[derive(Serialize, Deserialize)]
struct Bundle {
    /// `config.json`.
    config: RunConfig,
    /// The counters to start from (and where the corpus is).
    state: TrainState,
    /// Whether the run continues from a checkpoint (rank 0 broadcasts its weights and optimizer
    /// state either way).
    resume: bool,
    /// The tokenizer files of the run directory: name and content.
    tokenizers: Vec<(String, String)>,
}

/// [distributed] Rank 0, before training: sends the run's configuration, counters and
/// tokenizers to the other ranks and remembers the run directory for its messages. A no-op
/// without a distributed job.
pub fn lead(config: &RunConfig, job: &TrainJob<'_>) -> Result<()> {
    let Some(comm) = comm() else {
        return Ok(());
    };
    set_run_root(job.run.root.clone());
    let bundle = Bundle {
        config: config.clone(),
        state: job.state.clone(),
        resume: job.resume,
        tokenizers: tokenizer_files(&job.run.root)?,
    };
    comm.broadcast(serde_json::to_vec(&bundle)?, "the run configuration")?;
    let per_update = config.train.accum.max(1) * config.train.devices.max(1) * comm.size();
    say(&format!(
        "mpi: {} ranks, {per_update} batches per update ({} per rank); rank 0 writes {}",
        comm.size(),
        per_update / comm.size(),
        job.run.root.display()
    ));
    Ok(())
}

/// The tokenizer files `Tokenizers::save_dir` wrote into `root`.
fn tokenizer_files(root: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("tokenizer") && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            files.push((name, text));
        }
    }
    files.sort();
    Ok(files)
}

/// A rank other than 0: receives the run from rank 0 and trains its slices.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
fn follow() -> Result<()> {
    let comm = comm().expect("a follower runs in a distributed job");
    let bytes = comm.broadcast(Vec::new(), "the run configuration")?;
    let bundle: Bundle =
        serde_json::from_slice(&bytes).context("the run configuration from rank 0")?;
    let scratch = Scratch::new(comm.rank())?;
    for (name, text) in &bundle.tokenizers {
        let path = scratch.0.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let tokenizers = Tokenizers::load_dir(&scratch.0)?;
    let config = bundle.config;
    let batcher = batches(&bundle.state.inputs, &tokenizers, &config)?;
    let devices = config.backend.train_devices(config.train.devices)?;
    devices[0].seed(config.train.seed);
    install_interrupt_handler();
    // The run directory of this rank is scratch: the loop writes nothing to it but its own
    // metrics log; checkpoints, validation and reports are rank 0's.
    let run = RunDir {
        root: scratch.0.clone(),
    };
    let job = TrainJob {
        config: &config.train,
        run: &run,
        batcher: &batcher,
        valid: None,
        devices: devices.clone(),
        quiet: true,
        state: bundle.state,
        resume: bundle.resume,
    };
    let summary = config.model.run(&devices[0], job)?;
    drop(scratch);
    if summary.stop == StopReason::Interrupted {
        finalize();
        std::process::exit(130);
    }
    Ok(())
}

/// The training batches of a follower: the corpus at the paths rank 0 recorded, cleaned and
/// batched as rank 0 does, in the same seeded order.
fn batches(inputs: &TrainInputs, tokenizers: &Tokenizers, config: &RunConfig) -> Result<Batcher> {
    let source = match (&inputs.train_src, &inputs.train_tgt, &inputs.train_tsv) {
        (Some(src), Some(tgt), _) => CorpusSource::Parallel {
            src: src.clone(),
            tgt: tgt.clone(),
        },
        (_, _, Some(path)) => CorpusSource::Tsv {
            path: path.clone(),
            src_col: inputs.src_col,
            tgt_col: inputs.tgt_col,
        },
        _ => anyhow::bail!("rank 0 sent no training corpus paths"),
    };
    let data = &config.data;
    let cleaned = clean(
        source.read()?,
        &CleanConfig {
            max_len: data.max_len,
            max_ratio: data.max_ratio,
            dedup: data.dedup,
        },
    )?;
    Ok(Batcher::new(
        tokenizers.encode_pairs(&cleaned.pairs),
        BatcherConfig {
            max_tokens: config.train.max_tokens,
            shuffle: true,
            seed: config.train.seed,
        },
    )?)
}

/// A follower's private directory for the tokenizers and its metrics log, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(rank: usize) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("honyaku-rank{rank}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(feature = "mpi"))]
    fn a_build_without_mpi_refuses_with_how_to_build_it() {
        use clap::Parser;
        let cli =
            crate::cli::Cli::parse_from(["honyaku", "train", "--distributed", "mpi", "--out", "x"]);
        let crate::cli::Command::Train(args) = cli.command else {
            panic!("not train");
        };
        let err = run(Distributed::Mpi, args).unwrap_err().to_string();
        assert!(err.contains("--features mpi"), "{err}");
        assert!(err.contains("mpirun -np N"), "{err}");
    }

    #[test]
    fn the_tokenizer_files_of_a_run_are_found_and_nothing_else() {
        let dir = honyaku_core::testing::tempdir().unwrap();
        std::fs::write(dir.path().join("tokenizer.src.json"), "{\"a\":1}").unwrap();
        std::fs::write(dir.path().join("tokenizer.tgt.json"), "{}").unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let files = tokenizer_files(dir.path()).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["tokenizer.src.json", "tokenizer.tgt.json"]);
        assert_eq!(files[0].1, "{\"a\":1}");
    }
}
