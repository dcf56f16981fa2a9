//! The Transformer encoder-decoder (Vaswani et al. 2017) and its [`Seq2Seq`] implementation.
//!
//! Decoding state is explicit: [`TransformerMemory`] holds the source keys and values of every
//! decoder layer's cross-attention, projected once in `encode`; [`TransformerState`] holds
//! every decoder layer's self-attention keys and values, grown by one position per step. Both
//! are reordered for beam search by [`Seq2Seq::select`].

use burn::module::Param;
use burn::nn::{Dropout, Embedding, LayerNorm};
use burn::prelude::*;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::linear::linear_rows;
use honyaku_core::{Seq2Seq, SourceBatch, Step, TranslationBatch};

use crate::attention::KvCache;
use crate::layers::{DecoderLayer, EncoderLayer, LayerSource};
use crate::position::PositionEncoding;
use crate::state::{TransformerMemory, TransformerState};

/// Transformer encoder-decoder.
#[derive(Module, Debug)]
pub struct Transformer {
    /// Source embeddings; `None` when the encoder shares `tgt_embed` (`tie_all`).
    pub src_embed: Option<Embedding>,
    /// Target embeddings (also the output projection when tied).
    pub tgt_embed: Embedding,
    /// Source positions.
    pub src_positions: PositionEncoding,
    /// Target positions.
    pub tgt_positions: PositionEncoding,
    /// Encoder layers.
    pub encoder: Vec<EncoderLayer>,
    /// Final encoder layer norm (pre-norm only).
    pub encoder_norm: Option<LayerNorm>,
    /// Decoder layers.
    pub decoder: Vec<DecoderLayer>,
    /// Final decoder layer norm (pre-norm only).
    pub decoder_norm: Option<LayerNorm>,
    /// Output projection `[d_model, tgt_vocab]`; `None` when it is the transposed `tgt_embed`.
    pub output_weight: Option<Param<Tensor<2>>>,
    /// Output bias `[tgt_vocab]`.
    pub output_bias: Param<Tensor<1>>,
    /// Dropout on the embeddings.
    pub dropout: Dropout,
    /// Model width.
    pub d_model: usize,
}

/// What a decoder pass returns.
pub(crate) struct DecoderRun {
    /// Final hidden states `[batch, t, d_model]` (after the final norm).
    pub(crate) hidden: Tensor<3>,
    /// Per layer when decoding (empty for a teacher-forced pass), the self-attention cache
    /// including these `t` positions.
    pub(crate) cache: Vec<KvCache>,
    /// The cross-attention weights `[batch, heads, t, src_len]` of the layers [`CrossWeights`]
    /// asked for, first layer first.
    pub(crate) cross_weights: Vec<Tensor<4>>,
}

/// Which decoder layers' cross-attention weights a decoder pass returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrossWeights {
    /// None (training).
    None,
    /// The last layer's (a decoding step's alignment).
    Last,
    /// Every layer's (heatmaps).
    All,
}

impl CrossWeights {
    fn wanted(self, layer: usize, layers: usize) -> bool {
        match self {
            CrossWeights::None => false,
            CrossWeights::Last => layer + 1 == layers,
            CrossWeights::All => true,
        }
    }
}

impl Transformer {
    /// Whether the encoder shares the target embedding.
    pub fn shares_source_embedding(&self) -> bool {
        self.src_embed.is_none()
    }

    /// Whether the output projection is the transposed target embedding.
    pub fn ties_output(&self) -> bool {
        self.output_weight.is_none()
    }

    /// Number of decoder layers.
    pub fn decoder_layers(&self) -> usize {
        self.decoder.len()
    }

    /// `sqrt(d_model) · E[ids] + P[offset ..]`, with dropout.
    fn embed(
        &self,
        embedding: &Embedding,
        positions: &PositionEncoding,
        ids: Tensor<2, Int>,
        offset: usize,
    ) -> Tensor<3> {
        let x = embedding
            .forward(ids)
            .mul_scalar((self.d_model as f64).sqrt());
        self.dropout.apply(positions.forward(x, offset))
    }

    /// Encoder states `[batch, src_len, d_model]` (after the final norm in pre-norm). Rows at
    /// padded positions are meaningless; padding never changes the others.
    pub fn encode_states(&self, source: &SourceBatch) -> Tensor<3> {
        let embedding = self.src_embed.as_ref().unwrap_or(&self.tgt_embed);
        let mut x = self.embed(embedding, &self.src_positions, source.src.clone(), 0);
        for layer in &self.encoder {
            x = layer.forward(x, source.src_pad.clone());
        }
        match &self.encoder_norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }

