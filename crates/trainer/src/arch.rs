//! The architecture as a typed config enum, matched in exactly one place ([`ModelConfig::run`]).

use burn::prelude::*;
use clap::ValueEnum;
use honyaku_core::{Preset, Seq2Seq};
use honyaku_lstm::LstmSeq2SeqConfig;
use serde::{Deserialize, Serialize};

/// The architectures `--arch` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Multi-layer LSTM encoder-decoder without attention (Sutskever et al. 2014).
    Lstm,
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Lstm => "lstm",
        })
    }
}

/// A model configuration: which architecture, with all its dimensions. Saved as part of
/// `config.json` in the run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "lowercase")]
pub enum ModelConfig {
    /// See [`LstmSeq2SeqConfig`].
    Lstm(LstmSeq2SeqConfig),
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
        }
    }

    /// The architecture.
    pub fn arch(&self) -> Arch {
        match self {
            Self::Lstm(_) => Arch::Lstm,
        }
    }

    /// Vocabulary sizes `(source, target)` the model was built for.
    pub fn vocab_sizes(&self) -> (usize, usize) {
        match self {
            Self::Lstm(c) => (c.src_vocab, c.tgt_vocab),
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
        }
    }

    /// Checks the dimensions, with a message a user can act on.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Lstm(c) => {
                if c.n_layers == 0 || c.d_hidden == 0 || c.d_embed == 0 {
                    return Err("lstm: n_layers, d_hidden and d_embed must be at least 1".into());
                }
                if !(0.0..1.0).contains(&c.dropout) {
                    return Err(format!(
                        "lstm: dropout must be in [0, 1), got {}",
                        c.dropout
                    ));
                }
                Ok(())
            }
        }
    }

    /// Builds the model on `device` and hands it to `task`: the one place that matches on the
    /// architecture.
    pub fn run<T: ModelTask>(&self, device: &Device, task: T) -> T::Output {
        match self {
            Self::Lstm(c) => task.run(c.init(device)),
        }
    }
}
