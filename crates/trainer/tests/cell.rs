//! `--cell` end to end: GRU runs of both recurrent architectures train, record their cell in
//! `config.json`, translate and evaluate; a run whose `config.json` has no cell (written before
//! the GRU existed) is an LSTM and translates as before; `--cell` where it means nothing is a
//! clear error.

mod common;

use std::path::Path;

use common::{fails, honyaku, ok, stderr, stdout, synth, train_arch};

fn config(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("config.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn translate(run: &Path, input: &Path) -> String {
    stdout(&ok(&[
        "translate",
        "--run",
        run.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]))
}

#[test]
fn gru_runs_record_their_cell_translate_and_evaluate() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "copy", "120");
    let test_src = corpus.join("test.src");
    let lines = std::fs::read_to_string(&test_src).unwrap().lines().count();
    for arch in ["lstm", "attention"] {
        let run = tmp.path().join(arch);
        let out = train_arch(&corpus, &run, arch, "20", &["--cell", "gru"]);
        assert!(out.status.success(), "{arch}: {}", stderr(&out));
        let model = &config(&run)["model"];
        assert_eq!(
            (model["arch"].as_str(), model["cell"].as_str()),
            (Some(arch), Some("gru"))
        );
        let text = translate(&run, &test_src);
        assert_eq!(text.lines().count(), lines, "{arch}: {text:?}");
        let scores = stdout(&ok(&[
            "evaluate",
            "--run",
            run.to_str().unwrap(),
            "--src",
            test_src.to_str().unwrap(),
            "--ref",
            corpus.join("test.tgt").to_str().unwrap(),
        ]));
        assert!(scores.contains("BLEU"), "{arch}: {scores}");
    }
}

#[test]
fn a_run_without_a_cell_in_its_config_is_an_lstm_and_translates_as_before() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let run = tmp.path().join("run");
    synth(&corpus, "copy", "120");
    let out = train_arch(&corpus, &run, "lstm", "30", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut written = config(&run);
    assert_eq!(written["model"]["cell"], "lstm");
    let test_src = corpus.join("test.src");
    let before = translate(&run, &test_src);
    written["model"].as_object_mut().unwrap().remove("cell");
    std::fs::write(run.join("config.json"), written.to_string()).unwrap();
    assert_eq!(translate(&run, &test_src), before);
}

#[test]
fn the_gru_has_three_quarters_of_the_lstm_recurrent_weights_in_bench() {
    let bench = |cell: &str| {
        let out = ok(&[
            "bench",
            "--arch",
            "lstm",
            "--cell",
            cell,
            "--preset",
            "tiny",
            "--batch",
            "2",
            "--src-len",
            "4",
            "--tgt-len",
            "4",
            "--vocab",
            "50",
            "--steps",
            "1",
            "--warmup",
            "0",
            "--decode-len",
            "2",
            "--beam",
            "2",
        ]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(report["cell"], cell);
        report["parameters"].as_u64().unwrap()
    };
    // Tiny: embedding 32, hidden 64, one layer in the encoder and one in the decoder. Per
    // layer the LSTM has 4 · 64 · (32 + 64) weights and 4 · 64 biases, the GRU 3 · 64 · (32 +
    // 64) weights and 6 · 64 biases.
    let saved = 2 * (64 * (32 + 64) - 2 * 64);
    assert_eq!(bench("lstm") - bench("gru"), saved as u64);
}

#[test]
fn cell_is_refused_where_it_means_nothing() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "copy", "50");
    let run = tmp.path().join("run");
    let out = train_arch(&corpus, &run, "transformer", "2", &["--cell", "gru"]);
    let err = fails("train --arch transformer --cell gru", &out);
    assert!(
        err.contains("--cell applies to --arch lstm and --arch attention, not to transformer"),
        "{err}"
    );
    assert!(!run.exists(), "nothing is written");
    let out = honyaku(&[
        "bench",
        "--arch",
        "transformer",
        "--cell",
        "gru",
        "--preset",
        "tiny",
    ]);
    let err = fails("bench --arch transformer --cell gru", &out);
    assert!(err.contains("--cell applies to --arch lstm"), "{err}");
    let out = train_arch(&corpus, &run, "lstm", "2", &["--cell", "rnn"]);
    let err = fails("train --cell rnn", &out);
    assert!(
        err.contains("unknown cell 'rnn' (expected lstm or gru)"),
        "{err}"
    );
    let f = |n: &str| corpus.join(n).to_str().unwrap().to_string();
    let out = honyaku(&[
        "compare",
        "--train-src",
        &f("train.src"),
        "--train-tgt",
        &f("train.tgt"),
        "--valid-src",
        &f("valid.src"),
        "--valid-tgt",
        &f("valid.tgt"),
        "--test-src",
        &f("test.src"),
        "--test-tgt",
        &f("test.tgt"),
        "--out",
        tmp.path().join("cmp").to_str().unwrap(),
        "--set",
        "transformer:cell=gru",
    ]);
    let err = fails("compare --set transformer:cell=gru", &out);
    assert!(
        err.contains("transformer:cell=gru: --cell applies to"),
        "{err}"
    );
}
