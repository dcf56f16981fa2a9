//! Data-parallel training on several devices of one backend (`train --devices N`).
//!
//! burn-train's [`MultiDevicesTrainStep`] does the parallel part: it keeps one worker thread per
//! device, forks the model onto each device and runs a [`TrainStep`] there. This module gives it
//! that step (the same token-weighted loss as gradient accumulation) and gathers the gradients
//! on the main device, where the optimizer runs, as burn-train's own multi-device strategy with
//! `OptimMainDevice` does. The training loop stays Honyaku's own (see `train.rs` for why).
//!
//! One update with `D` devices and `--accum A` consumes `A × D` batches: each round sends one
//! batch to each device, and every batch's loss is weighted by its share of the update's target
//! tokens, so the summed gradient equals the gradient of the per-token loss over all of them,
//! whatever the split.
//!
//! On the CPU backends the same workers also run row shards of one batch (`--cpu-shards S`):
//! each batch is split into `S` shards of its rows and the workers (`S` per device, all on the
//! one CPU device) back-propagate them at once, which keeps every core busy in the element-wise
//! operations that burn's CPU backends run on the calling thread. Each of those workers runs
//! its shard in a thread pool of its own with its share of the cores ([`in_shard_pool`]), so
//! that its matrix products and row passes stay on its cores instead of meeting the other
//! shards' at every operation's barrier in the shared pool. Each worker draws its dropout masks
//! from its own generator, seeded by its shard ([`with_thread_seed`]), so a run reproduces
//! them whatever the order the threads reach the device in.

use burn::data::dataloader::{DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::optim::GradientsAccumulator;
use burn::prelude::*;
use burn_train::train::MultiDevicesTrainStep;
use burn_train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};
use honyaku_core::Seq2Seq;
use honyaku_core::dropout::with_thread_seed;
use honyaku_core::shards::{in_shard_pool, is_cpu};
use honyaku_data::batcher::HostBatch;

use super::step::{Gradients, StepStats, batch_grads, batch_stats, group_tokens};

/// A model replica as burn-train's multi-device step sees it.
#[derive(Module, Debug)]
pub struct Replica<M: Seq2Seq> {
    /// The translation model.
    pub model: M,
}

/// One device's share of an update.
pub struct Shard {
    /// Position of the batch in the update's group: outputs are summed in this order, so the
    /// result does not depend on which device answers first.
    pub index: usize,
    /// The batch, on the host; the worker moves it to its device.
    pub batch: HostBatch,
    /// The batch's share of the update's target tokens.
    pub weight: f32,
    /// Label smoothing of the loss.
    pub label_smoothing: f64,
    /// Seed for the worker's device (dropout masks).
    pub seed: u64,
    /// Row shards of the batch running at once on a CPU device, each in its own thread pool
    /// ([`in_shard_pool`]); 0 on other devices (the shared pool).
    pub cpu_shards: usize,
}

/// What a worker sends back besides the gradients.
#[derive(Debug, Clone, Copy)]
pub struct ShardStats {
    /// [`Shard::index`].
    pub index: usize,
    /// Loss sums of the shard.
    pub stats: StepStats,
}

impl ItemLazy for ShardStats {
    fn sync(self) -> Result<Self, burn::tensor::ExecutionError> {
        Ok(self)
    }
}

fn replica_device<M: Module>(model: &M) -> Device {
    model.devices().into_iter().next().unwrap_or_default()
}

impl<M: Seq2Seq> TrainStep for Replica<M> {
    type Input = Shard;
    type Output = ShardStats;

    fn step(&self, shard: Shard) -> TrainOutput<ShardStats> {
        let device = replica_device(&self.model);
        // GPU dropout draws from the device's generator; the CPU's from the thread's.
        device.seed(shard.seed);
        let Shard {
            batch,
            weight,
            label_smoothing,
            seed,
            ..
        } = shard;
        let grads_of = |model: &M| {
            with_thread_seed(seed, || {
                batch_grads(model, &batch, &device, weight, label_smoothing)
            })
        };
        let Gradients { grads, stats } = match shard.cpu_shards {
            0 => grads_of(&self.model),
            // The pool's thread gets its own handle on the model (`M` is not `Sync`).
            shards => {
                let model = self.model.clone();
                in_shard_pool(shards, move || grads_of(&model))
            }
        };
        TrainOutput {
            grads,
            item: ShardStats {
                index: shard.index,
                stats,
            },
        }
    }
}

impl<M: Seq2Seq> InferenceStep for Replica<M> {
    type Input = Shard;
    type Output = ShardStats;

    /// The loss sums of a batch, without gradients.
    fn step(&self, shard: Shard) -> ShardStats {
        let device = replica_device(&self.model);
        ShardStats {
            index: shard.index,
            stats: batch_stats(&self.model, &shard.batch, &device, shard.label_smoothing),
        }
    }
}

