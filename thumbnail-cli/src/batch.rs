//! Files in, thumbnails out, several at a time.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use thumbnail_core::{Limits, ThumbnailSpec};

use crate::options::Cli;

#[derive(Debug, Default)]
pub struct Summary {
    pub done: usize,
    pub failed: usize,
}

/// Where one input's thumbnail goes.
enum Target {
    Stdout,
    File(PathBuf),
}

pub fn run(cli: &Cli) -> Result<Summary, String> {
    let spec = cli.spec.spec();
    let limits = cli.limits.limits();
    let stdin_count = cli.inputs.iter().filter(|p| is_dash(p)).count();
    if stdin_count > 1 {
        return Err("`-` (standard input) can be given only once".into());
    }
    let jobs: Vec<(PathBuf, Target)> = match (&cli.output, &cli.out_dir) {
        (Some(out), None) => {
            if cli.inputs.len() != 1 {
                return Err(
                    "-o/--output takes exactly one input; use --out-dir for several".into(),
                );
            }
            let t = if is_dash(out) {
                Target::Stdout
            } else {
                Target::File(out.clone())
            };
            vec![(cli.inputs[0].clone(), t)]
        }
        (None, Some(dir)) => {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            cli.inputs
                .iter()
                .map(|p| {
                    let stem = if is_dash(p) {
                        "stdin".into()
                    } else {
                        p.file_stem()
                            .map_or_else(|| "image".into(), |s| s.to_os_string())
                    };
                    let mut name = stem;
                    name.push(".");
                    name.push(spec.format.extension());
                    (p.clone(), Target::File(dir.join(name)))
                })
                .collect()
        }
        _ => return Err("say where to write: -o OUT (one input) or --out-dir DIR".into()),
    };

    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let summary = Mutex::new(Summary::default());
    let stderr = Mutex::new(());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((input, target)) = jobs.get(i) else {
                        break;
                    };
                    let result = one(input, target, &spec, &limits);
                    let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
                    match result {
                        Ok(()) => s.done += 1,
                        Err(e) => {
                            s.failed += 1;
                            let _g = stderr.lock();
                            eprintln!("thumbnail: {}: {e}", input.display());
                        }
                    }
                }
            });
        }
    });
    Ok(summary.into_inner().unwrap_or_else(|e| e.into_inner()))
}

fn is_dash(p: &Path) -> bool {
    p.as_os_str() == "-"
}

fn one(input: &Path, target: &Target, spec: &ThumbnailSpec, limits: &Limits) -> Result<(), String> {
    let data = read_input(input, limits.max_input_bytes)?;
    let thumb = thumbnail_core::thumbnail(&data, spec, limits).map_err(|e| e.to_string())?;
    match target {
        Target::Stdout => {
            let mut out = io::stdout().lock();
            out.write_all(&thumb.bytes)
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing standard output: {e}"))
        }
        Target::File(path) => write_atomic(path, &thumb.bytes),
    }
}

/// Reads a file or standard input, refusing more than `cap` bytes without reading them all.
fn read_input(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let reader: Box<dyn Read> = if is_dash(path) {
        Box::new(io::stdin().lock())
    } else {
        let f = fs::File::open(path).map_err(|e| e.to_string())?;
        if let Ok(meta) = f.metadata() {
            if meta.is_dir() {
                return Err("is a directory".into());
            }
            if meta.len() > cap {
                return Err(format!(
                    "input is {} bytes, over the limit of {cap} bytes",
                    meta.len()
                ));
            }
        }
        Box::new(f)
    };
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() as u64 > cap {
        return Err(format!("input is over the limit of {cap} bytes"));
    }
    Ok(data)
}

/// Writes via a temporary file in the same directory and renames it into place, so a reader
/// (or a crash) never sees half a thumbnail.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or("output has no file name")?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("writing {}: {e}", path.display())
    })
}
