//! The `honyaku` command-line tool as a library: CLI commands, run directories, the training
//! loop and translation, generic over the architectures in [`arch::ModelConfig`].

pub mod arch;
pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod clip;
pub mod cmd_attention;
pub mod cmd_average;
pub mod cmd_bench;
pub mod cmd_compare;
pub mod cmd_demo;
pub mod cmd_evaluate;
pub mod cmd_synth;
pub mod cmd_train;
pub mod cmd_translate;
pub mod distributed;
pub mod metrics;
pub mod output;
pub mod parallel;
pub mod plots;
pub mod report;
pub mod resume;
pub mod run;
pub mod schedule;
pub mod scoring;
pub mod train;
pub mod translate;
pub mod validation;
