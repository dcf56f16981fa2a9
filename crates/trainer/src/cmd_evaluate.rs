//! `honyaku evaluate`: sacreBLEU-exact scores of a hypothesis file, of a run on a test set
//! (with BLEU per source-length bucket), or paired bootstrap between two systems.

use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use honyaku_eval::{BleuOptions, BootstrapOptions, ChrfOptions, PairedBootstrap, paired_bootstrap};
use serde::Serialize;

use crate::cli::{EvalMetric, EvaluateArgs};
use crate::cmd_translate::{read_input, translate_lines};
use crate::output::write_stdout;
use crate::scoring::{LengthBucket, Scores, bleu_by_length, is_significant, score};
use crate::translate::Decoding;

/// Everything `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
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
struct Signatures {
    #[serde(skip_serializing_if = "Option::is_none")]
    bleu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chrf: Option<String>,
}

#[derive(Debug, Serialize)]
struct NamedBootstrap {
    metric: String,
    #[serde(flatten)]
    result: PairedBootstrap,
}

/// Runs `honyaku evaluate`.
pub fn run(args: EvaluateArgs) -> Result<()> {
    let refs = read_input(Some(&args.reference))?;
    let bleu_opts = BleuOptions {
        tokenizer: args.tokenize,
        lowercase: args.lowercase,
        ..BleuOptions::default()
    };
    let chrf_opts = ChrfOptions {
        lowercase: args.lowercase,
        ..ChrfOptions::default()
    };
    let report = match (&args.run, args.hyp.as_slice()) {
        (Some(run), []) => {
            let Some(src) = &args.src else {
                bail!("--run needs --src, the source side of the test set");
            };
            let sources = read_input(Some(src))?;
            check_aligned(src, sources.len(), &args.reference, refs.len())?;
            let decoding = Decoding::new(args.beam, 1, args.alpha);
            let start = Instant::now();
            let out = translate_lines(run, args.backend, &sources, decoding, args.max_tokens)?;
            let speed = sources.len() as f64 / start.elapsed().as_secs_f64().max(1e-9);
            let scores = score(&out.best, &refs, &bleu_opts, &chrf_opts)?;
            let buckets = bleu_by_length(&sources, &out.best, &refs, &bleu_opts)?;
            if let Some(path) = &args.output {
                crate::checkpoint::write_atomic(path, (out.best.join("\n") + "\n").as_bytes())?;
            }
            single(scores, &args.metrics, buckets, Some(speed))
        }
        (None, [hyp]) => {
            let hyps = read_input(Some(hyp))?;
            check_aligned(hyp, hyps.len(), &args.reference, refs.len())?;
            single(
                score(&hyps, &refs, &bleu_opts, &chrf_opts)?,
                &args.metrics,
                Vec::new(),
                None,
            )
        }
        (None, [a, b]) => {
            let (a_path, b_path) = (a, b);
            let (a, b) = (read_input(Some(a))?, read_input(Some(b))?);
            check_aligned(a_path, a.len(), &args.reference, refs.len())?;
            check_aligned(b_path, b.len(), &args.reference, refs.len())?;
            pair(&a, &b, &refs, &bleu_opts, &chrf_opts, &args.metrics)?
        }
        (Some(_), [_, ..]) => bail!("give either --run (with --src) or --hyp, not both"),
        (None, []) => bail!(
            "nothing to evaluate: give --hyp FILE (twice to compare two systems) or --run RUN_DIR --src FILE"
        ),
        (None, _) => bail!("--hyp can be given once (score) or twice (paired bootstrap), not more"),
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        render_text(&report)
    };
    write_stdout(&text)
}

/// Refuses a hypothesis (or source) file whose line count differs from the reference's.
fn check_aligned(path: &Path, lines: usize, reference: &Path, refs: usize) -> Result<()> {
    if lines != refs {
        bail!(
            "{} has {lines} lines but the reference {} has {refs}; give files of the same test \
             set, one sentence per line",
            path.display(),
            reference.display()
        );
    }
    Ok(())
}

fn single(
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

fn pair(
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

fn render_text(r: &Report) -> String {
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
