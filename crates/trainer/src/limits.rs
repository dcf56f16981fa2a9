//! The one rule for long inputs, applied alike to the training, validation and test sets and to
//! everything translated (`translate`, `evaluate --run`, `compare`'s test set, `attention`, a
//! server). A run has one length limit, `data.max_len` (default 100):
//!
//! * **Pairs a run learns from or is validated on** (training and validation sets) are
//!   cleaned alike: a pair with a side over `max_len` word units is dropped and counted in the
//!   cleaning report ("2 over 100 words"); once tokenized, a pair with a side over `max_len`
//!   subword tokens is dropped too (`honyaku_data::length`, in `honyaku_data::prepare`), with a
//!   `warning:` line that counts them.
//! * **Sentences to translate** are never dropped (every input line gets its output line): one
//!   over `max_len` subword tokens is translated from its first `max_len` tokens, with a
//!   `warning:` naming the lines.
//! * **The model must hold the longest sentence this allows**: a Transformer whose position
//!   table is shorter than the longest translation of a `max_len`-token source (the search's
//!   output limit, `1.5 × (max_len + 1) + 10` tokens) is refused when the run starts (and when
//!   a run with such a `config.json` is loaded), not in the middle of it.

use honyaku_core::SearchConfig;

use crate::arch::ModelConfig;

/// Positions a model needs for a run whose sentences have at most `max_len` tokens: the
/// source with its EOS, and the longest output the search produces for it (EOS included).
pub fn positions_needed(max_len: usize) -> f64 {
    let search = SearchConfig::default();
    let src = max_len as f64 + 1.0;
    let out = (search.max_len_a as f64 * src).ceil() + search.max_len_b as f64;
    out.max(src)
}

/// Refuses a model whose position table cannot hold every sentence of `max_len` tokens and
/// its longest translation.
pub fn check_positions(model: &ModelConfig, max_len: usize) -> Result<(), String> {
    let Some(table) = model.max_positions() else {
        return Ok(());
    };
    let needed = positions_needed(max_len);
    if needed <= table as f64 {
        return Ok(());
    }
    // The largest limit that fits (positions_needed grows with the limit).
    let (mut lo, mut hi) = (0usize, max_len);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if positions_needed(mid) <= table as f64 {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Err(format!(
        "the transformer's position table holds {table} positions (model.max_len), but with \
         data.max_len = {max_len} a sentence of {max_len} tokens may need {needed} (its \
         translation may be 1.5 × ({max_len} + 1) + 10 tokens long); raise model.max_len to \
         {needed} or lower data.max_len to {lo}"
    ))
}

/// The warning for `dropped` pairs of `what` ("training", "validation") over the limit.
pub fn dropped_warning(what: &str, dropped: usize, max_len: usize) -> Option<String> {
    (dropped > 0).then(|| {
        format!(
            "warning: {what}: dropped {dropped} pair{} with a side over {max_len} subword \
             tokens (data.max_len)",
            if dropped == 1 { "" } else { "s" }
        )
    })
}

/// Cuts every source over `max_len` tokens to its first `max_len`; returns the 1-based line
/// numbers of the ones cut.
pub fn truncate_sources(sources: &mut [Vec<u32>], max_len: usize) -> Vec<usize> {
    let mut truncated = Vec::new();
    for (i, ids) in sources.iter_mut().enumerate() {
        if ids.len() > max_len {
            ids.truncate(max_len);
            truncated.push(i + 1);
        }
    }
    truncated
}

/// The warning for the lines [`truncate_sources`] cut (the first ten named).
pub fn truncation_warning(lines: &[usize], max_len: usize) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    let shown: Vec<String> = lines.iter().take(10).map(|n| n.to_string()).collect();
    Some(format!(
        "warning: {} input line(s) longer than the run's maximum of {max_len} tokens were \
         translated from their first {max_len} tokens only (line{} {}{}); split long sentences \
         to translate them whole",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if lines.len() > 10 { ", ..." } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use honyaku_core::Preset;

    fn transformer(max_len: usize) -> ModelConfig {
        match ModelConfig::preset(Arch::Transformer, Preset::Tiny, 10, 10) {
            ModelConfig::Transformer(c) => ModelConfig::Transformer(c.with_max_len(max_len)),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_default_limit_fits_the_default_position_table() {
        assert_eq!(positions_needed(100), 162.0);
        assert!(check_positions(&transformer(256), 100).is_ok());
        assert!(check_positions(&transformer(162), 100).is_ok());
        let lstm = ModelConfig::preset(Arch::Lstm, Preset::Tiny, 10, 10);
        assert!(check_positions(&lstm, usize::MAX).is_ok());
    }

    #[test]
    fn a_short_position_table_is_refused_with_the_limits_that_fit() {
        let err = check_positions(&transformer(256), 200).unwrap_err();
        assert!(err.contains("holds 256 positions"), "{err}");
        assert!(err.contains("raise model.max_len to 312"), "{err}");
        assert!(err.ends_with("lower data.max_len to 163"), "{err}");
        assert!(positions_needed(163) <= 256.0 && positions_needed(164) > 256.0);
        let err = check_positions(&transformer(256), usize::MAX).unwrap_err();
        assert!(err.ends_with("lower data.max_len to 163"), "{err}");
    }

    #[test]
    fn long_sources_are_cut_and_dropped_pairs_counted() {
        assert!(
            dropped_warning("validation", 2, 3)
                .unwrap()
                .contains("dropped 2 pairs")
        );
        assert_eq!(dropped_warning("training", 0, 3), None);
        let mut sources = vec![vec![5; 2], vec![5; 9], vec![]];
        assert_eq!(truncate_sources(&mut sources, 3), vec![2]);
        assert_eq!(sources[1].len(), 3);
        assert!(truncation_warning(&[2], 3).unwrap().contains("(line 2)"));
    }
}
