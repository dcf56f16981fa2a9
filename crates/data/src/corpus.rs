//! Corpus readers: line-aligned parallel files and tab-separated exports (Tatoeba, Anki), plain
//! or gzip-compressed.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The UTF-8 byte order mark some editors put at the start of a file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One source sentence and its translation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SentencePair {
    /// The source-language sentence.
    pub src: String,
    /// The target-language sentence.
    pub tgt: String,
}

impl SentencePair {
    /// A pair from anything string-like.
    pub fn new(src: impl Into<String>, tgt: impl Into<String>) -> Self {
        Self {
            src: src.into(),
            tgt: tgt.into(),
        }
    }
}

/// Where a parallel corpus comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CorpusSource {
    /// Two line-aligned files, one sentence per line (e.g. `train.de` and `train.en`).
    Parallel {
        /// The source-language file.
        src: PathBuf,
        /// The target-language file.
        tgt: PathBuf,
    },
    /// One tab-separated file with the two sides in given columns (1-based).
    Tsv {
        /// The TSV file.
        path: PathBuf,
        /// The 1-based column of the source sentence.
        src_col: usize,
        /// The 1-based column of the target sentence.
        tgt_col: usize,
    },
}

impl CorpusSource {
    /// Reads every sentence pair of this source.
    pub fn read(&self) -> Result<Vec<SentencePair>, DataError> {
        match self {
            Self::Parallel { src, tgt } => read_parallel(src, tgt),
            Self::Tsv {
                path,
                src_col,
                tgt_col,
            } => read_tsv(path, *src_col, *tgt_col),
        }
    }
}

impl fmt::Display for CorpusSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parallel { src, tgt } => {
                write!(f, "corpus '{}' / '{}'", src.display(), tgt.display())
            }
            Self::Tsv {
                path,
                src_col,
                tgt_col,
            } => write!(
                f,
                "corpus '{}' (columns {src_col} and {tgt_col})",
                path.display()
            ),
        }
    }
}

/// Reads a text file into lines: plain or gzip (recognised by its magic bytes, whatever the
/// extension). A UTF-8 byte order mark and Windows `\r\n` line endings are removed silently;
/// every line must be valid UTF-8. Empty lines are kept, so parallel files stay aligned.
pub fn read_lines(path: impl AsRef<Path>) -> Result<Vec<String>, DataError> {
    let path = path.as_ref();
    let mut reader = open(path)?;
    let gzip = starts_with_gzip_magic(&mut reader, path)?;
    if gzip {
        let decoder = BufReader::new(MultiGzDecoder::new(reader));
        collect_lines(decoder, path, true)
    } else {
        collect_lines(reader, path, false)
    }
}

/// Reads two line-aligned files into sentence pairs. Fails when the line counts differ or when
/// the files hold no lines at all.
pub fn read_parallel(
    src: impl AsRef<Path>,
    tgt: impl AsRef<Path>,
) -> Result<Vec<SentencePair>, DataError> {
    let (src, tgt) = (src.as_ref(), tgt.as_ref());
    let src_lines = read_lines(src)?;
    let tgt_lines = read_lines(tgt)?;
    if src_lines.len() != tgt_lines.len() {
        return Err(DataError::LineCountMismatch {
            src_path: src.to_path_buf(),
            src_lines: src_lines.len(),
            tgt_path: tgt.to_path_buf(),
            tgt_lines: tgt_lines.len(),
        });
    }
    let pairs: Vec<SentencePair> = src_lines
        .into_iter()
        .zip(tgt_lines)
        .map(|(src, tgt)| SentencePair { src, tgt })
        .collect();
    non_empty(pairs, || {
        format!("corpus '{}' / '{}'", src.display(), tgt.display())
    })
}

/// Reads sentence pairs from a tab-separated file, taking the source from column `src_col` and
/// the target from column `tgt_col` (both 1-based; other columns such as ids or attribution are
/// ignored). Blank lines and a leading block of `#` header lines without tabs (Anki's
/// `#separator:tab`) are skipped.
pub fn read_tsv(
    path: impl AsRef<Path>,
    src_col: usize,
    tgt_col: usize,
) -> Result<Vec<SentencePair>, DataError> {
    let path = path.as_ref();
    check_column("src_col", src_col)?;
    check_column("tgt_col", tgt_col)?;
    let lines = read_lines(path)?;
    let header = lines.iter().take_while(|l| is_header_line(l)).count();
    let mut pairs = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate().skip(header) {
        if line.trim().is_empty() {
            continue;
        }
        let row = TsvRow {
            path,
            number: index + 1,
            line,
        };
        pairs.push(row.pair(src_col, tgt_col)?);
    }
    non_empty(pairs, || format!("corpus '{}'", path.display()))
}

