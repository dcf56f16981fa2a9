//! Token-budget batching with length bucketing, on the host: padded `i64` id matrices and
//! padding masks, ready to be turned into tensors.
//!
//! Training batches use teacher forcing: the encoder reads `src + EOS`, the decoder reads
//! `BOS + tgt` and is trained to predict `tgt + EOS`. Rows are right-padded with [`PAD_ID`].
//!
//! Shuffling uses a small built-in SplitMix64 generator rather than `rand`, so an epoch's batch
//! order depends only on `(seed, epoch)` and the corpus, never on a library version: a run
//! resumed mid-epoch sees exactly the batches it would have seen.

use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::special::{BOS_ID, EOS_ID, PAD_ID};

/// One sentence pair as subword ids, without BOS/EOS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedPair {
    /// Source-sentence ids.
    pub src: Vec<u32>,
    /// Target-sentence ids.
    pub tgt: Vec<u32>,
}

impl EncodedPair {
    /// Encoder input length: the ids plus EOS.
    pub fn src_len(&self) -> usize {
        self.src.len() + 1
    }

    /// Decoder length: the ids plus BOS (input) or EOS (output).
    pub fn tgt_len(&self) -> usize {
        self.tgt.len() + 1
    }
}

/// A padded training batch. Matrices are row-major `batch_size × len`; masks are `true` at
/// padding positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostBatch {
    /// Number of sentence pairs (rows).
    pub batch_size: usize,
    /// Columns of the source matrix: the longest `src + EOS`.
    pub src_len: usize,
    /// Columns of the target matrices: the longest `tgt + 1`.
    pub tgt_len: usize,
    /// Encoder input: `src ids, EOS, PAD…`.
    pub src: Vec<i64>,
    /// `true` where `src` is padding.
    pub src_pad: Vec<bool>,
    /// Decoder input: `BOS, tgt ids, PAD…`.
    pub tgt_in: Vec<i64>,
    /// Decoder output (labels): `tgt ids, EOS, PAD…`.
    pub tgt_out: Vec<i64>,
    /// `true` where `tgt_in`/`tgt_out` are padding.
    pub tgt_pad: Vec<bool>,
    /// Real source tokens (EOS included, padding excluded).
    pub n_src_tokens: usize,
    /// Real target tokens (EOS included, padding excluded): the number of predictions.
    pub n_tgt_tokens: usize,
    /// For each row, the pair's index in the corpus.
    pub indices: Vec<usize>,
}

impl HostBatch {
    /// Builds a batch from `pairs` in the given order; `indices` are `0..pairs.len()`.
    pub fn from_pairs(pairs: &[&EncodedPair]) -> Self {
        let indices: Vec<usize> = (0..pairs.len()).collect();
        Self::build(pairs, indices)
    }

    /// Builds a batch of `corpus[i]` for each `i` in `indices`, remembering the indices.
    /// Indices beyond the corpus are skipped.
    pub fn from_indices(corpus: &[EncodedPair], indices: &[usize]) -> Self {
        let (rows, kept): (Vec<&EncodedPair>, Vec<usize>) = indices
            .iter()
            .filter_map(|&i| corpus.get(i).map(|pair| (pair, i)))
            .unzip();
        Self::build(&rows, kept)
    }

    /// Padding positions over all positions, source and target together (0.0 for no rows).
    pub fn padding_ratio(&self) -> f64 {
        let positions = self.batch_size * (self.src_len + self.tgt_len);
        let real = self.n_src_tokens + self.n_tgt_tokens;
        if positions == 0 {
            return 0.0;
        }
        (positions - real) as f64 / positions as f64
    }

    /// The batch's cost against a token budget: `batch_size × max(src_len, tgt_len)`.
    pub fn budget_tokens(&self) -> usize {
        self.batch_size * self.src_len.max(self.tgt_len)
    }

