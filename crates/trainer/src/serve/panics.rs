//! Panics while serving. The binary's hook ends the process on any panic; a server must instead
//! answer `500` for the one request whose model call failed and keep serving. While `serve`
//! runs, a panic on a run's worker thread (where [`super::batching`] catches it) prints one
//! line and unwinds; a panic anywhere else goes to the previous hook as before.

use super::batching::WORKER_THREAD_PREFIX;

/// Installs the serving hook in front of the current one.
pub fn install_worker_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let on_worker = thread
            .name()
            .is_some_and(|n| n.starts_with(WORKER_THREAD_PREFIX));
        if !on_worker {
            return previous(info);
        }
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        eprintln!(
            "error: a request failed inside the model on thread {}: {payload} (answered 500; \
             still serving)",
            thread.name().unwrap_or_default()
        );
    }));
}
