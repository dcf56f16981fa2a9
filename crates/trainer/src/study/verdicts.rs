//! The claims of the article, each given the numbers of a finished study (see [`super::claims`]
//! for the rules).

use super::claims::{
    Claim, Ends, KnobEffect, Named, Verdict, cost_growth, hybrid_helps, knob_matters, long_range,
    more_parameters, parallel_fast, stable,
};
use super::learned::guard;
use super::results::{ArchStudy, DataPoint};
use super::stats::{PowerFit, Spread};
use crate::report::PairTest;

/// Every claim, in the article's order. `knobs` are the knob names the study could turn (a
/// knob missing here is reported as not measured).
pub fn claims(archs: &[ArchStudy], hybrid: Option<&PairTest>, knobs: &[&str]) -> Vec<Claim> {
    let Some(lstm) = archs.iter().find(|a| a.arch == "lstm") else {
        return Vec::new();
    };
    let others: Vec<&ArchStudy> = archs.iter().filter(|a| a.arch != "lstm").collect();
    let mut out = Vec::new();
    for (id, text, pick) in [
        (
            "lstm_stable_little_data",
            "The LSTM is stable with little data (low spread across seeds at the smallest \
             training set)",
            smallest as fn(&ArchStudy) -> Option<&DataPoint>,
        ),
        (
            "lstm_stable",
            "LSTM training is stable (low spread across seeds on the whole training set)",
            whole,
        ),
    ] {
        if let Some(l) = pick(lstm) {
            let points: Vec<(&str, &DataPoint)> = others
                .iter()
                .filter_map(|a| Some((a.arch.as_str(), pick(a)?)))
                .collect();
            let o: Vec<Named<Spread>> = points
                .iter()
                .map(|(n, d)| (n.to_string(), d.chrf))
                .collect();
            let failures: Vec<String> = std::iter::once(l)
                .chain(points.iter().map(|(_, d)| *d))
                .flat_map(|d| d.not_learned.iter().cloned())
                .collect();
            out.push(guard(stable(id, text, l.chrf, &o), &failures));
        } else {
            out.push(Claim {
                id: id.into(),
                claim: text.into(),
                verdict: Verdict::Inconclusive,
                evidence: "not measured: the plan has no training subset below the whole set"
                    .into(),
                rule: "-".into(),
            });
        }
    }
    out.push(more_parameters(
        lstm.parameters,
        &others
            .iter()
            .map(|a| (a.arch.clone(), a.parameters))
            .collect::<Vec<_>>(),
    ));
    let fits = |f: fn(&ArchStudy) -> Option<PowerFit>| -> Vec<Named<Option<PowerFit>>> {
        others.iter().map(|a| (a.arch.clone(), f(a))).collect()
    };
    let latency = |a: &ArchStudy| a.speed.as_ref().and_then(|s| s.latency_fit);
    let train = |a: &ArchStudy| a.speed.as_ref().and_then(|s| s.train_fit);
    out.push(cost_growth(
        "attention_long_latency",
        "single-sentence latency against length",
        latency(lstm),
        &fits(latency),
    ));
    out.push(cost_growth(
        "attention_long_training",
        "training step time against length",
        train(lstm),
        &fits(train),
    ));
    if let Some(claim) = speed_claim(lstm, &others) {
        out.push(claim);
    }
    if let Some(claim) = long_range_claim(lstm, &others) {
        out.push(guard(claim, &main_failures(archs)));
    }
    for knob in ["cell", "layers", "heads", "hidden"] {
        out.push(knob_claim(knob, archs, knobs.contains(&knob)));
    }
    if let Some(test) = hybrid {
        let pair: Vec<ArchStudy> = archs
            .iter()
            .filter(|a| a.arch == "lstm" || a.arch == "attention")
            .cloned()
            .collect();
        out.push(guard(hybrid_helps(&test.result), &main_failures(&pair)));
    }
    out
}

/// The smallest subset (none when the plan measured only the whole set).
fn smallest(a: &ArchStudy) -> Option<&DataPoint> {
    a.data.first().filter(|d| !d.whole)
}

/// The whole training set's point.
fn whole(a: &ArchStudy) -> Option<&DataPoint> {
    a.data.iter().find(|d| d.whole)
}

/// Why each main run of `archs` that did not learn failed.
fn main_failures(archs: &[ArchStudy]) -> Vec<String> {
    archs
        .iter()
        .filter(|a| !a.learned.learned)
        .map(|a| a.learned.why.clone())
        .collect()
}

/// Training throughput at the longest length every architecture measured.
fn speed_claim(lstm: &ArchStudy, others: &[&ArchStudy]) -> Option<Claim> {
    let longest = std::iter::once(lstm)
        .chain(others.iter().copied())
        .map(|a| a.speed.as_ref()?.points.iter().map(|p| p.length).max())
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .min()?;
    let at = |a: &ArchStudy| {
        a.speed
            .as_ref()?
            .points
            .iter()
            .find(|p| p.length == longest)
            .map(|p| p.train_tokens_per_second)
    };
    let o: Vec<Named<f64>> = others
        .iter()
        .filter_map(|a| Some((a.arch.clone(), at(a)?)))
        .collect();
    Some(parallel_fast(longest, at(lstm)?, &o))
}

/// chrF of the shortest and the longest bucket that every architecture has sentences in.
fn long_range_claim(lstm: &ArchStudy, others: &[&ArchStudy]) -> Option<Claim> {
    let filled: Vec<usize> = (0..lstm.buckets.len())
        .filter(|&i| lstm.buckets[i].chrf.is_some())
        .collect();
    let (&first, &last) = (filled.first()?, filled.last()?);
    if first == last {
        return None;
    }
    let ends = |a: &ArchStudy| {
        Some(Ends {
            short: a.buckets.get(first)?.chrf?,
            long: a.buckets.get(last)?.chrf?,
        })
    };
    let o: Vec<Named<Ends>> = others
        .iter()
        .filter_map(|a| Some((a.arch.clone(), ends(a)?)))
        .collect();
    Some(long_range(&lstm.buckets[last].label, ends(lstm)?, &o))
}

fn knob_claim(knob: &str, archs: &[ArchStudy], measured: bool) -> Claim {
    let mut failures = Vec::new();
    let effects: Vec<Named<KnobEffect>> = if measured {
        archs
            .iter()
            .filter_map(|a| {
                let sweep = a.sweeps.iter().find(|s| s.knob == knob)?;
                let whole = a.data.iter().find(|d| d.whole)?;
                let noise = whole.chrf.range();
                failures.extend(whole.not_learned.iter().cloned());
                failures.extend(
                    sweep
                        .points
                        .iter()
                        .filter(|p| !p.learned.learned)
                        .map(|p| p.learned.why.clone()),
                );
                Some((
                    a.arch.clone(),
                    KnobEffect {
                        range: sweep.chrf_range,
                        noise,
                        values: sweep.points.len(),
                    },
                ))
            })
            .collect()
    } else {
        Vec::new()
    };
    failures.sort();
    failures.dedup();
    let mut claim = guard(knob_matters(knob, &effects), &failures);
    if !measured && knob == "cell" {
        claim.evidence = "not measured: this build's `honyaku train` has no --cell flag (the \
                          GRU cell), so the number of gates was not swept"
            .into();
    }
    claim
}
