//! The host kernels of the per-token losses: for each row of logits `z` (`[vocab]`) and its
//! target `t`, with `lse = log Σ_v e^{z_v}`, the negative log-likelihood `lse − z_t` and the
//! smoothing term `lse − mean_v z_v` (= `−mean_v log p_v`); and their backward pass,
//! `dz_v = (g_nll + g_smooth) · p_v − g_smooth / vocab − g_nll · [v = t]`.
//!
//! Layouts (row-major): logits and their gradient `[rows, vocab]`, targets `[rows]` (ids as
//! `f32`), losses and their gradient `[rows, 2]` (nll, smoothing term). The backward pass
//! recomputes `p` from the logits and each row's `lse`, which the forward pass returns.

use rayon::prelude::*;

use crate::vmath::{self, log_sum_exp, rows_per_task, sum};

/// The target of a row as an index into its logits.
///
/// # Panics
///
/// If it is not a whole number below `vocab` (the caller's ids come from the vocabulary).
fn target_index(target: f32, vocab: usize) -> usize {
    let index = target as usize;
    assert!(
        target >= 0.0 && index as f32 == target && index < vocab,
        "target id {target} outside the vocabulary of {vocab}"
    );
    index
}

/// What [`forward`] returns.
#[derive(Debug, Clone)]
pub struct Losses {
    /// `[rows, 2]`: each row's negative log-likelihood and smoothing term.
    pub losses: Vec<f32>,
    /// `[rows]`: each row's `log Σ e^z`, for [`backward`].
    pub lse: Vec<f32>,
}

/// The losses of every row of `logits` (`[rows, vocab]`) against `targets` (`[rows]`).
pub fn forward(vocab: usize, logits: &[f32], targets: &[f32]) -> Losses {
    let rows = targets.len();
    assert_eq!(logits.len(), rows * vocab);
    let mut losses = vec![0.0f32; rows * 2];
    let mut lse = vec![0.0f32; rows];
    if rows * vocab > 0 {
        (
            losses.par_chunks_mut(2),
            lse.par_chunks_mut(1),
            logits.par_chunks(vocab),
            targets.par_iter(),
        )
            .into_par_iter()
            .with_min_len(rows_per_task(vocab))
            .for_each_init(Vec::new, |scratch, (loss, lse, z, t)| {
                let row_lse = log_sum_exp(z, scratch);
                loss[0] = row_lse - z[target_index(*t, vocab)];
                loss[1] = row_lse - sum(z) / vocab as f32;
                lse[0] = row_lse;
            });
    }
    Losses { losses, lse }
}

/// The gradient of the logits from the losses' gradient `dlosses` (`[rows, 2]`), the forward
/// pass's `lse`, the logits and the targets.
pub fn backward(
    vocab: usize,
    logits: &[f32],
    targets: &[f32],
    lse: &[f32],
    dlosses: &[f32],
) -> Vec<f32> {
    let rows = targets.len();
    assert_eq!(logits.len(), rows * vocab);
    assert_eq!((lse.len(), dlosses.len()), (rows, 2 * rows));
    let mut dz = vec![0.0f32; rows * vocab];
    if rows * vocab > 0 {
        (
            dz.par_chunks_mut(vocab),
            logits.par_chunks(vocab),
            targets.par_iter(),
            lse.par_iter(),
            dlosses.par_chunks(2),
        )
            .into_par_iter()
            .with_min_len(rows_per_task(vocab))
            .for_each(|(dz, z, t, lse, g)| {
                let (g_nll, g_smooth) = (g[0], g[1]);
                for (d, z) in dz.iter_mut().zip(z) {
                    *d = z - lse;
                }
                vmath::exp_in_place(dz);
                let (a, c) = (g_nll + g_smooth, g_smooth / vocab as f32);
                for d in dz.iter_mut() {
                    *d = a * *d - c;
                }
                dz[target_index(*t, vocab)] -= g_nll;
            });
    }
    dz
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits in `[-4, 4)` from a fixed sequence.
    fn logits(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919) % 800) as f32 / 100.0 - 4.0)
            .collect()
    }

    /// The two losses of one row in f64.
    fn reference(z: &[f32], t: usize) -> [f64; 2] {
        let lse = z.iter().map(|z| (*z as f64).exp()).sum::<f64>().ln();
        let mean = z.iter().map(|z| *z as f64).sum::<f64>() / z.len() as f64;
        [lse - z[t] as f64, lse - mean]
    }

    #[test]
    fn losses_match_the_definition() {
        // 3 rows of 5 (one task) and 40 rows of 1000 (threaded).
        for (rows, vocab) in [(3, 5), (40, 1000), (1, 1)] {
            let z = logits(rows * vocab);
            let targets: Vec<f32> = (0..rows).map(|r| ((r * 31) % vocab) as f32).collect();
            let out = forward(vocab, &z, &targets);
            for r in 0..rows {
                let want = reference(&z[r * vocab..][..vocab], targets[r] as usize);
                for k in 0..2 {
                    let got = out.losses[2 * r + k] as f64;
                    assert!(
                        (got - want[k]).abs() < 1e-5 * (1.0 + want[k].abs()),
                        "{got} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn large_logits_do_not_overflow() {
        let z = [1000.0, 0.0, -1000.0];
        let out = forward(3, &z, &[0.0]);
        assert!(out.losses[0].abs() < 1e-6, "{:?}", out.losses);
        assert!((out.losses[1] - 1000.0).abs() < 1e-3, "{:?}", out.losses);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let (rows, vocab) = (2, 6);
        let z = logits(rows * vocab);
        let targets = [4.0, 1.0];
        let g = [0.7, -0.3, 0.2, 1.1];
        let loss = |z: &[f32]| -> f64 {
            (0..rows)
                .map(|r| {
                    let l = reference(&z[r * vocab..][..vocab], targets[r] as usize);
                    l[0] * g[2 * r] as f64 + l[1] * g[2 * r + 1] as f64
                })
                .sum()
        };
        let out = forward(vocab, &z, &targets);
        let dz = backward(vocab, &z, &targets, &out.lse, &g);
        let h = 1e-2f32;
        for i in 0..z.len() {
            let (mut up, mut down) = (z.clone(), z.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (loss(&up) - loss(&down)) / (2.0 * h as f64);
            assert!(
                (dz[i] as f64 - numeric).abs() < 1e-3,
                "dz[{i}] {} vs {numeric}",
                dz[i]
            );
        }
    }
}