/// One non-blank line of a TSV file, with what is needed to report errors.
struct TsvRow<'a> {
    path: &'a Path,
    number: usize,
    line: &'a str,
}

impl TsvRow<'_> {
    /// The pair in the requested 1-based columns.
    fn pair(&self, src_col: usize, tgt_col: usize) -> Result<SentencePair, DataError> {
        let columns: Vec<&str> = self.line.split('\t').collect();
        Ok(SentencePair {
            src: self.column(&columns, src_col)?.to_string(),
            tgt: self.column(&columns, tgt_col)?.to_string(),
        })
    }

    fn column<'c>(&self, columns: &[&'c str], col: usize) -> Result<&'c str, DataError> {
        columns
            .get(col - 1)
            .copied()
            .ok_or_else(|| DataError::MissingColumn {
                path: self.path.to_path_buf(),
                line: self.number,
                found: columns.len(),
                requested: col,
            })
    }
}

fn check_column(field: &'static str, col: usize) -> Result<(), DataError> {
    if col == 0 {
        return Err(DataError::invalid_config(
            field,
            "columns are numbered from 1",
        ));
    }
    Ok(())
}

fn is_header_line(line: &str) -> bool {
    line.starts_with('#') && !line.contains('\t')
}

fn non_empty(
    pairs: Vec<SentencePair>,
    origin: impl FnOnce() -> String,
) -> Result<Vec<SentencePair>, DataError> {
    if pairs.is_empty() {
        return Err(DataError::EmptyCorpus { origin: origin() });
    }
    Ok(pairs)
}

/// Opens `path` for buffered reading, rejecting directories with a clear message.
fn open(path: &Path) -> Result<BufReader<File>, DataError> {
    let open_error = |source| DataError::Open {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(open_error)?;
    if metadata.is_dir() {
        return Err(DataError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    File::open(path).map(BufReader::new).map_err(open_error)
}

/// Whether the buffered stream begins with the gzip magic bytes (without consuming them).
fn starts_with_gzip_magic(reader: &mut BufReader<File>, path: &Path) -> Result<bool, DataError> {
    let buffered = reader.fill_buf().map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        line: 0,
        source,
    })?;
    Ok(buffered.starts_with(&GZIP_MAGIC))
}

/// Splits a byte stream into UTF-8 lines; see [`read_lines`].
fn collect_lines(
    mut reader: impl BufRead,
    path: &Path,
    gzip: bool,
) -> Result<Vec<String>, DataError> {
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf);
        match read {
            Ok(0) => return Ok(lines),
            // A file that holds nothing but a byte order mark is empty, not one empty line.
            Ok(_) if lines.is_empty() && buf == UTF8_BOM => {}
            Ok(_) => {
                let line = decode_line(&mut buf, lines.len() + 1, path)?;
                lines.push(line);
            }
            Err(_) if gzip => {
                return Err(DataError::CorruptGzip {
                    path: path.to_path_buf(),
                    line: lines.len(),
                });
            }
            Err(source) => {
                return Err(DataError::Read {
                    path: path.to_path_buf(),
                    line: lines.len(),
                    source,
                });
            }
        }
    }
}

