//! Every user mistake gets a clear, one-paragraph error (what, where, what to do), a non-zero
//! exit and no panic: bad corpora, bad runs and checkpoints, bad configs and backends, bad
//! translation input. Run with `HONYAKU_ERROR_MATRIX=FILE` to collect the messages.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `honyaku train` on the given source and target files, tiny and short.
fn train_files(src: &Path, tgt: &Path, out: &Path) -> std::process::Output {
    honyaku(&[
        "train",
        "--preset",
        "tiny",
        "--train-src",
        s(src),
        "--train-tgt",
        s(tgt),
        "--out",
        s(out),
        "--max-steps",
        "1",
        "--vocab-size",
        "200",
        "--quiet",
    ])
}

/// 100 lines of a synthetic copy corpus (source side, target side).
fn corpus(dir: &Path) -> (String, String) {
    let c = dir.join("c");
    synth(&c, "copy", "100");
    let read = |n: &str| std::fs::read_to_string(c.join(n)).unwrap();
    (read("train.src"), read("train.tgt"))
}

#[test]
fn corpus_missing_file() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let tgt = write(tmp.path(), "en.txt", b"a\n");
    let out = train_files(&tmp.path().join("nope.de"), &tgt, &tmp.path().join("r"));
    let err = fails("corpus: missing file", &out);
    assert!(
        err.contains("nope.de': No such file or directory; check the path"),
        "{err}"
    );
    assert_eq!(
        err.lines().count(),
        1,
        "the OS reason is not repeated: {err}"
    );
}

#[test]
fn corpus_directory_instead_of_file() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let tgt = write(tmp.path(), "en.txt", b"a\n");
    let out = train_files(tmp.path(), &tgt, &tmp.path().join("r"));
    let err = fails("corpus: directory instead of a file", &out);
    assert!(
        err.contains("is a directory, not a corpus file; give the path"),
        "{err}"
    );
}

#[test]
fn corpus_line_count_mismatch() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let src = write(tmp.path(), "de.txt", b"a\nb\nc\n");
    let tgt = write(tmp.path(), "en.txt", b"a\nb\n");
    let out = train_files(&src, &tgt, &tmp.path().join("r"));
    let err = fails("corpus: line counts differ", &out);
    assert!(err.contains("de.txt' has 3 lines"), "{err}");
    assert!(
        err.contains("en.txt' has 2; the two files must be line-aligned"),
        "{err}"
    );
}

#[test]
fn corpus_invalid_utf8_names_file_and_line() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let src = write(tmp.path(), "de.txt", b"gut\nsch\xf6n\n");
    let tgt = write(tmp.path(), "en.txt", b"good\nnice\n");
    let out = train_files(&src, &tgt, &tmp.path().join("r"));
    let err = fails("corpus: invalid UTF-8", &out);
    assert!(
        err.contains("de.txt' line 2: invalid UTF-8 (byte offset 3)"),
        "{err}"
    );
    assert!(err.contains("iconv"), "{err}");
}

#[test]
fn tsv_row_without_the_requested_column() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let tsv = write(tmp.path(), "t.tsv", b"1\tHallo\tHello\n2\tTschuess\n");
    let out = honyaku(&[
        "train",
        "--train-tsv",
        s(&tsv),
        "--src-col",
        "2",
        "--tgt-col",
        "3",
        "--out",
        s(&tmp.path().join("r")),
    ]);
    let err = fails("corpus: TSV row without the requested column", &out);
    assert!(
        err.contains("t.tsv' line 2: has 2 columns, column 3 was requested"),
        "{err}"
    );
    assert!(err.contains("--tgt-col"), "{err}");
}

#[test]
fn truncated_gzip() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let text: String = (0..3000).map(|i| format!("line {i} of many\n")).collect();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let src = write(tmp.path(), "de.gz", &gz[..gz.len() / 2]);
    let tgt = write(tmp.path(), "en.txt", text.as_bytes());
    let out = train_files(&src, &tgt, &tmp.path().join("r"));
    let err = fails("corpus: truncated gzip", &out);
    assert!(
        err.contains("de.gz': gzip stream is corrupt or truncated after line"),
        "{err}"
    );
    assert!(err.contains("compress it again"), "{err}");
}

#[test]
fn empty_corpus() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let src = write(tmp.path(), "de.txt", b"");
    let tgt = write(tmp.path(), "en.txt", b"");
    let out = train_files(&src, &tgt, &tmp.path().join("r"));
    let err = fails("corpus: empty files", &out);
    assert!(
        err.contains("contains no sentence pairs; give files"),
        "{err}"
    );
    assert!(!tmp.path().join("r").exists(), "nothing is written");
}

