//! The LSTM encoder-decoder's training recipe per preset.

use honyaku_core::Preset;
use honyaku_core::recipe::{AdamSettings, LrSchedule, Recipe};

/// How to train a [`crate::LstmSeq2Seq`] of `preset`.
///
/// - Adam at a constant 1e-3 with the paper's β and ε (Kingma & Ba 2015): recurrent models
///   need no warm-up (Sutskever et al. 2014 trained with a constant SGD rate for five epochs,
///   then halved it; Luong et al. 2015 did the same). Reduce-on-plateau (`--schedule plateau`)
///   is the halving driven by validation, left to the user since it needs validation data.
/// - Gradient clipping: Sutskever et al. clipped the norm at 5 for SGD; with Adam's normalised
///   steps the project clips at 1.0, as its LSTM tests and Multi30k runs do.
/// - Label smoothing 0.1 (Szegedy et al. 2016), as for every architecture here.
/// - `tiny`: 3e-3, a larger rate for a 0.2M-parameter model (not tuned). Batches of 2,048 tokens for `tiny` and `small` (CPU-sized), 4,096 for
///   `base`.
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
