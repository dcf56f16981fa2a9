//! The invariants of the [`Seq2Seq`] contract, each a function that panics with a message
//! naming what broke. [`crate::conformance_tests!`] turns them into one test each.

use burn::prelude::*;
use honyaku_core::mask::keep_weights;
use honyaku_core::search::to_host_rows;
use honyaku_core::shards::in_row_shards;
use honyaku_core::special::BOS_ID;
use honyaku_core::{
    BeamConfig, Hypothesis, SearchConfig, Seq2Seq, SourceBatch, TranslationBatch, beam_search,
    greedy_search, sequence_loss,
};
use honyaku_data::batcher::EncodedPair;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::batches::{FIRST_SYMBOL, Padding, batch, padded_batch, source, sources};
use crate::grads::grad_report;
use crate::spec::Spec;
use crate::tasks::{Sampler, Task};
use crate::training::{Learning, batch_loss, fit, max_abs_diff, stepwise, stepwise_logits};

/// The seed of every structural check's model and data.
const SEED: u64 = 7;
/// Outputs that must not move at all may still differ by float rounding of a different
/// summation order (a wider padded matrix); measured differences are below 1e-6.
const SAME: f32 = 1e-5;
/// Step-by-step decoding against the teacher-forced pass: different kernels (one row at a time
/// against whole sequences), measured differences below 1e-5.
const STEPWISE: f32 = 1e-4;
/// How far the untrained model's loss may lie from `ln V`, in nats. For logits of standard
/// deviation `σ` around a common value the expected loss is `ln V + σ²/2` (second-order
/// expansion of the log-sum-exp), so the bound admits initial logits up to `σ = √2`: unit-scale
/// states times output weights of variance `1/d` give `σ ≈ 1` (measured: LSTM and attention
/// within 0.02 nats of `ln V`, the Transformers 0.58-0.89 above with their layer-normed states
/// and `N(0, 1/d)` tied embeddings), while a badly scaled initialisation (`σ = 2` already gives
/// 2 nats, a saturated softmax far more) or a model that already predicts the targets (well
/// below `ln V`) fails.
const INITIAL_LOSS: f32 = 1.0;

fn model<M: Seq2Seq>(spec: &Spec<M>, device: &Device) -> M {
    device.seed(SEED);
    (spec.build)(device)
}

/// Three pairs of different lengths on both sides, so that every row has padding somewhere.
fn varied_pairs(spec: &Spec<impl Seq2Seq>) -> Vec<EncodedPair> {
    let symbols = spec.vocab as u32 - FIRST_SYMBOL;
    let ids = |from: u32, len: u32| (from..from + len).map(|k| FIRST_SYMBOL + k % symbols);
    let pair = |src: (u32, u32), tgt: (u32, u32)| EncodedPair {
        src: ids(src.0, src.1).collect(),
        tgt: ids(tgt.0, tgt.1).collect(),
    };
    vec![
        pair((1, 5), (6, 3)),
        pair((9, 2), (11, 5)),
        pair((16, 1), (17, 1)),
    ]
}

/// `n` random reversal pairs of 2 to 7 symbols.
fn random_pairs(spec: &Spec<impl Seq2Seq>, n: usize, seed: u64) -> Vec<EncodedPair> {
    let sampler = Sampler {
        task: Task::Reverse,
        lens: 2..=7,
        vocab: spec.vocab,
    };
    sampler.pairs(&mut StdRng::seed_from_u64(seed), n)
}

