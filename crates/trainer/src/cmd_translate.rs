//! `honyaku translate`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use anyhow::{Context, Result, anyhow};
use honyaku_core::SearchConfig;
use honyaku_data::tokenizer::Tokenizers;

use crate::checkpoint::write_atomic;
use crate::cli::TranslateArgs;
use crate::run::RunDir;
use crate::translate::TranslateJob;

/// Runs `honyaku translate`.
pub fn run(args: TranslateArgs) -> Result<()> {
    let run = RunDir::open(&args.run)?;
    let config = run.load_config()?;
    let tokenizers = Tokenizers::load_dir(&run.root)?;
    let checkpoint = run.inference_checkpoint()?;
    let lines = read_input(&args)?;
    let max_len = config.data.max_len;
    let mut truncated = 0usize;
    let sources: Vec<Vec<u32>> = lines
        .iter()
        .map(|line| {
            let mut ids = tokenizers.src.encode(line);
            if ids.len() > max_len {
                ids.truncate(max_len);
                truncated += 1;
            }
            ids
        })
        .collect();
    if truncated > 0 {
        eprintln!("warning: {truncated} input line(s) longer than {max_len} tokens were truncated");
    }
    let device = args.backend.device()?;
    let hyps = config.model.run(
        &device,
        TranslateJob {
            checkpoint: &checkpoint,
            device: device.clone(),
            sources: &sources,
            max_tokens: args.max_tokens,
            search: SearchConfig::default(),
        },
    )?;
    let mut text = String::new();
    for (line, hyp) in lines.iter().zip(&hyps) {
        if !line.trim().is_empty() {
            text.push_str(&tokenizers.tgt.decode(&hyp.tokens));
        }
        text.push('\n');
    }
    write_output(&args, &text)
}

fn read_input(args: &TranslateArgs) -> Result<Vec<String>> {
    let (name, reader): (String, Box<dyn Read>) = match &args.input {
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
        let mut text = String::from_utf8(bytes)
            .map_err(|e| anyhow!("{name} line {}: invalid UTF-8 ({e})", i + 1))?;
        if text.ends_with('\r') {
            text.pop();
        }
        lines.push(text);
    }
    Ok(lines)
}

fn write_output(args: &TranslateArgs, text: &str) -> Result<()> {
    match &args.output {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            out.write_all(text.as_bytes())?;
            out.flush().context("writing to standard output")
        }
    }
}
