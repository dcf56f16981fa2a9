//! Atomic file writes: a crash or a full disk leaves the old file or the new one, never a torn
//! one. The one `write_atomic` of the trainer.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a
/// torn one: temporary file in the same directory, fsync, rename, fsync of the directory. When
/// the write fails (a full disk, a file-size limit), the old file is left as it was and the
/// error says so.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_all(&[(path, bytes)])
}

/// [`write_atomic`] for files that belong together (a checkpoint, its optimizer state and the
/// counters that describe them): every temporary file is written and synced before the first
/// rename, so a full disk leaves all the old files, never a mix of old and new ones.
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> Result<()> {
    let mut staged: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    let result = (|| -> Result<()> {
        for &(path, bytes) in files {
            let tmp = temp_path(path)?;
            staged.push((tmp.clone(), path));
            crate::faults::file_operation();
            write_synced(&tmp, path, bytes).map_err(|e| write_error(path, e))?;
        }
        for (tmp, path) in &staged {
            crate::faults::file_operation();
            fs::rename(tmp, path).map_err(|e| write_error(path, e))?;
        }
        Ok(())
    })();
    for (tmp, _) in &staged {
        if tmp.exists() {
            let _ = fs::remove_file(tmp);
        }
    }
    for dir in files.iter().filter_map(|(p, _)| p.parent()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    result
}

/// The temporary file next to `path` (created with its directory).
pub(crate) fn temp_path(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file path", path.display()))?;
    Ok(dir.join(format!(".{}.tmp", name.to_string_lossy())))
}

/// Writes and syncs the temporary file `tmp` of `path`.
pub(crate) fn write_synced(tmp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(tmp)?;
    let (head, tail) = bytes.split_at(bytes.len() / 2);
    file.write_all(head)?;
    fault_pause(path);
    file.write_all(tail)?;
    file.sync_all()
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

/// A write error that names the file, keeps the OS reason as its cause and says what to do.
pub(crate) fn write_error(path: &Path, err: std::io::Error) -> anyhow::Error {
    use std::io::ErrorKind;
    let hint = match err.kind() {
        ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded => {
            "the disk is full or a file-size limit was reached: free space (or raise the limit) \
             and rerun; a training run continues with `honyaku train --resume`"
        }
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "make the directory writable or choose another output path"
        }
        _ => "check the disk and the directory, then rerun",
    };
    anyhow::Error::new(err).context(format!(
        "writing {} failed, the previous version of the file is unchanged; {hint}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_every_old_file() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let weights = dir.path().join("last.bpk");
        fs::write(&weights, b"old weights").unwrap();
        // The second file cannot be written: its "directory" is a file.
        let blocker = dir.path().join("blocker");
        fs::write(&blocker, b"").unwrap();
        let state = blocker.join("train_state.json");
        let err = write_atomic_all(&[(&weights, b"new weights"), (&state, b"{}")]).unwrap_err();
        assert!(format!("{err:#}").contains("blocker"), "{err:#}");
        assert_eq!(fs::read(&weights).unwrap(), b"old weights");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn a_write_error_names_the_file_the_cause_and_the_fix() {
        let err = write_error(
            Path::new("run/checkpoints/last.bpk"),
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        let text = format!("{err:#}");
        assert!(
            text.starts_with(
                "writing run/checkpoints/last.bpk failed, the previous version of the file is \
                 unchanged; the disk is full"
            ),
            "{text}"
        );
        assert!(text.contains("honyaku train --resume"), "{text}");
    }
}
