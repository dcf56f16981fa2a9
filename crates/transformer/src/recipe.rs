//! The Transformer's training recipe per preset.

use honyaku_core::Preset;
use honyaku_core::recipe::{AdamSettings, LrSchedule, Recipe};

/// How to train a [`crate::Transformer`] of `preset`.
///
/// - Adam β = (0.9, 0.98), ε = 1e-9, label smoothing 0.1: Vaswani et al. 2017, §5.3–5.4.
///   With the default β₂ = 0.999 and no warm-up the project's own Transformer tests learned
///   too slowly; post- and pre-norm Transformers both need the warm-up (Xiong et al. 2020).
/// - `small`: peak 1e-3 after 400 warm-up updates, batches of 2,048 tokens, clipping at 1.0:
///   `shared/ref/torch_train.py`'s budget-sized settings, with which `honyaku train` reached
///   36.4 BLEU on Multi30k test 2016 in 45 CPU minutes.
/// - `tiny`: peak 2e-3 after 300 updates: a 0.1M-parameter model tolerates a larger rate; on
///   20,000 pairs of the synthetic grammar corpus (3–24 words) it reached 55.9 validation BLEU
///   in 1,720 updates. `mini` uses the same (not tuned separately).
/// - `base`: the paper's schedule, `d_model^-0.5 · min(step^-0.5, step · 4000^-1.5)`, whose
///   peak at 4,000 warm-up updates is 512^-0.5 · 4000^-0.5 ≈ 7e-4, with 4,096-token batches
///   (fairseq's `transformer_wmt_en_de` trains at 5e-4–7e-4 with this warm-up).
pub fn recipe(preset: Preset) -> Recipe {
    let (lr, warmup, max_tokens) = match preset {
        Preset::Tiny | Preset::Mini => (2e-3, 300, 2048),
        Preset::Small => (1e-3, 400, 2048),
        Preset::Base => (7e-4, 4000, 4096),
    };
    Recipe {
        lr,
        schedule: LrSchedule::InverseSqrt { warmup },
        adam: AdamSettings::TRANSFORMER,
        label_smoothing: 0.1,
        clip_norm: Some(1.0),
        max_tokens,
    }
}
