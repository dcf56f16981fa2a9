//! The architecture as a typed config enum, matched in exactly one place per question
//! ([`ModelConfig::run`] builds the model; the others read its config).

use burn::prelude::*;
use clap::ValueEnum;
use honyaku_attention::{AttentionKind, AttentionSeq2SeqConfig};
use honyaku_core::{Preset, Seq2Seq};
use honyaku_lstm::LstmSeq2SeqConfig;
use honyaku_transformer::TransformerConfig;
use serde::{Deserialize, Serialize};

/// The architectures `--arch` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Multi-layer LSTM encoder-decoder without attention (Sutskever et al. 2014).
    Lstm,
    /// Bidirectional LSTM encoder, LSTM decoder with attention (Bahdanau 2015 / Luong 2015).
    Attention,
    /// Encoder-decoder Transformer (Vaswani et al. 2017).
    Transformer,
}

impl Arch {
    /// Every architecture, in the order reports list them.
    pub const ALL: [Arch; 3] = [Arch::Lstm, Arch::Attention, Arch::Transformer];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lstm => "lstm",
            Self::Attention => "attention",
            Self::Transformer => "transformer",
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Arch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|a| a.name()).collect();
                format!(
                    "unknown architecture '{s}' (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// A model configuration: which architecture, with all its dimensions. Saved as part of
/// `config.json` in the run directory. Reading one refuses fields the architecture does not
/// have (a misspelt `n_layer` would otherwise be ignored silently).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "lowercase", try_from = "serde_json::Value")]
pub enum ModelConfig {
    /// See [`LstmSeq2SeqConfig`].
    Lstm(LstmSeq2SeqConfig),
    /// See [`AttentionSeq2SeqConfig`].
    Attention(AttentionSeq2SeqConfig),
    /// See [`TransformerConfig`].
    Transformer(TransformerConfig),
}

/// [`ModelConfig`] as serde reads it, before the check for unknown fields.
#[derive(Deserialize)]
#[serde(tag = "arch", rename_all = "lowercase")]
enum RawModelConfig {
    Lstm(LstmSeq2SeqConfig),
    Attention(AttentionSeq2SeqConfig),
    Transformer(TransformerConfig),
}

impl TryFrom<serde_json::Value> for ModelConfig {
    type Error = String;

    /// Parses the tagged configuration, then refuses every key that does not come back when
    /// the parsed configuration is written out again: the architecture's configs (Burn
    /// `Config`s) cannot say `deny_unknown_fields` themselves.
    fn try_from(value: serde_json::Value) -> Result<Self, String> {
        let config = match RawModelConfig::deserialize(&value).map_err(|e| e.to_string())? {
            RawModelConfig::Lstm(c) => Self::Lstm(c),
            RawModelConfig::Attention(c) => Self::Attention(c),
            RawModelConfig::Transformer(c) => Self::Transformer(c),
        };
        let written = serde_json::to_value(&config).map_err(|e| e.to_string())?;
        if let (Some(given), Some(known)) = (value.as_object(), written.as_object()) {
            let mut unknown: Vec<&str> = given
                .keys()
                .filter(|k| !known.contains_key(*k))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                unknown.sort_unstable();
                let mut fields: Vec<&str> = known.keys().map(String::as_str).collect();
                fields.sort_unstable();
                return Err(format!(
                    "unknown field{} `{}` in the {} model configuration; its fields are {}",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.join("`, `"),
                    config.arch(),
                    fields.join(", ")
                ));
            }
        }
        Ok(config)
    }
}

/// Work to do with a model whose architecture is only known at run time. Implemented by
/// training, translation and benchmarks; [`ModelConfig::run`] picks the type.
pub trait ModelTask {
    /// What the task returns.
    type Output;
    /// Runs the task on a freshly initialised model.
    fn run<M: Seq2Seq>(self, model: M) -> Self::Output;
}

impl ModelConfig {
    /// The configuration of `arch` at `preset` for the given vocabularies.
    pub fn preset(arch: Arch, preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        match arch {
            Arch::Lstm => Self::Lstm(LstmSeq2SeqConfig::preset(preset, src_vocab, tgt_vocab)),
            Arch::Attention => {
                Self::Attention(AttentionSeq2SeqConfig::preset(preset, src_vocab, tgt_vocab))
            }
            Arch::Transformer => {
                Self::Transformer(TransformerConfig::preset(preset, src_vocab, tgt_vocab))
            }
        }
    }

