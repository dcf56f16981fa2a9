//! The LSTM encoder-decoder's training recipe per preset.

use honyaku_core::Preset;
use honyaku_core::recipe::Recipe;

/// How to train an [`crate::LstmSeq2Seq`] of `preset`: the recurrent recipe shared with the
/// attentional LSTM ([`Recipe::recurrent`], where each value's source is given).
pub fn recipe(preset: Preset) -> Recipe {
    Recipe::recurrent(preset)
}
