//! The LSTM encoder-decoder and its [`Seq2Seq`] implementation.

use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use honyaku_core::dropout::DropoutExt;
use honyaku_core::mask::keep_weights;
use honyaku_core::{Preset, Seq2Seq, SourceBatch, Step, TranslationBatch};

use honyaku_core::rnn::{LstmStack, LstmStackConfig, LstmState};

/// Configuration of [`LstmSeq2Seq`].
#[derive(Config, Debug, PartialEq)]
pub struct LstmSeq2SeqConfig {
    /// Source vocabulary size.
    pub src_vocab: usize,
    /// Target vocabulary size.
    pub tgt_vocab: usize,
    /// Embedding size (source and target).
    #[config(default = 256)]
    pub d_embed: usize,
    /// Hidden size of every encoder and decoder layer.
    #[config(default = 512)]
    pub d_hidden: usize,
    /// Layers in the encoder and in the decoder.
    #[config(default = 2)]
    pub n_layers: usize,
    /// Dropout on embeddings, between layers and before the output projection.
    #[config(default = 0.2)]
    pub dropout: f64,
}

impl LstmSeq2SeqConfig {
    /// The named preset: `tiny` (tests), `small` (embedding 256, hidden 512, 2 layers, dropout
    /// 0.2: the benchmark shape) or `base` (embedding 512, hidden 1024, 4 layers, dropout 0.3).
    pub fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self {
        let config = Self::new(src_vocab, tgt_vocab);
        match preset {
            Preset::Tiny => config
                .with_d_embed(32)
                .with_d_hidden(64)
                .with_n_layers(1)
                .with_dropout(0.0),
            Preset::Small => config,
            Preset::Base => config
                .with_d_embed(512)
                .with_d_hidden(1024)
                .with_n_layers(4)
                .with_dropout(0.3),
        }
    }

