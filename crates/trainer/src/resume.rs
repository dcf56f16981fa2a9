//! What makes a training run dependable: the counters saved next to every checkpoint so that
//! `honyaku train --resume RUN_DIR` continues exactly where the run stopped, the interrupt flag
//! set by SIGINT/SIGTERM, and the divergence guard.
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

use crate::checkpoint::write_atomic;
use crate::run::RunDir;
use crate::validation::ValidScores;

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

    /// Saves atomically.
    pub fn save(&self, run: &RunDir) -> Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        write_atomic(&Self::path(run), json.as_bytes())
    }

    /// Reads the state of `run`, with an error that says what is missing.
    pub fn load(run: &RunDir) -> Result<Self> {
        let path = Self::path(run);
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

/// Asks the loop to stop, as a signal does (tests).
pub fn request_interrupt(on: bool) {
    INTERRUPTED.store(on, Ordering::SeqCst);
}

/// What the loop does after a step's loss is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardDecision {
    /// Finite loss: update as usual.
    Update,
    /// Non-finite loss: skip this update.
    Skip,
    /// Too many bad steps in a row: reload the last checkpoint with a fresh optimizer and the
    /// learning rate halved.
    Reload,
    /// Too many reloads: give up.
    Abort,
}

/// Skips non-finite losses, reloads after [`DivergenceGuard::MAX_BAD`] in a row, gives up
/// after [`DivergenceGuard::MAX_RELOADS`] reloads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DivergenceGuard {
    /// Consecutive non-finite losses.
    pub bad_in_a_row: usize,
    /// Non-finite losses skipped in all.
    pub skipped: usize,
    /// Reloads made.
    pub reloads: usize,
}

impl DivergenceGuard {
    /// Bad steps in a row that trigger a reload.
    pub const MAX_BAD: usize = 3;
    /// Reloads after which training stops.
    pub const MAX_RELOADS: usize = 3;

    /// A guard that has already reloaded `reloads` times (from `train_state.json`).
    pub fn with_reloads(reloads: usize) -> Self {
        Self {
            reloads,
            ..Self::default()
        }
    }

    /// Records a step's loss and says what to do.
    pub fn observe(&mut self, loss: f64) -> GuardDecision {
        if loss.is_finite() {
            self.bad_in_a_row = 0;
            return GuardDecision::Update;
        }
        self.skipped += 1;
        self.bad_in_a_row += 1;
        if self.bad_in_a_row < Self::MAX_BAD {
            return GuardDecision::Skip;
        }
        self.bad_in_a_row = 0;
        if self.reloads >= Self::MAX_RELOADS {
            return GuardDecision::Abort;
        }
        self.reloads += 1;
        GuardDecision::Reload
    }
}

/// The command that continues `run` (under `mpirun` for a distributed run).
pub fn resume_hint(run: &Path) -> String {
    match crate::distributed::world_size() {
        1 => format!("honyaku train --resume {}", run.display()),
        // [distributed]
        n => format!(
            "mpirun -np {n} honyaku train --distributed mpi --resume {}",
            run.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_losses_update() {
        let mut g = DivergenceGuard::default();
        assert_eq!(g.observe(2.0), GuardDecision::Update);
        assert_eq!(g.skipped, 0);
    }

    #[test]
    fn a_good_step_resets_the_run_of_bad_ones() {
        let mut g = DivergenceGuard::default();
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::INFINITY), GuardDecision::Skip);
        assert_eq!(g.observe(1.0), GuardDecision::Update);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.skipped, 4);
        assert_eq!(g.reloads, 0);
    }

    #[test]
    fn three_bad_steps_reload_and_three_reloads_abort() {
        let mut g = DivergenceGuard::default();
        for reload in 1..=DivergenceGuard::MAX_RELOADS {
            assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
            assert_eq!(g.observe(f64::NEG_INFINITY), GuardDecision::Skip);
            assert_eq!(g.observe(f64::NAN), GuardDecision::Reload);
            assert_eq!(g.reloads, reload);
        }
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Skip);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Abort);
    }

    #[test]
    fn the_reload_count_survives_a_resume() {
        let mut g = DivergenceGuard::with_reloads(3);
        g.observe(f64::NAN);
        g.observe(f64::NAN);
        assert_eq!(g.observe(f64::NAN), GuardDecision::Abort);
    }
}
