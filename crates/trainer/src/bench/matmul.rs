//! The backend's matmul rate, and the model's FLOPs measured against it.

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use honyaku_core::search::to_host_floats;
use serde::Serialize;

/// A square f32 matmul's rate.
#[derive(Debug, Clone, Serialize)]
pub struct MatmulBench {
    /// Size: `n × n` times `n × n`.
    pub n: usize,
    /// Timed repetitions.
    pub reps: usize,
    /// `2 n³ · reps / seconds`, in GFLOP/s.
    pub gflops_per_second: f64,
}

/// Model FLOPs against the machine's matmul rate.
#[derive(Debug, Clone, Serialize)]
pub struct FlopsBench {
    /// Matmul FLOPs of one teacher-forced forward pass per target token.
    pub forward_per_token: f64,
    /// Training FLOPs per target token, taken as 3 × forward (backward ≈ 2 × forward).
    pub train_per_token: f64,
    /// `train_per_token × training tokens/s`, in GFLOP/s.
    pub train_gflops_per_second: f64,
    /// The matmul rate measured on the same backend, GFLOP/s.
    pub matmul_gflops_per_second: f64,
    /// `train_gflops_per_second / matmul_gflops_per_second`.
    pub matmul_share: f64,
}

/// The rate of an `n × n` by `n × n` f32 matmul on `device`, after one warm-up product.
pub fn matmul_rate(device: &Device, n: usize, reps: usize) -> MatmulBench {
    let a = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), device);
    let b = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), device);
    let read = |c: Tensor<2>| to_host_floats(c.slice(s![0..1, 0..1]));
    read(a.clone().matmul(b.clone()));
    let start = Instant::now();
    for _ in 0..reps {
        read(a.clone().matmul(b.clone()));
    }
    let seconds = start.elapsed().as_secs_f64();
    MatmulBench {
        n,
        reps,
        gflops_per_second: 2.0 * (n as f64).powi(3) * reps as f64 / seconds.max(1e-9) / 1e9,
    }
}

/// Combines the model's measurements with its FLOPs and the matmul rate.
pub fn flops(
    forward_flops_per_pair: f64,
    tgt_len: usize,
    train_tps: f64,
    matmul: f64,
) -> FlopsBench {
    let forward_per_token = forward_flops_per_pair / tgt_len.max(1) as f64;
    let train_per_token = 3.0 * forward_per_token;
    let train_gflops_per_second = train_per_token * train_tps / 1e9;
    FlopsBench {
        forward_per_token,
        train_per_token,
        train_gflops_per_second,
        matmul_gflops_per_second: matmul,
        matmul_share: train_gflops_per_second / matmul.max(1e-9),
    }
}
