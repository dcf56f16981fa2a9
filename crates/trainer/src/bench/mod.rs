//! `honyaku bench`: training and decoding throughput of one architecture on one backend, on
//! random token ids of fixed shapes (no padding), with the code paths `train` and `translate`
//! use: [`accumulated_grads`] (or the row-shard workers of [`DataParallel`] with
//! `--cpu-shards`) and [`guarded_update`] (clipping and Adam) for training, the
//! shared [`greedy_search`] and [`beam_search`] for decoding.
//!
//! What is counted:
//! - training: target tokens (predictions) per second of whole updates (forward, loss,
//!   backward, global-norm clipping, Adam), after warm-up updates; the loss is read back every
//!   update, as `train` does;
//! - greedy: generated tokens per second, EOS included, for one batch decoded with the length
//!   limit set to exactly `decode_len` steps, by the freshly initialised model (before the
//!   training measurement: trained on these batches, it soon predicts EOS first). A random
//!   model almost never emits EOS, so this is `batch × decode_len`; rows that finish early
//!   count only their tokens (the `tokens` field says how many), while search keeps stepping
//!   the whole batch until every row has finished;
//! - beam: the tokens of the best hypothesis of each sentence (EOS included) per second, same
//!   limit;
//! - forward: target tokens per second of a teacher-forced forward pass without autodiff (a
//!   profiling aid: how much of a training step the forward pass is).

mod clock;
mod matmul;

use std::time::Instant;

use burn::prelude::*;
use honyaku_core::search::to_host_floats;
use honyaku_core::shards::in_row_shards;
use honyaku_core::{
    BeamConfig, Preset, SearchConfig, Seq2Seq, SourceBatch, beam_search, greedy_search,
};
use honyaku_data::batcher::{EncodedPair, HostBatch};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

pub use self::clock::{Clock, Throughput, cpu_seconds};
pub use self::matmul::{FlopsBench, MatmulBench, flops, matmul_rate};
use crate::arch::{Arch, ModelConfig, ModelTask};
use crate::backend::Backend;
use crate::run::TrainConfig;
use crate::training::guard::DivergenceGuard;
use crate::training::parallel::DataParallel;
use crate::training::{Gradients, accumulated_grads, guarded_update, new_optimizer, peak_rss_mib};

/// The shapes and repetitions of one benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct BenchShape {
    /// Sentences per batch.
    pub batch: usize,
    /// Source columns (EOS included).
    pub src_len: usize,
    /// Target columns (decoder inputs `BOS y…`, outputs `y… EOS`).
    pub tgt_len: usize,
    /// Vocabulary size of both sides.
    pub vocab: usize,
    /// Timed training updates.
    pub steps: usize,
    /// Untimed training updates before them.
    pub warmup: usize,
    /// Decoding steps of greedy and beam search.
    pub decode_len: usize,
    /// Beam size.
    pub beam: usize,
    /// Row shards of each training batch, back-propagated on as many threads at once
    /// (`train --cpu-shards`), and of the decoded batch, searched on as many threads (as
    /// `translate` does on the CPU); 0 asks the backend for its default, 1 is the whole batch on
    /// the calling thread.
    pub cpu_shards: usize,
}

impl Default for BenchShape {
    fn default() -> Self {
        Self {
            batch: 64,
            src_len: 16,
            tgt_len: 16,
            vocab: 8000,
            steps: 10,
            warmup: 2,
            decode_len: 32,
            beam: 5,
            cpu_shards: 1,
        }
    }
}

/// Training throughput.
#[derive(Debug, Clone, Serialize)]
pub struct TrainBench {
    /// Timed updates.
    pub steps: usize,
    /// Target tokens per update.
    pub tokens_per_step: usize,
    /// Wall time of the timed updates, seconds.
    pub seconds: f64,
    /// Of which computing the gradients (forward, loss, backward), seconds.
    pub grad_seconds: f64,
    /// Of which clipping and the Adam update, seconds.
    pub update_seconds: f64,
    /// CPU time of the process (all threads) during the timed updates, seconds (Linux).
    pub cpu_seconds: Option<f64>,
    /// Target tokens per second.
    pub tokens_per_second: f64,
    /// Training loss of the first and the last timed update (a sanity check: it falls).
    pub loss_first: f64,
    /// See `loss_first`.
    pub loss_last: f64,
}