    fn build(pairs: &[&EncodedPair], indices: Vec<usize>) -> Self {
        let src = Padded::new(pairs.iter().map(|p| with_suffix(&p.src, EOS_ID)));
        let tgt_in = Padded::new(pairs.iter().map(|p| with_prefix(BOS_ID, &p.tgt)));
        let tgt_out = Padded::new(pairs.iter().map(|p| with_suffix(&p.tgt, EOS_ID)));
        Self {
            batch_size: pairs.len(),
            src_len: src.len,
            tgt_len: tgt_out.len,
            n_src_tokens: src.real,
            n_tgt_tokens: tgt_out.real,
            src: src.ids,
            src_pad: src.pad,
            tgt_in: tgt_in.ids,
            tgt_out: tgt_out.ids,
            tgt_pad: tgt_out.pad,
            indices,
        }
    }
}

/// A padded batch of source sentences for translation (no targets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSource {
    /// Number of sentences (rows).
    pub batch_size: usize,
    /// Columns: the longest `src + EOS`.
    pub src_len: usize,
    /// Encoder input: `src ids, EOS, PAD…`, row-major.
    pub src: Vec<i64>,
    /// `true` where `src` is padding.
    pub src_pad: Vec<bool>,
    /// Real tokens (EOS included).
    pub n_src_tokens: usize,
    /// For each row, the sentence's position in the input: write row `r`'s translation to
    /// `outputs[indices[r]]` to restore the input order.
    pub indices: Vec<usize>,
}

impl HostSource {
    /// Builds a batch of `sentences[i]` for each `i` in `indices` (out-of-range ones skipped).
    pub fn from_indices(sentences: &[Vec<u32>], indices: &[usize]) -> Self {
        let (rows, kept): (Vec<&Vec<u32>>, Vec<usize>) = indices
            .iter()
            .filter_map(|&i| sentences.get(i).map(|s| (s, i)))
            .unzip();
        let src = Padded::new(rows.iter().map(|ids| with_suffix(ids, EOS_ID)));
        Self {
            batch_size: rows.len(),
            src_len: src.len,
            src: src.ids,
            src_pad: src.pad,
            n_src_tokens: src.real,
            indices: kept,
        }
    }
}

/// Splits source sentences into padded batches for translation: sorted by length (so each
/// batch pads little), cut so that `batch_size × src_len <= max_tokens` (at least one sentence
/// per batch). Every batch records the input positions of its rows.
pub fn inference_batches(src_ids: &[Vec<u32>], max_tokens: usize) -> Vec<HostSource> {
    let mut order: Vec<usize> = (0..src_ids.len()).collect();
    order.sort_by_key(|&i| src_ids[i].len());
    let lengths = order.iter().map(|&i| Lengths {
        src: src_ids[i].len() + 1,
        tgt: 0,
    });
    cut_by_budget(lengths, max_tokens)
        .into_iter()
        .map(|range| HostSource::from_indices(src_ids, &order[range]))
        .collect()
}

/// How training batches are formed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatcherConfig {
    /// Token budget per batch: `batch_size × max(src_len, tgt_len) <= max_tokens`, padding
    /// included. A pair longer than the budget gets a batch of its own.
    pub max_tokens: usize,
    /// Shuffle the order of batches (and of equal-length pairs) every epoch.
    pub shuffle: bool,
    /// Seed of the shuffle; with the epoch number it fixes the epoch's batch order.
    pub seed: u64,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            max_tokens: 4096,
            shuffle: true,
            seed: 0,
        }
    }
}

/// Forms training batches from an encoded corpus, epoch by epoch.
///
/// Pairs are sorted by (source length, target length) and cut into batches within the token
/// budget; ties are broken randomly per epoch so that equal-length pairs meet different
/// neighbours. The batch boundaries depend only on the lengths, so every epoch has the same
/// [`Batcher::num_batches`]. With `shuffle`, the order of batches is permuted by a generator
/// seeded from `(seed, epoch)`; without it, epochs are identical and go from short to long.
#[derive(Clone, Debug)]
pub struct Batcher {
    pairs: Vec<EncodedPair>,
    cfg: BatcherConfig,
    /// Corpus indices sorted by (src length, tgt length, index).
    sorted: Vec<usize>,
    /// Ranges of `sorted` holding pairs of identical lengths (shuffled per epoch).
    ties: Vec<std::ops::Range<usize>>,
    /// Ranges of `sorted` forming one batch each.
    batches: Vec<std::ops::Range<usize>>,
}

