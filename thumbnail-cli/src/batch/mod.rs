//! Batch mode: files, folders and storage URLs in; thumbnails out, several at a time.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thumbnail_core::{Limits, Thumbnail, ThumbnailSpec};
use thumbnail_service::{LimitArgs, StoreArgs};
use thumbnail_storage::{
    Cores, JobError, Key, PutOptions, Store, StoreError, Timeouts, Work, open, render,
};
use tokio::sync::Mutex;

use crate::options::SpecArgs;

mod progress;

use progress::{Progress, Report, Tally, Writing};

/// Extensions picked up when walking a folder or listing a storage prefix (a file named on
/// the command line is taken whatever its name: the format comes from its bytes).
const IMAGE_EXTENSIONS: [&str; 12] = [
    "jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp", "heic", "heif", "avif", "jxl",
];

/// Arguments of batch mode (`thumbnail INPUT... --out-dir DIR`).
#[derive(Debug, clap::Args)]
pub struct BatchArgs {
    /// Files, folders (searched recursively), `-` for standard input, or storage URLs
    /// (s3://bucket/prefix, file:///path, memory://) whose images are all processed.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<String>,

    /// Write the single input's thumbnail here; `-` writes standard output.
    #[arg(short, long, value_name = "OUT", conflicts_with = "out_dir")]
    output: Option<PathBuf>,

    /// Write thumbnails under this folder or storage URL: a named file becomes <stem>.<ext>,
    /// a folder's or prefix's images keep their relative paths.
    #[arg(long, value_name = "DIR_OR_URL")]
    out_dir: Option<String>,

    #[command(flatten)]
    spec: SpecArgs,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    store: StoreArgs,

    /// Images processed in parallel (default: the number of CPUs).
    #[arg(long, env = "THUMBNAIL_THREADS", value_name = "N")]
    threads: Option<usize>,

    /// Skip inputs whose thumbnail already exists.
    #[arg(long = "continue")]
    resume: bool,

    /// Progress on stderr: auto (a bar on a terminal, a line per image otherwise), bar,
    /// lines, none.
    #[arg(long, default_value = "auto", value_parser = ["auto", "bar", "lines", "none"])]
    progress: String,
}

/// Where an image comes from: standard input, or an object of a store (a file is an object
/// of the local store of its folder).
enum Source {
    Stdin,
    /// A named file that is not a regular one (a pipe, `<(command)`, a device): read as a
    /// stream, like standard input.
    Stream(PathBuf),
    Object(Arc<dyn Store>, Key),
}

/// Where its thumbnail goes.
#[derive(Clone)]
enum Target {
    Stdout,
    Object(Arc<dyn Store>, Key),
}

struct Job {
    label: String,
    source: Source,
    target: Result<Target, String>,
    /// Bytes of the input (0 when unknown): the largest go first.
    size: u64,
}

pub fn run(args: &BatchArgs) -> Result<ExitCode, String> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(threads + 2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run_async(args, threads))
}

