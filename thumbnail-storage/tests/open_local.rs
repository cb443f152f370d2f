//! `Store::open_local`: a local folder's object opened on the runtime and read on the caller's
//! thread gives what `get` gives, with the same refusals; other stores have no such objects.

mod common;

use std::io::Write;

use bytes::Bytes;
use common::{Kind, fixture};
use thumbnail_storage::{Key, PutOptions, StoreError};

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

#[tokio::test]
async fn a_local_object_read_on_the_callers_thread_is_what_get_reads() {
    let f = fixture(Kind::Local).await;
    let body: Bytes = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let k = key("in/photo.jpg");
    f.store
        .put(&k, body.clone(), &PutOptions::default())
        .await
        .unwrap();
    let opened = f.store.open_local(&k, 1 << 20).await.unwrap().unwrap();
    assert_eq!(opened.size(), body.len() as u64);
    // The read blocks: off the runtime, as a render thread does it.
    let read = std::thread::spawn(move || opened.read()).join().unwrap();
    assert_eq!(read.unwrap(), body);
    assert_eq!(f.store.get(&k, 1 << 20).await.unwrap().bytes, body);
}

#[tokio::test]
async fn a_local_object_is_refused_as_get_refuses_it() {
    let f = fixture(Kind::Local).await;
    let k = key("in/big.bin");
    f.store
        .put(&k, Bytes::from(vec![1u8; 5000]), &PutOptions::default())
        .await
        .unwrap();
    match f.store.open_local(&k, 4999).await.unwrap() {
        Err(StoreError::TooLarge { size, limit, .. }) => assert_eq!((size, limit), (5000, 4999)),
        other => panic!("over the cap: {other:?}"),
    }
    for missing in ["in/none.bin", "in"] {
        match f.store.open_local(&key(missing), 4999).await.unwrap() {
            Err(StoreError::NotFound { key }) => assert_eq!(key, missing),
            other => panic!("{missing}: {other:?}"),
        }
        assert!(matches!(
            f.store.get(&key(missing), 4999).await,
            Err(StoreError::NotFound { .. })
        ));
    }
}

/// The file changes between the open and the read: neither a grown file past the cap nor a
/// truncated one is taken for the object.
#[tokio::test]
async fn a_file_that_changes_after_it_is_opened_is_not_taken() {
    let f = fixture(Kind::Local).await;
    let root = f.dir.as_ref().unwrap().path().join("root");
    let k = key("grows.bin");
    f.store
        .put(&k, Bytes::from(vec![2u8; 1000]), &PutOptions::default())
        .await
        .unwrap();
    let opened = f.store.open_local(&k, 1500).await.unwrap().unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("grows.bin"))
        .unwrap();
    file.write_all(&[3u8; 2000]).unwrap();
    // Read as big as it was when opened: the object that was there, not a longer one.
    assert_eq!(opened.read().unwrap().len(), 1000);

    let k = key("shrinks.bin");
    f.store
        .put(&k, Bytes::from(vec![2u8; 1000]), &PutOptions::default())
        .await
        .unwrap();
    let opened = f.store.open_local(&k, 1500).await.unwrap().unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(root.join("shrinks.bin"))
        .unwrap()
        .set_len(10)
        .unwrap();
    let e = opened.read().unwrap_err().to_string();
    assert!(e.contains("ended after 10 of 1000 bytes"), "{e}");
}

#[tokio::test]
async fn stores_that_are_not_folders_have_no_local_objects() {
    for kind in [Kind::Memory, Kind::S3] {
        let f = fixture(kind).await;
        let k = key("in/photo.jpg");
        f.store
            .put(&k, Bytes::from_static(b"abc"), &PutOptions::default())
            .await
            .unwrap();
        assert!(f.store.open_local(&k, 10).await.is_none(), "{kind:?}");
        f.store.delete(&k).await.unwrap();
    }
}
