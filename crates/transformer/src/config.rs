//! The configuration of the [`Transformer`]: sizes, presets, validation and construction.

use burn::module::Param;
use burn::nn::{DropoutConfig, Embedding, Initializer, LayerNormConfig};
use burn::prelude::*;
use honyaku_core::Preset;

use crate::error::{TransformerConfigError, TransformerProblem};
use crate::layers::{LayerConfig, NormPosition};
use crate::model::Transformer;
use crate::position::{PositionEncodingConfig, PositionKind};

/// Configuration of [`Transformer`].
#[derive(Config, Debug, PartialEq)]
pub struct TransformerConfig {
    /// Source vocabulary size.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Model width: embeddings, attention and every residual stream.
    #[config(default = 256)]
    pub d_model: usize,
    /// Attention heads per attention sublayer; must divide `d_model`.
    #[config(default = 8)]
    pub n_heads: usize,
    /// Hidden width of the feed-forward sublayers.
    #[config(default = 1024)]
    pub d_ff: usize,
    /// Encoder layers.
    #[config(default = 3)]
    pub encoder_layers: usize,
    /// Decoder layers.
    #[config(default = 3)]
    pub decoder_layers: usize,
    /// Dropout on the embeddings (after adding positions) and on every sublayer's output before
    /// its residual sum.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Dropout on the attention weights.
    #[config(default = 0.1)]
    pub attention_dropout: f64,
    /// Dropout on the feed-forward hidden activations.
    #[config(default = 0.1)]
    pub ff_dropout: f64,
    /// Layer norm placement: `pre` (with a final layer norm on both stacks) or `post`.
    #[config(default = "NormPosition::Pre")]
    pub norm: NormPosition,
    /// Sinusoidal (fixed) or learned positions.
    #[config(default = "PositionKind::Sinusoidal")]
    pub positions: PositionKind,
    /// Longest source or target sequence (in tokens, EOS and BOS included) the position table
    /// covers; at most 10 000 with sinusoids.
    #[config(default = 1024)]
    pub max_len: usize,
    /// Share the decoder's input embedding with the output projection (Press & Wolf 2017).
    #[config(default = true)]
    pub tie_output: bool,
    /// Share one embedding between the encoder input, the decoder input and the output
    /// projection (implies `tie_output`). Needs `src_vocab == tgt_vocab` (a joint vocabulary):
    /// [`validate`](Self::validate) rejects it otherwise, and [`init`](Self::init) then ignores
    /// it for the encoder.
    #[config(default = false)]
    pub tie_all: bool,
}

