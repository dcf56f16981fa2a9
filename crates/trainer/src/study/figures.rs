//! The study's plots: chrF by source length, cost against length (log-log), the data regime
//! and the tuning sensitivity.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::results::StudyReport;
use super::speed::SpeedPoint;
use crate::plots::{self, Series};

/// Writes every plot under `dir/plots`; returns the PNG paths relative to `dir`.
pub fn write_plots(dir: &Path, r: &StudyReport) -> Result<Vec<String>> {
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir)?;
    let mut names = Vec::new();
    let mut add = |paths: [PathBuf; 2]| {
        if let Ok(p) = paths[1].strip_prefix(dir) {
            names.push(p.to_string_lossy().into_owned());
        }
    };
    let labels: Vec<String> = r
        .archs
        .first()
        .map(|a| a.buckets.iter().map(|b| b.label.clone()).collect())
        .unwrap_or_default();
    let by_bucket: Vec<(String, Vec<Option<f64>>)> = r
        .archs
        .iter()
        .map(|a| {
            let v = a.buckets.iter().map(|b| b.chrf.map(|c| c.score)).collect();
            (a.arch.clone(), v)
        })
        .collect();
    add(plots::grouped_bars(
        &plots_dir.join("chrf_by_length"),
        "Test chrF by source length (words)",
        "chrF",
        &labels,
        &by_bucket,
    )?);
    let log2 = |v: f64| v.log2();
    for (stem, title, y, f) in [
        (
            "train_step_vs_length",
            "Training step time vs sentence length (log2-log2)",
            "log2 seconds per update",
            (|p: &SpeedPoint| p.train_step_seconds) as fn(&SpeedPoint) -> f64,
        ),
        (
            "latency_vs_length",
            "One-sentence latency vs length (log2-log2)",
            "log2 seconds",
            |p| p.latency_seconds,
        ),
    ] {
        let series: Vec<Series> = r
            .archs
            .iter()
            .filter_map(|a| {
                let c = a.speed.as_ref()?;
                Some(Series {
                    name: a.arch.clone(),
                    points: c
                        .points
                        .iter()
                        .map(|p| (log2(p.length as f64), log2(f(p))))
                        .collect(),
                })
            })
            .collect();
        add(plots::line_chart(
            &plots_dir.join(stem),
            title,
            "log2 tokens per sentence",
            y,
            &series,
        )?);
    }
    let data: Vec<Series> = r
        .archs
        .iter()
        .map(|a| Series {
            name: a.arch.clone(),
            points: a
                .data
                .iter()
                .map(|d| (log2(d.pairs as f64), d.chrf.mean))
                .collect(),
        })
        .collect();
    // One point per architecture (no subsets, as with --quick) is no curve: no plot.
    if data.iter().any(|s| s.points.len() > 1) {
        add(plots::line_chart(
            &plots_dir.join("data_regime"),
            "Test chrF (mean over seeds) vs training pairs",
            "log2 training pairs",
            "chrF",
            &data,
        )?);
    }
    let mut knobs: Vec<String> = vec!["seeds".into()];
    for a in &r.archs {
        for s in &a.sweeps {
            if !knobs.contains(&s.knob) {
                knobs.push(s.knob.clone());
            }
        }
    }
    let ranges: Vec<(String, Vec<Option<f64>>)> = r
        .archs
        .iter()
        .map(|a| {
            let v = knobs
                .iter()
                .map(|k| match k.as_str() {
                    "seeds" => a.data.iter().find(|d| d.whole).map(|d| d.chrf.range()),
                    _ => a.sweeps.iter().find(|s| &s.knob == k).map(|s| s.chrf_range),
                })
                .collect();
            (a.arch.clone(), v)
        })
        .collect();
    add(plots::grouped_bars(
        &plots_dir.join("sensitivity"),
        "chrF range caused by each knob (seeds: the noise)",
        "chrF range",
        &knobs,
        &ranges,
    )?);
    Ok(names)
}
