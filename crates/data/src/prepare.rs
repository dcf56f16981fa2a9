//! Data preparation in one call: corpus files → cleaning → tokenizers (trained or loaded) →
//! token ids → training batches, and the validation set beside them. Every command that trains
//! prepares its data here.

use std::path::PathBuf;

use crate::batcher::{Batcher, BatcherConfig, HostBatch};
use crate::clean::{CleanConfig, CleanReport, clean};
use crate::corpus::{CorpusSource, SentencePair, read_parallel};
use crate::error::DataError;
use crate::length::drop_long_pairs;
use crate::tokenizer::{TokenizerConfig, Tokenizers};

/// Two line-aligned files: a source file and its target file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParallelFiles {
    /// The source-language file.
    pub src: PathBuf,
    /// The target-language file.
    pub tgt: PathBuf,
}

/// The corpora of a training run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusSpec {
    /// The training corpus (cleaned before use).
    pub train: CorpusSource,
    /// The validation corpus (cleaned and length-limited like the training one), if any.
    pub valid: Option<ParallelFiles>,
}

/// Where the tokenizers come from.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenizerSource {
    /// Trained on the cleaned training corpus.
    Train(TokenizerConfig),
    /// Loaded from a directory written by [`Tokenizers::save_dir`].
    Load(PathBuf),
}

/// How the corpora become batches.
#[derive(Clone, Debug, PartialEq)]
pub struct PrepareOptions {
    /// Cleaning of the training corpus.
    pub clean: CleanConfig,
    /// Where the tokenizers come from.
    pub tokenizers: TokenizerSource,
    /// Batching of the training corpus (the validation set is batched with the same budget, in
    /// a fixed order).
    pub batcher: BatcherConfig,
    /// Keep the validation sources as token ids, for decoding them (BLEU during training).
    pub valid_sources: bool,
}

/// What preparation reports while it works, for progress messages.
#[derive(Debug)]
pub enum PrepareEvent<'a> {
    /// The training corpus was read and cleaned.
    Cleaned {
        /// Where it came from.
        source: &'a CorpusSource,
        /// What cleaning kept and dropped.
        report: &'a CleanReport,
    },
    /// The validation set was read and cleaned like the training corpus.
    ValidCleaned {
        /// Its files.
        files: &'a ParallelFiles,
        /// What cleaning kept and dropped.
        report: &'a CleanReport,
    },
    /// Pairs dropped after tokenizing for a side over `max_len` subword tokens.
    TooLong {
        /// `"training"` or `"validation"`.
        set: &'static str,
        /// Pairs dropped.
        pairs: usize,
        /// The limit.
        max_len: usize,
    },
    /// Tokenizer training starts on this many pairs.
    TrainingTokenizers {
        /// Cleaned training pairs.
        pairs: usize,
    },
}

/// The cleaned training corpus and its tokenizers.
#[derive(Debug)]
pub struct TokenizedCorpus {
    /// The cleaned training pairs.
    pub pairs: Vec<SentencePair>,
    /// What cleaning kept and dropped.
    pub report: CleanReport,
    /// The tokenizers, trained or loaded.
    pub tokenizers: Tokenizers,
}

/// A validation set: teacher-forced batches, and the sources and references to decode.
#[derive(Debug)]
pub struct ValidData {
    /// Batches for the validation loss, shortest first.
    pub batches: Vec<HostBatch>,
    /// Source ids for decoding (empty unless [`PrepareOptions::valid_sources`]).
    pub sources: Vec<Vec<u32>>,
    /// The reference translations of the pairs kept (whitespace-normalised by cleaning).
    pub refs: Vec<String>,
}

/// Everything a training run reads from its corpora.
#[derive(Debug)]
pub struct PreparedData {
    /// What cleaning kept and dropped.
    pub report: CleanReport,
    /// The tokenizers, trained or loaded.
    pub tokenizers: Tokenizers,
    /// The training batches.
    pub batcher: Batcher,
    /// The validation set, when the spec names one.
    pub valid: Option<ValidData>,
}

