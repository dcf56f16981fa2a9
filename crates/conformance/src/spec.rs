//! What an architecture tells the conformance suite about itself.

use burn::prelude::*;

use crate::training::Learning;

/// An architecture under test: a tiny model and the recipes for the two learning checks.
#[derive(Debug, Clone)]
pub struct Spec<M> {
    /// Builds the tiny model every structural check runs on (the suite seeds the device
    /// first). Source and target vocabularies are both [`Spec::vocab`].
    pub build: fn(&Device) -> M,
    /// Source and target vocabulary size: the four special ids and `vocab - 4` symbols (at
    /// least 16 in all: the checks use ids up to 13).
    pub vocab: usize,
    /// Whether `decode_step` returns attention weights over the source.
    pub attention: bool,
    /// Overfitting one small batch.
    pub overfit: Overfit,
    /// Learning a synthetic task.
    pub learning: Learning<M>,
}

/// Overfitting one batch of eight sentence pairs with Adam at a constant rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overfit {
    /// Updates.
    pub steps: usize,
    /// Learning rate.
    pub lr: f64,
    /// The largest mean loss per token allowed after training.
    pub max_loss: f32,
}