/// What `honyaku bench` prints for one model.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Architecture.
    pub arch: String,
    /// The recurrent cell of the recurrent architectures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// Backend.
    pub backend: String,
    /// Preset.
    pub preset: String,
    /// Shapes.
    pub shape: BenchShape,
    /// Number of parameters.
    pub parameters: usize,
    /// Training.
    pub train: TrainBench,
    /// Teacher-forced forward pass without autodiff.
    pub forward: Throughput,
    /// Greedy decoding.
    pub greedy: Throughput,
    /// Beam search.
    pub beam: Throughput,
    /// Peak resident memory of the process, MiB (Linux).
    pub peak_rss_mib: Option<f64>,
    /// The allocator's cache of large freed blocks at the end (`HONYAKU_BLOCK_CACHE_MIB`).
    pub block_cache: crate::allocator::BlockStats,
    /// FLOPs and the share of the matmul rate.
    pub flops: FlopsBench,
}

/// The model-dependent part of a benchmark, for [`crate::arch::ModelConfig::run`].
pub struct BenchJob {
    /// Shapes and repetitions.
    pub shape: BenchShape,
    /// The autodiff device training runs on.
    pub device: Device,
    /// Seed of the data and of dropout.
    pub seed: u64,
}

/// What [`BenchJob`] measures; the caller adds the names and FLOPs.
pub struct ModelBench {
    /// Number of parameters.
    pub parameters: usize,
    /// Training.
    pub train: TrainBench,
    /// Forward pass.
    pub forward: Throughput,
    /// Greedy decoding.
    pub greedy: Throughput,
    /// Beam search.
    pub beam: Throughput,
}

/// A batch of random ids in `4..vocab` (no specials, no padding): `src_len - 1` source tokens
/// and EOS, `tgt_len - 1` target tokens shifted for teacher forcing.
pub fn random_batch(shape: &BenchShape, rng: &mut StdRng) -> HostBatch {
    let mut ids = |n: usize| -> Vec<u32> {
        (0..n)
            .map(|_| rng.random_range(4..shape.vocab.max(5) as u32))
            .collect()
    };
    let pairs: Vec<EncodedPair> = (0..shape.batch)
        .map(|_| EncodedPair {
            src: ids(shape.src_len.saturating_sub(1)),
            tgt: ids(shape.tgt_len.saturating_sub(1)),
        })
        .collect();
    let refs: Vec<&EncodedPair> = pairs.iter().collect();
    HostBatch::from_pairs(&refs)
}

impl ModelTask for BenchJob {
    type Output = ModelBench;

    fn run<M: Seq2Seq>(self, model: M) -> ModelBench {
        let shape = &self.shape;
        let parameters = Module::num_params(&model);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let host = random_batch(shape, &mut rng);
        let plain = self.device.clone().without_autodiff();
        let batch = host.to_batch(&plain);
        // Decoding first, with the freshly initialised weights: a few updates on these
        // batches teach the model that EOS is the most frequent token, and greedy search
        // would then stop after a step or two.
        let (greedy, beam) = {
            let model = model.valid();
            let search = SearchConfig {
                max_len_a: 0.0,
                max_len_b: shape.decode_len,
                keep_attention: false,
            };
            let warm_up = SearchConfig {
                max_len_b: 2,
                ..search
            };
            greedy_search(&model, &batch.source, &warm_up);
            let greedy = time_greedy(&model, &batch.source, &search, &plain, shape.cpu_shards);
            let beam_config = BeamConfig {
                beam: shape.beam,
                nbest: 1,
                alpha: 0.6,
                search,
            };
            let beam = time_beam(
                &model,
                &batch.source,
                &beam_config,
                &plain,
                shape.cpu_shards,
            );
            (greedy, beam)
        };
        let forward = time_forward(&model.valid(), &batch, &plain, 3);
        let (_, train) = self.train(model, &host);
        ModelBench {
            parameters,
            train,
            forward,
            greedy,
            beam,
        }
    }
}

