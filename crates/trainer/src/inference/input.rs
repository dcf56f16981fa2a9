//! Reading the lines to translate or score: from a file or standard input, UTF-8 checked.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, anyhow};

/// Reads lines from a file or stdin; invalid UTF-8 is an error naming the line. A byte order
/// mark at the start and `\r` line endings are removed.
pub fn read_input(path: Option<&Path>) -> Result<Vec<String>> {
    let (name, reader): (String, Box<dyn Read>) = match path {
        Some(path) => (
            path.display().to_string(),
            Box::new(
                File::open(path).with_context(|| format!("opening input {}", path.display()))?,
            ),
        ),
        None => ("standard input".to_string(), Box::new(io::stdin())),
    };
    let mut lines = Vec::new();
    for (i, line) in BufReader::new(reader).split(b'\n').enumerate() {
        let bytes = line.with_context(|| format!("reading {name}"))?;
        let mut text = String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "{name} line {}: invalid UTF-8 at byte {}; convert the input to UTF-8, e.g. with \
                 `iconv -f latin1 -t utf-8`",
                i + 1,
                e.utf8_error().valid_up_to()
            )
        })?;
        if i == 0 && text.starts_with('\u{feff}') {
            text.remove(0);
        }
        if text.ends_with('\r') {
            text.pop();
        }
        lines.push(text);
    }
    Ok(lines)
}
