//! Writing results to standard output: a closed pipe (`honyaku ... | head`) ends the output
//! quietly instead of failing.

use std::io::{self, Write};

use anyhow::{Context, Result};

/// Writes `text` to standard output; a reader that went away is not an error.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to standard output"),
    }
}