fn ids(values: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// `[batch, tgt_len, 1]`: 1 at real target positions, 0 at padded ones.
fn target_keep(batch: &TranslationBatch) -> Tensor<3> {
    keep_weights(batch.tgt_pad.clone()).unsqueeze_dim::<3>(2)
}

/// `forward`, `decode_step`, `select` and `tgt_vocab` give the documented shapes; attention
/// weights come with every step exactly when the spec says the model has them.
pub fn shapes<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex();
    let model = model(spec, &device);
    let b = batch(&varied_pairs(spec), &device);
    let ([n, src_len], [_, tgt_len]) = (b.source.src.dims(), b.tgt_in.dims());
    assert_eq!(model.tgt_vocab(), spec.vocab, "tgt_vocab");
    assert_eq!(
        model.forward(&b).dims(),
        [n, tgt_len, spec.vocab],
        "forward"
    );
    let memory = model.encode(&b.source);
    let bos = Tensor::<1, Int>::full([n], BOS_ID as i64, &device);
    let step = model.decode_step(&memory, model.init_state(&memory), bos);
    assert_eq!(step.logits.dims(), [n, spec.vocab], "decode_step logits");
    match step.attention {
        Some(weights) if spec.attention => assert_eq!(weights.dims(), [n, src_len]),
        None if !spec.attention => {}
        other => panic!("attention expected: {}, got {other:?}", spec.attention),
    }
    let (memory, state) = model.select(&memory, step.state, ids(&[2, 0, 0, 1], &device));
    let next = model.decode_step(&memory, state, ids(&[5, 5, 5, 5], &device));
    assert_eq!(
        next.logits.dims(),
        [4, spec.vocab],
        "decode_step after select"
    );
}

/// Padded positions never change real outputs: other ids in the padding and more padding
/// columns, on the source and the decoder side, leave the teacher-forced logits, the stepwise
/// logits and the attention at real positions unchanged, and each row alone (no padding)
/// gives what it gives in the batch.
pub fn padding_never_changes_real_outputs<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex();
    let model = model(spec, &device);
    let pairs = varied_pairs(spec);
    let plain = batch(&pairs, &device);
    let noisy = padded_batch(&pairs, Padding::junk(3), &device);
    let ([_, src_len], [_, tgt_len]) = (plain.source.src.dims(), plain.tgt_in.dims());
    let keep = target_keep(&plain);
    let reference = model.forward(&plain);
    let wide = model.forward(&noisy).slice(s![.., 0..tgt_len, ..]);
    let diff = max_abs_diff(reference.clone() * keep.clone(), wide * keep.clone());
    assert!(diff < SAME, "teacher-forced logits moved by {diff}");
    let steps = stepwise(&model, &noisy);
    let logits = Tensor::stack::<3>(steps.logits, 1).slice(s![.., 0..tgt_len, ..]);
    let diff = max_abs_diff(reference.clone() * keep.clone(), logits * keep.clone());
    assert!(diff < SAME.max(STEPWISE), "stepwise logits moved by {diff}");
    if spec.attention {
        let clean = Tensor::stack::<3>(stepwise(&model, &plain).attention, 1);
        let wide = Tensor::stack::<3>(steps.attention, 1).slice(s![.., 0..tgt_len, 0..src_len]);
        let diff = max_abs_diff(clean * keep.clone(), wide * keep);
        assert!(diff < SAME, "attention moved by {diff}");
    }
    for (i, pair) in pairs.iter().enumerate() {
        let alone = model.forward(&batch(std::slice::from_ref(pair), &device));
        let len = pair.tgt_len();
        let diff = max_abs_diff(alone, reference.clone().slice(s![i..i + 1, 0..len, ..]));
        assert!(diff < SAME, "row {i} alone differs by {diff}");
    }
}

