//! Range checks of command-line values, run by clap while it parses the arguments: a value out
//! of range is refused before anything is read or written, with clap's usual
//! `error: invalid value '0' for '--beam <BEAM>': …` line (exit status 2). Each parser is one
//! option's rule; the table in docs/ERRORS.md lists them all. What can only be checked once a
//! run is loaded (a beam wider than the run's vocabulary) is checked by the command.

/// The widest beam any command accepts (and no wider than the run's target vocabulary).
pub const MAX_BEAM: usize = 1024;
/// Largest token budget of a batch.
pub const MAX_TOKENS: usize = 1 << 24;
/// Largest subword vocabulary.
pub const MAX_VOCAB: usize = 1_000_000;
/// Most devices of data-parallel training.
pub const MAX_DEVICES: usize = 256;
/// Most row shards of a CPU training batch.
pub const MAX_CPU_SHARDS: usize = 256;
/// Most batches accumulated into one update.
pub const MAX_ACCUM: usize = 65_536;
/// Most epochs.
pub const MAX_EPOCHS: usize = 1_000_000;
/// Most updates.
pub const MAX_STEPS: usize = 1_000_000_000;
/// Most minutes of a time budget (about 19 years).
pub const MAX_MINUTES: f64 = 1e7;
/// Most pairs a synthetic corpus may have.
pub const MAX_PAIRS: usize = 100_000_000;
/// Longest synthetic sentence, in words.
pub const MAX_SYNTH_LEN: usize = 10_000;
/// Largest sentence length or batch dimension of `bench`.
pub const MAX_BENCH_DIM: usize = 65_536;
/// Largest column number of a TSV file.
pub const MAX_COLUMN: usize = 1_000;

/// A whole number in `min..=max`.
fn whole(s: &str, min: usize, max: usize) -> Result<usize, String> {
    let range = if max == usize::MAX {
        format!("of at least {min}")
    } else {
        format!("from {min} to {max}")
    };
    let value: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a whole number {range}"))?;
    if !(min..=max).contains(&value) {
        return Err(match max {
            usize::MAX => format!("must be at least {min}"),
            _ => format!("must be from {min} to {max}"),
        });
    }
    Ok(value)
}

/// A finite number, with a message naming what it must be.
fn number(s: &str, what: &str) -> Result<f64, String> {
    let value: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a number {what}"))?;
    if !value.is_finite() {
        return Err(format!("must be a finite number {what}"));
    }
    Ok(value)
}

/// A whole number of at least 1 (sizes, counts, intervals).
pub fn positive(s: &str) -> Result<usize, String> {
    whole(s, 1, usize::MAX)
}

/// A whole number of 0 or more, up to `u32::MAX` (warm-up updates, checkpoints to keep).
pub fn count(s: &str) -> Result<usize, String> {
    whole(s, 0, u32::MAX as usize)
}

/// `--beam`: 1 (greedy) to [`MAX_BEAM`].
pub fn beam(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_BEAM).map_err(|e| format!("{e} (1 = greedy search)"))
}

/// `--nbest`: 1 to [`MAX_BEAM`] (and at most `--beam`, checked by the command).
pub fn nbest(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_BEAM)
}

/// `--max-tokens`: 1 to [`MAX_TOKENS`].
pub fn max_tokens(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_TOKENS)
}

/// `--vocab-size`: the tokenizer's smallest (its special tokens and one more) to
/// [`MAX_VOCAB`].
pub fn vocab_size(s: &str) -> Result<usize, String> {
    whole(s, honyaku_data::tokenizer::MIN_VOCAB_SIZE, MAX_VOCAB)
}

/// `--epochs`: 1 to [`MAX_EPOCHS`].
pub fn epochs(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_EPOCHS)
}

/// `--max-steps`, `--steps`: 1 to [`MAX_STEPS`].
pub fn steps(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_STEPS)
}

/// `--devices`: 1 to [`MAX_DEVICES`].
pub fn devices(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_DEVICES)
}

/// `--cpu-shards`: 0 (one per core) to [`MAX_CPU_SHARDS`].
pub fn cpu_shards(s: &str) -> Result<usize, String> {
    whole(s, 0, MAX_CPU_SHARDS)
}

/// `--accum`: 1 to [`MAX_ACCUM`].
pub fn accum(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_ACCUM)
}

/// `--src-col`, `--tgt-col`: 1-based, up to [`MAX_COLUMN`].
pub fn column(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_COLUMN).map_err(|e| format!("{e} (columns count from 1)"))
}

/// `--pairs`: 1 to [`MAX_PAIRS`].
pub fn pairs(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_PAIRS)
}

/// `synth --min-len`, `--max-len`: 1 to [`MAX_SYNTH_LEN`] words.
pub fn synth_len(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_SYNTH_LEN)
}

/// `demo --max-len`: 3 (the demo's shortest sentence) to [`MAX_SYNTH_LEN`] words.
pub fn demo_len(s: &str) -> Result<usize, String> {
    whole(s, 3, MAX_SYNTH_LEN)
}

/// `bench --batch`, `--decode-len`: 1 to [`MAX_BENCH_DIM`].
pub fn bench_dim(s: &str) -> Result<usize, String> {
    whole(s, 1, MAX_BENCH_DIM)
}

/// `bench --src-len`, `--tgt-len`: 2 (a token and EOS or BOS) to [`MAX_BENCH_DIM`].
pub fn bench_len(s: &str) -> Result<usize, String> {
    whole(s, 2, MAX_BENCH_DIM).map_err(|e| format!("{e} (the special tokens included)"))
}

