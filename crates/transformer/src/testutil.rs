//! Test batches and synthetic data. The data crate's batcher is not written yet, so batches are
//! built here with `ids_tensor` / `mask_tensor`, with the same layout it will produce: a source
//! row is `ids + EOS`, a target input `BOS + ids`, a target output `ids + EOS`, all
//! right-padded with `PAD_ID`.

use burn::prelude::*;
use honyaku_core::batch::{ids_tensor, mask_tensor};
use honyaku_core::special::{BOS_ID, EOS_ID, PAD_ID};
use honyaku_core::{SourceBatch, TranslationBatch};
use rand::Rng;

/// One source or target sentence (without specials).
pub type Sentence = Vec<u32>;

/// Rows `prefix? + ids + suffix?`, right-padded to `max + extra` columns; padded positions get
/// `fill` (normally `PAD_ID`) and are marked in the mask.
fn padded(
    rows: &[&Sentence],
    prefix: Option<u32>,
    suffix: Option<u32>,
    extra: usize,
    fill: impl Fn(usize, usize) -> u32,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Bool>) {
    let full: Vec<Vec<u32>> = rows
        .iter()
        .map(|s| {
            prefix
                .into_iter()
                .chain(s.iter().copied())
                .chain(suffix)
                .collect()
        })
        .collect();
    let cols = full.iter().map(Vec::len).max().unwrap_or(0) + extra;
    let mut ids = Vec::with_capacity(rows.len() * cols);
    let mut pad = Vec::with_capacity(rows.len() * cols);
    for (r, row) in full.iter().enumerate() {
        for c in 0..cols {
            ids.push(row.get(c).copied().unwrap_or_else(|| fill(r, c)) as i64);
            pad.push(c >= row.len());
        }
    }
    (
        ids_tensor(ids, rows.len(), cols, device),
        mask_tensor(pad, rows.len(), cols, device),
    )
}

/// A source batch; `extra` padding columns are filled with `fill(row, col)`.
pub fn source_with(
    srcs: &[&Sentence],
    extra: usize,
    fill: impl Fn(usize, usize) -> u32,
    device: &Device,
) -> SourceBatch {
    let (src, src_pad) = padded(srcs, None, Some(EOS_ID), extra, fill, device);
    SourceBatch { src, src_pad }
}

/// A source batch padded with `PAD_ID`.
pub fn source(srcs: &[Sentence], device: &Device) -> SourceBatch {
    let rows: Vec<&Sentence> = srcs.iter().collect();
    source_with(&rows, 0, |_, _| PAD_ID, device)
}

/// A teacher-forced batch with `extra_src` / `extra_tgt` more padding columns than needed;
/// source padding is filled with `src_fill(row, col)`, target padding with `PAD_ID`.
pub fn batch_with(
    pairs: &[(Sentence, Sentence)],
    extra_src: usize,
    extra_tgt: usize,
    src_fill: impl Fn(usize, usize) -> u32,
    device: &Device,
) -> TranslationBatch {
    let srcs: Vec<&Sentence> = pairs.iter().map(|(s, _)| s).collect();
    let tgts: Vec<&Sentence> = pairs.iter().map(|(_, t)| t).collect();
    // `BOS + y` and `y + EOS` have the same length, so one mask serves both.
    let (tgt_in, tgt_pad) = padded(&tgts, Some(BOS_ID), None, extra_tgt, |_, _| PAD_ID, device);
    let (tgt_out, _) = padded(&tgts, None, Some(EOS_ID), extra_tgt, |_, _| PAD_ID, device);
    TranslationBatch {
        source: source_with(&srcs, extra_src, src_fill, device),
        tgt_in,
        tgt_out,
        tgt_pad,
    }
}

/// A teacher-forced batch with minimal `PAD_ID` padding.
pub fn batch(pairs: &[(Sentence, Sentence)], device: &Device) -> TranslationBatch {
    batch_with(pairs, 0, 0, |_, _| PAD_ID, device)
}

/// First id of the ordinary symbols (after the four specials).
pub const FIRST_SYMBOL: u32 = 4;

/// A random sentence of `len` symbols drawn from `symbols` ids starting at [`FIRST_SYMBOL`].
pub fn random_sentence(rng: &mut impl Rng, len: usize, symbols: u32) -> Sentence {
    (0..len)
        .map(|_| FIRST_SYMBOL + rng.random_range(0..symbols))
        .collect()
}

/// Random pairs `(x, f(x))` with lengths in `lens`.
pub fn random_pairs(
    rng: &mut impl Rng,
    n: usize,
    lens: std::ops::RangeInclusive<usize>,
    symbols: u32,
    f: impl Fn(&Sentence) -> Sentence,
) -> Vec<(Sentence, Sentence)> {
    (0..n)
        .map(|_| {
            let len = rng.random_range(lens.clone());
            let x = random_sentence(rng, len, symbols);
            let y = f(&x);
            (x, y)
        })
        .collect()
}
