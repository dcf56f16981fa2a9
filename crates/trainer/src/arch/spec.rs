//! What the trainer needs of an architecture, and the two kinds of generic work on one: on its
//! configuration ([`ConfigVisitor`]) and on its built model ([`ModelTask`]).

use burn::prelude::*;
use honyaku_core::recipe::Recipe;
use honyaku_core::{Preset, Seq2Seq};

/// An architecture's configuration as the trainer uses it. Implemented once per architecture
/// (see `impls.rs`), listed once in the registry.
pub trait ArchConfig: Clone {
    /// The model it builds.
    type Model: Seq2Seq;

    /// The configuration at `preset` for the given vocabularies.
    fn preset(preset: Preset, src_vocab: usize, tgt_vocab: usize) -> Self;
    /// The recommended training settings at `preset` (the architecture crate's recipe).
    fn recipe(preset: Preset) -> Recipe;
    /// The same configuration for other vocabulary sizes.
    fn with_vocab(self, src_vocab: usize, tgt_vocab: usize) -> Self;
    /// The target vocabulary size.
    fn tgt_vocab(&self) -> usize;
    /// The longest sequence (tokens, BOS or EOS included) the model can read or write, when it
    /// has such a limit (a position table).
    fn max_positions(&self) -> Option<usize> {
        None
    }
    /// Checks the dimensions, with a message a user can act on.
    fn validate(&self) -> Result<(), String>;
    /// Matmul FLOPs of one teacher-forced forward pass over one sentence pair.
    fn forward_flops(&self, src_len: usize, tgt_len: usize) -> f64;
    /// Builds the model on `device`.
    fn init(&self, device: &Device) -> Self::Model;
}

/// Work on a configuration whose architecture is only known at run time; handed the typed
/// configuration by [`ModelConfig::visit`](super::ModelConfig::visit).
pub trait ConfigVisitor {
    /// What the work returns.
    type Output;
    /// Does the work on `config`.
    fn visit<C: ArchConfig>(self, config: &C) -> Self::Output;
}

/// Work to do with a model whose architecture is only known at run time. Implemented by
/// training, translation and benchmarks; [`ModelConfig::run`](super::ModelConfig::run)
/// picks the type.
pub trait ModelTask {
    /// What the task returns.
    type Output;
    /// Runs the task on a freshly initialised model.
    fn run<M: Seq2Seq>(self, model: M) -> Self::Output;
}
