//! How the process's memory allocator treats the large, short-lived tensor buffers of training.
//!
//! A CPU training step allocates and frees hundreds of buffers of 1–32 MiB (activations,
//! gradients, matmul outputs). With glibc's defaults, buffers over the (dynamic) `mmap`
//! threshold are mapped and unmapped one by one, and a freed heap top is handed back to the
//! kernel (`brk`), so the next step's buffers fault every page in again: in a profile of
//! Transformer training on flex, page faults, `brk` and zero-filling took ~15% of the main
//! thread. Keeping freed memory in the process removes that work (docs/BENCHMARKS.md, change 7).
//!
//! glibc's settings reach only its main arena and buffers up to 32 MiB; [`BlockCache`] keeps the
//! larger ones, and those freed by the worker threads of `--cpu-shards`, for reuse too. It
//! raises the peak resident memory by what it holds, up to its limit (change 9).

mod block_cache;

pub use block_cache::{BlockCache, BlockStats};

/// The process's allocator: the system's, with a cache of large freed blocks. It keeps nothing
/// until [`configure_block_cache`] gives it a limit (the `honyaku` binary does at start-up).
#[global_allocator]
pub static ALLOCATOR: BlockCache = BlockCache::new();

/// Environment variable: the most MiB of freed large blocks [`BlockCache`] keeps (0: none).
pub const BLOCK_CACHE_ENV: &str = "HONYAKU_BLOCK_CACHE_MIB";

/// The block cache's default limit: a quarter of the machine's memory, at most 4 GiB.
pub fn default_block_cache_limit() -> usize {
    const MAX: usize = 4 << 30;
    physical_memory().map_or(1 << 30, |bytes| (bytes / 4).min(MAX))
}

/// A value of [`BLOCK_CACHE_ENV`] that is not a whole number of MiB.
#[derive(Debug, thiserror::Error)]
#[error("{BLOCK_CACHE_ENV} must be a whole number of MiB (0 keeps no freed blocks), got '{value}'")]
pub struct BlockCacheEnvError {
    /// The value as set.
    pub value: String,
}

/// The limit [`BLOCK_CACHE_ENV`] asks for, in bytes: `None` when it is not set.
pub fn block_cache_limit_from_env(
    value: Option<std::ffi::OsString>,
) -> Result<Option<usize>, BlockCacheEnvError> {
    let Some(value) = value else { return Ok(None) };
    let text = value.to_string_lossy();
    text.trim()
        .parse::<usize>()
        .map(|mib| Some(mib.saturating_mul(1 << 20)))
        .map_err(|_| BlockCacheEnvError {
            value: text.into_owned(),
        })
}

/// Give `cache` its limit: [`BLOCK_CACHE_ENV`] when it is set, else
/// [`default_block_cache_limit`]. Returns the limit in bytes.
pub fn configure_block_cache(cache: &BlockCache) -> Result<usize, BlockCacheEnvError> {
    let limit = block_cache_limit_from_env(std::env::var_os(BLOCK_CACHE_ENV))?
        .unwrap_or_else(default_block_cache_limit);
    cache.set_limit(limit);
    Ok(limit)
}

/// The machine's physical memory in bytes, where the system says.
fn physical_memory() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `sysconf` only reads system constants.
        let (pages, page) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        (pages > 0 && page > 0).then(|| (pages as usize).saturating_mul(page as usize))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// The largest `mmap` threshold glibc accepts on 64-bit targets (half its 64 MiB heap size):
/// buffers up to 32 MiB (the small preset's `[1024, 8000]` logits) come from the heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 32 << 20;

/// Keep freed buffers for reuse instead of returning them to the kernel.
///
/// Returns whether the allocator took the settings (false where the allocator is not glibc's,
/// which then keeps its own behaviour). Call it once at start-up, before any threads run.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes glibc's allocation parameters; the values are in the
        // ranges glibc documents (`mallopt(3)`), and it takes malloc's own lock.
        let mmap = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        // SAFETY: as above; a trim threshold of `i32::MAX` means "never trim the heap top".
        let trim = unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) };
        mmap == 1 && trim == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_the_settings_and_buffers_still_work() {
        assert!(keep_freed_memory(), "glibc refused a threshold");
        assert!(default_block_cache_limit() >= 1 << 20);
    }

    #[test]
    fn the_limit_comes_from_the_environment_in_mib() {
        let parse = |v: &str| block_cache_limit_from_env(Some(v.into()));
        assert_eq!(parse("0").unwrap(), Some(0));
        assert_eq!(parse(" 512 ").unwrap(), Some(512 << 20));
        assert_eq!(block_cache_limit_from_env(None).unwrap(), None);
        for bad in ["", "-1", "1.5", "lots"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("got '{bad}'")), "{err}");
        }
        // A large buffer freed and allocated again still reads back what was written.
        for round in 0..3u8 {
            let buffer = vec![round; 8 << 20];
            assert!(buffer.iter().all(|&b| b == round));
        }
    }
}
