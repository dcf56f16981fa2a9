//! The dependable training loop: exact resume, interrupts, the divergence guard and global-norm
//! clipping, on a tiny LSTM and a synthetic copy corpus.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use honyaku::arch::ModelConfig;
use honyaku::backend::Backend;
use honyaku::run::checkpoint::load_module;
use honyaku::run::{OptimizerKind, RunDir, TrainConfig};
use honyaku::training::clip::clip_global_norm;
use honyaku::training::guard::{DivergenceGuard, GuardDecision};
use honyaku::training::parallel::DataParallel;
use honyaku::training::resume::TrainState;
use honyaku::training::{
    Gradients, TrainJob, TrainSummary, accumulated_grads, guarded_update, new_optimizer,
    optimizer_for,
};
use honyaku_conformance::tempdir;
use honyaku_core::search::to_host_floats;
use honyaku_core::{Preset, Seq2Seq, sequence_loss};
use honyaku_data::batcher::{Batcher, BatcherConfig, EncodedPair, HostBatch};
use honyaku_lstm::LstmSeq2SeqConfig;

use common::synth;

const VOCAB: usize = 24;

/// Burn's device seed is global to the process: tests that seed and then draw initial weights
/// hold this so that a parallel test cannot draw in between.
static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seeded() -> std::sync::MutexGuard<'static, ()> {
    SEEDED.lock().unwrap_or_else(|e| e.into_inner())
}

/// A copy corpus of `n` pairs with ids in `4..VOCAB`, lengths 3..=8, from a fixed LCG.
fn copy_corpus(n: usize) -> Vec<EncodedPair> {
    let mut x: u64 = 12345;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|_| {
            let len = 3 + next() % 6;
            let src: Vec<u32> = (0..len)
                .map(|_| (4 + next() % (VOCAB - 4)) as u32)
                .collect();
            EncodedPair {
                tgt: src.clone(),
                src,
            }
        })
        .collect()
}

fn model_config(dropout: f64) -> ModelConfig {
    ModelConfig::Lstm(LstmSeq2SeqConfig::preset(Preset::Tiny, VOCAB, VOCAB).with_dropout(dropout))
}

fn train_config(max_steps: usize, accum: usize) -> TrainConfig {
    TrainConfig {
        max_steps: Some(max_steps),
        max_tokens: 64,
        lr: 0.01,
        clip_norm: Some(1.0),
        log_every: 2,
        accum,
        valid_bleu: false,
        ..TrainConfig::default()
    }
}

/// Trains (or, with `resume`, continues) the run in `root` up to `max_steps` updates.
fn train(root: &Path, max_steps: usize, resume: bool, accum: usize, dropout: f64) -> TrainSummary {
    train_on(root, max_steps, resume, accum, dropout, Workers::ONE)
}

/// How many CPU devices a test run trains on, and in how many row shards per batch.
#[derive(Clone, Copy)]
struct Workers {
    devices: usize,
    cpu_shards: usize,
}

impl Workers {
    const ONE: Workers = Workers {
        devices: 1,
        cpu_shards: 1,
    };
}

/// [`train`] with data parallel over CPU devices and row shards.
fn train_on(
    root: &Path,
    max_steps: usize,
    resume: bool,
    accum: usize,
    dropout: f64,
    workers: Workers,
) -> TrainSummary {
    let Workers {
        devices,
        cpu_shards,
    } = workers;
    let run = if resume {
        RunDir {
            root: root.to_path_buf(),
        }
    } else {
        RunDir::create(root, true).unwrap()
    };
    let config = TrainConfig {
        devices,
        cpu_shards,
        ..train_config(max_steps, accum)
    };
    let batcher = Batcher::new(
        copy_corpus(64),
        BatcherConfig {
            max_tokens: config.max_tokens,
            shuffle: true,
            seed: config.seed,
        },
    )
    .unwrap();
    let state = if resume {
        TrainState::load(&run).unwrap()
    } else {
        TrainState {
            lr_scale: 1.0,
            ..TrainState::default()
        }
    };
    let all_devices = Backend::Flex.train_devices(devices).unwrap();
    let device = all_devices[0].clone();
    device.seed(7);
    model_config(dropout)
        .run(
            &device,
            TrainJob {
                config: &config,
                run: &run,
                batcher: &batcher,
                valid: None,
                devices: all_devices,
                quiet: true,
                state,
                resume,
            },
        )
        .unwrap()
}

