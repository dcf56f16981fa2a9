//! Property tests ("fuzzing") of everything that reads user files: the corpus readers (plain,
//! gzip, TSV) and tokenizer loading. Each must return `Ok` or a typed [`DataError`] for any
//! bytes, never panic; what is written and read back comes back identical, modulo the
//! documented normalisation (a leading byte order mark and `\r` before `\n` are removed).
//!
//! 256 cases per property by default; `PROPTEST_CASES=20000 cargo test --release --workspace
//! --test fuzz` runs a long campaign (see docs/ERRORS.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::Compression;
use flate2::write::GzEncoder;
use honyaku_conformance::{TempDir, tempdir};
use honyaku_data::DataError;
use honyaku_data::corpus::{SentencePair, read_lines, read_parallel, read_tsv};
use honyaku_data::tokenizer::{Tokenizer, TokenizerConfig, Tokenizers};
use proptest::prelude::*;

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Bytes that look like text files: mostly ASCII letters and spaces, with the characters
/// readers must care about (newlines, CR, tabs, BOM, NUL, invalid UTF-8, multi-byte chars).
fn text_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        6 => "[a-z ]{1,6}".prop_map(String::into_bytes),
        2 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\t".to_vec()),
        1 => Just(b"\xEF\xBB\xBF".to_vec()),
        1 => Just(b"\0".to_vec()),
        1 => Just("é日本語🙂".as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|p| p.concat())
}

/// One line of text without line breaks, not ending in `\r`, no byte order mark.
fn line() -> impl Strategy<Value = String> {
    "[^\n\r\u{feff}]{0,12}"
}

/// Every error of a reader is a typed [`DataError`] whose message names the file.
fn check_error(err: &DataError, path: &Path) {
    let text = err.to_string();
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(text.contains(&*name), "{text}");
}

