//! Whether a run learned: a comparison is only as good as its models, so a claim whose evidence
//! uses a run that did not learn is `inconclusive`, whatever its numbers say.
//!
//! The rule, from the run's own test scores: a run **learned** when its test BLEU is at least
//! [`MIN_BLEU`] and its test chrF beats the trivial baseline of copying the source sentence
//! (chrF of the sources against the references) by at least [`MIN_CHRF_GAIN`] points. An
//! untrained or barely trained model repeats frequent tokens: BLEU near 0, chrF near or below
//! the copy baseline.

use serde::{Deserialize, Serialize};

use super::claims::{Claim, Verdict};

/// Least test BLEU of a run that learned.
pub const MIN_BLEU: f64 = 10.0;
/// Least lead in test chrF over copying the source, points.
pub const MIN_CHRF_GAIN: f64 = 10.0;

/// The rule in words, for the report.
pub fn rule_words(copy_chrf: f64) -> String {
    format!(
        "a run learned when its test BLEU ≥ {MIN_BLEU} and its test chrF ≥ {:.1} (copying the \
         source scores chrF {copy_chrf:.1}; a run must beat it by {MIN_CHRF_GAIN} points)",
        copy_chrf + MIN_CHRF_GAIN
    )
}

/// Whether one run learned, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// Whether the run passed the rule.
    pub learned: bool,
    /// Why not (empty when it learned): the run and the scores that failed.
    pub why: String,
}

/// Checks the run `name` with test scores `bleu` and `chrf`, against copying the source
/// (`copy_chrf`).
pub fn check(name: &str, bleu: f64, chrf: f64, copy_chrf: f64) -> Learned {
    let mut failed = Vec::new();
    // Written so that a NaN score fails too.
    let (bleu_ok, chrf_ok) = (bleu >= MIN_BLEU, chrf >= copy_chrf + MIN_CHRF_GAIN);
    if !bleu_ok {
        failed.push(format!("test BLEU {bleu:.1} < {MIN_BLEU}"));
    }
    let need = copy_chrf + MIN_CHRF_GAIN;
    if !chrf_ok {
        failed.push(format!(
            "test chrF {chrf:.1} < {need:.1} (copying the source: {copy_chrf:.1})"
        ));
    }
    Learned {
        learned: failed.is_empty(),
        why: if failed.is_empty() {
            String::new()
        } else {
            format!("{name}: {}", failed.join(", "))
        },
    }
}

/// The claim as it stands when its evidence uses runs that did not learn (`failures`, one
/// reason each): `inconclusive`, the reasons first in the evidence. Unchanged when every run
/// learned.
pub fn guard(mut claim: Claim, failures: &[String]) -> Claim {
    if failures.is_empty() {
        return claim;
    }
    claim.verdict = Verdict::Inconclusive;
    claim.evidence = format!(
        "runs that did not learn: {}; their numbers decide nothing (measured: {})",
        failures.join("; "),
        claim.evidence
    );
    claim
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::claims::stable;
    use crate::study::stats::Spread;

    #[test]
    fn a_run_learns_above_both_floors() {
        assert!(check("a", 25.8, 55.0, 20.0).learned);
        let low_bleu = check("lstm-all-s42", 2.8, 40.0, 20.0);
        assert!(!low_bleu.learned);
        assert_eq!(low_bleu.why, "lstm-all-s42: test BLEU 2.8 < 10");
        // BLEU is fine, but copying the source does nearly as well.
        let copy = check("b", 12.0, 25.0, 20.0);
        assert!(!copy.learned);
        assert!(copy.why.contains("test chrF 25.0 < 30.0"), "{}", copy.why);
        assert!(!check("c", f64::NAN, 50.0, 0.0).learned);
    }

    #[test]
    fn a_contradicted_claim_becomes_inconclusive_when_a_model_did_not_learn() {
        let spread = |lo: f64, hi: f64| Spread::of(&[lo, hi]).unwrap();
        let claim = || {
            stable(
                "lstm_stable",
                "LSTM training is stable",
                spread(30.0, 36.0),
                &[("transformer".into(), spread(40.0, 40.4))],
            )
        };
        // Learned models: the LSTM's wider range contradicts the claim.
        let checks = [
            check("lstm-all-s42", 20.0, 33.0, 10.0),
            check("lstm-all-s43", 25.0, 36.0, 10.0),
        ];
        let failures: Vec<String> = checks
            .iter()
            .filter(|c| !c.learned)
            .map(|c| c.why.clone())
            .collect();
        assert_eq!(guard(claim(), &failures).verdict, Verdict::Contradicted);
        // One seed of the LSTM did not learn: nothing is decided.
        let checks = [
            check("lstm-all-s42", 2.8, 30.0, 10.0),
            check("lstm-all-s43", 25.0, 36.0, 10.0),
        ];
        let failures: Vec<String> = checks
            .iter()
            .filter(|c| !c.learned)
            .map(|c| c.why.clone())
            .collect();
        let guarded = guard(claim(), &failures);
        assert_eq!(guarded.verdict, Verdict::Inconclusive);
        assert!(
            guarded
                .evidence
                .starts_with("runs that did not learn: lstm-all-s42: test BLEU 2.8"),
            "{}",
            guarded.evidence
        );
        // The measured numbers stay in the evidence.
        assert!(
            guarded.evidence.contains("range 6.00 over 2 seeds"),
            "{}",
            guarded.evidence
        );
        assert_eq!(guarded.id, "lstm_stable");
    }
}
