//! The data pipeline's error type: every variant names the file (and line) at fault and says
//! what is wrong in words a user can act on.

use std::io;
use std::path::{Path, PathBuf};

use crate::report::CleanReport;

/// Everything that can go wrong while reading, cleaning, tokenizing or batching a corpus.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A corpus file could not be opened (missing, unreadable, ...).
    #[error(
        "cannot open corpus file '{}': {}; check the path and that the file is readable",
        path.display(),
        io_reason(source)
    )]
    Open {
        /// The file that was asked for.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },

    /// A directory (or other non-file) was given where a corpus file was expected.
    #[error(
        "'{}' is a directory, not a corpus file; give the path of a text file (plain or gzip, \
         one sentence per line)",
        path.display()
    )]
    NotAFile {
        /// The path that is not a plain file.
        path: PathBuf,
    },

    /// Reading a plain (uncompressed) file failed part-way.
    #[error("'{}': read error after line {line}: {}", path.display(), io_reason(source))]
    Read {
        /// The file being read.
        path: PathBuf,
        /// The number of lines read successfully before the error.
        line: usize,
        /// The operating system's reason.
        source: io::Error,
    },

    /// The two sides of a parallel corpus have a different number of lines.
    #[error(
        "line counts differ: '{}' has {src_lines} lines, '{}' has {tgt_lines}; the two files \
         must be line-aligned (line i of one is the translation of line i of the other)",
        src_path.display(),
        tgt_path.display()
    )]
    LineCountMismatch {
        /// The source-side file.
        src_path: PathBuf,
        /// Its number of lines.
        src_lines: usize,
        /// The target-side file.
        tgt_path: PathBuf,
        /// Its number of lines.
        tgt_lines: usize,
    },

    /// A line is not valid UTF-8.
    #[error(
        "'{}' line {line}: invalid UTF-8 (byte offset {offset}); convert the file to UTF-8, \
         e.g. with `iconv -f latin1 -t utf-8`",
        path.display()
    )]
    InvalidUtf8 {
        /// The file being read.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// Byte offset of the first invalid byte, counted from the start of the line.
        offset: usize,
    },

    /// A gzip-compressed file could not be decompressed to the end.
    #[error(
        "'{}': gzip stream is corrupt or truncated after line {line}; the file is incomplete, \
         download or compress it again (`gzip -t` checks it)",
        path.display()
    )]
    CorruptGzip {
        /// The file being read.
        path: PathBuf,
        /// The number of complete lines decompressed before the failure.
        line: usize,
    },

    /// A TSV row has fewer columns than the one requested.
    #[error(
        "'{}' line {line}: has {found} column{}, column {requested} was requested; check that \
         the file is tab-separated and the column numbers (--src-col, --tgt-col)",
        path.display(),
        if *found == 1 { "" } else { "s" }
    )]
    MissingColumn {
        /// The TSV file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// How many tab-separated columns the line has.
        found: usize,
        /// The 1-based column that was asked for.
        requested: usize,
    },

    /// A corpus holds no sentence pairs at all.
    #[error("{origin} contains no sentence pairs; give files with one sentence per line")]
    EmptyCorpus {
        /// What was read, e.g. `corpus 'train.de' / 'train.en'`.
        origin: String,
    },

    /// Cleaning removed every pair.
    #[error("no sentence pairs left after cleaning ({report}); loosen max_len or max_ratio")]
    NothingLeftAfterCleaning {
        /// What cleaning dropped and why.
        report: CleanReport,
    },

    /// Training a subword tokenizer failed.
    #[error("tokenizer training failed: {reason}")]
    TokenizerTrain {
        /// What went wrong.
        reason: String,
    },

    /// A tokenizer file could not be read or is not a valid Honyaku tokenizer.
    #[error(
        "cannot load tokenizer '{}': {reason}; use the tokenizer files written by `honyaku \
         train` (or retrain the run)",
        path.display()
    )]
    TokenizerLoad {
        /// The file (or directory) being loaded.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A tokenizer could not be written.
    #[error("cannot save tokenizer to '{}': {reason}", path.display())]
    TokenizerSave {
        /// The destination.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A configuration value is out of range.
    #[error("invalid {field}: {reason}")]
    InvalidConfig {
        /// The setting's name, e.g. `vocab_size`.
        field: &'static str,
        /// Why it is rejected and what is allowed.
        reason: String,
    },
}

impl DataError {
    /// An [`DataError::InvalidConfig`] for `field`.
    pub fn invalid_config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }

    /// A [`DataError::TokenizerLoad`] for `path`.
    pub(crate) fn tokenizer_load(path: &Path, reason: impl ToString) -> Self {
        Self::TokenizerLoad {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// A [`DataError::TokenizerSave`] for `path`.
    pub(crate) fn tokenizer_save(path: &Path, reason: impl ToString) -> Self {
        Self::TokenizerSave {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// The human part of an I/O error: "No such file or directory" rather than
/// "No such file or directory (os error 2)".
pub(crate) fn io_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(cut) if text.ends_with(')') => text[..cut].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_error_reads_like_a_sentence() {
        let err = DataError::Open {
            path: "x.de".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        let text = err.to_string();
        assert!(
            text.starts_with("cannot open corpus file 'x.de': "),
            "{text}"
        );
        assert!(!text.contains("os error"), "{text}");
    }

    #[test]
    fn os_error_suffix_is_dropped() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&err), "No such file or directory");
    }

    #[test]
    fn line_count_mismatch_names_both_counts() {
        let err = DataError::LineCountMismatch {
            src_path: "a.de".into(),
            src_lines: 29000,
            tgt_path: "a.en".into(),
            tgt_lines: 28999,
        };
        assert_eq!(
            err.to_string(),
            "line counts differ: 'a.de' has 29000 lines, 'a.en' has 28999; the two files must \
             be line-aligned (line i of one is the translation of line i of the other)"
        );
    }

    #[test]
    fn missing_column_message() {
        let err = DataError::MissingColumn {
            path: "t.tsv".into(),
            line: 5,
            found: 2,
            requested: 3,
        };
        assert!(
            err.to_string()
                .starts_with("'t.tsv' line 5: has 2 columns, column 3 was requested; "),
            "{err}"
        );
        let one = DataError::MissingColumn {
            path: "t.tsv".into(),
            line: 1,
            found: 1,
            requested: 2,
        };
        assert!(one.to_string().contains("has 1 column,"));
    }

    #[test]
    fn utf8_and_gzip_messages() {
        let utf8 = DataError::InvalidUtf8 {
            path: "x".into(),
            line: 17,
            offset: 4,
        };
        assert!(
            utf8.to_string()
                .starts_with("'x' line 17: invalid UTF-8 (byte offset 4); convert the file"),
            "{utf8}"
        );
        let gz = DataError::CorruptGzip {
            path: "x.gz".into(),
            line: 9,
        };
        assert!(
            gz.to_string()
                .starts_with("'x.gz': gzip stream is corrupt or truncated after line 9; "),
            "{gz}"
        );
    }
}
