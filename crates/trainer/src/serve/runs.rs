//! The runs a server offers: named on the command line (`--run NAME=DIR`) or found below a
//! directory (`--runs DIR`), loaded once at start. Requests name runs, never paths.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use honyaku_data::tokenizer::Tokenizers;
use serde::Serialize;

use super::batching::{BatchConfig, WorkerHandle};
use super::metrics::Metrics;
use crate::run::RunDir;

/// A run to serve under a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// The name requests use.
    pub name: String,
    /// The run directory.
    pub dir: PathBuf,
}

/// Parses `NAME=RUN_DIR`.
pub fn parse_run_arg(arg: &str) -> Result<RunSpec, String> {
    let Some((name, dir)) = arg.split_once('=') else {
        return Err(format!("expected NAME=RUN_DIR, got '{arg}'"));
    };
    check_name(name)?;
    if dir.is_empty() {
        return Err(format!("the run directory of '{name}' is empty"));
    }
    Ok(RunSpec {
        name: name.to_string(),
        dir: PathBuf::from(dir),
    })
}

/// Run names: 1-64 characters of letters, digits, `-`, `_`, `.` and `/`.
fn check_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) {
        return Err(format!(
            "run name '{name}' must be 1-64 characters of letters, digits, '-', '_', '.' or '/'"
        ));
    }
    Ok(())
}

/// Every run directory (one with a `config.json`) below `root`, at most four levels down,
/// named by its last path component, or by its path below `root` where two share a name.
/// Runs without a checkpoint yet are skipped with a warning.
pub fn discover(root: &Path) -> Result<Vec<RunSpec>> {
    if !root.is_dir() {
        bail!("--runs {}: not a directory", root.display());
    }
    let mut dirs = Vec::new();
    walk(root, 4, &mut dirs)?;
    dirs.retain(
        |dir| match RunDir::open(dir).and_then(|r| r.inference_checkpoint()) {
            Ok(_) => true,
            Err(e) => {
                eprintln!("warning: skipping {}: {e:#}", dir.display());
                false
            }
        },
    );
    let relative = |dir: &Path| {
        let rel = dir.strip_prefix(root).unwrap_or(dir);
        let text = rel.to_string_lossy().replace('\\', "/");
        if text.is_empty() {
            "run".to_string()
        } else {
            text
        }
    };
    let last = |dir: &Path| {
        dir.file_name()
            .map_or_else(|| relative(dir), |n| n.to_string_lossy().into_owned())
    };
    let mut specs: Vec<RunSpec> = dirs
        .iter()
        .map(|dir| {
            let clash = dirs.iter().filter(|d| last(d) == last(dir)).count() > 1;
            RunSpec {
                name: if clash { relative(dir) } else { last(dir) },
                dir: dir.clone(),
            }
        })
        .collect();
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    if specs.is_empty() {
        bail!(
            "--runs {}: no trained run below it (a run directory holds config.json and \
             checkpoints/)",
            root.display()
        );
    }
    for spec in &specs {
        check_name(&spec.name).map_err(|e| anyhow::anyhow!("{}: {e}", spec.dir.display()))?;
    }
    Ok(specs)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<()> {
    if dir.join("config.json").is_file() {
        found.push(dir.to_path_buf());
        return Ok(());
    }
    if depth == 0 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        walk(&sub, depth - 1, found)?;
    }
    Ok(())
}

/// Refuses two runs of the same name.
pub fn check_unique(specs: &[RunSpec]) -> Result<()> {
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|s| s.name == spec.name) {
            bail!(
                "two runs are named '{}' ({} and another); give them distinct names with \
                 --run NAME=RUN_DIR",
                spec.name,
                spec.dir.display()
            );
        }
    }
    Ok(())
}

