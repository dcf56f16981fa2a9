//! Row shards of a source batch, searched on several threads at once.
//!
//! burn's CPU backends run element-wise operations on the calling thread and only spread
//! matrix products and a few reductions over the cores, so one batch keeps about one core
//! busy. The rows of a batch are independent in search, so [`in_row_shards`] searches slices of
//! them on as many threads as there are shards and puts the results back in row order. GPU
//! devices get one shard: their operations already use the whole device.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use burn::prelude::*;

use crate::batch::SourceBatch;
use crate::model::Seq2Seq;

/// The most shards [`default_shards`] (and `--cpu-shards 0`) picks: only 2-core machines were
/// measured, and more shards of a batch mean smaller matrix products.
pub const MAX_DEFAULT_SHARDS: usize = 4;

/// One shard per core, at most [`MAX_DEFAULT_SHARDS`], on burn's CPU devices (flex, ndarray);
/// 1 on others.
pub fn default_shards(device: &Device) -> usize {
    if is_cpu(device) {
        cores().min(MAX_DEFAULT_SHARDS)
    } else {
        1
    }
}

/// The cores this process may use (1 when unknown).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Whether `device` is one of burn's CPU devices (with or without autodiff).
pub fn is_cpu(device: &Device) -> bool {
    #[allow(deprecated)] // ndarray is deprecated upstream but still selectable
    let ndarray = Device::ndarray();
    *device == Device::flex() || *device == ndarray
}

/// `parts` consecutive ranges covering `0..rows` whose lengths differ by at most one (fewer
/// when there are fewer rows; one empty range for no rows).
pub fn row_ranges(rows: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, rows.max(1));
    let (base, extra) = (rows / parts, rows % parts);
    let mut start = 0;
    (0..parts)
        .map(|k| {
            let end = start + base + usize::from(k < extra);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

impl SourceBatch {
    /// The rows `rows` of the batch, at the batch's padded width.
    pub fn rows(&self, rows: Range<usize>) -> SourceBatch {
        let [_, width] = self.src.dims();
        SourceBatch {
            src: self.src.clone().slice([rows.clone(), 0..width]),
            src_pad: self.src_pad.clone().slice([rows, 0..width]),
        }
    }
}

/// Runs `search` on `shards` row shards of `source`, each on its own thread (and thread pool,
/// [`in_shard_pool`]) with its own handle on the model, and returns the per-row results in row
/// order. The shards keep the batch's padded width, so each row gets the length limit it has in
/// the whole batch and the same output as `search(model, source)` (up to the rounding of
/// products of other shapes). One shard runs `search` on the calling thread.
pub fn in_row_shards<M, T, F>(model: &M, source: &SourceBatch, shards: usize, search: F) -> Vec<T>
where
    M: Seq2Seq,
    T: Send,
    F: Fn(&M, &SourceBatch) -> Vec<T> + Sync,
{
    let ranges = row_ranges(source.batch_size(), shards);
    if ranges.len() == 1 {
        return search(model, source);
    }
    let (search, running) = (&search, ranges.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|rows| {
                let (model, part) = (model.clone(), source.rows(rows));
                scope.spawn(move || in_shard_pool(running, move || search(&model, &part)))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Runs `work`, one of `shards` row shards running at once, in a thread pool of its own with
/// its share of the cores (`cores / shards` threads, at least one): the thread pool work of
/// burn-flex and the fused operations inside it (matrix products, row passes) then stays on
/// the shard's cores, and the shards run side by side without meeting at every operation's
/// barrier in the shared pool. The pool is made once per calling thread (a training worker
/// keeps its own across updates).
pub fn in_shard_pool<T: Send>(shards: usize, work: impl FnOnce() -> T + Send) -> T {
    type Pool = Option<(usize, Arc<rayon::ThreadPool>)>;
    thread_local! {
        static POOL: RefCell<Pool> = const { RefCell::new(None) };
    }
    let threads = (cores() / shards.max(1)).max(1);
    let pool = POOL.with_borrow_mut(|slot| match slot {
        Some((n, pool)) if *n == threads => Some(pool.clone()),
        _ => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .ok()?;
            let pool = Arc::new(pool);
            *slot = Some((threads, pool.clone()));
            Some(pool)
        }
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ranges_cover_the_rows_evenly() {
        assert_eq!(row_ranges(7, 3), vec![0..3, 3..5, 5..7]);
        assert_eq!(row_ranges(2, 4), vec![0..1, 1..2]);
        assert_eq!(row_ranges(5, 1), vec![0..5]);
        assert_eq!(row_ranges(5, 0), vec![0..5]);
        assert_eq!(row_ranges(0, 3), vec![0..0]);
    }

    #[test]
    fn a_shard_pool_has_the_shards_share_of_the_cores_and_gives_the_same_result() {
        use rayon::prelude::*;
        let sum = |n: u64| (0..n).into_par_iter().map(|i| i * i).sum::<u64>();
        let inside = in_shard_pool(cores(), || (rayon::current_num_threads(), sum(10_000)));
        assert_eq!(inside, (1, sum(10_000)));
        let half = in_shard_pool(2, rayon::current_num_threads);
        assert_eq!(half, (cores() / 2).max(1));
        // Two shard threads at once, each with its own pool.
        let both = std::thread::scope(|scope| {
            let a = scope.spawn(|| in_shard_pool(2, || sum(1_000)));
            let b = scope.spawn(|| in_shard_pool(2, || sum(2_000)));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(both, (sum(1_000), sum(2_000)));
        // The work runs on the pool's thread, not on the caller's (which is in no pool).
        assert_eq!(rayon::current_thread_index(), None);
        assert!(in_shard_pool(cores(), rayon::current_thread_index).is_some());
    }

    #[test]
    fn cpu_devices_get_shards_and_keep_them_with_autodiff() {
        let flex = Device::flex();
        assert!(is_cpu(&flex) && is_cpu(&flex.clone().autodiff()));
        assert_eq!(default_shards(&flex), cores().min(MAX_DEFAULT_SHARDS));
    }
}
