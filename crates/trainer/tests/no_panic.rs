//! No panic reachable from the command line: every option range-checked when the arguments are
//! parsed, what needs the run checked when it is loaded, one rule for long inputs, and the
//! last-resort panic hook. Run with `HONYAKU_ERROR_MATRIX=FILE` to collect the messages.

mod common;

use std::path::Path;

use common::*;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// One out-of-range value of every numeric option of every command: refused by the parser
/// (exit status 2) with a message that names the option and its range.
#[test]
fn every_option_is_range_checked_when_parsed() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["translate", "--run", "r", "--beam", "0"],
            "must be from 1 to 1024 (1 = greedy search)",
        ),
        (
            &["translate", "--run", "r", "--beam", "5000"],
            "must be from 1 to 1024",
        ),
        (
            &["translate", "--run", "r", "--nbest", "0"],
            "must be from 1 to 1024",
        ),
        (
            &["translate", "--run", "r", "--alpha", "nan"],
            "must be a finite number from 0 to 10",
        ),
        (
            &["translate", "--run", "r", "--alpha=-1"],
            "must be from 0 to 10",
        ),
        (
            &["translate", "--run", "r", "--max-tokens", "0"],
            "must be from 1 to 16777216",
        ),
        (
            &["evaluate", "--ref", "r", "--beam", "0"],
            "must be from 1 to 1024",
        ),
        (
            &["evaluate", "--ref", "r", "--max-tokens=-4"],
            "expected a whole number from 1",
        ),
        (
            &["train", "--out", "o", "--max-steps", "0"],
            "must be from 1 to 1000000000",
        ),
        (
            &["train", "--out", "o", "--epochs", "0"],
            "must be from 1 to 1000000",
        ),
        (&["train", "--out", "o", "--lr", "0"], "must be above 0"),
        (
            &["train", "--out", "o", "--lr", "inf"],
            "must be a finite number above 0",
        ),
        (
            &["train", "--out", "o", "--label-smoothing", "1"],
            "must be in [0, 1)",
        ),
        (
            &["train", "--out", "o", "--max-tokens", "0"],
            "must be from 1 to 16777216",
        ),
        (
            &["train", "--out", "o", "--vocab-size", "4"],
            "must be from 5 to 1000000",
        ),
        (
            &["train", "--out", "o", "--warmup=-1"],
            "expected a whole number from 0",
        ),
        (
            &["train", "--out", "o", "--max-minutes", "0"],
            "must be above 0",
        ),
        (
            &["train", "--out", "o", "--valid-every", "0"],
            "must be at least 1",
        ),
        (
            &["train", "--out", "o", "--patience", "0"],
            "must be at least 1",
        ),
        (
            &["train", "--out", "o", "--save-every", "0"],
            "must be at least 1",
        ),
        (
            &["train", "--out", "o", "--clip-norm=-1"],
            "must be 0 (no clipping) or more",
        ),
        (
            &["train", "--out", "o", "--accum", "0"],
            "must be from 1 to 65536",
        ),
        (
            &["train", "--out", "o", "--devices", "0"],
            "must be from 1 to 256",
        ),
        (
            &["train", "--out", "o", "--cpu-shards", "257"],
            "must be from 0 to 256",
        ),
        (
            &["train", "--out", "o", "--weight-decay=-0.1"],
            "must be 0 or more",
        ),
        (
            &["train", "--out", "o", "--plateau-factor", "1"],
            "must be between 0 and 1",
        ),
        (
            &["train", "--out", "o", "--plateau-patience", "0"],
            "must be at least 1",
        ),
        (
            &["train", "--out", "o", "--src-col", "0"],
            "(columns count from 1)",
        ),
        (
            &["train", "--out", "o", "--keep-checkpoints=-1"],
            "expected a whole number",
        ),
        (
            &["compare", "--budget-minutes", "nan"],
            "must be a finite number of minutes",
        ),
        (&["compare", "--epochs", "0"], "must be from 1 to 1000000"),
        (&["compare", "--vocab-size", "0"], "must be from 5 to"),
        (&["compare", "--lr=-1"], "must be above 0"),
        (&["compare", "--valid-every", "0"], "must be at least 1"),
        (&["bench", "--batch", "0"], "must be from 1 to 65536"),
        (
            &["bench", "--src-len", "1"],
            "(the special tokens included)",
        ),
        (&["bench", "--vocab", "3"], "must be from 5 to"),
        (&["bench", "--steps", "0"], "must be from 1 to 1000000000"),
        (&["bench", "--beam", "0"], "must be from 1 to 1024"),
        (
            &["synth", "--task", "copy", "--out", "o", "--pairs", "0"],
            "must be from 1 to 100000000",
        ),
        (
            &["synth", "--task", "copy", "--out", "o", "--min-len", "0"],
            "must be from 1 to 10000",
        ),
        (&["demo", "--pairs", "0"], "must be from 1 to 100000000"),
        (&["demo", "--max-len", "2"], "must be from 3 to 10000"),
        (&["demo", "--minutes-per-arch", "0"], "must be above 0"),
        (&["demo", "--valid-every", "0"], "must be at least 1"),
        (
            &["average", "--run", "r", "--last", "0"],
            "must be at least 1",
        ),
    ];
    for (args, expected) in cases {
        let out = honyaku(args);
        // `--flag value`, or `--flag=-1` (a separate "-1" would be read as a flag).
        let (flag, value) = match args[args.len() - 1].split_once('=') {
            Some((flag, value)) => (flag, value),
            None => (args[args.len() - 2], args[args.len() - 1]),
        };
        let err = fails(&format!("option: {} {flag} {value}", args[0]), &out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: invalid value '{value}' for '{flag} <")),
            "{args:?}: {err}"
        );
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn a_beam_of_zero_is_refused_not_translated_to_empty_lines() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let input = tmp.path().join("in.txt");
    std::fs::write(&input, b"a b c\n").unwrap();
    let out = honyaku(&[
        "translate",
        "--run",
        s(&run),
        "--input",
        s(&input),
        "--beam",
        "0",
    ]);
    let err = fails("translate: --beam 0", &out);
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(err.contains("--beam <BEAM>"), "{err}");
}

