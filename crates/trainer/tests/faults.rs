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
