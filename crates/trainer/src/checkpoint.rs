//! Checkpoint files: written atomically (temporary file, fsync, rename), read with errors that
//! say which file and what is wrong.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a
/// torn one: temporary file in the same directory, fsync, rename, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let result = (|| -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        let (head, tail) = bytes.split_at(bytes.len() / 2);
        file.write_all(head)?;
        fault_pause(path);
        file.write_all(tail)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// Fault injection for the crash tests: with `HONYAKU_FAULT_PAUSE_MS=N` in the environment,
/// every checkpoint write (`*.bpk`) stops for N ms with half of its bytes in the temporary
/// file, so that a test can kill the process in the middle of writing.
fn fault_pause(path: &Path) {
    let Some(ms) = std::env::var("HONYAKU_FAULT_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    if path.extension().is_some_and(|e| e == "bpk") {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Saves the module's parameters to `path` atomically.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<()> {
    let bytes = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow!("serialising the model: {e}"))?;
    write_atomic(path, &bytes)
}

/// Loads parameters from `path` into `module` (which fixes the architecture and shapes).
pub fn load_module<M: Module>(module: M, path: &Path) -> Result<M> {
    let bytes = fs::read(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| {
        anyhow!(
            "checkpoint {} is damaged or not a Honyaku checkpoint ({e})",
            path.display()
        )
    })?;
    module.try_load_record(record).map_err(|e| {
        anyhow!(
            "checkpoint {} does not fit this run's model configuration: {e}. Was it trained \
             with another architecture, preset or vocabulary?",
            path.display()
        )
    })
}

/// Saves the optimizer state (Adam moments and step counts, keyed by parameter id) to `path`
/// atomically.
pub fn save_optimizer(optim: &ModuleOptimizer, path: &Path) -> Result<()> {
    let bytes = optim
        .to_record()
        .into_bytes()
        .map_err(|e| anyhow!("serialising the optimizer state: {e}"))?;
    write_atomic(path, &bytes)
}

/// Loads the optimizer state of [`save_optimizer`] into `optim`.
pub fn load_optimizer(optim: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer> {
    let bytes =
        fs::read(path).with_context(|| format!("reading optimizer state {}", path.display()))?;
    optim
        .from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| anyhow!("optimizer state {} is damaged: {e}", path.display()))
}