/// Greedy and beam search in row shards on several threads ([`in_row_shards`]) give every
/// row the hypothesis the whole batch gives it: the same tokens and the same score.
pub fn row_shards_search_like_the_whole_batch<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex();
    let model = model(spec, &device);
    let src = sources(&random_pairs(spec, 5, SEED));
    let src = source(&src, &device);
    let greedy = |m: &M, s: &SourceBatch| greedy_search(m, s, &SearchConfig::default());
    let beam_config = BeamConfig {
        beam: 3,
        nbest: 2,
        alpha: 0.6,
        search: SearchConfig::default(),
    };
    let beam = |m: &M, s: &SourceBatch| beam_search(m, s, &beam_config);
    let whole_greedy = greedy(&model, &src);
    let whole_beam: Vec<Hypothesis> = beam(&model, &src).into_iter().flatten().collect();
    for shards in [2, 3, 5] {
        let sharded = in_row_shards(&model, &src, shards, greedy);
        same_hypotheses(&whole_greedy, &sharded, &format!("greedy, {shards} shards"));
        let sharded: Vec<Hypothesis> = in_row_shards(&model, &src, shards, beam)
            .into_iter()
            .flatten()
            .collect();
        same_hypotheses(&whole_beam, &sharded, &format!("beam, {shards} shards"));
    }
}

fn same_hypotheses(whole: &[Hypothesis], sharded: &[Hypothesis], what: &str) {
    assert_eq!(whole.len(), sharded.len(), "{what}: hypotheses");
    for (row, (a, b)) in whole.iter().zip(sharded).enumerate() {
        assert_eq!(a.tokens, b.tokens, "{what}: row {row}");
        // A score sums a log-probability per token: allow the rounding of each.
        let tolerance = SAME * (1 + a.tokens.len()) as f32 * 10.0;
        assert!(
            (a.score - b.score).abs() < tolerance,
            "{what}: row {row} score {a:?} vs {b:?}"
        );
    }
}

/// Decoding one token at a time from `init_state` gives the teacher-forced logits, and the
/// attention of every step (when the model has it) is a distribution over the real source
/// positions, exactly 0 on padding.
pub fn stepwise_decoding_equals_forward<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex();
    let model = model(spec, &device);
    let mut pairs = varied_pairs(spec);
    pairs.extend(random_pairs(spec, 3, SEED));
    let b = batch(&pairs, &device);
    let diff = max_abs_diff(stepwise_logits(&model, &b), model.forward(&b));
    assert!(
        diff < STEPWISE,
        "stepwise logits differ from forward by {diff}"
    );
    let attention = stepwise(&model, &b).attention;
    if !spec.attention {
        assert!(attention.is_empty(), "steps returned attention");
        return;
    }
    let weights = Tensor::stack::<3>(attention, 1);
    let [n, tgt_len, src_len] = weights.dims();
    let rows = to_host_rows(weights.reshape([n * tgt_len, src_len]));
    for (r, row) in rows.iter().enumerate() {
        let real = pairs[r / tgt_len].src_len();
        let sum: f32 = row[..real].iter().sum();
        assert!(
            (sum - 1.0).abs() < SAME,
            "row {r}: weights sum to {sum}: {row:?}"
        );
        assert!(
            row[real..].iter().all(|&w| w == 0.0),
            "row {r}: weight on padding"
        );
    }
}

/// After a few steps, `select` with rows `[1, 0, 0]` (reordered and repeated) continues
/// exactly as decoding those rows from the start.
pub fn select_reorders_and_repeats_rows<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex();
    let model = model(spec, &device);
    let srcs = [vec![5, 6, 7, 8], vec![9, 10]];
    // The tokens fed to sentence 0 and sentence 1 at each of three steps.
    let steps: [[i64; 2]; 3] = [[1, 1], [6, 9], [7, 10]];
    let memory = model.encode(&source(&srcs, &device));
    let mut state = model.init_state(&memory);
    for [a, b] in steps {
        state = model
            .decode_step(&memory, state, ids(&[a, b], &device))
            .state;
    }
    let (memory, state) = model.select(&memory, state, ids(&[1, 0, 0], &device));
    let last = ids(&[11, 12, 13], &device);
    let selected = model.decode_step(&memory, state, last.clone());

    let reordered = [srcs[1].clone(), srcs[0].clone(), srcs[0].clone()];
    let memory = model.encode(&source(&reordered, &device));
    let mut state = model.init_state(&memory);
    for [a, b] in steps {
        state = model
            .decode_step(&memory, state, ids(&[b, a, a], &device))
            .state;
    }
    let direct = model.decode_step(&memory, state, last);
    let diff = max_abs_diff(selected.logits, direct.logits);
    assert!(diff < SAME, "selected rows' logits differ by {diff}");
    if let (Some(a), Some(b)) = (selected.attention, direct.attention) {
        let diff = max_abs_diff(a, b);
        assert!(diff < SAME, "selected rows' attention differs by {diff}");
    }
}