/// Every float parameter of a module, flattened, in visiting order.
struct Collect(Vec<Vec<f32>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(to_host_floats(param.val()));
    }
}

fn params<M: Module>(m: &M) -> Vec<Vec<f32>> {
    let mut c = Collect(Vec::new());
    m.visit(&mut c);
    c.0
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f32::max)
}

fn checkpoint_params(root: &Path) -> Vec<Vec<f32>> {
    let device = Backend::Flex.device().unwrap();
    let model = match model_config(0.0) {
        ModelConfig::Lstm(c) => c.init(&device),
        _ => unreachable!(),
    };
    let run = RunDir {
        root: root.to_path_buf(),
    };
    params(&load_module(model, &run.last_checkpoint()).unwrap())
}

/// Trains in one go and in two sessions (stopped mid-epoch, resumed into later epochs) and
/// compares the final weights. Dropout works because the loop re-seeds the device per step.
fn resume_matches_one_go(accum: usize, dropout: f64) {
    let _seeded = seeded();
    let dir = tempdir().unwrap();
    let (one, split) = (dir.path().join("one"), dir.path().join("split"));
    let batches = Batcher::new(
        copy_corpus(64),
        BatcherConfig {
            max_tokens: 64,
            shuffle: true,
            seed: 42,
        },
    )
    .unwrap()
    .num_batches();
    // Stop mid-epoch, and finish in a later epoch than the one the run stopped in.
    let per_epoch = batches.div_ceil(accum);
    let (half, total) = (per_epoch + per_epoch / 2, 3 * per_epoch);
    let a = train(&one, total, false, accum, dropout);
    assert_eq!(a.steps, total);
    let b = train(&split, half, false, accum, dropout);
    assert_eq!(b.steps, half);
    let state = TrainState::load(&RunDir {
        root: split.clone(),
    })
    .unwrap();
    assert_eq!(
        (state.step, state.epoch, state.batch_in_epoch),
        (half, 1, (per_epoch / 2) * accum)
    );
    let c = train(&split, total, true, accum, dropout);
    assert_eq!(c.steps, total);
    let diff = max_diff(&checkpoint_params(&one), &checkpoint_params(&split));
    assert!(
        diff <= 1e-5,
        "resumed run differs from the uninterrupted one by {diff} (accum {accum})"
    );
    let fresh = max_diff(
        &checkpoint_params(&one),
        &params(&model_config(0.0).run_init()),
    );
    assert!(fresh > 1e-3, "training changed nothing");
}

trait InitForTest {
    fn run_init(&self) -> honyaku_lstm::LstmSeq2Seq {
        self.init_on(&Backend::Flex.device().unwrap())
    }
    fn init_on(&self, device: &Device) -> honyaku_lstm::LstmSeq2Seq;
}

impl InitForTest for ModelConfig {
    fn init_on(&self, device: &Device) -> honyaku_lstm::LstmSeq2Seq {
        match self {
            ModelConfig::Lstm(c) => c.init(device),
            _ => unreachable!(),
        }
    }
}

#[test]
fn resumed_training_matches_uninterrupted_training() {
    resume_matches_one_go(1, 0.0);
}

#[test]
fn resumed_training_with_dropout_matches_too() {
    resume_matches_one_go(1, 0.3);
}

#[test]
fn resumed_training_with_gradient_accumulation_matches_too() {
    resume_matches_one_go(2, 0.0);
}

fn tiny_batch() -> HostBatch {
    let corpus = copy_corpus(8);
    HostBatch::from_pairs(&corpus.iter().collect::<Vec<_>>())
}

