//! The project's own synthetic parallel corpora: nothing is downloaded.
//!
//! Three tasks, all deterministic for a seed (same [`SynthConfig`] → byte-identical output,
//! given the same `rand` version in `Cargo.lock`):
//!
//! * [`SynthTask::Copy`]: the source is a sequence of tokens drawn uniformly from a fixed
//!   vocabulary of 40 word-like tokens (`a0` … `d9`); the target is identical.
//! * [`SynthTask::Reverse`]: same sources; the target is the source in reverse order.
//! * [`SynthTask::Grammar`]: a small bilingual toy grammar. The source is English-like (SVO,
//!   prepositions, post-nominal relative clauses), the target Japanese-like (SOV, romanized,
//!   space separated, postpositions and particles `wa`/`ga`/`o`/`ni`/`de`/`no`/`to`, pre-nominal
//!   relative clauses), so that translating needs non-trivial, long-distance reordering:
//!
//!   ```text
//!   the cat that ate the fish sleeps in the big house .
//!   sakana o tabeta neko wa ookii ie no naka de neru .
//!   ```
//!
//!   Both sides are lower case and end with the token `.`. Every English content word maps to
//!   exactly one target word (tense is kept: `eats`/`eat` → `taberu`, `ate` → `tabeta`; plural
//!   animate nouns get `tachi`), and every English sentence has exactly one parse (each noun
//!   phrase takes at most one post-modifier and each verb at most one prepositional phrase, so a
//!   following phrase always attaches to the nearest noun), which makes the target a function of
//!   the source: the task is learnable exactly.
//!
//! Lengths are counted in source words: whitespace-separated tokens of the source line, the
//! final `.` of a grammar sentence included. Each pair's source length is drawn uniformly from
//! `[min_len, max_len]` and hit exactly (grammar: by length-targeted expansion of a sentence
//! skeleton, recursing through prepositional phrases, relative clauses and conjoined clauses).

mod config;
mod error;
mod grammar;
mod output;
mod tree;
mod words;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

pub use config::{SynthConfig, SynthTask, default_heldout};
pub use error::SynthError;
pub use output::{SplitCounts, write_splits};

use grammar::build_sentence;
use words::COPY_VOCAB;

/// One sentence pair; tokens are separated by single spaces, no newline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SynthPair {
    /// Source sentence.
    pub src: String,
    /// Target sentence.
    pub tgt: String,
}

