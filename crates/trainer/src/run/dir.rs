//! The run directory: where a run's configuration, tokenizers, checkpoints and metrics live.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::config::RunConfig;

/// Paths inside a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory itself.
    pub root: PathBuf,
}

/// Which of a run's checkpoints translation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckpointChoice {
    /// The best by the run's selection metric (the last one when the run had no validation).
    #[default]
    Best,
    /// The latest one.
    Last,
    /// The mean of the last step checkpoints, written by `honyaku average`.
    Averaged,
}

impl std::fmt::Display for CheckpointChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Best => "best",
            Self::Last => "last",
            Self::Averaged => "averaged",
        })
    }
}

impl RunDir {
    /// Creates a new run directory; refuses to reuse one that holds a run unless `overwrite`.
    pub fn create(root: &Path, overwrite: bool) -> Result<Self> {
        Self::check_new(root, overwrite)?;
        let run = Self {
            root: root.to_path_buf(),
        };
        if run.config_path().exists() {
            let journal = super::commit::journal_path(root);
            for p in [run.checkpoint_dir(), run.metrics_path(), journal] {
                if p.is_dir() {
                    fs::remove_dir_all(&p)?;
                } else if p.exists() {
                    fs::remove_file(&p)?;
                }
            }
        }
        fs::create_dir_all(run.checkpoint_dir())
            .with_context(|| format!("creating run directory {}", root.display()))?;
        Ok(run)
    }

    /// Checks, without writing anything, that [`RunDir::create`] may use `root`.
    pub fn check_new(root: &Path, overwrite: bool) -> Result<()> {
        let run = Self {
            root: root.to_path_buf(),
        };
        if run.config_path().exists() && !overwrite {
            bail!(
                "{} already holds a run; choose another --out, or pass --overwrite to replace it",
                root.display()
            );
        }
        Ok(())
    }

    /// Opens an existing run directory, with a clear error if it is not one.
    pub fn open(root: &Path) -> Result<Self> {
        let run = Self {
            root: root.to_path_buf(),
        };
        if !root.is_dir() {
            bail!(
                "{} is not a directory; --run expects a run directory written by `honyaku train`",
                root.display()
            );
        }
        if !run.config_path().is_file() {
            bail!(
                "{} is not a Honyaku run: it has no config.json (train one with `honyaku train \
                 --out {}`)",
                root.display(),
                root.display()
            );
        }
        Ok(run)
    }

    /// `config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// `checkpoints/`.
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// The latest checkpoint.
    pub fn last_checkpoint(&self) -> PathBuf {
        self.checkpoint_dir().join("last.bpk")
    }

    /// The checkpoint with the best validation loss.
    pub fn best_checkpoint(&self) -> PathBuf {
        self.checkpoint_dir().join("best.bpk")
    }

    /// `checkpoints/averaged.bpk`, the mean that `honyaku average` writes.
    pub fn averaged_checkpoint(&self) -> PathBuf {
        self.checkpoint_dir().join("averaged.bpk")
    }

    /// The checkpoint translation uses by default: the best one when validation ran, else the
    /// last.
    pub fn inference_checkpoint(&self) -> Result<PathBuf> {
        self.checkpoint(CheckpointChoice::Best)
    }

    /// The checkpoint `choice` names, with an error that says how to get it when it is
    /// missing. `Best` falls back to the last checkpoint of a run trained without validation.
    pub fn checkpoint(&self, choice: CheckpointChoice) -> Result<PathBuf> {
        let averaged = self.averaged_checkpoint();
        match choice {
            CheckpointChoice::Best => {
                for p in [self.best_checkpoint(), self.last_checkpoint()] {
                    if p.is_file() {
                        return Ok(p);
                    }
                }
                bail!(
                    "{} has no checkpoint yet (looked for {} and {})",
                    self.root.display(),
                    self.best_checkpoint().display(),
                    self.last_checkpoint().display()
                )
            }
            CheckpointChoice::Last if self.last_checkpoint().is_file() => {
                Ok(self.last_checkpoint())
            }
            CheckpointChoice::Last => bail!(
                "{} has no last checkpoint ({} is missing)",
                self.root.display(),
                self.last_checkpoint().display()
            ),
            CheckpointChoice::Averaged if averaged.is_file() => Ok(averaged),
            CheckpointChoice::Averaged => bail!(
                "{} has no averaged checkpoint ({} is missing); train with --keep-checkpoints N, \
                 then run honyaku average --run {} --last N",
                self.root.display(),
                averaged.display(),
                self.root.display()
            ),
        }
    }

    /// `summary.json`: what the finished training run reports.
    pub fn summary_path(&self) -> PathBuf {
        self.root.join("summary.json")
    }

    /// Saves `summary.json` atomically.
    pub fn save_summary<T: Serialize>(&self, summary: &T) -> Result<()> {
        let json = serde_json::to_string_pretty(summary)?;
        write_atomic(&self.summary_path(), json.as_bytes())
    }

    /// `metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// Saves `config.json` atomically.
    pub fn save_config(&self, config: &RunConfig) -> Result<()> {
        let json = serde_json::to_string_pretty(config)?;
        write_atomic(&self.config_path(), json.as_bytes())
    }

    /// Reads `config.json` and checks its values, so that a hand-edited file gives an error
    /// rather than a model that cannot be built.
    pub fn load_config(&self) -> Result<RunConfig> {
        let path = self.config_path();
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let config: RunConfig = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid run configuration; restore the file `honyaku train` wrote, \
                 or train the run again",
                path.display()
            )
        })?;
        config.check().with_context(|| {
            format!(
                "{} holds an impossible value; correct it, or train the run again",
                path.display()
            )
        })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_checkpoint_choice_names_its_file_or_says_how_to_make_it() {
        let root = std::env::temp_dir().join(format!("honyaku-ckpt-choice-{}", std::process::id()));
        let run = RunDir { root: root.clone() };
        fs::create_dir_all(run.checkpoint_dir()).unwrap();
        fs::write(run.last_checkpoint(), b"x").unwrap();
        // No validation ran: `best` is the last checkpoint.
        assert_eq!(
            run.checkpoint(CheckpointChoice::Best).unwrap(),
            run.last_checkpoint()
        );
        fs::write(run.best_checkpoint(), b"x").unwrap();
        assert_eq!(
            run.checkpoint(CheckpointChoice::Best).unwrap(),
            run.best_checkpoint()
        );
        assert_eq!(
            run.checkpoint(CheckpointChoice::Last).unwrap(),
            run.last_checkpoint()
        );
        let err = run
            .checkpoint(CheckpointChoice::Averaged)
            .unwrap_err()
            .to_string();
        assert!(err.contains("honyaku average --run"), "{err}");
        fs::write(run.averaged_checkpoint(), b"x").unwrap();
        assert_eq!(
            run.checkpoint(CheckpointChoice::Averaged).unwrap(),
            run.averaged_checkpoint()
        );
        fs::remove_dir_all(root).unwrap();
    }
}
