//! A rank other than 0: it receives the run from rank 0, reads the corpus at the same paths,
//! builds the same seeded batches and trains its slices; it writes nothing to the run directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use honyaku_data::prepare::{TokenizerSource, prepare};

use super::bundle::receive;
use super::{comm, finalize};
use crate::run::RunDir;
use crate::training::job::TrainJob;
use crate::training::launch::{corpus_spec, prepare_options};
use crate::training::resume::install_interrupt_handler;
use crate::training::summary::StopReason;

/// A rank other than 0: receives the run from rank 0 and trains its slices.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub(super) fn follow() -> Result<()> {
    let rank = comm().map_or(0, |c| c.rank());
    let bundle = receive()?;
    let scratch = Scratch::new(rank)?;
    for (name, text) in &bundle.tokenizers {
        let path = scratch.0.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let config = bundle.config;
    // The training corpus only: validation is rank 0's.
    let mut corpus = corpus_spec(&bundle.state.inputs)?;
    corpus.valid = None;
    let tokenizers = TokenizerSource::Load(scratch.0.clone());
    let data = prepare(
        &corpus,
        &prepare_options(&config.train, &config.data, tokenizers),
        &mut |_| {},
    )?;
    let devices = config.backend.train_devices(config.train.devices)?;
    devices[0].seed(config.train.seed);
    install_interrupt_handler();
    // This rank's run directory is scratch: the loop writes nothing to it but its own metrics
    // log; checkpoints, validation and reports are rank 0's.
    let run = RunDir {
        root: scratch.0.clone(),
    };
    let job = TrainJob {
        config: &config.train,
        run: &run,
        batcher: &data.batcher,
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
