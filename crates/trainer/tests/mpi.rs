//! `honyaku train --distributed mpi` under `mpirun -np 2 --oversubscribe` on one machine (built
//! with `--features mpi`; `scripts/test.sh` installs OpenMPI and runs these): two processes with
//! half the batches each equal one process with all of them, and a killed rank ends the job with
//! a clear error and a run that resumes. Every child process runs in its own process group and
//! is killed with it when a deadline passes or a test fails.

#![cfg(feature = "mpi")]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use honyaku::arch::ModelTask;
use honyaku::run::RunDir;
use honyaku::run::checkpoint::load_module;
use honyaku::training::resume::TrainState;
use honyaku_conformance::tempdir;
use honyaku_core::Seq2Seq;
use honyaku_core::search::to_host_floats;

use common::synth;

/// A child process group, killed when dropped.
struct Job(Child);

impl Drop for Job {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(Some(_))) {
            return;
        }
        // mpirun stops its ranks (which run in process groups of their own) on SIGTERM; the
        // group is killed if it has not ended 10 s later.
        let pgid = self.0.id() as i32;
        // SAFETY: signals the process (group) this test started.
        unsafe { libc::kill(pgid, libc::SIGTERM) };
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// A command in its own process group, root allowed for OpenMPI.
fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.process_group(0)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    cmd
}

/// `mpirun -np N honyaku train --distributed mpi ARGS` (two ranks on two cores: oversubscribed,
/// not bound, so each rank may use both cores as a single process does).
fn mpirun(n: usize, args: &[String]) -> Command {
    let mut cmd = command("mpirun");
    cmd.args([
        "--oversubscribe",
        "--bind-to",
        "none",
        "-np",
        &n.to_string(),
    ])
    .arg(env!("CARGO_BIN_EXE_honyaku"))
    .args(["train", "--distributed", "mpi"])
    .args(args);
    cmd
}

/// Runs `cmd` to the end, killing it after `limit`.
fn run(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the command (is OpenMPI's mpirun installed?)");
    let mut job = Job(child);
    let (mut out, mut err) = (job.0.stdout.take().unwrap(), job.0.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut o = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut o).unwrap();
        o
    });
    let err_reader = std::thread::spawn(move || {
        let mut e = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut e).unwrap();
        e
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = job.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            t0.elapsed() < limit,
            "the command ran past {limit:?}: {cmd:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The flags of a tiny LSTM run (no dropout) on the corpus in `corpus`, written to `out`.
fn train_args(corpus: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--arch".into(),
        "lstm".into(),
        "--preset".into(),
        "tiny".into(),
        "--train-src".into(),
        corpus.join("train.src").display().to_string(),
        "--train-tgt".into(),
        corpus.join("train.tgt").display().to_string(),
        "--max-tokens".into(),
        "256".into(),
        "--vocab-size".into(),
        "100".into(),
        "--lr".into(),
        "0.01".into(),
        "--quiet".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Every float parameter of a module, flattened.
struct Collect(Vec<f32>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.extend(to_host_floats(param.val()));
    }
}

/// The weights of a run's `last.bpk`.
struct LastWeights(PathBuf);

impl ModelTask for LastWeights {
    type Output = Vec<f32>;

    fn run<M: Seq2Seq>(self, model: M) -> Vec<f32> {
        let run = RunDir { root: self.0 };
        let model = load_module(model, &run.last_checkpoint()).unwrap();
        let mut c = Collect(Vec::new());
        model.visit(&mut c);
        c.0
    }
}

fn last_weights(root: &Path) -> Vec<f32> {
    let run = RunDir {
        root: root.to_path_buf(),
    };
    let config = run.load_config().unwrap();
    config
        .model
        .run(&Device::flex(), LastWeights(root.to_path_buf()))
}

/// One process with `accum` batches per update against `mpirun -np 2` with `accum / 2` per
/// rank (and `devices` devices per rank): the final weights agree.
fn two_ranks_match_one_process(devices: usize, accum_one: usize, steps: usize) {
    let dir = tempdir().unwrap();
    let (corpus, one, two) = (
        dir.path().join("corpus"),
        dir.path().join("one"),
        dir.path().join("two"),
    );
    synth(&corpus, "copy", "300");
    let steps_s = steps.to_string();
    let accum = accum_one.to_string();
    let out = run(
        command(env!("CARGO_BIN_EXE_honyaku"))
            .arg("train")
            .args(train_args(
                &corpus,
                &one,
                &["--max-steps", &steps_s, "--accum", &accum],
            ))
            .to_owned_command(),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "{}", text(&out));
    let per_rank = (accum_one / 2 / devices).to_string();
    let devices_s = devices.to_string();
    let tokenizers = one.display().to_string();
    let out = run(
        mpirun(
            2,
            &train_args(
                &corpus,
                &two,
                &[
                    "--max-steps",
                    &steps_s,
                    "--accum",
                    &per_rank,
                    "--devices",
                    &devices_s,
                    "--tokenizers-from",
                    &tokenizers,
                ],
            ),
        ),
        Duration::from_secs(300),
    );
    let stderr = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("mpi: rank 1 of 2"), "{stderr}");
    // Only rank 0 wrote the run: one summary, one metrics log, the same step count.
    let state = TrainState::load(&RunDir { root: two.clone() }).unwrap();
    assert_eq!(state.step, steps);
    assert!(two.join("summary.json").is_file());
    let (a, b) = (last_weights(&one), last_weights(&two));
    assert_eq!(a.len(), b.len());
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    eprintln!(
        "devices {devices}, {accum_one} batches per update, {steps} updates: max |w1 - w2| = \
         {diff:e} over {} weights",
        a.len()
    );
    assert!(diff <= 1e-5, "weights differ by {diff}");
    // The gradient bytes rank 0 reports are 4 per parameter.
    let at = stderr
        .find("mpi: summing")
        .unwrap_or_else(|| panic!("no exchange report: {stderr}"));
    let line = stderr[at..].lines().next().unwrap();
    let bytes: usize = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(bytes, 4 * a.len(), "{line}");
}

