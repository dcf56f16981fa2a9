//! A communicator of threads for the unit tests: `size` ranks in one process, each a thread
//! with its own installed communicator, so the distributed code runs without MPI.

use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex};

use super::{CollectiveError, Collectives, install, uninstall};

struct Shared {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<u8>>>,
}

/// One rank of a job of threads.
pub(crate) struct ThreadComm {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
}

impl ThreadComm {
    /// Every rank's `bytes`, in rank order.
    fn all_gather(&self, bytes: Vec<u8>) -> Vec<Vec<u8>> {
        self.shared.slots.lock().unwrap()[self.rank] = bytes;
        self.shared.barrier.wait();
        let all = self.shared.slots.lock().unwrap().clone();
        self.shared.barrier.wait();
        all
    }

    /// Fails when the ranks sent different numbers of values of `width` bytes.
    fn check(&self, all: &[Vec<u8>], width: usize, what: &str) -> Result<(), CollectiveError> {
        match all.iter().position(|b| b.len() != all[0].len()) {
            Some(rank) => Err(CollectiveError::Mismatch {
                what: what.to_string(),
                rank,
                got: all[rank].len() / width,
                expected: all[0].len() / width,
            }),
            None => Ok(()),
        }
    }
}

impl Collectives for ThreadComm {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn sum_f32(&self, values: &mut [f32], what: &str) -> Result<(), CollectiveError> {
        let all = self.all_gather(values.iter().flat_map(|v| v.to_le_bytes()).collect());
        self.check(&all, 4, what)?;
        for (i, v) in values.iter_mut().enumerate() {
            let at = |r: usize| f32::from_le_bytes(all[r][4 * i..4 * i + 4].try_into().unwrap());
            *v = (1..self.size).fold(at(0), |acc, r| acc + at(r));
        }
        Ok(())
    }

    fn sum_f64(&self, values: &mut [f64], what: &str) -> Result<(), CollectiveError> {
        let all = self.all_gather(values.iter().flat_map(|v| v.to_le_bytes()).collect());
        self.check(&all, 8, what)?;
        for (i, v) in values.iter_mut().enumerate() {
            let at = |r: usize| f64::from_le_bytes(all[r][8 * i..8 * i + 8].try_into().unwrap());
            *v = (1..self.size).fold(at(0), |acc, r| acc + at(r));
        }
        Ok(())
    }

    fn broadcast(&self, bytes: Vec<u8>, _what: &str) -> Result<Vec<u8>, CollectiveError> {
        Ok(self.all_gather(bytes).swap_remove(0))
    }

    fn barrier(&self, _what: &str) -> Result<(), CollectiveError> {
        self.shared.barrier.wait();
        Ok(())
    }
}

/// Runs `f(rank)` on `size` threads, each with its rank's communicator installed, and returns
/// the results in rank order.
pub(crate) fn on_ranks<T: Send>(size: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let shared = Arc::new(Shared {
        barrier: Barrier::new(size),
        slots: Mutex::new(vec![Vec::new(); size]),
    });
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let (shared, f) = (shared.clone(), &f);
                s.spawn(move || {
                    install(Rc::new(ThreadComm { rank, size, shared }));
                    let out = f(rank);
                    uninstall();
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
