//! The architecture registry: [`registry!`] lists every architecture once (name, doc and
//! configuration type) and writes the `Arch` enum, the `ModelConfig` enum saved in
//! `config.json`, and the one dispatch [`ModelConfig::visit`] that turns a configuration into
//! generic code. What the trainer needs of an architecture is the [`ArchConfig`] trait
//! (`impls.rs`). A new architecture is its own crate, one line in the list below and one
//! `delegate_arch_config!` line in `impls.rs`.

mod impls;
mod registry;
mod spec;

use burn::prelude::*;
use honyaku_attention::{AttentionKind, AttentionSeq2SeqConfig};
use honyaku_core::recurrent::Cell;
use honyaku_lstm::LstmSeq2SeqConfig;
use honyaku_transformer::TransformerConfig;
use serde::{Deserialize, Serialize};

use self::registry::registry;
pub use self::spec::{ArchConfig, ConfigVisitor, ModelTask};

/// `--arch`, `--archs`: an architecture name (clap gets the message).
pub fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse()
}

registry! {
    /// Multi-layer LSTM encoder-decoder without attention (Sutskever et al. 2014).
    Lstm = "lstm": LstmSeq2SeqConfig,
    /// Bidirectional LSTM encoder, LSTM decoder with attention (Bahdanau 2015 / Luong 2015).
    Attention = "attention": AttentionSeq2SeqConfig,
    /// Encoder-decoder Transformer (Vaswani et al. 2017).
    Transformer = "transformer": TransformerConfig,
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

impl TryFrom<serde_json::Value> for ModelConfig {
    type Error = String;

    /// Parses the tagged configuration, then refuses every key that does not come back when
    /// the parsed configuration is written out again: the architecture's configs (Burn
    /// `Config`s) cannot say `deny_unknown_fields` themselves.
    fn try_from(value: serde_json::Value) -> Result<Self, String> {
        let config = RawModelConfig::deserialize(&value)
            .map_err(|e| e.to_string())?
            .checked();
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

/// [`ModelConfig::run`] as a visitor: builds the model and hands it to the task.
struct Build<'a, T> {
    device: &'a Device,
    task: T,
}

impl<T: ModelTask> ConfigVisitor for Build<'_, T> {
    type Output = T::Output;

    fn visit<C: ArchConfig>(self, config: &C) -> T::Output {
        self.task.run(config.init(self.device))
    }
}

impl ModelConfig {
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

    /// Sets the recurrent cell; only the recurrent architectures have one.
    pub fn with_cell(self, cell: Cell) -> Result<Self, String> {
        match self {
            Self::Lstm(c) => Ok(Self::Lstm(c.with_cell(cell))),
            Self::Attention(c) => Ok(Self::Attention(c.with_cell(cell))),
            other => Err(format!(
                "--cell applies to --arch lstm and --arch attention, not to {}",
                other.arch()
            )),
        }
    }

    /// The recurrent cell, for the architectures that have one.
    pub fn cell(&self) -> Option<Cell> {
        match self {
            Self::Lstm(c) => Some(c.cell),
            Self::Attention(c) => Some(c.cell),
            Self::Transformer(_) => None,
        }
    }

    /// Checks the dimensions, with a message a user can act on.
    pub fn validate(&self) -> Result<(), String> {
        struct Validate;
        impl ConfigVisitor for Validate {
            type Output = Result<(), String>;
            fn visit<C: ArchConfig>(self, config: &C) -> Result<(), String> {
                config.validate()
            }
        }
        self.visit(Validate)
    }

    /// The target vocabulary size: the most distinct hypotheses one search step can extend.
    pub fn tgt_vocab(&self) -> usize {
        struct TgtVocab;
        impl ConfigVisitor for TgtVocab {
            type Output = usize;
            fn visit<C: ArchConfig>(self, config: &C) -> usize {
                config.tgt_vocab()
            }
        }
        self.visit(TgtVocab)
    }

    /// The longest sequence (in tokens, BOS or EOS included) the model can read or write: the
    /// Transformer's position table; `None` for the LSTMs, which have no such limit.
    pub fn max_positions(&self) -> Option<usize> {
        struct MaxPositions;
        impl ConfigVisitor for MaxPositions {
            type Output = Option<usize>;
            fn visit<C: ArchConfig>(self, config: &C) -> Option<usize> {
                config.max_positions()
            }
        }
        self.visit(MaxPositions)
    }

    /// Matmul FLOPs of one teacher-forced forward pass over one sentence pair of `src_len`
    /// source and `tgt_len` target tokens (see each config's `forward_flops`).
    pub fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        struct Flops(usize, usize);
        impl ConfigVisitor for Flops {
            type Output = f64;
            fn visit<C: ArchConfig>(self, config: &C) -> f64 {
                config.forward_flops(self.0, self.1)
            }
        }
        self.visit(Flops(src_len, tgt_len))
    }

    /// Builds the model on `device` and hands it to `task`: the one place that turns a config
    /// into a typed model.
    pub fn run<T: ModelTask>(&self, device: &Device, task: T) -> T::Output {
        self.visit(Build { device, task })
    }
}

#[cfg(test)]
mod tests {
    use honyaku_core::Preset;

    use super::*;

    #[test]
    fn every_preset_round_trips_through_json() {
        for arch in Arch::ALL {
            for preset in Preset::ALL {
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
    fn a_recurrent_config_written_before_the_cell_existed_reads_as_an_lstm() {
        for arch in [Arch::Lstm, Arch::Attention] {
            let config = ModelConfig::preset(arch, Preset::Small, 100, 100);
            let mut old = serde_json::to_value(&config).unwrap();
            assert_eq!(old["cell"], "lstm", "{arch}");
            old.as_object_mut().unwrap().remove("cell");
            let read = serde_json::from_value::<ModelConfig>(old).unwrap();
            assert_eq!(read, config, "{arch}");
            assert_eq!(read.cell(), Some(Cell::Lstm));
        }
        let transformer = ModelConfig::preset(Arch::Transformer, Preset::Tiny, 10, 10);
        let mut with_cell = serde_json::to_value(&transformer).unwrap();
        with_cell["cell"] = "gru".into();
        let err = serde_json::from_value::<ModelConfig>(with_cell)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `cell`"), "{err}");
    }

    #[test]
    fn an_unknown_architecture_is_refused() {
        let err = serde_json::from_str::<ModelConfig>(r#"{"arch": "gru"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `gru`"), "{err}");
    }

    #[test]
    fn the_registry_dispatches_to_every_architecture() {
        for arch in Arch::ALL {
            assert_eq!(arch.name().parse::<Arch>().unwrap(), arch);
            let config = ModelConfig::preset(arch, Preset::Tiny, 10, 10);
            assert_eq!(config.arch(), arch);
            assert!(config.validate().is_ok(), "{arch}");
            let bigger = config.clone().with_vocab(200, 300);
            let json = serde_json::to_value(&bigger).unwrap();
            assert_eq!(json["src_vocab"], 200, "{arch}");
            assert_eq!(json["tgt_vocab"], 300, "{arch}");
            // A larger output vocabulary costs more FLOPs in the output projection.
            assert!(
                bigger.forward_flops(5, 5) > config.forward_flops(5, 5),
                "{arch}"
            );
        }
    }
}
