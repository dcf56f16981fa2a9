//! Checkpoint files: module and optimizer records, written with [`write_atomic`], read with
//! errors that say which file and what is wrong.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use super::atomic::write_atomic;

/// The module's parameters as the bytes of a checkpoint file.
pub fn module_bytes<M: Module>(module: &M) -> Result<Vec<u8>> {
    let bytes = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow!("serialising the model: {e}"))?;
    Ok(bytes.to_vec())
}

/// Saves the module's parameters to `path` atomically.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<()> {
    write_atomic(path, &module_bytes(module)?)
}

/// Loads parameters from `path` into `module` (which fixes the architecture and shapes).
pub fn load_module<M: Module>(module: M, path: &Path) -> Result<M> {
    let bytes = fs::read(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| {
        anyhow!(
            "checkpoint {} is damaged or not a Honyaku checkpoint ({}); restore it from a \
             backup, or train the run again",
            path.display(),
            shorten(&e.to_string())
        )
    })?;
    module.try_load_record(record).map_err(|e| {
        anyhow!(
            "checkpoint {} does not fit this run's model configuration ({}); was it trained \
             with another architecture, preset or vocabulary? Translate with the run that \
             wrote it",
            path.display(),
            shorten(&e.to_string())
        )
    })
}

/// Burn's record errors list every tensor; a message keeps the first few hundred characters.
fn shorten(text: &str) -> String {
    const MAX: usize = 240;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut cut = MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} …", &text[..cut])
}

/// The optimizer state as the bytes of a checkpoint file (`last.optim.bpk`).
pub fn optimizer_bytes(optim: &ModuleOptimizer) -> Result<Vec<u8>> {
    let bytes = optim
        .to_record()
        .into_bytes()
        .map_err(|e| anyhow!("serialising the optimizer state: {e}"))?;
    Ok(bytes.to_vec())
}

/// Loads the optimizer state written from [`optimizer_bytes`] into `optim`.
pub fn load_optimizer(optim: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer> {
    let bytes =
        fs::read(path).with_context(|| format!("reading optimizer state {}", path.display()))?;
    optim.from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| {
        anyhow!(
            "optimizer state {} is damaged ({}); restore it from a backup, or train the run \
                 again",
            path.display(),
            shorten(&e.to_string())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_record_errors_are_shortened_on_a_char_boundary() {
        let text = "é".repeat(500);
        let short = shorten(&text);
        assert!(short.len() < 260 && short.ends_with(" …"), "{short}");
        assert_eq!(shorten("short"), "short");
    }
}
