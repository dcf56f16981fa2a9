//! The compute backend, chosen at run time by `--backend`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::{Result, bail};
use burn::prelude::*;
use clap::ValueEnum;
use honyaku_core::shards::{MAX_DEFAULT_SHARDS, cores};
use serde::{Deserialize, Serialize};

/// A compute backend this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-flex: the fast pure-Rust CPU backend (default).
    #[default]
    Flex,
    /// burn-ndarray: the older CPU backend (deprecated upstream, kept selectable).
    Ndarray,
    /// burn-wgpu: GPUs through Vulkan, Metal or DX12 (and Mesa's lavapipe on CPUs).
    Wgpu,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
        })
    }
}

impl Backend {
    /// The inference device, checked to work: a missing GPU gives an error, not a panic.
    pub fn device(self) -> Result<Device> {
        let device = match self {
            Self::Flex => Device::flex(),
            // Deprecated upstream in favour of flex; kept selectable because users ask for it.
            #[allow(deprecated)]
            Self::Ndarray => Device::ndarray(),
            Self::Wgpu => Device::wgpu(DeviceKind::DefaultDevice),
        };
        probe(self, &device)?;
        Ok(device)
    }

    /// The training device: the same backend with autodiff.
    pub fn train_device(self) -> Result<Device> {
        Ok(self.device()?.autodiff())
    }

    /// The row shards of a training batch (`--cpu-shards`): `requested` on the CPU backends,
    /// where 0 means one per core (at most [`MAX_DEFAULT_SHARDS`], the most measured); 1 on
    /// GPUs, whose operations already use the whole device.
    pub fn cpu_shards(self, requested: usize) -> usize {
        match self {
            Self::Wgpu => 1,
            Self::Flex | Self::Ndarray if requested == 0 => cores().min(MAX_DEFAULT_SHARDS),
            Self::Flex | Self::Ndarray => requested,
        }
    }

    /// The `n` autodiff devices of data-parallel training, each checked to work: GPUs `0..n`
    /// for wgpu (discrete GPUs first, then integrated ones); for the CPU backends, the one CPU
    /// device `n` times (one worker thread per replica).
    pub fn train_devices(self, n: usize) -> Result<Vec<Device>> {
        if n <= 1 {
            return Ok(vec![self.train_device()?]);
        }
        match self {
            Self::Flex | Self::Ndarray => Ok(vec![self.train_device()?; n]),
            Self::Wgpu => (0..n)
                .map(|i| {
                    let device = [DeviceKind::DiscreteGpu(i), DeviceKind::IntegratedGpu(i)]
                        .into_iter()
                        .map(Device::wgpu)
                        .find(|d| probe(self, d).is_ok());
                    match device {
                        Some(d) => Ok(d.autodiff()),
                        None => bail!(
                            "--devices {n}: GPU {i} was not found by the wgpu backend; \
                             give at most as many devices as this machine has GPUs"
                        ),
                    }
                })
                .collect(),
        }
    }
}

/// Makes flex, which every build has and every machine runs, Burn's default device unless
/// `BURN_DEVICE` says otherwise. Burn 0.22 materialises a loaded optimizer state on the default
/// device (`ModuleOptimizer::load_record`; the tensors move to the parameters' device at the
/// next step), and with the wgpu feature compiled in that default is the GPU: `honyaku train
/// --resume` of a CPU run would start a GPU context, and panic on a machine without one.
///
/// # Safety
///
/// Sets an environment variable: call it first thing in `main`, while the process has one
/// thread.
pub unsafe fn default_to_cpu() {
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: the caller guarantees that no other thread runs yet.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}

/// Runs one tiny operation, turning a backend that cannot start into a clear error.
fn probe(backend: Backend, device: &Device) -> Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        Tensor::<1>::ones([2], device).sum().into_scalar::<f32>()
    }));
    std::panic::set_hook(previous);
    match outcome {
        Ok(v) if (v - 2.0).abs() < 1e-6 => Ok(()),
        Ok(v) => bail!("the {backend} backend computed 1 + 1 = {v}; it is not usable here"),
        Err(_) => bail!(
            "the {backend} backend could not start on this machine{}. \
             Available backends: flex (default, CPU), ndarray (CPU), wgpu (GPU via \
             Vulkan/Metal/DX12). Use --backend flex to train on the CPU.",
            if backend == Backend::Wgpu {
                " (no GPU or Vulkan driver was found; on Debian, Mesa's lavapipe \
                 (`apt-get install mesa-vulkan-drivers libvulkan1`) provides one on the CPU)"
            } else {
                ""
            }
        ),
    }
}
