//! The run directory: where a run's configuration, tokenizers, checkpoints and metrics live.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::atomic::write_atomic;
use super::config::RunConfig;

/// Paths inside a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory itself.
    pub root: PathBuf,
}

impl RunDir {
    /// Creates a new run directory; refuses to reuse one that holds a run unless `overwrite`.
    pub fn create(root: &Path, overwrite: bool) -> Result<Self> {
        Self::check_new(root, overwrite)?;
        let run = Self {
            root: root.to_path_buf(),
        };
        if run.config_path().exists() {
            for p in [run.checkpoint_dir(), run.metrics_path()] {
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

    /// The checkpoint translation uses: the best one when validation ran, else the last.
    pub fn inference_checkpoint(&self) -> Result<PathBuf> {
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
