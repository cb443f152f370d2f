//! A local folder's objects: writes are atomic (readers racing a writer see the old object or
//! the new one, whole: each object is written to a staging file beside it and renamed over
//! the old one, with fsync, so a crash leaves one of them), and nothing outside the folder is
//! reached through a link, nor a special file opened as an object.

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

/// Issue 31, item 2: links placed in the folder (to a file, to a folder outside it) and
/// special files (a FIFO) are no objects: reads, heads, streams, opens, writes, deletes and
/// lists all refuse them or pass them over, and nothing outside the folder is read, written
/// or removed. A FIFO answers at once instead of hanging a thread.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn links_and_special_files_are_not_objects() {
    use std::os::unix::fs::symlink;
    use thumbnail_storage::StoreError;

    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    std::fs::create_dir_all(outside.join("deep")).unwrap();
    std::fs::write(outside.join("secret"), b"outside the store").unwrap();
    let store = ObjectStoreBackend::local(&root).unwrap();
    symlink(outside.join("secret"), root.join("passwd")).unwrap();
    symlink(&outside, root.join("linked")).unwrap();
    std::fs::create_dir(root.join("real")).unwrap();
    symlink("../../outside/secret", root.join("real/relative")).unwrap();
    let fifo = root.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let missing = |r: Result<(), StoreError>, what: &str| {
        assert!(
            matches!(r, Err(StoreError::NotFound { .. })),
            "{what}: {r:?}"
        );
    };
    let within = std::time::Duration::from_secs(5);
    for name in [
        "passwd",
        "linked/secret",
        "real/relative",
        "pipe",
        "linked/deep",
    ] {
        let key = Key::new(name).unwrap();
        let get = tokio::time::timeout(within, store.get(&key, 1 << 20))
            .await
            .unwrap();
        missing(get.map(drop), &format!("get {name}"));
        missing(store.head(&key).await.map(drop), &format!("head {name}"));
        missing(
            store.stream(&key, None).await.map(drop),
            &format!("stream {name}"),
        );
        let opened = store.open_local(&key, 1 << 20).await.unwrap();
        missing(opened.map(drop), &format!("open {name}"));
    }
    let put = |name: &str| {
        let (store, key) = (store.clone(), Key::new(name).unwrap());
        async move {
            store
                .put(&key, Bytes::from_static(b"x"), &PutOptions::default())
                .await
        }
    };
    missing(put("passwd").await.map(drop), "put over a link");
    missing(
        put("linked/new.jpg").await.map(drop),
        "put through a linked folder",
    );
    missing(
        put("linked/deep/new.jpg").await.map(drop),
        "put through a linked folder, deeper",
    );
    missing(put("pipe").await.map(drop), "put over a FIFO");
    assert!(!outside.join("new.jpg").exists() && !outside.join("deep/new.jpg").exists());
    assert_eq!(
        std::fs::read(outside.join("secret")).unwrap(),
        b"outside the store"
    );
    missing(
        store.delete(&Key::new("passwd").unwrap()).await,
        "delete a link",
    );
    missing(
        store.delete(&Key::new("pipe").unwrap()).await,
        "delete a FIFO",
    );
    store
        .delete(&Key::new("linked/secret").unwrap())
        .await
        .unwrap_err();
    assert!(root.join("passwd").symlink_metadata().is_ok() && fifo.exists());
    assert!(
        outside.join("secret").exists(),
        "a file outside was removed"
    );
    put("real/ok.jpg").await.unwrap();
    let keys: Vec<String> = store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key.to_string())
        .collect();
    assert_eq!(keys, ["real/ok.jpg"]);
    assert!(store.list("linked").await.unwrap().is_empty());
    // A folder replaced by a link after the store opened is not followed either.
    std::fs::rename(root.join("real"), dir.path().join("moved")).unwrap();
    symlink(&outside, root.join("real")).unwrap();
    missing(
        put("real/ok.jpg").await.map(drop),
        "put through a swapped folder",
    );
    assert!(!outside.join("ok.jpg").exists());
}
