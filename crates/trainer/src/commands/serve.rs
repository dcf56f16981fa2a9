//! `honyaku serve`: the HTTP API and web page over trained runs (see [`crate::serve`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;

use crate::backend::Backend;
use crate::serve::batching::BatchConfig;
use crate::serve::limits::Limits;
use crate::serve::runs::{self, Langs, RunSpec};
use crate::serve::{ServeOptions, serve};

/// Arguments of `honyaku serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A run to serve as NAME=RUN_DIR (repeatable).
    #[arg(long = "run", value_name = "NAME=RUN_DIR", value_parser = runs::parse_run_arg)]
    pub runs: Vec<RunSpec>,
    /// Serve every run below this directory (e.g. a `compare` or `demo` output), named by
    /// their directory names.
    #[arg(long = "runs", value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Compute backend of the models.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Source language label shown for the runs (e.g. en).
    #[arg(long)]
    pub src_lang: Option<String>,
    /// Target language label shown for the runs (e.g. ja).
    #[arg(long)]
    pub tgt_lang: Option<String>,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Most lines in one request.
    #[arg(long, default_value_t = Limits::default().max_lines)]
    pub max_lines: usize,
    /// Most source tokens in one line (the run's maximum length caps it too).
    #[arg(long, default_value_t = Limits::default().max_line_tokens)]
    pub max_line_tokens: usize,
    /// Largest beam a request may ask for.
    #[arg(long, default_value_t = Limits::default().max_beam)]
    pub max_beam: usize,
    /// Time a request may take before it is answered 503, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// How long a batch waits for more requests, in milliseconds.
    #[arg(long, default_value_t = 5)]
    pub batch_wait_ms: u64,
    /// A batch stops collecting at this many lines.
    #[arg(long, default_value_t = BatchConfig::default().max_lines)]
    pub batch_lines: usize,
    /// Requests that may wait per run; more are answered 503.
    #[arg(long, default_value_t = BatchConfig::default().queue)]
    pub queue: usize,
    /// Token budget of one model call.
    #[arg(long, default_value_t = BatchConfig::default().max_tokens)]
    pub max_tokens: usize,
    /// Threads answering HTTP (the models have a thread each).
    #[arg(long, default_value_t = 2)]
    pub http_threads: usize,
}

/// Runs `honyaku serve`.
pub fn run(args: ServeArgs) -> Result<()> {
    let mut specs = args.runs.clone();
    if let Some(dir) = &args.runs_dir {
        specs.extend(runs::discover(dir)?);
    }
    if specs.is_empty() {
        bail!("nothing to serve: give --run NAME=RUN_DIR or --runs DIR");
    }
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_lines: args.max_lines,
        max_line_tokens: args.max_line_tokens,
        max_beam: args.max_beam,
        timeout: Duration::from_millis(args.timeout_ms),
    };
    limits.validate().map_err(anyhow::Error::msg)?;
    for (flag, value) in [
        ("--batch-lines", args.batch_lines),
        ("--queue", args.queue),
        ("--max-tokens", args.max_tokens),
        ("--http-threads", args.http_threads),
    ] {
        if value == 0 {
            bail!("{flag} must be at least 1");
        }
    }
    let options = ServeOptions {
        host: args.host,
        port: args.port,
        backend: args.backend,
        limits,
        batching: BatchConfig {
            max_wait: Duration::from_millis(args.batch_wait_ms),
            max_lines: args.batch_lines,
            queue: args.queue,
            max_tokens: args.max_tokens,
        },
        langs: Langs {
            src: args.src_lang,
            tgt: args.tgt_lang,
        },
        http_threads: args.http_threads,
    };
    serve(&specs, &options)
}
