//! What `honyaku evaluate` reports: scores of one system (with BLEU per length bucket and the
//! decoding speed of a run), or two systems compared by paired bootstrap; as JSON or text.

use anyhow::Result;
use clap::ValueEnum;
use honyaku_eval::{BleuOptions, BootstrapOptions, ChrfOptions, PairedBootstrap, paired_bootstrap};
use serde::Serialize;

use super::scoring::{LengthBucket, Scores, is_significant, score};

/// A metric `evaluate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalMetric {
    Bleu,
    Chrf,
}

/// Everything `--json` prints.
#[derive(Debug, Serialize)]
pub struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    bleu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chrf: Option<f64>,
    signature: Signatures,
    #[serde(skip_serializing_if = "Option::is_none")]
    bleu_detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bleu_by_length: Vec<LengthBucket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sentences_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    systems: Vec<Scores>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bootstrap: Vec<NamedBootstrap>,
}

#[derive(Debug, Serialize)]
pub struct Signatures {
    #[serde(skip_serializing_if = "Option::is_none")]
    bleu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chrf: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct NamedBootstrap {
    metric: String,
    #[serde(flatten)]
    result: PairedBootstrap,
}

/// The report of one system's scores.
pub fn single(
    s: Scores,
    metrics: &[EvalMetric],
    buckets: Vec<LengthBucket>,
    speed: Option<f64>,
) -> Report {
    let bleu = metrics.contains(&EvalMetric::Bleu);
    let chrf = metrics.contains(&EvalMetric::Chrf);
    Report {
        bleu: bleu.then_some(s.bleu),
        chrf: chrf.then_some(s.chrf),
        signature: Signatures {
            bleu: bleu.then_some(s.signature.bleu),
            chrf: chrf.then_some(s.signature.chrf),
        },
        bleu_detail: bleu.then_some(s.bleu_detail),
        bleu_by_length: buckets,
        sentences_per_second: speed,
        systems: Vec::new(),
        bootstrap: Vec::new(),
    }
}

/// The report of two systems compared by paired bootstrap resampling.
pub fn pair(
    a: &[String],
    b: &[String],
    refs: &[String],
    bleu: &BleuOptions,
    chrf: &ChrfOptions,
    metrics: &[EvalMetric],
) -> Result<Report> {
    let refs_stream = [refs.to_vec()];
    let opts = BootstrapOptions::default();
    let mut bootstrap = Vec::new();
    if metrics.contains(&EvalMetric::Bleu) {
        bootstrap.push(NamedBootstrap {
            metric: "BLEU".into(),
            result: paired_bootstrap(bleu, a, b, &refs_stream, &opts)?,
        });
    }
    if metrics.contains(&EvalMetric::Chrf) {
        bootstrap.push(NamedBootstrap {
            metric: "chrF2".into(),
            result: paired_bootstrap(chrf, a, b, &refs_stream, &opts)?,
        });
    }
    let systems = vec![score(a, refs, bleu, chrf)?, score(b, refs, bleu, chrf)?];
    Ok(Report {
        bleu: None,
        chrf: None,
        signature: Signatures {
            bleu: Some(systems[0].signature.bleu.clone()),
            chrf: Some(systems[0].signature.chrf.clone()),
        },
        bleu_detail: None,
        bleu_by_length: Vec::new(),
        sentences_per_second: None,
        systems,
        bootstrap,
    })
}

/// The report as text, one metric per line.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let mut println = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    if let (Some(b), Some(sig)) = (r.bleu, &r.signature.bleu) {
        println(format!("BLEU  {b:6.2}  {sig}"));
        if let Some(d) = &r.bleu_detail {
            println(format!("      {d}"));
        }
    }
    if let (Some(c), Some(sig)) = (r.chrf, &r.signature.chrf) {
        println(format!("chrF2 {c:6.2}  {sig}"));
    }
    for bucket in &r.bleu_by_length {
        let score = bucket.bleu.map_or("-".to_string(), |b| format!("{b:.2}"));
        println(format!(
            "  source {:>6} words: {:>5} sentences, BLEU {score}",
            bucket.label, bucket.sentences
        ));
    }
    if let Some(s) = r.sentences_per_second {
        println(format!("decoding: {s:.1} sentences/s"));
    }
    for (name, s) in ["baseline (first --hyp)", "candidate (second --hyp)"]
        .iter()
        .zip(&r.systems)
    {
        println(format!("{name}: BLEU {:.2}, chrF2 {:.2}", s.bleu, s.chrf));
    }
    for b in &r.bootstrap {
        let res = &b.result;
        println(format!(
            "{}: baseline {:.2} ({:.2} ± {:.2}), candidate {:.2} ({:.2} ± {:.2}), p = {:.4} ({} resamples){}",
            b.metric,
            res.baseline.score,
            res.baseline.mean,
            res.baseline.ci,
            res.candidate.score,
            res.candidate.mean,
            res.candidate.ci,
            res.p_value,
            res.n_samples,
            verdict(res)
        ));
    }
    out
}

/// Plain words for a paired bootstrap result.
fn verdict(res: &PairedBootstrap) -> &'static str {
    if res.baseline.score == res.candidate.score {
        " (identical scores)"
    } else if is_significant(res) {
        " (significant at 0.05)"
    } else {
        " (not significant at 0.05)"
    }
}