/// Turns one raw line (with its `\n`, if any) into a `String`: strips the line ending, a `\r`
/// before it, and on line 1 a byte order mark; checks UTF-8.
fn decode_line(buf: &mut Vec<u8>, number: usize, path: &Path) -> Result<String, DataError> {
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if number == 1 && buf.starts_with(UTF8_BOM) {
        buf.drain(..UTF8_BOM.len());
    }
    String::from_utf8(std::mem::take(buf)).map_err(|err| DataError::InvalidUtf8 {
        path: path.to_path_buf(),
        line: number,
        offset: err.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use honyaku_conformance::TempDir;
    use std::io::Write;

    fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn plain_lines_with_bom_and_crlf() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "a.txt", b"\xEF\xBB\xBFHallo\r\nWelt\r\n\r\nEnde");
        assert_eq!(read_lines(&path).unwrap(), ["Hallo", "Welt", "", "Ende"]);
    }

    /// Found by the `plain_lines_round_trip` property: a file of only a BOM read as one empty
    /// line (so an empty corpus saved by some editors was "1 line", not empty).
    #[test]
    fn a_file_of_only_a_bom_is_empty() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "bom.txt", UTF8_BOM);
        assert_eq!(read_lines(&path).unwrap(), Vec::<String>::new());
        let path = write(&dir, "bom.gz", &gzip(UTF8_BOM));
        assert_eq!(read_lines(&path).unwrap(), Vec::<String>::new());
        let path = write(&dir, "bom_nl.txt", b"\xEF\xBB\xBF\n");
        assert_eq!(read_lines(&path).unwrap(), [""]);
    }

    #[test]
    fn gzip_detected_by_magic_not_extension() {
        let dir = TempDir::new().unwrap();
        let data = gzip("eins\nzwei\n".as_bytes());
        let path = write(&dir, "no_extension.txt", &data);
        assert_eq!(read_lines(&path).unwrap(), ["eins", "zwei"]);
        assert_eq!(std::fs::read(&path).unwrap()[..2], GZIP_MAGIC);
    }

    #[test]
    fn concatenated_gzip_members_are_read() {
        let dir = TempDir::new().unwrap();
        let mut data = gzip(b"a\n");
        data.extend(gzip(b"b\n"));
        let path = write(&dir, "multi.gz", &data);
        assert_eq!(read_lines(&path).unwrap(), ["a", "b"]);
    }

    #[test]
    fn truncated_gzip_is_reported() {
        let dir = TempDir::new().unwrap();
        let text: String = (0..2000).map(|i| format!("line number {i}\n")).collect();
        let data = gzip(text.as_bytes());
        let path = write(&dir, "cut.gz", &data[..data.len() / 2]);
        let err = read_lines(&path).unwrap_err();
        assert!(matches!(err, DataError::CorruptGzip { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("gzip stream is corrupt or truncated after line")
        );
    }

    #[test]
    fn invalid_utf8_names_line_and_offset() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "bad.txt", b"ok\nab\xFFcd\n");
        let err = read_lines(&path).unwrap_err();
        let expected = format!(
            "'{}' line 2: invalid UTF-8 (byte offset 2);",
            path.display()
        );
        assert!(err.to_string().starts_with(&expected), "{err}");
    }

    #[test]
    fn missing_file_and_directory() {
        let dir = TempDir::new().unwrap();
        let missing = dir.path().join("nope.de");
        let err = read_lines(&missing).unwrap_err().to_string();
        assert!(err.starts_with("cannot open corpus file '"), "{err}");
        assert!(
            err.contains("nope.de': No such file or directory; check the path"),
            "{err}"
        );
        let err = read_lines(dir.path()).unwrap_err();
        assert!(matches!(err, DataError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn parallel_pairs_and_mismatch() {
        let dir = TempDir::new().unwrap();
        let de = write(&dir, "a.de", "Hallo\nWelt\n".as_bytes());
        let en = write(&dir, "a.en", "Hello\nWorld\n".as_bytes());
        let pairs = read_parallel(&de, &en).unwrap();
        assert_eq!(pairs[1], SentencePair::new("Welt", "World"));

        let short = write(&dir, "b.en", "Hello\n".as_bytes());
        let err = read_parallel(&de, &short).unwrap_err().to_string();
        assert!(err.contains("has 2 lines"), "{err}");
        assert!(err.contains("b.en' has 1; "), "{err}");
    }

    #[test]
    fn empty_parallel_corpus_is_an_error() {
        let dir = TempDir::new().unwrap();
        let de = write(&dir, "e.de", b"");
        let en = write(&dir, "e.en", b"");
        let err = read_parallel(&de, &en).unwrap_err();
        assert!(matches!(err, DataError::EmptyCorpus { .. }), "{err}");
    }

    #[test]
    fn tsv_columns_headers_and_blank_lines() {
        let dir = TempDir::new().unwrap();
        let text =
            "#separator:tab\n#html:false\n1\tHi.\tこんにちは。\tCC-BY\n\n2\tBye.\tさようなら。\n";
        let path = write(&dir, "t.tsv", text.as_bytes());
        let pairs = read_tsv(&path, 2, 3).unwrap();
        assert_eq!(
            pairs,
            [
                SentencePair::new("Hi.", "こんにちは。"),
                SentencePair::new("Bye.", "さようなら。")
            ]
        );
        let source = CorpusSource::Tsv {
            path: path.clone(),
            src_col: 3,
            tgt_col: 2,
        };
        assert_eq!(source.read().unwrap()[0].src, "こんにちは。");
    }

    #[test]
    fn tsv_missing_column_names_line() {
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "t.tsv", b"a\tb\tc\nd\te\n");
        let err = read_tsv(&path, 1, 3).unwrap_err().to_string();
        assert!(
            err.contains("' line 2: has 2 columns, column 3 was requested; "),
            "{err}"
        );
        let err = read_tsv(&path, 0, 1).unwrap_err();
        assert!(matches!(err, DataError::InvalidConfig { .. }), "{err}");
    }

    #[test]
    fn corpus_source_round_trips_through_json() {
        let source = CorpusSource::Parallel {
            src: "a.de".into(),
            tgt: "a.en".into(),
        };
        let json = serde_json::to_string(&source).unwrap();
        assert_eq!(serde_json::from_str::<CorpusSource>(&json).unwrap(), source);
        assert_eq!(source.to_string(), "corpus 'a.de' / 'a.en'");
    }
}
