//! Dynamic batching: one worker thread per run owns the loaded model and serves a queue of
//! jobs. It takes the first job, waits a few milliseconds for more (or until enough lines are
//! queued), and translates the jobs with the same search settings in one model call, so that
//! concurrent requests share batches. The async threads never run the model.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use burn::prelude::*;
use honyaku_core::{Hypothesis, Seq2Seq};
use tokio::sync::oneshot;

use super::error::ApiError;
use super::limits::SearchRequest;
use super::metrics::Metrics;
use crate::arch::{ModelConfig, ModelTask};
use crate::inference::Decoding;
use crate::inference::translate::translate_loaded;
use crate::run::checkpoint::load_module;

/// Worker threads are named this followed by the run's name (see [`super::panics`]).
pub const WORKER_THREAD_PREFIX: &str = "serve-run-";

/// How a worker forms batches.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// How long the first job of a batch waits for others.
    pub max_wait: Duration,
    /// A batch stops collecting once it holds this many lines.
    pub max_lines: usize,
    /// Jobs that may wait in a run's queue; beyond it requests are answered 503.
    pub queue: usize,
    /// Token budget of one model call (beams count, as in `translate --max-tokens`).
    pub max_tokens: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_millis(5),
            max_lines: 64,
            queue: 256,
            max_tokens: 4096,
        }
    }
}

/// What a job's requester gets back: hypotheses per line, or why the translation failed.
pub type JobResult = Result<Vec<Vec<Hypothesis>>, String>;

/// One request's work.
pub struct Job {
    /// Source ids of each line (empty lines allowed).
    pub sources: Vec<Vec<u32>>,
    /// Search settings.
    pub search: SearchRequest,
    /// Where the answer goes; a requester that gave up (timeout) has dropped its end.
    pub reply: oneshot::Sender<JobResult>,
    /// Test hook (`HONYAKU_FAULT_SERVE_PANIC`): the model call serving this job panics.
    pub inject_panic: bool,
}

/// The handle the HTTP side holds for a run's worker.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    jobs: SyncSender<Job>,
    /// Parameters of the loaded model.
    pub parameters: usize,
}

impl WorkerHandle {
    /// Starts the worker of run `name`: loads `checkpoint` into a model of `model` on `device`
    /// in a new thread and returns once it is ready (or failed to load).
    pub fn spawn(
        name: &str,
        model: ModelConfig,
        checkpoint: PathBuf,
        device: Device,
        config: BatchConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self> {
        let (jobs, queue) = mpsc::sync_channel(config.queue.max(1));
        let (ready, loaded) = mpsc::channel();
        let worker = Worker {
            run: name.to_string(),
            checkpoint,
            device: device.clone(),
            config,
            metrics,
            queue,
            ready,
        };
        std::thread::Builder::new()
            .name(format!("{WORKER_THREAD_PREFIX}{name}"))
            .spawn(move || model.run(&device, worker))
            .context("starting a translation worker thread")?;
        let parameters = loaded
            .recv()
            .map_err(|_| anyhow!("the worker of run {name} stopped while loading"))?
            .map_err(|e| anyhow!(e))?;
        Ok(Self { jobs, parameters })
    }

    /// Queues a job; a full queue answers 503 at once rather than letting requests pile up.
    pub fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => {
                ApiError::unavailable("the server is busy: too many queued requests; retry soon")
            }
            TrySendError::Disconnected(_) => {
                ApiError::internal("the translation worker of this run has stopped")
            }
        })
    }
}

/// The worker thread's state; [`ModelTask::run`] is its whole life.
struct Worker {
    run: String,
    checkpoint: PathBuf,
    device: Device,
    config: BatchConfig,
    metrics: Arc<Metrics>,
    queue: Receiver<Job>,
    ready: mpsc::Sender<Result<usize, String>>,
}

impl ModelTask for Worker {
    type Output = ();

    fn run<M: Seq2Seq>(self, model: M) {
        let model = match load_module(model, &self.checkpoint) {
            Ok(model) => model,
            Err(e) => {
                let _ = self.ready.send(Err(format!("{e:#}")));
                return;
            }
        };
        let _ = self.ready.send(Ok(Module::num_params(&model)));
        while let Some(batch) = collect(&self.queue, &self.config) {
            for group in group_by_search(batch) {
                self.serve(&model, group);
            }
        }
    }
}

impl Worker {
    /// Translates the jobs of one group (same search settings) in one model call and answers
    /// each. A panic fails only the job that caused it: the group is retried job by job.
    fn serve<M: Seq2Seq>(&self, model: &M, group: Vec<Job>) {
        let lines: usize = group.iter().map(|j| j.sources.len()).sum();
        self.metrics.batch(&self.run, group.len(), lines);
        let sources: Vec<Vec<u32>> = group.iter().flat_map(|j| j.sources.clone()).collect();
        let search = group[0].search;
        let inject = group.iter().any(|j| j.inject_panic);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if inject {
                panic!("fault injected by HONYAKU_FAULT_SERVE_PANIC");
            }
            translate_loaded(
                model,
                &sources,
                self.config.max_tokens,
                &decoding(&search),
                &self.device,
            )
        }));
        match outcome {
            Ok(hyps) => answer(group, hyps),
            Err(_) if group.len() > 1 => {
                for job in group {
                    self.serve(model, vec![job]);
                }
            }
            Err(panic) => {
                let reason = panic_message(panic.as_ref());
                for job in group {
                    let _ = job.reply.send(Err(reason.clone()));
                }
            }
        }
    }
}