#[test]
fn what_needs_the_run_is_checked_when_it_is_loaded() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let vocab: usize = {
        let config = std::fs::read_to_string(run.join("config.json")).unwrap();
        let value: serde_json::Value = serde_json::from_str(&config).unwrap();
        value["model"]["tgt_vocab"].as_u64().unwrap() as usize
    };
    let wide = (vocab + 1).to_string();
    let out = honyaku_stdin(
        &["translate", "--run", s(&run), "--beam", &wide],
        b"a b c\n",
    );
    let err = fails("translate: --beam wider than the target vocabulary", &out);
    assert!(
        err.contains(&format!(
            "--beam {wide} is wider than this run's target vocabulary of {vocab} tokens"
        )),
        "{err}"
    );
    let input = tmp.path().join("in.txt");
    std::fs::write(&input, b"a\n").unwrap();
    let out = honyaku(&[
        "translate",
        "--run",
        s(&run),
        "--input",
        s(&input),
        "--beam",
        "2",
        "--nbest",
        "3",
    ]);
    let err = fails("translate: --nbest more than --beam", &out);
    assert!(err.contains("--nbest 3 is more than --beam 2"), "{err}");
    // As wide as the vocabulary is allowed, and the search stays in bounds.
    let all = vocab.to_string();
    let out = honyaku_stdin(
        &[
            "translate",
            "--run",
            s(&run),
            "--beam",
            &all,
            "--nbest",
            &all,
        ],
        b"a b c\nd e\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.lines().count() >= 2, "{text}");
    assert!(text.lines().all(|l| l.contains(" ||| ")), "{text}");
}

