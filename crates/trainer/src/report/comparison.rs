//! What a comparison measured: per architecture, its scores, curve and resources; between
//! architectures, significance; and example translations side by side.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use honyaku_eval::PairedBootstrap;
use serde::{Deserialize, Serialize};

use super::scoring::{LengthBucket, Scores};

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
    /// Epochs started.
    #[serde(default)]
    pub epochs: usize,
    /// Target tokens trained on.
    #[serde(default)]
    pub target_tokens: usize,
    /// Seconds of the training wall time spent validating.
    #[serde(default)]
    pub valid_seconds: f64,
    /// The training settings the run used.
    #[serde(default)]
    pub settings: RunSettings,
    /// Test-set translations.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub hypotheses: Vec<String>,
}

/// The training settings of one run, as its `config.json` records them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunSettings {
    /// Peak (or constant) learning rate.
    pub lr: f64,
    /// Schedule, in words (with its warm-up or plateau settings).
    pub schedule: String,
    /// Adam's β₁, β₂ and ε.
    pub adam: [f64; 3],
    /// Label smoothing.
    pub label_smoothing: f64,
    /// Gradient-norm clipping.
    pub clip_norm: Option<f32>,
    /// Tokens per batch.
    pub max_tokens: usize,
    /// The model's dropout.
    pub dropout: Option<f64>,
    /// The metric that picked the best checkpoint.
    pub select_metric: String,
    /// The checkpoint the test set was translated with.
    pub checkpoint: String,
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
