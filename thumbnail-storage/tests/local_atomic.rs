//! Local writes are atomic: readers racing a writer see the old object or the new one, whole.
//!
//! How: object_store's LocalFileSystem writes each object to a staging file beside it and
//! renames it over the old one (rename(2) replaces atomically); with fsync on, a crash leaves
//! the old file or the new one, never a torn one.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use thumbnail_storage::{Key, ObjectStoreBackend, PutOptions, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_half_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(ObjectStoreBackend::local(&dir.path().join("root")).unwrap());
    let key = Key::new("racy/object.bin").unwrap();
    let a = Bytes::from(vec![b'a'; 3_000_000]);
    let b = Bytes::from(vec![b'b'; 2_000_000]);
    store
        .put(&key, a.clone(), &PutOptions::default())
        .await
        .unwrap();

    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (store, key, a, b, done) = (
            store.clone(),
            key.clone(),
            a.clone(),
            b.clone(),
            done.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let got = store.get(&key, 10_000_000).await.unwrap().bytes;
                assert!(
                    got == a || got == b,
                    "read {} bytes of a torn object",
                    got.len()
                );
                reads += 1;
            }
            reads
        }));
    }
    for i in 0..40 {
        let body = if i % 2 == 0 { b.clone() } else { a.clone() };
        store.put(&key, body, &PutOptions::default()).await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let mut total = 0;
    for r in readers {
        total += r.await.unwrap();
    }
    assert!(total > 10, "only {total} reads raced the writer");
    // No staging files are left behind.
    assert_eq!(
        common::files_under(&dir.path().join("root")),
        ["racy/object.bin"]
    );
}
