//! The attentional LSTM encoder-decoder and its [`Seq2Seq`] implementation.
//!
//! At step `t` the decoder reads `[embed(y_{t-1}); h̃_{t-1}]` (input feeding), its top hidden
//! state `h_t` attends over the encoder states to give the context `c_t`, and the attentional
//! vector `h̃_t = tanh(W_c [c_t; h_t])` both scores the next token and is fed to the next step
//! (Luong et al. 2015). The decoder starts from a bridge, `tanh(W_b [→h; ←h; →c; ←c])`, of the
//! top encoder layer's final states (`tanh(W_b [→h; ←h])` with GRU layers, which have no cell
//! state). The recurrent layers are LSTMs by default, GRUs with `cell: gru`.

use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::linear;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::fused_decoder::{self, DecoderSource, DecoderWeights};
use honyaku_core::linear::{LinearRows, linear_rows};
use honyaku_core::lstm_state::LstmState;
use honyaku_core::mask::keep_weights;
use honyaku_core::recurrent::{
    Cell, RecurrentLayer, RecurrentStack, RecurrentStackConfig, RecurrentState,
};
use honyaku_core::rnn::time_steps;
use honyaku_core::{Preset, Seq2Seq, SourceBatch, Step, TranslationBatch};

use crate::attention::{Attention, AttentionConfig, AttentionKind, tanh};
use crate::encoder::{BiFinal, BiLstmEncoder, BiLstmEncoderConfig};
use crate::error::AttentionConfigError;

/// Configuration of [`AttentionSeq2Seq`].
#[derive(Config, Debug, PartialEq)]
pub struct AttentionSeq2SeqConfig {
    /// Source vocabulary size.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Embedding size (source and target).
    #[config(default = 256)]
    pub d_embed: usize,
    /// Hidden size of each direction of every encoder layer; the encoder states attended over
    /// have twice as many features.
    #[config(default = 256)]
    pub d_encoder: usize,
    /// Bidirectional encoder layers.
    #[config(default = 1)]
    pub n_encoder_layers: usize,
    /// Hidden size of every decoder layer, also the size of the attentional vector.
    #[config(default = 512)]
    pub d_decoder: usize,
    /// Decoder layers.
    #[config(default = 1)]
    pub n_decoder_layers: usize,
    /// Scoring function: `bahdanau`, `luong-dot` (needs `d_decoder = 2 · d_encoder`) or
    /// `luong-general`.
    #[config(default = "AttentionKind::Bahdanau")]
    pub attention: AttentionKind,
    /// Hidden size of additive (`bahdanau`) scoring; unused by the Luong kinds.
    #[config(default = 512)]
    pub d_attention: usize,
    /// Dropout on embeddings, between layers and on the attentional vector.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// The recurrent cell of the encoder and decoder layers: `lstm` or `gru`. A configuration
    /// without it (written before the GRU existed) is an LSTM.
    #[config(default = "Cell::Lstm")]
    pub cell: Cell,
}