impl BenchJob {
    /// `warmup` untimed then `steps` timed updates, each exactly as `train` makes them.
    fn train<M: Seq2Seq>(&self, model: M, host: &HostBatch) -> (M, TrainBench) {
        let shape = &self.shape;
        let config = TrainConfig::default();
        let mut optim = new_optimizer();
        let mut guard = DivergenceGuard::default();
        let mut model = model;
        let group = std::slice::from_ref(host);
        let shards =
            DataParallel::<M>::for_devices(std::slice::from_ref(&self.device), shape.cpu_shards);
        let (mut grad_seconds, mut update_seconds) = (0.0, 0.0);
        let (mut loss_first, mut loss_last) = (f64::NAN, f64::NAN);
        let mut start = Clock::start();
        for step in 0..shape.warmup + shape.steps {
            if step == shape.warmup {
                self.device.sync().ok();
                start = Clock::start();
                (grad_seconds, update_seconds) = (0.0, 0.0);
            }
            let seed = self.seed.wrapping_add(step as u64);
            self.device.seed(seed);
            let t0 = Instant::now();
            let Gradients { grads, stats } = match &shards {
                Some(workers) => workers
                    .grads(&model, group, config.label_smoothing, seed)
                    .unwrap_or_else(|e| panic!("{e}")),
                None => accumulated_grads(&model, group, &self.device, config.label_smoothing),
            };
            let t1 = Instant::now();
            let update = guarded_update(
                model,
                &mut optim,
                &mut guard,
                stats.loss(),
                grads,
                config.lr,
                config.clip_norm,
            );
            model = update.model;
            self.device.sync().ok();
            grad_seconds += (t1 - t0).as_secs_f64();
            update_seconds += t1.elapsed().as_secs_f64();
            if step == shape.warmup {
                loss_first = stats.loss();
            }
            loss_last = stats.loss();
        }
        let (seconds, cpu_seconds) = start.elapsed();
        let tokens_per_step = host.n_tgt_tokens;
        let train = TrainBench {
            steps: shape.steps,
            tokens_per_step,
            seconds,
            grad_seconds,
            update_seconds,
            cpu_seconds,
            tokens_per_second: (shape.steps * tokens_per_step) as f64 / seconds.max(1e-9),
            loss_first,
            loss_last,
        };
        (model, train)
    }
}

fn time_forward<M: Seq2Seq>(
    model: &M,
    batch: &honyaku_core::TranslationBatch,
    device: &Device,
    reps: usize,
) -> Throughput {
    let [rows, cols] = batch.tgt_in.dims();
    to_host_floats(model.forward(batch).slice(s![0..1, 0..1, 0..1]));
    let start = Clock::start();
    for _ in 0..reps {
        to_host_floats(model.forward(batch).slice(s![0..1, 0..1, 0..1]));
    }
    device.sync().ok();
    Throughput::new(reps * rows * cols, start)
}

fn time_greedy<M: Seq2Seq>(
    model: &M,
    source: &SourceBatch,
    search: &SearchConfig,
    device: &Device,
    shards: usize,
) -> Throughput {
    let start = Clock::start();
    let hyps = in_row_shards(model, source, shards, |m, s| greedy_search(m, s, search));
    device.sync().ok();
    let tokens = hyps
        .iter()
        .map(|h| h.tokens.len() + usize::from(h.finished))
        .sum();
    Throughput::new(tokens, start)
}

fn time_beam<M: Seq2Seq>(
    model: &M,
    source: &SourceBatch,
    config: &BeamConfig,
    device: &Device,
    shards: usize,
) -> Throughput {
    let start = Clock::start();
    let hyps = in_row_shards(model, source, shards, |m, s| beam_search(m, s, config));
    device.sync().ok();
    let tokens = hyps
        .iter()
        .filter_map(|h| h.first())
        .map(|h| h.tokens.len() + usize::from(h.finished))
        .sum();
    Throughput::new(tokens, start)
}

