//! Batched beam search, written once against [`Seq2Seq`]: the beams of every sentence are
//! folded into the batch dimension, the decoder state is reordered with [`Seq2Seq::select`],
//! finished sentences are pruned from the batch, and hypotheses are ranked with the GNMT
//! length penalty (Wu et al. 2016).

use burn::prelude::*;

use crate::batch::SourceBatch;
use crate::log_probs::log_probs;
use crate::model::Seq2Seq;
use crate::search::{Hypothesis, SearchConfig, to_host_floats, to_host_rows};
use crate::special::{BOS_ID, EOS_ID};

/// A score for beams that do not exist yet (all but the first at step 0).
const DEAD: f32 = -1e30;

/// Beam search settings.
#[derive(Debug, Clone, Copy)]
pub struct BeamConfig {
    /// Beams per sentence.
    pub beam: usize,
    /// Hypotheses returned per sentence (at most `beam`).
    pub nbest: usize,
    /// Length penalty exponent: 0 ranks by total log-probability, larger favours longer
    /// outputs.
    pub alpha: f32,
    /// Length limit and attention keeping.
    pub search: SearchConfig,
}

impl Default for BeamConfig {
    fn default() -> Self {
        Self {
            beam: 5,
            nbest: 1,
            alpha: 0.6,
            search: SearchConfig::default(),
        }
    }
}

/// GNMT length penalty `((5 + len) / 6) ^ alpha`, with `len` counting the EOS when produced.
pub fn length_penalty(len: usize, alpha: f32) -> f32 {
    ((5.0 + len as f32) / 6.0).powf(alpha)
}

/// The score hypotheses are ranked by: log-probability over the length penalty.
pub fn normalized_score(hyp: &Hypothesis, alpha: f32) -> f32 {
    hyp.score / length_penalty(hyp.tokens.len() + usize::from(hyp.finished), alpha)
}

/// One live beam: its tokens so far, score and attention history.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<u32>,
    score: f32,
    attention: Vec<Vec<f32>>,
}

/// What one step decides for one sentence.
struct Expansion {
    /// `(parent row, token, score)` for each beam that goes on.
    next: Vec<(usize, u32, f32)>,
}

