//! Reading the lines to translate or score: from a file or standard input, UTF-8 checked.

use std::io::{self, BufRead};
use std::path::Path;

use anyhow::{Context, Result, anyhow};

/// Reads lines from a file (plain or gzip, through the data crate's reader) or from stdin;
/// invalid UTF-8 is an error naming the file and line. A byte order mark at the start and `\r`
/// line endings are removed.
pub fn read_input(path: Option<&Path>) -> Result<Vec<String>> {
    if let Some(path) = path {
        return Ok(honyaku_data::corpus::read_lines(path)?);
    }
    let name = "standard input";
    let mut lines = Vec::new();
    for (i, line) in io::stdin().lock().split(b'\n').enumerate() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    #[test]
    fn a_file_to_translate_or_score_may_be_gzip() {
        let tmp = honyaku_conformance::tempdir().unwrap();
        let (plain, gz) = (tmp.path().join("ref.en"), tmp.path().join("ref.en.gz"));
        std::fs::write(&plain, "\u{feff}a b\r\n\nc\n").unwrap();
        let mut enc = GzEncoder::new(std::fs::File::create(&gz).unwrap(), Compression::fast());
        enc.write_all(b"a b\r\n\nc\n").unwrap();
        enc.finish().unwrap();
        let expected = ["a b", "", "c"];
        assert_eq!(read_input(Some(&plain)).unwrap(), expected);
        assert_eq!(read_input(Some(&gz)).unwrap(), expected);
        std::fs::write(&plain, b"ok\n\xff\n").unwrap();
        let err = read_input(Some(&plain)).unwrap_err().to_string();
        assert!(err.contains("ref.en' line 2: invalid UTF-8"), "{err}");
    }
}
