//! Errors of the synthetic corpus generator.

use std::io;
use std::path::PathBuf;

/// Errors of the synthetic corpus generator.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// `min_len`/`max_len` do not describe a non-empty range of positive lengths.
    #[error("invalid length range {min_len}..={max_len}: need 1 <= min_len <= max_len")]
    InvalidLengthRange {
        /// The requested minimum length.
        min_len: usize,
        /// The requested maximum length.
        max_len: usize,
    },
    /// The range contains lengths the task cannot produce.
    #[error(
        "invalid length range {min_len}..={max_len} for the {task} task: its sentences have at \
         least {shortest} words (e.g. \"cats sleep .\")"
    )]
    LengthTooShort {
        /// The task's name (`SynthTask::name`).
        task: &'static str,
        /// The requested minimum length.
        min_len: usize,
        /// The requested maximum length.
        max_len: usize,
        /// The shortest sentence the task can produce.
        shortest: usize,
    },
    /// An unknown task name (see `SynthTask::from_str`).
    #[error("unknown synthetic task '{0}' (expected one of: copy, reverse, grammar)")]
    UnknownTask(String),
    /// Creating or writing a file or directory failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}