async fn run_async(args: &BatchArgs, threads: usize) -> Result<ExitCode, String> {
    let spec = args.spec.spec()?;
    let limits = args.limits.limits();
    let image_timeout = args.limits.image_timeout();
    let mut jobs = plan(args, &spec).await?;
    // Largest first: the last images to start are the quickest, so no worker is left alone
    // with a big one while the others idle.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.size));
    let total = jobs.len();
    // One image to one named output is a plain command: only its failure is worth a line.
    let mode = if args.output.is_some() {
        "none"
    } else {
        args.progress.as_str()
    };
    let report = Report {
        tally: Arc::new(Tally::default()),
        progress: Progress::new(mode, total),
        total,
    };
    let queue = Arc::new(Mutex::new(jobs.into_iter().enumerate()));
    // An image runs on several threads only once nothing waits behind it: until then each
    // worker keeps its own core busy.
    let cores = Cores::new(threads);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..threads.min(total.max(1)) {
        let (queue, report, cores) = (queue.clone(), report.clone(), cores.clone());
        let resume = args.resume;
        workers.push(tokio::spawn(async move {
            // A worker's last thumbnail is written (and fsynced) while it renders the next:
            // waiting on the disk would leave its core idle.
            let mut writing: Option<Writing> = None;
            loop {
                let (next, last) = {
                    let mut queue = queue.lock().await;
                    (queue.next(), queue.len() == 0)
                };
                let Some((i, job)) = next else { break };
                let limits = if last {
                    limits
                } else {
                    limits.with_max_threads(1)
                };
                let rendered =
                    render_one(&job, &spec, &limits, (image_timeout, &cores), resume).await;
                if let Some(w) = writing.take() {
                    report.settle(w).await;
                }
                match rendered {
                    Ok(Some((target, thumb))) => {
                        writing = Some((i, job.label, tokio::spawn(write_one(target, thumb))));
                    }
                    Ok(None) => report.record(i, &job.label, Ok(false)),
                    Err(e) => report.record(i, &job.label, Err(e)),
                }
            }
            if let Some(w) = writing.take() {
                report.settle(w).await;
            }
        }));
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())?;
    }
    report.progress.finish();
    let tally = &report.tally;
    let (done, failed, skipped) = (
        tally.done.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
        tally.skipped.load(Ordering::Relaxed),
    );
    let secs = started.elapsed().as_secs_f64();
    if report.progress.summary {
        eprintln!(
            "{done} done, {failed} failed, {skipped} skipped in {secs:.2} s ({:.1} img/s)",
            done as f64 / secs.max(1e-9)
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One input found: what it is called in messages, where it is read from, and the name of its
/// thumbnail relative to the output folder.
struct Found {
    label: String,
    source: Source,
    name: String,
    size: u64,
}

/// Expands the inputs into jobs, each with its target (or why it has none).
async fn plan(args: &BatchArgs, spec: &ThumbnailSpec) -> Result<Vec<Job>, String> {
    let timeouts = args.store.timeouts();
    if args.inputs.iter().filter(|i| *i == "-").count() > 1 {
        return Err("`-` (standard input) can be given only once".into());
    }
    let ext = spec.format.extension();
    let mut found = Vec::new();
    for input in &args.inputs {
        found.extend(expand(input, ext, &timeouts).await?);
    }
    match (&args.output, &args.out_dir) {
        (Some(out), None) => {
            if found.len() != 1 {
                return Err(format!(
                    "-o/--output takes exactly one image ({} given); use --out-dir for several",
                    found.len()
                ));
            }
            let target = if out.as_os_str() == "-" {
                Target::Stdout
            } else {
                let (store, key) = file_object(out, &timeouts).await?;
                Target::Object(store, key)
            };
            let Found {
                label,
                source,
                size,
                ..
            } = found.remove(0);
            Ok(vec![Job {
                label,
                source,
                target: Ok(target),
                size,
            }])
        }
        (None, Some(dir)) => {
            let store = open(dir, &timeouts).await.map_err(|e| e.to_string())?;
            Ok(into_store(found, &store))
        }
        _ => Err("say where to write: -o OUT (one image) or --out-dir DIR_OR_URL".into()),
    }
}

/// One input as the images it names: standard input, a file (whatever its name: the format
/// comes from its bytes), or every image of a folder or storage URL (by extension).
async fn expand(input: &str, ext: &str, timeouts: &Timeouts) -> Result<Vec<Found>, String> {
    if input == "-" {
        return Ok(vec![Found {
            label: "-".into(),
            source: Source::Stdin,
            name: format!("stdin.{ext}"),
            size: 0,
        }]);
    }
    let url = input.contains("://");
    let path = PathBuf::from(input);
    if !url && !path.is_dir() {
        let stem = path
            .file_stem()
            .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
        // Unreadable metadata is reported when the file itself is read.
        let meta = std::fs::metadata(&path).ok();
        let source = match &meta {
            Some(m) if !m.is_file() => Source::Stream(path.clone()),
            _ => {
                let (store, key) = file_object(&path, timeouts).await?;
                Source::Object(store, key)
            }
        };
        return Ok(vec![Found {
            label: input.to_string(),
            source,
            name: format!("{stem}.{ext}"),
            size: meta.filter(|m| m.is_file()).map_or(0, |m| m.len()),
        }]);
    }
    let store = open(input, timeouts).await.map_err(|e| e.to_string())?;
    let objects = store.list("").await.map_err(|e| format!("{input}: {e}"))?;
    Ok(objects
        .into_iter()
        .filter(|o| is_image_name(o.key.as_str()))
        .map(|o| Found {
            label: if url {
                format!("{}/{}", input.trim_end_matches('/'), o.key)
            } else {
                path.join(o.key.as_str()).display().to_string()
            },
            name: with_extension(o.key.as_str(), ext),
            size: o.size,
            source: Source::Object(store.clone(), o.key),
        })
        .collect())
}

/// Jobs writing under `store`; two inputs must not write the same output, so the later ones
/// fail instead.
fn into_store(found: Vec<Found>, store: &Arc<dyn Store>) -> Vec<Job> {
    let mut claimed: HashMap<String, String> = HashMap::new();
    found
        .into_iter()
        .map(
            |Found {
                 label,
                 source,
                 name,
                 size,
             }| {
                let target = match claimed.get(&name) {
                    Some(first) => Err(format!(
                        "its output {name} would overwrite the thumbnail of {first}"
                    )),
                    None => {
                        claimed.insert(name.clone(), label.clone());
                        Key::new(name)
                            .map(|k| Target::Object(store.clone(), k))
                            .map_err(|e| e.to_string())
                    }
                };
                Job {
                    label,
                    source,
                    target,
                    size,
                }
            },
        )
        .collect()
}

/// A file as an object: the local store of its folder, and its name as the key.
async fn file_object(path: &Path, timeouts: &Timeouts) -> Result<(Arc<dyn Store>, Key), String> {
    let shown = path.display();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{shown}: not a file name"))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = folder
        .to_str()
        .ok_or_else(|| format!("{shown}: the folder is not UTF-8"))?;
    let store = open(folder, timeouts)
        .await
        .map_err(|e| format!("{shown}: {e}"))?;
    let key = Key::new(name).map_err(|e| format!("{shown}: {e}"))?;
    Ok((store, key))
}

fn is_image_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, e)| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `a/b.jpeg` with extension `jpg` gives `a/b.jpg`; a name without one gets it appended.
fn with_extension(name: &str, ext: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() && !stem.ends_with('/') => stem,
        _ => name,
    };
    format!("{stem}.{ext}")
}

