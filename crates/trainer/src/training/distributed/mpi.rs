//! [`Collectives`] over MPI (the `mpi` crate, OpenMPI or MPICH underneath).
//!
//! Sums are deterministic: a bucket is cut into one chunk per rank, every rank receives its
//! chunk from all ranks (all-to-all) and adds them in rank order, then the summed chunks are
//! gathered on every rank (all-gather). That is the bandwidth of a ring all-reduce,
//! 2(N−1)/N × the bucket per rank, with an order of addition fixed by the ranks instead of
//! by timing or by the MPI library's choice of algorithm.
//!
//! Every operation is started non-blocking and polled, so a waiting rank notices an interrupt:
//! `mpirun` sends SIGTERM to every rank when the job is stopped (Ctrl-C) or when one rank dies,
//! then SIGKILL a second later. Rank 0 then says at once which checkpoint is intact and how to
//! resume. `HONYAKU_MPI_TIMEOUT=SECONDS` aborts the job when a rank waits longer than that for
//! the others (a machine that hangs without dying); set it above the longest validation.

use std::cell::Cell;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mpi::environment::Universe;
use mpi::request::{Request, Scope, scope};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::resume_command;
use super::{CollectiveError, Collectives, run_root, say};
use crate::run::RunDir;
use crate::training::resume::{TrainState, interrupted};

/// Ends every rank of the job (MPI_Abort) with exit code `code`.
pub fn abort(code: i32) -> ! {
    SimpleCommunicator::world().abort(code)
}

/// How long a rank that was interrupted keeps waiting for the others to finish the operation
/// in progress (they stop together at the next update when they are alive).
const GRACE: Duration = Duration::from_secs(30);

/// This process's place in the MPI job. Dropping it leaves the job (MPI_Finalize).
pub struct MpiComm {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    timeout: Option<Duration>,
    stopping: Cell<bool>,
    /// When this process first saw an interrupt while waiting.
    interrupted_at: Cell<Option<Instant>>,
    // Last: finalized after everything else is dropped.
    _universe: Universe,
}

