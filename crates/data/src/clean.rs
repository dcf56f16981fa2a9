//! Corpus cleaning: whitespace normalisation, empty/overlong/misaligned pair removal and
//! de-duplication, with a report of what was dropped and why.
//!
//! Lengths are measured in *word units* (see [`length_units`]) so that one limit works for
//! spaced scripts (English, German) and unspaced ones (Japanese, Chinese, Thai) alike.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::corpus::SentencePair;
use crate::error::DataError;
pub use crate::report::CleanReport;

/// Pairs whose longer side has at most this many word units are never dropped for their length
/// ratio: "Yes." / "Ja, genau." is a fine pair even though 3 / 1 is a large ratio.
pub const RATIO_EXEMPT_LEN: usize = 5;

/// Ideographic characters (Han, kana) per word unit: a Japanese or Chinese word is about two
/// characters long.
const IDEOGRAPHIC_CHARS_PER_UNIT: usize = 2;
/// Letters of scripts written without spaces (Thai, Lao, Khmer, Myanmar) per word unit.
const UNSPACED_CHARS_PER_UNIT: usize = 4;
/// Characters of a spaced-script "word" per word unit: a longer run without spaces (a URL, a
/// base64 blob, a line with its spaces lost) counts one unit per this many characters, so that
/// an endless line without spaces is dropped as too long instead of reaching the tokenizer
/// trainer (whose time grows with the square of a word's length).
const LONGEST_WORD_CHARS: usize = 40;

/// What [`clean`] keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CleanConfig {
    /// Longest side allowed, in word units (see [`length_units`]).
    pub max_len: usize,
    /// Largest allowed ratio between the longer and the shorter side's length (in word units);
    /// pairs whose longer side has at most [`RATIO_EXEMPT_LEN`] units are exempt.
    pub max_ratio: f32,
    /// Drop exact repeats of a (source, target) pair, keeping the first.
    pub dedup: bool,
}

impl Default for CleanConfig {
    fn default() -> Self {
        Self {
            max_len: 100,
            max_ratio: 3.0,
            dedup: true,
        }
    }
}

impl CleanConfig {
    /// Checks that the limits make sense.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.max_len == 0 {
            return Err(DataError::invalid_config("max_len", "must be at least 1"));
        }
        if !(self.max_ratio.is_finite() && self.max_ratio >= 1.0) {
            return Err(DataError::invalid_config(
                "max_ratio",
                format!("must be a number >= 1.0, got {}", self.max_ratio),
            ));
        }
        Ok(())
    }
}

/// The cleaned pairs and the report on what was dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct CleanedCorpus {
    /// The surviving pairs, in their original order, whitespace-normalised.
    pub pairs: Vec<SentencePair>,
    /// What was kept and dropped.
    pub report: CleanReport,
}

/// Cleans a corpus: collapses whitespace runs into single spaces and trims both sides, then
/// drops pairs with an empty side, a side over `max_len` word units, a length ratio over
/// `max_ratio`, or (with `dedup`) a repeat of an earlier pair. Fails when the input is empty or
/// nothing survives.
pub fn clean(pairs: Vec<SentencePair>, cfg: &CleanConfig) -> Result<CleanedCorpus, DataError> {
    cfg.validate()?;
    if pairs.is_empty() {
        return Err(DataError::EmptyCorpus {
            origin: "the corpus given to cleaning".to_string(),
        });
    }
    let mut report = CleanReport {
        total: pairs.len(),
        max_len: cfg.max_len,
        max_ratio: cfg.max_ratio,
        ..CleanReport::default()
    };
    let mut kept = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let pair = normalize_pair(pair);
        match verdict(&pair, cfg) {
            Verdict::Keep => kept.push(pair),
            Verdict::EmptySide => report.empty_side += 1,
            Verdict::TooLong => report.too_long += 1,
            Verdict::BadRatio => report.bad_ratio += 1,
        }
    }
    if cfg.dedup {
        let before = kept.len();
        kept = dedup(kept);
        report.duplicates = before - kept.len();
    }
    report.kept = kept.len();
    if kept.is_empty() {
        return Err(DataError::NothingLeftAfterCleaning { report });
    }
    Ok(CleanedCorpus {
        pairs: kept,
        report,
    })
}

