//! Charts for the `honyaku compare` report and the `honyaku attention` heatmap.
//!
//! Every function writes both `<stem>.svg` and `<stem>.png` and returns the two paths (SVG first).
//! Text is drawn with DejaVu Sans, bundled into the binary and registered with plotters under the
//! family name [`FONT`]; no system font lookup happens, so the charts render the same everywhere
//! (DejaVu Sans has Latin, Greek and Cyrillic; CJK characters come out as boxes).
//!
//! Bad data never panics: non-finite values are skipped, and a chart with nothing to show is
//! drawn with empty axes and a "no data" note.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The font family every chart uses (the bundled DejaVu Sans).
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");

/// Size of line and bar charts, in pixels.
pub const CHART_SIZE: (u32, u32) = (900, 540);

/// Heatmap cell size in pixels when the canvas is not at its limits.
const HEATMAP_CELL: u32 = 40;
const HEATMAP_MIN: u32 = 400;
const HEATMAP_MAX: u32 = 2400;
/// Room around the heatmap grid: left = target labels, right = color scale.
const HEATMAP_LEFT: u32 = 170;
const HEATMAP_RIGHT: u32 = 110;
/// Room above the grid: title, then the source labels.
const HEATMAP_TITLE: u32 = 50;
const HEATMAP_TOP_LABELS: u32 = 130;
const HEATMAP_BOTTOM: u32 = 20;

/// Tableau 10: distinct colors that stay readable on white.
const PALETTE: [RGBColor; 10] = [
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

const GRID: RGBColor = RGBColor(225, 225, 225);
const NOTE: RGBColor = RGBColor(120, 120, 120);
/// The dark end of the heatmap scale.
const DARK_BLUE: (f64, f64, f64) = (8.0, 48.0, 107.0);

/// One named line of a [`line_chart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// One line per series with a legend, axis labels and ranges padded by 5%. Non-finite points
/// are skipped; a series with a single point shows as a dot.
pub fn line_chart(
    stem: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<[PathBuf; 2]> {
    let clean: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|s| {
            let pts = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            (s.name.clone(), pts)
        })
        .collect();
    let fig = LineChart {
        title,
        x_label,
        y_label,
        series: &clean,
    };
    render(stem, CHART_SIZE, &fig)
}

/// Grouped bars: one group per category on x, one bar per series inside each group (colored
/// per series, with a legend). `None` and non-finite values leave their slot empty; values are
/// printed above the bars while there is room for them.
pub fn grouped_bars(
    stem: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(String, Vec<Option<f64>>)],
) -> Result<[PathBuf; 2]> {
    let clean: Vec<(String, Vec<Option<f64>>)> = series
        .iter()
        .map(|(name, values)| {
            let vals = (0..categories.len())
                .map(|i| values.get(i).copied().flatten().filter(|v| v.is_finite()))
                .collect();
            (name.clone(), vals)
        })
        .collect();
    let fig = BarChart {
        title,
        y_label,
        categories,
        series: &clean,
        legend: true,
    };
    render(stem, CHART_SIZE, &fig)
}

/// Simple bars: one bar per item, each in its own color, its value printed above it.
/// Non-finite values leave their slot empty.
pub fn bars(
    stem: &Path,
    title: &str,
    y_label: &str,
    items: &[(String, f64)],
) -> Result<[PathBuf; 2]> {
    let categories: Vec<String> = items.iter().map(|(name, _)| name.clone()).collect();
    // One series per item, each with a value only in its own category, so every bar gets its
    // own color and sits centered in its slot.
    let fig = SimpleBars {
        title,
        y_label,
        categories: &categories,
        values: items
            .iter()
            .map(|(_, v)| Some(*v).filter(|v| v.is_finite()))
            .collect(),
    };
    render(stem, CHART_SIZE, &fig)
}