impl Batcher {
    /// Prepares the batches of `pairs`. Fails when there are no pairs or `max_tokens` is 0.
    pub fn new(pairs: Vec<EncodedPair>, cfg: BatcherConfig) -> Result<Self, DataError> {
        if cfg.max_tokens == 0 {
            return Err(DataError::invalid_config(
                "max_tokens",
                "must be at least 1",
            ));
        }
        if pairs.is_empty() {
            return Err(DataError::EmptyCorpus {
                origin: "the corpus given to the batcher".to_string(),
            });
        }
        let mut sorted: Vec<usize> = (0..pairs.len()).collect();
        sorted.sort_by_key(|&i| lengths_of(&pairs[i]));
        let ties = tie_groups(&pairs, &sorted);
        let batches = cut_by_budget(
            sorted.iter().map(|&i| lengths_of(&pairs[i])),
            cfg.max_tokens,
        );
        Ok(Self {
            pairs,
            cfg,
            sorted,
            ties,
            batches,
        })
    }

    /// The encoded corpus.
    pub fn pairs(&self) -> &[EncodedPair] {
        &self.pairs
    }

    /// The configuration in use.
    pub fn config(&self) -> &BatcherConfig {
        &self.cfg
    }

    /// Number of batches in every epoch.
    pub fn num_batches(&self) -> usize {
        self.batches.len()
    }

    /// Real source tokens in the corpus (EOS included).
    pub fn total_src_tokens(&self) -> usize {
        self.pairs.iter().map(EncodedPair::src_len).sum()
    }

    /// Real target tokens in the corpus (EOS included): the predictions made per epoch.
    pub fn total_tgt_tokens(&self) -> usize {
        self.pairs.iter().map(EncodedPair::tgt_len).sum()
    }

    /// The corpus indices of each batch of `epoch`, in the order they are served.
    pub fn epoch_plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut order = self.sorted.clone();
        if self.cfg.shuffle {
            let mut rng = SplitMix64::for_epoch(self.cfg.seed, epoch);
            for range in &self.ties {
                rng.shuffle(&mut order[range.clone()]);
            }
            let mut plan = self.cut(&order);
            rng.shuffle(&mut plan);
            plan
        } else {
            self.cut(&order)
        }
    }

    /// The batches of `epoch`, built lazily. Skipping (`nth`, `skip`) builds nothing, so a
    /// resumed run can jump to the batch it stopped at cheaply.
    pub fn epoch_batches(&self, epoch: u64) -> EpochBatches<'_> {
        EpochBatches {
            batcher: self,
            plan: self.epoch_plan(epoch).into_iter(),
        }
    }

    fn cut(&self, order: &[usize]) -> Vec<Vec<usize>> {
        self.batches
            .iter()
            .map(|r| order[r.clone()].to_vec())
            .collect()
    }
}

/// The batches of one epoch, in order; see [`Batcher::epoch_batches`].
#[derive(Debug)]
pub struct EpochBatches<'a> {
    batcher: &'a Batcher,
    plan: std::vec::IntoIter<Vec<usize>>,
}

impl Iterator for EpochBatches<'_> {
    type Item = HostBatch;

    fn next(&mut self) -> Option<HostBatch> {
        let indices = self.plan.next()?;
        Some(HostBatch::from_indices(&self.batcher.pairs, &indices))
    }

    fn nth(&mut self, n: usize) -> Option<HostBatch> {
        let indices = self.plan.nth(n)?;
        Some(HostBatch::from_indices(&self.batcher.pairs, &indices))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.plan.size_hint()
    }
}

impl ExactSizeIterator for EpochBatches<'_> {}

/// Padded lengths of a pair (source and target, specials included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Lengths {
    src: usize,
    tgt: usize,
}

fn lengths_of(pair: &EncodedPair) -> Lengths {
    Lengths {
        src: pair.src_len(),
        tgt: pair.tgt_len(),
    }
}

/// Ranges of `sorted` whose pairs have identical lengths (only those with 2+ members).
fn tie_groups(pairs: &[EncodedPair], sorted: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for end in 1..=sorted.len() {
        let boundary = end == sorted.len()
            || lengths_of(&pairs[sorted[end]]) != lengths_of(&pairs[sorted[start]]);
        if boundary {
            if end - start > 1 {
                groups.push(start..end);
            }
            start = end;
        }
    }
    groups
}

