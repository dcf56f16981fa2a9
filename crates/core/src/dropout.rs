//! Dropout with the masks drawn on the host on CPU backends.
//!
//! burn's [`Dropout::forward`] draws its mask with `Tensor::random_like(Bernoulli)`, which on
//! burn's CPU backends builds a new sampler for every element: at the benchmark shapes that
//! took 16% of a Transformer training step (docs/BENCHMARKS.md). [`DropoutExt::apply`] draws
//! the same distribution (keep with probability `1 − p`, kept values scaled by `1 / (1 − p)`)
//! with one seed from the device's generator and a host generator, and multiplies once by the
//! scaled mask. The masks still follow `Device::seed`, so a run reproduces its dropout; they
//! differ from burn's own draws. On other devices (GPUs) it is burn's dropout unchanged: a
//! host mask would need a read-back and an upload per call.
//!
//! The module stays burn's [`Dropout`] (same record, same `valid()` behaviour); only the call
//! changes.
//!
//! The device's generator is one per process, shared by every thread. Threads that train at
//! once on the same CPU device (the row shards of `honyaku train`) would take their masks' seeds
//! from it in whatever order they reach it, so [`with_thread_seed`] gives a thread its own
//! generator for the masks drawn inside a closure: each shard then draws the same masks
//! whatever the other threads do.

use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::Distribution;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cell::RefCell;

use crate::search::to_host_floats;
// Masks are drawn on the host on burn's CPU backends, where the device is the host.
use crate::shards::is_cpu;

/// Dropout through host-drawn masks on CPU devices; see the module documentation.
pub trait DropoutExt {
    /// Applies dropout to `input` when training (an autodiff device, the layer's training flag
    /// on, `p > 0`); returns it unchanged otherwise, as [`Dropout::forward`] does.
    fn apply<const D: usize>(&self, input: Tensor<D>) -> Tensor<D>;

    /// For a kernel that draws its own masks on the host (the fused attention): the keep
    /// probability and a fresh seed when [`DropoutExt::apply`] would draw a host mask on
    /// `device` (training, an autodiff CPU device, `p > 0`); `None` otherwise.
    fn host_seed(&self, device: &Device) -> Option<(f64, u64)>;
}

impl DropoutExt for Dropout {
    fn host_seed(&self, device: &Device) -> Option<(f64, u64)> {
        let active = self.training.is_enabled() && device.is_autodiff() && self.prob > 0.0;
        (active && is_cpu(device)).then(|| (1.0 - self.prob, mask_seed(device)))
    }

    fn apply<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let device = input.device();
        if !self.training.is_enabled() || !device.is_autodiff() || self.prob == 0.0 {
            return input;
        }
        if !is_cpu(&device) {
            return self.forward(input);
        }
        let keep = 1.0 - self.prob;
        let shape = input.shape();
        let mask = host_mask(shape.num_elements(), keep, mask_seed(&device));
        input * Tensor::from_data(TensorData::new(mask, shape), &device)
    }
}

thread_local! {
    /// The generator of [`with_thread_seed`], while its closure runs on this thread.
    static THREAD_RNG: RefCell<Option<SmallRng>> = const { RefCell::new(None) };
}

/// Runs `f` with the dropout masks of this thread drawn from a generator seeded with `seed`
/// instead of the device's shared one (CPU devices; GPU dropout is burn's and keeps the device
/// generator). Calls nest: the previous generator is restored afterwards, also when `f` panics.
pub fn with_thread_seed<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<SmallRng>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD_RNG.with(|cell| *cell.borrow_mut() = self.0.take());
        }
    }
    let previous = THREAD_RNG.with(|cell| cell.replace(Some(SmallRng::seed_from_u64(seed))));
    let _restore = Restore(previous);
    f()
}

/// The seed of the next mask: from this thread's generator inside [`with_thread_seed`], from
/// the device's otherwise.
fn mask_seed(device: &Device) -> u64 {
    THREAD_RNG
        .with(|cell| cell.borrow_mut().as_mut().map(|rng| rng.random::<u64>()))
        .unwrap_or_else(|| device_seed(device))
}

/// A 48-bit seed from the device's generator (two uniform draws of 24 bits each).
fn device_seed(device: &Device) -> u64 {
    let draws = to_host_floats(Tensor::<1>::random(
        [2],
        Distribution::Uniform(0.0, 1.0),
        device,
    ));
    let bits = |v: f32| ((v * (1u32 << 24) as f32) as u64) & 0xFF_FFFF;
    (bits(draws[0]) << 24) | bits(draws[1])
}

/// `n` mask values: `1 / keep` with probability `keep`, 0 otherwise.
///
/// The generator is rand's small, fast one (Xoshiro256++): a mask needs uniform bits, not
/// unpredictable ones, and the cryptographic `StdRng` (ChaCha12) took ~4% of a Transformer
/// training step on flex.
fn host_mask(n: usize, keep: f64, seed: u64) -> Vec<f32> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let scale = (1.0 / keep) as f32;
    // `u < threshold` with `u` uniform over the 64-bit integers: probability `keep` (to 2⁻⁶⁴).
    let threshold = (keep * 2f64.powi(64)).min(u64::MAX as f64) as u64;
    (0..n)
        .map(|_| {
            if rng.random::<u64>() < threshold {
                scale
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;

    #[test]
    fn keeps_about_one_minus_p_and_rescales() {
        let _rng = crate::rng_lock();
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.25).init();
        let x = Tensor::<2>::ones([200, 500], &device);
        let y = to_host_floats(layer.apply(x));
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.75).abs() < 0.01, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    }

    #[test]
    fn follows_the_device_seed_and_is_off_without_autodiff() {
        let _rng = crate::rng_lock();
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.5).init();
        let draw = || {
            device.seed(7);
            to_host_floats(layer.apply(Tensor::<1>::ones([64], &device)))
        };
        assert_eq!(draw(), draw());
        let plain = Device::flex();
        let x = Tensor::<1>::ones([64], &plain);
        assert_eq!(to_host_floats(layer.apply(x)), vec![1.0; 64]);
    }

    #[test]
    fn a_thread_seed_gives_the_same_masks_whatever_the_device_generator_does() {
        let _rng = crate::rng_lock();
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.5).init();
        let draw = |device_seed: u64| {
            with_thread_seed(11, || {
                device.seed(device_seed);
                let first = to_host_floats(layer.apply(Tensor::<1>::ones([64], &device)));
                let second = to_host_floats(layer.apply(Tensor::<1>::ones([64], &device)));
                (first, second)
            })
        };
        let (a1, a2) = draw(1);
        let (b1, b2) = draw(2);
        assert_eq!((&a1, &a2), (&b1, &b2));
        assert_ne!(a1, a2, "two calls drew the same mask");
        // Another thread seed draws other masks.
        let other = with_thread_seed(12, || {
            to_host_floats(layer.apply(Tensor::<1>::ones([64], &device)))
        });
        assert_ne!(other, a1);
    }
}
