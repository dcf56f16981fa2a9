//! Search, written once against [`Seq2Seq`]: no per-architecture branches.

use burn::prelude::*;

use crate::batch::SourceBatch;
use crate::log_probs::best_tokens;
use crate::model::Seq2Seq;
use crate::special::{BOS_ID, EOS_ID};

/// Search settings shared by greedy and beam search.
#[derive(Debug, Clone, Copy)]
pub struct SearchConfig {
    /// Maximum output length is `max_len_a * src_len + max_len_b` tokens (EOS included).
    pub max_len_a: f32,
    /// See `max_len_a`.
    pub max_len_b: usize,
    /// Keep the attention weights of every generated token (alignments, heatmaps).
    pub keep_attention: bool,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            max_len_a: 1.5,
            max_len_b: 10,
            keep_attention: false,
        }
    }
}

impl SearchConfig {
    /// The output length limit for a padded source length.
    pub fn max_len(&self, src_len: usize) -> usize {
        (self.max_len_a * src_len as f32).ceil() as usize + self.max_len_b
    }
}

/// One output sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Generated ids without BOS and EOS.
    pub tokens: Vec<u32>,
    /// Sum of the log-probabilities of the tokens and of the final EOS (when produced).
    pub score: f32,
    /// Whether the hypothesis ended with EOS (rather than at the length limit).
    pub finished: bool,
    /// Per generated token (EOS included), attention over the padded source positions.
    pub attention: Option<Vec<Vec<f32>>>,
}

/// Batched greedy decoding: every sentence in `source` at once, stopping when all have produced
/// EOS or reached the length limit. Returns one hypothesis per source row, in order.
pub fn greedy_search<M: Seq2Seq>(
    model: &M,
    source: &SourceBatch,
    config: &SearchConfig,
) -> Vec<Hypothesis> {
    let [batch, src_len] = source.src.dims();
    let device = source.src.device();
    let memory = model.encode(source);
    let mut state = model.init_state(&memory);
    let mut prev = Tensor::<1, Int>::full([batch], BOS_ID as i64, &device);
    let mut hyps = vec![empty_hypothesis(config.keep_attention); batch];
    for _ in 0..config.max_len(src_len) {
        let step = model.decode_step(&memory, state, prev);
        state = step.state;
        // Each row's best token and its log-probability, `[batch, 2]`, read in one go.
        let picks = to_host_floats(best_tokens(step.logits));
        let ids: Vec<u32> = picks.iter().step_by(2).map(|id| *id as u32).collect();
        let scores: Vec<f32> = picks.iter().skip(1).step_by(2).copied().collect();
        let next: Vec<i64> = ids.iter().map(|id| i64::from(*id)).collect();
        prev = Tensor::from_data(TensorData::new(next, [batch]), &device);
        let attention = step
            .attention
            .filter(|_| config.keep_attention)
            .map(to_host_rows);
        let mut all_done = true;
        for (row, hyp) in hyps.iter_mut().enumerate() {
            if hyp.finished {
                continue;
            }
            extend(
                hyp,
                ids[row],
                scores[row],
                attention.as_ref().map(|a| &a[row]),
            );
            all_done &= hyp.finished;
        }
        if all_done {
            break;
        }
    }
    hyps
}

fn empty_hypothesis(keep_attention: bool) -> Hypothesis {
    Hypothesis {
        tokens: Vec::new(),
        score: 0.0,
        finished: false,
        attention: keep_attention.then(Vec::new),
    }
}

fn extend(hyp: &mut Hypothesis, id: u32, score: f32, attention: Option<&Vec<f32>>) {
    hyp.score += score;
    if let (Some(all), Some(row)) = (hyp.attention.as_mut(), attention) {
        all.push(row.clone());
    }
    if id == EOS_ID {
        hyp.finished = true;
    } else {
        hyp.tokens.push(id);
    }
}

/// Reads an int tensor back as `u32` ids.
pub fn to_host_ints<const D: usize>(t: Tensor<D, Int>) -> Vec<u32> {
    t.try_into_vec_as::<i64>()
        .expect("reading ids back from the device")
        .into_iter()
        .map(|v| v as u32)
        .collect()
}

/// Reads a float tensor back as `f32` values.
pub fn to_host_floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.try_into_vec_as::<f32>()
        .expect("reading values back from the device")
}

