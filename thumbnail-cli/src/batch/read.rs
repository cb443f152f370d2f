//! Reading an input: an object of a store, standard input, or a named stream.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use thumbnail_storage::StoreError;

use super::Source;

/// Reads an input, refusing more than `cap` bytes without reading them all, and giving up on
/// a stream that has not ended within `timeout`.
pub(super) async fn read(source: &Source, cap: u64, timeout: Duration) -> Result<Bytes, String> {
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
