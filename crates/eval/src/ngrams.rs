//! N-gram counting over token or character sequences, shared by BLEU and chrF.

use std::collections::HashMap;
use std::hash::Hash;

/// Counts of n-grams, keyed by the slice of items that forms each n-gram.
pub(crate) type NgramCounts<'a, T> = HashMap<&'a [T], u64>;

/// Counts the n-grams of exactly order `n` in `items` (none if `n` is 0 or
/// longer than `items`).
pub(crate) fn count_ngrams<T: Hash + Eq>(items: &[T], n: usize) -> NgramCounts<'_, T> {
    let mut counts = HashMap::new();
    if n > 0 {
        for window in items.windows(n) {
            *counts.entry(window).or_insert(0) += 1;
        }
    }
    counts
}

/// Counts all n-grams of orders `1..=max_order` in one map; an n-gram's order
/// is the length of its key.
pub(crate) fn count_ngrams_up_to<T: Hash + Eq>(
    items: &[T],
    max_order: usize,
) -> NgramCounts<'_, T> {
    let mut counts = HashMap::new();
    for n in 1..=max_order {
        for window in items.windows(n) {
            *counts.entry(window).or_insert(0) += 1;
        }
    }
    counts
}

/// Total number of n-grams in `counts`.
pub(crate) fn total<T>(counts: &NgramCounts<'_, T>) -> u64 {
    counts.values().sum()
}

/// Hypothesis n-gram matches clipped by the reference counts:
/// `sum(min(hyp[g], ref[g]))` over the hypothesis n-grams `g`.
pub(crate) fn clipped_matches<T: Hash + Eq>(
    hyp: &NgramCounts<'_, T>,
    refs: &NgramCounts<'_, T>,
) -> u64 {
    hyp.iter()
        .map(|(gram, &count)| refs.get(gram).map_or(0, |&r| count.min(r)))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_repeated_ngrams() {
        let items = ["a", "b", "a", "b", "a"];
        let bigrams = count_ngrams(&items, 2);
        assert_eq!(bigrams[&["a", "b"][..]], 2);
        assert_eq!(bigrams[&["b", "a"][..]], 2);
        assert_eq!(total(&bigrams), 4);
        assert!(count_ngrams(&items, 6).is_empty());
        assert!(count_ngrams(&items, 0).is_empty());
    }

    #[test]
    fn up_to_counts_every_order() {
        let items = ['x', 'y', 'z'];
        let all = count_ngrams_up_to(&items, 4);
        // 3 unigrams + 2 bigrams + 1 trigram; no 4-grams
        assert_eq!(total(&all), 6);
        assert_eq!(all[&['x', 'y', 'z'][..]], 1);
    }

    #[test]
    fn clipping_uses_the_smaller_count() {
        let hyp_items = ["the", "the", "the", "cat"];
        let ref_items = ["the", "cat", "the"];
        let hyp = count_ngrams(&hyp_items, 1);
        let reference = count_ngrams(&ref_items, 1);
        // "the": min(3, 2) = 2, "cat": min(1, 1) = 1
        assert_eq!(clipped_matches(&hyp, &reference), 3);
    }
}