/// Reads a `[rows, cols]` float tensor back as rows.
pub fn to_host_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, cols] = t.dims();
    to_host_floats(t)
        .chunks(cols.max(1))
        .map(<[f32]>::to_vec)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::batch::{TranslationBatch, ids_tensor, mask_tensor};
    use crate::model::Step;
    use crate::special::PAD_ID;

    /// A model whose next-token log-probabilities are hand-set per (sentence, step):
    /// `script[sentence][step]` lists `(token, probability)`; the rest of the mass is spread
    /// over the other tokens. It lets search be checked exactly.
    #[derive(Module, Debug)]
    pub struct Scripted {
        pub vocab: usize,
    }

    pub type Script = Vec<Vec<Vec<(u32, f32)>>>;

    thread_local! {
        pub static SCRIPT: std::cell::RefCell<Script> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Memory: which scripted sentence each row follows. State: the same rows and the step.
    #[derive(Debug, Clone)]
    pub struct Rows(pub Vec<usize>, pub usize);

    impl Scripted {
        fn logits(&self, rows: &[usize], step: usize, device: &Device) -> Tensor<2> {
            let mut values = Vec::with_capacity(rows.len() * self.vocab);
            SCRIPT.with(|s| {
                for &r in rows {
                    let plan = s.borrow()[r]
                        .get(step)
                        .cloned()
                        .unwrap_or(vec![(EOS_ID, 1.0)]);
                    let rest: f32 = 1.0 - plan.iter().map(|p| p.1).sum::<f32>();
                    let others = (self.vocab - plan.len()) as f32;
                    for v in 0..self.vocab as u32 {
                        let p = plan
                            .iter()
                            .find(|(t, _)| *t == v)
                            .map(|p| p.1)
                            .unwrap_or((rest / others).max(1e-9));
                        values.push(p.ln());
                    }
                }
            });
            Tensor::from_data(TensorData::new(values, [rows.len(), self.vocab]), device)
        }
    }

    impl Seq2Seq for Scripted {
        type Memory = Rows;
        type State = Rows;

        fn encode(&self, source: &SourceBatch) -> Rows {
            Rows((0..source.batch_size()).collect(), 0)
        }

        fn init_state(&self, memory: &Rows) -> Rows {
            memory.clone()
        }

        fn decode_step(&self, _memory: &Rows, state: Rows, prev: Tensor<1, Int>) -> Step<Rows> {
            let logits = self.logits(&state.0, state.1, &prev.device());
            Step {
                logits,
                state: Rows(state.0, state.1 + 1),
                attention: None,
            }
        }

        fn select(&self, memory: &Rows, state: Rows, rows: Tensor<1, Int>) -> (Rows, Rows) {
            let rows = to_host_ints(rows);
            let pick = |v: &Rows| Rows(rows.iter().map(|&r| v.0[r as usize]).collect(), v.1);
            (pick(memory), pick(&state))
        }

        fn forward(&self, _batch: &TranslationBatch) -> Tensor<3> {
            unreachable!("search tests never train")
        }

        fn tgt_vocab(&self) -> usize {
            self.vocab
        }
    }

    pub fn source(batch: usize, len: usize) -> SourceBatch {
        let device = Device::flex();
        SourceBatch {
            src: ids_tensor(vec![5; batch * len], batch, len, &device),
            src_pad: mask_tensor(vec![false; batch * len], batch, len, &device),
        }
    }

    #[test]
    fn greedy_follows_the_most_likely_token_and_stops_at_eos() {
        SCRIPT.with(|s| {
            *s.borrow_mut() = vec![
                vec![vec![(7, 0.6)], vec![(8, 0.7)], vec![(EOS_ID, 0.9)]],
                vec![vec![(EOS_ID, 0.8)]],
            ]
        });
        let model = Scripted { vocab: 10 };
        let hyps = greedy_search(&model, &source(2, 3), &SearchConfig::default());
        assert_eq!(hyps[0].tokens, vec![7, 8]);
        assert!(hyps[0].finished);
        let expected = 0.6f32.ln() + 0.7f32.ln() + 0.9f32.ln();
        assert!((hyps[0].score - expected).abs() < 1e-5);
        assert_eq!(hyps[1].tokens, Vec::<u32>::new());
        assert!((hyps[1].score - 0.8f32.ln()).abs() < 1e-5);
        assert_ne!(PAD_ID, EOS_ID);
    }

    #[test]
    fn greedy_stops_at_the_length_limit() {
        SCRIPT.with(|s| *s.borrow_mut() = vec![vec![vec![(9, 0.9)]; 100]]);
        let model = Scripted { vocab: 10 };
        let config = SearchConfig {
            max_len_a: 1.0,
            max_len_b: 2,
            keep_attention: false,
        };
        let hyps = greedy_search(&model, &source(1, 3), &config);
        assert_eq!(hyps[0].tokens, vec![9; 5]);
        assert!(!hyps[0].finished);
    }
}
