//! The article's claims and the verdict the numbers give each: `supported`, `contradicted` or
//! `inconclusive`, with the evidence and the significance rule behind it. Each rule is one
//! function of the few numbers it needs, so it can be checked on scripted numbers.

use honyaku_eval::{PairedBootstrap, SystemEstimate};
use serde::{Deserialize, Serialize};

use super::stats::{PowerFit, Spread};

/// What the numbers say about a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Supported,
    Contradicted,
    Inconclusive,
}

/// One claim with its verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    /// Stable identifier.
    pub id: String,
    /// The claim, as the article makes it.
    pub claim: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The numbers behind the verdict.
    pub evidence: String,
    /// The significance rule applied.
    pub rule: String,
}

/// Seed spreads closer than this many chrF points count as equal.
pub const SPREAD_FLOOR: f64 = 0.5;
/// A throughput is "faster" only beyond this ratio (timings on a shared machine are noisy).
pub const SPEED_RATIO: f64 = 1.25;
/// Exponents differ when they differ by this much and by two standard errors.
pub const EXPONENT_GAP: f64 = 0.1;

/// Combines per-competitor outcomes: all `Supported` → supported, all `Contradicted` →
/// contradicted, anything else (mixed, or any inconclusive) → inconclusive.
fn all_agree(outcomes: &[Verdict]) -> Verdict {
    if outcomes.is_empty() {
        Verdict::Inconclusive
    } else if outcomes.iter().all(|v| *v == Verdict::Supported) {
        Verdict::Supported
    } else if outcomes.iter().all(|v| *v == Verdict::Contradicted) {
        Verdict::Contradicted
    } else {
        Verdict::Inconclusive
    }
}

/// A named measurement of one architecture.
pub type Named<T> = (String, T);

fn clearly_lower(a: f64, b: f64) -> bool {
    a < 0.5 * b && b - a >= SPREAD_FLOOR
}

/// "The LSTM is stable": its chrF range across seeds is clearly lower (under half, and by at
/// least [`SPREAD_FLOOR`] points) than each attention model's.
pub fn stable(id: &str, claim: &str, lstm: Spread, others: &[Named<Spread>]) -> Claim {
    let outcomes: Vec<Verdict> = others
        .iter()
        .map(|(_, o)| {
            if clearly_lower(lstm.range(), o.range()) {
                Verdict::Supported
            } else if clearly_lower(o.range(), lstm.range()) {
                Verdict::Contradicted
            } else {
                Verdict::Inconclusive
            }
        })
        .collect();
    let show = |name: &str, s: &Spread| {
        format!(
            "{name} chrF {:.2} (range {:.2} over {} seeds)",
            s.mean,
            s.range(),
            s.n
        )
    };
    let mut parts = vec![show("lstm", &lstm)];
    parts.extend(others.iter().map(|(n, s)| show(n, s)));
    Claim {
        id: id.into(),
        claim: claim.into(),
        verdict: all_agree(&outcomes),
        evidence: parts.join("; "),
        rule: format!(
            "a range across seeds counts as lower when under half the other and at least \
             {SPREAD_FLOOR} chrF points below it"
        ),
    }
}

/// "Attention models are bigger": exact parameter counts at the same preset; more than 5%
/// apart counts.
pub fn more_parameters(lstm: usize, others: &[Named<usize>]) -> Claim {
    let outcomes: Vec<Verdict> = others
        .iter()
        .map(|(_, p)| {
            let ratio = *p as f64 / lstm.max(1) as f64;
            if ratio > 1.05 {
                Verdict::Supported
            } else if ratio < 0.95 {
                Verdict::Contradicted
            } else {
                Verdict::Inconclusive
            }
        })
        .collect();
    let mut parts = vec![format!("lstm {lstm} parameters")];
    parts.extend(others.iter().map(|(n, p)| format!("{n} {p}")));
    Claim {
        id: "attention_more_parameters".into(),
        claim: "Attention models have more parameters".into(),
        verdict: all_agree(&outcomes),
        evidence: parts.join("; "),
        rule: "exact counts at the same preset; a difference over 5% counts".into(),
    }
}

