//! `thumbnail`: thumbnails from files, folders and storage URLs; `thumbnail serve`, the HTTP
//! API; `thumbnail probe`, what an image's header says; `thumbnail sign`, signed URLs;
//! `thumbnail backfill`, thumbnails for existing originals by S3 Batch Operations.

#![forbid(unsafe_code)]

mod backfill;
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
    /// Thumbnails for originals already in S3: write an S3 Batch Operations manifest and
    /// print the `aws s3control create-job` command that runs the function on each.
    Backfill(Box<backfill::BackfillArgs>),
}

fn main() -> ExitCode {
    thumbnail_service::one_arena();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Serve(args)) => serve::run(*args),
        Some(Command::Probe(args)) => probe::run(&args),
        Some(Command::Sign(args)) => sign::run(&args),
        Some(Command::Backfill(args)) => backfill::run(&args),
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
