//! Data parallel across processes (`honyaku train --distributed mpi`): every process (rank)
//! holds the whole model, trains on its own slice of every update's batches and sums the
//! gradients with the others before the same optimizer update on every rank.
//!
//! The parts:
//! - [`Collectives`] (here): what the training loop needs from a communicator (sums that give
//!   the same bits on every rank whatever the timing, a broadcast from rank 0), installed per
//!   thread. The MPI implementation is `mpi.rs`, behind the `mpi` cargo feature, so the default
//!   build needs no MPI library; `testing.rs` has one of threads for the unit tests.
//! - [`grads`]: the gradient exchange: gradients flattened into buckets, summed in rank order.
//! - [`hooks`]: what the training loop calls (`training/job.rs`, each call marked
//!   `[distributed]`); without a distributed job they do what a single process does.
//! - [`bundle`]: what rank 0 sends the others before training (configuration, counters,
//!   tokenizers); `follow.rs`: a rank other than 0, training from that; `session.rs`: the
//!   process's part in the job, from `MPI_Init` to `MPI_Finalize` or `MPI_Abort`.
//!
//! The communicator is installed per thread (MPI is driven from the main thread only): a job
//! that runs on another thread trains as a single process.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use crate::training::resume::resume_hint;

pub mod bundle;
mod follow;
pub mod grads;
pub mod hooks;
#[cfg(feature = "mpi")]
mod mpi;
mod session;

pub use session::{NO_MPI, run};

/// How `train` runs across processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Distributed {
    /// One process per machine (or GPU) started by `mpirun`; needs a build with `--features mpi`.
    Mpi,
}

/// A failed collective operation.
#[derive(Debug, thiserror::Error)]
pub enum CollectiveError {
    /// The ranks sent buffers of different lengths (they disagree about the model or the data).
    #[error("rank {rank} sent {got} values to `{what}`, rank 0 sent {expected}")]
    Mismatch {
        /// The operation.
        what: String,
        /// The rank that differs.
        rank: usize,
        /// Its length.
        got: usize,
        /// Rank 0's length.
        expected: usize,
    },
}

/// The operations the training loop needs from a communicator of `size` ranks. Every rank calls
/// the same operations in the same order.
pub trait Collectives {
    /// This process's rank, `0..size`.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// Element-wise sum of `values` over all ranks, in place; every rank gets the same bits:
    /// each element is added in rank order (0, 1, …), whatever the timing. All ranks pass the
    /// same length. Large buffers: `grads.rs` cuts them into buckets first.
    fn sum_f32(&self, values: &mut [f32], what: &str) -> Result<(), CollectiveError>;
    /// [`Collectives::sum_f32`] in double precision, for short vectors (loss sums, flags).
    fn sum_f64(&self, values: &mut [f64], what: &str) -> Result<(), CollectiveError>;
    /// Rank 0's `bytes` on every rank (the other ranks' argument is ignored).
    fn broadcast(&self, bytes: Vec<u8>, what: &str) -> Result<Vec<u8>, CollectiveError>;
    /// Waits for every rank.
    fn barrier(&self, what: &str) -> Result<(), CollectiveError>;
}

/// The communicator of this thread's job and what rank 0 reports about it.
struct Installed {
    comm: Rc<dyn Collectives>,
    /// Rank 0's run directory, named by its messages when the job is stopped.
    run_root: Option<PathBuf>,
    /// Bytes of gradients summed per update (the last update's), for the report.
    grad_bytes: usize,
    /// Gradient exchanges made and the seconds they took (waiting for slower ranks included).
    exchanges: ExchangeTime,
}

/// The time the gradient exchanges of a job took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExchangeTime {
    /// Exchanges (updates).
    pub count: usize,
    /// Seconds in them, waiting for the other ranks included.
    pub seconds: f64,
}

thread_local! {
    static INSTALLED: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Makes `comm` the communicator of this thread's training job.
pub fn install(comm: Rc<dyn Collectives>) {
    INSTALLED.with(|i| {
        *i.borrow_mut() = Some(Installed {
            comm,
            run_root: None,
            grad_bytes: 0,
            exchanges: ExchangeTime::default(),
        })
    });
}

/// Removes this thread's communicator (the job is over).
pub fn uninstall() {
    INSTALLED.with(|i| i.borrow_mut().take());
}

/// This thread's communicator, if it runs a distributed job of more than one rank.
pub fn comm() -> Option<Rc<dyn Collectives>> {
    INSTALLED.with(|i| i.borrow().as_ref().map(|i| i.comm.clone()))
}

/// This process's rank (0 without a distributed job).
pub fn rank() -> usize {
    comm().map_or(0, |c| c.rank())
}

/// Ranks of the job (1 without a distributed job).
pub fn world_size() -> usize {
    comm().map_or(1, |c| c.size())
}

/// Whether this process writes the run directory, validates and reports: rank 0, or a
/// process that is not part of a distributed job.
pub fn is_leader() -> bool {
    rank() == 0
}

/// Records rank 0's run directory for the messages of a stopped job.
pub(crate) fn set_run_root(root: PathBuf) {
    INSTALLED.with(|i| {
        if let Some(i) = i.borrow_mut().as_mut() {
            i.run_root = Some(root);
        }
    });
}

/// Rank 0's run directory, once known.
pub fn run_root() -> Option<PathBuf> {
    INSTALLED.with(|i| i.borrow().as_ref().and_then(|i| i.run_root.clone()))
}

/// Bytes of gradients the last update summed across ranks (0 without a distributed job).
pub fn grad_bytes_per_update() -> usize {
    INSTALLED.with(|i| i.borrow().as_ref().map_or(0, |i| i.grad_bytes))
}

/// The gradient exchanges of this job so far.
pub fn exchange_time() -> ExchangeTime {
    INSTALLED.with(|i| {
        i.borrow()
            .as_ref()
            .map_or_else(ExchangeTime::default, |i| i.exchanges)
    })
}

/// Records an exchange of `bytes` that took `seconds`.
fn record_exchange(bytes: usize, seconds: f64) {
    INSTALLED.with(|i| {
        if let Some(i) = i.borrow_mut().as_mut() {
            i.grad_bytes = bytes;
            i.exchanges.count += 1;
            i.exchanges.seconds += seconds;
        }
    });
}

/// Writes `line` and a newline to stderr in one write, so that the lines of several ranks,
/// which `mpirun` forwards into one stream, do not interleave.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// The command that continues the run in `root`: under `mpirun` for a distributed job.
pub fn resume_command(root: &std::path::Path) -> String {
    match world_size() {
        1 => resume_hint(root),
        n => format!(
            "mpirun -np {n} honyaku train --distributed mpi --resume {}",
            root.display()
        ),
    }
}

/// Ends this process's part of a distributed job (a no-op without one): rank 0 reports the time
/// of the gradient exchanges, every rank waits for the others (rank 0 may still be saving), then
/// leaves the job (MPI_Finalize, when the communicator is dropped).
pub fn finalize() {
    if let Some(comm) = comm() {
        let time = exchange_time();
        if comm.rank() == 0 && time.count > 0 {
            say(&format!(
                "mpi: {} gradient exchanges of {} bytes took {:.2} s, {:.1} ms each (waiting for \
                 the other ranks included)",
                time.count,
                grad_bytes_per_update(),
                time.seconds,
                1000.0 * time.seconds / time.count as f64
            ));
        }
        // An error here means the job is gone already; there is nothing left to wait for.
        let _ = comm.barrier("the end of training");
    }
    uninstall();
}

#[cfg(test)]
pub(crate) mod testing;
