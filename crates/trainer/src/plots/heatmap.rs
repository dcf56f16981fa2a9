//! The attention heatmap: target tokens against source tokens, white to dark blue.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::*;
use super::style::*;

/// Heatmap cell size in pixels when the canvas is not at its limits.
pub(super) const HEATMAP_CELL: u32 = 40;
pub(super) const HEATMAP_MIN: u32 = 400;
pub(super) const HEATMAP_MAX: u32 = 2400;
/// Room around the heatmap grid: left = target labels, right = color scale.
pub(super) const HEATMAP_LEFT: u32 = 170;
pub(super) const HEATMAP_RIGHT: u32 = 110;
/// Room above the grid: title, then the source labels.
pub(super) const HEATMAP_TITLE: u32 = 50;
pub(super) const HEATMAP_TOP_LABELS: u32 = 130;
pub(super) const HEATMAP_BOTTOM: u32 = 20;

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
pub(super) fn heatmap_shape(
    source: &[String],
    target: &[String],
    weights: &[Vec<f32>],
) -> (usize, usize) {
    let cols = weights
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(source.len());
    let rows = weights.len().max(target.len());
    (cols, rows)
}

pub(super) struct Heatmap<'a> {
    pub(super) title: &'a str,
    pub(super) source_tokens: &'a [String],
    pub(super) target_tokens: &'a [String],
    pub(super) weights: &'a [Vec<f32>],
    pub(super) cols: usize,
    pub(super) rows: usize,
}

/// White (0) to dark blue (1).
pub(super) fn heat_color(w: f64) -> RGBColor {
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
