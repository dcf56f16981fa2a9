//! The `honyaku` command-line tool as a library, in layers (each uses only the ones below it):
//!
//! - [`commands`]: one thin file per subcommand, owning its arguments, and the one dispatch;
//! - services: [`compare`] (and [`corpus`]), [`bench`], [`report`], [`training`],
//!   [`inference`], [`serve`] (the HTTP server);
//! - foundations: [`run`] (the run directory: paths, `config.json`, checkpoints, atomic
//!   writes), [`arch`] (the architecture registry), [`plots`], [`backend`], [`output`],
//!   [`values`], [`checks`] (the options' range checks), [`limits`] (the rule for long
//!   inputs), [`faults`] (the last-resort panic hook and the crash tests' hooks).

pub mod allocator;
pub mod arch;
pub mod backend;
pub mod bench;
pub mod checks;
pub mod commands;
pub mod compare;
pub mod corpus;
pub mod faults;
pub mod inference;
pub mod limits;
pub mod output;
pub mod plots;
pub mod report;
pub mod run;
pub mod serve;
pub mod study;
pub mod training;
pub mod values;
