//! `honyaku`: train, compare and run neural machine translators on parallel corpora.

use std::process::ExitCode;

use clap::Parser;
use honyaku::{
    cli, cmd_attention, cmd_compare, cmd_demo, cmd_evaluate, cmd_synth, cmd_train, cmd_translate,
};

fn main() -> ExitCode {
    // SAFETY: nothing else runs yet.
    unsafe { honyaku::backend::default_to_cpu() };
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Synth(args) => cmd_synth::run(args),
        cli::Command::Train(args) => cmd_train::run(args),
        cli::Command::Average(args) => honyaku::cmd_average::run(args),
        cli::Command::Translate(args) => cmd_translate::run(args),
        cli::Command::Evaluate(args) => cmd_evaluate::run(args),
        cli::Command::Compare(args) => cmd_compare::run(args),
        cli::Command::Attention(args) => cmd_attention::run(args),
        cli::Command::Demo(args) => cmd_demo::run(args),
        cli::Command::Bench(args) => honyaku::cmd_bench::run(args),
        cli::Command::Serve(args) => honyaku::cmd_serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut said = format!("{err}");
            eprintln!("error: {said}");
            for cause in err.chain().skip(1) {
                // An I/O reason the message already gives ("No such file or directory") is not
                // repeated as a cause.
                let text = cause.to_string();
                let reason = text.split(" (os error ").next().unwrap_or(&text);
                if !said.contains(reason) {
                    eprintln!("  caused by: {text}");
                    said.push_str(&text);
                }
            }
            ExitCode::FAILURE
        }
    }
}
