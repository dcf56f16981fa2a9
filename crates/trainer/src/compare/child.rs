//! Training one architecture of a comparison in a child `honyaku train` process.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use super::options::CompareOptions;
use crate::arch::Arch;
use crate::run::RunDir;
use crate::training::resume::TrainState;

/// Trains one architecture in a child process, unless its run already finished.
pub fn train_arch(args: &CompareOptions, arch: Arch, run: &Path, tokenizers: &Path) -> Result<()> {
    if run.join("summary.json").is_file() {
        eprintln!("{arch}: already trained in {}, skipping", run.display());
        return Ok(());
    }
    let exe = std::env::current_exe().context("locating the honyaku executable")?;
    let mut cmd = Command::new(exe);
    let existing = RunDir {
        root: run.to_path_buf(),
    };
    match TrainState::load(&existing) {
        // A comparison killed while this architecture trained: continue where it stopped
        // (its own config.json keeps the budget; the elapsed time carries over).
        Ok(state) if run.join("config.json").is_file() => {
            eprintln!(
                "{arch}: training ({}), resuming the interrupted run at step {}",
                budget_words(args),
                state.step
            );
            cmd.arg("train").arg("--resume").arg(run).arg("--quiet");
        }
        _ => {
            eprintln!("{arch}: training ({})", budget_words(args));
            fresh_train_args(&mut cmd, args, arch, run, tokenizers);
        }
    }
    die_with_parent(&mut cmd);
    let status = cmd.status().context("starting the training process")?;
    if !status.success() {
        bail!("training {arch} failed ({status}); see the messages above");
    }
    Ok(())
}

/// The `honyaku train` arguments of a fresh run of `arch` in `run`.
fn fresh_train_args(
    cmd: &mut Command,
    args: &CompareOptions,
    arch: Arch,
    run: &Path,
    tokenizers: &Path,
) {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    cmd.arg("train")
        .args([
            "--arch",
            arch.name(),
            "--backend",
            &args.backend.to_string(),
        ])
        .args(["--preset", &args.preset.to_string()])
        .args([
            "--train-src",
            &path(&args.train_src),
            "--train-tgt",
            &path(&args.train_tgt),
        ])
        .args([
            "--valid-src",
            &path(&args.valid_src),
            "--valid-tgt",
            &path(&args.valid_tgt),
        ])
        .args(["--out", &path(run), "--overwrite"])
        .args(["--tokenizers-from", &path(tokenizers)])
        .args(["--seed", &args.seed.to_string()])
        .arg("--quiet");
    match (args.budget_minutes, args.epochs) {
        (Some(m), _) => cmd.args(["--max-minutes", &m.to_string(), "--epochs", "100000"]),
        (None, Some(e)) => cmd.args(["--epochs", &e.to_string()]),
        (None, None) => cmd.args(["--epochs", "10"]),
    };
    if let Some(n) = args.valid_every {
        cmd.args(["--valid-every", &n.to_string()]);
    }
    cmd.args(shared_settings(args));
    for setting in args.set.iter().filter(|s| s.arch == arch) {
        cmd.args(setting.train_args());
    }
}

/// The training flags compare gives every architecture: only those the user set, so that each
/// architecture otherwise trains with its own recipe.
fn shared_settings(args: &CompareOptions) -> Vec<String> {
    let name = |v: clap::builder::PossibleValue| v.get_name().to_string();
    let given = [
        ("--max-tokens", args.max_tokens.map(|v| v.to_string())),
        ("--lr", args.lr.map(|v| v.to_string())),
        (
            "--schedule",
            args.schedule.and_then(|v| v.to_possible_value()).map(name),
        ),
        ("--warmup", args.warmup.map(|v| v.to_string())),
        (
            "--early-stop-metric",
            args.early_stop_metric
                .and_then(|v| v.to_possible_value())
                .map(name),
        ),
    ];
    given
        .into_iter()
        .filter_map(|(flag, value)| Some([flag.to_string(), value?]))
        .flatten()
        .collect()
}

/// On Linux, the training child gets SIGTERM when `compare` dies, even by SIGKILL: it saves
/// its state and stops instead of training on unattended (and racing a rerun for its run
/// directory), and the next `compare` resumes it.
fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs between fork and exec; it only calls prctl, which is
        // async-signal-safe, and allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// The training budget of every architecture, in words.
pub fn budget_words(args: &CompareOptions) -> String {
    match (args.budget_minutes, args.epochs) {
        (Some(m), _) => format!("{m} minutes of wall time"),
        (None, Some(e)) => format!("{e} epochs"),
        (None, None) => "10 epochs".into(),
    }
}
