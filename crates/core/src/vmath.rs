//! Vectorised `exp`, `σ` and `tanh` over `f32` slices, and the row reductions (maximum, sum,
//! `log Σ e^z`), for the host kernels ([`crate::fused_lstm`], [`crate::additive_score`],
//! [`crate::token_loss`], [`crate::log_probs`]).
//!
//! libm's `expf` is scalar: in the fused LSTM cell, five of them per hidden unit took as long
//! as the step's gemm (docs/BENCHMARKS.md, change 11). Here `exp` is a branch-free range
//! reduction (`x = n ln 2 + r`, `|r| ≤ ln 2 / 2`) and a degree-6 polynomial for `e^r`
//! (Cephes' `expf` coefficients), with `2^n` built from the exponent bits, so the compiler
//! vectorises the loops. They are compiled three times (AVX-512, AVX2 with FMA, and the
//! baseline) and the widest the CPU has is picked at run time.
//!
//! Accuracy: a relative error of a few `f32` ulps over the clamped range `[-87.3, 88.3]`;
//! inputs beyond it give `e^±clamp` (so `σ` and `tanh` saturate: `σ(−∞)` is about `5e-39`,
//! `tanh(±∞) = ±1`). NaN propagates.

/// Below this `exp` returns `e^-87.3` (the smallest normal `f32` is about `e^-87.34`).
const EXP_LO: f32 = -87.3;
/// Above this `exp` returns `e^88.3` (the largest `f32` is about `e^88.72`).
const EXP_HI: f32 = 88.3;
/// `1.5 · 2^23`: adding and subtracting it rounds an `f32` of magnitude below `2^22` to the
/// nearest integer.
const ROUND: f32 = 12_582_912.0;

/// `e^x` for one value, the body the slice loops inline.
#[inline(always)]
fn exp_one(x: f32) -> f32 {
    // NaN passes `clamp` and the polynomial, so the result is NaN.
    let x = x.clamp(EXP_LO, EXP_HI);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // ln 2 in two parts, so `n · LN2_HI` is exact.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * (r * r) + r + 1.0;
    // `n` as an integer is the low mantissa bits of `shifted` (|n| ≤ 127 here); `2^n` is that
    // plus the exponent bias, shifted into the exponent field.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let two_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    e_r * two_n
}

/// `1 / (1 + e^-x)` for one value.
#[inline(always)]
fn sigmoid_one(x: f32) -> f32 {
    1.0 / (1.0 + exp_one(-x))
}

/// `2 σ(2x) − 1` for one value.
#[inline(always)]
fn tanh_one(x: f32) -> f32 {
    2.0 / (1.0 + exp_one(-2.0 * x)) - 1.0
}

