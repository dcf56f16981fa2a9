//! Writing the train, valid and test splits of a synthetic corpus to files.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::SynthConfig;
use super::error::SynthError;
use super::generate;
use crate::atomic::write_atomic_with;

/// Line counts written by [`write_splits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitCounts {
    /// Training pairs.
    pub train: usize,
    /// Validation pairs.
    pub valid: usize,
    /// Test pairs.
    pub test: usize,
}

/// Writes `dir/{train,valid,test}.{src,tgt}` (UTF-8, one sentence per line, each line ending in
/// `\n`), creating `dir`. `config.pairs` is the training size; `valid` and `test` pairs come from
/// the same distribution with seeds derived from `config.seed` (the training split uses
/// `config.seed` itself, so `train.*` equals [`generate`]`(config)`). Each file is written to a
/// temporary file in `dir` and renamed into place. CLIs default `valid` and `test` to
/// [`default_heldout`](super::default_heldout)`(pairs)`.
pub fn write_splits(
    dir: &Path,
    config: &SynthConfig,
    valid: usize,
    test: usize,
) -> Result<SplitCounts, SynthError> {
    config.validate()?;
    fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let splits = [
        ("train", config.pairs, config.seed),
        ("valid", valid, derive_seed(config.seed, 1)),
        ("test", test, derive_seed(config.seed, 2)),
    ];
    for (name, pairs, seed) in splits {
        let cfg = SynthConfig {
            pairs,
            seed,
            ..config.clone()
        };
        let data = generate(&cfg)?;
        write_lines_atomic(
            &dir.join(format!("{name}.src")),
            data.iter().map(|p| &p.src),
        )?;
        write_lines_atomic(
            &dir.join(format!("{name}.tgt")),
            data.iter().map(|p| &p.tgt),
        )?;
    }
    Ok(SplitCounts {
        train: config.pairs,
        valid,
        test,
    })
}

/// SplitMix64 finaliser over `seed` and a stream number: well-separated seeds per split.
fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Writes one line per item of `lines` (each ending in `\n`) to `path`, atomically.
fn write_lines_atomic<'a>(
    path: &Path,
    lines: impl Iterator<Item = &'a String>,
) -> Result<(), SynthError> {
    write_atomic_with(path, |w| {
        for line in lines {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthTask, default_heldout};

    fn cfg(
        task: SynthTask,
        pairs: usize,
        min_len: usize,
        max_len: usize,
        seed: u64,
    ) -> SynthConfig {
        SynthConfig {
            task,
            pairs,
            min_len,
            max_len,
            seed,
        }
    }

    #[test]
    fn synth_write_splits_files() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let out = dir.path().join("corpus/grammar");
        let config = cfg(SynthTask::Grammar, 120, 3, 12, 9);
        let counts = write_splits(&out, &config, 30, 20).unwrap();
        assert_eq!(
            counts,
            SplitCounts {
                train: 120,
                valid: 30,
                test: 20
            }
        );
        let mut names: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "test.src",
                "test.tgt",
                "train.src",
                "train.tgt",
                "valid.src",
                "valid.tgt"
            ]
        );
        for (split, n) in [("train", 120), ("valid", 30), ("test", 20)] {
            for side in ["src", "tgt"] {
                let text = fs::read_to_string(out.join(format!("{split}.{side}"))).unwrap();
                assert!(text.ends_with('\n'));
                assert_eq!(text.lines().count(), n, "{split}.{side}");
            }
        }
        let train = fs::read_to_string(out.join("train.src")).unwrap();
        let expected: Vec<String> = generate(&config)
            .unwrap()
            .into_iter()
            .map(|p| p.src)
            .collect();
        assert_eq!(train.lines().collect::<Vec<_>>(), expected);
        let valid = fs::read_to_string(out.join("valid.src")).unwrap();
        let test = fs::read_to_string(out.join("test.src")).unwrap();
        assert_ne!(valid, test);
        assert_ne!(
            train.lines().take(20).collect::<Vec<_>>(),
            test.lines().collect::<Vec<_>>()
        );
        // Writing again replaces the files.
        write_splits(&out, &cfg(SynthTask::Copy, 5, 2, 4, 1), 2, 3).unwrap();
        let text = fs::read_to_string(out.join("test.tgt")).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert_eq!(default_heldout(100), 50);
        assert_eq!(default_heldout(20_000), 1000);
        // An unwritable directory names the path.
        let blocker = dir.path().join("file");
        fs::write(&blocker, "x").unwrap();
        let err = write_splits(&blocker.join("sub"), &config, 1, 1).unwrap_err();
        assert!(err.to_string().contains("file"), "{err}");
    }
}
