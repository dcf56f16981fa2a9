//! The report as Markdown: the main table, and the whole `report.md`.

use std::fmt::Write as _;

use super::comparison::CompareReport;
use super::scoring::is_significant;
use super::words::{Lang, words};

/// The main table as Markdown.
pub fn table(r: &CompareReport, lang: Lang) -> String {
    let w = words(lang);
    let mut s = format!(
        "| {} | BLEU | chrF | {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|---|---|---|\n",
        w.arch, w.params, w.train_time, w.tok_s, w.ppl, w.sent_s, w.memory
    );
    for a in &r.archs {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2}M | {:.0} s | {:.0} | {} | {:.1} | {} |",
            a.arch,
            a.test.bleu,
            a.test.chrf,
            a.parameters as f64 / 1e6,
            a.train_seconds,
            a.tokens_per_second,
            a.best_valid_ppl.map_or("-".into(), |p| format!("{p:.2}")),
            a.greedy_sentences_per_second,
            a.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0} MiB")),
        );
    }
    s
}

pub(super) fn markdown(r: &CompareReport, lang: Lang, plot_files: &[String]) -> String {
    let w = words(lang);
    let mut s = format!("# {}\n\n{}\n\n", w.title, w.intro);
    let _ = writeln!(
        s,
        "{}: {} · {}: {} · {}: {} · {}: {}\n",
        w.budget,
        r.budget,
        w.backend,
        r.backend,
        w.preset,
        r.preset,
        w.test_sentences,
        r.test_sentences
    );
    s.push_str(&table(r, lang));
    if let Some(a) = r.archs.first() {
        let _ = writeln!(
            s,
            "\nBLEU: `{}`  \nchrF: `{}`",
            a.test.signature.bleu, a.test.signature.chrf
        );
    }
    runs_table(&mut s, r, lang);
    settings_table(&mut s, r, lang);
    let _ = writeln!(s, "\n## {}\n", w.by_length);
    let labels: Vec<&str> = r.archs.first().map_or(Vec::new(), |a| {
        a.bleu_by_length.iter().map(|b| b.label.as_str()).collect()
    });
    let _ = writeln!(s, "| {} | {} |", w.arch, labels.join(" | "));
    let _ = writeln!(s, "|---|{}", "---|".repeat(labels.len()));
    for a in &r.archs {
        let cells: Vec<String> = a
            .bleu_by_length
            .iter()
            .map(|b| {
                b.bleu
                    .map_or("-".into(), |v| format!("{v:.2} ({})", b.sentences))
            })
            .collect();
        let _ = writeln!(s, "| {} | {} |", a.arch, cells.join(" | "));
    }
    let _ = writeln!(s, "\n## {}\n", w.significance);
    for t in &r.significance {
        let res = &t.result;
        let _ = writeln!(
            s,
            "- {} vs {}: {:.2} ({:.2} ± {:.2}) vs {:.2} ({:.2} ± {:.2}), p = {:.4}: {}",
            t.baseline,
            t.candidate,
            res.baseline.score,
            res.baseline.mean,
            res.baseline.ci,
            res.candidate.score,
            res.candidate.mean,
            res.candidate.ci,
            res.p_value,
            if is_significant(res) {
                w.sig_yes
            } else {
                w.sig_no
            }
        );
    }
    let _ = writeln!(s, "\n## {}\n", w.examples);
    for e in &r.examples {
        let _ = writeln!(
            s,
            "- **{}**: {}\n  - *{}*: {}",
            w.source, e.source, w.reference, e.reference
        );
        for (arch, out) in &e.outputs {
            let _ = writeln!(s, "  - {arch}: {out}");
        }
    }
    let _ = writeln!(s, "\n## {}\n", w.plots);
    for f in plot_files.iter().chain(&r.heatmaps) {
        let _ = writeln!(s, "![{f}]({f})");
    }
    s
}

/// What each run got of the budget: wall time, updates, epochs, tokens, validation time.
fn runs_table(s: &mut String, r: &CompareReport, lang: Lang) {
    let w = words(lang);
    let _ = writeln!(
        s,
        "\n## {}\n\n| {} | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|",
        w.runs, w.arch, w.train_time, w.updates, w.epochs, w.tokens_seen, w.validating
    );
    for a in &r.archs {
        let share = 100.0 * a.valid_seconds / a.train_seconds.max(1e-9);
        let _ = writeln!(
            s,
            "| {} | {:.0} s | {} | {} | {} | {:.0} s ({share:.0}%) |",
            a.arch, a.train_seconds, a.steps, a.epochs, a.target_tokens, a.valid_seconds
        );
    }
}

/// The settings each run trained with.
fn settings_table(s: &mut String, r: &CompareReport, lang: Lang) {
    let w = words(lang);
    let _ = writeln!(
        s,
        "\n## {}\n\n| {} | lr | {} | {} | {} | clip | {} | dropout | {} |\n\
         |---|---|---|---|---|---|---|---|---|",
        w.settings, w.arch, w.schedule, w.adam, w.smoothing, w.batch, w.selection
    );
    for a in &r.archs {
        let c = &a.settings;
        let _ = writeln!(
            s,
            "| {} | {:e} | {} | {}, {}, {:e} | {} | {} | {} | {} | {} ({}) |",
            a.arch,
            c.lr,
            c.schedule,
            c.adam[0],
            c.adam[1],
            c.adam[2],
            c.label_smoothing,
            c.clip_norm.map_or("-".into(), |v| v.to_string()),
            c.max_tokens,
            c.dropout.map_or("-".into(), |v| v.to_string()),
            c.checkpoint,
            c.select_metric
        );
    }
}