impl AttentionSeq2SeqConfig {
    /// The named preset: `tiny` (tests: embedding 32, encoder 64 per direction, decoder and
    /// attention 128, one layer each, no dropout), `small` (embedding 256, one bidirectional
    /// encoder layer of 256 per direction, one decoder layer of 512, additive attention of 512,
    /// dropout 0.2: the benchmark shape) or `base` (embedding 512, two encoder layers of 512 per
    /// direction, two decoder layers of 1024, attention 1024, dropout 0.3).
    ///
    /// Every preset has `d_decoder = 2 · d_encoder`, so any attention kind can be swapped in.
    pub fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        let config = Self::new(src_vocab, tgt_vocab);
        match preset {
            Preset::Tiny => config
                .with_d_embed(32)
                .with_d_encoder(64)
                .with_d_decoder(128)
                .with_d_attention(128)
                .with_dropout(0.0),
            Preset::Mini => config
                .with_d_embed(128)
                .with_d_encoder(128)
                .with_d_decoder(256)
                .with_d_attention(256)
                .with_dropout(0.0),
            Preset::Small => config,
            Preset::Base => config
                .with_d_embed(512)
                .with_d_encoder(512)
                .with_n_encoder_layers(2)
                .with_d_decoder(1024)
                .with_n_decoder_layers(2)
                .with_d_attention(1024)
                .with_dropout(0.3),
        }
    }

    /// Checks the dimensions, with a message a user can act on.
    pub fn validate(&self) -> Result<(), AttentionConfigError> {
        let sizes = [
            ("src_vocab", self.src_vocab),
            ("tgt_vocab", self.tgt_vocab),
            ("d_embed", self.d_embed),
            ("d_encoder", self.d_encoder),
            ("n_encoder_layers", self.n_encoder_layers),
            ("d_decoder", self.d_decoder),
            ("n_decoder_layers", self.n_decoder_layers),
        ];
        if let Some(&(name, _)) = sizes.iter().find(|(_, size)| *size == 0) {
            return Err(AttentionConfigError::Zero { name });
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(AttentionConfigError::Dropout {
                value: self.dropout,
            });
        }
        Ok(self.attention_config().validate()?)
    }

    fn attention_config(&self) -> AttentionConfig {
        AttentionConfig::new(
            self.attention,
            self.d_decoder,
            2 * self.d_encoder,
            self.d_attention,
        )
    }

    /// Matmul FLOPs (`2·m·n·k` per matmul) of one teacher-forced forward pass over one
    /// sentence pair of `src_len` source and `tgt_len` target tokens: the encoder's gate
    /// projections (four gates for the LSTM, three for the GRU) in both directions, the
    /// attention keys and the bridge once per source, and per target token the decoder's gate
    /// projections, scoring, the context, `W_c` and the output projection. Embedding lookups
    /// and element-wise work are not counted.
    pub fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        let (s, t) = (src_len as f64, tgt_len as f64);
        let (e, de, dd) = (
            self.d_embed as f64,
            self.d_encoder as f64,
            self.d_decoder as f64,
        );
        let gates = self.cell.gates() as f64;
        let rnn = |d_in: f64, h: f64| 2.0 * gates * h * (d_in + h);
        let encoder_token =
            2.0 * (rnn(e, de) + (self.n_encoder_layers as f64 - 1.0) * rnn(2.0 * de, de));
        let (keys, query, scores) = match self.attention {
            AttentionKind::Bahdanau => {
                let da = self.d_attention as f64;
                (2.0 * 2.0 * de * da, 2.0 * dd * da, 2.0 * s * da)
            }
            AttentionKind::LuongGeneral => (2.0 * 2.0 * de * dd, 0.0, 2.0 * s * dd),
            AttentionKind::LuongDot => (0.0, 0.0, 2.0 * s * dd),
        };
        let states = self.cell.states() as f64;
        let bridge = 2.0 * (2.0 * states * de) * (states * self.n_decoder_layers as f64 * dd);
        let decoder_token = rnn(e + dd, dd)
            + (self.n_decoder_layers as f64 - 1.0) * rnn(dd, dd)
            + query
            + scores
            + 2.0 * s * 2.0 * de
            + 2.0 * (2.0 * de + dd) * dd
            + 2.0 * dd * self.tgt_vocab as f64;
        s * (encoder_token + keys) + bridge + t * decoder_token
    }

    /// Builds the model.
    ///
    /// # Panics
    ///
    /// If [`AttentionSeq2SeqConfig::validate`] fails.
    pub fn init(&self, device: &Device) -> AttentionSeq2Seq {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        let d_states = 2 * self.d_encoder;
        // The bridge maps each direction's final states (h, and c for the LSTM) to every
        // decoder layer's initial ones.
        let states = self.cell.states();
        AttentionSeq2Seq {
            src_embed: EmbeddingConfig::new(self.src_vocab, self.d_embed).init(device),
            tgt_embed: EmbeddingConfig::new(self.tgt_vocab, self.d_embed).init(device),
            encoder: BiLstmEncoderConfig::new(self.d_embed, self.d_encoder, self.n_encoder_layers)
                .with_dropout(self.dropout)
                .with_cell(self.cell)
                .init(device),
            bridge: LinearConfig::new(
                2 * states * self.d_encoder,
                states * self.n_decoder_layers * self.d_decoder,
            )
            .init(device),
            decoder: RecurrentStackConfig::new(
                self.cell,
                self.d_embed + self.d_decoder,
                self.d_decoder,
                self.n_decoder_layers,
            )
            .with_dropout(self.dropout)
            .init(device),
            attention: self.attention_config().init(device),
            combine: LinearConfig::new(d_states + self.d_decoder, self.d_decoder)
                .with_bias(false)
                .init(device),
            output: LinearConfig::new(self.d_decoder, self.tgt_vocab).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// Bidirectional LSTM (or GRU) encoder and LSTM (or GRU) decoder with attention and input
/// feeding.
#[derive(Module, Debug)]
pub struct AttentionSeq2Seq {
    /// Source embeddings.
    pub src_embed: Embedding,
    /// Target embeddings.
    pub tgt_embed: Embedding,
    /// Bidirectional encoder.
    pub encoder: BiLstmEncoder,
    /// `W_b`: the top encoder layer's final `[→h; ←h; →c; ←c]` to every decoder layer's
    /// initial `(h, c)`, followed by `tanh` (`[→h; ←h]` to `h` with GRU layers).
    pub bridge: Linear,
    /// Decoder layers; the first reads `[embedding; input feed]`.
    pub decoder: RecurrentStack,
    /// Attention scoring.
    pub attention: Attention,
    /// `W_c`: `[context; h]` to the attentional vector, followed by `tanh`.
    pub combine: Linear,
    /// Projection of the attentional vector to the target vocabulary.
    pub output: Linear,
    /// Dropout on embeddings and on the attentional vector.
    pub dropout: Dropout,
}

/// Computed once per source batch.
#[derive(Debug, Clone)]
pub struct AttentionMemory {
    /// Encoder states `[batch, src_len, 2 · d_encoder]`, zero at padded positions: what
    /// attention averages.
    pub values: Tensor<3>,
    /// Attention keys from [`Attention::keys`], projected once: `[batch, src_len, d_attention]`
    /// for bahdanau, `[batch, src_len, d_decoder]` for the Luong kinds.
    pub keys: Tensor<3>,
    /// `[batch, src_len]`, `true` at padded source positions.
    pub src_pad: Tensor<2, Bool>,
    /// The decoder's initial state of every layer, from the bridge.
    pub init: Vec<RecurrentState>,
}

/// Carried from step to step.
#[derive(Debug, Clone)]
pub struct AttentionState {
    /// Every decoder layer's `(h, c)` (`h` for the GRU), `[batch, d_decoder]` each, bottom
    /// first.
    pub layers: Vec<RecurrentState>,
    /// The previous attentional vector `h̃_{t-1}`, `[batch, d_decoder]` (zero before the
    /// first step): the input feed.
    pub feed: Tensor<2>,
}

fn select_states(states: &[RecurrentState], rows: &Tensor<1, Int>) -> Vec<RecurrentState> {
    states.iter().map(|s| s.select(rows.clone())).collect()
}

impl AttentionMemory {
    /// Keeps (and repeats) the batch rows named by `rows`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            values: self.values.clone().select(0, rows.clone()),
            keys: self.keys.clone().select(0, rows.clone()),
            src_pad: self.src_pad.clone().select(0, rows.clone()),
            init: select_states(&self.init, &rows),
        }
    }
}

