//! `honyaku`: train, compare and run neural machine translators on parallel corpora.

use std::process::ExitCode;

use clap::Parser;
use honyaku::commands::Cli;

fn main() -> ExitCode {
    honyaku::allocator::keep_freed_memory();
    if let Err(err) = honyaku::allocator::configure_block_cache(&honyaku::allocator::ALLOCATOR) {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    honyaku::faults::install_panic_hook();
    // SAFETY: nothing else runs yet.
    unsafe { honyaku::backend::default_to_cpu() };
    let cli = Cli::parse();
    honyaku::faults::forced_panic("main", 0);
    let result = cli.command.run();
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