/// Attention heatmap: one row per generated target token (top to bottom), one column per source
/// token (left to right), `weights[row][col]` in [0, 1] drawn from white to dark blue, with token
/// labels on both axes and a color scale. Ragged or missing rows leave cells empty; values are
/// clamped to [0, 1] and non-finite ones left empty. The canvas size is [`heatmap_size`].
pub fn heatmap(
    stem: &Path,
    title: &str,
    source_tokens: &[String],
    target_tokens: &[String],
    weights: &[Vec<f32>],
) -> Result<[PathBuf; 2]> {
    let (cols, rows) = heatmap_shape(source_tokens, target_tokens, weights);
    let fig = Heatmap {
        title,
        source_tokens,
        target_tokens,
        weights,
        cols,
        rows,
    };
    render(stem, heatmap_size(cols, rows), &fig)
}

/// The canvas size of a heatmap with `cols` source and `rows` target tokens: 40 px per cell plus
/// room for labels, title and color scale, each side within 400..=2400 px.
pub fn heatmap_size(cols: usize, rows: usize) -> (u32, u32) {
    let side = |n: usize, fixed: u32| {
        let cells = u32::try_from(n)
            .unwrap_or(u32::MAX)
            .saturating_mul(HEATMAP_CELL);
        cells.saturating_add(fixed).clamp(HEATMAP_MIN, HEATMAP_MAX)
    };
    (
        side(cols, HEATMAP_LEFT + HEATMAP_RIGHT),
        side(rows, HEATMAP_TITLE + HEATMAP_TOP_LABELS + HEATMAP_BOTTOM),
    )
}

/// Columns and rows a heatmap shows: the longer of the labels and the weights.
fn heatmap_shape(source: &[String], target: &[String], weights: &[Vec<f32>]) -> (usize, usize) {
    let cols = weights
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(source.len());
    let rows = weights.len().max(target.len());
    (cols, rows)
}

// ---------------------------------------------------------------------------------------------
// Rendering to both backends

/// A figure drawable on any plotters backend.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// `<stem>.<ext>`, keeping any dots already in the stem.
fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!(
            "the bundled font DejaVuSans.ttf could not be loaded"
        ))
    }
}

/// Plotters errors carry backend types with lifetimes; keep their message only.
fn plot_err<E: Display>(e: E) -> anyhow::Error {
    anyhow!("{e}")
}

fn render(stem: &Path, size: (u32, u32), fig: &impl Figure) -> Result<[PathBuf; 2]> {
    register_font()?;
    let svg = with_suffix(stem, "svg");
    let png = with_suffix(stem, "png");
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        fig.draw(&root)
            .and_then(|()| root.present().map_err(plot_err))
            .with_context(|| format!("cannot draw chart {}", svg.display()))?;
    }
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        fig.draw(&root)
            .and_then(|()| root.present().map_err(plot_err))
            .with_context(|| format!("cannot draw chart {}", png.display()))?;
    }
    // The SVG backend only reports write errors through `present`, but make sure both exist.
    for path in [&svg, &png] {
        if !path.is_file() {
            return Err(anyhow!("chart {} was not written", path.display()));
        }
    }
    Ok([svg, png])
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn text_style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

/// Shortens `s` to at most `max` characters, ending in "…" when cut.
fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A value as printed on a bar: 3 significant digits, k/M/B for large numbers.
fn fmt_value(v: f64) -> String {
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
fn tick_formatter(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
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
fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
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

/// A drawing area in pixel coordinates.
type Area<DB> = DrawingArea<DB, Shift>;

/// Splits a legend column off the right of `area`, wide enough for `names` (at most 280 px).
fn split_legend<'a, DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: impl Iterator<Item = &'a str>,
) -> Result<(Area<DB>, Option<Area<DB>>)> {
    let style = text_style(14.0);
    let mut widest = 0u32;
    let mut any = false;
    for name in names {
        any = true;
        let (w, _) = area
            .estimate_text_size(&ellipsize(name, 28), &style)
            .map_err(plot_err)?;
        widest = widest.max(w);
    }
    if !any {
        return Ok((area.clone(), None));
    }
    let legend_w = (widest + 50).clamp(90, 280) as i32;
    let (w, _) = area.dim_in_pixel();
    let (chart, legend) = area.split_horizontally(w as i32 - legend_w);
    Ok((chart, Some(legend)))
}

/// Draws legend entries (a color swatch and the name) top-down in `area`.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, bool)],
    top: i32,
) -> Result<()> {
    let style = text_style(14.0).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (name, c, line)) in entries.iter().enumerate() {
        let y = top + 24 * i as i32;
        if *line {
            area.draw(&PathElement::new(vec![(6, y), (30, y)], c.stroke_width(3)))
                .map_err(plot_err)?;
        } else {
            area.draw(&Rectangle::new([(10, y - 7), (26, y + 7)], c.filled()))
                .map_err(plot_err)?;
        }
        area.draw(&Text::new(ellipsize(name, 28), (38, y), style.clone()))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Draws the "no data" note in the middle of `area`.
fn draw_no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Result<()> {
    let (w, h) = area.dim_in_pixel();
    let style = text_style(20.0)
        .color(&NOTE)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new("no data", (w as i32 / 2, h as i32 / 2), style))
        .map_err(plot_err)
}

fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>> {
    root.fill(&WHITE).map_err(plot_err)?;
    root.titled(title, text_style(22.0)).map_err(plot_err)
}

// ---------------------------------------------------------------------------------------------
// Line chart

struct LineChart<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [(String, Vec<(f64, f64)>)],
}

impl Figure for LineChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = titled(root, self.title)?;
        let (chart_area, legend_area) =
            split_legend(&body, self.series.iter().map(|(n, _)| n.as_str()))?;
        let all = || self.series.iter().flat_map(|(_, p)| p.iter());
        let xr = padded_range(all().map(|p| p.0));
        let yr = padded_range(all().map(|p| p.1));
        let ((x0, x1), (y0, y1)) = match (xr, yr) {
            (Some(x), Some(y)) => (x, y),
            _ => ((0.0, 1.0), (0.0, 1.0)),
        };
        let mut chart = ChartBuilder::on(&chart_area)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(75)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_err)?;
        let xf = tick_formatter(x0, x1);
        let yf = tick_formatter(y0, y1);
        chart
            .configure_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style(text_style(13.0))
            .axis_desc_style(text_style(15.0))
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .draw()
            .map_err(plot_err)?;
        let mut legend = Vec::new();
        for (i, (name, pts)) in self.series.iter().enumerate() {
            let c = color(i);
            if pts.len() > 1 {
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                    .map_err(plot_err)?;
            }
            if pts.len() <= 40 {
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled())))
                    .map_err(plot_err)?;
            }
            let label = if pts.is_empty() {
                format!("{name} (no data)")
            } else {
                name.clone()
            };
            legend.push((label, c, true));
        }
        if xr.is_none() || yr.is_none() {
            draw_no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        if let Some(area) = legend_area {
            draw_legend(&area, &legend, 40)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Bar charts

struct BarChart<'a> {
    title: &'a str,
    y_label: &'a str,
    categories: &'a [String],
    /// Values per series, one slot per category, already cleaned.
    series: &'a [(String, Vec<Option<f64>>)],
    legend: bool,
}

struct SimpleBars<'a> {
    title: &'a str,
    y_label: &'a str,
    categories: &'a [String],
    values: Vec<Option<f64>>,
}

impl Figure for SimpleBars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = titled(root, self.title)?;
        let bars: Vec<Bar> = self
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                v.map(|v| Bar {
                    center: i as f64 + 0.5,
                    width: 0.6,
                    value: v,
                    color: color(i),
                })
            })
            .collect();
        draw_bars(&body, self.y_label, self.categories, &bars, true)
    }
}

impl Figure for BarChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let body = titled(root, self.title)?;
        let (chart_area, legend_area) = if self.legend {
            split_legend(&body, self.series.iter().map(|(n, _)| n.as_str()))?
        } else {
            (body.clone(), None)
        };
        let n = self.series.len().max(1) as f64;
        let group = 0.8;
        let width = group / n;
        let mut bars = Vec::new();
        for (s, (_, values)) in self.series.iter().enumerate() {
            for (c, v) in values.iter().enumerate() {
                if let Some(v) = v {
                    bars.push(Bar {
                        center: c as f64 + 0.5 - group / 2.0 + width * (s as f64 + 0.5),
                        width: width * 0.9,
                        value: *v,
                        color: color(s),
                    });
                }
            }
        }
        // Value labels while each bar is wide enough for one (≈ 36 px).
        let (w, _) = chart_area.dim_in_pixel();
        let slots = (self.categories.len().max(1) * self.series.len().max(1)) as f64;
        let labels = f64::from(w.saturating_sub(100)) * group / slots >= 36.0;
        draw_bars(&chart_area, self.y_label, self.categories, &bars, labels)?;
        if let Some(area) = legend_area {
            let entries: Vec<_> = self
                .series
                .iter()
                .enumerate()
                .map(|(i, (name, _))| (name.clone(), color(i), false))
                .collect();
            draw_legend(&area, &entries, 40)?;
        }
        Ok(())
    }
}