/// Reads and cleans the training corpus, then trains or loads the tokenizers.
pub fn tokenize_corpus(
    source: &CorpusSource,
    clean_config: &CleanConfig,
    tokenizers: &TokenizerSource,
    progress: &mut dyn FnMut(PrepareEvent<'_>),
) -> Result<TokenizedCorpus, DataError> {
    let cleaned = clean(source.read()?, clean_config)?;
    progress(PrepareEvent::Cleaned {
        source,
        report: &cleaned.report,
    });
    let tokenizers = match tokenizers {
        TokenizerSource::Load(dir) => Tokenizers::load_dir(dir)?,
        TokenizerSource::Train(config) => {
            progress(PrepareEvent::TrainingTokenizers {
                pairs: cleaned.pairs.len(),
            });
            Tokenizers::train(&cleaned.pairs, config)?
        }
    };
    Ok(TokenizedCorpus {
        pairs: cleaned.pairs,
        report: cleaned.report,
        tokenizers,
    })
}

/// Prepares the corpora of `spec`: the cleaned, tokenized and batched training corpus, and the
/// validation set.
pub fn prepare(
    spec: &CorpusSpec,
    options: &PrepareOptions,
    progress: &mut dyn FnMut(PrepareEvent<'_>),
) -> Result<PreparedData, DataError> {
    let corpus = tokenize_corpus(&spec.train, &options.clean, &options.tokenizers, progress)?;
    let max_len = options.clean.max_len;
    let limited = drop_long_pairs(corpus.tokenizers.encode_pairs(&corpus.pairs), max_len);
    if limited.dropped > 0 {
        progress(PrepareEvent::TooLong {
            set: "training",
            pairs: limited.dropped,
            max_len,
        });
    }
    let batcher = Batcher::new(limited.pairs, options.batcher.clone())?;
    let valid = match &spec.valid {
        Some(files) => Some(valid_data(files, &corpus.tokenizers, options, progress)?),
        None => None,
    };
    Ok(PreparedData {
        report: corpus.report,
        tokenizers: corpus.tokenizers,
        batcher,
        valid,
    })
}

/// Reads, cleans (as the training corpus, without de-duplication), encodes, limits and batches
/// the validation files.
fn valid_data(
    files: &ParallelFiles,
    tokenizers: &Tokenizers,
    options: &PrepareOptions,
    progress: &mut dyn FnMut(PrepareEvent<'_>),
) -> Result<ValidData, DataError> {
    let clean_config = CleanConfig {
        dedup: false,
        ..options.clean.clone()
    };
    let cleaned = clean(read_parallel(&files.src, &files.tgt)?, &clean_config)?;
    progress(PrepareEvent::ValidCleaned {
        files,
        report: &cleaned.report,
    });
    let max_len = options.clean.max_len;
    let limited = drop_long_pairs(tokenizers.encode_pairs(&cleaned.pairs), max_len);
    if limited.dropped > 0 {
        progress(PrepareEvent::TooLong {
            set: "validation",
            pairs: limited.dropped,
            max_len,
        });
    }
    let refs: Vec<String> = limited
        .kept
        .iter()
        .map(|&i| cleaned.pairs[i].tgt.clone())
        .collect();
    let encoded = limited.pairs;
    let sources = if options.valid_sources {
        encoded.iter().map(|p| p.src.clone()).collect()
    } else {
        Vec::new()
    };
    let batcher = Batcher::new(
        encoded,
        BatcherConfig {
            max_tokens: options.batcher.max_tokens,
            shuffle: false,
            seed: 0,
        },
    )?;
    Ok(ValidData {
        batches: batcher.epoch_batches(0).collect(),
        sources,
        refs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_corpus(dir: &std::path::Path, name: &str, lines: &[&str]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }

    fn spec(dir: &std::path::Path) -> CorpusSpec {
        let src = ["a b c", "b c d", "c d e", "d e f", "", "e f g"];
        let tgt = ["x y", "y z", "z w", "w v", "v u", "u t"];
        CorpusSpec {
            train: CorpusSource::Parallel {
                src: write_corpus(dir, "train.src", &src),
                tgt: write_corpus(dir, "train.tgt", &tgt),
            },
            valid: Some(ParallelFiles {
                src: write_corpus(dir, "valid.src", &["a b", "c d e f"]),
                tgt: write_corpus(dir, "valid.tgt", &["x", "y z"]),
            }),
        }
    }

    fn options(valid_sources: bool) -> PrepareOptions {
        PrepareOptions {
            clean: CleanConfig::default(),
            tokenizers: TokenizerSource::Train(TokenizerConfig {
                vocab_size: 40,
                ..TokenizerConfig::default()
            }),
            batcher: BatcherConfig {
                max_tokens: 8,
                shuffle: true,
                seed: 3,
            },
            valid_sources,
        }
    }

    #[test]
    fn prepare_cleans_tokenizes_and_batches_both_sets() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let mut events = Vec::new();
        let data = prepare(&spec(dir.path()), &options(true), &mut |e| {
            events.push(format!("{e:?}"))
        })
        .unwrap();
        // The pair with an empty source is dropped by cleaning, the rest are batched.
        assert_eq!(data.report.total, 6);
        assert_eq!(data.report.kept, 5);
        assert_eq!(data.batcher.pairs().len(), 5);
        assert!(events[0].starts_with("Cleaned"), "{events:?}");
        assert_eq!(events[1], "TrainingTokenizers { pairs: 5 }");
        let valid = data.valid.unwrap();
        assert_eq!(valid.refs, ["x", "y z"]);
        assert_eq!(valid.sources.len(), 2);
        assert_eq!(valid.sources[0], data.tokenizers.src.encode("a b"));
        let rows: usize = valid.batches.iter().map(|b| b.batch_size).sum();
        assert_eq!(rows, 2);
    }

    #[test]
    fn loaded_tokenizers_are_not_trained_again_and_sources_can_be_left_out() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let first = prepare(&spec(dir.path()), &options(false), &mut |_| {}).unwrap();
        first.tokenizers.save_dir(dir.path().join("tok")).unwrap();
        let loaded = PrepareOptions {
            tokenizers: TokenizerSource::Load(dir.path().join("tok")),
            ..options(false)
        };
        let mut events = Vec::new();
        let again = prepare(&spec(dir.path()), &loaded, &mut |e| {
            events.push(format!("{e:?}"))
        })
        .unwrap();
        assert!(
            !events.iter().any(|e| e.starts_with("TrainingTokenizers")),
            "{events:?}"
        );
        assert_eq!(
            again.tokenizers.src.vocab_size(),
            first.tokenizers.src.vocab_size()
        );
        assert!(again.valid.unwrap().sources.is_empty());
    }

    #[test]
    fn the_validation_set_is_cleaned_and_length_limited_like_the_training_set() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let mut opts = options(true);
        opts.clean.max_len = 3;
        let mut events = Vec::new();
        let data = prepare(&spec(dir.path()), &opts, &mut |e| {
            events.push(format!("{e:?}"))
        })
        .unwrap();
        // "c d e f" is over 3 words: dropped from validation as it would be from training.
        let valid = data.valid.unwrap();
        assert_eq!(valid.refs, ["x"]);
        assert_eq!(valid.sources.len(), 1);
        let cleaned = events
            .iter()
            .find(|e| e.starts_with("ValidCleaned"))
            .unwrap();
        assert!(cleaned.contains("too_long: 1"), "{cleaned}");
        // Every pair that remains, in both sets, is within 3 tokens a side.
        assert!(
            data.batcher
                .pairs()
                .iter()
                .all(|p| p.src.len() <= 3 && p.tgt.len() <= 3)
        );
        assert!(valid.sources.iter().all(|s| s.len() <= 3));
    }

    #[test]
    fn a_missing_validation_file_is_an_error_naming_it() {
        let dir = honyaku_conformance::tempdir().unwrap();
        let mut spec = spec(dir.path());
        spec.valid = Some(ParallelFiles {
            src: dir.path().join("missing.src"),
            tgt: dir.path().join("valid.tgt"),
        });
        let err = prepare(&spec, &options(true), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("missing.src"), "{err}");
    }
}