/// What `GET /api/runs` says about a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The name requests use.
    pub name: String,
    /// Architecture: lstm, attention or transformer.
    pub arch: String,
    /// Model parameters.
    pub parameters: usize,
    /// Source language, when given to `serve`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_lang: Option<String>,
    /// Target language, when given to `serve`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tgt_lang: Option<String>,
    /// Most source tokens per line this run accepts.
    pub max_tokens: usize,
    /// Whether the model has attention to show.
    pub has_attention: bool,
}

/// A loaded run: its description, tokenizers and worker.
pub struct LoadedRun {
    /// What `/api/runs` lists.
    pub info: RunInfo,
    /// Source and target tokenizers.
    pub tokenizers: Tokenizers,
    /// The run's maximum source length (longer lines are refused).
    pub max_len: usize,
    /// The worker that owns the model.
    pub worker: WorkerHandle,
}

/// Language labels shown for every run.
#[derive(Debug, Clone, Default)]
pub struct Langs {
    /// Source language (e.g. `en`).
    pub src: Option<String>,
    /// Target language (e.g. `ja`).
    pub tgt: Option<String>,
}

/// Loads `spec`: its configuration, tokenizers and a worker holding the model on `device`.
pub fn load(
    spec: &RunSpec,
    device: &Device,
    batching: &BatchConfig,
    langs: &Langs,
    metrics: Arc<Metrics>,
) -> Result<LoadedRun> {
    let run = RunDir::open(&spec.dir)?;
    let config = run.load_config()?;
    let tokenizers = Tokenizers::load_dir(&run.root)?;
    let checkpoint = run.inference_checkpoint()?;
    let arch = config.model.arch();
    let worker = WorkerHandle::spawn(
        &spec.name,
        config.model.clone(),
        checkpoint,
        device.clone(),
        batching.clone(),
        metrics,
    )
    .with_context(|| format!("loading run {}", spec.dir.display()))?;
    Ok(LoadedRun {
        info: RunInfo {
            name: spec.name.clone(),
            arch: arch.name().to_string(),
            parameters: worker.parameters,
            src_lang: langs.src.clone(),
            tgt_lang: langs.tgt.clone(),
            max_tokens: config.data.max_len,
            has_attention: arch != crate::arch::Arch::Lstm,
        },
        tokenizers,
        max_len: config.data.max_len,
        worker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_args_are_parsed_and_checked() {
        let spec = parse_run_arg("att=runs/att").unwrap();
        assert_eq!(spec.name, "att");
        assert_eq!(spec.dir, PathBuf::from("runs/att"));
        assert!(
            parse_run_arg("runs/att")
                .unwrap_err()
                .contains("NAME=RUN_DIR")
        );
        assert!(parse_run_arg("a b=x").unwrap_err().contains("must be 1-64"));
        assert!(parse_run_arg("a=").unwrap_err().contains("empty"));
    }

    #[test]
    fn discovery_names_runs_and_resolves_clashes() {
        let tmp = honyaku_conformance::tempdir().unwrap();
        let root = tmp.path();
        for dir in [
            "a/runs/lstm",
            "b/runs/lstm",
            "c/transformer",
            "d/unfinished",
        ] {
            std::fs::create_dir_all(root.join(dir).join("checkpoints")).unwrap();
            std::fs::write(root.join(dir).join("config.json"), "{}").unwrap();
        }
        for dir in ["a/runs/lstm", "b/runs/lstm", "c/transformer"] {
            std::fs::write(root.join(dir).join("checkpoints/last.bpk"), "").unwrap();
        }
        let specs = discover(root).unwrap();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["a/runs/lstm", "b/runs/lstm", "transformer"]);
        check_unique(&specs).unwrap();
        let twice = vec![specs[2].clone(), specs[2].clone()];
        assert!(
            check_unique(&twice)
                .unwrap_err()
                .to_string()
                .contains("two runs")
        );
    }

    #[test]
    fn discovery_of_an_empty_directory_is_an_error() {
        let tmp = honyaku_conformance::tempdir().unwrap();
        let err = discover(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("no trained run below it"), "{err}");
    }
}
