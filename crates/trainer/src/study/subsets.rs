//! The training subsets of the data regime: `n` pairs drawn without replacement by a seed,
//! in corpus order, written once (atomically) and reused by a resumed study.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::run::write_atomic;

/// The source and target files of one subset.
#[derive(Debug, Clone)]
pub struct Subset {
    /// Source file.
    pub src: PathBuf,
    /// Target file.
    pub tgt: PathBuf,
}

/// Lines of a file, plain or gzip, without their line ends: the data crate's reader, so a study
/// takes the same files as `train` and `compare`.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    Ok(honyaku_data::corpus::read_lines(path)?)
}

/// Writes (unless already there) the subset of `n` pairs of `src`/`tgt` drawn with `seed`.
pub fn subset(src: &Path, tgt: &Path, n: usize, seed: u64, dir: &Path) -> Result<Subset> {
    let out = Subset {
        src: dir.join(format!("train-{n}-s{seed}.src")),
        tgt: dir.join(format!("train-{n}-s{seed}.tgt")),
    };
    if out.src.is_file() && out.tgt.is_file() {
        return Ok(out);
    }
    let (s, t) = (read_lines(src)?, read_lines(tgt)?);
    if s.len() != t.len() {
        bail!(
            "{} has {} lines but {} has {}; a parallel corpus needs one target line per source \
             line",
            src.display(),
            s.len(),
            tgt.display(),
            t.len()
        );
    }
    let mut idx: Vec<usize> = (0..s.len()).collect();
    idx.shuffle(&mut StdRng::seed_from_u64(seed));
    idx.truncate(n);
    idx.sort_unstable();
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let join = |v: &[String]| {
        idx.iter()
            .map(|&i| v[i].as_str())
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    write_atomic(&out.src, join(&s).as_bytes())?;
    write_atomic(&out.tgt, join(&t).as_bytes())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_keeps_pairs_aligned_and_depends_on_the_seed() {
        let tmp = honyaku_conformance::tempdir().unwrap();
        let (src, tgt) = (tmp.path().join("a.src"), tmp.path().join("a.tgt"));
        let lines = |p: &str| {
            (0..50)
                .map(|i| format!("{p}{i}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        fs::write(&src, lines("s")).unwrap();
        fs::write(&tgt, lines("t")).unwrap();
        let a = subset(&src, &tgt, 10, 1, &tmp.path().join("d")).unwrap();
        let (s, t) = (read_lines(&a.src).unwrap(), read_lines(&a.tgt).unwrap());
        assert_eq!(s.len(), 10);
        for (x, y) in s.iter().zip(&t) {
            assert_eq!(x[1..], y[1..], "pairs stay aligned");
        }
        let b = subset(&src, &tgt, 10, 2, &tmp.path().join("d")).unwrap();
        assert_ne!(read_lines(&b.src).unwrap(), s);
        fs::write(&tgt, "one line\n").unwrap();
        let err = subset(&src, &tgt, 10, 3, &tmp.path().join("d")).unwrap_err();
        assert!(
            err.to_string().contains("one target line per source line"),
            "{err}"
        );
    }

    #[test]
    fn a_subset_reads_gzip_files() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let tmp = honyaku_conformance::tempdir().unwrap();
        let gz = |name: &str, text: &str| {
            let path = tmp.path().join(name);
            let mut enc = GzEncoder::new(fs::File::create(&path).unwrap(), Compression::fast());
            enc.write_all(text.as_bytes()).unwrap();
            enc.finish().unwrap();
            path
        };
        let src = gz("a.src.gz", "s0\ns1\ns2\n");
        let tgt = gz("a.tgt.gz", "t0\nt1\nt2\n");
        assert_eq!(read_lines(&src).unwrap(), ["s0", "s1", "s2"]);
        let a = subset(&src, &tgt, 2, 1, &tmp.path().join("d")).unwrap();
        let (s, t) = (read_lines(&a.src).unwrap(), read_lines(&a.tgt).unwrap());
        assert_eq!(s.len(), 2);
        assert_eq!(s[0][1..], t[0][1..]);
    }
}
