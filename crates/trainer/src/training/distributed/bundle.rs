//! What rank 0 gives the other ranks before training: the run's configuration, the counters to
//! start from (with the corpus paths) and the tokenizers it trained or loaded.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{comm, say, set_run_root};
use crate::run::RunConfig;
use crate::training::job::TrainJob;
use crate::training::resume::TrainState;

/// What rank 0 gives the other ranks before training.
#[derive(Serialize, Deserialize)]
pub struct Bundle {
    /// `config.json`.
    pub config: RunConfig,
    /// The counters to start from (and where the corpus is).
    pub state: TrainState,
    /// Whether the run continues from a checkpoint (rank 0 broadcasts its weights and optimizer
    /// state either way).
    pub resume: bool,
    /// The tokenizer files of the run directory: name and content.
    pub tokenizers: Vec<(String, String)>,
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

/// On a rank other than 0: what rank 0 sent.
pub fn receive() -> Result<Bundle> {
    let comm = comm().context("receiving the run from rank 0 outside a distributed job")?;
    let bytes = comm.broadcast(Vec::new(), "the run configuration")?;
    serde_json::from_slice(&bytes).context("the run configuration from rank 0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_files_of_a_run_are_found_and_nothing_else() {
        let dir = honyaku_conformance::tempdir().unwrap();
        std::fs::write(dir.path().join("tokenizer.src.json"), "{\"a\":1}").unwrap();
        std::fs::write(dir.path().join("tokenizer.tgt.json"), "{}").unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let files = tokenizer_files(dir.path()).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["tokenizer.src.json", "tokenizer.tgt.json"]);
        assert_eq!(files[0].1, "{\"a\":1}");
    }
}
