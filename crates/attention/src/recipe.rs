//! The attentional LSTM's training recipe per preset.

use honyaku_core::Preset;
use honyaku_core::recipe::Recipe;

/// How to train an [`crate::AttentionSeq2Seq`] of `preset`: the recurrent recipe shared with the
/// plain LSTM encoder-decoder ([`Recipe::recurrent`], where each value's source is given).
pub fn recipe(preset: Preset) -> Recipe {
    Recipe::recurrent(preset)
}
