//! The token side of the long-input rule (see the trainer's `limits` module): pairs a run
//! learns from or is validated on are dropped when a side has more subword tokens than the
//! run's `max_len`, as cleaning drops them for more word units.

use crate::batcher::EncodedPair;

/// Pairs left after the token limit, and which of the input pairs they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limited {
    /// The pairs with both sides within the limit, in input order.
    pub pairs: Vec<EncodedPair>,
    /// Their indices in the input.
    pub kept: Vec<usize>,
    /// Pairs dropped.
    pub dropped: usize,
}

/// Drops the pairs with a side over `max_len` tokens.
pub fn drop_long_pairs(pairs: Vec<EncodedPair>, max_len: usize) -> Limited {
    let mut out = Limited::default();
    for (i, pair) in pairs.into_iter().enumerate() {
        if pair.src.len() > max_len || pair.tgt.len() > max_len {
            out.dropped += 1;
        } else {
            out.pairs.push(pair);
            out.kept.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_with_a_side_over_the_limit_are_dropped() {
        let pair = |s: usize, t: usize| EncodedPair {
            src: vec![5; s],
            tgt: vec![6; t],
        };
        let limited = drop_long_pairs(vec![pair(3, 3), pair(4, 2), pair(2, 4), pair(1, 1)], 3);
        assert_eq!(limited.kept, vec![0, 3]);
        assert_eq!(limited.dropped, 2);
        assert_eq!(limited.pairs, vec![pair(3, 3), pair(1, 1)]);
    }
}
