//! Training and scoring helpers for tests: losses, Adam updates, exact match.

use std::collections::HashSet;

use burn::module::{ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use honyaku_core::clip::clip_global_norm;
use honyaku_core::dropout::with_thread_seed;
use honyaku_core::search::{SearchConfig, greedy_search, to_host_floats};
use honyaku_core::{Seq2Seq, SourceBatch, TranslationBatch, sequence_loss};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::batches::{batch, source, sources, targets};
use crate::tasks::Sampler;

/// Runs `decode_step` over the teacher-forced inputs and returns the stacked logits
/// `[batch, tgt_len, vocab]`, to compare with [`Seq2Seq::forward`].
pub fn stepwise_logits<M: Seq2Seq>(model: &M, batch: &TranslationBatch) -> Tensor<3> {
    Tensor::stack(stepwise(model, batch).logits, 1)
}

/// The logits and the attention weights of a `decode_step` loop over the decoder inputs.
pub struct Stepwise {
    /// Per step, `[batch, tgt_vocab]`.
    pub logits: Vec<Tensor<2>>,
    /// Per step, `[batch, src_len]`, for models that return attention.
    pub attention: Vec<Tensor<2>>,
}

/// Decodes `batch.tgt_in` one token at a time.
pub fn stepwise<M: Seq2Seq>(model: &M, batch: &TranslationBatch) -> Stepwise {
    let [_, tgt_len] = batch.tgt_in.dims();
    let memory = model.encode(&batch.source);
    let mut state = model.init_state(&memory);
    let mut out = Stepwise {
        logits: Vec::with_capacity(tgt_len),
        attention: Vec::new(),
    };
    for t in 0..tgt_len {
        let prev = batch.tgt_in.clone().slice(s![.., t]).squeeze_dim::<1>(1);
        let step = model.decode_step(&memory, state, prev);
        state = step.state;
        out.logits.push(step.logits);
        out.attention.extend(step.attention);
    }
    out
}

/// Largest absolute difference between two tensors of the same shape.
pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    to_host_floats((a - b).abs().max())[0]
}

/// Mean loss per token (no smoothing) of `model` on `batch`.
pub fn batch_loss<M: Seq2Seq>(model: &M, batch: &TranslationBatch) -> f32 {
    let logits = model.forward(batch);
    let out = sequence_loss(logits, batch.tgt_out.clone(), batch.tgt_pad.clone(), 0.0);
    to_host_floats(out.loss)[0]
}

/// Trains `model` with Adam on `batches` (cycled) for `steps` updates at a constant `lr`;
/// returns the trained model and the loss of each step. `batches` must live on the autodiff
/// device of `model`.
pub fn fit<M: Seq2Seq>(
    model: M,
    batches: &[TranslationBatch],
    steps: usize,
    lr: f64,
) -> (M, Vec<f32>) {
    let mut trainer = Trainer::new(model, AdamConfig::new());
    let losses = (0..steps)
        .map(|step| trainer.update(&batches[step % batches.len()], lr))
        .collect();
    (trainer.model, losses)
}

/// Share of sentences whose greedy output equals `expected` exactly.
pub fn exact_match<M: Seq2Seq>(model: &M, source: &SourceBatch, expected: &[Vec<u32>]) -> f32 {
    let hyps = greedy_search(model, source, &SearchConfig::default());
    let right = hyps
        .iter()
        .zip(expected)
        .filter(|(h, e)| &h.tokens == *e)
        .count();
    right as f32 / expected.len().max(1) as f32
}

/// A learning-rate schedule over a run of `steps` updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// The same rate throughout.
    Constant(f64),
    /// `first` for the first `share` of the updates, then `then`.
    Drop {
        /// The rate at first.
        first: f64,
        /// The share of the updates at `first`, in `[0, 1]`.
        share: f64,
        /// The rate after.
        then: f64,
    },
    /// A linear warm-up to `peak` over `warmup` updates, then a linear decay to `end`.
    WarmupDecay {
        /// Updates of the warm-up.
        warmup: usize,
        /// The rate at the end of the warm-up.
        peak: f64,
        /// The rate of the last update.
        end: f64,
    },
}

impl Schedule {
    /// The rate of update `step` (from 0) of `steps`.
    pub fn rate(self, step: usize, steps: usize) -> f64 {
        match self {
            Self::Constant(lr) => lr,
            Self::Drop { first, share, then } => {
                if (step as f64) < share * steps as f64 {
                    first
                } else {
                    then
                }
            }
            Self::WarmupDecay { warmup, peak, end } => {
                if step < warmup {
                    peak * (step + 1) as f64 / warmup as f64
                } else {
                    let done = (step - warmup) as f64 / (steps - warmup).max(1) as f64;
                    peak + (end - peak) * done
                }
            }
        }
    }
}

