//! Row shards of a training batch: the pieces that CPU training back-propagates on several
//! threads at once, each trimmed to its own longest rows.

use honyaku_core::shards::row_ranges;

use crate::batcher::HostBatch;

/// The columns of one padded matrix that a range of its rows needs.
struct Columns {
    /// The longest real row of the range.
    len: usize,
    /// Real tokens of the range.
    real: usize,
}

/// Real positions of `rows` in a right-padded `_ × width` mask.
fn columns(pad: &[bool], width: usize, rows: std::ops::Range<usize>) -> Columns {
    let mut out = Columns { len: 0, real: 0 };
    for r in rows {
        let row = &pad[r * width..(r + 1) * width];
        let real = row.iter().filter(|&&p| !p).count();
        out.len = out.len.max(real);
        out.real += real;
    }
    out
}

/// The first `len` columns of `rows` of a row-major `_ × width` matrix.
fn cut<T: Copy>(values: &[T], width: usize, rows: std::ops::Range<usize>, len: usize) -> Vec<T> {
    rows.flat_map(|r| values[r * width..r * width + len].iter().copied())
        .collect()
}

impl HostBatch {
    /// Splits the batch into `parts` batches of consecutive rows (fewer when it has fewer rows;
    /// row counts differ by at most one), each cut to its own longest source and target, so a
    /// shard of short rows carries no padding for the long ones. Every row keeps its ids, masks
    /// and corpus index; the shards' token counts add up to the batch's. Batches are padded on
    /// the right, as [`HostBatch::from_pairs`] builds them.
    pub fn split_rows(&self, parts: usize) -> Vec<HostBatch> {
        if parts <= 1 || self.batch_size <= 1 {
            return vec![self.clone()];
        }
        row_ranges(self.batch_size, parts)
            .into_iter()
            .map(|rows| self.rows(rows))
            .collect()
    }

    /// The batch of `rows`, cut to their longest source and target.
    fn rows(&self, rows: std::ops::Range<usize>) -> HostBatch {
        let src = columns(&self.src_pad, self.src_len, rows.clone());
        let tgt = columns(&self.tgt_pad, self.tgt_len, rows.clone());
        let (sw, tw) = (self.src_len, self.tgt_len);
        HostBatch {
            batch_size: rows.len(),
            src_len: src.len,
            tgt_len: tgt.len,
            src: cut(&self.src, sw, rows.clone(), src.len),
            src_pad: cut(&self.src_pad, sw, rows.clone(), src.len),
            tgt_in: cut(&self.tgt_in, tw, rows.clone(), tgt.len),
            tgt_out: cut(&self.tgt_out, tw, rows.clone(), tgt.len),
            tgt_pad: cut(&self.tgt_pad, tw, rows.clone(), tgt.len),
            n_src_tokens: src.real,
            n_tgt_tokens: tgt.real,
            indices: self.indices[rows].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::batcher::{EncodedPair, HostBatch};

    fn pair(src_len: usize, tgt_len: usize, base: u32) -> EncodedPair {
        EncodedPair {
            src: (0..src_len as u32).map(|i| base + i).collect(),
            tgt: (0..tgt_len as u32).map(|i| base + 50 + i).collect(),
        }
    }

    fn batch(lengths: &[(usize, usize)]) -> (Vec<EncodedPair>, HostBatch) {
        let pairs: Vec<EncodedPair> = lengths
            .iter()
            .enumerate()
            .map(|(i, &(s, t))| pair(s, t, 10 * i as u32 + 4))
            .collect();
        let refs: Vec<&EncodedPair> = pairs.iter().collect();
        let batch = HostBatch::from_pairs(&refs);
        (pairs, batch)
    }

    #[test]
    fn shards_equal_the_batches_of_their_rows() {
        let lengths = [(2, 3), (5, 1), (1, 1), (3, 6), (4, 2)];
        let (pairs, whole) = batch(&lengths);
        let shards = whole.split_rows(2);
        assert_eq!(shards.len(), 2);
        assert_eq!(shards[0].batch_size, 3);
        assert_eq!(shards[1].batch_size, 2);
        let mut start = 0;
        for shard in &shards {
            let rows: Vec<&EncodedPair> = pairs[start..start + shard.batch_size].iter().collect();
            let mut expected = HostBatch::from_pairs(&rows);
            expected.indices = (start..start + shard.batch_size).collect();
            assert_eq!(shard, &expected);
            start += shard.batch_size;
        }
        let tokens = |f: fn(&HostBatch) -> usize| shards.iter().map(f).sum::<usize>();
        assert_eq!(tokens(|b| b.n_src_tokens), whole.n_src_tokens);
        assert_eq!(tokens(|b| b.n_tgt_tokens), whole.n_tgt_tokens);
    }

    #[test]
    fn a_shard_of_short_rows_carries_no_padding_for_the_long_ones() {
        let (_, whole) = batch(&[(1, 1), (1, 2), (9, 7), (8, 7)]);
        let shards = whole.split_rows(2);
        assert_eq!((shards[0].src_len, shards[0].tgt_len), (2, 3));
        assert_eq!((shards[1].src_len, shards[1].tgt_len), (10, 8));
        assert_eq!(shards[0].padding_ratio(), 1.0 / 10.0);
    }

    #[test]
    fn more_parts_than_rows_gives_one_row_each_and_one_part_the_batch() {
        let (_, whole) = batch(&[(2, 2), (3, 1)]);
        assert_eq!(whole.split_rows(5).len(), 2);
        assert_eq!(whole.split_rows(1), vec![whole.clone()]);
        assert_eq!(whole.split_rows(0), vec![whole.clone()]);
        let (_, empty) = batch(&[]);
        assert_eq!(empty.split_rows(3), vec![empty.clone()]);
    }
}
