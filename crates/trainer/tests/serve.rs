//! `honyaku serve` over HTTP against tiny trained runs: the API's answers (checked against
//! `honyaku translate`), its errors, a failure inside one request, dynamic batching and
//! `/metrics`. Loopback only.

mod common;
mod serve_support;

use std::sync::{Arc, Barrier};

use serde_json::{Value, json};

use common::{fails, honyaku, honyaku_stdin, stdout};
use serve_support::{Server, fixture, run_arg, sample};

/// `honyaku translate` of `lines` with `run`: its text output, one entry per line.
fn cli_translate(run: &std::path::Path, lines: &[&str], beam: &str, nbest: &str) -> Vec<String> {
    let input = lines.join("\n") + "\n";
    let args = [
        "translate",
        "--run",
        run.to_str().unwrap(),
        "--beam",
        beam,
        "--nbest",
        nbest,
    ];
    let out = honyaku_stdin(&args, input.as_bytes());
    assert!(out.status.success(), "{}", common::stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

fn texts(response: &Value) -> Vec<String> {
    response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["hypotheses"][0]["text"].as_str().unwrap().to_string())
        .collect()
}

fn copy_lines() -> Vec<String> {
    // Source sentences from the fixture's own vocabulary (the copy corpus).
    let dir = fixture("api").lstm.parent().unwrap().parent().unwrap();
    let text = std::fs::read_to_string(dir.join("corpus/test.src")).unwrap();
    text.lines().take(8).map(str::to_string).collect()
}

#[test]
fn runs_are_listed_and_translations_match_the_cli_in_order() {
    let fx = fixture("api");
    let server = Server::start(
        &[
            "--run",
            &run_arg("plain", &fx.lstm),
            "--run",
            &run_arg("att", &fx.attention),
            "--src-lang",
            "xx",
            "--tgt-lang",
            "yy",
        ],
        &[],
    );
    assert_eq!(server.get("/health").status, 200);
    let runs = server.get("/api/runs").json();
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["name"], "plain");
    assert_eq!(runs[0]["arch"], "lstm");
    assert_eq!(runs[1]["arch"], "attention");
    assert_eq!(runs[1]["src_lang"], "xx");
    assert!(
        runs.iter()
            .all(|r| r["parameters"].as_u64().unwrap() > 1000)
    );

    let lines = copy_lines();
    let sent: Vec<&str> = [lines[0].as_str(), "", lines[1].as_str()].to_vec();
    for (name, dir) in [("plain", &fx.lstm), ("att", &fx.attention)] {
        let answer = server.translate(&json!({"run": name, "text": sent, "beam": 5}));
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer = answer.json();
        let sources: Vec<&str> = answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["source"].as_str().unwrap())
            .collect();
        assert_eq!(sources, sent, "one result per line, order kept");
        assert_eq!(
            texts(&answer),
            cli_translate(dir, &sent, "5", "1"),
            "{name}"
        );
        assert_eq!(
            texts(&answer)[1],
            "",
            "an empty line gives an empty translation"
        );
        assert!(answer["elapsed_ms"].as_f64().unwrap() > 0.0);
    }

    // n-best: as many hypotheses as asked, the same as the CLI's Moses n-best list.
    let answer = server
        .translate(&json!({"run": "att", "text": [lines[2]], "beam": 3, "nbest": 3}))
        .json();
    let hyps = answer["results"][0]["hypotheses"].as_array().unwrap();
    assert_eq!(hyps.len(), 3);
    let moses = cli_translate(&fx.attention, &[&lines[2]], "3", "3");
    for (hyp, line) in hyps.iter().zip(&moses) {
        let fields: Vec<&str> = line.split(" ||| ").collect();
        assert_eq!(hyp["text"], fields[1], "{line}");
        let score: f64 = fields[2].parse().unwrap();
        assert!(
            (hyp["score"].as_f64().unwrap() - score).abs() < 1e-3,
            "{line}"
        );
    }
}

