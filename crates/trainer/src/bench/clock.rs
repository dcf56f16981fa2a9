//! Wall and process CPU time of a measurement, and the throughput computed from them.

use std::time::Instant;

use serde::Serialize;

/// Decoding or forward throughput.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Tokens counted (see the module documentation).
    pub tokens: usize,
    /// Wall time, seconds.
    pub seconds: f64,
    /// CPU time of the process (all threads) meanwhile, seconds (Linux).
    pub cpu_seconds: Option<f64>,
    /// Tokens per second.
    pub tokens_per_second: f64,
}

impl Throughput {
    /// `tokens` counted since `clock` started.
    pub fn new(tokens: usize, clock: Clock) -> Self {
        let (seconds, cpu_seconds) = clock.elapsed();
        Self {
            tokens,
            seconds,
            cpu_seconds,
            tokens_per_second: tokens as f64 / seconds.max(1e-9),
        }
    }
}

/// Wall and process CPU time since a start. On a machine shared with other jobs the CPU time
/// moves less than the wall time, so before/after comparisons can use both.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

impl Clock {
    /// Starts now.
    pub fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    /// Wall seconds and CPU seconds since the start.
    pub fn elapsed(&self) -> (f64, Option<f64>) {
        let cpu = match (self.cpu, cpu_seconds()) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        (self.wall.elapsed().as_secs_f64(), cpu)
    }
}

/// User + system CPU time of this process, all threads, from `/proc/self/stat` (Linux; clock
/// ticks of 10 ms).
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 of `rest`.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
