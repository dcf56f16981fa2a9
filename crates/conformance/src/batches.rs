//! The one builder of test batches: sentence pairs through the data crate's batcher (the
//! layout training uses: source `ids + EOS`, target in `BOS + ids`, target out `ids + EOS`,
//! right-padded with `PAD_ID`), optionally widened with extra padding columns whose ids are
//! arbitrary, to show that padding never changes real outputs.

use burn::prelude::*;
use honyaku_core::batch::{ids_tensor, mask_tensor};
use honyaku_core::special::PAD_ID;
use honyaku_core::{SourceBatch, TranslationBatch};
use honyaku_data::batcher::{EncodedPair, HostBatch, HostSource};

/// First id of the ordinary symbols (after the four special ids).
pub const FIRST_SYMBOL: u32 = 4;

/// Extra padding beyond what the longest row needs, and the ids that padded cells hold.
#[derive(Debug, Clone, Copy)]
pub struct Padding {
    /// More source columns than the longest `src + EOS`.
    pub extra_src: usize,
    /// More target columns than the longest `tgt + 1`.
    pub extra_tgt: usize,
    /// The id of the padded cell `(row, col)` of the source and the decoder input (the labels
    /// keep `PAD_ID`). Still marked as padding in the masks.
    pub fill: fn(usize, usize) -> u32,
}

impl Padding {
    /// Real-looking symbol ids in every padded cell, and `extra` more columns on both sides.
    pub fn junk(extra: usize) -> Self {
        Self {
            extra_src: extra,
            extra_tgt: extra,
            fill: |row, col| FIRST_SYMBOL + ((3 * row + col) % 7) as u32,
        }
    }
}

/// A teacher-forced batch of `pairs` with minimal `PAD_ID` padding, exactly as training builds
/// it.
pub fn batch(pairs: &[EncodedPair], device: &Device) -> TranslationBatch {
    let refs: Vec<&EncodedPair> = pairs.iter().collect();
    HostBatch::from_pairs(&refs).to_batch(device)
}

/// A teacher-forced batch of `pairs` with the extra, filled padding of `padding`.
pub fn padded_batch(pairs: &[EncodedPair], padding: Padding, device: &Device) -> TranslationBatch {
    let refs: Vec<&EncodedPair> = pairs.iter().collect();
    let host = HostBatch::from_pairs(&refs);
    let rows = host.batch_size;
    let src = Widened::new(&host.src, &host.src_pad, host.src_len, padding.extra_src);
    let tgt_in = Widened::new(&host.tgt_in, &host.tgt_pad, host.tgt_len, padding.extra_tgt);
    let tgt_out = Widened::new(
        &host.tgt_out,
        &host.tgt_pad,
        host.tgt_len,
        padding.extra_tgt,
    );
    let (src, tgt_in) = (src.filled(padding.fill), tgt_in.filled(padding.fill));
    TranslationBatch {
        source: SourceBatch {
            src: ids_tensor(src.ids, rows, src.cols, device),
            src_pad: mask_tensor(src.pad, rows, src.cols, device),
        },
        tgt_in: ids_tensor(tgt_in.ids, rows, tgt_in.cols, device),
        tgt_out: ids_tensor(tgt_out.ids, rows, tgt_out.cols, device),
        tgt_pad: mask_tensor(tgt_out.pad, rows, tgt_out.cols, device),
    }
}

/// A source batch of `sentences` (each `ids + EOS`), as translation builds it.
pub fn source(sentences: &[Vec<u32>], device: &Device) -> SourceBatch {
    let indices: Vec<usize> = (0..sentences.len()).collect();
    HostSource::from_indices(sentences, &indices).to_source(device)
}

/// The targets of `pairs`, for exact-match scoring.
pub fn targets(pairs: &[EncodedPair]) -> Vec<Vec<u32>> {
    pairs.iter().map(|p| p.tgt.clone()).collect()
}

/// The sources of `pairs`.
pub fn sources(pairs: &[EncodedPair]) -> Vec<Vec<u32>> {
    pairs.iter().map(|p| p.src.clone()).collect()
}

/// A row-major id matrix with its padding flags, widened by extra padded columns.
struct Widened {
    ids: Vec<i64>,
    pad: Vec<bool>,
    cols: usize,
}

impl Widened {
    fn new(ids: &[i64], pad: &[bool], cols: usize, extra: usize) -> Self {
        let width = cols + extra;
        let rows = ids.len().checked_div(cols).unwrap_or(0);
        let mut out = Self {
            ids: Vec::with_capacity(rows * width),
            pad: Vec::with_capacity(rows * width),
            cols: width,
        };
        for r in 0..rows {
            out.ids.extend_from_slice(&ids[r * cols..(r + 1) * cols]);
            out.ids
                .extend(std::iter::repeat_n(i64::from(PAD_ID), extra));
            out.pad.extend_from_slice(&pad[r * cols..(r + 1) * cols]);
            out.pad.extend(std::iter::repeat_n(true, extra));
        }
        out
    }

    /// Every padded cell `(row, col)` holds `fill(row, col)`.
    fn filled(mut self, fill: fn(usize, usize) -> u32) -> Self {
        for (i, (id, &pad)) in self.ids.iter_mut().zip(&self.pad).enumerate() {
            if pad {
                *id = i64::from(fill(i / self.cols, i % self.cols));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> Vec<EncodedPair> {
        vec![
            EncodedPair {
                src: vec![5, 6, 7],
                tgt: vec![8],
            },
            EncodedPair {
                src: vec![9],
                tgt: vec![10, 11],
            },
        ]
    }

    fn ids(t: Tensor<2, Int>) -> Vec<i64> {
        t.try_into_vec_as::<i64>().unwrap()
    }

    fn flags(t: Tensor<2, Bool>) -> Vec<bool> {
        t.into_data().try_to_vec().unwrap()
    }

    #[test]
    fn batches_have_the_training_layout() {
        let b = batch(&pairs(), &Device::flex());
        assert_eq!(ids(b.source.src), vec![5, 6, 7, 2, 9, 2, 0, 0]);
        assert_eq!(ids(b.tgt_in), vec![1, 8, 0, 1, 10, 11]);
        assert_eq!(ids(b.tgt_out), vec![8, 2, 0, 10, 11, 2]);
        assert_eq!(
            flags(b.tgt_pad),
            vec![false, false, true, false, false, false]
        );
    }

    #[test]
    fn extra_padding_is_filled_and_masked() {
        let padding = Padding {
            extra_src: 1,
            extra_tgt: 1,
            fill: |row, col| 10 * row as u32 + col as u32,
        };
        let b = padded_batch(&pairs(), padding, &Device::flex());
        assert_eq!(ids(b.source.src), vec![5, 6, 7, 2, 4, 9, 2, 12, 13, 14]);
        let src_pad = flags(b.source.src_pad);
        assert_eq!(src_pad.iter().filter(|&&p| p).count(), 4);
        assert_eq!(ids(b.tgt_in), vec![1, 8, 2, 3, 1, 10, 11, 13]);
        assert_eq!(ids(b.tgt_out), vec![8, 2, 0, 0, 10, 11, 2, 0]);
        let tgt_pad = flags(b.tgt_pad);
        assert_eq!(
            tgt_pad,
            vec![false, false, true, true, false, false, false, true]
        );
    }

    #[test]
    fn sources_end_in_eos_and_pad() {
        let s = source(&[vec![5], vec![6, 7]], &Device::flex());
        assert_eq!(ids(s.src), vec![5, 2, 0, 6, 7, 2]);
        assert_eq!(
            flags(s.src_pad),
            vec![false, false, true, false, false, false]
        );
    }
}