/// `bench --vocab`: the smallest vocabulary (special tokens and one more) to [`MAX_VOCAB`].
pub fn bench_vocab(s: &str) -> Result<usize, String> {
    whole(s, honyaku_data::tokenizer::MIN_VOCAB_SIZE, MAX_VOCAB)
}

/// `--lr`: a finite number above 0.
pub fn learning_rate(s: &str) -> Result<f64, String> {
    positive_number(s)
}

/// `--adam-eps` (and `--lr`): a finite number above 0.
pub fn positive_number(s: &str) -> Result<f64, String> {
    let value = number(s, "above 0")?;
    if value <= 0.0 {
        return Err("must be above 0".into());
    }
    Ok(value)
}

/// `--label-smoothing`: a probability in [0, 1).
pub fn probability(s: &str) -> Result<f64, String> {
    let value = number(s, "in [0, 1)")?;
    if !(0.0..1.0).contains(&value) {
        return Err("must be in [0, 1): at least 0 and below 1".into());
    }
    Ok(value)
}

/// `--plateau-factor`: strictly between 0 and 1.
pub fn factor(s: &str) -> Result<f64, String> {
    let value = number(s, "between 0 and 1")?;
    if !(value > 0.0 && value < 1.0) {
        return Err("must be between 0 and 1 (both excluded)".into());
    }
    Ok(value)
}

/// `--weight-decay`: a finite number of 0 or more.
pub fn non_negative(s: &str) -> Result<f64, String> {
    let value = number(s, "of 0 or more")?;
    if value < 0.0 {
        return Err("must be 0 or more".into());
    }
    Ok(value)
}

/// `--clip-norm`: a finite number of 0 (no clipping) or more.
pub fn clip_norm(s: &str) -> Result<f32, String> {
    let value = number(s, "of 0 or more")?;
    if value < 0.0 || value > f32::MAX as f64 {
        return Err("must be 0 (no clipping) or more".into());
    }
    Ok(value as f32)
}

/// `--alpha` (length penalty): a finite number from 0 to 10.
pub fn alpha(s: &str) -> Result<f32, String> {
    let value = number(s, "from 0 to 10")?;
    if !(0.0..=10.0).contains(&value) {
        return Err("must be from 0 to 10 (0 ranks by log-probability)".into());
    }
    Ok(value as f32)
}

/// `--max-minutes`, `--budget-minutes`, `--minutes-per-arch`: above 0, at most
/// [`MAX_MINUTES`].
pub fn minutes(s: &str) -> Result<f64, String> {
    let value = number(s, "of minutes above 0")?;
    if !(value > 0.0 && value <= MAX_MINUTES) {
        return Err(format!("must be above 0 and at most {MAX_MINUTES}"));
    }
    Ok(value)
}

/// `study --budget-hours`: above 0, at most [`MAX_MINUTES`] / 60.
pub fn hours(s: &str) -> Result<f64, String> {
    let value = number(s, "of hours above 0")?;
    if !(value > 0.0 && value <= MAX_MINUTES / 60.0) {
        return Err(format!(
            "must be above 0 and at most {}",
            MAX_MINUTES / 60.0
        ));
    }
    Ok(value)
}

/// `study --seeds`: 2 (a spread needs two) to 100.
pub fn seeds(s: &str) -> Result<usize, String> {
    whole(s, 2, 100).map_err(|e| format!("{e} (a spread across seeds needs at least two)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_checked_against_their_range() {
        assert_eq!(beam("1"), Ok(1));
        assert_eq!(beam(" 5 "), Ok(5));
        assert_eq!(
            beam("0").unwrap_err(),
            "must be from 1 to 1024 (1 = greedy search)"
        );
        assert!(beam("1025").is_err());
        assert!(
            beam("-1")
                .unwrap_err()
                .starts_with("expected a whole number")
        );
        assert!(beam("99999999999999999999999").is_err());
        assert_eq!(count("0"), Ok(0));
        assert_eq!(positive("0").unwrap_err(), "must be at least 1");
        assert!(vocab_size("4").is_err());
        assert!(bench_len("1").is_err());
        assert_eq!(demo_len("3"), Ok(3));
        assert!(demo_len("2").is_err());
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        assert_eq!(hours("0.25"), Ok(0.25));
        assert!(hours("0").is_err() && hours("nan").is_err() && hours("1e9").is_err());
        assert_eq!(seeds("2"), Ok(2));
        assert!(seeds("1").unwrap_err().contains("at least two"));
        for bad in ["nan", "NaN", "inf", "-inf", "1e400", "", "x"] {
            assert!(learning_rate(bad).is_err(), "{bad}");
            assert!(probability(bad).is_err(), "{bad}");
            assert!(minutes(bad).is_err(), "{bad}");
            assert!(alpha(bad).is_err(), "{bad}");
        }
        assert_eq!(learning_rate("1e-3"), Ok(1e-3));
        assert!(learning_rate("0").is_err());
        assert!(learning_rate("-0.1").is_err());
        assert_eq!(probability("0"), Ok(0.0));
        assert!(probability("1").is_err());
        assert!(probability("-0.01").is_err());
        assert!(factor("0").is_err() && factor("1").is_err());
        assert_eq!(factor("0.5"), Ok(0.5));
        assert_eq!(clip_norm("0"), Ok(0.0));
        assert!(clip_norm("-1").is_err());
        assert!(clip_norm("1e300").is_err());
        assert!(non_negative("-1e-9").is_err());
        assert!(minutes("0").is_err());
        assert_eq!(alpha("0.6"), Ok(0.6));
        assert!(alpha("-0.1").is_err());
    }
}
