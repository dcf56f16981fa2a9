//! Computational character: training and decoding throughput and single-sentence latency
//! against sentence length, measured with `honyaku bench`'s code ([`BenchJob`]) on the study's
//! backend, and the growth exponent of each cost fitted on log-log axes.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use honyaku_core::Preset;
use serde::{Deserialize, Serialize};

use super::stats::PowerFit;
use crate::arch::{Arch, ModelConfig};
use crate::backend::Backend;
use crate::bench::{BenchJob, BenchShape};
use crate::run::write_atomic;

/// The costs at one sentence length (source = target = decoded length).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpeedPoint {
    /// Tokens per sentence.
    pub length: usize,
    /// Seconds of one training update of the batch.
    pub train_step_seconds: f64,
    /// Training target tokens per second.
    pub train_tokens_per_second: f64,
    /// Greedy decoding of the batch: generated tokens per second.
    pub decode_tokens_per_second: f64,
    /// Seconds to translate one sentence alone (greedy, `length` steps).
    pub latency_seconds: f64,
}

/// One architecture's costs against length, with the fitted exponents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpeedCurve {
    /// Architecture.
    pub arch: String,
    /// Sentences per batch of the throughput measurements.
    pub batch: usize,
    /// Points, shortest first.
    pub points: Vec<SpeedPoint>,
    /// Lengths skipped (longer than the model's position table).
    pub skipped: Vec<usize>,
    /// Exponent of the training step time against length.
    pub train_fit: Option<PowerFit>,
    /// Exponent of the time to decode a batch against length.
    pub decode_fit: Option<PowerFit>,
    /// Exponent of the single-sentence latency against length.
    pub latency_fit: Option<PowerFit>,
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct SpeedSettings {
    /// Model preset.
    pub preset: Preset,
    /// Backend.
    pub backend: Backend,
    /// Vocabulary of the random batches (the study's tokenizer size).
    pub vocab: usize,
    /// Sentence lengths.
    pub lengths: Vec<usize>,
    /// Sentences per batch of the throughput measurements.
    pub batch: usize,
    /// Timed training updates per length.
    pub steps: usize,
}

/// Measures `arch`, or reads the measurement a previous (killed) study stored in `file`.
pub fn speed_curve(arch: Arch, s: &SpeedSettings, file: &Path) -> Result<SpeedCurve> {
    if let Ok(text) = fs::read_to_string(file)
        && let Ok(curve) = serde_json::from_str::<SpeedCurve>(&text)
    {
        return Ok(curve);
    }
    eprintln!("{arch}: measuring speed at lengths {:?}", s.lengths);
    let config = ModelConfig::preset(arch, s.preset, s.vocab, s.vocab);
    let table = config.max_positions();
    let (mut points, mut skipped) = (Vec::new(), Vec::new());
    for &length in &s.lengths {
        if table.is_some_and(|t| length > t) {
            skipped.push(length);
            continue;
        }
        points.push(measure(&config, s, length)?);
    }
    let fit = |f: fn(&SpeedPoint) -> f64| {
        PowerFit::fit(
            &points
                .iter()
                .map(|p| (p.length as f64, f(p)))
                .collect::<Vec<_>>(),
        )
    };
    let curve = SpeedCurve {
        arch: arch.name().into(),
        batch: s.batch,
        train_fit: fit(|p| p.train_step_seconds),
        decode_fit: fit(|p| p.length as f64 / p.decode_tokens_per_second),
        latency_fit: fit(|p| p.latency_seconds),
        points,
        skipped,
    };
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_atomic(file, serde_json::to_string_pretty(&curve)?.as_bytes())?;
    Ok(curve)
}

/// One length: a batch for throughput (training and greedy), then one sentence for latency.
fn measure(config: &ModelConfig, s: &SpeedSettings, length: usize) -> Result<SpeedPoint> {
    let device = s.backend.train_device()?;
    let shape = |batch: usize, steps: usize| BenchShape {
        batch,
        src_len: length,
        tgt_len: length,
        vocab: s.vocab,
        steps,
        warmup: usize::from(steps > 0),
        decode_len: length,
        beam: 1,
        cpu_shards: s.backend.cpu_shards(0),
    };
    let job = |shape: BenchShape| BenchJob {
        shape,
        device: device.clone(),
        seed: 7,
    };
    let batch = config.run(&device, job(shape(s.batch, s.steps.max(1))));
    let single = config.run(&device, job(shape(1, 0)));
    let tokens = batch.train.tokens_per_step as f64;
    Ok(SpeedPoint {
        length,
        train_step_seconds: tokens / batch.train.tokens_per_second.max(1e-12),
        train_tokens_per_second: batch.train.tokens_per_second,
        decode_tokens_per_second: batch.greedy.tokens_per_second,
        latency_seconds: single.greedy.seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_measurement_has_a_point_per_length_and_is_reused() {
        let tmp = honyaku_conformance::tempdir().unwrap();
        let file = tmp.path().join("speed/lstm.json");
        let s = SpeedSettings {
            preset: Preset::Tiny,
            backend: Backend::Flex,
            vocab: 30,
            lengths: vec![4, 8],
            batch: 2,
            steps: 1,
        };
        let curve = speed_curve(Arch::Lstm, &s, &file).unwrap();
        assert_eq!(
            curve.points.iter().map(|p| p.length).collect::<Vec<_>>(),
            [4, 8]
        );
        for p in &curve.points {
            assert!(
                p.train_step_seconds > 0.0 && p.latency_seconds > 0.0,
                "{p:?}"
            );
            assert!(p.decode_tokens_per_second > 0.0);
        }
        assert_eq!(curve.train_fit.unwrap().points, 2);
        // A second call reads the stored measurement instead of measuring again.
        let mut stored = curve.clone();
        stored.batch = 99;
        write_atomic(&file, serde_json::to_string(&stored).unwrap().as_bytes()).unwrap();
        assert_eq!(speed_curve(Arch::Lstm, &s, &file).unwrap().batch, 99);
    }
}