#[test]
fn a_non_finite_loss_leaves_the_weights_unchanged() {
    let _seeded = seeded();
    let device = Backend::Flex.train_device().unwrap();
    let model = model_config(0.0).init_on(&device);
    let before = params(&model);
    let batch = tiny_batch().to_batch(&device);
    let mut optim = new_optimizer();
    let mut guard = DivergenceGuard::default();
    let loss = sequence_loss(
        model.forward(&batch),
        batch.tgt_out.clone(),
        batch.tgt_pad.clone(),
        0.0,
    )
    .loss
    .mul_scalar(f32::NAN);
    let value = to_host_floats(loss.clone())[0] as f64;
    assert!(value.is_nan());
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let update = guarded_update(model, &mut optim, &mut guard, value, grads, 0.01, Some(1.0));
    assert_eq!(update.decision, GuardDecision::Skip);
    assert_eq!(guard.skipped, 1);
    assert_eq!(max_diff(&before, &params(&update.model)), 0.0);

    // The same step with a finite loss does update.
    let model = update.model;
    let loss = sequence_loss(
        model.forward(&batch),
        batch.tgt_out.clone(),
        batch.tgt_pad.clone(),
        0.0,
    )
    .loss;
    let value = to_host_floats(loss.clone())[0] as f64;
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let update = guarded_update(model, &mut optim, &mut guard, value, grads, 0.01, Some(1.0));
    assert_eq!(update.decision, GuardDecision::Update);
    assert!(update.grad_norm.is_some_and(|n| n > 0.0));
    assert!(max_diff(&before, &params(&update.model)) > 1e-4);
}

/// Registers a gradient of `value` everywhere for every float parameter.
struct ConstGrads<'a> {
    grads: &'a mut GradientsParams,
    value: f32,
    count: usize,
}

impl ModuleVisitor for ConstGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let v = param.val();
        self.count += v.shape().num_elements();
        self.grads
            .register::<D>(param.id, v.ones_like().mul_scalar(self.value));
    }
}

/// Reads every registered gradient back.
struct ReadGrads<'a>(&'a GradientsParams, Vec<f32>);

impl ModuleVisitor for ReadGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.1
            .extend(to_host_floats(self.0.get::<D>(param.id).unwrap()));
    }
}

#[test]
fn adamw_decays_the_weights_where_adam_leaves_them() {
    let _seeded = seeded();
    let model = model_config(0.0).init_on(&Backend::Flex.train_device().unwrap());
    let zero = || {
        let mut grads = GradientsParams::new();
        model.visit(&mut ConstGrads {
            grads: &mut grads,
            value: 0.0,
            count: 0,
        });
        grads
    };
    let (lr, decay) = (0.1, 0.5);
    let adamw = TrainConfig {
        optimizer: OptimizerKind::Adamw,
        weight_decay: decay,
        ..TrainConfig::default()
    };
    let before = params(&model);
    let step = |config: &TrainConfig| {
        let mut optim = optimizer_for(config);
        params(&optim.step(lr, model.clone(), zero()))
    };
    // Zero gradients: Adam's update is 0; AdamW still shrinks every weight by lr × decay.
    assert!(max_diff(&before, &step(&TrainConfig::default())) < 1e-7);
    let decayed = step(&adamw);
    let shrink = (1.0 - lr * decay) as f32;
    let expected: Vec<Vec<f32>> = before
        .iter()
        .map(|p| p.iter().map(|w| w * shrink).collect())
        .collect();
    assert!(max_diff(&expected, &decayed) < 1e-6);
    assert!(max_diff(&before, &decayed) > 1e-4);
}