    /// The architecture.
    pub fn arch(&self) -> Arch {
        match self {
            Self::Lstm(_) => Arch::Lstm,
            Self::Attention(_) => Arch::Attention,
            Self::Transformer(_) => Arch::Transformer,
        }
    }

    /// The same configuration built for other vocabulary sizes (those of the run's tokenizers).
    pub fn with_vocab(self, src_vocab: usize, tgt_vocab: usize) -> Self {
        match self {
            Self::Lstm(c) => Self::Lstm(LstmSeq2SeqConfig {
                src_vocab,
                tgt_vocab,
                ..c
            }),
            Self::Attention(c) => Self::Attention(AttentionSeq2SeqConfig {
                src_vocab,
                tgt_vocab,
                ..c
            }),
            Self::Transformer(c) => Self::Transformer(TransformerConfig {
                src_vocab,
                tgt_vocab,
                ..c
            }),
        }
    }

    /// Sets the attention function; only the attention architecture has one.
    pub fn with_attention_kind(self, kind: AttentionKind) -> Result<Self, String> {
        match self {
            Self::Attention(c) => Ok(Self::Attention(c.with_attention(kind))),
            other => Err(format!(
                "--attention applies to --arch attention, not to {}",
                other.arch()
            )),
        }
    }

    /// Checks the dimensions, with a message a user can act on.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Lstm(c) => c.validate(),
            Self::Attention(c) => c.validate(),
            Self::Transformer(c) => c.validate(),
        }
    }

    /// The target vocabulary size: the most distinct hypotheses one search step can extend.
    pub fn tgt_vocab(&self) -> usize {
        match self {
            Self::Lstm(c) => c.tgt_vocab,
            Self::Attention(c) => c.tgt_vocab,
            Self::Transformer(c) => c.tgt_vocab,
        }
    }

    /// The longest sequence (in tokens, BOS or EOS included) the model can read or write: the
    /// Transformer's position table; `None` for the LSTMs, which have no such limit.
    pub fn max_positions(&self) -> Option<usize> {
        match self {
            Self::Lstm(_) | Self::Attention(_) => None,
            Self::Transformer(c) => Some(c.max_len),
        }
    }

    /// Matmul FLOPs of one teacher-forced forward pass over one sentence pair of `src_len`
    /// source and `tgt_len` target tokens (see each config's `forward_flops`).
    pub fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        match self {
            Self::Lstm(c) => c.forward_flops(src_len, tgt_len),
            Self::Attention(c) => c.forward_flops(src_len, tgt_len),
            Self::Transformer(c) => c.forward_flops(src_len, tgt_len),
        }
    }

    /// Builds the model on `device` and hands it to `task`: the one place that turns a config
    /// into a typed model.
    pub fn run<T: ModelTask>(&self, device: &Device, task: T) -> T::Output {
        match self {
            Self::Lstm(c) => task.run(c.init(device)),
            Self::Attention(c) => task.run(c.init(device)),
            Self::Transformer(c) => task.run(c.init(device)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_round_trips_through_json() {
        for arch in Arch::ALL {
            for preset in [Preset::Tiny, Preset::Small, Preset::Base] {
                let config = ModelConfig::preset(arch, preset, 120, 130);
                let json = serde_json::to_string(&config).unwrap();
                assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), config);
            }
        }
    }

    #[test]
    fn an_unknown_model_field_is_refused_by_name() {
        let config = ModelConfig::preset(Arch::Lstm, Preset::Tiny, 10, 10);
        let mut value = serde_json::to_value(&config).unwrap();
        value["n_layer"] = 3.into();
        let err = serde_json::from_value::<ModelConfig>(value)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown field `n_layer` in the lstm model configuration; its fields"),
            "{err}"
        );
        assert!(err.contains("n_layers"), "{err}");
    }

    #[test]
    fn an_unknown_architecture_is_refused() {
        let err = serde_json::from_str::<ModelConfig>(r#"{"arch": "gru"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `gru`"), "{err}");
    }
}
