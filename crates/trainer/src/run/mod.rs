//! The run directory at the bottom of the trainer: its paths, `config.json`, checkpoint files and
//! the one atomic write everything above uses.

pub mod atomic;
pub mod checkpoint;
pub mod commit;
pub mod config;
pub mod dir;
pub mod model_overlay;
mod overlay;
pub mod steps;

pub use atomic::{write_atomic, write_atomic_all};
pub use config::{DataConfig, OptimizerKind, RunConfig, SelectMetric, TrainConfig};
pub use dir::{CheckpointChoice, RunDir};
pub use model_overlay::ModelOverlay;