#[test]
fn overlong_lines_are_dropped_and_counted() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let (src, tgt) = corpus(tmp.path());
    // One line of 5000 words and one "word" of 300,000 characters (paired with a one-word
    // target, so that only its length can drop it).
    let src = format!(
        "{src}{}\n{}\n",
        vec!["w"; 5000].join(" "),
        "x".repeat(300_000)
    );
    let tgt = format!("{tgt}a b c\ny\n");
    let src = write(tmp.path(), "de.txt", src.as_bytes());
    let tgt = write(tmp.path(), "en.txt", tgt.as_bytes());
    let start = std::time::Instant::now();
    let out = train_files(&src, &tgt, &tmp.path().join("r"));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("kept 100 of 102 pairs"), "{err}");
    assert!(err.contains("2 over 100 words"), "{err}");
    assert!(
        start.elapsed().as_secs() < 20,
        "the endless word was not dropped"
    );
    record("corpus: lines over the maximum length (success)", &err);
}

#[test]
fn crlf_and_bom_do_not_reach_the_tokens_or_the_output() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let (src, tgt) = corpus(tmp.path());
    let windows = |text: &str| {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(text.replace('\n', "\r\n").into_bytes());
        bytes
    };
    let de = write(tmp.path(), "de.txt", &windows(&src));
    let en = write(tmp.path(), "en.txt", &windows(&tgt));
    let run = tmp.path().join("r");
    let out = train_files(&de, &en, &run);
    assert!(out.status.success(), "{}", stderr(&out));
    let tokenizer = std::fs::read_to_string(run.join("tokenizer.json")).unwrap();
    assert!(
        !tokenizer.contains('\r') && !tokenizer.contains("\\r"),
        "CR in the vocabulary"
    );
    assert!(!tokenizer.contains('\u{feff}') && !tokenizer.to_lowercase().contains("\\ufeff"));

    let first: String = src.lines().take(3).map(|l| format!("{l}\n")).collect();
    let clean = write(tmp.path(), "in.txt", first.as_bytes());
    let dirty = write(tmp.path(), "in.crlf.txt", &windows(&first));
    let translate =
        |input: &Path| stdout(&ok(&["translate", "--run", s(&run), "--input", s(input)]));
    let expected = translate(&clean);
    assert_eq!(translate(&dirty), expected);
    assert!(!expected.contains('\r') && !expected.contains('\u{feff}'));
    assert_eq!(expected.lines().count(), 3);
}

#[test]
fn translate_on_a_directory_that_is_not_a_run() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let out = honyaku(&["translate", "--run", s(tmp.path())]);
    let err = fails(
        "run: translate --run on a directory that is not a run",
        &out,
    );
    assert!(
        err.contains("is not a Honyaku run: it has no config.json"),
        "{err}"
    );
    let out = honyaku(&["translate", "--run", s(&tmp.path().join("nowhere"))]);
    let err = fails("run: translate --run on a path that does not exist", &out);
    assert!(
        err.contains("is not a directory; --run expects a run directory"),
        "{err}"
    );
}

#[test]
fn truncated_checkpoint() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let best = run.join("checkpoints/best.bpk");
    let bytes = std::fs::read(&best).unwrap();
    std::fs::write(&best, &bytes[..bytes.len() / 3]).unwrap();
    let out = honyaku_stdin(&["translate", "--run", s(&run)], b"a b\n");
    let err = fails("run: truncated checkpoint", &out);
    assert!(
        err.contains("best.bpk is damaged or not a Honyaku checkpoint"),
        "{err}"
    );
    assert!(err.contains("File truncated"), "{err}");
    assert!(err.contains("train the run again"), "{err}");
    // Not even a header.
    std::fs::write(&best, b"").unwrap();
    let out = honyaku_stdin(&["translate", "--run", s(&run)], b"a b\n");
    fails("run: empty checkpoint file", &out);
}