/// The length of `text` in word units: each whitespace-separated word of a spaced script counts
/// 1 (one per 40 characters, rounded up, for longer ones); runs of Han/kana characters count one unit per 2 characters and runs of Thai, Lao, Khmer
/// or Myanmar letters one per 4 (rounded up), which roughly matches their word length. Mixed
/// words split into runs: "東京Tower" is 1 + 1 units.
pub fn length_units(text: &str) -> usize {
    let mut counter = UnitCounter::default();
    for c in text.chars() {
        counter.push(CharClass::of(c));
    }
    counter.finish()
}

/// Why a pair is dropped, if it is.
enum Verdict {
    Keep,
    EmptySide,
    TooLong,
    BadRatio,
}

fn verdict(pair: &SentencePair, cfg: &CleanConfig) -> Verdict {
    if pair.src.is_empty() || pair.tgt.is_empty() {
        return Verdict::EmptySide;
    }
    let src = length_units(&pair.src);
    let tgt = length_units(&pair.tgt);
    let (short, long) = (src.min(tgt), src.max(tgt));
    if long > cfg.max_len {
        return Verdict::TooLong;
    }
    if long > RATIO_EXEMPT_LEN && long as f32 > cfg.max_ratio * short.max(1) as f32 {
        return Verdict::BadRatio;
    }
    Verdict::Keep
}

fn normalize_pair(pair: SentencePair) -> SentencePair {
    SentencePair {
        src: normalize_whitespace(&pair.src),
        tgt: normalize_whitespace(&pair.tgt),
    }
}

/// Trims and collapses every run of whitespace into one ASCII space.
fn normalize_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keeps the first occurrence of each pair, preserving order.
fn dedup(pairs: Vec<SentencePair>) -> Vec<SentencePair> {
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(pairs.len());
        pairs.iter().map(|pair| seen.insert(pair)).collect()
    };
    pairs
        .into_iter()
        .zip(keep)
        .filter_map(|(pair, keep)| keep.then_some(pair))
        .collect()
}

/// How a character counts towards [`length_units`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CharClass {
    Space,
    Ideographic,
    Unspaced,
    Spaced,
}

impl CharClass {
    fn of(c: char) -> Self {
        if c.is_whitespace() {
            Self::Space
        } else if is_ideographic(c) {
            Self::Ideographic
        } else if is_unspaced_script(c) {
            Self::Unspaced
        } else {
            Self::Spaced
        }
    }
}

/// Han ideographs, kana, CJK punctuation and full-width forms.
fn is_ideographic(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{30FF}'   // CJK punctuation, hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{FF00}'..='\u{FFEF}' // half- and full-width forms
        | '\u{20000}'..='\u{3FFFF}' // CJK extensions B and later
    )
}

/// Thai, Lao, Myanmar and Khmer: alphabetic scripts written without spaces between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'   // Thai, Lao
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}' // Khmer
    )
}

/// Accumulates runs of same-class characters into word units.
#[derive(Default)]
struct UnitCounter {
    units: usize,
    run_class: Option<CharClass>,
    run_len: usize,
}

impl UnitCounter {
    fn push(&mut self, class: CharClass) {
        if self.run_class != Some(class) {
            self.flush();
            self.run_class = Some(class);
        }
        self.run_len += 1;
    }

    fn flush(&mut self) {
        let run = self.run_len;
        self.units += match self.run_class {
            None | Some(CharClass::Space) => 0,
            Some(CharClass::Spaced) => run.div_ceil(LONGEST_WORD_CHARS),
            Some(CharClass::Ideographic) => run.div_ceil(IDEOGRAPHIC_CHARS_PER_UNIT),
            Some(CharClass::Unspaced) => run.div_ceil(UNSPACED_CHARS_PER_UNIT),
        };
        self.run_len = 0;
    }