/// The decoding of a request's search settings.
fn decoding(search: &SearchRequest) -> Decoding {
    let decoding = Decoding::new(search.beam, search.nbest, search.alpha);
    if search.attention {
        decoding.with_attention()
    } else {
        decoding
    }
}

/// Hands each job its share of `hyps` (in job order, lines in order).
fn answer(group: Vec<Job>, hyps: Vec<Vec<Hypothesis>>) {
    let mut hyps = hyps.into_iter();
    for job in group {
        let mine: Vec<Vec<Hypothesis>> = hyps.by_ref().take(job.sources.len()).collect();
        // The requester may have timed out and gone; nothing to do then.
        let _ = job.reply.send(Ok(mine));
    }
}

/// Waits for a job, then gathers more until `max_wait` has passed or `max_lines` lines are
/// held; jobs whose requester already gave up are dropped. `None` once the queue is closed.
fn collect(queue: &Receiver<Job>, config: &BatchConfig) -> Option<Vec<Job>> {
    let first = queue.recv().ok()?;
    let mut lines = first.sources.len();
    let mut batch = vec![first];
    let deadline = Instant::now() + config.max_wait;
    while lines < config.max_lines {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = match queue.recv_timeout(left) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        };
        lines += next.sources.len();
        batch.push(next);
    }
    batch.retain(|job| !job.reply.is_closed());
    Some(batch)
}

/// Splits a batch into groups of equal search settings, keeping arrival order within each.
fn group_by_search(batch: Vec<Job>) -> Vec<Vec<Job>> {
    let mut groups: Vec<Vec<Job>> = Vec::new();
    for job in batch {
        match groups.iter_mut().find(|g| g[0].search == job.search) {
            Some(group) => group.push(job),
            None => groups.push(vec![job]),
        }
    }
    groups
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("the model failed on this request ({text})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(lines: usize, beam: usize) -> (Job, oneshot::Receiver<JobResult>) {
        let (reply, rx) = oneshot::channel();
        let search = SearchRequest {
            beam,
            nbest: 1,
            alpha: 0.6,
            attention: false,
        };
        let sources = vec![vec![5, 6]; lines];
        let job = Job {
            sources,
            search,
            reply,
            inject_panic: false,
        };
        (job, rx)
    }

    #[test]
    fn queued_jobs_are_collected_into_one_batch_up_to_the_line_limit() {
        let (tx, rx) = mpsc::sync_channel(16);
        let mut receivers = Vec::new();
        for _ in 0..5 {
            let (job, r) = job(2, 1);
            tx.send(job).unwrap();
            receivers.push(r);
        }
        let config = BatchConfig {
            max_lines: 6,
            max_wait: Duration::from_millis(1),
            ..BatchConfig::default()
        };
        let first = collect(&rx, &config).unwrap();
        assert_eq!(first.len(), 3, "stops once 6 lines are held");
        let second = collect(&rx, &config).unwrap();
        assert_eq!(second.len(), 2);
        drop(tx);
        assert!(
            collect(&rx, &config).is_none(),
            "a closed queue ends the worker"
        );
    }

    #[test]
    fn abandoned_jobs_are_dropped_and_settings_are_grouped() {
        let (tx, rx) = mpsc::sync_channel(16);
        let (a, ra) = job(1, 1);
        let (b, rb) = job(1, 4);
        let (c, rc) = job(1, 1);
        let (d, rd) = job(1, 1);
        for j in [a, b, c, d] {
            tx.send(j).unwrap();
        }
        drop(rd);
        let batch = collect(&rx, &BatchConfig::default()).unwrap();
        assert_eq!(batch.len(), 3, "the job whose requester left is dropped");
        let groups = group_by_search(batch);
        let beams: Vec<Vec<usize>> = groups
            .iter()
            .map(|g| g.iter().map(|j| j.search.beam).collect())
            .collect();
        assert_eq!(beams, vec![vec![1, 1], vec![4]]);
        drop((ra, rb, rc));
    }

    #[test]
    fn answers_go_to_their_jobs_in_order() {
        let (a, ra) = job(2, 1);
        let (b, rb) = job(1, 1);
        let hyp = |t: u32| Hypothesis {
            tokens: vec![t],
            score: 0.0,
            finished: true,
            attention: None,
        };
        answer(vec![a, b], vec![vec![hyp(1)], vec![hyp(2)], vec![hyp(3)]]);
        let tokens = |r: oneshot::Receiver<JobResult>| -> Vec<u32> {
            r.blocking_recv()
                .unwrap()
                .unwrap()
                .iter()
                .map(|h| h[0].tokens[0])
                .collect()
        };
        assert_eq!(tokens(ra), vec![1, 2]);
        assert_eq!(tokens(rb), vec![3]);
    }
}
