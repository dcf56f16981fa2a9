//! `GET /metrics`: request counts, translation latency and batch sizes in the Prometheus text
//! format. Labels take only values the server chose (route names, run names given at start), so
//! requests cannot grow the label sets.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const LATENCY_BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Upper bounds of the batch-size buckets (requests or lines per model call).
const SIZE_BOUNDS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The routes counted by name; any other path counts as `other`.
pub const ROUTES: &[&str] = &[
    "/",
    "/app.js",
    "/app.css",
    "/health",
    "/api/runs",
    "/api/translate",
    "/metrics",
];

/// A histogram with fixed buckets.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative), one more for `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(self.bounds.len());
        self.counts[bucket] += 1;
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count;
            let le = self
                .bounds
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{le}\"}} {cumulative}");
        }
        let labels = labels.trim_end_matches(',');
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// `(route, status)` → answered requests.
    requests: BTreeMap<(&'static str, u16), u64>,
    /// Per run: seconds from a translation request's arrival to its answer.
    latency: BTreeMap<String, Histogram>,
    /// Per run: requests per model call.
    batch_requests: BTreeMap<String, Histogram>,
    /// Per run: lines per model call.
    batch_lines: BTreeMap<String, Histogram>,
    /// Per run: the most requests one model call has served.
    batch_max: BTreeMap<String, usize>,
}

/// The server's counters, shared by the handlers and the run workers.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        // A panic while holding the lock cannot leave the counters inconsistent in a way that
        // matters, so a poisoned lock is used as it is.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner)
    }

    /// Counts an answered request to `path` with `status`.
    pub fn request(&self, path: &str, status: u16) {
        let route = ROUTES
            .iter()
            .find(|r| **r == path)
            .copied()
            .unwrap_or("other");
        self.with(|m| *m.requests.entry((route, status)).or_default() += 1);
    }

    /// Records the latency of a translation request to `run` (a run the server serves).
    pub fn latency(&self, run: &str, elapsed: Duration) {
        self.with(|m| {
            m.latency
                .entry(run.to_string())
                .or_insert_with(|| Histogram::new(LATENCY_BOUNDS))
                .observe(elapsed.as_secs_f64())
        });
    }

    /// Records one model call of `run` serving `requests` requests with `lines` lines.
    pub fn batch(&self, run: &str, requests: usize, lines: usize) {
        self.with(|m| {
            for (map, value) in [
                (&mut m.batch_requests, requests),
                (&mut m.batch_lines, lines),
            ] {
                map.entry(run.to_string())
                    .or_insert_with(|| Histogram::new(SIZE_BOUNDS))
                    .observe(value as f64);
            }
            let max = m.batch_max.entry(run.to_string()).or_default();
            *max = (*max).max(requests);
        });
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            out.push_str(
                "# HELP honyaku_http_requests_total HTTP requests answered, by route and status.\n\
                 # TYPE honyaku_http_requests_total counter\n",
            );
            for ((route, status), count) in &m.requests {
                let _ = writeln!(
                    out,
                    "honyaku_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
            render_histograms(
                &mut out,
                "honyaku_translate_duration_seconds",
                "Time from a translation request's arrival to its answer.",
                &m.latency,
            );
            render_histograms(
                &mut out,
                "honyaku_batch_requests",
                "Requests served by one model call (dynamic batching).",
                &m.batch_requests,
            );
            render_histograms(
                &mut out,
                "honyaku_batch_lines",
                "Lines translated by one model call.",
                &m.batch_lines,
            );
            out.push_str(
                "# HELP honyaku_batch_requests_max The most requests one model call has served.\n\
                 # TYPE honyaku_batch_requests_max gauge\n",
            );
            for (run, max) in &m.batch_max {
                let _ = writeln!(
                    out,
                    "honyaku_batch_requests_max{{run=\"{}\"}} {max}",
                    escape(run)
                );
            }
            out
        })
    }
}

fn render_histograms(
    out: &mut String,
    name: &str,
    help: &str,
    per_run: &BTreeMap<String, Histogram>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (run, histogram) in per_run {
        histogram.render(out, name, &format!("run=\"{}\",", escape(run)));
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let metrics = Metrics::default();
        metrics.batch("demo", 1, 3);
        metrics.batch("demo", 3, 5);
        let text = metrics.render();
        assert!(text.contains("honyaku_batch_requests_bucket{run=\"demo\",le=\"1\"} 1\n"));
        assert!(text.contains("honyaku_batch_requests_bucket{run=\"demo\",le=\"2\"} 1\n"));
        assert!(text.contains("honyaku_batch_requests_bucket{run=\"demo\",le=\"4\"} 2\n"));
        assert!(text.contains("honyaku_batch_requests_bucket{run=\"demo\",le=\"+Inf\"} 2\n"));
        assert!(text.contains("honyaku_batch_requests_sum{run=\"demo\"} 4\n"));
        assert!(text.contains("honyaku_batch_lines_count{run=\"demo\"} 2\n"));
        assert!(text.contains("honyaku_batch_requests_max{run=\"demo\"} 3\n"));
    }

    #[test]
    fn unknown_paths_share_one_label() {
        let metrics = Metrics::default();
        metrics.request("/health", 200);
        metrics.request("/etc/passwd", 404);
        metrics.request("/x", 404);
        let text = metrics.render();
        assert!(text.contains("honyaku_http_requests_total{route=\"/health\",status=\"200\"} 1\n"));
        assert!(text.contains("honyaku_http_requests_total{route=\"other\",status=\"404\"} 2\n"));
        assert!(!text.contains("passwd"));
    }

    #[test]
    fn latency_is_recorded_in_seconds() {
        let metrics = Metrics::default();
        metrics.latency("a", Duration::from_millis(20));
        let text = metrics.render();
        assert!(
            text.contains("honyaku_translate_duration_seconds_bucket{run=\"a\",le=\"0.01\"} 0\n")
        );
        assert!(
            text.contains("honyaku_translate_duration_seconds_bucket{run=\"a\",le=\"0.025\"} 1\n")
        );
        assert!(text.contains("# TYPE honyaku_translate_duration_seconds histogram\n"));
    }
}