/// `Command` has no `Clone`; this takes the built one out of a `&mut` chain.
trait Owned {
    fn to_owned_command(&mut self) -> Command;
}

impl Owned for Command {
    fn to_owned_command(&mut self) -> Command {
        std::mem::replace(self, Command::new("true"))
    }
}

#[test]
fn two_processes_with_half_the_batches_each_equal_one_process_with_all_of_them() {
    two_ranks_match_one_process(1, 2, 8);
}

#[test]
fn two_processes_of_two_devices_each_equal_one_process_accumulating_four_batches() {
    two_ranks_match_one_process(2, 4, 5);
}

/// Reads the lines of `stream` into a shared buffer in the background.
fn collect_lines(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    lines
}

/// The pid rank 1 printed, once `mpirun` has forwarded the line (which may land inside a line
/// of rank 0's that was written in pieces).
fn rank1_pid(lines: &Mutex<Vec<String>>) -> Option<i32> {
    const SAID: &str = "mpi: rank 1 of 2, pid ";
    lines.lock().unwrap().iter().find_map(|l| {
        let at = l.find(SAID)?;
        l[at + SAID.len()..]
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<i32>().ok())
    })
}

/// The step of `run`'s last save, read without [`TrainState::load`]'s recovery of an interrupted
/// save (which must not run while the job is saving).
fn saved_step(run: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(run.join("train_state.json")).ok()?;
    serde_json::from_str::<TrainState>(&text)
        .ok()
        .map(|s| s.step)
}

/// Removes the scratch directory of a rank 1 that was killed before it could.
fn remove_scratch(pid: i32) {
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("honyaku-rank1-{pid}")));
}