/// One backward pass of the loss gives every float parameter a non-zero, finite gradient.
pub fn gradients_reach_every_parameter<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex().autodiff();
    let model = model(spec, &device);
    let b = batch(&random_pairs(spec, 6, SEED), &device);
    let loss = sequence_loss(model.forward(&b), b.tgt_out.clone(), b.tgt_pad.clone(), 0.1);
    let grads = loss.loss.backward();
    let report = grad_report(&model, &grads);
    assert!(!report.seen.is_empty(), "no parameters");
    assert!(
        report.missing.is_empty(),
        "no gradient: {:?}",
        report.missing
    );
    assert_eq!(
        report.distinct,
        report.seen.len(),
        "a parameter visited twice"
    );
}

/// The untrained model's loss is `ln V` within [`INITIAL_LOSS`] nats.
pub fn initial_loss_is_near_ln_vocab<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex();
    let model = model(spec, &device);
    let loss = batch_loss(&model, &batch(&random_pairs(spec, 16, SEED), &device));
    let expected = (spec.vocab as f32).ln();
    eprintln!("initial loss {loss:.4}, ln V {expected:.4}");
    assert!(
        (loss - expected).abs() < INITIAL_LOSS,
        "initial loss {loss}, ln V {expected}"
    );
}

/// Adam drives the loss of one batch of eight pairs below the spec's bar.
pub fn overfits_one_batch<M: Seq2Seq>(spec: &Spec<M>) {
    let device = Device::flex().autodiff();
    let model = model(spec, &device);
    let b = batch(&random_pairs(spec, 8, SEED), &device);
    let before = batch_loss(&model, &b);
    let (model, _) = fit(
        model,
        std::slice::from_ref(&b),
        spec.overfit.steps,
        spec.overfit.lr,
    );
    let after = batch_loss(&model, &b);
    eprintln!("overfit: loss {before:.3} -> {after:.4}");
    assert!(after < spec.overfit.max_loss, "loss {before} -> {after}");
}

/// The spec's learning recipe reaches its exact-match bar on held-out sentences.
///
/// `HONYAKU_LEARNING_SEEDS=1,2,3` runs the recipe with those seeds instead of the spec's one, to
/// check that a recipe does not pass by the luck of one initialisation.
pub fn learns_a_synthetic_task<M: Seq2Seq>(spec: &Spec<M>) {
    for seed in learning_seeds(spec.learning.seed) {
        let learning = Learning {
            seed,
            ..spec.learning.clone()
        };
        let started = std::time::Instant::now();
        let learned = learning.run();
        eprintln!(
            "{:?} {:?}, seed {seed}: exact match {:.1}% in {:.1?}; losses every 50 updates {:?}",
            learning.sampler.task,
            learning.sampler.lens,
            100.0 * learned.exact_match,
            started.elapsed(),
            learned.losses
        );
        assert!(
            learned.exact_match >= learning.min_exact_match,
            "seed {seed}: exact match {}",
            learned.exact_match
        );
    }
}

/// The seeds of [`learns_a_synthetic_task`]: `HONYAKU_LEARNING_SEEDS` when set, else `default`.
fn learning_seeds(default: u64) -> Vec<u64> {
    match std::env::var("HONYAKU_LEARNING_SEEDS") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("HONYAKU_LEARNING_SEEDS: not a seed: {s:?}"))
            })
            .collect(),
        Err(_) => vec![default],
    }
}
