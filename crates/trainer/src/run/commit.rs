//! Files committed together in one step: the resume point of a run (`checkpoints/last.bpk`,
//! `checkpoints/last.optim.bpk`, `train_state.json`) must never mix versions, but a directory
//! can only rename one file at a time. A redo journal makes the set atomic:
//!
//! 1. every file is written to its temporary name and synced (a crash here leaves the old
//!    set, and temporary files that [`recover`] removes);
//! 2. the journal `RUN/.commit.json`, listing the renames, is written atomically: **the commit
//!    point**;
//! 3. the temporary files are renamed over the old ones, and the directories synced;
//! 4. the journal is removed.
//!
//! [`recover`], run before a resume reads the set, finishes a commit whose journal exists (the
//! renames not done yet) and otherwise removes the temporary files of an uncommitted set; a
//! crash at any point thus leaves either the whole old set or the whole new one. Run
//! directories written before the journal existed have none and load as they are.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::atomic::{temp_path, write_atomic, write_error, write_synced};
use crate::faults::file_operation;

/// The journal of the run directory `root`.
pub fn journal_path(root: &Path) -> PathBuf {
    root.join(".commit.json")
}

/// The renames of one commit, paths relative to the journal's directory.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Journal {
    renames: Vec<Rename>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    from: PathBuf,
    to: PathBuf,
}

/// `path` relative to `base` when it lies below it (so that a moved run still recovers).
fn relative(base: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(base).unwrap_or(path).to_path_buf()
}

/// Writes `files` as one set (see the module documentation); `journal` is the run's
/// [`journal_path`]. A failure before the commit point (a full disk) leaves every old file as
/// it was and no temporary file.
pub fn commit_all(journal: &Path, files: &[(&Path, &[u8])]) -> Result<()> {
    let base = journal.parent().unwrap_or(Path::new("."));
    let mut staged: Vec<PathBuf> = Vec::with_capacity(files.len());
    let result = (|| -> Result<Journal> {
        for &(path, bytes) in files {
            let tmp = temp_path(path)?;
            staged.push(tmp.clone());
            file_operation();
            write_synced(&tmp, path, bytes).map_err(|e| write_error(path, e))?;
        }
        let record = Journal {
            renames: staged
                .iter()
                .zip(files)
                .map(|(tmp, (path, _))| Rename {
                    from: relative(base, tmp),
                    to: relative(base, path),
                })
                .collect(),
        };
        write_atomic(journal, serde_json::to_string_pretty(&record)?.as_bytes())?;
        Ok(record)
    })();
    match result {
        Ok(record) => apply(journal, base, &record),
        Err(err) => {
            for tmp in staged.iter().filter(|t| t.exists()) {
                let _ = fs::remove_file(tmp);
            }
            Err(err)
        }
    }
}

/// Steps 3 and 4: the renames still to do, the directory syncs, the journal's removal.
fn apply(journal: &Path, base: &Path, record: &Journal) -> Result<()> {
    let mut dirs: Vec<PathBuf> = vec![base.to_path_buf()];
    for rename in &record.renames {
        let (from, to) = (base.join(&rename.from), base.join(&rename.to));
        if let Some(dir) = to.parent() {
            dirs.push(dir.to_path_buf());
        }
        // Done already when an earlier attempt stopped after it.
        if from.exists() {
            file_operation();
            fs::rename(&from, &to).map_err(|e| write_error(&to, e))?;
        }
    }
    dirs.dedup();
    for dir in &dirs {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    file_operation();
    fs::remove_file(journal).with_context(|| format!("removing {}", journal.display()))?;
    if let Ok(d) = File::open(base) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Before a set is read: finishes the commit `journal` records, if any (returns `true`), or
/// removes the temporary files the set `files` may have left.
pub fn recover(journal: &Path, files: &[PathBuf]) -> Result<bool> {
    if journal.is_file() {
        let text = fs::read_to_string(journal)
            .with_context(|| format!("reading {}", journal.display()))?;
        let Ok(record) = serde_json::from_str::<Journal>(&text) else {
            bail!(
                "{} is damaged (it records a checkpoint save that was interrupted); remove it \
                 to resume from the previous checkpoint",
                journal.display()
            );
        };
        let base = journal.parent().unwrap_or(Path::new("."));
        apply(journal, base, &record)?;
        return Ok(true);
    }
    for file in files {
        let tmp = temp_path(file)?;
        if tmp.is_file() {
            fs::remove_file(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let ckpt = dir.join("checkpoints");
        fs::create_dir_all(&ckpt).unwrap();
        (
            journal_path(dir),
            ckpt.join("last.bpk"),
            dir.join("train_state.json"),
        )
    }

    #[test]
    fn a_commit_replaces_the_set_and_leaves_no_journal() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let (journal, a, b) = set(dir.path());
        commit_all(&journal, &[(&a, b"a1"), (&b, b"b1")]).unwrap();
        commit_all(&journal, &[(&a, b"a2"), (&b, b"b2")]).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"a2");
        assert_eq!(fs::read(&b).unwrap(), b"b2");
        assert!(!journal.exists());
        assert!(!recover(&journal, &[a, b]).unwrap());
    }

    #[test]
    fn recovery_finishes_a_commit_stopped_between_two_renames() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let (journal, a, b) = set(dir.path());
        commit_all(&journal, &[(&a, b"a1"), (&b, b"b1")]).unwrap();
        // What a crash after the commit point and the first rename leaves.
        let (ta, tb) = (temp_path(&a).unwrap(), temp_path(&b).unwrap());
        fs::write(&tb, b"b2").unwrap();
        fs::write(&a, b"a2").unwrap();
        let record = Journal {
            renames: vec![
                Rename {
                    from: relative(dir.path(), &ta),
                    to: relative(dir.path(), &a),
                },
                Rename {
                    from: relative(dir.path(), &tb),
                    to: relative(dir.path(), &b),
                },
            ],
        };
        fs::write(&journal, serde_json::to_string(&record).unwrap()).unwrap();
        assert!(recover(&journal, &[a.clone(), b.clone()]).unwrap());
        assert_eq!(fs::read(&a).unwrap(), b"a2");
        assert_eq!(fs::read(&b).unwrap(), b"b2");
        assert!(!journal.exists() && !tb.exists());
    }

    #[test]
    fn recovery_without_a_journal_drops_an_uncommitted_set() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let (journal, a, b) = set(dir.path());
        commit_all(&journal, &[(&a, b"a1"), (&b, b"b1")]).unwrap();
        let ta = temp_path(&a).unwrap();
        fs::write(&ta, b"half").unwrap();
        assert!(!recover(&journal, &[a.clone(), b.clone()]).unwrap());
        assert!(!ta.exists());
        assert_eq!(fs::read(&a).unwrap(), b"a1");
        fs::write(&journal, b"{").unwrap();
        let err = recover(&journal, &[a, b]).unwrap_err().to_string();
        assert!(err.contains(".commit.json is damaged"), "{err}");
    }
}
