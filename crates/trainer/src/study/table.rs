//! The article's table ("main strength / compute / typical uses" of LSTM and attention),
//! rebuilt from the measurements: one row per property, one cell per architecture.

use super::results::{ArchStudy, TableRow};
use super::speed::SpeedPoint;

/// The rows, in order.
pub const ROWS: [&str; 8] = [
    "strength",
    "test",
    "compute_train",
    "compute_latency",
    "little_data",
    "stability",
    "size",
    "uses",
];

/// The measured table of `archs`.
pub fn table(archs: &[ArchStudy]) -> Vec<TableRow> {
    ROWS.iter()
        .map(|&id| TableRow {
            id: id.into(),
            values: archs.iter().map(|a| cell(id, a, archs)).collect(),
        })
        .collect()
}

fn longest(a: &ArchStudy) -> Option<&SpeedPoint> {
    a.speed.as_ref()?.points.last()
}

fn cell(id: &str, a: &ArchStudy, all: &[ArchStudy]) -> String {
    let dash = || "-".to_string();
    match id {
        "strength" => {
            let filled: Vec<_> = a.buckets.iter().filter(|b| b.chrf.is_some()).collect();
            match (filled.first(), filled.last()) {
                (Some(s), Some(l)) => format!(
                    "chrF {:.1} ({}) → {:.1} ({})",
                    s.chrf.map_or(f64::NAN, |c| c.score),
                    s.label,
                    l.chrf.map_or(f64::NAN, |c| c.score),
                    l.label
                ),
                _ => dash(),
            }
        }
        "test" => format!(
            "BLEU {:.1} / chrF {:.1}{}",
            a.test.bleu,
            a.test.chrf,
            if a.learned.learned {
                ""
            } else {
                " (did not learn)"
            }
        ),
        "compute_train" => match (longest(a), a.speed.as_ref().and_then(|s| s.train_fit)) {
            (Some(p), Some(f)) => format!(
                "{:.0} tok/s at L={}; step ∝ L^{:.2}",
                p.train_tokens_per_second, p.length, f.exponent
            ),
            _ => dash(),
        },
        "compute_latency" => match (longest(a), a.speed.as_ref().and_then(|s| s.latency_fit)) {
            (Some(p), Some(f)) => format!(
                "{:.0} ms at L={}; ∝ L^{:.2}",
                p.latency_seconds * 1000.0,
                p.length,
                f.exponent
            ),
            _ => dash(),
        },
        "little_data" => a.data.first().filter(|d| !d.whole).map_or_else(dash, |d| {
            format!(
                "chrF {:.1} (range {:.1} over seeds) at {} pairs{}",
                d.chrf.mean,
                d.chrf.range(),
                d.pairs,
                unlearned(d.not_learned.len())
            )
        }),
        "stability" => a.data.iter().find(|d| d.whole).map_or_else(dash, |d| {
            format!(
                "chrF range {:.2} over {} seeds{}",
                d.chrf.range(),
                d.chrf.n,
                unlearned(d.not_learned.len())
            )
        }),
        "size" => format!(
            "{:.2}M params; {}",
            a.parameters as f64 / 1e6,
            a.peak_rss_mib
                .map_or("-".into(), |m| format!("{m:.0} MiB peak"))
        ),
        "uses" => best_at(a, all),
        _ => dash(),
    }
}

/// A mark for cells whose runs did not all learn.
fn unlearned(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} did not learn)")
    }
}

/// The measurements on which `a` is the best of `all`: the typical uses, measured.
fn best_at(a: &ArchStudy, all: &[ArchStudy]) -> String {
    let mut wins = Vec::new();
    let mut check = |label: &str, f: &dyn Fn(&ArchStudy) -> Option<f64>| {
        let best = all
            .iter()
            .filter_map(|x| Some((x.arch.as_str(), f(x)?)))
            .filter(|(_, v)| v.is_finite())
            .max_by(|x, y| x.1.total_cmp(&y.1));
        if best.is_some_and(|(name, _)| name == a.arch) {
            wins.push(label.to_string());
        }
    };
    let bucket = |x: &ArchStudy, first: bool| {
        let filled: Vec<_> = x.buckets.iter().filter_map(|b| b.chrf).collect();
        (if first { filled.first() } else { filled.last() }).map(|c| c.score)
    };
    check("short sentences", &|x| bucket(x, true));
    check("long sentences", &|x| bucket(x, false));
    check("little data", &|x| {
        x.data.first().filter(|d| !d.whole).map(|d| d.chrf.mean)
    });
    check("whole set", &|x| Some(x.test.chrf));
    check("training speed", &|x| {
        longest(x).map(|p| p.train_tokens_per_second)
    });
    check("latency", &|x| longest(x).map(|p| -p.latency_seconds));
    check("small size", &|x| Some(-(x.parameters as f64)));
    if wins.is_empty() {
        "-".into()
    } else {
        wins.join(", ")
    }
}
