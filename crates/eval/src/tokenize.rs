//! sacreBLEU's BLEU tokenizers: `13a` (the default), `intl`, `char` and `none`.
//!
//! Each tokenizer maps one line to a string of space-separated tokens, exactly
//! as the Python tokenizer of the same name in sacreBLEU 2.x does.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::pystr::py_normalize_space;

/// A BLEU tokenizer, named as in sacreBLEU's `--tokenize` option.
/// Serializes as its sacreBLEU name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum BleuTokenizer {
    /// `13a`: the mteval-v13a.pl tokenizer used by WMT (sacreBLEU's default).
    #[default]
    #[serde(rename = "13a")]
    V13a,
    /// `intl`: the mteval-v14 international tokenizer, splitting Unicode
    /// punctuation and symbols.
    #[serde(rename = "intl")]
    Intl,
    /// `char`: every character is a token.
    #[serde(rename = "char")]
    Char,
    /// `none`: no tokenization; tokens are the whitespace-separated words.
    #[serde(rename = "none")]
    None,
}

impl BleuTokenizer {
    /// All implemented tokenizers.
    pub const ALL: [BleuTokenizer; 4] = [Self::V13a, Self::Intl, Self::Char, Self::None];

    /// sacreBLEU's name for this tokenizer, as used in signatures.
    pub fn name(self) -> &'static str {
        match self {
            Self::V13a => "13a",
            Self::Intl => "intl",
            Self::Char => "char",
            Self::None => "none",
        }
    }

    /// Tokenizes one line; tokens in the result are separated by whitespace.
    pub fn tokenize(self, line: &str) -> String {
        match self {
            Self::V13a => tokenize_13a(line),
            Self::Intl => tokenize_intl(line),
            Self::Char => tokenize_char(line),
            Self::None => line.to_owned(),
        }
    }
}

impl fmt::Display for BleuTokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BleuTokenizer {
    type Err = EvalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| EvalError::UnknownTokenizer(s.to_owned()))
    }
}

/// Compiles one of the fixed patterns below.
fn compile(pattern: &str) -> Regex {
    // The patterns are constants exercised by the tests, so this cannot fail at run time.
    Regex::new(pattern).expect("built-in tokenizer pattern is valid")
}

/// ASCII punctuation and symbols that 13a always splits off (note: not `'`, `-`, `.`, `,`).
static RE_13A_PUNCT: LazyLock<Regex> = LazyLock::new(|| compile(r"([{-~\[-` -&(-+:-@/])"));
/// Period or comma preceded by a non-digit.
static RE_13A_PERIOD_AFTER: LazyLock<Regex> = LazyLock::new(|| compile(r"([^0-9])([.,])"));
/// Period or comma followed by a non-digit.
static RE_13A_PERIOD_BEFORE: LazyLock<Regex> = LazyLock::new(|| compile(r"([.,])([^0-9])"));
/// Dash preceded by a digit.
static RE_13A_DASH: LazyLock<Regex> = LazyLock::new(|| compile(r"([0-9])(-)"));

/// Unicode punctuation preceded by a non-number.
static RE_INTL_PUNCT_AFTER: LazyLock<Regex> = LazyLock::new(|| compile(r"(\P{N})(\p{P})"));
/// Unicode punctuation followed by a non-number.
static RE_INTL_PUNCT_BEFORE: LazyLock<Regex> = LazyLock::new(|| compile(r"(\p{P})(\P{N})"));
/// Any Unicode symbol.
static RE_INTL_SYMBOL: LazyLock<Regex> = LazyLock::new(|| compile(r"(\p{S})"));

/// mteval-v13a: drop `<skipped>`, join `-\n` hyphenation, un-escape four
/// entities, then apply the regex splits to the space-padded line.
fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let padded = format!(" {line} ");
    let s = RE_13A_PUNCT.replace_all(&padded, " ${1} ");
    let s = RE_13A_PERIOD_AFTER.replace_all(&s, "${1} ${2} ");
    let s = RE_13A_PERIOD_BEFORE.replace_all(&s, " ${1} ${2}");
    let s = RE_13A_DASH.replace_all(&s, "${1} ${2} ");
    py_normalize_space(&s)
}

