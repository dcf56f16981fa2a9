//! Bar charts: grouped bars per category, and simple bars.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::frame::*;
use super::style::*;

pub(super) struct BarChart<'a> {
    pub(super) title: &'a str,
    pub(super) y_label: &'a str,
    pub(super) categories: &'a [String],
    /// Values per series, one slot per category, already cleaned.
    pub(super) series: &'a [(String, Vec<Option<f64>>)],
    pub(super) legend: bool,
}

pub(super) struct SimpleBars<'a> {
    pub(super) title: &'a str,
    pub(super) y_label: &'a str,
    pub(super) categories: &'a [String],
    pub(super) values: Vec<Option<f64>>,
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

pub(super) struct Bar {
    pub(super) center: f64,
    pub(super) width: f64,
    pub(super) value: f64,
    pub(super) color: RGBColor,
}

/// Axes with one slot per category (labelled under its center) and the bars, from 0 to value.
pub(super) fn draw_bars<DB: DrawingBackend>(
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
