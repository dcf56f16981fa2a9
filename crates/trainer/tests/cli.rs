//! The `honyaku` binary end to end on the project's own synthetic data: synth → train →
//! translate, backend interchange of checkpoints, and the errors users see.

mod common;

use std::path::Path;
use std::process::Output;

use common::{honyaku, ok, stderr, synth};

fn train_tiny(corpus: &Path, run: &Path, backend: &str, steps: &str) -> Output {
    let f = |n: &str| corpus.join(n).to_str().unwrap().to_string();
    let args = [
        "train",
        "--arch",
        "lstm",
        "--backend",
        backend,
        "--preset",
        "tiny",
        "--train-src",
        &f("train.src"),
        "--train-tgt",
        &f("train.tgt"),
        "--valid-src",
        &f("valid.src"),
        "--valid-tgt",
        &f("valid.tgt"),
        "--out",
        run.to_str().unwrap(),
        "--max-steps",
        steps,
        "--max-tokens",
        "512",
        "--vocab-size",
        "200",
        "--lr",
        "0.01",
        "--quiet",
    ];
    honyaku(&args)
}

#[test]
fn synth_train_translate_end_to_end() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let run = tmp.path().join("run");
    synth(&corpus, "grammar", "300");
    let out = train_tiny(&corpus, &run, "flex", "20");
    assert!(out.status.success(), "{}", stderr(&out));
    for file in [
        "config.json",
        "tokenizer.json",
        "checkpoints/last.bpk",
        "metrics.jsonl",
    ] {
        assert!(run.join(file).is_file(), "missing {file}");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("\"kind\":\"valid\""), "{metrics}");

    let input = "the dog sees a cat .\n\nthe big cat eats the fish .\n";
    let input_file = tmp.path().join("in.txt");
    std::fs::write(&input_file, input).unwrap();
    let out = ok(&[
        "translate",
        "--run",
        run.to_str().unwrap(),
        "--input",
        input_file.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 3, "one output line per input line: {text:?}");
    assert_eq!(
        lines[1], "",
        "an empty input line gives an empty output line"
    );
}

#[test]
fn a_checkpoint_trained_on_flex_translates_identically_on_ndarray() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let run = tmp.path().join("run");
    synth(&corpus, "copy", "200");
    let out = train_tiny(&corpus, &run, "flex", "150");
    assert!(out.status.success(), "{}", stderr(&out));
    let test = corpus.join("test.src");
    let translate = |backend: &str| {
        let out = ok(&[
            "translate",
            "--run",
            run.to_str().unwrap(),
            "--backend",
            backend,
            "--input",
            test.to_str().unwrap(),
        ]);
        String::from_utf8(out.stdout).unwrap()
    };
    let flex = translate("flex");
    assert!(!flex.trim().is_empty());
    assert_eq!(flex, translate("ndarray"));
}

#[test]
fn an_existing_run_is_not_overwritten() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let run = tmp.path().join("run");
    synth(&corpus, "copy", "100");
    assert!(train_tiny(&corpus, &run, "flex", "2").status.success());
    let again = train_tiny(&corpus, &run, "flex", "2");
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already holds a run"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn user_mistakes_get_clear_errors_without_panics() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let missing = tmp.path().join("nope.de");
    let other = tmp.path().join("en.txt");
    std::fs::write(&other, "a\nb\n").unwrap();
    let out = honyaku(&[
        "train",
        "--train-src",
        missing.to_str().unwrap(),
        "--train-tgt",
        other.to_str().unwrap(),
        "--out",
        tmp.path().join("r").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nope.de"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let short = tmp.path().join("de.txt");
    std::fs::write(&short, "x\n").unwrap();
    let out = honyaku(&[
        "train",
        "--train-src",
        short.to_str().unwrap(),
        "--train-tgt",
        other.to_str().unwrap(),
        "--out",
        tmp.path().join("r").to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains('1') && err.contains('2'),
        "both line counts: {err}"
    );

    let out = honyaku(&["translate", "--run", tmp.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a Honyaku run"),
        "{}",
        stderr(&out)
    );
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width > 0 && height > 0);
}

fn all_finite(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        serde_json::Value::Array(a) => a.iter().all(all_finite),
        serde_json::Value::Object(o) => o.values().all(all_finite),
        _ => true,
    }
}

#[test]
fn compare_writes_a_report_with_plots_and_resumes() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("cmp");
    synth(&corpus, "grammar", "200");
    let f = |n: &str| corpus.join(n).to_str().unwrap().to_string();
    let args = [
        "compare",
        "--archs",
        "lstm,attention,transformer",
        "--preset",
        "tiny",
        "--epochs",
        "1",
        "--vocab-size",
        "200",
        "--max-tokens",
        "512",
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
        out.to_str().unwrap(),
    ];
    ok(&args);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let archs: Vec<&str> = report["archs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arch"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["lstm", "attention", "transformer"]);
    assert!(all_finite(&report), "a number in report.json is not finite");
    assert_eq!(report["significance"].as_array().unwrap().len(), 3);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| transformer |"), "{md}");
    for plot in [
        "valid_loss_time",
        "valid_bleu_steps",
        "bleu_by_length",
        "parameters",
        "memory",
    ] {
        assert_png(&out.join("plots").join(format!("{plot}.png")));
        assert!(out.join("plots").join(format!("{plot}.svg")).is_file());
    }
    // One heatmap per architecture that has attention, none for the plain LSTM.
    assert_png(&out.join("plots/attention_attention.png"));
    assert_png(&out.join("plots/attention_transformer.png"));
    // The Transformer also gets one heatmap per decoder layer (tiny: 2 layers).
    assert_png(&out.join("plots/attention_transformer_layer1.png"));
    assert_png(&out.join("plots/attention_transformer_layer2.png"));
    assert!(!out.join("plots/attention_attention_layer1.png").exists());
    assert!(!out.join("plots/attention_lstm.png").exists());

    // A rerun skips the finished architectures.
    let again = ok(&args);
    let log = stderr(&again);
    for arch in ["lstm", "attention", "transformer"] {
        assert!(log.contains(&format!("{arch}: already trained")), "{log}");
    }

    // `honyaku attention` draws a heatmap, and refuses the plain LSTM clearly.
    let png = tmp.path().join("heat.png");
    ok(&[
        "attention",
        "--run",
        out.join("runs/attention").to_str().unwrap(),
        "--text",
        "the dog sees a cat .",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_png(&png);
    let lstm = honyaku(&[
        "attention",
        "--run",
        out.join("runs/lstm").to_str().unwrap(),
        "--text",
        "a cat .",
    ]);
    assert!(!lstm.status.success());
    assert!(stderr(&lstm).contains("no attention"), "{}", stderr(&lstm));
}