#[test]
fn clipping_scales_all_gradients_by_the_global_norm() {
    let _seeded = seeded();
    let model = model_config(0.0).run_init();
    let mut grads = GradientsParams::new();
    let mut v = ConstGrads {
        grads: &mut grads,
        value: 3.0,
        count: 0,
    };
    model.visit(&mut v);
    let n = v.count as f32;
    let expected_norm = 3.0 * n.sqrt();

    // Below the limit: only the norm is reported.
    let norm = clip_global_norm(&model, &mut grads, Some(expected_norm * 2.0));
    assert!((norm - expected_norm).abs() / expected_norm < 1e-4);
    let mut r = ReadGrads(&grads, Vec::new());
    model.visit(&mut r);
    assert!(r.1.iter().all(|&g| (g - 3.0).abs() < 1e-6));

    // Above it: every gradient scaled by max_norm / norm, so the global norm becomes max_norm.
    let norm = clip_global_norm(&model, &mut grads, Some(1.0));
    assert!((norm - expected_norm).abs() / expected_norm < 1e-4);
    let mut r = ReadGrads(&grads, Vec::new());
    model.visit(&mut r);
    let want = 3.0 / expected_norm;
    assert!(r.1.iter().all(|&g| (g - want).abs() < 1e-6 * want.max(1.0)));
    let after: f32 = r.1.iter().map(|g| g * g).sum::<f32>().sqrt();
    assert!(
        (after - 1.0).abs() < 1e-3,
        "global norm after clipping {after}"
    );
}

fn honyaku() -> Command {
    Command::new(env!("CARGO_BIN_EXE_honyaku"))
}