/// Generates `config.pairs` pairs. Deterministic: the same config gives the same pairs, and a
/// smaller `pairs` gives a prefix of a larger one.
pub fn generate(config: &SynthConfig) -> Result<Vec<SynthPair>, SynthError> {
    config.validate()?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut out = Vec::with_capacity(config.pairs);
    for _ in 0..config.pairs {
        let len = rng.random_range(config.min_len..=config.max_len);
        let pair = match config.task {
            SynthTask::Copy | SynthTask::Reverse => {
                let mut toks: Vec<&str> = (0..len)
                    .map(|_| COPY_VOCAB[rng.random_range(0..COPY_VOCAB.len())])
                    .collect();
                let src = toks.join(" ");
                if config.task == SynthTask::Reverse {
                    toks.reverse();
                }
                SynthPair {
                    src,
                    tgt: toks.join(" "),
                }
            }
            SynthTask::Grammar => {
                let tree = build_sentence(&mut rng, len);
                let (src, tgt) = tree.render();
                SynthPair {
                    src: src.join(" "),
                    tgt: tgt.join(" "),
                }
            }
        };
        out.push(pair);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::words::*;
    use super::*;
    use std::collections::{HashMap, HashSet};

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

    fn words(s: &str) -> Vec<&str> {
        s.split(' ').collect()
    }

    #[test]
    fn synth_rejects_bad_ranges() {
        for (task, min, max) in [
            (SynthTask::Copy, 0, 5),
            (SynthTask::Copy, 6, 5),
            (SynthTask::Grammar, 2, 10),
            (SynthTask::Grammar, 1, 2),
        ] {
            let err = generate(&cfg(task, 3, min, max, 0)).unwrap_err();
            assert!(
                matches!(
                    err,
                    SynthError::InvalidLengthRange { .. } | SynthError::LengthTooShort { .. }
                ),
                "{err}"
            );
            assert!(err.to_string().contains(&format!("{min}..={max}")), "{err}");
        }
        assert_eq!(
            generate(&cfg(SynthTask::Copy, 2, 1, 1, 0)).unwrap().len(),
            2
        );
    }

    #[test]
    fn synth_is_deterministic() {
        for task in SynthTask::ALL {
            let a = generate(&cfg(task, 300, 3, 30, 7)).unwrap();
            let b = generate(&cfg(task, 300, 3, 30, 7)).unwrap();
            let c = generate(&cfg(task, 300, 3, 30, 8)).unwrap();
            assert_eq!(a, b, "{task}");
            assert_ne!(a, c, "{task}");
            // A smaller corpus is a prefix of a larger one.
            let prefix = generate(&cfg(task, 100, 3, 30, 7)).unwrap();
            assert_eq!(prefix[..], a[..100], "{task}");
        }
    }

    #[test]
    fn synth_copy_and_reverse_targets() {
        let vocab: HashSet<&str> = COPY_VOCAB.into_iter().collect();
        assert_eq!(vocab.len(), 40);
        for p in generate(&cfg(SynthTask::Copy, 500, 1, 20, 1)).unwrap() {
            assert_eq!(p.src, p.tgt);
            assert!(words(&p.src).iter().all(|w| vocab.contains(w)), "{}", p.src);
        }
        for p in generate(&cfg(SynthTask::Reverse, 500, 1, 20, 1)).unwrap() {
            let mut rev = words(&p.src);
            rev.reverse();
            assert_eq!(words(&p.tgt), rev);
        }
    }

    #[test]
    fn synth_lengths_within_range() {
        for task in SynthTask::ALL {
            for (min, max) in [(3, 3), (3, 8), (10, 20), (30, 50), (60, 80)] {
                let data = generate(&cfg(task, 400, min, max, 3)).unwrap();
                for p in &data {
                    let n = p.src.split_whitespace().count();
                    assert!(
                        (min..=max).contains(&n),
                        "{task} {min}-{max}: {n}: {}",
                        p.src
                    );
                    assert_eq!(p.src, p.src.trim());
                    assert!(!p.src.contains("  ") && !p.src.contains('\n'));
                    assert!(!p.tgt.contains("  ") && !p.tgt.contains('\n'));
                }
            }
        }
        // Every length of the range shows up (the length is targeted, not just bounded).
        let data = generate(&cfg(SynthTask::Grammar, 4000, 3, 50, 11)).unwrap();
        let seen: HashSet<usize> = data.iter().map(|p| p.src.split(' ').count()).collect();
        assert_eq!(seen, (3..=50).collect::<HashSet<_>>());
    }

    /// Builds a tree by hand: subject/object nouns by English singular name.
    #[test]
    fn synth_grammar_mapping_is_consistent() {
        let map = words::tests::content_map();
        let animate_plurals: HashSet<&str> =
            NOUNS.iter().filter(|n| n.animate).map(|n| n.pl).collect();
        let verbs: HashSet<&str> = INTRANSITIVE
            .iter()
            .chain(&TRANSITIVE)
            .chain(&DITRANSITIVE)
            .flat_map(|v| [v.ja_present, v.ja_past])
            .collect();
        let data = generate(&cfg(SynthTask::Grammar, 2000, 3, 50, 5)).unwrap();
        let mut long = 0;
        for p in &data {
            let src = words(&p.src);
            let tgt = words(&p.tgt);
            assert_eq!(src.last(), Some(&"."));
            assert_eq!(tgt.last(), Some(&"."));
            // SOV: the target's last word before "." is a verb.
            assert!(verbs.contains(tgt[tgt.len() - 2]), "{}", p.tgt);
            // Each content word in the target is matched by one of its English forms.
            for (ja, ens) in &map {
                let in_tgt = tgt.iter().filter(|w| *w == ja).count();
                let in_src = src.iter().filter(|w| ens.contains(w)).count();
                assert_eq!(in_tgt, in_src, "{ja} ~ {ens:?}\n{}\n{}", p.src, p.tgt);
            }
            let tachi = tgt.iter().filter(|w| **w == "tachi").count();
            let plurals = src.iter().filter(|w| animate_plurals.contains(*w)).count();
            assert_eq!(tachi, plurals, "{}\n{}", p.src, p.tgt);
            long += usize::from(src.len() > 40);
        }
        assert!(long > 100, "{long} sentences over 40 words");
        // The same source always gets the same target.
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for p in &data {
            assert_eq!(*seen.entry(&p.src).or_insert(&p.tgt), p.tgt.as_str());
        }
    }
}
