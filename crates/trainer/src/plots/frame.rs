//! Rendering a figure to SVG and PNG, with the bundled font, and the frame pieces every chart
//! shares: title, legend, the "no data" note.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::*;

pub(super) static FONT_BYTES: &[u8] = include_bytes!("../../../../data/fonts/DejaVuSans.ttf");

/// A figure drawable on any plotters backend.
pub(super) trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// `<stem>.<ext>`, keeping any dots already in the stem.
pub(super) fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

pub(super) fn register_font() -> Result<()> {
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
pub(super) fn plot_err<E: Display>(e: E) -> anyhow::Error {
    anyhow!("{e}")
}

pub(super) fn render(stem: &Path, size: (u32, u32), fig: &impl Figure) -> Result<[PathBuf; 2]> {
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

/// A drawing area in pixel coordinates.
pub(super) type Area<DB> = DrawingArea<DB, Shift>;

/// Splits a legend column off the right of `area`, wide enough for `names` (at most 280 px).
pub(super) fn split_legend<'a, DB: DrawingBackend>(
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
pub(super) fn draw_legend<DB: DrawingBackend>(
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
pub(super) fn draw_no_data<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Result<()> {
    let (w, h) = area.dim_in_pixel();
    let style = text_style(20.0)
        .color(&NOTE)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new("no data", (w as i32 / 2, h as i32 / 2), style))
        .map_err(plot_err)
}

pub(super) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>> {
    root.fill(&WHITE).map_err(plot_err)?;
    root.titled(title, text_style(22.0)).map_err(plot_err)
}