impl AttentionState {
    /// Keeps (and repeats) the batch rows named by `rows`.
    pub fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            layers: select_states(&self.layers, &rows),
            feed: self.feed.clone().select(0, rows),
        }
    }
}

/// The first decoder layer's input projection split by input: `[d_embed, gates · d_decoder]`
/// for the embedding (with the bias) and `[d_decoder, gates · d_decoder]` for the input feed,
/// so that the embeddings of a whole target sequence are projected in one matmul.
struct FirstInput {
    embed: Tensor<2>,
    bias: Option<Tensor<1>>,
    feed: Tensor<2>,
}

/// What one decoder step gives.
struct DecoderStep {
    /// The attentional vector `h̃_t` (after dropout), `[batch, d_decoder]`.
    attentional: Tensor<2>,
    /// The attention weights `[batch, src_len]`.
    weights: Tensor<2>,
    /// The state for the next step.
    state: AttentionState,
}

impl AttentionSeq2Seq {
    fn first_input(&self) -> FirstInput {
        let input = self.decoder.layers[0].input();
        let weight = input.weight.val();
        let [d_input, _] = weight.dims();
        let d_embed = self.tgt_embed.weight.dims()[1];
        FirstInput {
            embed: weight.clone().slice(s![0..d_embed, ..]),
            bias: input.bias.as_ref().map(|b| b.val()),
            feed: weight.slice(s![d_embed..d_input, ..]),
        }
    }