proptest! {
    #[test]
    fn plain_reader_never_panics(bytes in text_bytes(64)) {
        let dir = tempdir().unwrap();
        let path = write(&dir, "any.txt", &bytes);
        match read_lines(&path) {
            Ok(lines) => {
                prop_assert!(std::str::from_utf8(&bytes).is_ok());
                prop_assert!(lines.iter().all(|l| !l.contains('\n')));
                let breaks = bytes.iter().filter(|&&b| b == b'\n').count();
                // Documented: a file of only a byte order mark is empty.
                let bom_only = bytes == b"\xEF\xBB\xBF";
                let tail = !bytes.is_empty() && !bytes.ends_with(b"\n") && !bom_only;
                prop_assert_eq!(lines.len(), breaks + usize::from(tail));
            }
            Err(err) => {
                prop_assert!(matches!(err, DataError::InvalidUtf8 { .. }), "{}", err);
                check_error(&err, &path);
            }
        }
    }

    #[test]
    fn plain_lines_round_trip(
        lines in prop::collection::vec(line(), 0..20),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let dir = tempdir().unwrap();
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = if bom { "\u{feff}".to_string() } else { String::new() };
        text.push_str(&lines.join(eol));
        // Without a final newline an empty last line is not a line.
        let final_newline = final_newline || lines.last().is_some_and(String::is_empty);
        if final_newline && !lines.is_empty() {
            text.push_str(eol);
        }
        let path = write(&dir, "lines.txt", text.as_bytes());
        prop_assert_eq!(read_lines(&path).unwrap(), lines.clone());
        let gz = write(&dir, "lines.gz", &gzip(text.as_bytes()));
        prop_assert_eq!(read_lines(&gz).unwrap(), lines);
    }

    #[test]
    fn gzip_reader_never_panics(bytes in text_bytes(64), cut in any::<prop::sample::Index>(), flip in any::<Option<(prop::sample::Index, u8)>>()) {
        let dir = tempdir().unwrap();
        let mut gz = gzip(&bytes);
        let full = gz.len();
        gz.truncate(cut.index(full) .max(2) + 1);
        if let Some((at, byte)) = flip {
            let i = at.index(gz.len());
            if i >= 2 {
                gz[i] ^= byte;
            }
        }
        let path = write(&dir, "any.gz", &gz);
        match read_lines(&path) {
            Ok(lines) => {
                // Only a complete, intact stream reads.
                prop_assert!(gz.len() == full, "a truncated stream read as {:?}", lines);
            }
            Err(err) => {
                prop_assert!(
                    matches!(err, DataError::CorruptGzip { .. } | DataError::InvalidUtf8 { .. }),
                    "{}", err
                );
                check_error(&err, &path);
            }
        }
    }

    #[test]
    fn tsv_reader_never_panics(
        bytes in text_bytes(64),
        src_col in 0usize..5,
        tgt_col in 0usize..5,
        gz in any::<bool>(),
    ) {
        let dir = tempdir().unwrap();
        let data = if gz { gzip(&bytes) } else { bytes.clone() };
        let path = write(&dir, "any.tsv", &data);
        match read_tsv(&path, src_col, tgt_col) {
            Ok(pairs) => {
                prop_assert!(!pairs.is_empty());
                prop_assert!(pairs.iter().all(|p| !p.src.contains('\t') && !p.tgt.contains('\t')));
            }
            Err(DataError::InvalidConfig { .. }) => prop_assert!(src_col == 0 || tgt_col == 0),
            Err(err) => {
                prop_assert!(matches!(
                    err,
                    DataError::InvalidUtf8 { .. }
                        | DataError::MissingColumn { .. }
                        | DataError::EmptyCorpus { .. }
                ), "{}", err);
                check_error(&err, &path);
            }
        }
    }

    #[test]
    fn tsv_rows_round_trip(
        rows in prop::collection::vec(prop::collection::vec("[^\t\n\r\u{feff}]{0,8}", 2..5), 1..15),
        src_col in 1usize..3,
        tgt_col in 1usize..3,
    ) {
        let dir = tempdir().unwrap();
        let text: String = rows.iter().map(|r| format!("{}\n", r.join("\t"))).collect();
        let path = write(&dir, "rows.tsv", text.as_bytes());
        // Documented: blank lines (tabs and spaces only) are skipped.
        let expected: Vec<SentencePair> = rows
            .iter()
            .filter(|r| !r.join("\t").trim().is_empty())
            .map(|r| SentencePair::new(r[src_col - 1].clone(), r[tgt_col - 1].clone()))
            .collect();
        match read_tsv(&path, src_col, tgt_col) {
            Ok(pairs) => prop_assert_eq!(pairs, expected),
            Err(DataError::EmptyCorpus { .. }) => prop_assert!(expected.is_empty()),
            Err(err) => prop_assert!(false, "{}", err),
        }
    }

    #[test]
    fn parallel_reader_never_panics(src in text_bytes(32), tgt in text_bytes(32)) {
        let dir = tempdir().unwrap();
        let (s, t) = (write(&dir, "a.src", &src), write(&dir, "a.tgt", &tgt));
        if let Ok(pairs) = read_parallel(&s, &t) {
            prop_assert_eq!(pairs.len(), read_lines(&s).unwrap().len());
        }
    }
}

/// A small trained tokenizer's JSON, the seed of the mutations below.
fn tokenizer_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let texts = [
            "the dog sees a cat .",
            "der Hund sieht eine Katze .",
            "a big cat eats the fish .",
            "eine große Katze frisst den Fisch .",
        ];
        let cfg = TokenizerConfig {
            vocab_size: 60,
            ..TokenizerConfig::default()
        };
        let tok = Tokenizer::train(texts, &cfg).unwrap();
        let dir = tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        tok.save(&path).unwrap();
        std::fs::read_to_string(&path).unwrap()
    })
}

