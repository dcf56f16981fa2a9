//! The host kernels of the searches' log-probabilities, over logits `[rows, vocab]`
//! (row-major): each row's `log_softmax` in place, and each row's best token with its
//! log-probability, `z_best − log Σ_v e^{z_v} = −log Σ_v e^{z_v − z_best}`.

use rayon::prelude::*;

use crate::vmath::{self, log_sum_exp, rows_per_task};

/// `log_softmax` of every row of `logits`, in place.
pub fn log_probs_in_place(vocab: usize, logits: &mut [f32]) {
    if vocab == 0 {
        return;
    }
    logits
        .par_chunks_mut(vocab)
        .with_min_len(rows_per_task(vocab))
        .for_each_init(Vec::new, |scratch, z| {
            let lse = log_sum_exp(z, scratch);
            for z in z.iter_mut() {
                *z -= lse;
            }
        });
}

/// `[rows, 2]`: every row's most probable token (the lowest id among equals, as `f32`) and its
/// log-probability. A row of NaNs picks id 0.
pub fn best_tokens(vocab: usize, logits: &[f32]) -> Vec<f32> {
    let rows = logits.len().checked_div(vocab).unwrap_or(0);
    let mut out = vec![0.0f32; rows * 2];
    if rows > 0 {
        out.par_chunks_mut(2)
            .zip(logits.par_chunks(vocab))
            .with_min_len(rows_per_task(vocab))
            .for_each_init(Vec::new, |scratch: &mut Vec<f32>, (out, z)| {
                let best = vmath::max(z);
                let id = z.iter().position(|z| *z == best).unwrap_or(0);
                out[0] = id as f32;
                out[1] = -vmath::sum_exp_below(z, best, scratch).ln();
            });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log-probabilities of one row in f64.
    fn reference(z: &[f32]) -> Vec<f64> {
        let lse = z.iter().map(|z| (*z as f64).exp()).sum::<f64>().ln();
        z.iter().map(|z| *z as f64 - lse).collect()
    }

    /// Logits in `[-8, 8)` from a fixed sequence.
    fn logits(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919) % 1600) as f32 / 100.0 - 8.0)
            .collect()
    }

    #[test]
    fn log_probs_match_the_definition() {
        // 3 rows of 5 (one task), 40 rows of 1000 (threaded), one row of one.
        for (rows, vocab) in [(3, 5), (40, 1000), (1, 1)] {
            let z = logits(rows * vocab);
            let mut ours = z.clone();
            log_probs_in_place(vocab, &mut ours);
            for (row, ours) in z.chunks(vocab).zip(ours.chunks(vocab)) {
                for (got, want) in ours.iter().zip(reference(row)) {
                    assert!((*got as f64 - want).abs() < 1e-5, "{got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn the_best_token_is_the_argmax_with_its_log_probability() {
        for (rows, vocab) in [(3, 5), (40, 1000), (1, 1)] {
            let z = logits(rows * vocab);
            let out = best_tokens(vocab, &z);
            assert_eq!(out.len(), 2 * rows);
            for (row, pick) in z.chunks(vocab).zip(out.chunks(2)) {
                let want = row
                    .iter()
                    .enumerate()
                    .fold(0, |best, (i, z)| if *z > row[best] { i } else { best });
                assert_eq!(pick[0], want as f32);
                let lp = reference(row)[want];
                assert!((pick[1] as f64 - lp).abs() < 1e-5, "{} vs {lp}", pick[1]);
            }
        }
    }

    #[test]
    fn large_logits_and_ties() {
        let mut z = [1000.0, -1000.0, 1000.0, 0.0];
        let out = best_tokens(4, &z);
        assert_eq!(out[0], 0.0);
        assert!((out[1] + std::f32::consts::LN_2).abs() < 1e-6, "{out:?}");
        log_probs_in_place(4, &mut z);
        // `z − lse` near 1000 keeps the f32 spacing there (6e-5).
        assert!((z[0] + std::f32::consts::LN_2).abs() < 2e-4, "{z:?}");
        assert!(z[1] < -1999.0 && z[3] < -999.0, "{z:?}");
        assert!(z.iter().all(|z| !z.is_nan()), "{z:?}");
        let nan = best_tokens(2, &[f32::NAN, f32::NAN]);
        assert_eq!(nan[0], 0.0);
    }
}
