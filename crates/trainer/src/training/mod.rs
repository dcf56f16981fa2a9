//! Training: starting and resuming runs, the loop and its update step, data parallel,
//! learning-rate schedules, gradient clipping, the divergence guard, resume, metrics,
//! validation and checkpoint averaging.

pub mod average;
pub use honyaku_core::clip;
pub mod distributed;
pub mod guard;
pub mod job;
pub mod launch;
pub mod metrics;
pub mod parallel;
pub mod resume;
pub mod schedule;
pub mod step;
pub mod summary;
pub mod validation;

pub use job::TrainJob;
pub use step::{
    Gradients, StepStats, Update, accumulated_grads, batch_grads, batch_stats, guarded_update,
    new_optimizer, optimizer_for, step_seed,
};
pub use summary::{StopReason, TrainSummary, peak_rss_mib};
