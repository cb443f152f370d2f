//! Batch mode: files, folders and storage URLs in; thumbnails out, several at a time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use thumbnail_core::ThumbnailSpec;
use thumbnail_service::{LimitArgs, StoreArgs};
use thumbnail_storage::{Key, Store, Timeouts, open};

use crate::options::SpecArgs;

mod hopper;
mod pipeline;
mod placement;
mod progress;
mod read;

use pipeline::Batch;
use progress::{Progress, Report, Tally};

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
    // For reads and writes of local files and standard input; more would only queue.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2 * threads + 2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let spec = args.spec.spec()?;
    let mut jobs = rt.block_on(plan(args, &spec))?;
    // Largest first: the last images to start are the quickest, so no render thread is left
    // alone with a big one while the others idle.
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
    let limits = args.limits.limits();
    let timeout = args.limits.image_timeout();
    let batch = Arc::new(Batch::new(
        spec,
        limits,
        timeout,
        report,
        args.resume,
        threads,
    ));
    let started = Instant::now();
    pipeline::run(&batch, &rt, jobs)?;
    let report = &batch.report;
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
    let mut folders = Folders {
        timeouts,
        open: HashMap::new(),
    };
    for input in &args.inputs {
        found.extend(expand(input, ext, &mut folders).await?);
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
                let (store, key) = folders.file_object(out).await?;
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
async fn expand(input: &str, ext: &str, folders: &mut Folders) -> Result<Vec<Found>, String> {
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
                let (store, key) = folders.file_object(&path).await?;
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
    let store = open(input, &folders.timeouts)
        .await
        .map_err(|e| e.to_string())?;
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

/// The local stores of the folders of files named on the command line, one per folder.
struct Folders {
    timeouts: Timeouts,
    open: HashMap<String, Arc<dyn Store>>,
}

impl Folders {
    /// A file as an object: the local store of its folder, and its name as the key.
    async fn file_object(&mut self, path: &Path) -> Result<(Arc<dyn Store>, Key), String> {
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
        let key = Key::new(name).map_err(|e| format!("{shown}: {e}"))?;
        // Opening a store resolves its folder (a dozen system calls): once per folder, not
        // per file, as the batch must start its renders before it can use a second core.
        if let Some(store) = self.open.get(folder) {
            return Ok((store.clone(), key));
        }
        let store = open(folder, &self.timeouts)
            .await
            .map_err(|e| format!("{shown}: {e}"))?;
        self.open.insert(folder.to_string(), store.clone());
        Ok((store, key))
    }
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
