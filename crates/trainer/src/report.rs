//! The comparison report: `report.json`, `report.md` (English or Japanese) and the plots.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;
use honyaku_eval::PairedBootstrap;
use serde::{Deserialize, Serialize};

use crate::checkpoint::write_atomic;
use crate::plots::{self, Series};
use crate::scoring::{BUCKETS, LengthBucket, Scores, is_significant};

/// Language of the report's prose and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Japanese, ready to paste into an article.
    Ja,
}

/// One validation point of a learning curve.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Updates so far.
    pub step: usize,
    /// Wall time since training started, seconds.
    pub elapsed_s: f64,
    /// Validation loss per token.
    pub loss: f64,
    /// Validation BLEU, when decoded.
    pub bleu: Option<f64>,
}

/// The validation learning curve of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Curve {
    /// Points in training order.
    pub points: Vec<CurvePoint>,
}

impl Curve {
    /// Reads the `valid` lines of a run's `metrics.jsonl`.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let points = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["kind"] == "valid")
            .map(|v| CurvePoint {
                step: v["step"].as_u64().unwrap_or(0) as usize,
                elapsed_s: v["elapsed_s"].as_f64().unwrap_or(0.0),
                loss: v["loss"].as_f64().unwrap_or(f64::NAN),
                bleu: v["bleu"].as_f64(),
            })
            .collect();
        Ok(Self { points })
    }
}

/// Everything measured for one architecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchResult {
    /// Architecture name.
    pub arch: String,
    /// Trainable parameters.
    pub parameters: usize,
    /// Wall time of training, seconds (validation included).
    pub train_seconds: f64,
    /// Updates made.
    pub steps: usize,
    /// Training target tokens per second.
    pub tokens_per_second: f64,
    /// Best validation perplexity.
    pub best_valid_ppl: Option<f64>,
    /// Validation BLEU of the best checkpoint.
    pub best_valid_bleu: Option<f64>,
    /// Test-set BLEU and chrF (greedy decoding) with signatures.
    pub test: Scores,
    /// Test BLEU per source-length bucket.
    pub bleu_by_length: Vec<LengthBucket>,
    /// Greedy decoding speed on the test set.
    pub greedy_sentences_per_second: f64,
    /// Peak resident memory of the training process, MiB.
    pub peak_rss_mib: Option<f64>,
    /// Validation learning curve.
    pub curve: Curve,
    /// Test-set translations.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hypotheses: Vec<String>,
}

/// Paired bootstrap between two architectures.
#[derive(Debug, Clone, Serialize)]
pub struct PairTest {
    /// First system.
    pub baseline: String,
    /// Second system.
    pub candidate: String,
    /// Metric resampled.
    pub metric: String,
    /// Means, confidence intervals and p-value.
    #[serde(flatten)]
    pub result: PairedBootstrap,
}

/// One test sentence with every architecture's translation.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// Source sentence.
    pub source: String,
    /// Reference translation.
    pub reference: String,
    /// `(architecture, translation)`.
    pub outputs: Vec<(String, String)>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    /// The training budget, in words.
    pub budget: String,
    /// Backend used.
    pub backend: String,
    /// Model preset used.
    pub preset: String,
    /// Test sentences.
    pub test_sentences: usize,
    /// One entry per architecture.
    pub archs: Vec<ArchResult>,
    /// Paired bootstrap for each pair of architectures.
    pub significance: Vec<PairTest>,
    /// Translations side by side.
    pub examples: Vec<Example>,
    /// Attention heatmaps (PNG paths relative to the report), one per architecture that has
    /// attention.
    pub heatmaps: Vec<String>,
}

