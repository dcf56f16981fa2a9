//! The last line of defence against panics, and the fault-injection hooks of the crash tests.
//!
//! A panic that still happens prints one line, `error: internal error: … (please report it at
//! …/issues with the command you ran)`, and exits with status [`INTERNAL_ERROR_EXIT`] (70,
//! `EX_SOFTWARE`) at once, from whichever thread panicked; a backtrace follows only when
//! `RUST_BACKTRACE` asks for one. Files are written to a temporary name and renamed (see
//! [`crate::checkpoint`]), so exiting mid-write leaves the last committed version of every
//! file.

use std::sync::atomic::{AtomicU64, Ordering};

/// Exit status of an internal error (a panic): `EX_SOFTWARE` of `sysexits.h`.
pub const INTERNAL_ERROR_EXIT: i32 = 70;

/// Where to report internal errors.
const ISSUES: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/issues");

/// Installs the panic hook of the binary (see the module documentation). Code that catches
/// panics on purpose swaps in its own silent hook for the time (as the tokenizer loader does).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("{}", internal_error_line(&payload, &place));
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
        std::process::exit(INTERNAL_ERROR_EXIT);
    }));
}

/// The one line an internal error prints.
pub fn internal_error_line(message: &str, place: &str) -> String {
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "error: internal error: {message}{place} (please report it at {ISSUES} with the command \
         you ran)"
    )
}

/// Test hook: with `HONYAKU_TEST_PANIC=SITE` (or `SITE:N`) in the environment, panics at that
/// site (`main` after parsing the arguments, `train-step` after update N), so that the tests
/// can check the panic hook and what a panic leaves on disk.
#[track_caller]
pub fn forced_panic(site: &str, step: usize) {
    let Ok(spec) = std::env::var("HONYAKU_TEST_PANIC") else {
        return;
    };
    let (name, at) = spec.split_once(':').unwrap_or((spec.as_str(), "0"));
    if name == site && at.parse::<usize>().is_ok_and(|n| n == step) {
        panic!("forced by HONYAKU_TEST_PANIC={spec}");
    }
}

/// File operations of the checkpoint writer so far (see [`file_operation`]).
static FILE_OPS: AtomicU64 = AtomicU64::new(0);

/// Counts one file operation of the checkpoint writer (a temporary file written, a rename, a
/// removal) and, with `HONYAKU_FAULT_ABORT_AT=N` in the environment, kills the process (as
/// SIGKILL would: no unwinding, no cleanup) just before the N-th one, so that the crash tests
/// can stop a save between any two of its steps.
pub fn file_operation() {
    let n = FILE_OPS.fetch_add(1, Ordering::SeqCst) + 1;
    let abort_at = std::env::var("HONYAKU_FAULT_ABORT_AT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    if abort_at == Some(n) {
        eprintln!("fault injection: killed before file operation {n}");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_is_one_line_with_where_to_report_it() {
        let line = internal_error_line("index out of bounds:\n  the len is 3", " at src/x.rs:4");
        assert_eq!(line.lines().count(), 1);
        assert!(line.starts_with("error: internal error: index out of bounds: the len is 3 at src/x.rs:4 (please report it at https://"), "{line}");
        assert!(
            line.ends_with("/issues with the command you ran)"),
            "{line}"
        );
    }
}