/// A data loader of a single shard: what [`MultiDevicesTrainStep::step`] pulls from for one
/// device in one round.
struct OneShard(Option<Shard>);

impl Iterator for OneShard {
    type Item = Result<Shard, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl DataLoaderIterator<Shard> for OneShard {
    fn progress(&self) -> Progress {
        Progress::new(usize::from(self.0.is_none()), 1, None)
    }
}

/// Failure of a worker (a panic on a device, e.g. out of memory), as burn-train reports it.
#[derive(Debug, thiserror::Error)]
#[error("data-parallel training step failed: {0}")]
pub struct ParallelError(String);

/// The workers of `train --devices` and `--cpu-shards`: one per entry of `devices`, the first
/// device is the main one.
pub struct DataParallel<M: Seq2Seq> {
    step: MultiDevicesTrainStep<Replica<M>>,
    devices: Vec<Device>,
    /// Row shards per batch.
    shards: usize,
}

impl<M: Seq2Seq> DataParallel<M> {
    /// Starts one worker per device (autodiff devices of one backend), each batch whole.
    pub fn new(devices: Vec<Device>) -> Self {
        Self::sharded(devices, 1)
    }

    /// Starts `shards` workers per device, each batch split into `shards` row shards (CPU
    /// devices: the same device `shards` times is `shards` threads sharing it).
    pub fn sharded(devices: Vec<Device>, shards: usize) -> Self {
        assert!(
            !devices.is_empty(),
            "data parallel needs at least one device"
        );
        let shards = shards.max(1);
        let workers: Vec<Device> = devices
            .iter()
            .flat_map(|d| std::iter::repeat_n(d.clone(), shards))
            .collect();
        Self {
            step: MultiDevicesTrainStep::new(&workers),
            devices: workers,
            shards,
        }
    }

    /// Workers for `devices` with `shards` row shards per batch, or `None` when that is one
    /// worker (the update is then made on the calling thread).
    pub fn for_devices(devices: &[Device], shards: usize) -> Option<Self> {
        (devices.len() * shards.max(1) > 1).then(|| Self::sharded(devices.to_vec(), shards))
    }

    /// The gradients of one update over `group` (on the main device), computed
    /// `devices.len()` batches at a time, and the group's loss sums. `seed` seeds each
    /// batch's device (XOR the batch's position) for dropout.
    pub fn grads(
        &self,
        model: &M,
        group: &[HostBatch],
        label_smoothing: f64,
        seed: u64,
    ) -> Result<Gradients, ParallelError> {
        self.grads_over(model, group, group_tokens(group), label_smoothing, seed)
    }

    /// [`DataParallel::grads`] for part of an update of `total` target tokens (a rank's share
    /// in a distributed update): each batch's loss is weighted by its share of `total`.
    pub fn grads_over(
        &self,
        model: &M,
        group: &[HostBatch],
        total: usize,
        label_smoothing: f64,
        seed: u64,
    ) -> Result<Gradients, ParallelError> {
        let replica = Replica {
            model: model.clone(),
        };
        let main = &self.devices[0];
        let split: Vec<HostBatch>;
        let group = match self.shards {
            1 => group,
            s => {
                split = group.iter().flat_map(|b| b.split_rows(s)).collect();
                &split[..]
            }
        };
        // Row shards of a CPU device each keep their work on their share of the cores (all the
        // workers run on the one CPU device at once).
        let cpu_shards = match self.shards > 1 && is_cpu(main) {
            true => self.devices.len(),
            false => 0,
        };
        let mut outputs = Vec::with_capacity(group.len());
        for (round, chunk) in group.chunks(self.devices.len()).enumerate() {
            let mut loaders: Vec<Box<dyn DataLoaderIterator<Shard>>> = (0..self.devices.len())
                .map(|d| {
                    let shard = chunk.get(d).map(|batch| {
                        let index = round * self.devices.len() + d;
                        Shard {
                            index,
                            batch: batch.clone(),
                            weight: batch.n_tgt_tokens as f32 / total as f32,
                            label_smoothing,
                            seed: seed ^ index as u64,
                            cpu_shards,
                        }
                    });
                    Box::new(OneShard(shard)) as Box<dyn DataLoaderIterator<Shard>>
                })
                .collect();
            let (items, _) = self
                .step
                .step(&mut loaders, &replica)
                .map_err(|e| ParallelError(e.to_string()))?;
            outputs.extend(items.into_iter().map(|o| o.output));
        }
        outputs.sort_by_key(|o| o.item.index);
        let mut acc = GradientsAccumulator::<M>::new();
        let mut stats = StepStats::default();
        for out in outputs {
            acc.accumulate(model, out.grads.to_device(main, model));
            stats.add(&out.item.stats);
        }
        Ok(Gradients {
            grads: acc.grads(),
            stats,
        })
    }
}
