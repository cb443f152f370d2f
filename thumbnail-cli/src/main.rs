//! `thumbnail`: thumbnails from files, folders and storage URLs; `thumbnail serve`, the HTTP
//! API; `thumbnail probe`, what an image's header says; `thumbnail sign`, signed URLs.

#![forbid(unsafe_code)]

mod batch;
mod options;
mod probe;
mod serve;
mod sign;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Make thumbnails: exactly WxH, cover-fit by default, EXIF-rotated, sRGB, no metadata.
#[derive(Debug, Parser)]
#[command(
    name = "thumbnail",
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    batch: batch::BatchArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (127.0.0.1:8080 and ./thumbnail-data by default).
    Serve(Box<serve::ServeArgs>),
    /// Print what an image's header says: format, size, orientation, colour, ICC profile.
    Probe(probe::ProbeArgs),
    /// Print a signed URL (path and query) for a server run with --signing-key.
    Sign(sign::SignArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Serve(args)) => serve::run(*args),
        Some(Command::Probe(args)) => probe::run(&args),
        Some(Command::Sign(args)) => sign::run(&args),
        None => batch::run(&cli.batch),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("thumbnail: {message}");
            ExitCode::from(2)
        }
    }
}
