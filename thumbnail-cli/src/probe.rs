//! `thumbnail probe FILE...`: header facts, without decoding pixels.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `thumbnail probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Image files; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,

    /// One JSON object per file.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ProbeArgs) -> Result<ExitCode, String> {
    let mut failed = false;
    for path in &args.files {
        let data = if path.as_os_str() == "-" {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut v).map_err(|e| e.to_string())?;
            v
        } else {
            match std::fs::read(path) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("thumbnail: {}: {e}", path.display());
                    failed = true;
                    continue;
                }
            }
        };
        match thumbnail_core::probe(&data) {
            Ok(info) => {
                let (uw, uh) = info.upright_size();
                if args.json {
                    let v = serde_json::json!({
                        "file": path.display().to_string(),
                        "format": info.format.name(),
                        "mime": info.format.mime(),
                        "width": info.width,
                        "height": info.height,
                        "upright_width": uw,
                        "upright_height": uh,
                        "orientation": info.orientation.exif_value(),
                        "color": info.color.to_string(),
                        "alpha": info.has_alpha,
                        "icc": info.icc_description,
                        "animated": info.animated,
                        "bytes": data.len(),
                    });
                    println!("{v}");
                } else {
                    println!(
                        "{}: {}{} {}x{} (upright {}x{}), orientation {}, {}{}, ICC: {}",
                        path.display(),
                        if info.animated { "animated " } else { "" },
                        info.format,
                        info.width,
                        info.height,
                        uw,
                        uh,
                        info.orientation.exif_value(),
                        info.color,
                        if info.has_alpha { " with alpha" } else { "" },
                        info.icc_description.as_deref().unwrap_or("none"),
                    );
                }
            }
            Err(e) => {
                eprintln!("thumbnail: {}: {e}", path.display());
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