struct Bar {
    center: f64,
    width: f64,
    value: f64,
    color: RGBColor,
}

/// Axes with one slot per category (labelled under its center) and the bars, from 0 to value.
fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y_label: &str,
    categories: &[String],
    bars: &[Bar],
    value_labels: bool,
) -> Result<()> {
    let n = categories.len().max(1) as f64;
    let yr = padded_range(bars.iter().map(|b| b.value).chain([0.0]));
    let (mut y0, mut y1) = yr.unwrap_or((0.0, 1.0));
    let has_data = !bars.is_empty();
    if !has_data {
        (y0, y1) = (0.0, 1.0);
    }
    // Bars start at zero: no padding below zero unless some value is negative.
    if bars.iter().all(|b| b.value >= 0.0) {
        y0 = 0.0;
    }
    if bars.iter().all(|b| b.value <= 0.0) && has_data {
        y1 = 0.0;
    }
    // Room for the value labels above (or below) the bars.
    if value_labels && has_data {
        let span = y1 - y0;
        if y1 > 0.0 {
            y1 += span * 0.05;
        }
        if y0 < 0.0 {
            y0 -= span * 0.05;
        }
    }
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(75)
        .build_cartesian_2d(0.0..n, y0..y1)
        .map_err(plot_err)?;
    let yf = tick_formatter(y0, y1);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .label_style(text_style(13.0))
        .axis_desc_style(text_style(15.0))
        .y_label_formatter(&yf)
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()
        .map_err(plot_err)?;
    // Category names under the centers of their slots, drawn by hand (plotters' key-point
    // axes cannot take a label formatter).
    let (w, _) = area.dim_in_pixel();
    let slot_px = f64::from(w.saturating_sub(100)) / n;
    let max_chars = ((slot_px / 7.5) as usize).max(3);
    let (bx, by) = area.get_base_pixel();
    let cat_style = text_style(13.0).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, name) in categories.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, y0));
        area.draw(&Text::new(
            ellipsize(name, max_chars),
            (x - bx, y - by + 8),
            cat_style.clone(),
        ))
        .map_err(plot_err)?;
    }
    chart
        .draw_series(bars.iter().map(|b| {
            Rectangle::new(
                [
                    (b.center - b.width / 2.0, 0.0),
                    (b.center + b.width / 2.0, b.value),
                ],
                b.color.filled(),
            )
        }))
        .map_err(plot_err)?;
    if value_labels {
        let above = text_style(12.0).pos(Pos::new(HPos::Center, VPos::Bottom));
        let below = text_style(12.0).pos(Pos::new(HPos::Center, VPos::Top));
        chart
            .draw_series(bars.iter().map(|b| {
                let style = if b.value >= 0.0 { &above } else { &below };
                Text::new(fmt_value(b.value), (b.center, b.value), style.clone())
            }))
            .map_err(plot_err)?;
    }
    if !has_data {
        draw_no_data(&chart.plotting_area().strip_coord_spec())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Heatmap

struct Heatmap<'a> {
    title: &'a str,
    source_tokens: &'a [String],
    target_tokens: &'a [String],
    weights: &'a [Vec<f32>],
    cols: usize,
    rows: usize,
}

/// White (0) to dark blue (1).
fn heat_color(w: f64) -> RGBColor {
    let t = w.clamp(0.0, 1.0);
    let mix = |dark: f64| (255.0 + (dark - 255.0) * t).round() as u8;
    RGBColor(mix(DARK_BLUE.0), mix(DARK_BLUE.1), mix(DARK_BLUE.2))
}

