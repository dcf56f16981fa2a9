//! Step checkpoints of a run: `checkpoints/step-K.bpk`, kept by `train --keep-checkpoints N`
//! for checkpoint averaging (their mean is `RunDir::averaged_checkpoint`).

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::dir::RunDir;

/// One `checkpoints/step-K.bpk` file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StepCheckpoint {
    /// The update count K it was saved at.
    pub step: usize,
    /// The file.
    pub path: PathBuf,
}

/// `checkpoints/step-K.bpk`.
pub fn step_checkpoint(run: &RunDir, step: usize) -> PathBuf {
    run.checkpoint_dir().join(format!("step-{step}.bpk"))
}

/// The step checkpoints of `run`, oldest first.
pub fn step_checkpoints(run: &RunDir) -> Result<Vec<StepCheckpoint>> {
    let dir = run.checkpoint_dir();
    let mut found = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        let step = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("step-"))
            .and_then(|n| n.strip_suffix(".bpk"))
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(step) = step {
            found.push(StepCheckpoint { step, path });
        }
    }
    found.sort();
    Ok(found)
}

/// Removes all but the newest `keep` step checkpoints.
pub fn prune_step_checkpoints(run: &RunDir, keep: usize) -> Result<()> {
    let all = step_checkpoints(run)?;
    let excess = all.len().saturating_sub(keep);
    for old in &all[..excess] {
        let path = &old.path;
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}
