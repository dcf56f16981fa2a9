//! [`ArchConfig`] for each architecture's configuration: delegation to the model crates.

use burn::prelude::*;
use honyaku_attention::{AttentionSeq2Seq, AttentionSeq2SeqConfig};
use honyaku_core::Preset;
use honyaku_core::recipe::Recipe;
use honyaku_lstm::{LstmSeq2Seq, LstmSeq2SeqConfig};
use honyaku_transformer::{Transformer, TransformerConfig};

use super::spec::ArchConfig;

impl ArchConfig for LstmSeq2SeqConfig {
    type Model = LstmSeq2Seq;

    fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        Self::preset(preset, src_vocab, tgt_vocab)
    }

    fn recipe(preset: Preset) -> Recipe {
        honyaku_lstm::recipe::recipe(preset)
    }

    fn with_vocab(self, src_vocab: usize, tgt_vocab: usize) -> Self {
        Self {
            src_vocab,
            tgt_vocab,
            ..self
        }
    }

    fn tgt_vocab(&self) -> usize {
        self.tgt_vocab
    }

    fn validate(&self) -> Result<(), String> {
        Self::validate(self).map_err(|e| e.to_string())
    }

    fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        Self::forward_flops(self, src_len, tgt_len)
    }

    fn init(&self, device: &Device) -> LstmSeq2Seq {
        Self::init(self, device)
    }
}

impl ArchConfig for AttentionSeq2SeqConfig {
    type Model = AttentionSeq2Seq;

    fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        Self::preset(preset, src_vocab, tgt_vocab)
    }

    fn recipe(preset: Preset) -> Recipe {
        honyaku_attention::recipe::recipe(preset)
    }

    fn with_vocab(self, src_vocab: usize, tgt_vocab: usize) -> Self {
        Self {
            src_vocab,
            tgt_vocab,
            ..self
        }
    }

    fn tgt_vocab(&self) -> usize {
        self.tgt_vocab
    }

    fn validate(&self) -> Result<(), String> {
        Self::validate(self).map_err(|e| e.to_string())
    }

    fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        Self::forward_flops(self, src_len, tgt_len)
    }

    fn init(&self, device: &Device) -> AttentionSeq2Seq {
        Self::init(self, device)
    }
}

impl ArchConfig for TransformerConfig {
    type Model = Transformer;

    fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        Self::preset(preset, src_vocab, tgt_vocab)
    }

    fn recipe(preset: Preset) -> Recipe {
        honyaku_transformer::recipe::recipe(preset)
    }

    fn with_vocab(self, src_vocab: usize, tgt_vocab: usize) -> Self {
        Self {
            src_vocab,
            tgt_vocab,
            ..self
        }
    }

    fn tgt_vocab(&self) -> usize {
        self.tgt_vocab
    }

    fn max_positions(&self) -> Option<usize> {
        Some(self.max_len)
    }

    fn validate(&self) -> Result<(), String> {
        Self::validate(self).map_err(|e| e.to_string())
    }

    fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        Self::forward_flops(self, src_len, tgt_len)
    }

    fn init(&self, device: &Device) -> Transformer {
        Self::init(self, device)
    }
}
