//! Conformance checks every architecture's tests run: the invariants of the [`Seq2Seq`]
//! contract, written once. Small and slow-free: meant for tiny models in unit tests.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;

use crate::batch::{SourceBatch, TranslationBatch};
use crate::loss::sequence_loss;
use crate::model::Seq2Seq;
use crate::search::{SearchConfig, greedy_search, to_host_floats};

/// Runs `decode_step` over the teacher-forced inputs and returns the stacked logits
/// `[batch, tgt_len, vocab]`, to compare with [`Seq2Seq::forward`].
pub fn stepwise_logits<M: Seq2Seq>(model: &M, batch: &TranslationBatch) -> Tensor<3> {
    let [_, tgt_len] = batch.tgt_in.dims();
    let memory = model.encode(&batch.source);
    let mut state = model.init_state(&memory);
    let mut logits = Vec::with_capacity(tgt_len);
    for t in 0..tgt_len {
        let prev = batch.tgt_in.clone().slice(s![.., t]).squeeze_dim::<1>(1);
        let step = model.decode_step(&memory, state, prev);
        state = step.state;
        logits.push(step.logits);
    }
    Tensor::stack(logits, 1)
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

/// Trains `model` with Adam on `batches` (cycled) for `steps` updates; returns the trained
/// model and the loss of each step. `batches` must live on the autodiff device of `model`.
pub fn fit<M: Seq2Seq>(
    model: M,
    batches: &[TranslationBatch],
    steps: usize,
    lr: f64,
) -> (M, Vec<f32>) {
    let mut optim = AdamConfig::new().init();
    let mut model = model;
    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        let batch = &batches[step % batches.len()];
        let out = sequence_loss(
            model.forward(batch),
            batch.tgt_out.clone(),
            batch.tgt_pad.clone(),
            0.0,
        );
        losses.push(to_host_floats(out.loss.clone())[0]);
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    (model, losses)
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

/// A temporary directory removed on drop, for tests. (The `tempfile` crate would pull in
/// `rustix` features that change the feature set of Burn's GPU stack between test and binary
/// builds, forcing a second multi-minute build of it.)
#[derive(Debug)]
pub struct TempDir {
    path: std::path::PathBuf,
}

impl TempDir {
    /// A new, empty directory under the system's temporary directory.
    pub fn new() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!(
            "honyaku-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A new [`TempDir`].
pub fn tempdir() -> std::io::Result<TempDir> {
    TempDir::new()
}