/// Header words in the report's language.
struct Words {
    title: &'static str,
    intro: &'static str,
    arch: &'static str,
    params: &'static str,
    train_time: &'static str,
    tok_s: &'static str,
    ppl: &'static str,
    sent_s: &'static str,
    memory: &'static str,
    by_length: &'static str,
    significance: &'static str,
    examples: &'static str,
    source: &'static str,
    reference: &'static str,
    plots: &'static str,
    sig_yes: &'static str,
    sig_no: &'static str,
    budget: &'static str,
    backend: &'static str,
    preset: &'static str,
    test_sentences: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            title: "Architecture comparison",
            intro: "Every architecture was trained on the same data with the same tokenizer and the same budget, then scored on the test set with greedy decoding. BLEU and chrF are computed exactly as sacreBLEU computes them.",
            arch: "architecture",
            params: "parameters",
            train_time: "training time",
            tok_s: "train tokens/s",
            ppl: "best valid ppl",
            sent_s: "greedy sent/s",
            memory: "peak memory",
            by_length: "BLEU by source length (words)",
            significance: "Significance (paired bootstrap, 1000 resamples)",
            examples: "Examples",
            source: "source",
            reference: "reference",
            plots: "Plots",
            sig_yes: "significant at p < 0.05",
            sig_no: "not significant",
            budget: "budget",
            backend: "backend",
            preset: "preset",
            test_sentences: "test sentences",
        },
        Lang::Ja => Words {
            title: "アーキテクチャ比較",
            intro: "すべてのアーキテクチャを同じデータ・同じトークナイザ・同じ学習予算で学習し、テストセットを貪欲法で翻訳して評価しました。BLEU と chrF は sacreBLEU と同一の方法で計算しています。",
            arch: "アーキテクチャ",
            params: "パラメータ数",
            train_time: "学習時間",
            tok_s: "学習速度 (トークン/秒)",
            ppl: "最良検証パープレキシティ",
            sent_s: "貪欲法翻訳 (文/秒)",
            memory: "最大メモリ",
            by_length: "原文の長さ (単語数) 別 BLEU",
            significance: "有意差検定 (ペアブートストラップ, 1000 回リサンプリング)",
            examples: "翻訳例",
            source: "原文",
            reference: "参照訳",
            plots: "グラフ",
            sig_yes: "p < 0.05 で有意",
            sig_no: "有意差なし",
            budget: "学習予算",
            backend: "バックエンド",
            preset: "プリセット",
            test_sentences: "テスト文数",
        },
    }
}

/// The main table as Markdown.
pub fn table(r: &CompareReport, lang: Lang) -> String {
    let w = words(lang);
    let mut s = format!(
        "| {} | BLEU | chrF | {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|---|---|---|\n",
        w.arch, w.params, w.train_time, w.tok_s, w.ppl, w.sent_s, w.memory
    );
    for a in &r.archs {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2}M | {:.0} s | {:.0} | {} | {:.1} | {} |",
            a.arch,
            a.test.bleu,
            a.test.chrf,
            a.parameters as f64 / 1e6,
            a.train_seconds,
            a.tokens_per_second,
            a.best_valid_ppl.map_or("-".into(), |p| format!("{p:.2}")),
            a.greedy_sentences_per_second,
            a.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0} MiB")),
        );
    }
    s
}

