//! Helpers shared by the error and fault tests: run the binary, make a corpus, train a tiny
//! run, and check that a failure is a clear error rather than a panic.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub fn honyaku(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(args)
        .output()
        .expect("running honyaku")
}

/// `honyaku args` with `input` on its standard input.
pub fn honyaku_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running honyaku");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub fn ok(args: &[&str]) -> Output {
    let out = honyaku(args);
    assert!(
        out.status.success(),
        "honyaku {args:?} failed:\n{}",
        stderr(&out)
    );
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Checks that `out` is a clean failure (non-zero exit, no panic, no backtrace hint) and returns
/// its stderr. With `HONYAKU_ERROR_MATRIX=FILE` set, appends `case` and the message to FILE as
/// a JSON line (the source of the table in docs/ERRORS.md).
pub fn fails(case: &str, out: &Output) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "{case}: succeeded:\n{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{case}: {err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("error: ")),
        "{case}: {err}"
    );
    record(case, &err);
    err
}

/// Appends `case` and `text` to `$HONYAKU_ERROR_MATRIX` when set.
pub fn record(case: &str, text: &str) {
    if let Some(path) = std::env::var_os("HONYAKU_ERROR_MATRIX") {
        let line = serde_json::json!({ "case": case, "stderr": text }).to_string();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }
}

pub fn synth(dir: &Path, task: &str, pairs: &str) {
    ok(&[
        "synth",
        "--task",
        task,
        "--pairs",
        pairs,
        "--min-len",
        "3",
        "--max-len",
        "8",
        "--seed",
        "3",
        "--out",
        dir.to_str().unwrap(),
    ]);
}

/// `honyaku train` of a tiny model of `arch` on the corpus in `corpus` for `steps` updates;
/// `extra` flags replace the defaults of the same name.
pub fn train_arch(corpus: &Path, run: &Path, arch: &str, steps: &str, extra: &[&str]) -> Output {
    let f = |n: &str| corpus.join(n).to_str().unwrap().to_string();
    let defaults = [
        ("--arch", arch.to_string()),
        ("--preset", "tiny".into()),
        ("--train-src", f("train.src")),
        ("--train-tgt", f("train.tgt")),
        ("--valid-src", f("valid.src")),
        ("--valid-tgt", f("valid.tgt")),
        ("--out", run.to_str().unwrap().into()),
        ("--max-steps", steps.into()),
        ("--max-tokens", "512".into()),
        ("--vocab-size", "200".into()),
        ("--lr", "0.01".into()),
    ];
    let mut args = vec!["train".to_string(), "--quiet".into()];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag.to_string(), value]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    honyaku(&args)
}

/// A tiny LSTM run trained for a few steps on a fresh copy corpus in `dir`.
pub fn tiny_run(dir: &Path) -> std::path::PathBuf {
    let corpus = dir.join("corpus");
    let run = dir.join("run");
    synth(&corpus, "copy", "100");
    let out = train_arch(&corpus, &run, "lstm", "2", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    run
}