#[test]
fn attention_is_returned_where_the_model_has_it() {
    let fx = fixture("api");
    let server = Server::start(
        &[
            "--run",
            &run_arg("plain", &fx.lstm),
            "--run",
            &run_arg("att", &fx.attention),
        ],
        &[],
    );
    let line = &copy_lines()[3];
    for beam in [1, 4] {
        let body = json!({"run": "att", "text": [line], "beam": beam, "attention": true});
        let answer = server.translate(&body).json();
        let att = &answer["results"][0]["hypotheses"][0]["attention"];
        let source = att["source"].as_array().unwrap();
        let target = att["target"].as_array().unwrap();
        let weights = att["weights"].as_array().unwrap();
        assert_eq!(source.last().unwrap(), "</s>");
        let pieces: Vec<&str> = source[..source.len() - 1]
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(
            pieces.concat().replace('▁', " ").trim(),
            line,
            "the line's own pieces"
        );
        assert_eq!(weights.len(), target.len());
        for row in weights {
            let row: Vec<f64> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(row.len(), source.len());
            let sum: f64 = row.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "a row sums to 1: {row:?}");
        }
    }
    let body = json!({"run": "plain", "text": [line], "attention": true});
    let answer = server.translate(&body).json();
    assert!(
        answer["results"][0]["hypotheses"][0]
            .get("attention")
            .is_none()
    );
}

#[test]
fn bad_requests_are_json_4xx_errors_that_name_no_path() {
    let fx = fixture("api");
    let server = Server::start(
        &[
            "--run",
            &run_arg("att", &fx.attention),
            "--max-body-bytes",
            "2000",
            "--max-lines",
            "4",
            "--max-line-tokens",
            "12",
            "--max-beam",
            "6",
        ],
        &[],
    );
    let long_line = vec!["a"; 40].join(" ");
    let five = vec!["a"; 5];
    let big = "x".repeat(2500);
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "unknown run",
            json!({"run": "nope", "text": ["a"]}).to_string(),
            404,
            "unknown run",
        ),
        (
            "a path as run",
            json!({"run": fx.attention.to_str().unwrap(), "text": ["a"]}).to_string(),
            404,
            "unknown run",
        ),
        (
            "malformed JSON",
            r#"{"run": "att", "text": ["a"]"#.into(),
            400,
            "malformed JSON",
        ),
        (
            "text not a list",
            json!({"run": "att", "text": "a"}).to_string(),
            400,
            "malformed JSON",
        ),
        (
            "unknown field",
            json!({"run": "att", "text": ["a"], "beams": 2}).to_string(),
            400,
            "unknown field `beams`",
        ),
        (
            "empty text",
            json!({"run": "att", "text": []}).to_string(),
            400,
            "`text` is empty",
        ),
        (
            "blank lines",
            json!({"run": "att", "text": ["", "  "]}).to_string(),
            400,
            "`text` is empty",
        ),
        (
            "too many lines",
            json!({"run": "att", "text": five}).to_string(),
            413,
            "5 lines in one request; the limit is 4",
        ),
        (
            "too many tokens",
            json!({"run": "att", "text": [long_line]}).to_string(),
            413,
            "tokens; the limit is 12 (split long sentences)",
        ),
        (
            "oversized body",
            json!({"run": "att", "text": [big]}).to_string(),
            413,
            "larger than 2000 bytes",
        ),
        (
            "beam 0",
            json!({"run": "att", "text": ["a"], "beam": 0}).to_string(),
            400,
            "`beam` is 0; it must be between 1 and 6",
        ),
        (
            "beam too large",
            json!({"run": "att", "text": ["a"], "beam": 7}).to_string(),
            400,
            "`beam` is 7",
        ),
        (
            "nbest over beam",
            json!({"run": "att", "text": ["a"], "beam": 2, "nbest": 3}).to_string(),
            400,
            "`nbest` is 3; it must be between 1 and the beam size (2)",
        ),
        (
            "negative beam",
            r#"{"run": "att", "text": ["a"], "beam": -1}"#.into(),
            400,
            "malformed JSON",
        ),
    ];
    let root = fx.attention.parent().unwrap().to_str().unwrap();
    for (case, body, status, message) in &cases {
        let answer = server.post("/api/translate", body);
        assert_eq!(answer.status, *status, "{case}: {}", answer.body);
        assert!(
            answer
                .headers
                .to_lowercase()
                .contains("content-type: application/json"),
            "{case}"
        );
        let error = answer.error();
        assert!(error.contains(message), "{case}: {error}");
        assert!(!error.contains(root), "{case}: a path in {error}");
        common::record(
            &format!("serve: {case}"),
            &format!("{status} {}", answer.body),
        );
    }
    let missing = server.get("/api/nothing");
    assert_eq!(missing.status, 404);
    assert!(missing.error().contains("no such route"));
    let listing = server.get("/api/runs").body;
    assert!(
        !listing.contains(root),
        "the run list names no path: {listing}"
    );
}