#[test]
fn checkpoint_from_another_architecture_or_vocabulary() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let lstm = tiny_run(tmp.path());
    let corpus = tmp.path().join("corpus");
    let transformer = tmp.path().join("transformer");
    let out = train_arch(&corpus, &transformer, "transformer", "1", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let small_vocab = tmp.path().join("small_vocab");
    let out = train_arch(&corpus, &small_vocab, "lstm", "1", &["--vocab-size", "40"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lstm_checkpoint = lstm.join("checkpoints/best.bpk");

    std::fs::copy(&lstm_checkpoint, transformer.join("checkpoints/best.bpk")).unwrap();
    let out = honyaku_stdin(&["translate", "--run", s(&transformer)], b"a b\n");
    let err = fails("run: checkpoint of another architecture", &out);
    assert!(
        err.contains("does not fit this run's model configuration"),
        "{err}"
    );
    assert!(err.contains("another architecture"), "{err}");
    assert!(
        err.len() < 800,
        "a short message, not every tensor name: {err}"
    );

    std::fs::copy(&lstm_checkpoint, small_vocab.join("checkpoints/best.bpk")).unwrap();
    let out = honyaku_stdin(&["translate", "--run", s(&small_vocab)], b"a b\n");
    let err = fails("run: checkpoint of another vocabulary", &out);
    assert!(err.contains("shape mismatch"), "{err}");
    assert!(err.contains("vocabulary"), "{err}");
}

/// The `model` section of a trained run's config.json.
fn model_section(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("config.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    config["model"].clone()
}

#[test]
fn config_file_with_an_unknown_field() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let corpus = tmp.path().join("corpus");
    let mut model = model_section(&run);
    model["n_layer"] = 2.into();
    let cases = [
        (
            "train",
            serde_json::json!({ "train": { "epochz": 3 } }),
            "unknown field `epochz`",
        ),
        (
            "model",
            serde_json::json!({ "model": model }),
            "unknown field `n_layer` in the lstm",
        ),
        (
            "data.tokenizer",
            serde_json::json!({ "data": { "tokenizer": { "vocab_sise": 100 } } }),
            "unknown field `vocab_sise`",
        ),
        (
            "top level",
            serde_json::json!({ "modle": {} }),
            "unknown field `modle`",
        ),
    ];
    for (section, json, needle) in cases {
        let config = write(tmp.path(), "config.json", json.to_string().as_bytes());
        let out = train_arch(
            &corpus,
            &tmp.path().join("r2"),
            "lstm",
            "1",
            &["--config", s(&config)],
        );
        let err = fails(&format!("config: unknown field in {section}"), &out);
        assert!(
            err.contains("is not valid (expected a JSON object"),
            "{err}"
        );
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn config_with_impossible_values() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let corpus = tmp.path().join("corpus");
    let transformer = tmp.path().join("transformer");
    let out = train_arch(&corpus, &transformer, "transformer", "1", &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut heads = model_section(&transformer);
    heads["d_model"] = 30.into();
    heads["n_heads"] = 4.into();
    let mut layers = model_section(&run);
    layers["n_layers"] = 0.into();
    let mut encoder = model_section(&transformer);
    encoder["encoder_layers"] = 0.into();
    let cases = [
        (
            "d_model not divisible by n_heads",
            heads,
            "n_heads (4) must be at least 1 and divide d_model (30)",
        ),
        (
            "zero LSTM layers",
            layers.clone(),
            "lstm: n_layers must be at least 1",
        ),
        (
            "zero encoder layers",
            encoder,
            "encoder_layers must be at least 1",
        ),
    ];
    for (case, model, needle) in cases {
        let config = write(
            tmp.path(),
            "config.json",
            serde_json::json!({ "model": model }).to_string().as_bytes(),
        );
        let out = train_arch(
            &corpus,
            &tmp.path().join("r2"),
            "lstm",
            "1",
            &["--config", s(&config)],
        );
        let err = fails(&format!("config: {case}"), &out);
        assert!(err.contains("invalid model configuration"), "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(
            !tmp.path().join("r2").exists(),
            "checked before anything is written"
        );
    }

    let config = write(
        tmp.path(),
        "config.json",
        br#"{"train": {"max_tokens": 0}}"#,
    );
    // No --max-tokens flag (it would override the file; its own 0 is refused by the parser).
    let out = honyaku(&[
        "train",
        "--preset",
        "tiny",
        "--train-src",
        s(&corpus.join("train.src")),
        "--train-tgt",
        s(&corpus.join("train.tgt")),
        "--out",
        s(&tmp.path().join("r2")),
        "--max-steps",
        "1",
        "--config",
        s(&config),
    ]);
    let err = fails("config: max_tokens 0", &out);
    assert!(err.contains("max_tokens must be at least 1"), "{err}");

    // A hand-edited config.json of a trained run: translate refuses it instead of panicking.
    let path = run.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["model"] = layers;
    std::fs::write(&path, config.to_string()).unwrap();
    let out = honyaku_stdin(&["translate", "--run", s(&run)], b"a b\n");
    let err = fails("run: config.json edited to zero layers", &out);
    assert!(
        err.contains("config.json holds an impossible value"),
        "{err}"
    );
    assert!(err.contains("n_layers must be at least 1"), "{err}");
}

#[test]
fn a_backend_this_build_lacks() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let out = honyaku(&["translate", "--run", s(tmp.path()), "--backend", "cuda"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("invalid value 'cuda' for '--backend <BACKEND>'"),
        "{err}"
    );
    assert!(
        err.contains("[possible values: flex, ndarray, wgpu]"),
        "{err}"
    );
    record(
        "backend: one this build lacks (--backend cuda; clap, exit 2)",
        &err,
    );
}

#[test]
fn an_absent_gpu_names_the_available_backends() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    // Ask wgpu for a discrete GPU that no machine has (the 100th): the same failure as a
    // machine without a GPU or driver.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args([
            "translate",
            "--run",
            s(&run),
            "--backend",
            "wgpu",
            "--input",
            "/dev/null",
        ])
        .env("CUBECL_WGPU_DEFAULT_DEVICE", "DiscreteGpu(99)")
        .output()
        .unwrap();
    let err = fails("backend: absent GPU (--backend wgpu)", &out);
    assert!(
        err.contains("the wgpu backend could not start on this machine"),
        "{err}"
    );
    assert!(
        err.contains("Available backends: flex (default, CPU), ndarray (CPU)"),
        "{err}"
    );
}

#[test]
fn translate_keeps_empty_lines_in_place() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let with_gaps = honyaku_stdin(&["translate", "--run", s(&run)], b"\na b c\n\n\nd e\n   \n");
    assert!(with_gaps.status.success(), "{}", stderr(&with_gaps));
    let gaps = stdout(&with_gaps);
    let lines: Vec<&str> = gaps.split_terminator('\n').collect();
    assert_eq!(lines.len(), 6, "{gaps:?}");
    for i in [0, 2, 3, 5] {
        assert_eq!(lines[i], "", "line {} of {gaps:?}", i + 1);
    }
    let dense = stdout(&ok(&[
        "translate",
        "--run",
        s(&run),
        "--input",
        s(&write(tmp.path(), "in", b"a b c\nd e\n")),
    ]));
    let dense: Vec<&str> = dense.split_terminator('\n').collect();
    assert_eq!([lines[1], lines[4]], [dense[0], dense[1]], "order kept");
}

