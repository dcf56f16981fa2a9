//! Training recipes: the settings an architecture trains well with at a given preset.
//!
//! Each architecture crate owns its recipe (`recipe(preset)` beside its config) and says where
//! every value comes from; the trainer starts from it and lets a config file or flags override
//! any field. Dropout is not here: it is part of the model configuration of each preset.

use serde::{Deserialize, Serialize};

/// How the learning rate moves during training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LrSchedule {
    /// The same rate throughout.
    Constant,
    /// Linear warm-up over `warmup` updates to the peak rate, then decay with the inverse
    /// square root of the update (Vaswani et al. 2017; fairseq's `inverse_sqrt`).
    InverseSqrt {
        /// Warm-up updates.
        warmup: usize,
    },
    /// The constant rate, multiplied by `factor` whenever the selection metric has not
    /// improved for `patience` validations (PyTorch's `ReduceLROnPlateau`).
    Plateau {
        /// Multiplier at each reduction, in (0, 1).
        factor: f64,
        /// Validations without improvement before a reduction.
        patience: usize,
    },
}

/// Adam's moment decay rates and its denominator's ε (Kingma & Ba 2015).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamSettings {
    /// Decay of the first moment (β₁).
    pub beta1: f64,
    /// Decay of the second moment (β₂).
    pub beta2: f64,
    /// Added to the denominator (ε).
    pub epsilon: f64,
}

impl AdamSettings {
    /// The values of the Adam paper: β = (0.9, 0.999), ε = 1e-8.
    pub const PAPER: Self = Self {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };

    /// The Transformer's values (Vaswani et al. 2017, §5.3): β = (0.9, 0.98), ε = 1e-9.
    pub const TRANSFORMER: Self = Self {
        beta1: 0.9,
        beta2: 0.98,
        epsilon: 1e-9,
    };
}

/// The recommended training settings of one architecture at one preset.
///
/// [`Recipe::recurrent`] is the one the two LSTM architectures share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Peak (or constant) learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Adam's β and ε.
    pub adam: AdamSettings,
    /// Label smoothing of the loss.
    pub label_smoothing: f64,
    /// Clip the global gradient norm to this (none when absent).
    pub clip_norm: Option<f32>,
    /// Tokens per batch (sentences × padded length of the longer side).
    pub max_tokens: usize,
}

impl Recipe {
    /// The recipe of the recurrent (LSTM) architectures, with and without attention:
    ///
    /// - Adam at a constant 1e-3 with the paper's β and ε (Kingma & Ba 2015). Sutskever et al.
    ///   2014 and Luong et al. 2015 trained with SGD, halving the rate after some epochs;
    ///   Bahdanau et al. 2015 used Adadelta. Adam at 1e-3 is the usual replacement, and
    ///   recurrent models need no warm-up. The validation-driven halving is
    ///   `--schedule plateau`, left to the user since it needs validation data.
    /// - Gradient clipping at 1.0: Sutskever et al. clipped the norm at 5 for SGD; Adam's steps
    ///   are normalised, and the project's LSTM tests and Multi30k runs clip at 1.0.
    /// - Label smoothing 0.1 (Szegedy et al. 2016), as for every architecture here.
    /// - `tiny` and `mini`: 3e-3, a larger rate for small models (with it the `mini` LSTM reached
    ///   35.6 validation BLEU on 20,000 synthetic grammar pairs of 3–24 words in 900 updates).
    ///   Batches of 2,048 tokens for `tiny` to `small` (CPU-sized), 4,096 for `base`.
    pub fn recurrent(preset: crate::Preset) -> Self {
        use crate::Preset;
        let (lr, max_tokens) = match preset {
            Preset::Tiny | Preset::Mini => (3e-3, 2048),
            Preset::Small => (1e-3, 2048),
            Preset::Base => (1e-3, 4096),
        };
        Self {
            lr,
            schedule: LrSchedule::Constant,
            adam: AdamSettings::PAPER,
            label_smoothing: 0.1,
            clip_norm: Some(1.0),
            max_tokens,
        }
    }
}