/// The issue's case: a Transformer whose validation file holds one 400-word line panicked at
/// the first validation (`position 400 is past the position table`). The validation set is
/// cleaned like the training set now, and the long pair dropped with the count shown.
#[test]
fn a_400_word_validation_line_is_dropped_like_a_training_one() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "copy", "100");
    let long = "a ".repeat(400);
    for side in ["valid.src", "valid.tgt"] {
        let mut text = std::fs::read_to_string(corpus.join(side)).unwrap();
        text.push_str(long.trim());
        text.push('\n');
        std::fs::write(corpus.join(side), text).unwrap();
    }
    let out = train_arch(
        &corpus,
        &tmp.path().join("run"),
        "transformer",
        "2",
        &["--valid-every", "1"],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("validation '"))
        .unwrap_or_else(|| panic!("no validation report: {err}"));
    assert!(line.contains("1 over 100 words"), "{line}");
    record("validation: a line over the maximum length (success)", line);
}

/// Pairs within the word limit but over the token limit (words the tokenizer splits into many
/// pieces) are dropped after tokenizing, with a warning, in validation as in training.
#[test]
fn pairs_over_the_token_limit_are_dropped_with_a_warning() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "copy", "100");
    // 60 "words" of 30 distinct letters: 60 word units, several hundred subword tokens.
    let word: String = ('a'..='z').chain(['q', 'x', 'z', 'j']).collect();
    let long = vec![word.as_str(); 60].join(" ");
    for side in ["valid.src", "valid.tgt"] {
        let mut text = std::fs::read_to_string(corpus.join(side)).unwrap();
        text.push_str(&long);
        text.push('\n');
        std::fs::write(corpus.join(side), text).unwrap();
    }
    let out = train_arch(
        &corpus,
        &tmp.path().join("run"),
        "transformer",
        "2",
        &["--valid-every", "1"],
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning: validation: dropped"))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(
        warning.contains("dropped 1 pair with a side over 100 subword tokens"),
        "{warning}"
    );
    record("validation: a pair over the token limit (success)", warning);
}

#[test]
fn a_position_table_shorter_than_the_length_limit_is_refused_at_the_start() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "copy", "100");
    let config = tmp.path().join("config.json");
    std::fs::write(&config, br#"{"data": {"max_len": 200}}"#).unwrap();
    let run = tmp.path().join("run");
    let out = train_arch(&corpus, &run, "transformer", "2", &["--config", s(&config)]);
    let err = fails("config: position table shorter than data.max_len", &out);
    assert!(
        err.contains("the transformer's position table holds 256 positions (model.max_len), but with data.max_len = 200"),
        "{err}"
    );
    assert!(
        err.contains("raise model.max_len to 312 or lower data.max_len to 163"),
        "{err}"
    );
    assert!(!run.exists(), "nothing is written before the check");
}

/// A block-cache limit that is not a whole number of MiB is refused before anything runs.
#[test]
fn a_bad_block_cache_limit_is_one_error_line() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_honyaku"))
        .args(["synth", "--task", "copy", "--out", "/nonexistent/x"])
        .env("HONYAKU_BLOCK_CACHE_MIB", "lots")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        "error: HONYAKU_BLOCK_CACHE_MIB must be a whole number of MiB (0 keeps no freed blocks), got 'lots'"
    );
    record("HONYAKU_BLOCK_CACHE_MIB not a number (exit status 2)", &err);
}