/// Greedily cuts a sequence of lengths into consecutive ranges whose cost
/// `count × max(longest src, longest tgt)` stays within `max_tokens` (one item at least).
fn cut_by_budget(
    lengths: impl Iterator<Item = Lengths>,
    max_tokens: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut longest = 0;
    let mut end = 0;
    for (i, len) in lengths.enumerate() {
        let candidate = longest.max(len.src).max(len.tgt);
        if i > start && (i - start + 1) * candidate > max_tokens {
            ranges.push(start..i);
            start = i;
            longest = len.src.max(len.tgt);
        } else {
            longest = candidate;
        }
        end = i + 1;
    }
    if end > start {
        ranges.push(start..end);
    }
    ranges
}

/// Rows padded to a common length.
struct Padded {
    len: usize,
    ids: Vec<i64>,
    pad: Vec<bool>,
    real: usize,
}

impl Padded {
    fn new(rows: impl Iterator<Item = Vec<u32>>) -> Self {
        let rows: Vec<Vec<u32>> = rows.collect();
        let len = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(rows.len() * len);
        let mut pad = Vec::with_capacity(rows.len() * len);
        for row in &rows {
            ids.extend(row.iter().map(|&id| i64::from(id)));
            ids.extend(std::iter::repeat_n(i64::from(PAD_ID), len - row.len()));
            pad.extend(std::iter::repeat_n(false, row.len()));
            pad.extend(std::iter::repeat_n(true, len - row.len()));
        }
        let real = rows.iter().map(Vec::len).sum();
        Self {
            len,
            ids,
            pad,
            real,
        }
    }
}

fn with_suffix(ids: &[u32], last: u32) -> Vec<u32> {
    let mut row = Vec::with_capacity(ids.len() + 1);
    row.extend_from_slice(ids);
    row.push(last);
    row
}

fn with_prefix(first: u32, ids: &[u32]) -> Vec<u32> {
    let mut row = Vec::with_capacity(ids.len() + 1);
    row.push(first);
    row.extend_from_slice(ids);
    row
}