/// Waits for `done` while `job` runs; a job that ends first, or a wait past two minutes, fails
/// with what the job printed.
fn wait_until(
    what: &str,
    job: &mut Job,
    lines: &Mutex<Vec<String>>,
    mut done: impl FnMut() -> bool,
) {
    let (t0, limit) = (Instant::now(), Duration::from_secs(120));
    while !done() {
        let ended = job.0.try_wait().unwrap();
        assert!(
            ended.is_none() && t0.elapsed() < limit,
            "waited {:?} for {what}; the job {}:\n{}",
            t0.elapsed(),
            ended.map_or("runs".to_string(), |s| format!("ended ({s})")),
            lines.lock().unwrap().join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_rank_ends_the_job_with_a_clear_error_and_the_run_resumes() {
    let dir = tempdir().unwrap();
    let (corpus, run_dir) = (dir.path().join("corpus"), dir.path().join("run"));
    synth(&corpus, "copy", "300");
    let child = mpirun(
        2,
        &train_args(
            &corpus,
            &run_dir,
            &["--max-steps", "1000000", "--save-every", "5"],
        ),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut job = Job(child);
    let lines = collect_lines(job.0.stderr.take().unwrap());
    let state_file = run_dir.join("train_state.json");
    wait_until("a checkpoint after step 5", &mut job, &lines, || {
        saved_step(&run_dir).is_some_and(|s| s >= 5)
    });
    // mpirun forwards the ranks' output with some delay.
    wait_until("rank 1 to say its pid", &mut job, &lines, || {
        rank1_pid(&lines).is_some()
    });
    let pid = rank1_pid(&lines).unwrap();
    // SAFETY: kills rank 1 of the job this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = job.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the job outlived its rank 1"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let ended = t0.elapsed();
    remove_scratch(pid);
    std::thread::sleep(Duration::from_millis(200));
    let stderr = lines.lock().unwrap().join("\n");
    assert!(!status.success(), "{stderr}");
    eprintln!("the job ended {ended:?} after rank 1 was killed");
    assert!(
        stderr.contains("rank 0: interrupted while waiting for the other ranks"),
        "{stderr}"
    );
    let state = TrainState::load(&RunDir {
        root: run_dir.clone(),
    })
    .unwrap();
    assert!(
        stderr.contains(&format!(
            "rank 0: the last checkpoint, step {} in {}, is intact; continue with: mpirun -np 2 \
             honyaku train --distributed mpi --resume",
            state.step,
            run_dir.display()
        )),
        "{stderr}"
    );
    assert!(state_file.is_file());

    // The run continues from its last checkpoint on two ranks.
    let target = (state.step + 6).to_string();
    let out = run(
        mpirun(
            2,
            &[
                "--quiet".into(),
                "--max-steps".into(),
                target.clone(),
                "--resume".into(),
                run_dir.display().to_string(),
            ],
        ),
        Duration::from_secs(300),
    );
    let stderr = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("at step {}", state.step)),
        "{stderr}"
    );
    let resumed = TrainState::load(&RunDir { root: run_dir }).unwrap();
    assert_eq!(resumed.step.to_string(), target);
}

#[test]
fn ctrl_c_on_mpirun_stops_every_rank_at_one_step_saved_by_rank_0() {
    let dir = tempdir().unwrap();
    let (corpus, run_dir) = (dir.path().join("corpus"), dir.path().join("run"));
    synth(&corpus, "copy", "300");
    let child = mpirun(
        2,
        &train_args(&corpus, &run_dir, &["--max-steps", "1000000"]),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut job = Job(child);
    let lines = collect_lines(job.0.stderr.take().unwrap());
    wait_until("the first update", &mut job, &lines, || {
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("mpi: summing"))
    });
    // What Ctrl-C in the terminal does: SIGINT to mpirun, which sends SIGTERM to every rank.
    // SAFETY: signals the mpirun this test started.
    assert_eq!(unsafe { libc::kill(job.0.id() as i32, libc::SIGINT) }, 0);
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = job.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the job did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    if let Some(pid) = rank1_pid(&lines) {
        remove_scratch(pid);
    }
    let stderr = lines.lock().unwrap().join("\n");
    assert!(!status.success(), "{stderr}");
    let state = TrainState::load(&RunDir {
        root: run_dir.clone(),
    })
    .unwrap();
    assert!(
        stderr.contains(&format!(
            "interrupted at step {}; resume with: mpirun -np 2 honyaku train --distributed mpi \
             --resume {}",
            state.step,
            run_dir.display()
        )),
        "{stderr}"
    );
    assert!(!run_dir.join("summary.json").exists());
}