/// Renders one job's thumbnail, and where it goes; `None` when skipped because the output
/// exists.
async fn render_one(
    job: &Job,
    spec: &ThumbnailSpec,
    limits: &Limits,
    (image_timeout, cores): (Duration, &Arc<Cores>),
    resume: bool,
) -> Result<Option<(Target, Thumbnail)>, String> {
    let target = job.target.as_ref().map_err(Clone::clone)?;
    if resume {
        let exists = match target {
            Target::Object(store, key) => store.exists(key).await.map_err(|e| e.to_string())?,
            Target::Stdout => false,
        };
        if exists {
            return Ok(None);
        }
    }
    let data = read(&job.source, limits.max_input_bytes, image_timeout).await?;
    let work = Work {
        deadline: Some(Instant::now() + image_timeout),
        cores: Some(cores.clone()),
        ..Work::default()
    };
    let thumb = render(&job.label, data, vec![*spec], *limits, work)
        .await
        .map_err(|e| match e {
            JobError::Image { source, .. } => source.to_string(),
            other => other.to_string(),
        })?
        .thumbnails
        .pop()
        .ok_or("no thumbnail was made")?;
    Ok(Some((target.clone(), thumb)))
}

/// Writes a rendered thumbnail; `Ok(true)` once it is stored.
async fn write_one(target: Target, thumb: Thumbnail) -> Result<bool, String> {
    match target {
        Target::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(&thumb.bytes)
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing standard output: {e}"))
        }
        Target::Object(store, key) => {
            let options = PutOptions {
                content_type: Some(thumb.mime().to_string()),
                ..PutOptions::default()
            };
            store
                .put(&key, Bytes::from(thumb.bytes), &options)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }?;
    Ok(true)
}

/// Reads an input, refusing more than `cap` bytes without reading them all, and giving up on
/// a stream that has not ended within `timeout`.
async fn read(source: &Source, cap: u64, timeout: Duration) -> Result<Bytes, String> {
    match source {
        Source::Object(store, key) => match store.get(key, cap).await {
            Ok(o) => Ok(o.bytes),
            Err(StoreError::TooLarge { size, limit, .. }) => Err(format!(
                "input is {size} bytes, over the limit of {limit} bytes"
            )),
            Err(e) => Err(e.to_string()),
        },
        Source::Stdin => {
            tokio::task::spawn_blocking(move || read_capped(std::io::stdin().lock(), cap))
                .await
                .map_err(|e| e.to_string())?
                .map(Bytes::from)
        }
        Source::Stream(path) => {
            // Opening a pipe waits for a writer, and neither the open nor the read can be
            // cancelled: they run on a thread of their own, which the process leaves behind
            // if they never end (a blocking-pool thread would hold up the runtime's shutdown).
            let (tx, rx) = tokio::sync::oneshot::channel();
            let path = path.clone();
            std::thread::Builder::new()
                .name("read-stream".into())
                .spawn(move || {
                    let read = std::fs::File::open(&path)
                        .map_err(|e| e.to_string())
                        .and_then(|f| read_capped(f, cap));
                    let _ = tx.send(read);
                })
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(read)) => read.map(Bytes::from),
                Ok(Err(_)) => Err("the reading thread ended without an answer".into()),
                Err(_) => Err(format!(
                    "nothing more to read within {} s (a pipe with no writer?)",
                    timeout.as_secs_f64()
                )),
            }
        }
    }
}

fn read_capped(reader: impl Read, cap: u64) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() as u64 > cap {
        return Err(format!("input is over the limit of {cap} bytes"));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        assert_eq!(with_extension("a/b.jpeg", "jpg"), "a/b.jpg");
        assert_eq!(with_extension("b.png", "webp"), "b.webp");
        assert_eq!(with_extension("noext", "jpg"), "noext.jpg");
        assert_eq!(with_extension(".hidden", "jpg"), ".hidden.jpg");
        assert!(is_image_name("x/Y.JPG"));
        assert!(!is_image_name("notes.txt"));
    }
}