impl Figure for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        root.fill(&WHITE).map_err(plot_err)?;
        let (w, h) = root.dim_in_pixel();
        let title_style = text_style(20.0).pos(Pos::new(HPos::Center, VPos::Center));
        root.draw(&Text::new(
            self.title.to_string(),
            (w as i32 / 2, HEATMAP_TITLE as i32 / 2),
            title_style,
        ))
        .map_err(plot_err)?;
        if self.cols == 0 || self.rows == 0 {
            return draw_no_data(root);
        }
        let avail_w = w.saturating_sub(HEATMAP_LEFT + HEATMAP_RIGHT);
        let avail_h = h.saturating_sub(HEATMAP_TITLE + HEATMAP_TOP_LABELS + HEATMAP_BOTTOM);
        // Square cells, as large as fits, at most 60 px.
        let cell = (f64::from(avail_w) / self.cols as f64)
            .min(f64::from(avail_h) / self.rows as f64)
            .clamp(1.0, 60.0);
        let left = HEATMAP_LEFT as i32;
        let top = (HEATMAP_TITLE + HEATMAP_TOP_LABELS) as i32;
        let px = |i: usize| (i as f64 * cell).round() as i32;
        let grid_w = px(self.cols);
        let grid_h = px(self.rows);

        for (r, row) in self.weights.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                if !v.is_finite() {
                    continue;
                }
                let rect = [
                    (left + px(c), top + px(r)),
                    (left + px(c + 1), top + px(r + 1)),
                ];
                root.draw(&Rectangle::new(rect, heat_color(f64::from(v)).filled()))
                    .map_err(plot_err)?;
            }
        }
        root.draw(&Rectangle::new(
            [(left, top), (left + grid_w, top + grid_h)],
            RGBColor(160, 160, 160).stroke_width(1),
        ))
        .map_err(plot_err)?;

        // Labels: as large as the cells allow, 8..=14 px.
        let font_size = (cell * 0.55).clamp(8.0, 14.0);
        let label_style = text_style(font_size);
        let row_style = label_style.clone().pos(Pos::new(HPos::Right, VPos::Center));
        let max_row_chars = ((HEATMAP_LEFT as f64 - 12.0) / (font_size * 0.62)) as usize;
        for r in 0..self.rows {
            let label = self.target_tokens.get(r).map(String::as_str).unwrap_or("");
            let y = top + ((r as f64 + 0.5) * cell).round() as i32;
            root.draw(&Text::new(
                ellipsize(label, max_row_chars),
                (left - 6, y),
                row_style.clone(),
            ))
            .map_err(plot_err)?;
        }
        // Source labels above the grid: horizontal when they all fit their cells, else rotated
        // to read bottom-up with their end next to the grid.
        let max_col_chars = ((HEATMAP_TOP_LABELS as f64 - 12.0) / (font_size * 0.62)) as usize;
        let col_labels: Vec<String> = (0..self.cols)
            .map(|c| {
                let t = self.source_tokens.get(c).map(String::as_str).unwrap_or("");
                ellipsize(t, max_col_chars)
            })
            .collect();
        let mut widest = 0u32;
        for l in &col_labels {
            widest = widest.max(
                root.estimate_text_size(l, &label_style)
                    .map_err(plot_err)?
                    .0,
            );
        }
        let horizontal = f64::from(widest) + 4.0 <= cell;
        for (c, label) in col_labels.iter().enumerate() {
            let x = left + ((c as f64 + 0.5) * cell).round() as i32;
            if horizontal {
                let style = label_style
                    .clone()
                    .pos(Pos::new(HPos::Center, VPos::Bottom));
                root.draw(&Text::new(label.clone(), (x, top - 6), style))
                    .map_err(plot_err)?;
            } else {
                let (_, th) = root
                    .estimate_text_size(label, &label_style)
                    .map_err(plot_err)?;
                // Rotated text is drawn from its (rotated) top-left corner: the text starts at
                // the bottom and runs upwards.
                let style = label_style.clone().transform(FontTransform::Rotate270);
                let pos = (x - th as i32 / 2, top - 6);
                root.draw(&Text::new(label.clone(), pos, style))
                    .map_err(plot_err)?;
            }
        }

        // Color scale to the right of the grid.
        let bar_x = left + grid_w + 20;
        let bar_h = grid_h.clamp(60, 300);
        let steps = bar_h.max(1);
        for i in 0..steps {
            let t = 1.0 - f64::from(i) / f64::from(steps - 1).max(1.0);
            let y = top + i;
            root.draw(&Rectangle::new(
                [(bar_x, y), (bar_x + 16, y + 1)],
                heat_color(t).filled(),
            ))
            .map_err(plot_err)?;
        }
        root.draw(&Rectangle::new(
            [(bar_x, top), (bar_x + 16, top + bar_h)],
            RGBColor(160, 160, 160).stroke_width(1),
        ))
        .map_err(plot_err)?;
        let tick_style = text_style(12.0).pos(Pos::new(HPos::Left, VPos::Center));
        for (t, label) in [(1.0, "1.0"), (0.5, "0.5"), (0.0, "0.0")] {
            let y = top + ((1.0 - t) * f64::from(bar_h - 1)).round() as i32;
            root.draw(&Text::new(label, (bar_x + 22, y), tick_style.clone()))
                .map_err(plot_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honyaku_conformance::tempdir;

    /// Width and height from a PNG's IHDR chunk, after checking the signature.
    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.len() > 33, "{} too short", path.display());
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "bad PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR");
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        (w, h)
    }

    fn check(paths: &[PathBuf; 2], size: (u32, u32), names: &[&str]) {
        let [svg, png] = paths;
        assert_eq!(svg.extension().unwrap(), "svg");
        assert_eq!(png.extension().unwrap(), "png");
        let text = std::fs::read_to_string(svg).unwrap();
        assert!(text.contains("<svg"), "no <svg in {}", svg.display());
        for name in names {
            assert!(
                text.contains(name),
                "{name:?} missing from {}",
                svg.display()
            );
        }
        assert_eq!(png_size(png), size);
    }

    fn curve(name: &str, f: impl Fn(f64) -> f64) -> Series {
        Series {
            name: name.into(),
            points: (1..=20).map(|e| (f64::from(e), f(f64::from(e)))).collect(),
        }
    }

    #[test]
    fn line_chart_writes_svg_and_png() {
        let dir = tempdir().unwrap();
        let stem = dir.path().join("sub").join("loss.v1");
        let series = [
            curve("lstm", |e| 5.0 / e + 1.0),
            curve("attention", |e| 4.0 / e + 0.8),
        ];
        let paths = line_chart(&stem, "Validation loss", "epoch", "loss", &series).unwrap();
        assert_eq!(paths[0], dir.path().join("sub").join("loss.v1.svg"));
        check(
            &paths,
            CHART_SIZE,
            &["lstm", "attention", "Validation loss", "epoch"],
        );
    }

    #[test]
    fn line_chart_survives_empty_and_nan() {
        let dir = tempdir().unwrap();
        let paths = line_chart(&dir.path().join("empty"), "t", "x", "y", &[]).unwrap();
        check(&paths, CHART_SIZE, &["no data"]);
        let bad = [
            Series {
                name: "nan".into(),
                points: vec![(f64::NAN, 1.0), (1.0, f64::INFINITY)],
            },
            Series {
                name: "none".into(),
                points: vec![],
            },
        ];
        let paths = line_chart(&dir.path().join("nan"), "t", "x", "y", &bad).unwrap();
        check(&paths, CHART_SIZE, &["nan", "none", "no data"]);
        let one = [
            Series {
                name: "single".into(),
                points: vec![(3.0, 2.0), (f64::NAN, 0.0)],
            },
            Series {
                name: "flat".into(),
                points: vec![(1.0, 0.0), (2.0, 0.0)],
            },
        ];
        let paths = line_chart(&dir.path().join("one"), "t", "x", "y", &one).unwrap();
        check(&paths, CHART_SIZE, &["single", "flat"]);
    }

    #[test]
    fn grouped_bars_writes_svg_and_png() {
        let dir = tempdir().unwrap();
        let cats: Vec<String> = ["1-10", "11-20", "21-30", "31+"].map(String::from).into();
        let series = vec![
            (
                "lstm".to_string(),
                vec![Some(21.5), Some(17.25), Some(12.0), Some(8.5)],
            ),
            (
                "transformer".to_string(),
                vec![Some(25.0), None, Some(f64::NAN), Some(15.0)],
            ),
            ("short".to_string(), vec![Some(1.0)]),
        ];
        let paths = grouped_bars(
            &dir.path().join("bleu"),
            "BLEU by length",
            "BLEU",
            &cats,
            &series,
        )
        .unwrap();
        check(&paths, CHART_SIZE, &["lstm", "transformer", "31+", "21.5"]);
        let paths = grouped_bars(&dir.path().join("empty"), "t", "y", &[], &[]).unwrap();
        check(&paths, CHART_SIZE, &["no data"]);
        let none = vec![("x".to_string(), vec![None, Some(f64::NAN)])];
        let paths = grouped_bars(&dir.path().join("none"), "t", "y", &cats, &none).unwrap();
        check(&paths, CHART_SIZE, &["no data"]);
    }

    #[test]
    fn bars_writes_svg_and_png() {
        let dir = tempdir().unwrap();
        let items = vec![
            ("lstm".to_string(), 12_345_678.0),
            ("attention".to_string(), 15_000_000.0),
            ("transformer".to_string(), f64::NAN),
            ("tiny".to_string(), -3.0),
        ];
        let paths = bars(
            &dir.path().join("params"),
            "Parameters",
            "parameters",
            &items,
        )
        .unwrap();
        check(
            &paths,
            CHART_SIZE,
            &["lstm", "attention", "transformer", "12.3M"],
        );
        let paths = bars(&dir.path().join("empty"), "t", "y", &[]).unwrap();
        check(&paths, CHART_SIZE, &["no data"]);
    }

    #[test]
    fn heatmap_writes_svg_and_png() {
        let dir = tempdir().unwrap();
        let src: Vec<String> = ["▁Der", "▁Hund", "▁läuft", "</s>"].map(String::from).into();
        let tgt: Vec<String> = ["▁The", "▁dog", "▁runs", "&", "日本"]
            .map(String::from)
            .into();
        let weights: Vec<Vec<f32>> = (0..tgt.len())
            .map(|r| {
                (0..src.len())
                    .map(|c| if r == c { 0.9 } else { 0.1 / 3.0 })
                    .collect()
            })
            .collect();
        let paths = heatmap(&dir.path().join("att"), "Attention", &src, &tgt, &weights).unwrap();
        assert_eq!(heatmap_size(4, 5), (440, 400));
        check(&paths, (440, 400), &["▁Hund", "▁dog", "Attention"]);

        // Ragged rows, NaN, out-of-range values and more tokens than weights.
        let weights = vec![vec![f32::NAN, 2.0, -1.0], vec![0.5]];
        let paths = heatmap(&dir.path().join("ragged"), "r", &src, &tgt, &weights).unwrap();
        check(&paths, heatmap_size(4, 5), &["▁läuft"]);

        let paths = heatmap(&dir.path().join("empty"), "e", &[], &[], &[]).unwrap();
        check(&paths, (HEATMAP_MIN, HEATMAP_MIN), &["no data"]);

        let many: Vec<String> = (0..80).map(|i| format!("▁tok{i}")).collect();
        let weights = vec![vec![1.0 / 80.0; 80]; 30];
        let paths = heatmap(&dir.path().join("big"), "big", &many, &many[..30], &weights).unwrap();
        assert_eq!(heatmap_size(80, 30), (2400, 1400));
        check(&paths, (2400, 1400), &["▁tok79"]);
    }

    #[test]
    fn value_and_tick_formats() {
        assert_eq!(fmt_value(12_345_678.0), "12.3M");
        assert_eq!(fmt_value(21.5), "21.5");
        assert_eq!(fmt_value(0.1234), "0.123");
        assert_eq!(fmt_value(45_000.0), "45.0k");
        assert_eq!(tick_formatter(0.0, 1.0)(&0.2), "0.2");
        assert_eq!(tick_formatter(0.0, 0.1)(&0.025), "0.03");
        assert_eq!(tick_formatter(0.0, 100.0)(&40.0), "40");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
    }

    /// Writes sample charts to /tmp/plots for a visual check:
    /// `cargo test --release -p honyaku plots::tests::samples -- --ignored`.
    #[test]
    #[ignore]
    fn samples() {
        let dir = Path::new("/tmp/plots");
        let series = [
            curve("lstm", |e| 5.0 / e + 1.0),
            curve("attention", |e| 4.0 / e + 0.8),
            curve("transformer with a long name", |e| 3.5 / e.sqrt() + 0.5),
        ];
        line_chart(
            &dir.join("line"),
            "Validation loss per epoch",
            "epoch",
            "loss",
            &series,
        )
        .unwrap();
        let steps = [Series {
            name: "train".into(),
            points: (0..200)
                .map(|s| {
                    (
                        f64::from(s) * 500.0,
                        8.0 * (-f64::from(s) / 50.0).exp() + 1.0,
                    )
                })
                .collect(),
        }];
        line_chart(&dir.join("steps"), "Training loss", "step", "loss", &steps).unwrap();
        line_chart(&dir.join("line_empty"), "Nothing", "x", "y", &[]).unwrap();
        let cats: Vec<String> = ["1-10", "11-20", "21-30", "31+"].map(String::from).into();
        let gb = vec![
            (
                "lstm".to_string(),
                vec![Some(21.5), Some(17.25), Some(12.0), Some(8.5)],
            ),
            (
                "attention".to_string(),
                vec![Some(24.0), Some(21.0), Some(18.2), Some(14.1)],
            ),
            (
                "transformer".to_string(),
                vec![Some(27.3), None, Some(22.0), Some(19.9)],
            ),
        ];
        grouped_bars(
            &dir.join("grouped"),
            "BLEU by source length",
            "BLEU",
            &cats,
            &gb,
        )
        .unwrap();
        let items = vec![
            ("lstm".to_string(), 12_345_678.0),
            ("attention".to_string(), 15_000_000.0),
            ("transformer".to_string(), 44_100_000.0),
        ];
        bars(
            &dir.join("bars"),
            "Parameters per architecture",
            "parameters",
            &items,
        )
        .unwrap();
        let src: Vec<String> = [
            "▁Der",
            "▁kleine",
            "▁Hund",
            "▁läuft",
            "▁schnell",
            ".",
            "</s>",
        ]
        .map(String::from)
        .into();
        let tgt: Vec<String> = [
            "▁The",
            "▁little",
            "▁dog",
            "▁runs",
            "▁fast",
            ".",
            "</s>",
            "日本語",
        ]
        .map(String::from)
        .into();
        let w: Vec<Vec<f32>> = (0..tgt.len())
            .map(|r| {
                (0..src.len())
                    .map(|c| 1.0 / (1.0 + 4.0 * (r as f32 - c as f32).powi(2)))
                    .collect()
            })
            .collect();
        heatmap(
            &dir.join("heat"),
            "Attention: Der kleine Hund läuft schnell.",
            &src,
            &tgt,
            &w,
        )
        .unwrap();
        let short_src: Vec<String> = ["a", "b", "c"].map(String::from).into();
        let short_tgt: Vec<String> = ["x", "y"].map(String::from).into();
        heatmap(
            &dir.join("heat_small"),
            "small",
            &short_src,
            &short_tgt,
            &[vec![0.2, 0.7, 0.1], vec![0.0, 0.1, 0.9]],
        )
        .unwrap();
        let many: Vec<String> = (0..60).map(|i| format!("▁слово{i}")).collect();
        let w: Vec<Vec<f32>> = (0..45)
            .map(|r| {
                (0..60)
                    .map(|c| 1.0 / (1.0 + (r as f32 * 1.3 - c as f32).powi(2)))
                    .collect()
            })
            .collect();
        heatmap(&dir.join("heat_big"), "many tokens", &many, &many[..45], &w).unwrap();
    }
}