#[test]
fn a_failure_inside_one_request_answers_500_and_the_server_keeps_serving() {
    let fx = fixture("api");
    let mut server = Server::start(
        &[
            "--run",
            &run_arg("att", &fx.attention),
            "--batch-wait-ms",
            "300",
        ],
        &[("HONYAKU_FAULT_SERVE_PANIC", "boom")],
    );
    let good = json!({"run": "att", "text": [copy_lines()[0]], "beam": 1});
    let bad = json!({"run": "att", "text": ["boom"], "beam": 1});
    let expected = texts(&server.translate(&good).json());
    let failed = server.translate(&bad);
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert!(
        failed.error().contains("the model failed on this request"),
        "{}",
        failed.body
    );

    // Sent together (one batch), the failing request fails alone.
    let barrier = Barrier::new(4);
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (server, barrier, body) =
                    (&server, &barrier, if i == 0 { &bad } else { &good });
                s.spawn(move || {
                    barrier.wait();
                    server.translate(body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(answers[0].status, 500, "{}", answers[0].body);
    for answer in &answers[1..] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(texts(&answer.json()), expected);
    }
    assert!(server.alive(), "{}", server.log());
    assert_eq!(server.get("/health").status, 200);
    assert_eq!(texts(&server.translate(&good).json()), expected);
    let metrics = server.get("/metrics").body;
    let errors = r#"honyaku_http_requests_total{route="/api/translate",status="500"}"#;
    assert_eq!(sample(&metrics, errors), Some(2.0), "{metrics}");
}

#[test]
fn concurrent_requests_are_batched_and_each_answered_correctly() {
    let fx = fixture("api");
    let server = Server::start(
        &[
            "--run",
            &run_arg("att", &fx.attention),
            "--batch-wait-ms",
            "300",
        ],
        &[],
    );
    let lines = copy_lines();
    let body = |line: &str| json!({"run": "att", "text": [line], "beam": 1});
    let expected: Vec<Vec<String>> = lines
        .iter()
        .map(|l| texts(&server.translate(&body(l)).json()))
        .collect();
    let barrier = Arc::new(Barrier::new(lines.len()));
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = lines
            .iter()
            .map(|line| {
                let (server, barrier, body) = (&server, barrier.clone(), body(line));
                s.spawn(move || {
                    barrier.wait();
                    server.translate(&body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ((answer, expected), line) in answers.iter().zip(&expected).zip(&lines) {
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer = answer.json();
        assert_eq!(answer["results"][0]["source"], line.as_str());
        // The same tokens as alone; an unfinished hypothesis (this barely trained model rarely
        // ends one) may go on further, as the length limit follows the batch's longest source.
        let batched = &texts(&answer)[0];
        assert!(
            batched.starts_with(&expected[0]),
            "batched {batched:?}, alone {expected:?}"
        );
    }
    let metrics = server.get("/metrics").body;
    let max = sample(&metrics, r#"honyaku_batch_requests_max{run="att"}"#).unwrap();
    assert!(
        max > 1.0,
        "concurrent requests shared a model call:\n{metrics}"
    );
    let n = 2.0 * lines.len() as f64;
    let ok = r#"honyaku_http_requests_total{route="/api/translate",status="200"}"#;
    assert_eq!(sample(&metrics, ok), Some(n), "{metrics}");
    let latency = r#"honyaku_translate_duration_seconds_count{run="att"}"#;
    assert_eq!(sample(&metrics, latency), Some(n), "{metrics}");
    let served = r#"honyaku_batch_requests_sum{run="att"}"#;
    assert_eq!(sample(&metrics, served), Some(n), "{metrics}");
}

#[test]
fn serve_refuses_bad_arguments_with_clear_errors() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let empty = tmp.path().to_str().unwrap();
    let missing = tmp.path().join("missing");
    let missing = format!("x={}", missing.display());
    let cases: [(&str, Vec<&str>, &str); 5] = [
        ("serve: no runs", vec!["serve"], "nothing to serve"),
        (
            "serve: --run without a name",
            vec!["serve", "--run", empty],
            "expected NAME=RUN_DIR",
        ),
        (
            "serve: --runs without runs",
            vec!["serve", "--runs", empty],
            "no trained run below it",
        ),
        (
            "serve: a missing run",
            vec!["serve", "--run", &missing],
            "is not a directory",
        ),
        (
            "serve: a zero limit",
            vec!["serve", "--run", &missing, "--max-lines", "0"],
            "--max-lines must be at least 1",
        ),
    ];
    for (case, args, message) in cases {
        let err = fails(case, &honyaku(&args));
        assert!(err.contains(message), "{case}: {err}");
    }
}
