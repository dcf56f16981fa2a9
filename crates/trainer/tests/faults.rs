//! Faults that must not lose work: the disk filling up while a checkpoint is written, and a
//! comparison killed in the middle.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `honyaku args` under `ulimit -f` (files larger than `limit_bytes` cannot be written:
/// the write fails with EFBIG, as it fails with ENOSPC on a full disk; SIGXFSZ is ignored so
/// the process sees the error instead of dying).
fn honyaku_with_file_limit(limit_bytes: u64, args: &[&str]) -> Output {
    let blocks = limit_bytes / ulimit_block_size();
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f {blocks} && trap '' XFSZ && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_honyaku"))
        .args(args)
        .output()
        .expect("running sh")
}

/// The unit of this `sh`'s `ulimit -f` (POSIX says 512 bytes; some shells use 1024).
fn ulimit_block_size() -> u64 {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let file = tmp.path().join("probe");
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 1; trap '' XFSZ; head -c 4096 /dev/zero > \"$0\"")
        .arg(&file)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(
        size == 512 || size == 1024,
        "ulimit -f 1 allowed {size} bytes"
    );
    size
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_full_disk_during_a_checkpoint_leaves_the_previous_one_usable() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let run = tmp.path().join("run");
    synth(&corpus, "copy", "100");
    let out = train_arch(&corpus, &run, "lstm", "4", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = [
        run.join("checkpoints/last.bpk"),
        run.join("checkpoints/last.optim.bpk"),
        run.join("train_state.json"),
    ];
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    let (model, optim) = (before[0].len() as u64, before[1].len() as u64);
    assert!(
        model < optim,
        "the optimizer state (two moments) is the larger file"
    );

    // Room for the new weights but not for the optimizer state: a writer that replaced
    // each file in turn would leave new weights next to old counters.
    let limit = (model + optim) / 2;
    let out = honyaku_with_file_limit(limit, &["train", "--resume", s(&run), "--max-steps", "8"]);
    let err = fails(
        "fault: disk full while writing a checkpoint (ulimit -f)",
        &out,
    );
    assert!(
        err.contains("last.optim.bpk failed, the previous version"),
        "{err}"
    );
    assert!(err.contains("File too large"), "{err}");
    assert!(err.contains("honyaku train --resume"), "{err}");
    for (file, old) in files.iter().zip(&before) {
        assert!(read(file) == *old, "{} changed", file.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The limit lifted, the run resumes from the intact state and translates.
    let out = honyaku(&["train", "--resume", s(&run), "--max-steps", "8", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming"), "{}", stderr(&out));
    let state: serde_json::Value =
        serde_json::from_slice(&read(&run.join("train_state.json"))).unwrap();
    assert_eq!(state["step"], 8);
    let out = ok(&[
        "translate",
        "--run",
        s(&run),
        "--input",
        s(&corpus.join("test.src")),
    ]);
    assert!(!stdout(&out).trim().is_empty());
}

/// `honyaku compare` of tiny models on the synthetic corpus in `corpus`, writing to `out`;
/// `[archs, epochs, vocab_size, max_tokens]`.
fn compare_args(
    corpus: &Path,
    out: &Path,
    [archs, epochs, vocab, max_tokens]: &[&str; 4],
) -> Vec<String> {
    let f = |n: &str| corpus.join(n).to_str().unwrap().to_string();
    let mut args: Vec<String> = [
        "compare", "--archs", archs, "--preset", "tiny", "--epochs", epochs,
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.extend(["--vocab-size", vocab, "--max-tokens", max_tokens].map(String::from));
    for (flag, file) in [
        ("--train-src", "train.src"),
        ("--train-tgt", "train.tgt"),
        ("--valid-src", "valid.src"),
        ("--valid-tgt", "valid.tgt"),
        ("--test-src", "test.src"),
        ("--test-tgt", "test.tgt"),
    ] {
        args.extend([flag.to_string(), f(file)]);
    }
    args.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
    args
}

#[test]
fn a_killed_compare_resumes_and_reuses_the_finished_run() {
    use std::os::unix::process::CommandExt;

    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("cmp");
    synth(&corpus, "grammar", "200");
    let owned = compare_args(&corpus, &out, &["lstm,attention", "1", "200", "512"]);
    let args: Vec<&str> = owned.iter().map(String::as_str).collect();
    // Its own process group, so that SIGKILL reaches the training child as well (as when a
    // job scheduler or the OOM killer ends the job).
    let mut child = Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let second = out.join("runs/attention");
    let start = Instant::now();
    while !second.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "compare ended before it was killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no second run after 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    assert!(
        !out.join("report.json").exists(),
        "killed before the report"
    );
    let first_summary = read(&out.join("runs/lstm/summary.json"));

    let again = honyaku(&args);
    let log = stderr(&again);
    assert!(again.status.success(), "{log}");
    assert!(log.contains("lstm: already trained"), "{log}");
    assert!(log.contains("attention: training"), "{log}");
    assert_eq!(read(&out.join("runs/lstm/summary.json")), first_summary);
    let report: serde_json::Value =
        serde_json::from_slice(&read(&out.join("report.json"))).unwrap();
    let archs: Vec<&str> = report["archs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arch"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["lstm", "attention"]);
    assert!(out.join("report.md").is_file());
}

/// Whether a process other than this test has `needle` in its command line.
fn running_with(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(needle))
            .unwrap_or(false)
    })
}

#[test]
fn a_killed_compare_stops_its_training_child_and_the_rerun_resumes_it() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("cmp");
    synth(&corpus, "copy", "400");
    let owned = compare_args(&corpus, &out, &["lstm", "40", "60", "256"]);
    let args: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut compare = Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run = out.join("runs/lstm");
    let start = Instant::now();
    while !run.join("train_state.json").exists() {
        assert!(compare.try_wait().unwrap().is_none(), "compare ended early");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no training state"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    compare.kill().unwrap(); // SIGKILL to compare alone, not to its process group
    compare.wait().unwrap();
    // The orphaned training child got SIGTERM: it saves and stops on its own.
    let needle = run.to_str().unwrap();
    while running_with(needle) {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "training child still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!run.join("summary.json").exists(), "stopped before the end");
    let again = honyaku(&args);
    let log = stderr(&again);
    assert!(again.status.success(), "{log}");
    assert!(
        log.contains("lstm: training (40 epochs), resuming the interrupted run at step"),
        "{log}"
    );
    assert!(run.join("summary.json").is_file());
    assert!(out.join("report.md").is_file());
}

/// Files a write left behind below `dir`: temporary files and commit journals.
fn leftovers(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(leftovers(&path));
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(".tmp") || n == ".commit.json")
        {
            out.push(path);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A tiny LSTM run of 2 steps that saves its resume point after every update.
fn base_run(dir: &Path) -> std::path::PathBuf {
    let corpus = dir.join("corpus");
    let run = dir.join("base");
    synth(&corpus, "copy", "100");
    ok(&[
        "train",
        "--preset",
        "tiny",
        "--quiet",
        "--train-src",
        s(&corpus.join("train.src")),
        "--train-tgt",
        s(&corpus.join("train.tgt")),
        "--out",
        s(&run),
        "--max-steps",
        "2",
        "--max-tokens",
        "512",
        "--vocab-size",
        "60",
        "--save-every",
        "1",
    ]);
    run
}

fn resume_to(run: &Path, steps: &str, env: Option<(&str, &str)>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_honyaku"));
    cmd.args(["train", "--quiet", "--max-steps", steps, "--resume", s(run)]);
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn step_of(run: &Path) -> u64 {
    let text = std::fs::read_to_string(run.join("train_state.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["step"].as_u64().unwrap()
}

/// The resume point (`last.bpk`, `last.optim.bpk`, `train_state.json`) is committed as one set:
/// a continued run is killed before its first file operation, then before its second, and so
/// on until it runs through (`HONYAKU_FAULT_ABORT_AT=N` aborts the process, as SIGKILL would,
/// just before the N-th write, rename or removal); after each kill, `train --resume` finishes
/// with exactly the weights of the run that was never interrupted.
#[test]
fn a_kill_between_any_two_file_operations_resumes_exactly() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let base = base_run(tmp.path());
    let reference = tmp.path().join("reference");
    copy_dir(&base, &reference);
    let out = resume_to(&reference, "4", None);
    assert!(out.status.success(), "{}", stderr(&out));
    // The weights, byte for byte. The optimizer file is not compared as bytes (Burn writes its
    // per-parameter map in a different order in every process), but the weights of step 4 are
    // computed with the optimizer state of step 3, saved or not: a wrong one would show here.
    let files = ["checkpoints/last.bpk"];
    let expected: Vec<Vec<u8>> = files.iter().map(|f| read(&reference.join(f))).collect();
    let mut kills = 0;
    for n in 1.. {
        assert!(n < 500, "the run never got through");
        let work = tmp.path().join(format!("kill-{n}"));
        copy_dir(&base, &work);
        let at = n.to_string();
        let out = resume_to(&work, "4", Some(("HONYAKU_FAULT_ABORT_AT", &at)));
        if out.status.success() {
            break; // fewer than n file operations: every gap has been tried
        }
        kills += 1;
        let err = stderr(&out);
        assert!(
            err.contains(&format!("killed before file operation {n}")),
            "{err}"
        );
        assert_eq!(out.status.code(), None, "killed by a signal: {err}");
        let out = resume_to(&work, "4", None);
        assert!(
            out.status.success(),
            "after a kill at {n}: {}",
            stderr(&out)
        );
        assert_eq!(step_of(&work), 4, "after a kill at {n}");
        for (file, bytes) in files.iter().zip(&expected) {
            assert!(
                read(&work.join(file)) == *bytes,
                "after a kill at operation {n}, {file} differs from the uninterrupted run's"
            );
        }
        assert!(leftovers(&work).is_empty(), "{:?}", leftovers(&work));
        std::fs::remove_dir_all(&work).unwrap();
    }
    assert!(kills >= 9, "only {kills} file operations were tried");
    eprintln!("killed at each of {kills} file operations");
}

/// A panic in the middle of training (forced by a test hook after update 3) ends with the
/// internal-error line and status 70, leaves the last committed resume point (step 2) byte for
/// byte, and the run resumes from it.
#[test]
fn a_panic_mid_training_leaves_the_last_committed_checkpoint_set() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = base_run(tmp.path());
    let files = [
        "checkpoints/last.bpk",
        "checkpoints/last.optim.bpk",
        "train_state.json",
    ];
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(&run.join(f))).collect();
    let out = resume_to(&run, "6", Some(("HONYAKU_TEST_PANIC", "train-step:3")));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(70), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("error: internal error: forced by HONYAKU_TEST_PANIC")),
        "{err}"
    );
    for (file, bytes) in files.iter().zip(&before) {
        assert!(read(&run.join(file)) == *bytes, "{file} changed");
    }
    assert!(leftovers(&run).is_empty(), "{:?}", leftovers(&run));
    let out = resume_to(&run, "6", None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(step_of(&run), 6);
}