/// Beam search over every sentence of `source` at once. Returns, per sentence, up to
/// `nbest` hypotheses, best first.
pub fn beam_search<M: Seq2Seq>(
    model: &M,
    source: &SourceBatch,
    config: &BeamConfig,
) -> Vec<Vec<Hypothesis>> {
    let [batch, src_len] = source.src.dims();
    let device = source.src.device();
    let k = config.beam.max(1);
    let max_len = config.search.max_len(src_len);
    let memory = model.encode(source);
    let state = model.init_state(&memory);
    let rows: Vec<usize> = (0..batch * k).map(|r| r / k).collect();
    let (mut memory, mut state) = model.select(&memory, state, rows_tensor(&rows, &device));
    let mut active: Vec<usize> = (0..batch).collect();
    let mut beams: Vec<Beam> = (0..batch * k)
        .map(|r| Beam {
            tokens: Vec::new(),
            score: if r % k == 0 { 0.0 } else { DEAD },
            attention: Vec::new(),
        })
        .collect();
    let mut finished: Vec<Vec<Hypothesis>> = vec![Vec::new(); batch];
    let mut prev = Tensor::<1, Int>::full([batch * k], BOS_ID as i64, &device);
    for t in 0..max_len {
        let step = model.decode_step(&memory, state, prev);
        state = step.state;
        let attention = step
            .attention
            .filter(|_| config.search.keep_attention)
            .map(to_host_rows);
        let (values, indices, vocab) = top_candidates(step.logits, &beams, active.len(), k);
        let last = t + 1 == max_len;
        let mut next_rows = Vec::new();
        let mut next_beams = Vec::new();
        let mut next_active = Vec::new();
        for (slot, &sentence) in active.iter().enumerate() {
            let cands = (slot * 2 * k..(slot + 1) * 2 * k).map(|j| {
                (
                    slot * k + indices[j] as usize / vocab,
                    indices[j] % vocab as u32,
                    values[j],
                )
            });
            let expansion = expand(
                cands,
                k,
                &beams,
                attention.as_ref(),
                &mut finished[sentence],
            );
            if expansion.next.is_empty()
                || is_done(&finished[sentence], &expansion, k, config.alpha, t + 1)
            {
                continue;
            }
            if last {
                for (parent, token, score) in expansion.next {
                    let beam = extend(&beams[parent], parent, token, score, attention.as_ref());
                    finished[sentence].push(into_hypothesis(beam, false));
                }
                continue;
            }
            next_active.push(sentence);
            let first = next_beams.len();
            for (parent, token, score) in expansion.next {
                next_rows.push(parent);
                next_beams.push(extend(
                    &beams[parent],
                    parent,
                    token,
                    score,
                    attention.as_ref(),
                ));
            }
            // A vocabulary narrower than the beam leaves fewer than `k` live candidates: dead
            // copies fill the sentence's `k` rows, which every step indexes.
            for _ in next_beams.len() - first..k {
                next_rows.push(next_rows[first]);
                let mut dead = next_beams[first].clone();
                dead.score = DEAD;
                next_beams.push(dead);
            }
        }
        if next_active.is_empty() {
            break;
        }
        let rows = rows_tensor(&next_rows, &device);
        (memory, state) = model.select(&memory, state, rows);
        let tokens: Vec<i64> = next_beams
            .iter()
            .map(|b| *b.tokens.last().unwrap() as i64)
            .collect();
        prev = Tensor::from_data(TensorData::new(tokens, [next_beams.len()]), &device);
        active = next_active;
        beams = next_beams;
    }
    finished
        .into_iter()
        .map(|hyps| rank(hyps, config.alpha, config.nbest.clamp(1, k)))
        .collect()
}

/// The `2k` best `(value, flat index over k × vocab)` candidates of every active sentence,
/// best first (ties: the lower index first).
///
/// The log-probabilities are computed on the device and the candidates picked on the host in
/// one pass with a `2k`-slot insertion list: the device `topk` of burn's CPU backends sorts
/// all `k × vocab` scores of every sentence, which took most of beam search's time.
fn top_candidates(
    logits: Tensor<2>,
    beams: &[Beam],
    sentences: usize,
    k: usize,
) -> (Vec<f32>, Vec<u32>, usize) {
    let [_, vocab] = logits.dims();
    let log_probs = to_host_floats(log_probs(logits));
    let width = 2 * k;
    let mut values = Vec::with_capacity(sentences * width);
    let mut indices = Vec::with_capacity(sentences * width);
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(width + 1);
    for sentence in 0..sentences {
        best.clear();
        for beam in 0..k {
            let row = sentence * k + beam;
            let base = beams[row].score;
            let scores = &log_probs[row * vocab..(row + 1) * vocab];
            for (token, &lp) in scores.iter().enumerate() {
                let value = lp + base;
                // Later candidates lose ties, so only a strictly greater value gets in.
                if best.len() == width && value.total_cmp(&best[width - 1].0).is_le() {
                    continue;
                }
                let at = best.partition_point(|&(v, _)| v.total_cmp(&value).is_ge());
                best.insert(at, (value, (beam * vocab + token) as u32));
                best.truncate(width);
            }
        }
        values.extend(best.iter().map(|&(v, _)| v));
        indices.extend(best.iter().map(|&(_, i)| i));
        // Tiny vocabularies: pad to 2k candidates with dead ones.
        for _ in best.len()..width {
            values.push(DEAD);
            indices.push(0);
        }
    }
    (values, indices, vocab)
}