#[test]
fn sigint_saves_and_resume_completes() {
    let dir = tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let run = dir.path().join("run");
    synth(&corpus, "copy", "300");
    let child = honyaku()
        .args(["train", "--arch", "lstm", "--preset", "tiny", "--train-src"])
        .arg(corpus.join("train.src"))
        .arg("--train-tgt")
        .arg(corpus.join("train.tgt"))
        .args([
            "--max-steps",
            "1000000",
            "--max-tokens",
            "256",
            "--vocab-size",
            "100",
        ])
        .args(["--quiet", "--out"])
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first metrics line (log_every 50 by default).
    let metrics = run.join("metrics.jsonl");
    let t0 = Instant::now();
    while std::fs::read_to_string(&metrics).map_or(true, |s| s.is_empty()) {
        assert!(t0.elapsed() < Duration::from_secs(120), "no metrics line");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let state = TrainState::load(&RunDir { root: run.clone() }).unwrap();
    assert!(state.step >= 50, "{state:?}");
    assert!(
        stderr.contains(&format!(
            "interrupted at step {}; resume with: honyaku train --resume {}",
            state.step,
            run.display()
        )),
        "{stderr}"
    );
    assert!(!run.join("summary.json").exists());

    let target = (state.step + 7).to_string();
    let out = honyaku()
        .args(["train", "--quiet", "--max-steps", &target, "--resume"])
        .arg(&run)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!(
        "resuming {} at step {}",
        run.display(),
        state.step
    )));
    let resumed = TrainState::load(&RunDir { root: run.clone() }).unwrap();
    assert_eq!(resumed.step, state.step + 7);
    assert!(run.join("summary.json").exists());
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < Duration::from_secs(120), "waited for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigkill_in_the_middle_of_a_checkpoint_write_leaves_the_previous_one_usable() {
    let dir = tempdir().unwrap();
    let (corpus, run) = (dir.path().join("corpus"), dir.path().join("run"));
    synth(&corpus, "copy", "300");
    // Every checkpoint write pauses for 3 s halfway through its temporary file.
    let mut child = honyaku()
        .env("HONYAKU_FAULT_PAUSE_MS", "3000")
        .args(["train", "--arch", "lstm", "--preset", "tiny", "--train-src"])
        .arg(corpus.join("train.src"))
        .arg("--train-tgt")
        .arg(corpus.join("train.tgt"))
        .args(["--max-steps", "1000", "--max-tokens", "256"])
        .args([
            "--vocab-size",
            "100",
            "--save-every",
            "5",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let state_file = run.join("train_state.json");
    let tmp = run.join("checkpoints").join(".last.bpk.tmp");
    // The step-0 save completes (its state file is written last), then the step-5 save starts.
    wait_for("the first complete save", || state_file.exists());
    let first = std::fs::read(run.join("checkpoints").join("last.bpk")).unwrap();
    wait_for("the second checkpoint write", || tmp.exists());
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let torn = std::fs::metadata(&tmp).expect("killed mid-write: the temporary file remains");
    assert!(
        torn.len() < first.len() as u64,
        "the temporary file is half written"
    );
    let state = TrainState::load(&RunDir { root: run.clone() }).unwrap();
    assert_eq!(state.step, 0);
    assert_eq!(
        std::fs::read(run.join("checkpoints").join("last.bpk")).unwrap(),
        first,
        "the previous checkpoint is untouched"
    );

    // It translates, and training resumes from it.
    let out = honyaku()
        .args(["translate", "--run"])
        .arg(&run)
        .args(["--input", corpus.join("test.src").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = honyaku()
        .args(["train", "--quiet", "--max-steps", "3", "--resume"])
        .arg(&run)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("at step 0"), "{stderr}");
    assert_eq!(TrainState::load(&RunDir { root: run }).unwrap().step, 3);
}

/// Seven same-length pairs split 2 + 5, and all seven as one batch: the halves have no more
/// padding than the whole (none), and different sizes, so the token weighting matters.
fn halves_and_whole() -> ([HostBatch; 2], [HostBatch; 1]) {
    let corpus: Vec<EncodedPair> = copy_corpus(200)
        .into_iter()
        .filter(|p| p.src.len() == 5)
        .take(7)
        .collect();
    assert_eq!(corpus.len(), 7);
    let all: Vec<&EncodedPair> = corpus.iter().collect();
    let (a, b) = all.split_at(2);
    (
        [HostBatch::from_pairs(a), HostBatch::from_pairs(b)],
        [HostBatch::from_pairs(&all)],
    )
}

/// Asserts that two (gradients, loss sums) of one update agree, and so do the Adam updates
/// they give.
fn assert_same_update(model: &honyaku_lstm::LstmSeq2Seq, one: Gradients, other: Gradients) {
    let (g1, s1, g2, s2) = (one.grads, one.stats, other.grads, other.stats);
    assert_eq!(s1.tokens, s2.tokens);
    assert!((s1.loss() - s2.loss()).abs() < 1e-5, "{s1:?} vs {s2:?}");
    let mut r2 = ReadGrads(&g2, Vec::new());
    model.visit(&mut r2);
    let mut r1 = ReadGrads(&g1, Vec::new());
    model.visit(&mut r1);
    assert_eq!(r1.1.len(), r2.1.len());
    let diff =
        r1.1.iter()
            .zip(&r2.1)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
    let scale = r1.1.iter().map(|x| x.abs()).fold(0.0, f32::max);
    assert!(scale > 0.0);
    assert!(
        diff <= 1e-5 * scale.max(1.0),
        "max grad difference {diff} (max grad {scale})"
    );
    let mut o1 = new_optimizer();
    let mut o2 = new_optimizer();
    let m1 = guarded_update(
        model.clone(),
        &mut o1,
        &mut DivergenceGuard::default(),
        s1.loss(),
        g1,
        0.01,
        None,
    );
    let m2 = guarded_update(
        model.clone(),
        &mut o2,
        &mut DivergenceGuard::default(),
        s2.loss(),
        g2,
        0.01,
        None,
    );
    let d = max_diff(&params(&m1.model), &params(&m2.model));
    assert!(d <= 1e-5, "weights after one update differ by {d}");
}

#[test]
fn accumulating_two_batches_equals_one_batch_of_both() {
    let _seeded = seeded();
    let device = Backend::Flex.train_device().unwrap();
    let model = model_config(0.0).init_on(&device);
    let (halves, whole) = halves_and_whole();
    let accumulated = accumulated_grads(&model, &halves, &device, 0.1);
    let one = accumulated_grads(&model, &whole, &device, 0.1);
    assert_same_update(&model, one, accumulated);
}

#[test]
fn one_step_on_two_cpu_devices_equals_one_step_on_the_concatenated_batch() {
    let _seeded = seeded();
    let devices = Backend::Flex.train_devices(2).unwrap();
    assert_eq!(devices.len(), 2);
    let model = model_config(0.0).init_on(&devices[0]);
    let (halves, whole) = halves_and_whole();
    let parallel = DataParallel::new(devices.clone());
    let two = parallel.grads(&model, &halves, 0.1, 7).unwrap();
    let one = accumulated_grads(&model, &whole, &devices[0], 0.1);
    assert_same_update(&model, one, two);
}

#[test]
fn one_step_in_cpu_row_shards_equals_one_step_on_the_whole_batch() {
    let _seeded = seeded();
    let device = Backend::Flex.train_device().unwrap();
    let model = model_config(0.0).init_on(&device);
    // Seven pairs of lengths 3 to 8: the shards are cut to their own longest rows.
    let corpus = copy_corpus(7);
    let all: Vec<&EncodedPair> = corpus.iter().collect();
    let whole = [HostBatch::from_pairs(&all)];
    for shards in [2, 3, 7] {
        let workers = DataParallel::sharded(vec![device.clone()], shards);
        let sharded = workers.grads(&model, &whole, 0.1, 7).unwrap();
        let one = accumulated_grads(&model, &whole, &device, 0.1);
        assert_same_update(&model, one, sharded);
    }
}

#[test]
fn training_in_cpu_row_shards_matches_one_thread_and_reproduces_its_dropout() {
    let _seeded = seeded();
    let dir = tempdir().unwrap();
    let sharded = Workers {
        devices: 1,
        cpu_shards: 2,
    };
    let runs = ["one", "sharded", "dropout-a", "dropout-b"].map(|n| dir.path().join(n));
    train_on(&runs[0], 6, false, 1, 0.0, Workers::ONE);
    train_on(&runs[1], 6, false, 1, 0.0, sharded);
    let diff = max_diff(&checkpoint_params(&runs[0]), &checkpoint_params(&runs[1]));
    assert!(diff <= 1e-5, "weights differ by {diff}");
    // With dropout, each shard's masks come from its own seed, not from whichever thread
    // reaches the shared device generator first: two runs give the same weights.
    train_on(&runs[2], 6, false, 1, 0.3, sharded);
    train_on(&runs[3], 6, false, 1, 0.3, sharded);
    let (a, b) = (checkpoint_params(&runs[2]), checkpoint_params(&runs[3]));
    assert_eq!(a, b, "dropout runs in shards differ");
    assert!(max_diff(&a, &checkpoint_params(&runs[1])) > 1e-4);
}

#[test]
fn training_on_two_devices_matches_accumulating_two_batches_on_one() {
    let _seeded = seeded();
    let dir = tempdir().unwrap();
    let (parallel, accumulated) = (dir.path().join("par"), dir.path().join("acc"));
    let two = Workers {
        devices: 2,
        cpu_shards: 1,
    };
    let a = train_on(&parallel, 6, false, 1, 0.0, two);
    let b = train_on(&accumulated, 6, false, 2, 0.0, Workers::ONE);
    assert_eq!((a.steps, a.epochs), (b.steps, b.epochs));
    let diff = max_diff(
        &checkpoint_params(&parallel),
        &checkpoint_params(&accumulated),
    );
    assert!(diff <= 1e-5, "weights differ by {diff}");
}

#[test]
fn averaging_two_checkpoints_gives_the_elementwise_mean() {
    let _seeded = seeded();
    let dir = tempdir().unwrap();
    let device = Backend::Flex.device().unwrap();
    device.seed(1);
    let a = model_config(0.0).init_on(&device);
    device.seed(2);
    let b = model_config(0.0).init_on(&device);
    let (pa, pb) = (dir.path().join("step-1.bpk"), dir.path().join("step-2.bpk"));
    honyaku::run::checkpoint::save_module(&a, &pa).unwrap();
    honyaku::run::checkpoint::save_module(&b, &pb).unwrap();
    let avg = honyaku::training::average::average_checkpoints(
        model_config(0.0).init_on(&device),
        &[pa, pb],
    )
    .unwrap();
    let (va, vb, vm) = (params(&a), params(&b), params(&avg));
    assert!(max_diff(&va, &vb) > 1e-3, "the two models should differ");
    let mean: Vec<Vec<f32>> = va
        .iter()
        .zip(&vb)
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p + q) / 2.0).collect())
        .collect();
    assert!(max_diff(&mean, &vm) <= 1e-6);
}

