//! Synthetic translation tasks on random symbol sequences: what every architecture must learn.

use std::collections::HashSet;
use std::ops::RangeInclusive;

use honyaku_data::batcher::EncodedPair;
use rand::Rng;

use crate::batches::FIRST_SYMBOL;

/// How a target is made from its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// The target is the source.
    Copy,
    /// The target is the source backwards.
    Reverse,
}

impl Task {
    /// The target of `src`.
    pub fn target(self, src: &[u32]) -> Vec<u32> {
        match self {
            Self::Copy => src.to_vec(),
            Self::Reverse => src.iter().rev().copied().collect(),
        }
    }
}

/// Random sequences of symbols `FIRST_SYMBOL..vocab` with lengths drawn from `lens`.
#[derive(Debug, Clone)]
pub struct Sampler {
    /// The task.
    pub task: Task,
    /// Source lengths (symbols, EOS excluded).
    pub lens: RangeInclusive<usize>,
    /// Vocabulary size: the four special ids and `vocab - 4` symbols.
    pub vocab: usize,
}

impl Sampler {
    /// One random source of length `len` and its target.
    pub fn pair_of_len(&self, rng: &mut impl Rng, len: usize) -> EncodedPair {
        let src: Vec<u32> = (0..len)
            .map(|_| rng.random_range(FIRST_SYMBOL..self.vocab as u32))
            .collect();
        EncodedPair {
            tgt: self.task.target(&src),
            src,
        }
    }

    /// One random pair.
    pub fn pair(&self, rng: &mut impl Rng) -> EncodedPair {
        let len = rng.random_range(self.lens.clone());
        self.pair_of_len(rng, len)
    }

    /// `n` random pairs.
    pub fn pairs(&self, rng: &mut impl Rng, n: usize) -> Vec<EncodedPair> {
        (0..n).map(|_| self.pair(rng)).collect()
    }

    /// `n` random pairs whose sources are not in `held_out`; with `same_length`, all of one
    /// length drawn from `lens` (a length bucket, as the batcher's sorting gives).
    pub fn fresh_pairs(
        &self,
        rng: &mut impl Rng,
        n: usize,
        same_length: bool,
        held_out: &HashSet<Vec<u32>>,
    ) -> Vec<EncodedPair> {
        let len = rng.random_range(self.lens.clone());
        let mut pairs = Vec::with_capacity(n);
        while pairs.len() < n {
            let pair = if same_length {
                self.pair_of_len(rng, len)
            } else {
                self.pair(rng)
            };
            if !held_out.contains(&pair.src) {
                pairs.push(pair);
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn pairs_follow_the_task_and_avoid_held_out_sources() {
        let sampler = Sampler {
            task: Task::Reverse,
            lens: 1..=2,
            vocab: 6,
        };
        let mut rng = StdRng::seed_from_u64(1);
        let held_out: HashSet<Vec<u32>> = [vec![4], vec![5]].into_iter().collect();
        let pairs = sampler.fresh_pairs(&mut rng, 50, false, &held_out);
        assert_eq!(pairs.len(), 50);
        for p in &pairs {
            assert_eq!(p.src.len(), 2, "length-1 sources are all held out");
            assert!(p.src.iter().all(|&s| (4..6).contains(&s)));
            assert_eq!(p.tgt, vec![p.src[1], p.src[0]]);
        }
        let bucket = sampler.fresh_pairs(&mut rng, 20, true, &HashSet::new());
        assert!(bucket.iter().all(|p| p.src.len() == bucket[0].src.len()));
        assert_eq!(Task::Copy.target(&[4, 5]), vec![4, 5]);
    }
}