/// A sentence is done once it has `k` finished hypotheses and the best of them ranks above
/// every live beam (whose log-probability can only fall). fairseq stops at `k` finished
/// hypotheses alone, which lets improbable beams that end early cut the search short.
fn is_done(
    finished: &[Hypothesis],
    expansion: &Expansion,
    k: usize,
    alpha: f32,
    len: usize,
) -> bool {
    if finished.len() < k {
        return false;
    }
    let best_finished = finished
        .iter()
        .map(|h| normalized_score(h, alpha))
        .fold(f32::NEG_INFINITY, f32::max);
    let best_live = expansion
        .next
        .iter()
        .map(|&(_, _, score)| score / length_penalty(len, alpha))
        .fold(f32::NEG_INFINITY, f32::max);
    best_finished >= best_live
}

/// Sorts one sentence's candidates into finished hypotheses (EOS among the top `k`, as
/// fairseq) and the `k` beams that go on.
fn expand(
    candidates: impl Iterator<Item = (usize, u32, f32)>,
    k: usize,
    beams: &[Beam],
    attention: Option<&Vec<Vec<f32>>>,
    finished: &mut Vec<Hypothesis>,
) -> Expansion {
    let mut next = Vec::with_capacity(k);
    for (rank, (parent, token, score)) in candidates.enumerate() {
        if score <= DEAD / 2.0 {
            break;
        }
        if token == EOS_ID {
            if rank < k {
                let beam = extend(&beams[parent], parent, EOS_ID, score, attention);
                finished.push(into_hypothesis(beam, true));
            }
        } else if next.len() < k {
            next.push((parent, token, score));
        }
    }
    Expansion { next }
}

fn extend(
    beam: &Beam,
    row: usize,
    token: u32,
    score: f32,
    attention: Option<&Vec<Vec<f32>>>,
) -> Beam {
    let mut next = beam.clone();
    next.tokens.push(token);
    next.score = score;
    if let Some(a) = attention {
        next.attention.push(a[row].clone());
    }
    next
}

fn into_hypothesis(mut beam: Beam, finished: bool) -> Hypothesis {
    if finished {
        beam.tokens.pop();
    }
    let attention = (!beam.attention.is_empty()).then_some(beam.attention);
    Hypothesis {
        tokens: beam.tokens,
        score: beam.score,
        finished,
        attention,
    }
}

fn rank(mut hyps: Vec<Hypothesis>, alpha: f32, nbest: usize) -> Vec<Hypothesis> {
    hyps.sort_by(|a, b| normalized_score(b, alpha).total_cmp(&normalized_score(a, alpha)));
    hyps.truncate(nbest);
    hyps
}

