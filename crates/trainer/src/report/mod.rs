//! The comparison report: `report.json`, `report.md` (English or Japanese) and the plots; and
//! what `evaluate` reports.

mod comparison;
pub mod evaluation;
mod figures;
mod markdown;
pub mod scoring;
mod words;

use std::path::Path;

use anyhow::Result;

pub use self::comparison::{
    ArchResult, CompareReport, Curve, CurvePoint, Example, PairTest, RunSettings,
};
use self::figures::write_plots;
use self::markdown::markdown;
pub use self::markdown::table;
pub use self::words::Lang;
use crate::run::write_atomic;

/// Writes `report.json`, `report.md` and the plots into `dir`.
pub fn write(dir: &Path, r: &CompareReport, lang: Lang) -> Result<()> {
    let plot_files = write_plots(dir, r)?;
    write_atomic(
        &dir.join("report.json"),
        serde_json::to_string_pretty(r)?.as_bytes(),
    )?;
    write_atomic(
        &dir.join("report.md"),
        markdown(r, lang, &plot_files).as_bytes(),
    )
}
