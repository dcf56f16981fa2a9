//! Colors, text styles and number formats of the charts.

use plotters::prelude::*;

/// The font family every chart uses (the bundled DejaVu Sans).
pub const FONT: &str = "sans-serif";

/// Tableau 10: distinct colors that stay readable on white.
pub(super) const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

pub(super) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(super) const NOTE: RGBColor = RGBColor(120, 120, 120);
/// The dark end of the heatmap scale.
pub(super) const DARK_BLUE: (f64, f64, f64) = (8.0, 48.0, 107.0);

pub(super) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub(super) fn text_style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

/// Shortens `s` to at most `max` characters, ending in "…" when cut.
pub(super) fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A value as printed on a bar: 3 significant digits, k/M/B for large numbers.
pub(super) fn fmt_value(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = scaled.abs();
    let decimals = if s >= 100.0 || (suffix.is_empty() && s >= 1000.0) {
        0
    } else if s >= 10.0 {
        1
    } else if s == 0.0 || s >= 1.0 || !suffix.is_empty() {
        2
    } else {
        3
    };
    format!("{scaled:.decimals$}{suffix}")
}

/// Formats axis ticks of an axis spanning `span` with as many decimals as the tick step needs;
/// large values get k/M/B suffixes.
pub(super) fn tick_formatter(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let span = (hi - lo).abs();
    let big = lo.abs().max(hi.abs()) >= 1e5;
    let step = span / 10.0;
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        0
    };
    move |v: &f64| {
        if big {
            fmt_value(*v)
        } else {
            let s = format!("{v:.decimals$}");
            // Avoid "-0" / "-0.0".
            if s.trim_start_matches(['-', '0', '.']).is_empty() {
                s.trim_start_matches('-').to_string()
            } else {
                s
            }
        }
    }
}

/// Range of `values` padded by 5% on both sides (never empty, never non-finite).
pub(super) fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })?;
    let span = hi - lo;
    let pad = if span > 0.0 && span.is_finite() {
        span * 0.05
    } else if lo != 0.0 {
        lo.abs() * 0.05
    } else {
        1.0
    };
    let (a, b) = (lo - pad, hi + pad);
    (a.is_finite() && b.is_finite() && a < b).then_some((a, b))
}
