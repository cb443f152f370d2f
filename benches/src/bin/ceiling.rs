//! What two cores give the engine with nothing around it: the yardstick for the batch's
//! scaling (`benches/scaling.py`).
//!
//! `ceiling THREADS OUT_DIR [--durable] FILE...` makes a 100x100 thumbnail of every file with
//! `thumbnail_core::thumbnail`, on THREADS plain threads that take the files, largest first,
//! from a shared counter: `std::fs::read`, the engine on one thread per image, and
//! `std::fs::write` of `OUT_DIR/<stem>.jpg`. No runtime, no progress, no store. With
//! `--durable` each thumbnail is written as the batch writes to a local folder: a temporary
//! file, fsync, rename, fsync of the folder. Whatever the batch does beyond this is its own
//! cost; what this program cannot gain from a second thread is the machine's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use thumbnail_core::{Limits, ThumbnailSpec};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ceiling: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut args: Vec<String>) -> Result<(), String> {
    const USAGE: &str = "usage: ceiling THREADS OUT_DIR [--durable] FILE...";
    if args.len() < 3 {
        return Err(USAGE.into());
    }
    let threads: usize = args[0]
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("THREADS must be a positive number, not {:?}", args[0]))?;
    let out = PathBuf::from(&args[1]);
    let durable = args.get(2).is_some_and(|a| a == "--durable");
    let mut files: Vec<(u64, PathBuf)> = args
        .drain(if durable { 3.. } else { 2.. })
        .map(|f| {
            let size = std::fs::metadata(&f)
                .map_err(|e| format!("{f}: {e}"))?
                .len();
            Ok((size, PathBuf::from(f)))
        })
        .collect::<Result<_, String>>()?;
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    let next = AtomicUsize::new(0);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((_, file)) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(e) = one(file, &out, durable)
                        && let Ok(mut first) = failure.lock()
                    {
                        first.get_or_insert(e);
                    }
                }
            });
        }
    });
    match failure.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e),
        Err(_) => Err("a thread panicked".into()),
    }
}

fn one(file: &Path, out: &Path, durable: bool) -> Result<(), String> {
    let name = file.display();
    let data = std::fs::read(file).map_err(|e| format!("{name}: {e}"))?;
    let limits = Limits::default().with_max_threads(1);
    let thumb = thumbnail_core::thumbnail(&data, &ThumbnailSpec::default(), &limits)
        .map_err(|e| format!("{name}: {e}"))?;
    let stem = file
        .file_stem()
        .ok_or_else(|| format!("{name}: no file name"))?;
    let target = out.join(stem).with_extension("jpg");
    let written = if durable {
        write_durably(&target, &thumb.bytes, out)
    } else {
        std::fs::write(&target, &thumb.bytes)
    };
    written.map_err(|e| format!("{}: {e}", target.display()))
}

fn write_durably(target: &Path, bytes: &[u8], folder: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let temp = target.with_extension("jpg.part");
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, target)?;
    std::fs::File::open(folder)?.sync_all()
}