#[test]
fn translate_truncates_an_overlong_line_with_a_warning() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let long = vec!["a b"; 400].join(" ");
    let input = format!("a b\n{long}\nc\n");
    let out = honyaku_stdin(&["translate", "--run", s(&run)], input.as_bytes());
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stdout(&out).lines().count(), 3);
    assert!(
        err.contains("warning: 1 input line(s) longer than the run's maximum of 100 tokens were translated from their first 100 tokens only (line 2)"),
        "{err}"
    );
    record(
        "translate: a line far over the maximum length (success)",
        &err,
    );
}

#[test]
fn translate_refuses_invalid_utf8_on_stdin() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let out = honyaku_stdin(&["translate", "--run", s(&run)], b"ok\nsch\xf6n\n");
    let err = fails("translate: invalid UTF-8 on stdin", &out);
    assert!(
        err.contains("standard input line 2: invalid UTF-8 at byte 3"),
        "{err}"
    );
    assert!(err.contains("iconv"), "{err}");
    assert!(out.stdout.is_empty(), "nothing half-translated");
}

/// Regression: resuming a CPU run loaded the optimizer state onto Burn's default device, the
/// GPU, and panicked ("Unable to acquire wgpu device") on a machine without one.
#[test]
fn resuming_a_cpu_run_needs_no_gpu() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(["train", "--resume", s(&run), "--max-steps", "4", "--quiet"])
        .env("CUBECL_WGPU_DEFAULT_DEVICE", "DiscreteGpu(99)")
        .env_remove("BURN_DEVICE")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("wgpu") && !err.contains("XDG_RUNTIME_DIR"),
        "{err}"
    );
}

#[test]
#[cfg(not(feature = "mpi"))]
fn distributed_mpi_without_the_mpi_feature() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let src = write(tmp.path(), "de.txt", b"a\n");
    let tgt = write(tmp.path(), "en.txt", b"a\n");
    let out = honyaku(&[
        "train",
        "--distributed",
        "mpi",
        "--train-src",
        src.to_str().unwrap(),
        "--train-tgt",
        tgt.to_str().unwrap(),
        "--out",
        tmp.path().join("r").to_str().unwrap(),
    ]);
    let err = fails("train: --distributed mpi in a build without MPI", &out);
    assert!(
        err.contains("needs a honyaku built with MPI support")
            && err.contains("cargo build --release -p honyaku --features mpi")
            && err.contains("mpirun -np N honyaku train --distributed mpi"),
        "{err}"
    );
    assert!(!tmp.path().join("r").exists(), "nothing is written");
}