/// Benchmarks `arch` at `preset` on `backend`: training, forward and decoding throughput on
/// random batches of `shape`, the model's FLOPs against the backend's matmul rate, and the peak
/// memory.
pub fn bench_model(
    arch: Arch,
    preset: Preset,
    backend: Backend,
    shape: BenchShape,
    seed: u64,
) -> anyhow::Result<BenchReport> {
    let config = ModelConfig::preset(arch, preset, shape.vocab, shape.vocab);
    bench_config(config, preset, backend, shape, seed)
}

/// [`bench_model`] of a given configuration (`preset` names it in the report), built for
/// `shape.vocab` tokens on both sides.
pub fn bench_config(
    config: ModelConfig,
    preset: Preset,
    backend: Backend,
    shape: BenchShape,
    seed: u64,
) -> anyhow::Result<BenchReport> {
    let config = config.with_vocab(shape.vocab, shape.vocab);
    let arch = config.arch();
    config.validate().map_err(anyhow::Error::msg)?;
    let longest = shape.src_len.max(shape.tgt_len).max(shape.decode_len);
    if let Some(table) = config.max_positions()
        && longest > table
    {
        anyhow::bail!(
            "--src-len, --tgt-len and --decode-len must be at most {table}, the positions of \
             the {arch} preset's position table; got {longest}"
        );
    }
    let shape = BenchShape {
        cpu_shards: backend.cpu_shards(shape.cpu_shards),
        ..shape
    };
    let train_device = backend.train_device()?;
    train_device.seed(seed);
    let measured = config.run(
        &train_device,
        BenchJob {
            shape: shape.clone(),
            device: train_device.clone(),
            seed,
        },
    );
    let matmul = matmul_rate(&backend.device()?, 1024, 10);
    Ok(BenchReport {
        arch: arch.to_string(),
        cell: config.cell().map(|c| c.to_string()),
        backend: backend.to_string(),
        preset: preset.to_string(),
        parameters: measured.parameters,
        flops: flops(
            config.forward_flops(shape.src_len, shape.tgt_len),
            shape.tgt_len,
            measured.train.tokens_per_second,
            matmul.gflops_per_second,
        ),
        shape,
        train: measured.train,
        forward: measured.forward,
        greedy: measured.greedy,
        beam: measured.beam,
        peak_rss_mib: peak_rss_mib(),
        block_cache: crate::allocator::ALLOCATOR.stats(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_bench_counts_what_it_says() {
        let shape = BenchShape {
            batch: 3,
            src_len: 5,
            tgt_len: 4,
            vocab: 40,
            steps: 1,
            warmup: 1,
            decode_len: 3,
            beam: 2,
            cpu_shards: 1,
        };
        for arch in Arch::ALL {
            let config = ModelConfig::preset(arch, Preset::Tiny, 40, 40);
            let device = Device::flex().autodiff();
            let out = config.run(
                &device,
                BenchJob {
                    shape: shape.clone(),
                    device: device.clone(),
                    seed: 1,
                },
            );
            assert_eq!(out.train.tokens_per_step, 3 * 4, "{arch}");
            assert_eq!(out.forward.tokens, 3 * 3 * 4, "{arch}");
            // At most `decode_len` tokens per sentence, EOS included.
            assert!((1..=9).contains(&out.greedy.tokens), "{arch}");
            assert!((1..=9).contains(&out.beam.tokens), "{arch}");
            assert!(out.train.loss_first.is_finite(), "{arch}");
        }
    }

    #[test]
    fn lstm_flops_by_hand() {
        // 1 layer, embed 2, hidden 3, vocab 5; 2 source and 1 target token.
        let config = honyaku_lstm::LstmSeq2SeqConfig::new(5, 5)
            .with_d_embed(2)
            .with_d_hidden(3)
            .with_n_layers(1);
        let per_token = 2.0 * 2.0 * 12.0 + 2.0 * 3.0 * 12.0;
        let expected = 2.0 * per_token + (per_token + 2.0 * 3.0 * 5.0);
        assert_eq!(config.forward_flops(2, 1), expected);
        let f = flops(expected, 1, 10.0, 1.0);
        assert_eq!(f.train_per_token, 3.0 * expected);
    }
}