fn rows_tensor(rows: &[usize], device: &Device) -> Tensor<1, Int> {
    let rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    Tensor::from_data(TensorData::new(rows.clone(), [rows.len()]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::TranslationBatch;
    use crate::search::tests::source;
    use crate::search::to_host_ints;
    use std::collections::HashMap;

    type Plan = HashMap<(usize, Vec<u32>), Vec<(u32, f32)>>;

    thread_local! {
        static PLAN: std::cell::RefCell<Plan> = std::cell::RefCell::new(HashMap::new());
    }

    /// A stub whose next-token distribution depends on the sentence and the whole prefix, so
    /// that a wrongly reordered state shows up as a wrong result. Unplanned prefixes end.
    #[derive(Module, Debug)]
    struct Tree {
        vocab: usize,
    }

    #[derive(Debug, Clone)]
    struct Prefixes(Vec<(usize, Vec<u32>)>);

    impl Seq2Seq for Tree {
        type Memory = Vec<usize>;
        type State = Prefixes;

        fn encode(&self, source: &SourceBatch) -> Vec<usize> {
            (0..source.batch_size()).collect()
        }

        fn init_state(&self, memory: &Vec<usize>) -> Prefixes {
            Prefixes(memory.iter().map(|&s| (s, Vec::new())).collect())
        }

        fn decode_step(
            &self,
            _m: &Vec<usize>,
            state: Prefixes,
            prev: Tensor<1, Int>,
        ) -> crate::Step<Prefixes> {
            let device = prev.device();
            let prev = to_host_ints(prev);
            let rows: Vec<(usize, Vec<u32>)> = state
                .0
                .into_iter()
                .zip(prev)
                .map(|((s, mut p), t)| {
                    if t != BOS_ID {
                        p.push(t);
                    }
                    (s, p)
                })
                .collect();
            let mut values = Vec::new();
            PLAN.with(|plan| {
                for key in &rows {
                    let dist = plan
                        .borrow()
                        .get(key)
                        .cloned()
                        .unwrap_or(vec![(EOS_ID, 1.0)]);
                    let rest = (1.0 - dist.iter().map(|d| d.1).sum::<f32>()).max(0.0);
                    let share = (rest / (self.vocab - dist.len()) as f32).max(1e-12);
                    for v in 0..self.vocab as u32 {
                        let p = dist.iter().find(|d| d.0 == v).map_or(share, |d| d.1);
                        values.push(p.ln());
                    }
                }
            });
            crate::Step {
                logits: Tensor::from_data(
                    TensorData::new(values, [rows.len(), self.vocab]),
                    &device,
                ),
                state: Prefixes(rows),
                attention: None,
            }
        }

        fn select(
            &self,
            m: &Vec<usize>,
            s: Prefixes,
            rows: Tensor<1, Int>,
        ) -> (Vec<usize>, Prefixes) {
            let rows = to_host_ints(rows);
            let memory = rows.iter().map(|&r| m[r as usize]).collect();
            let state = Prefixes(rows.iter().map(|&r| s.0[r as usize].clone()).collect());
            (memory, state)
        }

        fn forward(&self, _batch: &TranslationBatch) -> Tensor<3> {
            unreachable!("search tests never train")
        }

        fn tgt_vocab(&self) -> usize {
            self.vocab
        }
    }

    /// `(sentence, prefix, distribution)` rows of a plan.
    type PlanRow<'a> = (usize, &'a [u32], &'a [(u32, f32)]);

    fn plan(entries: &[PlanRow]) {
        PLAN.with(|p| {
            *p.borrow_mut() = entries
                .iter()
                .map(|(s, prefix, dist)| ((*s, prefix.to_vec()), dist.to_vec()))
                .collect()
        });
    }

    fn config(beam: usize, nbest: usize, alpha: f32) -> BeamConfig {
        BeamConfig {
            beam,
            nbest,
            alpha,
            search: SearchConfig::default(),
        }
    }

    /// Greedy takes 4 (0.5) and then a flat 0.3; beam 2 finds 5 (0.4) then 6 (0.9).
    fn garden_path() {
        plan(&[
            (0, &[], &[(4, 0.5), (5, 0.4)]),
            (0, &[4], &[(6, 0.3), (7, 0.3), (8, 0.3)]),
            (0, &[5], &[(6, 0.9)]),
        ]);
    }

    #[test]
    fn beam_finds_what_greedy_misses_with_the_exact_score() {
        garden_path();
        let model = Tree { vocab: 12 };
        let hyps = beam_search(&model, &source(1, 3), &config(2, 1, 0.0));
        assert_eq!(hyps[0][0].tokens, vec![5, 6]);
        assert!(hyps[0][0].finished);
        let expected = 0.4f32.ln() + 0.9f32.ln() + 1.0f32.ln();
        assert!(
            (hyps[0][0].score - expected).abs() < 1e-4,
            "{}",
            hyps[0][0].score
        );
        let greedy = crate::search::greedy_search(&model, &source(1, 3), &SearchConfig::default());
        assert_eq!(greedy[0].tokens[0], 4);
        // Beam 1 is greedy.
        let one = beam_search(&model, &source(1, 3), &config(1, 1, 0.0));
        assert_eq!(one[0][0].tokens, greedy[0].tokens);
        assert!((one[0][0].score - greedy[0].score).abs() < 1e-4);
    }

    #[test]
    fn nbest_lists_are_sorted_and_distinct() {
        garden_path();
        let model = Tree { vocab: 12 };
        let hyps = beam_search(&model, &source(1, 3), &config(3, 3, 0.0));
        assert_eq!(hyps[0].len(), 3);
        assert_eq!(hyps[0][0].tokens, vec![5, 6]);
        for pair in hyps[0].windows(2) {
            assert!(pair[0].score >= pair[1].score);
            assert_ne!(pair[0].tokens, pair[1].tokens);
        }
    }

    #[test]
    fn the_length_penalty_decides_between_short_and_long() {
        // Stop now (0.4), or 4 5 then stop (0.6 · 0.6 · 0.6 = 0.216).
        plan(&[
            (0, &[], &[(EOS_ID, 0.4), (4, 0.6)]),
            (0, &[4], &[(5, 0.6), (6, 0.39)]),
            (0, &[4, 5], &[(EOS_ID, 0.6), (7, 0.39)]),
            (0, &[4, 6], &[(EOS_ID, 0.1), (7, 0.89)]),
        ]);
        let model = Tree { vocab: 12 };
        let short = beam_search(&model, &source(1, 3), &config(2, 1, 0.0));
        assert_eq!(short[0][0].tokens, Vec::<u32>::new());
        let long = beam_search(&model, &source(1, 3), &config(2, 1, 2.0));
        assert_eq!(long[0][0].tokens, vec![4, 5]);
    }

    #[test]
    fn sentences_of_a_batch_are_searched_independently() {
        plan(&[
            (0, &[], &[(4, 0.5), (5, 0.4)]),
            (0, &[4], &[(6, 0.3), (7, 0.3), (8, 0.3)]),
            (0, &[5], &[(6, 0.9)]),
            (1, &[], &[(9, 0.9)]),
            (1, &[9], &[(9, 0.9)]),
            (1, &[9, 9], &[(10, 0.9)]),
        ]);
        let model = Tree { vocab: 12 };
        let hyps = beam_search(&model, &source(2, 3), &config(2, 1, 0.0));
        assert_eq!(hyps[0][0].tokens, vec![5, 6]);
        assert_eq!(hyps[1][0].tokens, vec![9, 9, 10]);
    }

    #[test]
    fn a_beam_wider_than_the_vocabulary_searches_what_there_is() {
        // Six tokens (four of them specials) and beams of 4, 8 and 64: fewer live candidates
        // than beams at every step.
        plan(&[
            (0, &[], &[(4, 0.6), (5, 0.4)]),
            (0, &[4], &[(5, 0.9)]),
            (0, &[5], &[(4, 0.5), (EOS_ID, 0.5)]),
        ]);
        let model = Tree { vocab: 6 };
        for k in [4, 8, 64] {
            let hyps = beam_search(&model, &source(2, 3), &config(k, k, 0.0));
            for sentence in &hyps {
                assert!(!sentence.is_empty() && sentence.len() <= k);
                for pair in sentence.windows(2) {
                    assert!(pair[0].score >= pair[1].score);
                }
            }
            assert_eq!(hyps[0][0].tokens, vec![4, 5]);
            assert!((hyps[0][0].score - (0.6f32 * 0.9).ln()).abs() < 1e-4);
        }
    }

    #[test]
    fn unfinished_beams_are_returned_at_the_length_limit() {
        plan(&[
            (0, &[], &[(4, 0.9)]),
            (0, &[4], &[(4, 0.9)]),
            (0, &[4, 4], &[(4, 0.9)]),
        ]);
        let model = Tree { vocab: 12 };
        let mut c = config(2, 1, 0.0);
        c.search.max_len_a = 0.0;
        c.search.max_len_b = 2;
        let hyps = beam_search(&model, &source(1, 3), &c);
        assert_eq!(hyps[0][0].tokens, vec![4, 4]);
        assert!(!hyps[0][0].finished);
    }
}
