//! Load test of `honyaku serve` (a measurement, ignored by default): the same run served twice,
//! first to one client sending one request at a time, then to N concurrent clients, each for
//! a fixed time on loopback. Prints requests/s, p50/p99 latency, batch sizes from `/metrics`,
//! errors and the server's resident memory at start and end; fails on any error.
//!
//! ```sh
//! cargo test --release -p honyaku --test serve_load -- --ignored --nocapture
//! ```
//! Settings (environment): `HONYAKU_LOAD_SECONDS` (30 per phase), `HONYAKU_LOAD_CLIENTS` (16),
//! `HONYAKU_LOAD_BEAM` (4), `HONYAKU_LOAD_RUN` (a run directory; default: the tiny attention
//! run the serve tests train).

mod common;
mod serve_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use serve_support::{Server, fixture, run_arg, sample};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one phase measured.
struct Phase {
    clients: usize,
    requests: usize,
    errors: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    mean_batch: f64,
    max_batch: f64,
    rss_start_mib: f64,
    rss_end_mib: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

fn phase(run: &Path, sentences: &[String], clients: usize, seconds: u64, beam: u64) -> Phase {
    let server = Server::start(&["--run", &run_arg("load", run), "--queue", "1024"], &[]);
    let body = |i: usize| json!({"run": "load", "text": [sentences[i % sentences.len()]], "beam": beam, "nbest": 1});
    for i in 0..3 {
        assert_eq!(server.translate(&body(i)).status, 200, "warm-up");
    }
    let rss_start = server.rss_kib();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let per_client: Vec<(Vec<f64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (server, body) = (&server, &body);
                s.spawn(move || {
                    let mut latencies = Vec::new();
                    let mut errors = 0;
                    // Bounded in time and in count.
                    for i in 0..1_000_000 {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let sent = Instant::now();
                        match serve_support::request(
                            server.addr,
                            "POST",
                            "/api/translate",
                            Some(body(i * clients + c).to_string().as_bytes()),
                        ) {
                            Ok(r) if r.status == 200 => {
                                latencies.push(sent.elapsed().as_secs_f64() * 1000.0)
                            }
                            _ => errors += 1,
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let rss_end = server.rss_kib();
    let mut latencies: Vec<f64> = per_client.iter().flat_map(|(l, _)| l.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    let errors = per_client.iter().map(|(_, e)| e).sum();
    let metrics = server.get("/metrics").body;
    let batch = |what: &str| {
        sample(
            &metrics,
            &format!("honyaku_batch_requests_{what}{{run=\"load\"}}"),
        )
    };
    Phase {
        clients,
        requests: latencies.len(),
        errors,
        seconds: elapsed,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        mean_batch: batch("sum").unwrap_or(0.0) / batch("count").unwrap_or(1.0),
        max_batch: batch("max").unwrap_or(0.0),
        rss_start_mib: rss_start as f64 / 1024.0,
        rss_end_mib: rss_end as f64 / 1024.0,
    }
}

#[test]
#[ignore = "a 2 × 30 s measurement; run with --ignored --nocapture"]
fn load_one_at_a_time_against_concurrent_clients() {
    let seconds = setting("HONYAKU_LOAD_SECONDS", 30);
    let clients = setting("HONYAKU_LOAD_CLIENTS", 16) as usize;
    let beam = setting("HONYAKU_LOAD_BEAM", 4);
    let (run, corpus) = match std::env::var_os("HONYAKU_LOAD_RUN") {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let fx = fixture("load");
            let corpus = fx
                .attention
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("corpus");
            (fx.attention.clone(), Some(corpus))
        }
    };
    let sentences: Vec<String> = match corpus {
        Some(dir) => std::fs::read_to_string(dir.join("test.src"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
        None => std::env::var("HONYAKU_LOAD_TEXT")
            .unwrap_or_else(|_| "the dog sees a cat .".into())
            .split('|')
            .map(str::to_string)
            .collect(),
    };
    println!(
        "load test: beam {beam}, {seconds} s per phase, {} distinct sentences",
        sentences.len()
    );
    let mut phases = Vec::new();
    for c in [1, clients] {
        let p = phase(&run, &sentences, c, seconds, beam);
        println!(
            "clients {:>2}: {:>6} requests in {:.1} s = {:>7.1} req/s; latency p50 {:.1} ms, \
             p99 {:.1} ms; requests per model call mean {:.2}, max {}; errors {}; RSS {:.1} → \
             {:.1} MiB",
            p.clients,
            p.requests,
            p.seconds,
            p.requests as f64 / p.seconds,
            p.p50_ms,
            p.p99_ms,
            p.mean_batch,
            p.max_batch,
            p.errors,
            p.rss_start_mib,
            p.rss_end_mib
        );
        phases.push(p);
    }
    for p in &phases {
        assert_eq!(p.errors, 0, "{} clients: errors", p.clients);
        assert!(p.requests > 0);
        assert!(
            p.rss_end_mib < p.rss_start_mib * 1.5 + 64.0,
            "memory grew under load: {:.1} → {:.1} MiB",
            p.rss_start_mib,
            p.rss_end_mib
        );
    }
}
