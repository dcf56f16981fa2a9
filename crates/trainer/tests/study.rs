//! `honyaku study` end to end on a tiny synthetic corpus: the plan and its refusal, a whole
//! study with its report and claims, and the rerun that skips the finished work.

mod common;

use std::path::Path;

use common::{fails, honyaku, ok, stderr, synth};

fn study_args(corpus: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let f = |n: &str| corpus.join(n).to_str().unwrap().to_string();
    let mut args: Vec<String> = [
        "study",
        "--archs",
        "lstm,transformer",
        "--preset",
        "tiny",
        "--vocab-size",
        "200",
        "--max-tokens",
        "512",
        "--data-sizes",
        "60",
        "--lengths",
        "4,8",
        "--knobs",
        "heads",
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
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn the_plan_is_printed_first_and_a_budget_too_small_is_refused() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "grammar", "200");
    let out = tmp.path().join("study");
    let args = study_args(&corpus, &out, &["--budget-hours", "1", "--dry-run"]);
    let plan = stderr(&ok(&refs(&args)));
    assert!(plan.contains("study plan: 11 runs"), "{plan}");
    assert!(plan.contains("run transformer-all-s42-heads-1"), "{plan}");
    assert!(
        !out.join("study.json").exists(),
        "a dry run writes no results"
    );
    let args = study_args(&corpus, &out, &["--budget-hours", "0.001"]);
    let err = fails("study: a budget too small", &honyaku(&refs(&args)));
    assert!(
        err.contains("11 training runs") && err.contains("--budget-hours"),
        "{err}"
    );
    let bad = fails(
        "study: one seed",
        &honyaku(&["study", "--quick", "--seeds", "1"]),
    );
    assert!(bad.contains("at least two"), "{bad}");
    let bad = fails(
        "study: unknown knob",
        &honyaku(&["study", "--quick", "--knobs", "gates"]),
    );
    assert!(bad.contains("unknown knob 'gates'"), "{bad}");
    // --quick: demo's mini models, a main run and a second seed per architecture, within 15
    // minutes; what it leaves out is said.
    let quick_out = tmp.path().join("quick");
    let quick = stderr(&ok(&[
        "study",
        "--quick",
        "--dry-run",
        "--out",
        quick_out.to_str().unwrap(),
    ]));
    assert!(quick.contains("study plan: 6 runs"), "{quick}");
    assert!(quick.contains("run transformer-all-s43"), "{quick}");
    assert!(
        quick.contains("subsets (little data) are left out"),
        "{quick}"
    );
    assert!(
        quick.contains("tuning sweep: left out by --quick"),
        "{quick}"
    );
    let minutes: f64 = quick
        .split("≈ ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("no estimate in {quick}"));
    assert!(minutes <= 15.0, "{quick}");
    assert!(
        !quick.contains("less than the ~"),
        "quick runs get time to learn: {quick}"
    );
}

#[test]
fn a_tiny_study_writes_its_report_with_claims_and_resumes() {
    let tmp = honyaku_conformance::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    synth(&corpus, "grammar", "200");
    let out = tmp.path().join("study");
    let args = study_args(&corpus, &out, &["--budget-hours", "0.03"]);
    ok(&refs(&args));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let claims = report["claims"].as_array().unwrap();
    assert!(claims.len() >= 8, "{claims:?}");
    for c in claims {
        assert!(
            ["supported", "contradicted", "inconclusive"].contains(&c["verdict"].as_str().unwrap()),
            "{c}"
        );
        assert!(!c["evidence"].as_str().unwrap().is_empty(), "{c}");
    }
    // A claim that rests on a run that did not learn decides nothing.
    for c in claims {
        if c["evidence"]
            .as_str()
            .unwrap()
            .starts_with("runs that did not learn")
        {
            assert_eq!(c["verdict"], "inconclusive", "{c}");
        }
    }
    assert!(
        report["learned_rule"]
            .as_str()
            .unwrap()
            .contains("BLEU ≥ 10")
    );
    let archs = report["archs"].as_array().unwrap();
    assert_eq!(archs.len(), 2);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Did each model learn?"), "{md}");
    for a in archs {
        let learned = &a["learned"];
        if learned["learned"] == false {
            let why = learned["why"].as_str().unwrap();
            assert!(md.contains(&format!("did not learn: {why}")), "{md}");
            // Every main run is evidence of the long-range claim.
            let long_range = claims.iter().find(|c| c["id"] == "attention_long_range");
            if let Some(c) = long_range {
                assert_eq!(c["verdict"], "inconclusive", "{c}");
            }
        }
    }
    for a in archs {
        // The data regime: 60 pairs and the whole set, two seeds each.
        let data = a["data"].as_array().unwrap();
        assert_eq!(data.len(), 2, "{a}");
        assert!(data.iter().all(|d| d["chrf"]["n"] == 2));
        let speed = &a["speed"];
        assert_eq!(speed["points"].as_array().unwrap().len(), 2);
        assert!(speed["latency_fit"]["exponent"].is_number());
        assert!(a["buckets"][0]["chrf"]["lower"].is_number());
    }
    let sweeps = archs[1]["sweeps"].as_array().unwrap();
    assert_eq!(sweeps[0]["knob"], "heads");
    assert_eq!(sweeps[0]["points"].as_array().unwrap().len(), 4);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## The table, measured"), "{md}");
    assert!(md.contains("## Claims and verdicts"), "{md}");
    // Knobs left out by --knobs are named as not measured.
    assert!(
        md.contains("not measured: no architecture swept `layers`"),
        "{md}"
    );
    for plot in [
        "chrf_by_length",
        "latency_vs_length",
        "data_regime",
        "sensitivity",
    ] {
        assert!(
            out.join("plots").join(format!("{plot}.png")).is_file(),
            "{plot}"
        );
    }

    // A rerun skips every finished run and measurement.
    let again = stderr(&ok(&refs(&args)));
    assert_eq!(again.matches("already trained").count(), 11, "{again}");
    assert!(!again.contains("measuring speed"), "{again}");
    // Other settings in the same directory are refused.
    let other = study_args(&corpus, &out, &["--budget-hours", "0.03", "--seed", "7"]);
    let err = fails(
        "study: a rerun with other settings",
        &honyaku(&refs(&other)),
    );
    assert!(
        err.contains("holds a study made with other settings"),
        "{err}"
    );
}
