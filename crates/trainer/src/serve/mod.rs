//! `honyaku serve`: an HTTP API and a web page to translate with and compare trained runs.
//!
//! Layout: [`runs`] finds and loads the runs, each into a [`batching`] worker thread that owns
//! its model and batches concurrent requests; [`api`] holds the routes (checks from [`limits`],
//! errors from [`error`], bodies from [`response`]), [`metrics`] the Prometheus counters and
//! [`page`] the embedded web page; [`panics`] keeps a failed model call from ending the
//! process. The async runtime only parses, checks and answers.

pub mod api;
pub mod batching;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod page;
pub mod panics;
pub mod response;
pub mod runs;

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::backend::Backend;
use batching::BatchConfig;
use limits::Limits;
use metrics::Metrics;
use runs::{Langs, RunSpec};

/// Everything `serve` needs besides the runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub host: String,
    /// Port (0 = any free port; the chosen one is printed).
    pub port: u16,
    /// Inference backend of every run.
    pub backend: Backend,
    /// Request limits.
    pub limits: Limits,
    /// Dynamic batching.
    pub batching: BatchConfig,
    /// Language labels of the runs.
    pub langs: Langs,
    /// Threads of the async runtime (the models run on their own threads).
    pub http_threads: usize,
}

/// Loads `specs` and serves them until the process is stopped. Prints
/// `listening on http://ADDR/` to stderr once requests are accepted.
pub fn serve(specs: &[RunSpec], options: &ServeOptions) -> Result<()> {
    runs::check_unique(specs)?;
    panics::install_worker_hook();
    let device = options.backend.device()?;
    let metrics = Arc::new(Metrics::default());
    let mut loaded = Vec::with_capacity(specs.len());
    for spec in specs {
        let run = runs::load(
            spec,
            &device,
            &options.batching,
            &options.langs,
            metrics.clone(),
        )?;
        eprintln!(
            "loaded run {} ({}, {} parameters)",
            run.info.name, run.info.arch, run.info.parameters
        );
        loaded.push(run);
    }
    let state = Arc::new(api::AppState {
        runs: loaded,
        limits: options.limits.clone(),
        metrics,
        fault_text: std::env::var("HONYAKU_FAULT_SERVE_PANIC").ok(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.http_threads.max(1))
        .thread_name("serve-http")
        .enable_io()
        .enable_time()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let address = (options.host.as_str(), options.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {}:{}", options.host, options.port))?;
        let local = listener.local_addr()?;
        eprintln!("listening on http://{local}/");
        axum::serve(listener, api::router(state))
            .await
            .context("serving HTTP")
    })
}