/// SplitMix64: a tiny, fixed pseudo-random generator, so shuffles never change between
/// library versions.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

    /// A generator for one epoch of a run with `seed`.
    fn for_epoch(seed: u64, epoch: u64) -> Self {
        let mut mixer = Self { state: seed };
        let base = mixer.next_u64();
        Self {
            state: base ^ epoch.wrapping_mul(Self::GOLDEN).rotate_left(17),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GOLDEN);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates shuffle.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn pair(src: &[u32], tgt: &[u32]) -> EncodedPair {
        EncodedPair {
            src: src.to_vec(),
            tgt: tgt.to_vec(),
        }
    }

    /// `n` pairs with lengths 1..=60, targets about as long as sources (± 25 %).
    fn random_corpus(n: usize, seed: u64) -> Vec<EncodedPair> {
        let mut rng = SplitMix64 { state: seed };
        (0..n)
            .map(|_| {
                let src_len = 1 + rng.below(60);
                let jitter = rng.below(src_len / 2 + 1);
                let tgt_len = (src_len + jitter).saturating_sub(src_len / 4).max(1);
                let src = (0..src_len).map(|_| 4 + rng.below(100) as u32).collect();
                let tgt = (0..tgt_len).map(|_| 4 + rng.below(100) as u32).collect();
                EncodedPair { src, tgt }
            })
            .collect()
    }

    fn batcher(n: usize, max_tokens: usize, shuffle: bool) -> Batcher {
        let cfg = BatcherConfig {
            max_tokens,
            shuffle,
            seed: 7,
        };
        Batcher::new(random_corpus(n, 42), cfg).unwrap()
    }

    #[test]
    fn shapes_shift_and_masks() {
        let a = pair(&[10, 11, 12], &[20, 21]);
        let b = pair(&[13], &[22, 23, 24, 25]);
        let batch = HostBatch::from_pairs(&[&a, &b]);
        assert_eq!((batch.batch_size, batch.src_len, batch.tgt_len), (2, 4, 5));
        assert_eq!(batch.src, [10, 11, 12, 2, 13, 2, 0, 0]);
        assert_eq!(
            batch.src_pad,
            [false, false, false, false, false, false, true, true]
        );
        assert_eq!(batch.tgt_in, [1, 20, 21, 0, 0, 1, 22, 23, 24, 25]);
        assert_eq!(batch.tgt_out, [20, 21, 2, 0, 0, 22, 23, 24, 25, 2]);
        let expected_pad = [
            false, false, false, true, true, false, false, false, false, false,
        ];
        assert_eq!(batch.tgt_pad, expected_pad);
        assert_eq!((batch.n_src_tokens, batch.n_tgt_tokens), (6, 8));
        assert_eq!(batch.indices, [0, 1]);
        assert_eq!(batch.budget_tokens(), 10);
    }

    #[test]
    fn masks_mark_exactly_the_padding() {
        let b = batcher(500, 700, true);
        for batch in b.epoch_batches(0) {
            for (i, &pad) in batch.src_pad.iter().enumerate() {
                assert_eq!(pad, batch.src[i] == i64::from(PAD_ID));
            }
            for (i, &pad) in batch.tgt_pad.iter().enumerate() {
                assert_eq!(pad, batch.tgt_out[i] == i64::from(PAD_ID));
                assert_eq!(pad, batch.tgt_in[i] == i64::from(PAD_ID));
            }
            let real_src = batch.src_pad.iter().filter(|p| !**p).count();
            assert_eq!(real_src, batch.n_src_tokens);
            let real_tgt = batch.tgt_pad.iter().filter(|p| !**p).count();
            assert_eq!(real_tgt, batch.n_tgt_tokens);
        }
    }

    #[test]
    fn rows_are_the_indexed_pairs_shifted() {
        let b = batcher(300, 500, true);
        for batch in b.epoch_batches(3) {
            for (row, &index) in batch.indices.iter().enumerate() {
                let pair = &b.pairs()[index];
                let t = batch.tgt_len;
                let tgt_in = &batch.tgt_in[row * t..(row + 1) * t];
                let tgt_out = &batch.tgt_out[row * t..(row + 1) * t];
                assert_eq!(tgt_in[0], i64::from(BOS_ID));
                assert_eq!(tgt_out[pair.tgt.len()], i64::from(EOS_ID));
                for (k, &id) in pair.tgt.iter().enumerate() {
                    assert_eq!(tgt_in[k + 1], i64::from(id));
                    assert_eq!(tgt_out[k], i64::from(id));
                }
                let s = batch.src_len;
                assert_eq!(batch.src[row * s + pair.src.len()], i64::from(EOS_ID));
            }
        }
    }

    #[test]
    fn every_pair_once_per_epoch_within_budget() {
        let b = batcher(1000, 600, true);
        for epoch in 0..3 {
            let batches: Vec<HostBatch> = b.epoch_batches(epoch).collect();
            assert_eq!(batches.len(), b.num_batches());
            let mut seen: Vec<usize> = batches.iter().flat_map(|x| x.indices.clone()).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..1000).collect::<Vec<_>>());
            for batch in &batches {
                assert!(batch.budget_tokens() <= 600 || batch.batch_size == 1);
            }
            let src: usize = batches.iter().map(|x| x.n_src_tokens).sum();
            let tgt: usize = batches.iter().map(|x| x.n_tgt_tokens).sum();
            assert_eq!((src, tgt), (b.total_src_tokens(), b.total_tgt_tokens()));
        }
    }

    #[test]
    fn oversized_pair_gets_its_own_batch() {
        let pairs = vec![pair(&[5; 50], &[6; 3]), pair(&[5; 2], &[6; 2])];
        let cfg = BatcherConfig {
            max_tokens: 10,
            ..BatcherConfig::default()
        };
        let b = Batcher::new(pairs, cfg).unwrap();
        assert_eq!(b.num_batches(), 2);
        assert!(b.epoch_batches(0).all(|x| x.batch_size == 1));
    }

    #[test]
    fn order_is_reproducible_per_epoch_and_differs_between_epochs() {
        let b = batcher(1000, 600, true);
        let again = batcher(1000, 600, true);
        assert_eq!(b.epoch_plan(5), again.epoch_plan(5));
        assert_ne!(b.epoch_plan(5), b.epoch_plan(6));
        let other_seed = Batcher::new(
            random_corpus(1000, 42),
            BatcherConfig {
                seed: 8,
                ..b.config().clone()
            },
        )
        .unwrap();
        assert_ne!(b.epoch_plan(5), other_seed.epoch_plan(5));
    }

    #[test]
    fn equal_length_pairs_mix_between_epochs() {
        let pairs: Vec<EncodedPair> = (0..64).map(|i| pair(&[4 + i; 3], &[5; 3])).collect();
        let cfg = BatcherConfig {
            max_tokens: 16,
            ..BatcherConfig::default()
        };
        let b = Batcher::new(pairs, cfg).unwrap();
        let first: Vec<HashSet<usize>> = b
            .epoch_plan(0)
            .into_iter()
            .map(HashSet::from_iter)
            .collect();
        let second: Vec<HashSet<usize>> = b
            .epoch_plan(1)
            .into_iter()
            .map(HashSet::from_iter)
            .collect();
        let same = first.iter().filter(|set| second.contains(set)).count();
        assert!(same < first.len(), "batches never change their members");
    }

    #[test]
    fn without_shuffle_epochs_are_identical_and_sorted() {
        let b = batcher(400, 500, false);
        assert_eq!(b.epoch_plan(0), b.epoch_plan(1));
        let lens: Vec<usize> = b.epoch_batches(0).map(|x| x.src_len).collect();
        assert!(lens.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn skipping_matches_iterating() {
        let b = batcher(500, 600, true);
        let all: Vec<HostBatch> = b.epoch_batches(2).collect();
        let resumed: Vec<HostBatch> = b.epoch_batches(2).skip(3).collect();
        assert_eq!(resumed, all[3..]);
        assert_eq!(b.epoch_batches(2).len(), b.num_batches());
    }

    #[test]
    fn bucketing_keeps_padding_low() {
        let b = batcher(5000, 4096, true);
        let (mut positions, mut real) = (0, 0);
        for batch in b.epoch_batches(0) {
            positions += batch.batch_size * (batch.src_len + batch.tgt_len);
            real += batch.n_src_tokens + batch.n_tgt_tokens;
        }
        let ratio = (positions - real) as f64 / positions as f64;
        assert!(ratio < 0.15, "padding ratio {ratio:.3}");
    }

    #[test]
    fn inference_batches_restore_order() {
        let sentences: Vec<Vec<u32>> = vec![vec![7; 5], vec![8; 1], vec![9; 3], vec![], vec![6; 5]];
        let batches = inference_batches(&sentences, 8);
        let mut seen = Vec::new();
        for batch in &batches {
            assert!(batch.batch_size * batch.src_len <= 8 || batch.batch_size == 1);
            for (row, &index) in batch.indices.iter().enumerate() {
                let s = batch.src_len;
                let row_ids = &batch.src[row * s..row * s + sentences[index].len()];
                assert!(
                    row_ids
                        .iter()
                        .all(|&id| id == i64::from(sentences[index].first().copied().unwrap_or(0)))
                );
                assert_eq!(
                    batch.src[row * s + sentences[index].len()],
                    i64::from(EOS_ID)
                );
                seen.push(index);
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert!(inference_batches(&[], 8).is_empty());
        assert_eq!(inference_batches(&sentences, 0).len(), 5);
    }

    #[test]
    fn invalid_batcher_inputs() {
        let cfg = BatcherConfig {
            max_tokens: 0,
            ..BatcherConfig::default()
        };
        assert!(Batcher::new(vec![pair(&[4], &[5])], cfg).is_err());
        assert!(Batcher::new(Vec::new(), BatcherConfig::default()).is_err());
    }

    #[test]
    fn empty_batch_is_harmless() {
        let batch = HostBatch::from_pairs(&[]);
        assert_eq!((batch.batch_size, batch.src_len, batch.tgt_len), (0, 0, 0));
        assert_eq!(batch.padding_ratio(), 0.0);
    }
}