#[test]
fn training_keeps_the_newest_step_checkpoints_and_average_uses_them() {
    let _seeded = seeded();
    let dir = tempdir().unwrap();
    let run_root = dir.path().join("run");
    let run = RunDir::create(&run_root, true).unwrap();
    let config = TrainConfig {
        save_every: Some(2),
        keep_checkpoints: 3,
        ..train_config(9, 1)
    };
    let batcher = Batcher::new(
        copy_corpus(64),
        BatcherConfig {
            max_tokens: config.max_tokens,
            shuffle: true,
            seed: config.seed,
        },
    )
    .unwrap();
    let device = Backend::Flex.train_device().unwrap();
    model_config(0.0)
        .run(
            &device,
            TrainJob {
                config: &config,
                run: &run,
                batcher: &batcher,
                valid: None,
                devices: vec![device.clone()],
                quiet: true,
                state: TrainState {
                    lr_scale: 1.0,
                    ..TrainState::default()
                },
                resume: false,
            },
        )
        .unwrap();
    let steps: Vec<usize> = honyaku::run::steps::step_checkpoints(&run)
        .unwrap()
        .into_iter()
        .map(|c| c.step)
        .collect();
    // Saves at steps 2, 4, 6, 8 (save_every), at epoch ends, and at the end (9).
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(*steps.last().unwrap(), 9, "{steps:?}");
    assert!(steps.windows(2).all(|w| w[0] < w[1]));
    // Saving the config lets the command build the model.
    run.save_config(&honyaku::run::RunConfig {
        model: model_config(0.0),
        train: config.clone(),
        data: Default::default(),
        backend: Backend::Flex,
        honyaku_version: "test".into(),
    })
    .unwrap();
    let out = honyaku()
        .args(["average", "--last", "2", "--run"])
        .arg(&run_root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(run.averaged_checkpoint().is_file());
}

#[test]
fn a_diverging_run_reloads_three_times_then_stops_with_a_clear_error() {
    let _seeded = seeded();
    let dir = tempdir().unwrap();
    let run = RunDir::create(&dir.path().join("run"), true).unwrap();
    // A learning rate this large sends the weights to infinity on the first update, so every
    // later loss is non-finite: skip, skip, reload (x3), then give up.
    let config = TrainConfig {
        lr: 3e38,
        ..train_config(200, 1)
    };
    let batcher = Batcher::new(
        copy_corpus(64),
        BatcherConfig {
            max_tokens: config.max_tokens,
            shuffle: true,
            seed: config.seed,
        },
    )
    .unwrap();
    let device = Backend::Flex.train_device().unwrap();
    let err = model_config(0.0)
        .run(
            &device,
            TrainJob {
                config: &config,
                run: &run,
                batcher: &batcher,
                valid: None,
                devices: vec![device.clone()],
                quiet: true,
                state: TrainState {
                    lr_scale: 1.0,
                    ..TrainState::default()
                },
                resume: false,
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("training diverged"), "{err}");
    assert!(err.contains("3 reloads"), "{err}");
    // The checkpoint the reloads used is the one saved before training: still finite.
    let saved = checkpoint_params(run.root.as_path());
    assert!(saved.iter().flatten().all(|x| x.is_finite()));
}
