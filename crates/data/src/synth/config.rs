//! What to generate: the task and the length range.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::SynthError;
use super::words::GRAMMAR_MIN_LEN;

/// Which synthetic corpus to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynthTask {
    /// Target = source.
    Copy,
    /// Target = source reversed.
    Reverse,
    /// English-like SVO source, Japanese-like SOV target.
    Grammar,
}

impl SynthTask {
    /// All tasks, in declaration order.
    pub const ALL: [SynthTask; 3] = [SynthTask::Copy, SynthTask::Reverse, SynthTask::Grammar];

    /// The lowercase name used by [`Display`](fmt::Display), [`FromStr`] and serde.
    pub fn name(self) -> &'static str {
        match self {
            SynthTask::Copy => "copy",
            SynthTask::Reverse => "reverse",
            SynthTask::Grammar => "grammar",
        }
    }

    /// The shortest source (in words) the task can produce.
    pub fn min_supported_len(self) -> usize {
        match self {
            SynthTask::Copy | SynthTask::Reverse => 1,
            SynthTask::Grammar => GRAMMAR_MIN_LEN,
        }
    }
}

impl fmt::Display for SynthTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SynthTask {
    type Err = SynthError;

    /// Parses `copy`, `reverse` or `grammar` (ASCII case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        SynthTask::ALL
            .into_iter()
            .find(|task| task.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| SynthError::UnknownTask(s.to_string()))
    }
}

/// What to generate. Lengths are in source words (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// The task.
    pub task: SynthTask,
    /// Number of pairs ([`write_splits`](super::write_splits): the number of training pairs).
    pub pairs: usize,
    /// Shortest source, in words (inclusive).
    pub min_len: usize,
    /// Longest source, in words (inclusive).
    pub max_len: usize,
    /// RNG seed.
    pub seed: u64,
}

impl SynthConfig {
    /// Checks the length range against the task.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.min_len == 0 || self.min_len > self.max_len {
            return Err(SynthError::InvalidLengthRange {
                min_len: self.min_len,
                max_len: self.max_len,
            });
        }
        let shortest = self.task.min_supported_len();
        if self.min_len < shortest {
            return Err(SynthError::LengthTooShort {
                task: self.task.name(),
                min_len: self.min_len,
                max_len: self.max_len,
                shortest,
            });
        }
        Ok(())
    }
}

/// Default size of each held-out split (valid and test) for `pairs` training pairs:
/// `max(pairs / 20, 50)`.
pub fn default_heldout(pairs: usize) -> usize {
    (pairs / 20).max(50)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synth_task_names_round_trip() {
        for task in SynthTask::ALL {
            assert_eq!(task.to_string().parse::<SynthTask>().unwrap(), task);
            let json = serde_json::to_string(&task).unwrap();
            assert_eq!(json, format!("\"{task}\""));
            assert_eq!(serde_json::from_str::<SynthTask>(&json).unwrap(), task);
        }
        assert_eq!(
            " Grammar ".parse::<SynthTask>().unwrap(),
            SynthTask::Grammar
        );
        let err = "mirror".parse::<SynthTask>().unwrap_err();
        assert!(err.to_string().contains("mirror"), "{err}");
    }
}