    /// Runs the decoder on target ids `[batch, t]` at positions `offset ..`: the whole target
    /// with a causal mask (`past` = `None`), or the next token after the cached positions.
    pub(crate) fn run_decoder(
        &self,
        memory: &TransformerMemory,
        ids: Tensor<2, Int>,
        past: Vec<KvCache>,
        offset: usize,
        weights: CrossWeights,
    ) -> DecoderRun {
        let [_, t] = ids.dims();
        let mut x = self.embed(&self.tgt_embed, &self.tgt_positions, ids, offset);
        // A single new token may see every earlier position; a longer span needs the mask.
        let causal = t > 1;
        assert!(
            !causal || past.is_empty(),
            "multi-token steps after cached ones are not supported"
        );
        let layers = self.decoder.len();
        let mut past = past.into_iter();
        let mut cache = Vec::with_capacity(layers);
        let mut cross_weights = Vec::new();
        for (i, (layer, kv)) in self.decoder.iter().zip(&memory.cross).enumerate() {
            let source = LayerSource {
                memory: kv,
                src_pad: &memory.src_pad,
            };
            let want = weights.wanted(i, layers);
            let out = layer.forward(x, past.next(), causal, source, want);
            x = out.x;
            cache.extend(out.cache);
            cross_weights.extend(out.cross_weights);
        }
        let hidden = match &self.decoder_norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        DecoderRun {
            hidden,
            cache,
            cross_weights,
        }
    }

    /// Next-token scores for hidden states `[.., d_model]`.
    pub(crate) fn project<const D: usize>(&self, hidden: Tensor<D>) -> Tensor<D> {
        self.project_with(hidden, self.output_weight())
    }

    /// [`Self::project`] with the output weight `[d_model, tgt_vocab]` given.
    pub(crate) fn project_with<const D: usize>(
        &self,
        hidden: Tensor<D>,
        weight: Tensor<2>,
    ) -> Tensor<D> {
        linear_rows(hidden, weight, Some(self.output_bias.val()))
    }

    /// The output weight `[d_model, tgt_vocab]`: its own parameter, or the transposed target
    /// embedding (a strided view) when tied.
    fn output_weight(&self) -> Tensor<2> {
        match &self.output_weight {
            Some(weight) => weight.val(),
            None => self.tgt_embed.weight.val().transpose(),
        }
    }

    /// [`Self::output_weight`] with its rows contiguous, for the products of decoding steps: a
    /// strided right operand is repacked by the matrix product at every call. Reshaping to
    /// one dimension copies a strided view in row-major order and leaves a contiguous one as
    /// it is.
    pub(crate) fn output_weight_rows(&self) -> Tensor<2> {
        let weight = self.output_weight();
        let [d_model, vocab] = weight.dims();
        weight.reshape([d_model * vocab]).reshape([d_model, vocab])
    }

    /// The decoder's view of the source: every layer's projected cross-attention keys and
    /// values, the padding, and `output_weight` for [`TransformerMemory::output_weight`].
    pub(crate) fn memory(
        &self,
        source: &SourceBatch,
        output_weight: Option<Tensor<2>>,
    ) -> TransformerMemory {
        let states = self.encode_states(source);
        TransformerMemory {
            cross: self
                .decoder
                .iter()
                .map(|layer| layer.cross_attn.project_memory(states.clone()))
                .collect(),
            src_pad: source.src_pad.clone(),
            output_weight,
        }
    }
}

impl Seq2Seq for Transformer {
    type Memory = TransformerMemory;
    type State = TransformerState;

    fn encode(&self, source: &SourceBatch) -> TransformerMemory {
        self.memory(source, Some(self.output_weight_rows()))
    }

    fn init_state(&self, _memory: &TransformerMemory) -> TransformerState {
        TransformerState {
            cache: Vec::new(),
            step: 0,
        }
    }

    fn decode_step(
        &self,
        memory: &TransformerMemory,
        state: TransformerState,
        prev: Tensor<1, Int>,
    ) -> Step<TransformerState> {
        self.step_cached(memory, state, prev, CrossWeights::Last).0
    }

    fn select(
        &self,
        memory: &TransformerMemory,
        state: TransformerState,
        rows: Tensor<1, Int>,
    ) -> (TransformerMemory, TransformerState) {
        (memory.select(rows.clone()), state.select(rows))
    }