/// The last line of defence: a panic prints one `error: internal error` line with where to
/// report it, exits with status 70, and shows a backtrace only when asked for.
#[test]
fn a_panic_is_one_internal_error_line_with_exit_status_70() {
    let run = |backtrace: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_honyaku"));
        cmd.args(["synth", "--task", "copy", "--out", "/nonexistent/x"])
            .env("HONYAKU_TEST_PANIC", "main")
            .env_remove("RUST_BACKTRACE");
        if backtrace {
            cmd.env("RUST_BACKTRACE", "1");
        }
        cmd.output().unwrap()
    };
    let out = run(false);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(70), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: internal error: forced by HONYAKU_TEST_PANIC=main at "),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with("(please report it at https://github.com/honyaku-nmt/honyaku/issues with the command you ran)"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    record("internal error (a panic; exit status 70)", &err);
    let out = run(true);
    assert_eq!(out.status.code(), Some(70));
    assert!(
        stderr(&out).lines().count() > 3,
        "a backtrace with RUST_BACKTRACE=1"
    );
}

/// Fuzzer finding: `honyaku` without arguments printed the help to stderr and exited with
/// status 2 without an `error:` line.
#[test]
fn no_arguments_is_an_error_that_names_the_commands() {
    let out = honyaku(&[]);
    let err = fails("no command", &out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.starts_with("error: 'honyaku' requires a subcommand but one was not provided"),
        "{err}"
    );
    assert!(err.contains("synth, train, average, translate"), "{err}");
}

/// Fuzzer findings (long run): two messages that did not say which files or options were
/// wrong. `evaluate` with a hypothesis file of another length said "hypotheses and references
/// differ in length: 3 hypotheses but reference stream 0 has 2 segments"; `synth` with
/// `--min-len` above `--max-len` said "invalid length range 8..=3".
#[test]
fn mismatched_files_and_options_are_named() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let hyp = tmp.path().join("hyp.txt");
    let reference = tmp.path().join("ref.txt");
    std::fs::write(&hyp, b"a b\nc d\ne f\n").unwrap();
    std::fs::write(&reference, b"a b\nc d\n").unwrap();
    let out = honyaku(&["evaluate", "--hyp", s(&hyp), "--ref", s(&reference)]);
    let err = fails(
        "evaluate: hypothesis and reference of different lengths",
        &out,
    );
    assert!(
        err.contains(&format!(
            "{} has 3 lines but the reference {} has 2",
            hyp.display(),
            reference.display()
        )),
        "{err}"
    );
    let out = honyaku(&[
        "synth",
        "--task",
        "copy",
        "--min-len",
        "8",
        "--max-len",
        "3",
        "--out",
        s(&tmp.path().join("c")),
    ]);
    let err = fails("synth: --min-len above --max-len", &out);
    assert!(
        err.contains("--min-len 8 is more than --max-len 3"),
        "{err}"
    );
}

/// `bench` refuses shapes it cannot run, and `attention` an empty text, with a message that
/// names the options.
#[test]
fn impossible_bench_shapes_and_an_empty_attention_text_are_refused() {
    let bench = |extra: &[&str]| {
        let mut args = vec!["bench", "--preset", "tiny", "--steps", "1", "--warmup", "0"];
        args.extend_from_slice(extra);
        honyaku(&args)
    };
    let out = bench(&["--beam", "60", "--vocab", "50"]);
    let err = fails("bench: --beam wider than --vocab", &out);
    assert!(err.contains("--beam 60 is wider than --vocab 50"), "{err}");
    let out = bench(&["--arch", "transformer", "--src-len", "300", "--vocab", "50"]);
    let err = fails("bench: a length past the position table", &out);
    assert!(err.contains("must be at most 256"), "{err}");
    let out = bench(&["--batch", "65536", "--vocab", "1000000"]);
    let err = fails("bench: a score matrix over 8 GiB", &out);
    assert!(err.contains("lower --batch or --vocab"), "{err}");
    let tmp = honyaku_conformance::tempdir().unwrap();
    let out = honyaku(&[
        "attention",
        "--run",
        s(tmp.path()),
        "--text",
        " ",
        "--out",
        s(&tmp.path().join("a.png")),
    ]);
    let err = fails("attention: empty --text", &out);
    assert!(err.contains("--text is empty"), "{err}");
}
