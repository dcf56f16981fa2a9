//! `honyaku average`: the elementwise mean of the last N step checkpoints of a run (checkpoint
//! averaging, as in Vaswani et al. 2017 and Marian's `--keep-best`/averaging scripts), written
//! to `checkpoints/averaged.bpk`. Training keeps `checkpoints/step-K.bpk` when
//! `--keep-checkpoints N` is given.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use honyaku_core::Seq2Seq;
use honyaku_core::search::to_host_floats;

use crate::arch::ModelTask;
use crate::backend::Backend;
use crate::checkpoint::{load_module, save_module};
use crate::cli::AverageArgs;
use crate::run::RunDir;

/// `checkpoints/step-K.bpk`.
pub fn step_checkpoint(run: &RunDir, step: usize) -> PathBuf {
    run.checkpoint_dir().join(format!("step-{step}.bpk"))
}

/// `checkpoints/averaged.bpk`.
pub fn averaged_checkpoint(run: &RunDir) -> PathBuf {
    run.checkpoint_dir().join("averaged.bpk")
}

/// The step checkpoints of `run`, oldest first.
pub fn step_checkpoints(run: &RunDir) -> Result<Vec<(usize, PathBuf)>> {
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
            found.push((step, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Removes all but the newest `keep` step checkpoints.
pub fn prune_step_checkpoints(run: &RunDir, keep: usize) -> Result<()> {
    let all = step_checkpoints(run)?;
    let excess = all.len().saturating_sub(keep);
    for (_, path) in &all[..excess] {
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

struct Collect(Vec<Vec<f32>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(to_host_floats(param.val()));
    }
}

struct Assign {
    values: std::vec::IntoIter<Vec<f32>>,
}

impl ModuleMapper for Assign {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let values = self
            .values
            .next()
            .expect("same parameters in every checkpoint");
        param.map(|t| {
            let device = t.device();
            Tensor::from_data(TensorData::new(values, t.shape()), &device)
        })
    }
}

/// The elementwise mean of the parameters in `paths`, loaded into `model` (which fixes the
/// architecture).
pub fn average_checkpoints<M: Module>(model: M, paths: &[PathBuf]) -> Result<M> {
    if paths.is_empty() {
        bail!("no checkpoints to average");
    }
    let mut sums: Option<Vec<Vec<f32>>> = None;
    let mut last = model.clone();
    for path in paths {
        let loaded = load_module(model.clone(), path)?;
        let mut c = Collect(Vec::new());
        loaded.visit(&mut c);
        match &mut sums {
            None => sums = Some(c.0),
            Some(s) => {
                for (acc, v) in s.iter_mut().zip(c.0) {
                    for (a, x) in acc.iter_mut().zip(v) {
                        *a += x;
                    }
                }
            }
        }
        last = loaded;
    }
    let n = paths.len() as f32;
    let mut means = sums.unwrap_or_default();
    for v in &mut means {
        for x in v.iter_mut() {
            *x /= n;
        }
    }
    Ok(last.map(&mut Assign {
        values: means.into_iter(),
    }))
}

struct AverageJob<'a> {
    paths: &'a [PathBuf],
    out: &'a Path,
}

impl ModelTask for AverageJob<'_> {
    type Output = Result<()>;

    fn run<M: Seq2Seq>(self, model: M) -> Result<()> {
        let averaged = average_checkpoints(model, self.paths)?;
        save_module(&averaged, self.out)
    }
}

/// Runs `honyaku average`.
pub fn run(args: AverageArgs) -> Result<()> {
    let run = RunDir::open(&args.run)?;
    let config = run.load_config()?;
    let all = step_checkpoints(&run)?;
    if args.last == 0 {
        bail!("--last must be at least 1");
    }
    if all.len() < args.last {
        bail!(
            "{} has {} step checkpoints, fewer than --last {} (train with --keep-checkpoints N \
             to keep them)",
            run.root.display(),
            all.len(),
            args.last
        );
    }
    let chosen = &all[all.len() - args.last..];
    let paths: Vec<PathBuf> = chosen.iter().map(|(_, p)| p.clone()).collect();
    let out = averaged_checkpoint(&run);
    let device = Backend::Flex.device()?;
    config.model.run(
        &device,
        AverageJob {
            paths: &paths,
            out: &out,
        },
    )?;
    let steps: Vec<String> = chosen.iter().map(|(s, _)| s.to_string()).collect();
    eprintln!("averaged steps {} into {}", steps.join(", "), out.display());
    Ok(())
}
