//! The report's plots: learning curves, BLEU by length and resource bars.

use std::fs;
use std::path::Path;

use anyhow::Result;

use super::comparison::{ArchResult, CompareReport, CurvePoint};
use super::scoring::BUCKETS;
use crate::plots::{self, Series};

pub(super) fn curve_series(
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
pub(super) fn write_plots(dir: &Path, r: &CompareReport) -> Result<Vec<String>> {
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