    fn finish(mut self) -> usize {
        self.flush();
        self.units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(src: &str, tgt: &str) -> SentencePair {
        SentencePair::new(src, tgt)
    }

    #[test]
    fn length_units_for_spaced_and_unspaced_text() {
        assert_eq!(length_units("I bought a new book in Tokyo yesterday."), 8);
        assert_eq!(length_units("  two   words "), 2);
        assert_eq!(length_units(""), 0);
        // 18 characters, ideographic throughout: 9 units (the English has 8 words).
        assert_eq!(length_units("私は昨日東京で新しい本を買いました。"), 9);
        assert_eq!(length_units("東京Tower"), 2);
        assert_eq!(length_units("สวัสดีครับ"), 3); // 10 Thai letters
        // A "word" without spaces counts one unit per 40 characters.
        assert_eq!(length_units(&"x".repeat(40)), 1);
        assert_eq!(length_units(&"x".repeat(41)), 2);
    }

    #[test]
    fn trims_and_collapses_whitespace() {
        let out = clean(
            vec![pair("  Hallo \t Welt ", "Hello   world\u{3000}")],
            &CleanConfig::default(),
        )
        .unwrap();
        assert_eq!(out.pairs, [pair("Hallo Welt", "Hello world")]);
    }

    #[test]
    fn each_reason_is_counted() {
        let long = "w ".repeat(101);
        let pairs = vec![
            pair("Guten Morgen.", "Good morning."),
            pair("   ", "Hello"),
            pair(&long, "short"),
            pair("one", "a b c d e f g h i j"),
            pair("Guten Morgen.", "Good morning."),
            pair("Ja.", "Yes, that is right."),
        ];
        let out = clean(pairs, &CleanConfig::default()).unwrap();
        let r = &out.report;
        assert_eq!(
            (
                r.total,
                r.kept,
                r.empty_side,
                r.too_long,
                r.bad_ratio,
                r.duplicates
            ),
            (6, 2, 1, 1, 1, 1)
        );
        assert_eq!(
            r.to_string(),
            "kept 2 of 6 pairs; dropped 1 with an empty side, 1 over 100 words, \
             1 beyond ratio 3.0, 1 duplicates"
        );
    }

    #[test]
    fn japanese_english_pairs_survive_the_ratio_check() {
        let pairs = vec![
            pair(
                "私は昨日東京で新しい本を買いました。",
                "I bought a new book in Tokyo yesterday.",
            ),
            pair("ありがとうございます。", "Thank you."),
        ];
        let out = clean(pairs, &CleanConfig::default()).unwrap();
        assert_eq!(out.report.kept, 2, "{}", out.report);
    }

    #[test]
    fn dedup_can_be_turned_off() {
        let pairs = vec![pair("a", "b"), pair("a", "b")];
        let cfg = CleanConfig {
            dedup: false,
            ..CleanConfig::default()
        };
        assert_eq!(clean(pairs, &cfg).unwrap().pairs.len(), 2);
    }

    #[test]
    fn nothing_left_is_an_error_that_says_why() {
        let err = clean(vec![pair("", "x")], &CleanConfig::default()).unwrap_err();
        assert!(matches!(err, DataError::NothingLeftAfterCleaning { .. }));
        assert!(err.to_string().contains("1 with an empty side"), "{err}");
        let err = clean(Vec::new(), &CleanConfig::default()).unwrap_err();
        assert!(matches!(err, DataError::EmptyCorpus { .. }));
    }

    #[test]
    fn bad_config_is_rejected() {
        let cfg = CleanConfig {
            max_ratio: f32::NAN,
            ..CleanConfig::default()
        };
        assert!(clean(vec![pair("a", "b")], &cfg).is_err());
    }
}