/// Defines `pub fn $name(values: &mut [f32])` applying `$one` to every value, compiled for
/// AVX-512, AVX2 + FMA and the baseline, dispatched on the CPU's features.
macro_rules! in_place {
    ($(#[$doc:meta])* $name:ident, $one:ident) => {
        $(#[$doc])*
        pub fn $name(values: &mut [f32]) {
            #[inline(always)]
            fn body(values: &mut [f32]) {
                for v in values.iter_mut() {
                    *v = $one(*v);
                }
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512(values: &mut [f32]) {
                    body(values)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2(values: &mut [f32]) {
                    body(values)
                }
                match level() {
                    // SAFETY: `level` reported the features these functions are compiled for.
                    Level::Avx512 => return unsafe { avx512(values) },
                    // SAFETY: as above.
                    Level::Avx2 => return unsafe { avx2(values) },
                    Level::Baseline => {}
                }
            }
            body(values)
        }
    };
}

in_place!(
    /// `e^x` of every value, in place.
    exp_in_place,
    exp_one
);
in_place!(
    /// `σ(x) = 1 / (1 + e^-x)` of every value, in place.
    sigmoid_in_place,
    sigmoid_one
);
in_place!(
    /// `tanh(x)` of every value, in place (as `2σ(2x) − 1`, like [`crate::activation::tanh`]).
    tanh_in_place,
    tanh_one
);

/// Rows are handed to the thread pool in chunks of at least this many values.
const PARALLEL_VALUES: usize = 16 * 1024;
/// Lanes of the vectorised reductions.
const LANES: usize = 16;

/// Rows per parallel task for the row kernels over rows of `row_len` values
/// ([`crate::token_loss`], [`crate::log_probs`]).
pub fn rows_per_task(row_len: usize) -> usize {
    PARALLEL_VALUES.div_ceil(row_len.max(1)).max(1)
}

/// `log Σ e^{z}` with the maximum subtracted first; `scratch` is reused between rows.
pub fn log_sum_exp(z: &[f32], scratch: &mut Vec<f32>) -> f32 {
    let m = max(z);
    m + sum_exp_below(z, m, scratch).ln()
}

/// `Σ e^{z − m}` (`m` the maximum of `z`, so no term overflows); `scratch` is reused between
/// rows.
pub fn sum_exp_below(z: &[f32], m: f32, scratch: &mut Vec<f32>) -> f32 {
    scratch.clear();
    scratch.extend(z.iter().map(|z| z - m));
    exp_in_place(scratch);
    sum(scratch)
}

/// The largest value (NaNs are skipped; `-∞` for none).
pub fn max(values: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, x| m.max(*x));
    for chunk in chunks {
        for (m, x) in lanes.iter_mut().zip(chunk) {
            *m = if *x > *m { *x } else { *m };
        }
    }
    lanes.iter().fold(tail, |m, x| m.max(*x))
}

/// The sum, in [`LANES`] partial sums (so that it vectorises).
pub fn sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (s, x) in lanes.iter_mut().zip(chunk) {
            *s += x;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The widest vector instructions of this CPU that the slice functions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Avx512,
    Avx2,
    Baseline,
}

/// The CPU's [`Level`], detected once.
#[cfg(target_arch = "x86_64")]
fn level() -> Level {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        if std::arch::is_x86_feature_detected!("avx512f") {
            Level::Avx512
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            Level::Avx2
        } else {
            Level::Baseline
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid over `[lo, hi]` plus the edges and specials.
    fn grid(lo: f32, hi: f32, n: usize) -> Vec<f32> {
        let mut xs: Vec<f32> = (0..=n)
            .map(|i| lo + (hi - lo) * i as f32 / n as f32)
            .collect();
        xs.extend([0.0, -0.0, 1e-8, -1e-8, lo, hi]);
        xs
    }

    #[test]
    fn exp_is_within_a_few_ulps_of_libm() {
        let xs = grid(-87.0, 88.0, 100_003);
        let mut ours = xs.clone();
        exp_in_place(&mut ours);
        for (x, e) in xs.iter().zip(&ours) {
            let reference = (*x as f64).exp();
            let rel = ((*e as f64 - reference) / reference).abs();
            assert!(
                rel < 4.0 * f32::EPSILON as f64,
                "exp({x}) = {e}, libm {reference}"
            );
        }
    }

    #[test]
    fn sigmoid_and_tanh_match_libm() {
        let xs = grid(-30.0, 30.0, 60_001);
        let (mut s, mut t) = (xs.clone(), xs.clone());
        sigmoid_in_place(&mut s);
        tanh_in_place(&mut t);
        for ((x, s), t) in xs.iter().zip(&s).zip(&t) {
            let x64 = *x as f64;
            let sig = 1.0 / (1.0 + (-x64).exp());
            assert!((*s as f64 - sig).abs() < 2e-7, "σ({x}) = {s}, {sig}");
            assert!((*t as f64 - x64.tanh()).abs() < 3e-7, "tanh({x}) = {t}");
        }
    }

    #[test]
    fn the_ends_saturate_and_nan_propagates() {
        let mut v = [
            f32::NEG_INFINITY,
            -1e30,
            -200.0,
            200.0,
            1e30,
            f32::INFINITY,
            f32::NAN,
        ];
        let mut e = v;
        exp_in_place(&mut e);
        assert!(e[..3].iter().all(|e| *e >= 0.0 && *e < 1e-37), "{e:?}");
        assert!(e[3..6].iter().all(|e| e.is_finite() && *e > 1e38), "{e:?}");
        assert!(e[6].is_nan());
        let mut s = v;
        sigmoid_in_place(&mut s);
        assert!(s[..3].iter().all(|s| *s >= 0.0 && *s < 1e-38), "{s:?}");
        assert_eq!(&s[3..6], &[1.0, 1.0, 1.0][..], "{s:?}");
        assert!(s[6].is_nan());
        tanh_in_place(&mut v);
        assert_eq!(&v[..6], &[-1.0, -1.0, -1.0, 1.0, 1.0, 1.0][..], "{v:?}");
        assert!(v[6].is_nan());
    }

    #[test]
    fn every_level_gives_the_same_values() {
        // The dispatched function against the baseline body on lengths that leave remainders.
        for len in [0, 1, 7, 15, 16, 17, 63, 100] {
            let xs: Vec<f32> = (0..len).map(|i| (i as f32 - 50.0) * 0.37).collect();
            let mut dispatched = xs.clone();
            sigmoid_in_place(&mut dispatched);
            let baseline: Vec<f32> = xs.iter().map(|x| sigmoid_one(*x)).collect();
            for (a, b) in dispatched.iter().zip(&baseline) {
                assert!((a - b).abs() <= f32::EPSILON, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn max_and_sum_cover_every_lane_and_the_tail() {
        for n in [1, 15, 16, 17, 40] {
            let v: Vec<f32> = (0..n).map(|i| i as f32).collect();
            assert_eq!(max(&v), (n - 1) as f32);
            assert_eq!(sum(&v), (n * (n - 1) / 2) as f32);
        }
        assert_eq!(max(&[f32::NAN, -2.0]), -2.0);
    }
}
