//! `report.md` of a study: setup, the measured table, the claims with their verdicts, then
//! the measurements behind them and the plots.

use std::fmt::Write;

use super::results::StudyReport;
use super::words::{claim_text, row_label, verdict, words};
use crate::report::Lang;

/// The report in `lang`; `plots` are the PNG paths relative to the report.
pub fn markdown(r: &StudyReport, lang: Lang, plots: &[String]) -> String {
    let w = words(lang);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n\n## {}\n", w.title, w.setup);
    let _ = writeln!(
        s,
        "- corpus: {} ({} training pairs, {} test sentences)\n- backend: {}, preset: {}\n- plan: \
         {}\n- this invocation: {:.1} minutes\n",
        r.corpus, r.train_pairs, r.test_sentences, r.backend, r.preset, r.budget, r.elapsed_minutes
    );
    let names: Vec<&str> = r.archs.iter().map(|a| a.arch.as_str()).collect();
    let _ = writeln!(s, "## {}\n", w.table);
    let _ = writeln!(s, "| {} | {} |", w.property, names.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(names.len()));
    for row in &r.table {
        let _ = writeln!(
            s,
            "| {} | {} |",
            row_label(&row.id, lang),
            row.values.join(" | ")
        );
    }
    learned(&mut s, r, w.learned);
    let _ = writeln!(s, "\n## {}\n", w.claims);
    for c in &r.claims {
        let _ = writeln!(
            s,
            "- **{}** — {}: {} ({}: {})",
            verdict(c.verdict, lang),
            claim_text(&c.id, lang).unwrap_or_else(|| c.claim.clone()),
            c.evidence,
            w.rule,
            c.rule
        );
    }
    buckets(&mut s, r, w.buckets);
    speed(&mut s, r, w.speed);
    data(&mut s, r, w.data);
    sweeps(&mut s, r, w.sweeps);
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\n## {}\n", w.notes);
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    let _ = writeln!(s, "\n## {}\n", w.plots);
    for p in plots {
        let _ = writeln!(s, "![{p}]({p})\n");
    }
    s
}

/// The rule that says whether a run learned, and each run that did not.
fn learned(s: &mut String, r: &StudyReport, title: &str) {
    let _ = writeln!(s, "\n## {title}\n");
    let _ = writeln!(
        s,
        "Rule: {}. A claim whose evidence uses a run that did not learn is `inconclusive`.\n",
        r.learned_rule
    );
    let mut failed: Vec<&str> = Vec::new();
    for a in &r.archs {
        failed.extend(
            a.data
                .iter()
                .flat_map(|d| d.not_learned.iter().map(String::as_str)),
        );
        for sw in &a.sweeps {
            failed.extend(
                sw.points
                    .iter()
                    .filter(|p| !p.learned.learned)
                    .map(|p| p.learned.why.as_str()),
            );
        }
        if !a.learned.learned {
            failed.push(a.learned.why.as_str());
        }
    }
    failed.sort_unstable();
    failed.dedup();
    if failed.is_empty() {
        let _ = writeln!(s, "Every run learned.");
    }
    for f in failed {
        let _ = writeln!(s, "- did not learn: {f}");
    }
}

fn buckets(s: &mut String, r: &StudyReport, title: &str) {
    let _ = writeln!(s, "\n## {title}\n");
    let _ = writeln!(
        s,
        "| arch | bucket | sentences | BLEU [95% CI] | chrF [95% CI] |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for a in &r.archs {
        for b in a.buckets.iter().filter(|b| b.sentences > 0) {
            let show = |e: Option<honyaku_eval::SystemEstimate>| {
                e.map_or("-".into(), |e| {
                    format!("{:.1} [{:.1}, {:.1}]", e.score, e.lower, e.upper)
                })
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                a.arch,
                b.label,
                b.sentences,
                show(b.bleu),
                show(b.chrf)
            );
        }
    }
}

fn speed(s: &mut String, r: &StudyReport, title: &str) {
    let _ = writeln!(s, "\n## {title}\n");
    let _ = writeln!(
        s,
        "| arch | length | train step s | train tok/s | decode tok/s | latency ms |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for a in &r.archs {
        let Some(c) = &a.speed else { continue };
        for p in &c.points {
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} | {:.0} | {:.0} | {:.1} |",
                a.arch,
                p.length,
                p.train_step_seconds,
                p.train_tokens_per_second,
                p.decode_tokens_per_second,
                p.latency_seconds * 1000.0
            );
        }
        let fit = |f: Option<super::stats::PowerFit>| {
            f.map_or("-".into(), |f| {
                format!("{:.2} ± {:.2}", f.exponent, f.std_error)
            })
        };
        let _ = writeln!(
            s,
            "| {} | exponent | {} | | {} | {} |",
            a.arch,
            fit(c.train_fit),
            fit(c.decode_fit),
            fit(c.latency_fit)
        );
    }
}

fn data(s: &mut String, r: &StudyReport, title: &str) {
    let _ = writeln!(s, "\n## {title}\n");
    let _ = writeln!(
        s,
        "| arch | pairs | seeds | BLEU mean (min–max) | chrF mean (min–max) | did not learn |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for a in &r.archs {
        for d in &a.data {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.1} ({:.1}–{:.1}) | {:.1} ({:.1}–{:.1}) | {} |",
                a.arch,
                d.pairs,
                d.chrf.n,
                d.bleu.mean,
                d.bleu.min,
                d.bleu.max,
                d.chrf.mean,
                d.chrf.min,
                d.chrf.max,
                d.not_learned.len()
            );
        }
    }
}

fn sweeps(s: &mut String, r: &StudyReport, title: &str) {
    if r.archs.iter().all(|a| a.sweeps.is_empty()) {
        return;
    }
    let _ = writeln!(s, "\n## {title}\n");
    let _ = writeln!(
        s,
        "| arch | knob | value | parameters | BLEU | chrF | learned |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for a in &r.archs {
        for sw in &a.sweeps {
            for p in &sw.points {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {:.1} | {:.1} | {} |",
                    a.arch,
                    sw.knob,
                    p.value,
                    p.parameters,
                    p.bleu,
                    p.chrf,
                    if p.learned.learned { "yes" } else { "no" }
                );
            }
        }
    }
}