fn markdown(r: &CompareReport, lang: Lang, plot_files: &[String]) -> String {
    let w = words(lang);
    let mut s = format!("# {}\n\n{}\n\n", w.title, w.intro);
    let _ = writeln!(
        s,
        "{}: {} · {}: {} · {}: {} · {}: {}\n",
        w.budget,
        r.budget,
        w.backend,
        r.backend,
        w.preset,
        r.preset,
        w.test_sentences,
        r.test_sentences
    );
    s.push_str(&table(r, lang));
    if let Some(a) = r.archs.first() {
        let _ = writeln!(
            s,
            "\nBLEU: `{}`  \nchrF: `{}`",
            a.test.signature.bleu, a.test.signature.chrf
        );
    }
    let _ = writeln!(s, "\n## {}\n", w.by_length);
    let labels: Vec<&str> = r.archs.first().map_or(Vec::new(), |a| {
        a.bleu_by_length.iter().map(|b| b.label.as_str()).collect()
    });
    let _ = writeln!(s, "| {} | {} |", w.arch, labels.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(labels.len()));
    for a in &r.archs {
        let cells: Vec<String> = a
            .bleu_by_length
            .iter()
            .map(|b| {
                b.bleu
                    .map_or("-".into(), |v| format!("{v:.2} ({})", b.sentences))
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", a.arch, cells.join(" | "));
    }
    let _ = writeln!(s, "\n## {}\n", w.significance);
    for t in &r.significance {
        let res = &t.result;
        let _ = writeln!(
            s,
            "- {} vs {}: {:.2} ({:.2} ± {:.2}) vs {:.2} ({:.2} ± {:.2}), p = {:.4}: {}",
            t.baseline,
            t.candidate,
            res.baseline.score,
            res.baseline.mean,
            res.baseline.ci,
            res.candidate.score,
            res.candidate.mean,
            res.candidate.ci,
            res.p_value,
            if is_significant(res) {
                w.sig_yes
            } else {
                w.sig_no
            }
        );
    }
    let _ = writeln!(s, "\n## {}\n", w.examples);
    for e in &r.examples {
        let _ = writeln!(
            s,
            "- **{}**: {}\n  - *{}*: {}",
            w.source, e.source, w.reference, e.reference
        );
        for (arch, out) in &e.outputs {
            let _ = writeln!(s, "  - {arch}: {out}");
        }
    }
    let _ = writeln!(s, "\n## {}\n", w.plots);
    for f in plot_files.iter().chain(&r.heatmaps) {
        let _ = writeln!(s, "![{f}]({f})");
    }
    s
}

/// Writes `report.json`, `report.md` and the plots into `dir`.
pub fn write(dir: &Path, r: &CompareReport, lang: Lang) -> Result<()> {
    let plot_files = write_plots(dir, r)?;
    write_atomic(
        &dir.join("report.json"),
        serde_json::to_string_pretty(r)?.as_bytes(),
    )?;
    write_atomic(
        &dir.join("report.md"),
        markdown(r, lang, &plot_files).as_bytes(),
    )
}

fn curve_series(
    r: &CompareReport,
    x: fn(&CurvePoint) -> f64,
    y: fn(&CurvePoint) -> Option<f64>,
) -> Vec<Series> {
    r.archs
        .iter()
        .map(|a| Series {
            name: a.arch.clone(),
            points: a
                .curve
                .points
                .iter()
                .filter_map(|p| y(p).map(|v| (x(p), v)))
                .collect(),
        })
        .collect()
}

/// Learning curves, BLEU by length and resource bars; returns the PNG names for the report.
fn write_plots(dir: &Path, r: &CompareReport) -> Result<Vec<String>> {
    let plots_dir = dir.join("plots");
    fs::create_dir_all(&plots_dir)?;
    let minutes = |p: &CurvePoint| p.elapsed_s / 60.0;
    let steps = |p: &CurvePoint| p.step as f64;
    let loss = |p: &CurvePoint| Some(p.loss);
    let bleu = |p: &CurvePoint| p.bleu;
    let mut names = Vec::new();
    let mut add = |paths: [std::path::PathBuf; 2]| {
        if let Some(name) = paths[1]
            .strip_prefix(dir)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
        {
            names.push(name);
        }
    };
    add(plots::line_chart(
        &plots_dir.join("valid_loss_time"),
        "Validation loss vs wall time",
        "minutes",
        "loss per token",
        &curve_series(r, minutes, loss),
    )?);
    add(plots::line_chart(
        &plots_dir.join("valid_bleu_time"),
        "Validation BLEU vs wall time",
        "minutes",
        "BLEU",
        &curve_series(r, minutes, bleu),
    )?);
    add(plots::line_chart(
        &plots_dir.join("valid_loss_steps"),
        "Validation loss vs updates",
        "updates",
        "loss per token",
        &curve_series(r, steps, loss),
    )?);
    add(plots::line_chart(
        &plots_dir.join("valid_bleu_steps"),
        "Validation BLEU vs updates",
        "updates",
        "BLEU",
        &curve_series(r, steps, bleu),
    )?);
    let categories: Vec<String> = BUCKETS
        .iter()
        .map(|&(lo, hi)| {
            if hi == usize::MAX {
                format!("{lo}+")
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    let by_length: Vec<(String, Vec<Option<f64>>)> = r
        .archs
        .iter()
        .map(|a| {
            (
                a.arch.clone(),
                a.bleu_by_length.iter().map(|b| b.bleu).collect(),
            )
        })
        .collect();
    add(plots::grouped_bars(
        &plots_dir.join("bleu_by_length"),
        "Test BLEU by source length (words)",
        "BLEU",
        &categories,
        &by_length,
    )?);
    let bars = |f: fn(&ArchResult) -> Option<f64>| -> Vec<(String, f64)> {
        r.archs
            .iter()
            .filter_map(|a| f(a).map(|v| (a.arch.clone(), v)))
            .collect()
    };
    add(plots::bars(
        &plots_dir.join("parameters"),
        "Parameters (millions)",
        "millions",
        &bars(|a| Some(a.parameters as f64 / 1e6)),
    )?);
    add(plots::bars(
        &plots_dir.join("train_speed"),
        "Training speed",
        "target tokens/s",
        &bars(|a| Some(a.tokens_per_second)),
    )?);
    add(plots::bars(
        &plots_dir.join("decode_speed"),
        "Greedy decoding speed",
        "sentences/s",
        &bars(|a| Some(a.greedy_sentences_per_second)),
    )?);
    add(plots::bars(
        &plots_dir.join("memory"),
        "Peak memory of training",
        "MiB",
        &bars(|a| a.peak_rss_mib),
    )?);
    Ok(names)
}
