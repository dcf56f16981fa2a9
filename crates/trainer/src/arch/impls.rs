//! [`ArchConfig`] for each architecture's configuration: delegation to the model crates, which
//! give every configuration the same methods (`preset`, `validate`, `forward_flops`, `init`)
//! and their crate a `recipe` module.

use burn::prelude::*;
use honyaku_attention::{AttentionSeq2Seq, AttentionSeq2SeqConfig};
use honyaku_core::Preset;
use honyaku_core::recipe::Recipe;
use honyaku_lstm::{LstmSeq2Seq, LstmSeq2SeqConfig};
use honyaku_transformer::{Transformer, TransformerConfig};

use super::spec::ArchConfig;

/// `impl ArchConfig for $config` (building `$model`, with `$krate::recipe::recipe`), plus the
/// items given in braces (e.g. `max_positions` for an architecture with a position table).
macro_rules! delegate_arch_config {
    ($config:ty => $model:ty, $krate:ident { $($extra:item)* }) => {
        impl ArchConfig for $config {
            type Model = $model;

            fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
                Self::preset(preset, src_vocab, tgt_vocab)
            }

            fn recipe(preset: Preset) -> Recipe {
                $krate::recipe::recipe(preset)
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

            fn init(&self, device: &Device) -> $model {
                Self::init(self, device)
            }

            $($extra)*
        }
    };
}

delegate_arch_config!(LstmSeq2SeqConfig => LstmSeq2Seq, honyaku_lstm {});
delegate_arch_config!(AttentionSeq2SeqConfig => AttentionSeq2Seq, honyaku_attention {});
delegate_arch_config!(TransformerConfig => Transformer, honyaku_transformer {
    fn max_positions(&self) -> Option<usize> {
        Some(self.max_len)
    }
});
