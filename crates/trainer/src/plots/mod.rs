//! Charts for the `honyaku compare` report and the `honyaku attention` heatmap.
//!
//! Every function writes both `<stem>.svg` and `<stem>.png` and returns the two paths (SVG first).
//! Text is drawn with DejaVu Sans, bundled into the binary and registered with plotters under the
//! family name [`FONT`]; no system font lookup happens, so the charts render the same everywhere
//! (DejaVu Sans has Latin, Greek and Cyrillic; CJK characters come out as boxes).
//!
//! Bad data never panics: non-finite values are skipped, and a chart with nothing to show is
//! drawn with empty axes and a "no data" note.

mod bars;
mod frame;
mod heatmap;
mod line;
mod style;

use std::path::{Path, PathBuf};

use anyhow::Result;

use self::bars::{BarChart, SimpleBars};
use self::frame::render;
pub use self::heatmap::heatmap_size;
use self::heatmap::{Heatmap, heatmap_shape};
use self::line::LineChart;
pub use self::line::Series;
pub use self::style::FONT;

/// Size of line and bar charts, in pixels.
pub const CHART_SIZE: (u32, u32) = (900, 540);

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

#[cfg(test)]
mod tests {
    use super::heatmap::HEATMAP_MIN;
    use super::style::{ellipsize, fmt_value, tick_formatter};
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