impl TransformerConfig {
    /// The named preset: `tiny` (tests: width 32, 2 + 2 layers, 4 heads, feed-forward 64, no
    /// dropout), `mini` (width 64, 2 + 2 layers, 4 heads, feed-forward 256, no dropout: minutes
    /// on a CPU), `small` (width 256, 3 + 3 layers, 8 heads, feed-forward 1024, dropout 0.1: the
    /// benchmark shape) or `base` (width 512, 6 + 6 layers, 8 heads, feed-forward 2048, dropout
    /// 0.1: the paper's base model).
    pub fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        let config = Self::new(src_vocab, tgt_vocab);
        match preset {
            Preset::Tiny => config
                .with_d_model(32)
                .with_n_heads(4)
                .with_d_ff(64)
                .with_encoder_layers(2)
                .with_decoder_layers(2)
                .with_dropout(0.0)
                .with_attention_dropout(0.0)
                .with_ff_dropout(0.0)
                .with_max_len(256),
            Preset::Mini => config
                .with_d_model(64)
                .with_n_heads(4)
                .with_d_ff(256)
                .with_encoder_layers(2)
                .with_decoder_layers(2)
                .with_dropout(0.0)
                .with_attention_dropout(0.0)
                .with_ff_dropout(0.0),
            Preset::Small => config,
            Preset::Base => config
                .with_d_model(512)
                .with_d_ff(2048)
                .with_encoder_layers(6)
                .with_decoder_layers(6),
        }
    }

    /// Checks the configuration, with a message a user can act on. [`init`](Self::init) panics
    /// on the first three kinds of error below, so call this first.
    ///
    /// - `n_heads` must be at least 1 and divide `d_model`;
    /// - with sinusoidal positions, `d_model` must be even and `max_len` at most 10 000;
    /// - every dropout must lie in `[0, 1)`;
    /// - vocabularies, `d_model`, `d_ff`, `max_len` and both layer counts must be at least 1;
    /// - `tie_all` needs `src_vocab == tgt_vocab`.
    pub fn validate(&self) -> Result<(), TransformerConfigError> {
        let mut problems = self.build_problems();
        let positive = [
            ("src_vocab", self.src_vocab),
            ("tgt_vocab", self.tgt_vocab),
            ("d_model", self.d_model),
            ("d_ff", self.d_ff),
            ("max_len", self.max_len),
            ("encoder_layers", self.encoder_layers),
            ("decoder_layers", self.decoder_layers),
        ];
        for (name, value) in positive {
            if value == 0 {
                problems.push(TransformerProblem::Zero { name });
            }
        }
        if self.tie_all && self.src_vocab != self.tgt_vocab {
            problems.push(TransformerProblem::TieAllVocabularies {
                src_vocab: self.src_vocab,
                tgt_vocab: self.tgt_vocab,
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TransformerConfigError { problems })
        }
    }

    /// The problems that make the model impossible to build.
    fn build_problems(&self) -> Vec<TransformerProblem> {
        let mut problems = Vec::new();
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) {
            problems.push(TransformerProblem::Heads {
                n_heads: self.n_heads,
                d_model: self.d_model,
            });
        }
        if self.positions == PositionKind::Sinusoidal {
            if !self.d_model.is_multiple_of(2) {
                problems.push(TransformerProblem::OddWidth {
                    d_model: self.d_model,
                });
            }
            if self.max_len > 10_000 {
                problems.push(TransformerProblem::TooLong {
                    max_len: self.max_len,
                });
            }
        }
        for (name, value) in [
            ("dropout", self.dropout),
            ("attention_dropout", self.attention_dropout),
            ("ff_dropout", self.ff_dropout),
        ] {
            if !(0.0..1.0).contains(&value) {
                problems.push(TransformerProblem::Dropout { name, value });
            }
        }
        problems
    }

    /// Whether the encoder shares the target embedding: `tie_all` with equal vocabularies.
    pub fn shares_source_embedding(&self) -> bool {
        self.tie_all && self.src_vocab == self.tgt_vocab
    }

    /// [`validate`](Self::validate), then [`init`](Self::init).
    pub fn try_init(&self, device: &Device) -> Result<Transformer, TransformerConfigError> {
        self.validate()?;
        Ok(self.init(device))
    }

    /// Builds the model.
    ///
    /// `tie_all` with different vocabulary sizes is not an error here: the encoder then keeps
    /// its own embedding (and [`validate`](Self::validate) reports it). Panics, with
    /// `validate`'s message, only when the dimensions cannot be built: `n_heads` not dividing
    /// `d_model`, an odd `d_model` or `max_len > 10_000` with sinusoids, a dropout outside
    /// `[0, 1)`.
    pub fn init(&self, device: &Device) -> Transformer {
        let problems = self.build_problems();
        assert!(
            problems.is_empty(),
            "invalid transformer configuration: {}",
            TransformerConfigError { problems }.joined()
        );
        let layer = LayerConfig::new(self.d_model, self.n_heads, self.d_ff)
            .with_dropout(self.dropout)
            .with_attention_dropout(self.attention_dropout)
            .with_ff_dropout(self.ff_dropout)
            .with_norm(self.norm);
        let embedding = |vocab| Embedding {
            weight: Initializer::Normal {
                mean: 0.0,
                std: (self.d_model as f64).powf(-0.5),
            }
            .init([vocab, self.d_model], device),
        };
        let positions = PositionEncodingConfig::new(self.d_model, self.max_len)
            .with_kind(self.positions)
            .init(device);
        // Learned tables are separate parameters; the fixed sinusoids are one shared buffer.
        let tgt_positions = match self.positions {
            PositionKind::Sinusoidal => positions.clone(),
            PositionKind::Learned => PositionEncodingConfig::new(self.d_model, self.max_len)
                .with_kind(self.positions)
                .init(device),
        };
        let final_norm = || {
            (self.norm == NormPosition::Pre)
                .then(|| LayerNormConfig::new(self.d_model).init(device))
        };
        let tie_output = self.tie_output || self.tie_all;
        Transformer {
            src_embed: (!self.shares_source_embedding()).then(|| embedding(self.src_vocab)),
            tgt_embed: embedding(self.tgt_vocab),
            src_positions: positions,
            tgt_positions,
            encoder: (0..self.encoder_layers)
                .map(|_| layer.init_encoder(device))
                .collect(),
            encoder_norm: final_norm(),
            decoder: (0..self.decoder_layers)
                .map(|_| layer.init_decoder(device))
                .collect(),
            decoder_norm: final_norm(),
            output_weight: (!tie_output).then(|| {
                Initializer::XavierUniform { gain: 1.0 }.init_with(
                    [self.d_model, self.tgt_vocab],
                    Some(self.d_model),
                    Some(self.tgt_vocab),
                    device,
                )
            }),
            output_bias: Param::from_tensor(Tensor::zeros([self.tgt_vocab], device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: self.d_model,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Device {
        Device::flex()
    }

    fn tiny() -> TransformerConfig {
        TransformerConfig::preset(Preset::Tiny, 24, 24)
    }

    #[test]
    fn validate_explains_bad_configurations() {
        assert_eq!(tiny().validate(), Ok(()));
        for (config, needle) in [
            (tiny().with_n_heads(5), "divide d_model"),
            (tiny().with_n_heads(0), "divide d_model"),
            (tiny().with_encoder_layers(0), "encoder_layers"),
            (tiny().with_decoder_layers(0), "decoder_layers"),
            (tiny().with_dropout(1.0), "dropout"),
            (tiny().with_d_model(27).with_n_heads(3), "even d_model"),
            (tiny().with_max_len(20_000), "10000"),
            (
                TransformerConfig::preset(Preset::Tiny, 30, 24).with_tie_all(true),
                "tie_all",
            ),
        ] {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        // An odd width is fine with learned positions.
        let learned = tiny()
            .with_d_model(27)
            .with_n_heads(3)
            .with_positions(PositionKind::Learned);
        assert_eq!(learned.validate(), Ok(()));
        // tie_all with different vocabularies is reported, not a panic: the encoder keeps its
        // own embedding.
        let config = TransformerConfig::preset(Preset::Tiny, 30, 24).with_tie_all(true);
        let model = config.init(&device());
        assert!(!model.shares_source_embedding() && model.ties_output());
        assert!(config.try_init(&device()).is_err());
    }

    #[test]
    #[should_panic(expected = "invalid transformer configuration")]
    fn init_panics_clearly_on_impossible_dimensions() {
        let _ = tiny().with_n_heads(5).init(&device());
    }

    #[test]
    fn presets_have_the_documented_shapes() {
        let small = TransformerConfig::preset(Preset::Small, 8000, 8000);
        assert_eq!(
            (small.d_model, small.encoder_layers, small.decoder_layers),
            (256, 3, 3)
        );
        assert_eq!((small.n_heads, small.d_ff, small.dropout), (8, 1024, 0.1));
        let base = TransformerConfig::preset(Preset::Base, 8000, 8000);
        assert_eq!(
            (base.d_model, base.encoder_layers, base.decoder_layers),
            (512, 6, 6)
        );
        assert_eq!((base.n_heads, base.d_ff, base.dropout), (8, 2048, 0.1));
        let tiny = tiny();
        assert_eq!((tiny.d_model, tiny.n_heads, tiny.d_ff), (32, 4, 64));
        assert_eq!(
            (tiny.encoder_layers, tiny.decoder_layers, tiny.dropout),
            (2, 2, 0.0)
        );
        for config in [small, base, tiny] {
            assert_eq!(config.validate(), Ok(()));
            assert_eq!(config.norm, NormPosition::Pre);
        }
    }

    #[test]
    fn config_round_trips_through_json() {
        let config = tiny()
            .with_norm(NormPosition::Post)
            .with_positions(PositionKind::Learned);
        let json = serde_json::to_string(&config).unwrap();
        assert!(
            json.contains("\"post\"") && json.contains("\"learned\""),
            "{json}"
        );
        let back: TransformerConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }
}
