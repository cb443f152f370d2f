//! `thumbnail`: make thumbnails from files (and, with `serve`, over HTTP).

mod batch;
mod options;

use std::process::ExitCode;

use clap::Parser;

use crate::options::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match batch::run(&cli) {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("thumbnail: {e}");
            ExitCode::from(2)
        }
    }
}