/// "Attention gets expensive on long sequences": each attention model's cost grows with a
/// clearly larger exponent than the LSTM's.
pub fn cost_growth(
    id: &str,
    what: &str,
    lstm: Option<PowerFit>,
    others: &[Named<Option<PowerFit>>],
) -> Claim {
    let outcomes: Vec<Verdict> = others
        .iter()
        .map(|(_, o)| match (lstm, o) {
            (Some(l), Some(o)) => {
                let gap = o.exponent - l.exponent;
                let noise = 2.0 * (l.std_error.powi(2) + o.std_error.powi(2)).sqrt();
                if gap > EXPONENT_GAP && gap > noise {
                    Verdict::Supported
                } else if -gap > EXPONENT_GAP && -gap > noise {
                    Verdict::Contradicted
                } else {
                    Verdict::Inconclusive
                }
            }
            _ => Verdict::Inconclusive,
        })
        .collect();
    let show = |name: &str, f: &Option<PowerFit>| match f {
        Some(f) => format!("{name} ∝ L^{:.2} (±{:.2})", f.exponent, f.std_error),
        None => format!("{name} not measured"),
    };
    let mut parts = vec![show("lstm", &lstm)];
    parts.extend(others.iter().map(|(n, f)| show(n, f)));
    Claim {
        id: id.into(),
        claim: format!("Attention models get expensive on long sequences ({what})"),
        verdict: all_agree(&outcomes),
        evidence: parts.join("; "),
        rule: format!(
            "log-log least-squares exponents differ when by more than {EXPONENT_GAP} and more \
             than two combined standard errors"
        ),
    }
}

/// "LSTM compute is sequential, attention highly parallel and fast": training tokens per
/// second at the longest measured length.
pub fn parallel_fast(length: usize, lstm: f64, others: &[Named<f64>]) -> Claim {
    let outcomes: Vec<Verdict> = others
        .iter()
        .map(|(_, o)| {
            if *o >= SPEED_RATIO * lstm {
                Verdict::Supported
            } else if *o * SPEED_RATIO <= lstm {
                Verdict::Contradicted
            } else {
                Verdict::Inconclusive
            }
        })
        .collect();
    let mut parts = vec![format!(
        "training tokens/s at length {length}: lstm {lstm:.0}"
    )];
    parts.extend(others.iter().map(|(n, v)| format!("{n} {v:.0}")));
    Claim {
        id: "attention_parallel_fast".into(),
        claim: "LSTM training is sequential; attention is highly parallel and fast".into(),
        verdict: all_agree(&outcomes),
        evidence: parts.join("; "),
        rule: format!("faster means at least {SPEED_RATIO}× the tokens per second"),
    }
}

/// chrF of the shortest and the longest bucket of one architecture.
#[derive(Debug, Clone, Copy)]
pub struct Ends {
    /// chrF of the shortest bucket.
    pub short: SystemEstimate,
    /// chrF of the longest bucket.
    pub long: SystemEstimate,
}

/// "Attention refers directly to long-range dependencies": on the longest sentences each
/// attention model's chrF interval lies above the LSTM's, and its lead there is larger than
/// on the shortest.
pub fn long_range(long_label: &str, lstm: Ends, others: &[Named<Ends>]) -> Claim {
    let outcomes: Vec<Verdict> = others
        .iter()
        .map(|(_, o)| {
            let lead_long = o.long.score - lstm.long.score;
            let lead_short = o.short.score - lstm.short.score;
            if o.long.lower > lstm.long.upper && lead_long > lead_short {
                Verdict::Supported
            } else if lstm.long.lower > o.long.upper {
                Verdict::Contradicted
            } else {
                Verdict::Inconclusive
            }
        })
        .collect();
    let show = |n: &str, e: &Ends| {
        format!(
            "{n}: shortest bucket chrF {:.1}, longest ({long_label}) {:.1} [{:.1}, {:.1}]",
            e.short.score, e.long.score, e.long.lower, e.long.upper
        )
    };
    let mut parts = vec![show("lstm", &lstm)];
    parts.extend(others.iter().map(|(n, e)| show(n, e)));
    Claim {
        id: "attention_long_range".into(),
        claim: "Attention refers directly to long-range dependencies; the LSTM suits short to \
                mid-range text"
            .into(),
        verdict: all_agree(&outcomes),
        evidence: parts.join("; "),
        rule: "on the longest source bucket the 95% bootstrap intervals of chrF do not overlap, \
               and the lead is larger than on the shortest bucket"
            .into(),
    }
}

