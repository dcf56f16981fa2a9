//! This process's part in a distributed job: `MPI_Init`, rank 0 running the ordinary `train`
//! (and alone writing the run directory) or another rank following it, then `MPI_Finalize`.
//!
//! An error on any rank aborts the whole job (`MPI_Abort`), since the others would wait for it
//! forever; a stop (Ctrl-C, SIGTERM, the time budget) is agreed by all ranks before the next
//! update, so that every rank stops at the same step and rank 0 saves it.

use anyhow::Result;

use super::Distributed;

/// The refusal of a build without the `mpi` feature.
pub const NO_MPI: &str = "--distributed mpi needs a honyaku built with MPI support, and this \
     one was built without it. Install an MPI library and build with the `mpi` feature \
     (Debian/Ubuntu: `apt-get install libopenmpi-dev openmpi-bin clang libclang-dev`, then \
     `cargo build --release -p honyaku --features mpi`), and start one process per machine \
     with `mpirun -np N honyaku train --distributed mpi ...`";

/// Runs this process's part of a distributed `train`: `leader` (the ordinary command) on rank
/// 0, the follower on the others.
pub fn run(kind: Distributed, leader: impl FnOnce() -> Result<()>) -> Result<()> {
    match kind {
        Distributed::Mpi => run_mpi(leader),
    }
}

#[cfg(not(feature = "mpi"))]
fn run_mpi(_leader: impl FnOnce() -> Result<()>) -> Result<()> {
    anyhow::bail!("{NO_MPI}")
}

#[cfg(feature = "mpi")]
fn run_mpi(leader: impl FnOnce() -> Result<()>) -> Result<()> {
    use super::{Collectives, finalize, say};

    let comm = super::mpi::MpiComm::init()?;
    let (rank, size) = (comm.rank(), comm.size());
    say(&format!(
        "mpi: rank {rank} of {size}, pid {} on {}",
        std::process::id(),
        comm.host()
    ));
    // The only owner from here: `finalize` drops it, which leaves the job (MPI_Finalize).
    super::install(std::rc::Rc::new(comm));
    let result = if rank == 0 {
        leader()
    } else {
        super::follow::follow()
    };
    match result {
        Ok(()) => {
            finalize();
            Ok(())
        }
        Err(e) if size > 1 => {
            say(&format!("error: rank {rank}: {e:#}"));
            say(&format!("rank {rank}: aborting every rank of the job"));
            super::mpi::abort(1)
        }
        Err(e) => {
            finalize();
            Err(e)
        }
    }
}

#[cfg(all(test, not(feature = "mpi")))]
mod tests {
    use super::*;

    #[test]
    fn a_build_without_mpi_refuses_with_how_to_build_it_and_runs_nothing() {
        let mut ran = false;
        let err = run(Distributed::Mpi, || {
            ran = true;
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert!(!ran);
        assert!(err.contains("--features mpi"), "{err}");
        assert!(err.contains("mpirun -np N"), "{err}");
    }
}
