//! What makes a training run dependable: the counters saved next to every checkpoint so that
//! `honyaku train --resume RUN_DIR` continues exactly where the run stopped, the interrupt flag
//! set by SIGINT/SIGTERM (the divergence guard it saves the counters of is `guard.rs`).
//!
//! # Exactness of a resume
//!
//! A resumed run reproduces the uninterrupted one: the weights and the Adam moments come from
//! the checkpoint (`last.bpk`, `last.optim.bpk`; Burn keeps each parameter's `ParamId` in the
//! record, which is what the optimizer state is keyed by), the data order from
//! [`honyaku_data::batcher::Batcher::epoch_batches`] of the saved epoch, skipping the batches
//! already consumed, the learning rate from the step counter, the best scores, patience and
//! divergence counters from `train_state.json`. Dropout randomness cannot be saved (Burn 0.22
//! has no API to read a device RNG's state), so the loop re-seeds the device before every step
//! from `(seed, step)` instead: the dropout masks depend on the step only, not on how many steps
//! the process has made, and a resumed run with dropout is exact too (tested to 1e-5). The seed
//! is process-global in Burn, so this holds when nothing else draws random numbers on the
//! device concurrently.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::validation::ValidScores;
use crate::run::RunDir;

/// Where the training data of a run came from, so that `--resume` can read it again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainInputs {
    /// `--train-src`.
    pub train_src: Option<PathBuf>,
    /// `--train-tgt`.
    pub train_tgt: Option<PathBuf>,
    /// `--train-tsv`.
    pub train_tsv: Option<PathBuf>,
    /// `--src-col`.
    pub src_col: usize,
    /// `--tgt-col`.
    pub tgt_col: usize,
    /// `--valid-src`.
    pub valid_src: Option<PathBuf>,
    /// `--valid-tgt`.
    pub valid_tgt: Option<PathBuf>,
}

/// `train_state.json`: the loop's counters at the time of the latest `last.bpk`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainState {
    /// Updates made.
    pub step: usize,
    /// Current epoch (0-based).
    pub epoch: usize,
    /// Batches of the current epoch already consumed (updates and skipped bad batches).
    pub batch_in_epoch: usize,
    /// Target tokens trained on.
    pub train_tokens: usize,
    /// Seconds spent in training steps.
    pub train_seconds: f64,
    /// Seconds spent in validation.
    pub valid_seconds: f64,
    /// Wall time of the run so far, seconds (all sessions).
    pub elapsed_seconds: f64,
    /// Mean training loss of the last logging window.
    pub last_train_loss: Option<f64>,
    /// Best validation scores so far.
    pub best: Option<ValidScores>,
    /// Validations since the best one.
    pub evals_without_gain: usize,
    /// Validations without improvement since the best one or the last plateau reduction.
    pub plateau_evals: usize,
    /// Factor on the scheduled learning rate (halved by each divergence reload, reduced by
    /// the `plateau` schedule).
    pub lr_scale: f64,
    /// Divergence reloads so far.
    pub reloads: usize,
    /// Where the training data came from.
    pub inputs: TrainInputs,
}

impl TrainState {
    /// `train_state.json` of `run`.
    pub fn path(run: &RunDir) -> PathBuf {
        run.root.join("train_state.json")
    }

    /// Reads the state of `run`, with an error that says what is missing; a save that was
    /// interrupted is finished or undone first (see [`crate::run::commit::recover`]).
    pub fn load(run: &RunDir) -> Result<Self> {
        let path = Self::path(run);
        let set = [run.last_checkpoint(), optim_checkpoint(run), path.clone()];
        if crate::run::commit::recover(&crate::run::commit::journal_path(&run.root), &set)? {
            eprintln!(
                "finished the checkpoint save that was interrupted in {}",
                run.root.display()
            );
        }
        if !path.is_file() {
            bail!(
                "{} cannot be resumed: it has no train_state.json (written by honyaku train from \
                 this version on)",
                run.root.display()
            );
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
    }
}

/// The optimizer state saved next to `last.bpk`.
pub fn optim_checkpoint(run: &RunDir) -> PathBuf {
    run.checkpoint_dir().join("last.optim.bpk")
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the SIGINT/SIGTERM handler: the first signal asks the loop to stop after the
/// current step and save; a second one exits at once (code 130).
pub fn install_interrupt_handler() {
    // Fails only when a handler is installed already (a second run in the same process).
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("second interrupt: exiting without saving");
            std::process::exit(130);
        }
    });
}

/// Whether a stop was asked for.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The command that continues `run`.
pub fn resume_hint(run: &Path) -> String {
    format!("honyaku train --resume {}", run.display())
}