/// A JSON value of any shape, small.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(1),
            Just(3),
            Just(u32::MAX as i64 + 1)
        ]
        .prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z<>▁ ]{0,6}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the `pick`-th leaf (or container) of `value`, in depth-first order, by `new`.
fn replace_nth(value: &mut serde_json::Value, pick: &mut usize, new: &serde_json::Value) -> bool {
    if *pick == 0 {
        *value = new.clone();
        return true;
    }
    *pick -= 1;
    match value {
        serde_json::Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, pick, new)),
        serde_json::Value::Object(map) => map.values_mut().any(|v| replace_nth(v, pick, new)),
        _ => false,
    }
}

fn count_nodes(value: &serde_json::Value) -> usize {
    1 + match value {
        serde_json::Value::Array(items) => items.iter().map(count_nodes).sum(),
        serde_json::Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// A loaded tokenizer must work: encoding gives ids the model has embeddings for, decoding
/// does not panic.
fn exercise(tok: &Tokenizer) -> Result<(), TestCaseError> {
    for text in ["the dog sees a cat .", "", "unknown 日本 ✓ <s> </s> <pad>"] {
        let ids = tok.encode(text);
        let vocab = tok.vocab_size();
        prop_assert!(
            ids.iter().all(|&id| (id as usize) < vocab),
            "{:?} with vocabulary {}",
            ids,
            vocab
        );
        let _ = tok.decode(&ids);
    }
    Ok(())
}

proptest! {
    #[test]
    fn tokenizer_load_of_any_bytes_is_ok_or_a_typed_error(bytes in text_bytes(48)) {
        let dir = tempdir().unwrap();
        let path = write(&dir, "tokenizer.json", &bytes);
        match Tokenizer::load(&path) {
            Ok(tok) => exercise(&tok)?,
            Err(err) => {
                prop_assert!(matches!(err, DataError::TokenizerLoad { .. }), "{}", err);
                check_error(&err, &path);
            }
        }
    }

    #[test]
    fn tokenizer_load_of_damaged_json_is_ok_or_a_typed_error(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        truncate in any::<bool>(),
    ) {
        let mut bytes = tokenizer_json().as_bytes().to_vec();
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        for (at, byte) in flips {
            let i = at.index(bytes.len().max(1));
            if let Some(b) = bytes.get_mut(i) {
                *b = byte;
            }
        }
        let dir = tempdir().unwrap();
        let path = write(&dir, "tokenizer.json", &bytes);
        match Tokenizer::load(&path) {
            Ok(tok) => exercise(&tok)?,
            Err(err) => prop_assert!(matches!(err, DataError::TokenizerLoad { .. }), "{}", err),
        }
    }

    #[test]
    fn tokenizer_load_of_edited_json_is_ok_or_a_typed_error(
        pick in any::<prop::sample::Index>(),
        new in json_value(),
    ) {
        let mut value: serde_json::Value = serde_json::from_str(tokenizer_json()).unwrap();
        let mut n = pick.index(count_nodes(&value));
        replace_nth(&mut value, &mut n, &new);
        let dir = tempdir().unwrap();
        let path = write(&dir, "tokenizer.json", value.to_string().as_bytes());
        match Tokenizer::load(&path) {
            Ok(tok) => exercise(&tok)?,
            Err(err) => prop_assert!(matches!(err, DataError::TokenizerLoad { .. }), "{}", err),
        }
    }

    #[test]
    fn tokenizer_dir_of_any_files_is_ok_or_a_typed_error(
        files in prop::collection::vec((0usize..3, text_bytes(16)), 0..3),
    ) {
        let dir = tempdir().unwrap();
        let names = ["tokenizer.json", "tokenizer.src.json", "tokenizer.tgt.json"];
        for (which, bytes) in files {
            write(&dir, names[which], &bytes);
        }
        if let Err(err) = Tokenizers::load_dir(dir.path()) {
            prop_assert!(matches!(err, DataError::TokenizerLoad { .. }), "{}", err);
        }
    }
}
