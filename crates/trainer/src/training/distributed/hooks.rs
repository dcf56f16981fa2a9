//! The hooks of the training loop (`training/job.rs`, each call marked `[distributed]`): without
//! a distributed job they do what a single process does.

use anyhow::Result;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use honyaku_data::batcher::HostBatch;

pub use super::grads::all_reduce_grads;
use super::{comm, rank};
pub use super::{is_leader, world_size};
use crate::run::checkpoint::{load_module, module_bytes, optimizer_bytes};
use crate::training::summary::StopReason;

/// [distributed] This rank's share of an update's `group` of batches: contiguous, disjoint
/// slices, rank 0 first, the first `len % size` ranks one batch more (a short last group of an
/// epoch may leave a rank none). Every rank reads the same seeded batch order.
pub fn rank_share(group: &[HostBatch]) -> &[HostBatch] {
    let (rank, size) = (rank(), world_size());
    let range = share_range(group.len(), rank, size);
    &group[range]
}

/// The indices of rank `rank`'s share of `len` items over `size` ranks.
pub fn share_range(len: usize, rank: usize, size: usize) -> std::ops::Range<usize> {
    let (base, extra) = (len / size, len % size);
    let start = rank * base + rank.min(extra);
    start..start + base + usize::from(rank < extra)
}

/// [distributed] The device seed of this rank for a step seed: rank 0 keeps it (a single
/// process is rank 0), the others draw other dropout masks for their other batches.
pub fn rank_seed(seed: u64) -> u64 {
    seed ^ (rank() as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// [distributed] Rank 0's module on every rank, through its checkpoint bytes.
pub fn share_module<M: Module>(module: M, what: &str) -> Result<M> {
    let Some(comm) = comm() else {
        return Ok(module);
    };
    let bytes = if comm.rank() == 0 {
        module_bytes(&module)?
    } else {
        Vec::new()
    };
    let bytes = comm.broadcast(bytes, what)?;
    if comm.rank() == 0 {
        return Ok(module);
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("{what}: rank 0 sent a damaged module ({e})"))?;
    module
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{what}: rank 0's module does not fit this rank's ({e})"))
}

/// [distributed] The start of training on every rank: rank 0's weights and, for a resumed run,
/// its optimizer state (rank 0 loaded both from its run directory).
pub fn share_start<M: Module>(
    model: M,
    optim: ModuleOptimizer,
    resume: bool,
) -> Result<(M, ModuleOptimizer)> {
    let Some(comm) = comm() else {
        return Ok((model, optim));
    };
    let model = share_module(model, "the initial weights")?;
    if !resume {
        return Ok((model, optim));
    }
    let bytes = if comm.rank() == 0 {
        optimizer_bytes(&optim)?
    } else {
        Vec::new()
    };
    let bytes = comm.broadcast(bytes, "the optimizer state")?;
    if comm.rank() == 0 {
        return Ok((model, optim));
    }
    let optim = optim
        .from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow::anyhow!("the optimizer state from rank 0 is damaged ({e})"))?;
    Ok((model, optim))
}

/// [distributed] Loads the checkpoint `path` on rank 0 (the only rank with the run directory)
/// and gives its weights to every rank; a single process just loads it.
pub fn load_shared<M: Module>(module: M, path: &std::path::Path) -> Result<M> {
    let module = if is_leader() {
        load_module(module, path)?
    } else {
        module
    };
    share_module(module, "the reloaded checkpoint")
}

/// [distributed] The stop decision of every rank for the next update: each rank's own reason
/// (its interrupt flag, its clock) and the most urgent of all of them wins, so every rank stops
/// at the same step. Without a distributed job, `local`.
pub fn agree_stop(local: Option<StopReason>) -> Result<Option<StopReason>> {
    let Some(comm) = comm() else {
        return Ok(local);
    };
    // From the least urgent to the most; one slot each: how many ranks want it.
    let reasons = [
        StopReason::Completed,
        StopReason::TimeBudget,
        StopReason::EarlyStopped,
        StopReason::Interrupted,
    ];
    let mut votes = reasons.map(|r| f64::from(u8::from(local == Some(r))));
    comm.sum_f64(&mut votes, "the stop decision")?;
    Ok((0..reasons.len())
        .rev()
        .find(|&i| votes[i] > 0.0)
        .map(|i| reasons[i]))
}

/// [distributed] Rank 0's outcome of a validation on every rank: whether to stop early and the
/// learning-rate factor (the `plateau` schedule changes it).
pub fn agree_on_validation(stop: bool, lr_scale: &mut f64) -> Result<bool> {
    let Some(comm) = comm() else {
        return Ok(stop);
    };
    let mut bytes = Vec::with_capacity(9);
    bytes.push(u8::from(stop));
    bytes.extend_from_slice(&lr_scale.to_le_bytes());
    let got = comm.broadcast(bytes, "the validation outcome")?;
    let (flag, scale) = got
        .split_first()
        .filter(|(_, s)| s.len() == 8)
        .ok_or_else(|| {
            anyhow::anyhow!("rank 0 sent a validation outcome of {} bytes", got.len())
        })?;
    *lr_scale = f64::from_le_bytes(scale.try_into().expect("8 bytes"));
    Ok(*flag != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::distributed::{testing, uninstall};

    #[test]
    fn shares_are_disjoint_cover_everything_and_differ_by_at_most_one() {
        for len in 0..12 {
            for size in 1..5 {
                let ranges: Vec<_> = (0..size).map(|r| share_range(len, r, size)).collect();
                let mut next = 0;
                for r in &ranges {
                    assert_eq!(r.start, next, "len {len} size {size}: {ranges:?}");
                    next = r.end;
                }
                assert_eq!(next, len);
                let sizes: Vec<usize> = ranges.iter().map(|r| r.len()).collect();
                let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(max - min <= 1, "{sizes:?}");
            }
        }
    }

    #[test]
    fn without_a_job_the_hooks_act_as_one_process() {
        uninstall();
        assert_eq!((rank(), world_size(), is_leader()), (0, 1, true));
        assert_eq!(rank_seed(77), 77);
        assert_eq!(
            agree_stop(Some(StopReason::TimeBudget)).unwrap(),
            Some(StopReason::TimeBudget)
        );
        let mut scale = 0.5;
        assert!(agree_on_validation(true, &mut scale).unwrap());
        assert_eq!(scale, 0.5);
    }

    #[test]
    fn every_rank_stops_for_the_most_urgent_reason_of_any() {
        let decisions = testing::on_ranks(3, |rank| {
            let local = match rank {
                0 => None,
                1 => Some(StopReason::Interrupted),
                _ => Some(StopReason::TimeBudget),
            };
            agree_stop(local).unwrap()
        });
        assert_eq!(decisions, vec![Some(StopReason::Interrupted); 3]);
        let none = testing::on_ranks(2, |_| agree_stop(None).unwrap());
        assert_eq!(none, vec![None, None]);
    }

    #[test]
    fn rank_zeros_validation_outcome_reaches_every_rank() {
        let outcomes = testing::on_ranks(3, |rank| {
            let mut scale = if rank == 0 { 0.25 } else { 1.0 };
            let stop = agree_on_validation(rank == 0, &mut scale).unwrap();
            (stop, scale)
        });
        assert_eq!(outcomes, vec![(true, 0.25); 3]);
    }
}
