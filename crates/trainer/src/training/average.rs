//! Checkpoint averaging: the elementwise mean of the last N step checkpoints of a run (checkpoint
//! averaging, as in Vaswani et al. 2017 and Marian's `--keep-best`/averaging scripts), written
//! to `checkpoints/averaged.bpk`. Training keeps `checkpoints/step-K.bpk` when
//! `--keep-checkpoints N` is given.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use honyaku_core::Seq2Seq;
use honyaku_core::search::to_host_floats;

use crate::arch::ModelTask;
use crate::backend::Backend;
use crate::run::RunDir;
use crate::run::checkpoint::{load_module, save_module};
use crate::run::steps::step_checkpoints;

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

/// What [`average_last`] wrote.
#[derive(Debug, Clone)]
pub struct Averaged {
    /// The steps of the averaged checkpoints, oldest first.
    pub steps: Vec<usize>,
    /// `checkpoints/averaged.bpk`.
    pub path: PathBuf,
}

/// Averages the newest `last` step checkpoints of the run in `run_dir` into
/// `checkpoints/averaged.bpk`.
pub fn average_last(run_dir: &Path, last: usize) -> Result<Averaged> {
    let run = RunDir::open(run_dir)?;
    let config = run.load_config()?;
    let all = step_checkpoints(&run)?;
    if last == 0 {
        bail!("--last must be at least 1");
    }
    if all.len() < last {
        bail!(
            "{} has {} step checkpoints, fewer than --last {} (train with --keep-checkpoints N \
             to keep them)",
            run.root.display(),
            all.len(),
            last
        );
    }
    let chosen = &all[all.len() - last..];
    let paths: Vec<PathBuf> = chosen.iter().map(|c| c.path.clone()).collect();
    let out = run.averaged_checkpoint();
    let device = Backend::Flex.device()?;
    config.model.run(
        &device,
        AverageJob {
            paths: &paths,
            out: &out,
        },
    )?;
    Ok(Averaged {
        steps: chosen.iter().map(|c| c.step).collect(),
        path: out,
    })
}