/// How much one knob moved one architecture's score, against its seed noise.
#[derive(Debug, Clone, Copy)]
pub struct KnobEffect {
    /// chrF range across the knob's values.
    pub range: f64,
    /// chrF range across seeds at the default setting.
    pub noise: f64,
    /// Values measured (the default included).
    pub values: usize,
}

/// "Changing the knob changes results a lot": some architecture's chrF range across the
/// knob's values exceeds twice its seed range (and [`SPREAD_FLOOR`]); contradicted when every
/// range is within the seed range.
pub fn knob_matters(knob: &str, effects: &[Named<KnobEffect>]) -> Claim {
    let measured: Vec<&Named<KnobEffect>> = effects.iter().filter(|(_, e)| e.values > 1).collect();
    let big = |e: &KnobEffect| e.range > 2.0 * e.noise.max(SPREAD_FLOOR);
    let verdict = if measured.is_empty() {
        Verdict::Inconclusive
    } else if measured.iter().any(|(_, e)| big(e)) {
        Verdict::Supported
    } else if measured
        .iter()
        .all(|(_, e)| e.range <= e.noise.max(SPREAD_FLOOR))
    {
        Verdict::Contradicted
    } else {
        Verdict::Inconclusive
    };
    let evidence = if measured.is_empty() {
        format!("not measured: no architecture swept `{knob}`")
    } else {
        measured
            .iter()
            .map(|(n, e)| {
                format!(
                    "{n}: chrF range {:.2} over {} values vs seed range {:.2}",
                    e.range, e.values, e.noise
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Claim {
        id: format!("knob_{knob}_matters"),
        claim: format!("Changing `{knob}` changes the results a lot"),
        verdict,
        evidence,
        rule: format!(
            "a lot: the range across values exceeds twice the seed range (at least \
             {SPREAD_FLOOR} chrF); no effect: every range within the seed range"
        ),
    }
}

/// "Hybrids (an LSTM with a small attention) are worth it": the attention LSTM against the
/// plain LSTM by paired bootstrap on chrF.
pub fn hybrid_helps(test: &PairedBootstrap) -> Claim {
    let (lstm, hybrid) = (test.baseline.score, test.candidate.score);
    let significant = test.p_value < 0.05 && lstm != hybrid;
    let verdict = match (significant, hybrid > lstm) {
        (true, true) => Verdict::Supported,
        (true, false) => Verdict::Contradicted,
        _ => Verdict::Inconclusive,
    };
    Claim {
        id: "hybrid_helps".into(),
        claim: "A hybrid (an LSTM with a small attention) beats the plain LSTM".into(),
        verdict,
        evidence: format!(
            "test chrF lstm {lstm:.2}, attention {hybrid:.2}, p = {:.4} ({} resamples)",
            test.p_value, test.n_samples
        ),
        rule: "paired bootstrap on chrF, p < 0.05".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(lo: f64, hi: f64) -> Spread {
        Spread::of(&[lo, hi]).unwrap()
    }

    fn est(score: f64, half: f64) -> SystemEstimate {
        SystemEstimate {
            score,
            mean: score,
            ci: half,
            lower: score - half,
            upper: score + half,
        }
    }

    fn fit(exponent: f64, std_error: f64) -> Option<PowerFit> {
        Some(PowerFit {
            exponent,
            std_error,
            points: 6,
        })
    }

    #[test]
    fn stability_needs_a_clear_gap_in_seed_range() {
        let v = |lstm, other| stable("s", "c", lstm, &[("transformer".into(), other)]).verdict;
        assert_eq!(
            v(spread(40.0, 40.4), spread(30.0, 36.0)),
            Verdict::Supported
        );
        assert_eq!(
            v(spread(30.0, 36.0), spread(40.0, 40.4)),
            Verdict::Contradicted
        );
        assert_eq!(
            v(spread(40.0, 41.0), spread(40.0, 41.5)),
            Verdict::Inconclusive
        );
        // Both below the floor: equal.
        assert_eq!(
            v(spread(40.0, 40.1), spread(40.0, 40.4)),
            Verdict::Inconclusive
        );
        // Mixed across competitors.
        let mixed = stable(
            "s",
            "c",
            spread(40.0, 42.0),
            &[
                ("attention".into(), spread(30.0, 40.0)),
                ("transformer".into(), spread(30.0, 30.1)),
            ],
        );
        assert_eq!(mixed.verdict, Verdict::Inconclusive);
        assert!(
            mixed.evidence.contains("range 10.00 over 2 seeds"),
            "{}",
            mixed.evidence
        );
    }

    #[test]
    fn exponents_must_differ_beyond_their_errors() {
        let v = |l, o| cost_growth("c", "latency", l, &[("transformer".into(), o)]).verdict;
        assert_eq!(v(fit(1.0, 0.05), fit(1.8, 0.1)), Verdict::Supported);
        assert_eq!(v(fit(1.8, 0.05), fit(1.0, 0.05)), Verdict::Contradicted);
        assert_eq!(v(fit(1.0, 0.3), fit(1.5, 0.3)), Verdict::Inconclusive);
        assert_eq!(v(fit(1.0, 0.0), None), Verdict::Inconclusive);
    }

    #[test]
    fn speed_and_size_rules() {
        let fast = |o: f64| parallel_fast(256, 1000.0, &[("transformer".into(), o)]).verdict;
        assert_eq!(fast(1300.0), Verdict::Supported);
        assert_eq!(fast(700.0), Verdict::Contradicted);
        assert_eq!(fast(1100.0), Verdict::Inconclusive);
        let size = |o: usize| more_parameters(1000, &[("attention".into(), o)]).verdict;
        assert_eq!(size(2000), Verdict::Supported);
        assert_eq!(size(500), Verdict::Contradicted);
        assert_eq!(size(1010), Verdict::Inconclusive);
    }

    #[test]
    fn long_range_needs_disjoint_intervals_on_the_longest_bucket() {
        let ends = |short, long, half| Ends {
            short: est(short, half),
            long: est(long, half),
        };
        let v = |l, o| long_range("21-30", l, &[("attention".into(), o)]).verdict;
        assert_eq!(
            v(ends(60.0, 30.0, 2.0), ends(62.0, 50.0, 2.0)),
            Verdict::Supported
        );
        // Ahead on long sentences, but no more than on short ones.
        assert_eq!(
            v(ends(40.0, 30.0, 2.0), ends(70.0, 50.0, 2.0)),
            Verdict::Inconclusive
        );
        assert_eq!(
            v(ends(60.0, 50.0, 2.0), ends(62.0, 30.0, 2.0)),
            Verdict::Contradicted
        );
        assert_eq!(
            v(ends(60.0, 40.0, 5.0), ends(62.0, 44.0, 5.0)),
            Verdict::Inconclusive
        );
    }

    #[test]
    fn a_knob_matters_when_it_moves_scores_beyond_seed_noise() {
        let e = |range, noise, values| KnobEffect {
            range,
            noise,
            values,
        };
        let v = |effects: &[Named<KnobEffect>]| knob_matters("layers", effects).verdict;
        assert_eq!(v(&[("lstm".into(), e(5.0, 1.0, 2))]), Verdict::Supported);
        assert_eq!(v(&[("lstm".into(), e(0.8, 1.0, 2))]), Verdict::Contradicted);
        assert_eq!(v(&[("lstm".into(), e(1.5, 1.0, 2))]), Verdict::Inconclusive);
        let none = knob_matters("cell", &[("lstm".into(), e(0.0, 1.0, 1))]);
        assert_eq!(none.verdict, Verdict::Inconclusive);
        assert!(none.evidence.contains("not measured"));
    }

    #[test]
    fn the_hybrid_claim_follows_the_paired_bootstrap() {
        let test = |lstm, hybrid, p| PairedBootstrap {
            baseline: est(lstm, 1.0),
            candidate: est(hybrid, 1.0),
            p_value: p,
            n_samples: 1000,
            seed: 1,
        };
        assert_eq!(
            hybrid_helps(&test(40.0, 50.0, 0.001)).verdict,
            Verdict::Supported
        );
        assert_eq!(
            hybrid_helps(&test(50.0, 40.0, 0.001)).verdict,
            Verdict::Contradicted
        );
        assert_eq!(
            hybrid_helps(&test(40.0, 41.0, 0.3)).verdict,
            Verdict::Inconclusive
        );
        let json = serde_json::to_value(hybrid_helps(&test(40.0, 50.0, 0.001))).unwrap();
        assert_eq!(json["verdict"], "supported");
        for key in ["id", "claim", "verdict", "evidence"] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
