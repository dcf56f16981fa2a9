//! The line chart (learning curves).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::frame::*;
use super::style::*;

/// One named line of a [`line_chart`](super::line_chart).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

pub(super) struct LineChart<'a> {
    pub(super) title: &'a str,
    pub(super) x_label: &'a str,
    pub(super) y_label: &'a str,
    pub(super) series: &'a [(String, Vec<(f64, f64)>)],
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
