//! The attentional LSTM's training recipe per preset.

use honyaku_core::Preset;
use honyaku_core::recipe::{AdamSettings, LrSchedule, Recipe};

/// How to train an [`crate::AttentionSeq2Seq`] of `preset`.
///
/// - Adam at a constant 1e-3 with the paper's β and ε (Kingma & Ba 2015). Bahdanau et al. 2015
///   trained with Adadelta and Luong et al. 2015 with SGD halved after epoch 5; Adam at 1e-3
///   is the usual replacement (Joey NMT's and OpenNMT-py's RNN configurations), and recurrent
///   models need no warm-up. Reduce-on-plateau (`--schedule plateau`) is the validation-driven
///   halving, left to the user since it needs validation data.
/// - Clipping at 1.0 and label smoothing 0.1, as the LSTM's recipe.
/// - `tiny`: 3e-3, a larger rate for the tiny model (not tuned). Batches of 2,048
///   tokens for `tiny` and `small` (CPU-sized), 4,096 for `base`.
pub fn recipe(preset: Preset) -> Recipe {
    let (lr, max_tokens) = match preset {
        Preset::Tiny => (3e-3, 2048),
        Preset::Small => (1e-3, 2048),
        Preset::Base => (1e-3, 4096),
    };
    Recipe {
        lr,
        schedule: LrSchedule::Constant,
        adam: AdamSettings::PAPER,
        label_smoothing: 0.1,
        clip_norm: Some(1.0),
        max_tokens,
    }
}