    /// Checks the dimensions, with a message a user can act on.
    pub fn validate(&self) -> Result<(), String> {
        let sizes = [
            ("src_vocab", self.src_vocab),
            ("tgt_vocab", self.tgt_vocab),
            ("d_embed", self.d_embed),
            ("d_hidden", self.d_hidden),
            ("n_layers", self.n_layers),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!("lstm: {name} must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "lstm: dropout must be in [0, 1), got {}",
                self.dropout
            ));
        }
        Ok(())
    }

    /// Matmul FLOPs (`2·m·n·k` per matmul) of one teacher-forced forward pass over one
    /// sentence pair of `src_len` source and `tgt_len` target tokens: per token and layer the
    /// input and hidden projections to the four gates, and per target token the output
    /// projection. Embedding lookups and element-wise work are not counted.
    pub fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64 {
        let (e, h, layers) = (
            self.d_embed as f64,
            self.d_hidden as f64,
            self.n_layers as f64,
        );
        // Layer 1 reads the embedding, the others the layer below; all read their own h.
        let per_token = 2.0 * 4.0 * h * (e + h) + (layers - 1.0) * 2.0 * 4.0 * h * (h + h);
        let output = 2.0 * h * self.tgt_vocab as f64;
        src_len as f64 * per_token + tgt_len as f64 * (per_token + output)
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> LstmSeq2Seq {
        let stack = |d_input| {
            LstmStackConfig::new(d_input, self.d_hidden, self.n_layers)
                .with_dropout(self.dropout)
                .init(device)
        };
        LstmSeq2Seq {
            src_embed: EmbeddingConfig::new(self.src_vocab, self.d_embed).init(device),
            tgt_embed: EmbeddingConfig::new(self.tgt_vocab, self.d_embed).init(device),
            encoder: stack(self.d_embed),
            decoder: stack(self.d_embed),
            output: LinearConfig::new(self.d_hidden, self.tgt_vocab).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

/// LSTM encoder-decoder: the decoder's layer `l` starts from the encoder's final state of layer
/// `l`.
#[derive(Module, Debug)]
pub struct LstmSeq2Seq {
    /// Source embeddings.
    pub src_embed: Embedding,
    /// Target embeddings.
    pub tgt_embed: Embedding,
    /// Encoder layers.
    pub encoder: LstmStack,
    /// Decoder layers.
    pub decoder: LstmStack,
    /// Projection to the target vocabulary.
    pub output: Linear,
    /// Dropout on embeddings and before the output projection.
    pub dropout: Dropout,
}

/// Encoder output: the final state of every layer, `[n_layers, batch, d_hidden]` each.
#[derive(Debug, Clone)]
pub struct LstmMemory {
    /// Final hidden states.
    pub h: Tensor<3>,
    /// Final cell states.
    pub c: Tensor<3>,
}

impl LstmMemory {
    fn from_states(states: Vec<LstmState>) -> Self {
        let (h, c): (Vec<_>, Vec<_>) = states.into_iter().map(|s| (s.h, s.c)).unzip();
        Self {
            h: Tensor::stack(h, 0),
            c: Tensor::stack(c, 0),
        }
    }

    fn states(&self) -> Vec<LstmState> {
        let [layers, batch, hidden] = self.h.dims();
        (0..layers)
            .map(|l| LstmState {
                h: self.h.clone().slice(s![l, .., ..]).reshape([batch, hidden]),
                c: self.c.clone().slice(s![l, .., ..]).reshape([batch, hidden]),
            })
            .collect()
    }

    fn select(&self, rows: Tensor<1, Int>) -> Self {
        Self {
            h: self.h.clone().select(1, rows.clone()),
            c: self.c.clone().select(1, rows),
        }
    }
}

impl LstmSeq2Seq {
    /// Encoder final states for `src: [batch, src_len]`; padding never changes them.
    fn encode_states(&self, source: &SourceBatch) -> Vec<LstmState> {
        let [batch, _] = source.src.dims();
        let x = self
            .dropout
            .apply(self.src_embed.forward(source.src.clone()));
        let keep = keep_weights(source.src_pad.clone());
        let zeros = self.encoder.zero_states(batch, &x.device());
        self.encoder.forward(x, zeros, Some(keep)).1
    }
}

impl Seq2Seq for LstmSeq2Seq {
    type Memory = LstmMemory;
    /// The decoder's per-layer state has the same layout as the memory.
    type State = LstmMemory;

    fn encode(&self, source: &SourceBatch) -> LstmMemory {
        LstmMemory::from_states(self.encode_states(source))
    }

    fn init_state(&self, memory: &LstmMemory) -> LstmMemory {
        memory.clone()
    }

    fn decode_step(
        &self,
        _memory: &LstmMemory,
        state: LstmMemory,
        prev: Tensor<1, Int>,
    ) -> Step<LstmMemory> {
        let [batch] = prev.dims();
        let x = self.tgt_embed.forward(prev.reshape([batch, 1]));
        let [_, _, d_embed] = x.dims();
        let x = self.dropout.apply(x.reshape([batch, d_embed]));
        let (top, states) = self.decoder.step(x, state.states());
        Step {
            logits: self.output.forward(self.dropout.apply(top)),
            state: LstmMemory::from_states(states),
            attention: None,
        }
    }

    fn select(
        &self,
        memory: &LstmMemory,
        state: LstmMemory,
        rows: Tensor<1, Int>,
    ) -> (LstmMemory, LstmMemory) {
        (memory.select(rows.clone()), state.select(rows))
    }

    fn forward(&self, batch: &TranslationBatch) -> Tensor<3> {
        let states = self.encode_states(&batch.source);
        let y = self
            .dropout
            .apply(self.tgt_embed.forward(batch.tgt_in.clone()));
        let (out, _) = self.decoder.forward(y, states, None);
        self.output.forward(self.dropout.apply(out))
    }

    fn tgt_vocab(&self) -> usize {
        self.output.weight.dims()[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honyaku_core::batch::{ids_tensor, mask_tensor};
    use honyaku_core::testing::{batch_loss, exact_match, fit, max_abs_diff, stepwise_logits};
    use honyaku_data::batcher::{EncodedPair, HostBatch};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const VOCAB: usize = 24;

    fn tiny(device: &Device) -> LstmSeq2Seq {
        device.seed(5);
        LstmSeq2SeqConfig::preset(Preset::Tiny, VOCAB, VOCAB).init(device)
    }

    /// Random sequences of ids in `4..VOCAB` with lengths in `min..=max`, and a target made
    /// from each by `f`.
    fn task(
        n: usize,
        min: usize,
        max: usize,
        seed: u64,
        f: fn(&[u32]) -> Vec<u32>,
    ) -> Vec<EncodedPair> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let len = rng.random_range(min..=max);
                let src: Vec<u32> = (0..len)
                    .map(|_| rng.random_range(4..VOCAB as u32))
                    .collect();
                EncodedPair { tgt: f(&src), src }
            })
            .collect()
    }

    fn batch(pairs: &[EncodedPair], device: &Device) -> TranslationBatch {
        let refs: Vec<&EncodedPair> = pairs.iter().collect();
        HostBatch::from_pairs(&refs).to_batch(device)
    }

    #[test]
    fn shapes() {
        let device = Device::flex();
        let model = tiny(&device);
        let b = batch(&task(3, 2, 5, 1, <[u32]>::to_vec), &device);
        let [batch_size, tgt_len] = b.tgt_in.dims();
        assert_eq!(model.forward(&b).dims(), [batch_size, tgt_len, VOCAB]);
        let memory = model.encode(&b.source);
        let step = model.decode_step(
            &memory,
            model.init_state(&memory),
            b.tgt_in.clone().slice(s![.., 0]).squeeze_dim(1),
        );
        assert_eq!(step.logits.dims(), [batch_size, VOCAB]);
        assert!(step.attention.is_none());
    }

    #[test]
    fn padding_never_changes_the_encoder_final_state() {
        let device = Device::flex();
        let model = tiny(&device);
        let src = SourceBatch {
            src: ids_tensor(vec![5, 6, 2, 0, 0, 7, 8, 9, 10, 2], 2, 5, &device),
            src_pad: mask_tensor(
                vec![
                    false, false, false, true, true, false, false, false, false, false,
                ],
                2,
                5,
                &device,
            ),
        };
        let alone = SourceBatch {
            src: ids_tensor(vec![5, 6, 2], 1, 3, &device),
            src_pad: mask_tensor(vec![false; 3], 1, 3, &device),
        };
        let padded = model.encode(&src);
        let single = model.encode(&alone);
        let first_row = |m: &LstmMemory| m.h.clone().slice(s![.., 0..1, ..]);
        assert!(max_abs_diff(first_row(&padded), single.h.clone()) < 1e-5);
        // Changing what sits in the padded positions changes nothing either.
        let other = SourceBatch {
            src: ids_tensor(vec![5, 6, 2, 13, 17, 7, 8, 9, 10, 2], 2, 5, &device),
            src_pad: src.src_pad.clone(),
        };
        assert!(max_abs_diff(model.encode(&other).c, padded.c) < 1e-6);
    }

    #[test]
    fn decoding_step_by_step_equals_teacher_forcing() {
        let device = Device::flex();
        let model = tiny(&device);
        let b = batch(&task(4, 2, 7, 2, <[u32]>::to_vec), &device);
        assert!(max_abs_diff(stepwise_logits(&model, &b), model.forward(&b)) < 1e-4);
    }

    #[test]
    fn loss_at_initialisation_is_near_ln_vocab() {
        let device = Device::flex();
        let model = tiny(&device);
        let b = batch(&task(8, 3, 8, 3, <[u32]>::to_vec), &device);
        let loss = batch_loss(&model, &b);
        let expected = (VOCAB as f32).ln();
        assert!(
            (loss - expected).abs() < 0.1 * expected,
            "loss {loss}, ln V {expected}"
        );
    }

    #[test]
    fn select_reorders_and_repeats_rows() {
        let device = Device::flex();
        let model = tiny(&device);
        let b = batch(&task(2, 3, 5, 4, <[u32]>::to_vec), &device);
        let memory = model.encode(&b.source);
        let state = model.init_state(&memory);
        let rows = Tensor::<1, Int>::from_data([1, 0, 0], &device);
        let (m2, s2) = model.select(&memory, state.clone(), rows.clone());
        let prev = Tensor::<1, Int>::from_data([1, 1, 1], &device);
        let picked = model.decode_step(&m2, s2, prev).logits;
        let all = model
            .decode_step(&memory, state, Tensor::from_data([1, 1], &device))
            .logits;
        assert!(max_abs_diff(picked, all.select(0, rows)) < 1e-6);
    }

    #[test]
    fn beam_of_one_is_greedy_on_a_real_model() {
        use honyaku_core::search::greedy_search;
        use honyaku_core::{BeamConfig, SearchConfig, beam_search};
        let device = Device::flex();
        let model = tiny(&device);
        let b = batch(&task(6, 2, 7, 8, <[u32]>::to_vec), &device);
        let greedy = greedy_search(&model, &b.source, &SearchConfig::default());
        let config = BeamConfig {
            beam: 1,
            nbest: 1,
            alpha: 0.0,
            search: SearchConfig::default(),
        };
        let beam = beam_search(&model, &b.source, &config);
        for (g, b) in greedy.iter().zip(&beam) {
            assert_eq!(g.tokens, b[0].tokens);
            assert!(
                (g.score - b[0].score).abs() < 1e-3,
                "{} vs {}",
                g.score,
                b[0].score
            );
        }
    }

    #[test]
    fn overfits_one_batch() {
        let device = Device::flex().autodiff();
        let b = batch(&task(8, 3, 6, 5, <[u32]>::to_vec), &device);
        let (_, losses) = fit(tiny(&device), &[b], 150, 1e-2);
        assert!(losses[149] < 0.1, "final loss {}", losses[149]);
    }

    #[test]
    fn learns_to_copy_lengths_3_to_8() {
        let device = Device::flex().autodiff();
        let train = task(48_000, 3, 8, 6, <[u32]>::to_vec);
        let batches: Vec<TranslationBatch> = train.chunks(64).map(|c| batch(c, &device)).collect();
        device.seed(5);
        let config = LstmSeq2SeqConfig::preset(Preset::Tiny, VOCAB, VOCAB).with_d_hidden(128);
        // 2000 updates: at 1500 the exact match sat at 0.89-0.9, on either side of the bar
        // depending on the matmul kernels' summation order (AVX2 or AVX-512).
        let (model, losses) = fit(config.init(&device), &batches, 2000, 5e-3);
        eprintln!(
            "losses {:?}",
            losses.iter().step_by(100).collect::<Vec<_>>()
        );
        let test = task(200, 3, 8, 99, <[u32]>::to_vec);
        let plain = Device::flex();
        let b = batch(&test, &plain);
        let expected: Vec<Vec<u32>> = test.iter().map(|p| p.tgt.clone()).collect();
        let accuracy = exact_match(&model.valid(), &b.source, &expected);
        eprintln!("exact match {accuracy}");
        assert!(accuracy >= 0.9, "exact match {accuracy}");
    }

    #[test]
    fn dropout_is_off_at_inference() {
        let device = Device::flex();
        let config = LstmSeq2SeqConfig::preset(Preset::Tiny, VOCAB, VOCAB).with_dropout(0.5);
        let model = config.init(&device);
        let b = batch(&task(2, 3, 4, 7, <[u32]>::to_vec), &device);
        assert!(max_abs_diff(model.forward(&b), model.forward(&b)) == 0.0);
    }
}