impl MpiComm {
    /// Joins the job `mpirun` started (a process started alone is a job of one rank).
    pub fn init() -> Result<Self> {
        let Some((universe, _level)) = mpi::initialize_with_threading(mpi::Threading::Funneled)
        else {
            bail!("MPI was initialised already in this process");
        };
        let world = universe.world();
        let timeout = match std::env::var("HONYAKU_MPI_TIMEOUT") {
            Ok(v) => Some(Duration::from_secs_f64(
                v.parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0)
                    .with_context(|| {
                        format!("HONYAKU_MPI_TIMEOUT={v} is not a positive number of seconds")
                    })?,
            )),
            Err(_) => None,
        };
        Ok(Self {
            rank: world.rank() as usize,
            size: world.size() as usize,
            world,
            timeout,
            stopping: Cell::new(false),
            interrupted_at: Cell::new(None),
            _universe: universe,
        })
    }

    /// The machine's name as MPI knows it.
    pub fn host(&self) -> String {
        mpi::environment::processor_name().unwrap_or_else(|_| "?".into())
    }

    /// Polls `req` until it completes; see the module documentation for interrupts and the
    /// timeout.
    fn wait<'a, D: ?Sized, S: Scope<'a>>(&self, mut req: Request<'a, D, S>, what: &str) {
        let start = Instant::now();
        let mut polls = 0u32;
        loop {
            match req.test() {
                Ok(_) => return,
                Err(r) => req = r,
            }
            if interrupted() {
                let since = self.interrupted_at.get().unwrap_or_else(|| {
                    self.say_interrupted(what);
                    let now = Instant::now();
                    self.interrupted_at.set(Some(now));
                    now
                });
                if since.elapsed() > GRACE && !self.stopping.get() {
                    std::process::exit(130);
                }
            }
            if let Some(limit) = self.timeout
                && start.elapsed() > limit
            {
                say(&format!(
                    "rank {}: no answer from the other ranks for {:.0} s while waiting for {what} \
                     (HONYAKU_MPI_TIMEOUT); aborting the job",
                    self.rank,
                    limit.as_secs_f64()
                ));
                self.say_where_to_resume();
                abort(1);
            }
            polls += 1;
            if polls < 200 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    fn say_interrupted(&self, what: &str) {
        say(&format!(
            "rank {}: interrupted while waiting for the other ranks ({what}): the job is being \
             stopped (Ctrl-C, SIGTERM), or a rank was lost",
            self.rank
        ));
        self.say_where_to_resume();
    }

    /// Rank 0: which checkpoint is intact and the command that continues the run.
    fn say_where_to_resume(&self) {
        if self.rank != 0 {
            return;
        }
        let Some(root) = run_root() else {
            return;
        };
        // Read as it is: TrainState::load would also finish an interrupted save.
        let step = std::fs::read_to_string(TrainState::path(&RunDir { root: root.clone() }))
            .ok()
            .and_then(|text| serde_json::from_str::<TrainState>(&text).ok())
            .map_or_else(|| "?".into(), |s| s.step.to_string());
        say(&format!(
            "rank 0: the last checkpoint, step {step} in {}, is intact; continue with: {}",
            root.display(),
            resume_command(&root)
        ));
    }

    /// Every rank's `send` (all the same length), rank after rank.
    fn all_gather<T: Equivalence + Copy + Default>(&self, send: &[T], what: &str) -> Vec<T> {
        let mut recv = vec![T::default(); send.len() * self.size];
        scope(|s| {
            let req = self.world.immediate_all_gather_into(s, send, &mut recv[..]);
            self.wait(req, what);
        });
        recv
    }

    /// Fails when the ranks' lengths differ.
    fn check_lengths(&self, len: usize, what: &str) -> Result<(), CollectiveError> {
        let lengths = self.all_gather(&[len as u64], what);
        match lengths.iter().position(|&l| l != lengths[0]) {
            Some(rank) => Err(CollectiveError::Mismatch {
                what: what.to_string(),
                rank,
                got: lengths[rank] as usize,
                expected: lengths[0] as usize,
            }),
            None => Ok(()),
        }
    }
}

impl Collectives for MpiComm {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn sum_f32(&self, values: &mut [f32], what: &str) -> Result<(), CollectiveError> {
        let n = self.size;
        if n == 1 {
            return Ok(());
        }
        let chunk = values.len().div_ceil(n);
        let mut send = values.to_vec();
        send.resize(chunk * n, 0.0);
        // recv[r·chunk..]: rank r's values of this rank's chunk.
        let mut recv = vec![0.0f32; chunk * n];
        scope(|s| {
            let req = self
                .world
                .immediate_all_to_all_into(s, &send[..], &mut recv[..]);
            self.wait(req, what);
        });
        let mut mine = recv[..chunk].to_vec();
        for r in 1..n {
            for (m, v) in mine.iter_mut().zip(&recv[r * chunk..(r + 1) * chunk]) {
                *m += v;
            }
        }
        let all = self.all_gather(&mine, what);
        values.copy_from_slice(&all[..values.len()]);
        Ok(())
    }

    fn sum_f64(&self, values: &mut [f64], what: &str) -> Result<(), CollectiveError> {
        self.check_lengths(values.len(), what)?;
        let all = self.all_gather(values, what);
        let len = values.len();
        for (i, v) in values.iter_mut().enumerate() {
            *v = (1..self.size).fold(all[i], |acc, r| acc + all[r * len + i]);
        }
        Ok(())
    }

    fn broadcast(&self, bytes: Vec<u8>, what: &str) -> Result<Vec<u8>, CollectiveError> {
        let root = self.world.process_at_rank(0);
        let mut len = [bytes.len() as u64];
        scope(|s| {
            let req = root.immediate_broadcast_into(s, &mut len[..]);
            self.wait(req, what);
        });
        let mut buf = if self.rank == 0 {
            bytes
        } else {
            vec![0u8; len[0] as usize]
        };
        scope(|s| {
            let req = root.immediate_broadcast_into(s, &mut buf[..]);
            self.wait(req, what);
        });
        Ok(buf)
    }

    fn barrier(&self, what: &str) -> Result<(), CollectiveError> {
        // Past the agreed stop, a rank waits here for rank 0 to save, however long it takes.
        self.stopping.set(true);
        let req = self.world.immediate_barrier();
        self.wait(req, what);
        Ok(())
    }
}