/// A recipe for learning a synthetic task from fresh random batches, then translating held-out
/// sources exactly with greedy search.
#[derive(Debug, Clone)]
pub struct Learning<M> {
    /// Builds the model to train (may be wider than the suite's tiny model).
    pub build: fn(&Device) -> M,
    /// The task and its sentences.
    pub sampler: Sampler,
    /// Sentences per update.
    pub batch_size: usize,
    /// Whether each batch holds sentences of one length (as the batcher's length buckets).
    pub same_length: bool,
    /// Updates.
    pub steps: usize,
    /// The learning rate of each update.
    pub schedule: Schedule,
    /// Adam's `β₂` (Burn's default is 0.999).
    pub beta_2: f32,
    /// Adam's `ε` (Burn's default is 1e-5).
    pub epsilon: f32,
    /// Global gradient-norm clipping, as `honyaku train --clip-norm` does (`None`: off).
    pub clip_norm: Option<f32>,
    /// Seeds the device (initial weights), the sentences and the dropout masks.
    pub seed: u64,
    /// Held-out sentences translated after training.
    pub test_size: usize,
    /// The smallest share of held-out sentences translated exactly.
    pub min_exact_match: f32,
}

/// What [`Learning::run`] measured.
#[derive(Debug, Clone)]
pub struct Learned {
    /// The share of held-out sentences translated exactly.
    pub exact_match: f32,
    /// The training loss every 50 updates and at the last one.
    pub losses: Vec<f32>,
}

impl<M: Seq2Seq> Learning<M> {
    /// Trains a fresh model on the CPU and scores it on held-out sentences.
    ///
    /// The dropout masks come from this thread's own generator ([`with_thread_seed`]), so the
    /// tests that run beside it on other threads, drawing from the device's shared generator,
    /// do not change them.
    pub fn run(&self) -> Learned {
        let plain = Device::flex();
        let device = plain.clone().autodiff();
        let model = seeded_build(self.build, &device, self.seed);
        with_thread_seed(self.seed, || self.train_and_score(model, &plain, &device))
    }

    fn train_and_score(&self, model: M, plain: &Device, device: &Device) -> Learned {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let test = self.sampler.pairs(&mut rng, self.test_size);
        let held_out: HashSet<Vec<u32>> = test.iter().map(|p| p.src.clone()).collect();
        let mut trainer = Trainer::new(
            model,
            AdamConfig::new()
                .with_beta_2(self.beta_2)
                .with_epsilon(self.epsilon),
        )
        .with_clip_norm(self.clip_norm);
        let mut losses = Vec::new();
        for step in 0..self.steps {
            let pairs =
                self.sampler
                    .fresh_pairs(&mut rng, self.batch_size, self.same_length, &held_out);
            let loss = trainer.update(&batch(&pairs, device), self.schedule.rate(step, self.steps));
            if step % 50 == 0 || step + 1 == self.steps {
                losses.push(loss);
            }
        }
        let model = trainer.model.valid();
        let exact_match = exact_match(&model, &source(&sources(&test), plain), &targets(&test));
        Learned {
            exact_match,
            losses,
        }
    }
}

/// Builds the model that `seed` gives on `device`. The device's generator is shared with the
/// tests that run beside this one on other threads; one that draws or seeds while the weights
/// are drawn changes them, so the model is built twice and kept only when both builds agree.
/// burn draws a parameter's values when it is first read, so each build is read right away.
pub fn seeded_build<M: Module>(build: fn(&Device) -> M, device: &Device, seed: u64) -> M {
    let mut attempts = 0;
    loop {
        device.seed(seed);
        let model = build(device);
        let first = float_params(&model);
        device.seed(seed);
        let again = float_params(&build(device));
        attempts += 1;
        if first == again || attempts == 20 {
            return model;
        }
    }
}

/// Every float parameter of `module`, flattened, in visiting order.
fn float_params<M: Module>(module: &M) -> Vec<Vec<f32>> {
    struct Collect(Vec<Vec<f32>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(to_host_floats(param.val()));
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    collect.0
}

/// A model and its Adam state.
struct Trainer<M: Seq2Seq> {
    model: M,
    optim: ModuleOptimizer,
    clip_norm: Option<f32>,
}

impl<M: Seq2Seq> Trainer<M> {
    fn new(model: M, config: AdamConfig) -> Self {
        Self {
            model,
            optim: config.init(),
            clip_norm: None,
        }
    }

    fn with_clip_norm(self, clip_norm: Option<f32>) -> Self {
        Self { clip_norm, ..self }
    }

    /// One update on `batch` at rate `lr`; returns the loss before it.
    fn update(&mut self, batch: &TranslationBatch, lr: f64) -> f32 {
        let out = sequence_loss(
            self.model.forward(batch),
            batch.tgt_out.clone(),
            batch.tgt_pad.clone(),
            0.0,
        );
        let loss = to_host_floats(out.loss.clone())[0];
        let mut grads = GradientsParams::from_grads(out.loss.backward(), &self.model);
        if self.clip_norm.is_some() {
            clip_global_norm(&self.model, &mut grads, self.clip_norm);
        }
        self.model = self.optim.step(lr, self.model.clone(), grads);
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_give_the_documented_rates() {
        assert_eq!(Schedule::Constant(0.1).rate(7, 10), 0.1);
        let drop = Schedule::Drop {
            first: 1.0,
            share: 0.7,
            then: 0.2,
        };
        assert_eq!((drop.rate(6, 10), drop.rate(7, 10)), (1.0, 0.2));
        let warm = Schedule::WarmupDecay {
            warmup: 4,
            peak: 1.0,
            end: 0.1,
        };
        assert_eq!(warm.rate(0, 14), 0.25);
        assert_eq!(warm.rate(3, 14), 1.0);
        assert_eq!(warm.rate(4, 14), 1.0);
        assert!((warm.rate(14, 14) - 0.1).abs() < 1e-12);
    }
}