    /// The decoder's initial per-layer states from the top encoder layer's final states.
    fn bridge(&self, top: &BiFinal) -> Vec<RecurrentState> {
        let mut finals = vec![top.fwd.h.clone(), top.bwd.h.clone()];
        finals.extend(top.fwd.c.clone());
        finals.extend(top.bwd.c.clone());
        let x = Tensor::cat(finals, 1);
        let n_layers = self.decoder.layers.len();
        let cell = self.decoder.cell();
        let mut parts = tanh(self.bridge.forward(x))
            .chunk(cell.states() * n_layers, 1)
            .into_iter();
        (0..n_layers)
            .map(|_| RecurrentState {
                h: parts.next().expect("bridge h"),
                c: (cell == Cell::Lstm).then(|| parts.next().expect("bridge c")),
            })
            .collect()
    }

    /// One decoder step from the embedding part of the first layer's input projection,
    /// `xw: [batch, gates · d_decoder]`.
    fn step(
        &self,
        memory: &AttentionMemory,
        state: AttentionState,
        xw: Tensor<2>,
        feed_weight: Tensor<2>,
    ) -> DecoderStep {
        let AttentionState { layers, feed } = state;
        let mut previous = layers.into_iter();
        let mut layers = Vec::with_capacity(self.decoder.layers.len());
        let first = self.decoder.layers[0].step_projected(
            xw + feed.matmul(feed_weight),
            previous.next().expect("a state per decoder layer"),
        );
        let mut top = first.h.clone();
        layers.push(first);
        for (layer, state) in self.decoder.layers[1..].iter().zip(previous) {
            let next = layer.step(self.decoder.dropout.apply(top), state);
            top = next.h.clone();
            layers.push(next);
        }
        let attended = self.attention.attend(
            memory.keys.clone(),
            memory.values.clone(),
            memory.src_pad.clone(),
            top.clone(),
        );
        let combined = Tensor::cat(vec![attended.context, top], 1);
        let attentional = self.dropout.apply(tanh(self.combine.forward(combined)));
        DecoderStep {
            attentional: attentional.clone(),
            weights: attended.weights,
            state: AttentionState {
                layers,
                feed: attentional,
            },
        }
    }
}

/// The decoder as one fused operation ([`fused_decoder`]): on flex, for one LSTM layer with
/// additive scoring (the presets up to `small`).
impl AttentionSeq2Seq {
    /// The decoder's weights for [`fused_decoder::attentional_sequence`], or `None` where it
    /// does not apply (`feed_weight`: the input feed's part of the first layer's input
    /// projection).
    fn fused_weights(&self, device: &Device, feed_weight: Tensor<2>) -> Option<DecoderWeights> {
        let ([RecurrentLayer::Lstm(layer)], Some(query), Some(score)) = (
            self.decoder.layers.as_slice(),
            &self.attention.query,
            &self.attention.score,
        ) else {
            return None;
        };
        if !fused_decoder::supported(device) {
            return None;
        }
        let [_, d_attention] = query.weight.dims();
        Some(DecoderWeights {
            w_feed: feed_weight,
            whh: layer.hidden.weight.val(),
            w_query: query.weight.val(),
            b_query: match &query.bias {
                Some(bias) => bias.val(),
                None => Tensor::zeros([d_attention], device),
            },
            score: score.weight.val().reshape([d_attention]),
            w_combine: self.combine.weight.val(),
        })
    }

    /// The attentional vectors `[batch, len, d_decoder]` of the whole teacher-forced target
    /// sequence from `xw: [batch, len, 4 · d_decoder]`, the embedding part of the gates.
    fn fused_decoder(
        &self,
        xw: Tensor<3>,
        memory: AttentionMemory,
        weights: DecoderWeights,
    ) -> Tensor<3> {
        let [batch, len, _] = xw.dims();
        let [_, d_decoder] = weights.w_combine.dims();
        let init = memory.init.into_iter().next().expect("one decoder layer");
        let init = LstmState {
            h: init.h,
            c: init.c.expect("an LSTM state"),
        };
        let dropout = (self.dropout.prob > 0.0).then(|| {
            self.dropout
                .apply(Tensor::ones([batch, len, d_decoder], &xw.device()))
        });
        let source = DecoderSource {
            keys: memory.keys,
            values: memory.values,
            src_pad: memory.src_pad,
        };
        fused_decoder::attentional_sequence(xw, init, source, weights, dropout)
    }
}

