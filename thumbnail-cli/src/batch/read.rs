//! Reading an input: an object of a store, standard input, or a named stream.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use thumbnail_storage::{LocalObject, StoreError};

use super::Source;

/// An input ready for a render thread: its bytes, or a local file it reads itself.
pub(super) enum Input {
    Bytes(Bytes),
    /// Opened, and read by the render thread just before it decodes it: a read on the
    /// runtime cost hand-offs between threads and a trip of the bytes through another core's
    /// cache, 0.6-0.8 ms of CPU per photo, several times the read itself.
    File(LocalObject),
}

impl Input {
    /// The input's bytes, reading them here if they are a local file's.
    pub fn bytes(self) -> Result<Bytes, String> {
        match self {
            Input::Bytes(bytes) => Ok(bytes),
            Input::File(file) => file.read().map_err(store_error),
        }
    }
}

/// Opens or reads an input, refusing more than `cap` bytes without reading them all, and
/// giving up on a stream that has not ended within `timeout`.
pub(super) async fn read(source: &Source, cap: u64, timeout: Duration) -> Result<Input, String> {
    match source {
        Source::Object(store, key) => match store.open_local(key, cap).await {
            Some(file) => file.map(Input::File).map_err(store_error),
            None => store
                .get(key, cap)
                .await
                .map(|o| Input::Bytes(o.bytes))
                .map_err(store_error),
        },
        Source::Stdin => {
            tokio::task::spawn_blocking(move || read_capped(std::io::stdin().lock(), cap))
                .await
                .map_err(|e| e.to_string())?
                .map(|data| Input::Bytes(Bytes::from(data)))
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
                Ok(Ok(read)) => read.map(|data| Input::Bytes(Bytes::from(data))),
                Ok(Err(_)) => Err("the reading thread ended without an answer".into()),
                Err(_) => Err(format!(
                    "nothing more to read within {} s (a pipe with no writer?)",
                    timeout.as_secs_f64()
                )),
            }
        }
    }
}

fn store_error(e: StoreError) -> String {
    match e {
        StoreError::TooLarge { size, limit, .. } => {
            format!("input is {size} bytes, over the limit of {limit} bytes")
        }
        e => e.to_string(),
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