/// mteval-v14 international tokenization. Like the original, a number
/// followed by a sentence-final period keeps the period (`1999.`).
fn tokenize_intl(line: &str) -> String {
    let s = RE_INTL_PUNCT_AFTER.replace_all(line, "${1} ${2} ");
    let s = RE_INTL_PUNCT_BEFORE.replace_all(&s, " ${1} ${2}");
    let s = RE_INTL_SYMBOL.replace_all(&s, " ${1} ");
    py_normalize_space(&s)
}

/// Joins every character (spaces included) with a single space.
fn tokenize_char(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    for (i, c) in line.chars().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t13a(s: &str) -> String {
        BleuTokenizer::V13a.tokenize(s)
    }

    fn intl(s: &str) -> String {
        BleuTokenizer::Intl.tokenize(s)
    }

    #[test]
    fn names_round_trip_and_default_is_13a() {
        for tok in BleuTokenizer::ALL {
            assert_eq!(tok.to_string().parse::<BleuTokenizer>(), Ok(tok));
        }
        assert_eq!(BleuTokenizer::default(), BleuTokenizer::V13a);
        let err = "zh".parse::<BleuTokenizer>().unwrap_err();
        assert_eq!(err, EvalError::UnknownTokenizer("zh".into()));
        assert!(err.to_string().contains("13a, intl, char, none"));
    }

    #[test]
    fn v13a_splits_punctuation_but_keeps_numbers_and_apostrophes() {
        assert_eq!(
            t13a("Hello, world! It's 3.14 and 1,000 dollars."),
            "Hello , world ! It's 3.14 and 1,000 dollars ."
        );
    }

    #[test]
    fn v13a_splits_dash_only_after_a_digit() {
        assert_eq!(t13a("2-3 e-mail 10-20"), "2 - 3 e-mail 10 - 20");
    }

    #[test]
    fn v13a_unescapes_four_entities_only() {
        assert_eq!(
            t13a("&quot;Q&quot; &amp; &lt;t&gt; &apos;"),
            "\" Q \" & < t > & apos ;"
        );
    }

    #[test]
    fn v13a_removes_skipped_and_joins_hyphenated_lines() {
        assert_eq!(t13a("<skipped> a <skipped>"), "a");
        assert_eq!(t13a("hyphen-\nated\nline"), "hyphenated line");
    }

    #[test]
    fn v13a_pads_so_final_period_after_number_splits() {
        assert_eq!(t13a("year 1999."), "year 1999 .");
        assert_eq!(t13a("a..b ,a"), "a . . b , a");
    }

    #[test]
    fn v13a_leaves_non_ascii_punctuation_alone() {
        assert_eq!(t13a("«Oui» — 東京、大阪。"), "«Oui» — 東京、大阪。");
    }

    #[test]
    fn intl_splits_unicode_punctuation_and_symbols() {
        assert_eq!(intl("«Oui» — dit-il…"), "« Oui » — dit - il …");
        assert_eq!(intl("東京、大阪。"), "東京 、 大阪 。");
        assert_eq!(intl("€105 ©2024"), "€ 105 © 2024");
    }

    #[test]
    fn intl_keeps_punctuation_between_or_after_digits() {
        assert_eq!(intl("3.14 1,000 in 1999."), "3.14 1,000 in 1999.");
        assert_eq!(intl("٣.١٤ x"), "٣.١٤ x");
    }

    #[test]
    fn char_and_none() {
        assert_eq!(BleuTokenizer::Char.tokenize("ab c"), "a b   c");
        assert_eq!(BleuTokenizer::Char.tokenize("日本"), "日 本");
        assert_eq!(BleuTokenizer::None.tokenize(" a,b "), " a,b ");
    }

    #[test]
    fn serializes_as_sacrebleu_name() {
        assert_eq!(
            serde_json::to_string(&BleuTokenizer::V13a).unwrap(),
            "\"13a\""
        );
        let parsed: BleuTokenizer = serde_json::from_str("\"intl\"").unwrap();
        assert_eq!(parsed, BleuTokenizer::Intl);
    }

    #[test]
    fn empty_line_gives_empty_output() {
        for tok in BleuTokenizer::ALL {
            assert_eq!(tok.tokenize(""), "");
        }
    }
}
