//! The host kernels of [`super::FusedAdam`]: Adam's two moment updates and the parameter
//! update, each one pass over the values, in place, threaded over chunks. The arithmetic is
//! burn's `Adam` operation for operation (`m·β + g·(1−β)`, then `p − (m·c / (√v + ε'))·lr`),
//! so the results are the same floats.

use rayon::prelude::*;

/// Values per parallel task.
const CHUNK: usize = 64 * 1024;

/// `x ← x·β + g·(1−β)` (`g²` in place of `g` when `square`): an exponential moving average.
pub fn ema(x: &mut [f32], g: &[f32], beta: f32, square: bool) {
    assert_eq!(x.len(), g.len());
    let keep = 1.0 - beta;
    x.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .for_each(|(x, g)| {
            if square {
                for (x, g) in x.iter_mut().zip(g) {
                    *x = *x * beta + (g * g) * keep;
                }
            } else {
                for (x, g) in x.iter_mut().zip(g) {
                    *x = *x * beta + g * keep;
                }
            }
        });
}

/// The scalars of one parameter update.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// The learning rate.
    pub lr: f32,
    /// `√(1 − β₂ᵗ) / (1 − β₁ᵗ)`: both bias corrections.
    pub combined: f32,
    /// `ε · √(1 − β₂ᵗ)`.
    pub epsilon: f32,
}

/// `p ← p − (m·combined / (√v + ε))·lr`.
pub fn apply(p: &mut [f32], m: &[f32], v: &[f32], step: Step) {
    assert_eq!((p.len(), p.len()), (m.len(), v.len()));
    let Step {
        lr,
        combined,
        epsilon,
    } = step;
    p.par_chunks_mut(CHUNK)
        .zip(m.par_chunks(CHUNK).zip(v.par_chunks(CHUNK)))
        .for_each(|(p, (m, v))| {
            for ((p, m), v) in p.iter_mut().zip(m).zip(v) {
                *p -= (m * combined / (v.sqrt() + epsilon)) * lr;
            }
        });
}
