//! What cleaning reports: the pairs it kept and those it dropped, by reason.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How many pairs cleaning kept, and how many it dropped for each reason. Each dropped pair is
/// counted once, under the first reason that applies (in field order).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CleanReport {
    /// Pairs read.
    pub total: usize,
    /// Pairs kept.
    pub kept: usize,
    /// Dropped because one side is empty (after trimming).
    pub empty_side: usize,
    /// Dropped because a side is longer than `max_len`.
    pub too_long: usize,
    /// Dropped because the length ratio exceeds `max_ratio`.
    pub bad_ratio: usize,
    /// Dropped as repeats of an earlier pair.
    pub duplicates: usize,
    /// The `max_len` that was applied (for the summary).
    pub max_len: usize,
    /// The `max_ratio` that was applied (for the summary).
    pub max_ratio: f32,
}

impl fmt::Display for CleanReport {
    /// One line, e.g. "kept 28,950 of 29,000 pairs; dropped 12 with an empty side, 30 over 100
    /// words, 8 beyond ratio 3.0, 0 duplicates".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kept {} of {} pairs; dropped {} with an empty side, {} over {} words, \
             {} beyond ratio {:.1}, {} duplicates",
            thousands(self.kept),
            thousands(self.total),
            thousands(self.empty_side),
            thousands(self.too_long),
            thousands(self.max_len),
            thousands(self.bad_ratio),
            self.max_ratio,
            thousands(self.duplicates),
        )
    }
}

/// `n` with comma thousands separators: 28950 -> "28,950".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(28950), "28,950");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