    fn forward(&self, batch: &TranslationBatch) -> Tensor<3> {
        let memory = self.memory(&batch.source, None);
        let run = self.run_decoder(
            &memory,
            batch.tgt_in.clone(),
            Vec::new(),
            0,
            CrossWeights::None,
        );
        self.project(run.hidden)
    }

    fn tgt_vocab(&self) -> usize {
        self.tgt_embed.weight.dims()[0]
    }

    fn layer_attention(&self, batch: &TranslationBatch) -> Option<Tensor<4>> {
        Some(self.cross_attention(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TransformerConfig;
    use crate::layers::NormPosition;
    use crate::position::PositionKind;
    use burn::module::ModuleVisitor;
    use honyaku_conformance::{
        Learning, Overfit, Sampler, Schedule, Spec, Task, batch, fit, max_abs_diff,
    };
    use honyaku_core::Preset;
    use honyaku_data::batcher::EncodedPair;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const VOCAB: usize = 24;

    fn device() -> Device {
        let device = Device::flex();
        device.seed(7);
        device
    }

    fn tiny() -> TransformerConfig {
        TransformerConfig::preset(Preset::Tiny, VOCAB, VOCAB)
    }

    /// The conformance spec of the tiny model built by `build`. Learning: reversing 5 to 30
    /// symbols, 2500 updates of 32 fresh sentences, Adam (β₂ = 0.98) with a linear warm-up to
    /// 5e-3 over 150 updates, then a linear decay to 5e-4, the global gradient norm clipped at
    /// 1.0 as `honyaku train` does (97.0% exact match on 200 held-out sentences before the
    /// clipping, which came after an 88.5% run; not re-measured with it. A constant rate is too
    /// close to the bar: 81% at 1e-3 and 90.5% at 3e-3 after 2000 updates).
    fn spec(build: fn(&Device) -> Transformer) -> Spec<Transformer> {
        Spec {
            build,
            vocab: VOCAB,
            attention: true,
            overfit: Overfit {
                steps: 150,
                lr: 3e-3,
                max_loss: 0.05,
            },
            learning: Learning {
                build,
                sampler: Sampler {
                    task: Task::Reverse,
                    lens: 5..=30,
                    vocab: VOCAB,
                },
                batch_size: 32,
                same_length: false,
                steps: 2500,
                schedule: Schedule::WarmupDecay {
                    warmup: 150,
                    peak: 5e-3,
                    end: 5e-4,
                },
                beta_2: 0.98,
                epsilon: 1e-9,
                clip_norm: Some(1.0),
                seed: 2024,
                test_size: 200,
                min_exact_match: 0.9,
            },
        }
    }

    mod pre_norm {
        use super::*;

        fn spec() -> Spec<Transformer> {
            super::spec(|device| tiny().init(device))
        }

        honyaku_conformance::conformance_tests!(spec);
    }

    mod post_norm {
        use super::*;

        fn spec() -> Spec<Transformer> {
            super::spec(|device| tiny().with_norm(NormPosition::Post).init(device))
        }

        honyaku_conformance::conformance_tests!(spec, without_learning);
    }

    mod learned_positions_untied {
        use super::*;

        fn spec() -> Spec<Transformer> {
            super::spec(|device| {
                tiny()
                    .with_positions(PositionKind::Learned)
                    .with_tie_output(false)
                    .init(device)
            })
        }

        honyaku_conformance::conformance_tests!(spec, without_learning);
    }

    mod tied_all {
        use super::*;

        fn spec() -> Spec<Transformer> {
            super::spec(|device| tiny().with_tie_all(true).init(device))
        }

        honyaku_conformance::conformance_tests!(spec, without_learning);
    }

    /// Every variant the causal-mask test runs on.
    fn variants() -> Vec<TransformerConfig> {
        vec![
            tiny(),
            tiny().with_norm(NormPosition::Post),
            tiny()
                .with_positions(PositionKind::Learned)
                .with_tie_output(false),
            tiny().with_tie_all(true),
        ]
    }

    fn pairs(seed: u64, n: usize) -> Vec<EncodedPair> {
        let sampler = Sampler {
            task: Task::Reverse,
            lens: 3..=7,
            vocab: VOCAB,
        };
        sampler.pairs(&mut StdRng::seed_from_u64(seed), n)
    }

    #[test]
    fn shapes() {
        let device = device();
        let model = TransformerConfig::preset(Preset::Tiny, 30, VOCAB).init(&device);
        let batch = batch(&pairs(1, 3), &device);
        let [b, src_len] = batch.source.src.dims();
        let [_, tgt_len] = batch.tgt_in.dims();
        assert_eq!(model.forward(&batch).dims(), [b, tgt_len, VOCAB]);
        assert_eq!(model.tgt_vocab(), VOCAB);

        let memory = model.encode(&batch.source);
        assert_eq!(memory.cross.len(), 2);
        assert_eq!(memory.cross[0].len(), src_len);
        assert_eq!(memory.cross[1].len(), src_len);
        let mut state = model.init_state(&memory);
        for t in 1..=3 {
            let prev = Tensor::<1, Int>::full([b], 1, &device);
            let step = model.decode_step(&memory, state, prev);
            assert_eq!(step.logits.dims(), [b, VOCAB]);
            assert_eq!(step.attention.as_ref().unwrap().dims(), [b, src_len]);
            state = step.state;
            assert_eq!(state.step, t);
            assert_eq!(state.cache.len(), 2);
            assert_eq!(state.cache[1].filled().dims(), [b, 8, t, 8]);
        }
        let (_, layers) = model.decode_step_with_cross_attention(
            &memory,
            state,
            Tensor::<1, Int>::full([b], 5, &device),
        );
        assert_eq!(layers.dims(), [2, b, 1, src_len]);
        assert_eq!(
            model.cross_attention(&batch).dims(),
            [2, b, tgt_len, src_len]
        );
    }

    #[test]
    fn causal_masking_hides_later_targets() {
        let device = device();
        for config in variants() {
            let model = config.init(&device);
            let data = pairs(3, 2);
            let a = batch(&data, &device);
            // Change every target input from position 3 on.
            let mut b = a.clone();
            let [rows, cols] = b.tgt_in.dims();
            b.tgt_in = b.tgt_in.slice_fill(s![.., 3..cols], 9);
            let (la, lb) = (model.forward(&a), model.forward(&b));
            let before = max_abs_diff(
                la.clone().slice(s![.., 0..3, ..]),
                lb.clone().slice(s![.., 0..3, ..]),
            );
            assert!(
                before < 1e-6,
                "{config:?}: earlier outputs moved by {before}"
            );
            let after = max_abs_diff(la.slice(s![.., 3..cols, ..]), lb.slice(s![.., 3..cols, ..]));
            assert!(
                after > 1e-3,
                "the changed tokens must matter ({after}, {rows} rows)"
            );
        }
    }

    /// Counts float parameters with the given shape.
    struct ShapeCount {
        shape: Vec<usize>,
        count: usize,
    }

    impl ModuleVisitor for ShapeCount {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if param.shape().dims::<D>().as_slice() == self.shape.as_slice() {
                self.count += 1;
            }
        }
    }

    fn count_shaped(model: &Transformer, shape: [usize; 2]) -> usize {
        let mut counter = ShapeCount {
            shape: shape.to_vec(),
            count: 0,
        };
        model.visit(&mut counter);
        counter.count
    }

    #[test]
    fn tied_embeddings_share_one_parameter() {
        let device = device();
        let (v, d) = (VOCAB, 32);
        let untied = tiny().with_tie_output(false).init(&device);
        let tied = tiny().init(&device);
        let all = tiny().with_tie_all(true).init(&device);
        assert!(!untied.ties_output() && tied.ties_output() && all.ties_output());
        assert!(!tied.shares_source_embedding() && all.shares_source_embedding());
        // Embedding tables [v, d] and output projections [d, v].
        assert_eq!(
            (count_shaped(&untied, [v, d]), count_shaped(&untied, [d, v])),
            (2, 1)
        );
        assert_eq!(
            (count_shaped(&tied, [v, d]), count_shaped(&tied, [d, v])),
            (2, 0)
        );
        assert_eq!(
            (count_shaped(&all, [v, d]), count_shaped(&all, [d, v])),
            (1, 0)
        );
        assert_eq!(untied.num_params() - tied.num_params(), v * d);
        assert_eq!(tied.num_params() - all.num_params(), v * d);

        // With one table, training the output layer moves the encoder's input embedding too:
        // after one update the encoder states change even for a frozen-encoder-free model.
        let ad = device.clone().autodiff();
        let model = tiny().with_tie_all(true).init(&ad);
        let data = batch(&pairs(9, 4), &ad);
        let before = model.tgt_embed.weight.val().inner();
        let (model, _) = fit(model, std::slice::from_ref(&data), 1, 1e-2);
        let after = model.tgt_embed.weight.val().inner();
        assert!(max_abs_diff(before, after) > 0.0);
        assert!(model.src_embed.is_none() && model.output_weight.is_none());
    }
}