impl Seq2Seq for AttentionSeq2Seq {
    type Memory = AttentionMemory;
    type State = AttentionState;

    fn encode(&self, source: &SourceBatch) -> AttentionMemory {
        let keep = keep_weights(source.src_pad.clone());
        let x = self
            .dropout
            .apply(self.src_embed.forward(source.src.clone()));
        let encoded = self.encoder.forward(x, keep.clone());
        let values = encoded.states * keep.unsqueeze_dim::<3>(2);
        AttentionMemory {
            keys: self.attention.keys(values.clone()),
            values,
            src_pad: source.src_pad.clone(),
            init: self.bridge(encoded.finals.last().expect("at least one encoder layer")),
        }
    }

    fn init_state(&self, memory: &AttentionMemory) -> AttentionState {
        let [batch, _, _] = memory.values.dims();
        let d_decoder = self.combine.weight.dims()[1];
        AttentionState {
            layers: memory.init.clone(),
            feed: Tensor::zeros([batch, d_decoder], &memory.values.device()),
        }
    }

    fn decode_step(
        &self,
        memory: &AttentionMemory,
        state: AttentionState,
        prev: Tensor<1, Int>,
    ) -> Step<AttentionState> {
        let [batch] = prev.dims();
        let x = self.tgt_embed.forward(prev.reshape([batch, 1]));
        let [_, _, d_embed] = x.dims();
        let x = self.dropout.apply(x.reshape([batch, d_embed]));
        let first = self.first_input();
        let xw = linear(x, first.embed, first.bias);
        let step = self.step(memory, state, xw, first.feed);
        Step {
            logits: self.output.forward(step.attentional),
            state: step.state,
            attention: Some(step.weights),
        }
    }

    fn select(
        &self,
        memory: &AttentionMemory,
        state: AttentionState,
        rows: Tensor<1, Int>,
    ) -> (AttentionMemory, AttentionState) {
        (memory.select(rows.clone()), state.select(rows))
    }

    fn forward(&self, batch: &TranslationBatch) -> Tensor<3> {
        let memory = self.encode(&batch.source);
        let mut state = self.init_state(&memory);
        let [_, len] = batch.tgt_in.dims();
        let first = self.first_input();
        let y = self
            .dropout
            .apply(self.tgt_embed.forward(batch.tgt_in.clone()));
        // The embedding part of the first layer's input, for every step in one matmul.
        let xw = linear_rows(y, first.embed, first.bias);
        if let Some(weights) = self.fused_weights(&xw.device(), first.feed.clone()) {
            return self
                .output
                .forward_rows(self.fused_decoder(xw, memory, weights));
        }
        let mut outputs = Vec::with_capacity(len);
        for xw_t in time_steps(xw) {
            let step = self.step(&memory, state, xw_t, first.feed.clone());
            outputs.push(step.attentional);
            state = step.state;
        }
        self.output.forward_rows(Tensor::stack(outputs, 1))
    }

