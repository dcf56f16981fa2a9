//! The few Python `str` behaviours sacreBLEU relies on, re-implemented so that
//! scores match byte for byte: `str.split()`, `str.rstrip()` and `str.lower()`.

/// Whether Python's `str.isspace()` is true for `c`.
///
/// Python counts the Unicode `White_Space` characters plus the four ASCII
/// information separators U+001C..U+001F, which Rust's
/// [`char::is_whitespace`] leaves out.
pub fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's argument-less `str.split()`: split on runs of whitespace and drop
/// empty pieces.
pub fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_whitespace).filter(|t| !t.is_empty())
}

/// Python's argument-less `str.rstrip()`.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_whitespace)
}

/// Python's `" ".join(s.split())`: collapse whitespace runs to single spaces
/// and trim both ends.
pub fn py_normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, token) in py_split(s).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

/// Python's `str.lower()`.
///
/// Both Python and Rust apply the full Unicode lowercase mapping, including
/// the context-dependent final sigma, so this is [`str::to_lowercase`].
pub fn py_lower(s: &str) -> String {
    s.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code point for which Python 3.11's `str.isspace()` is true.
    const PY_SPACES: &[u32] = &[
        0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
        0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
        0x202f, 0x205f, 0x3000,
    ];

    #[test]
    fn whitespace_set_equals_python_isspace() {
        let ours: Vec<u32> = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_py_whitespace(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, PY_SPACES);
    }

    #[test]
    fn split_drops_empty_pieces_and_unicode_spaces() {
        let parts: Vec<&str> = py_split("  a\u{3000}b\u{1f}c\t\n d  ").collect();
        assert_eq!(parts, ["a", "b", "c", "d"]);
        assert_eq!(py_split(" \u{a0} ").count(), 0);
    }

    #[test]
    fn rstrip_keeps_leading_space() {
        assert_eq!(py_rstrip("  x y \u{2028}\n"), "  x y");
    }

    #[test]
    fn normalize_space_joins_with_single_spaces() {
        assert_eq!(py_normalize_space("\ta   b\u{85}c "), "a b c");
    }

    #[test]
    fn lower_handles_final_sigma_and_dotted_i() {
        // Σ lowercases to final ς (U+03C2) at a word end, to σ (U+03C3) elsewhere.
        assert_eq!(py_lower("ΟΔΟΣ ΣΟΦΙΑΣ"), "οδο\u{3c2} \u{3c3}οφια\u{3c2}");
        assert_eq!(py_lower("İ"), "i\u{307}");
    }
}