    fn tgt_vocab(&self) -> usize {
        self.output.weight.dims()[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honyaku_conformance::{
        Learning, Overfit, Sampler, Schedule, Spec, Task, batch, max_abs_diff, stepwise_logits,
    };
    use honyaku_core::special::BOS_ID;
    use honyaku_data::batcher::EncodedPair;

    /// The four special ids and twenty symbols.
    const VOCAB: usize = 24;

    fn tiny(kind: AttentionKind) -> AttentionSeq2SeqConfig {
        AttentionSeq2SeqConfig::preset(Preset::Tiny, VOCAB, VOCAB).with_attention(kind)
    }

    /// The conformance spec of the tiny model built by `build`. Learning: reversing 5 to 20
    /// symbols, 375 updates of 64 sentences of one length (as length buckets give), 70% at
    /// 1e-2 and 30% at 2e-3 to settle (98.5% exact match with bahdanau).
    fn spec(build: fn(&Device) -> AttentionSeq2Seq) -> Spec<AttentionSeq2Seq> {
        Spec {
            build,
            vocab: VOCAB,
            attention: true,
            overfit: Overfit {
                steps: 120,
                lr: 1e-2,
                max_loss: 0.1,
            },
            learning: Learning {
                build,
                sampler: Sampler {
                    task: Task::Reverse,
                    lens: 5..=20,
                    vocab: VOCAB,
                },
                batch_size: 64,
                same_length: true,
                steps: 375,
                schedule: Schedule::Drop {
                    first: 1e-2,
                    share: 0.7,
                    then: 2e-3,
                },
                beta_2: 0.999,
                epsilon: 1e-5,
                clip_norm: None,
                seed: 2015,
                test_size: 200,
                min_exact_match: 0.9,
            },
        }
    }

    mod bahdanau {
        use super::*;

        fn spec() -> Spec<AttentionSeq2Seq> {
            super::spec(|device| tiny(AttentionKind::Bahdanau).init(device))
        }

        honyaku_conformance::conformance_tests!(spec);
    }

    mod luong_dot {
        use super::*;

        fn spec() -> Spec<AttentionSeq2Seq> {
            super::spec(|device| tiny(AttentionKind::LuongDot).init(device))
        }

        honyaku_conformance::conformance_tests!(spec, without_learning);
    }

    mod luong_general {
        use super::*;

        fn spec() -> Spec<AttentionSeq2Seq> {
            super::spec(|device| tiny(AttentionKind::LuongGeneral).init(device))
        }

        honyaku_conformance::conformance_tests!(spec, without_learning);
    }

    /// The whole suite, learning included, with GRU layers.
    mod gru {
        use super::*;

        fn spec() -> Spec<AttentionSeq2Seq> {
            super::spec(|device| {
                tiny(AttentionKind::Bahdanau)
                    .with_cell(Cell::Gru)
                    .init(device)
            })
        }

        honyaku_conformance::conformance_tests!(spec);
    }

    /// Three pairs of different lengths on both sides, so that every row has padding
    /// somewhere.
    fn pairs() -> Vec<EncodedPair> {
        let ids = |from: u32, len: u32| (from..from + len).collect::<Vec<u32>>();
        vec![
            EncodedPair {
                src: ids(5, 5),
                tgt: ids(10, 3),
            },
            EncodedPair {
                src: ids(13, 2),
                tgt: ids(15, 5),
            },
            EncodedPair {
                src: ids(20, 1),
                tgt: ids(21, 1),
            },
        ]
    }

    #[test]
    fn presets_have_the_documented_shapes() {
        let small = AttentionSeq2SeqConfig::preset(Preset::Small, 8000, 8000);
        assert_eq!(
            (small.d_embed, small.d_encoder, small.n_encoder_layers),
            (256, 256, 1)
        );
        assert_eq!((small.d_decoder, small.n_decoder_layers), (512, 1));
        assert_eq!(
            (small.attention, small.d_attention),
            (AttentionKind::Bahdanau, 512)
        );
        let base = AttentionSeq2SeqConfig::preset(Preset::Base, 8000, 8000);
        assert_eq!((base.d_encoder, base.n_encoder_layers), (512, 2));
        assert_eq!((base.d_decoder, base.n_decoder_layers), (1024, 2));
        for preset in Preset::ALL {
            for kind in AttentionKind::ALL {
                let config = AttentionSeq2SeqConfig::preset(preset, 100, 100).with_attention(kind);
                assert_eq!(config.validate(), Ok(()), "{preset} {kind}");
            }
        }
        let mismatched = tiny(AttentionKind::LuongDot).with_d_decoder(100);
        let err = mismatched.validate().unwrap_err();
        assert!(err.to_string().contains("luong-dot"), "{err}");
        assert!(
            tiny(AttentionKind::LuongGeneral)
                .with_d_decoder(100)
                .validate()
                .is_ok()
        );
        assert!(
            tiny(AttentionKind::Bahdanau)
                .with_dropout(1.0)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn config_serialises_the_attention_kind_by_name() {
        let config = tiny(AttentionKind::LuongGeneral);
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains("\"attention\":\"luong-general\""), "{json}");
        let back: AttentionSeq2SeqConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn config_records_the_cell_and_reads_a_config_without_one_as_an_lstm() {
        let gru = tiny(AttentionKind::Bahdanau).with_cell(Cell::Gru);
        let json = serde_json::to_value(&gru).unwrap();
        assert_eq!(json["cell"], "gru");
        let back: AttentionSeq2SeqConfig = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, gru);
        let mut old = json;
        old.as_object_mut().unwrap().remove("cell");
        let back: AttentionSeq2SeqConfig = serde_json::from_value(old).unwrap();
        assert_eq!(back, gru.with_cell(Cell::Lstm));
    }

    #[test]
    fn shapes_for_every_kind() {
        let device = Device::flex();
        let batch = batch(&pairs(), &device);
        for kind in AttentionKind::ALL {
            let model = tiny(kind).init(&device);
            assert_eq!(model.tgt_vocab(), VOCAB);
            assert_eq!(model.forward(&batch).dims(), [3, 6, VOCAB], "{kind}");
            let memory = model.encode(&batch.source);
            assert_eq!(memory.values.dims(), [3, 6, 128], "{kind}");
            assert_eq!(memory.keys.dims(), [3, 6, 128], "{kind}");
            assert_eq!(memory.src_pad.dims(), [3, 6], "{kind}");
            let state = model.init_state(&memory);
            assert_eq!(state.layers.len(), 1);
            assert_eq!(state.layers[0].h.dims(), [3, 128]);
            assert_eq!(state.feed.dims(), [3, 128]);
            let prev = Tensor::<1, Int>::full([3], BOS_ID as i64, &device);
            let step = model.decode_step(&memory, state, prev);
            assert_eq!(step.logits.dims(), [3, VOCAB], "{kind}");
            assert_eq!(step.attention.unwrap().dims(), [3, 6], "{kind}");
        }
        // Deeper stacks, and keys of the attention size rather than the decoder size.
        let model = tiny(AttentionKind::Bahdanau)
            .with_n_encoder_layers(2)
            .with_n_decoder_layers(3)
            .with_d_attention(40)
            .init(&device);
        assert_eq!(model.forward(&batch).dims(), [3, 6, VOCAB]);
        let memory = model.encode(&batch.source);
        assert_eq!(memory.keys.dims(), [3, 6, 40]);
        assert_eq!(model.init_state(&memory).layers.len(), 3);
    }

    #[test]
    fn deeper_stacks_decode_stepwise_as_forward() {
        let device = Device::flex();
        let batch = batch(&pairs(), &device);
        for kind in AttentionKind::ALL {
            let model = tiny(kind)
                .with_n_encoder_layers(2)
                .with_n_decoder_layers(2)
                .init(&device);
            let diff = max_abs_diff(model.forward(&batch), stepwise_logits(&model, &batch));
            assert!(diff < 1e-4, "{kind}: {diff}");
        }
    }

    #[test]
    fn gru_layers_bridge_hidden_states_only_and_decode_stepwise_as_forward() {
        let device = Device::flex();
        let batch = batch(&pairs(), &device);
        let config = tiny(AttentionKind::LuongGeneral)
            .with_n_encoder_layers(2)
            .with_n_decoder_layers(2);
        let lstm = config.clone().init(&device);
        let model = config.clone().with_cell(Cell::Gru).init(&device);
        // [→h; ←h] of 64 each to two decoder layers' h of 128, against the LSTM's
        // [→h; ←h; →c; ←c] to two (h, c).
        assert_eq!(model.bridge.weight.dims(), [128, 2 * 128]);
        assert_eq!(lstm.bridge.weight.dims(), [256, 4 * 128]);
        assert_eq!(
            model.decoder.layers[0].input().weight.dims(),
            [32 + 128, 3 * 128]
        );
        let state = model.init_state(&model.encode(&batch.source));
        assert_eq!(state.layers.len(), 2);
        assert!(state.layers.iter().all(|l| l.c.is_none()));
        assert_eq!(state.layers[1].h.dims(), [3, 128]);
        let diff = max_abs_diff(model.forward(&batch), stepwise_logits(&model, &batch));
        assert!(diff < 1e-4, "{diff}");
        // Three gates instead of four: fewer FLOPs.
        let gru_flops = config.clone().with_cell(Cell::Gru).forward_flops(6, 6);
        assert!(gru_flops < config.forward_flops(6, 6));
    }
}
