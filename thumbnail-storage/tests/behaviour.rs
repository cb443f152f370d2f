//! One behavioural suite, run against every backend: memory, a local folder, and S3 (a real
//! S3-compatible server on 127.0.0.1, over HTTP with SigV4, path-style).

mod common;
mod upload;

use bytes::Bytes;
use common::{Fixture, Kind, fixture};
use thumbnail_storage::{Key, PutOptions, StoreError};
use upload::presigned_post;

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

fn opts(ct: &str) -> PutOptions {
    PutOptions {
        content_type: Some(ct.into()),
        cache_control: Some("public, max-age=60".into()),
        ..PutOptions::default()
    }
}

async fn round_trip(f: Fixture) {
    for k in [
        "a.bin",
        "deep/er/path/b.bin",
        "red flower.jpg",
        "ünï/çødé.png",
    ] {
        let body = Bytes::from(format!("payload of {k}"));
        let meta = f
            .store
            .put(&key(k), body.clone(), &PutOptions::default())
            .await
            .unwrap();
        assert_eq!(meta.size, body.len() as u64);
        let got = f.store.get(&key(k), 1 << 20).await.unwrap();
        assert_eq!(got.bytes, body, "{k}");
        assert_eq!(got.meta.size, body.len() as u64);
        assert_eq!(got.meta.key.as_str(), k);
    }
}

async fn overwrite(f: Fixture) {
    let k = key("over/write.bin");
    f.store
        .put(
            &k,
            Bytes::from_static(b"first version, longer"),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    f.store
        .put(&k, Bytes::from_static(b"second"), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(
        f.store.get(&k, 1024).await.unwrap().bytes,
        Bytes::from_static(b"second")
    );
    assert_eq!(f.store.list("over").await.unwrap().len(), 1);
}

async fn not_found(f: Fixture) {
    let k = key("missing/thing.jpg");
    assert!(matches!(
        f.store.get(&k, 10).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        f.store.head(&k).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(!f.store.exists(&k).await.unwrap());
    f.store.delete(&k).await.unwrap();
}

async fn size_cap(f: Fixture) {
    let k = key("capped.bin");
    f.store
        .put(&k, Bytes::from(vec![7u8; 1000]), &PutOptions::default())
        .await
        .unwrap();
    match f.store.get(&k, 999).await {
        Err(StoreError::TooLarge { size, limit, .. }) => assert_eq!((size, limit), (1000, 999)),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.store.get(&k, 1000).await.unwrap().bytes.len(), 1000);
}

async fn listing(f: Fixture) {
    for k in ["l/a/1", "l/a/2", "l/a/b/3", "l/ab/4", "l/c"] {
        f.store
            .put(&key(k), Bytes::from_static(b"x"), &PutOptions::default())
            .await
            .unwrap();
    }
    let names = |v: Vec<thumbnail_storage::ObjectMeta>| {
        v.into_iter().map(|m| m.key.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(f.store.list("l/a").await.unwrap()),
        ["l/a/1", "l/a/2", "l/a/b/3"]
    );
    assert_eq!(
        names(f.store.list("l/a/").await.unwrap()),
        ["l/a/1", "l/a/2", "l/a/b/3"]
    );
    assert_eq!(names(f.store.list("l").await.unwrap()).len(), 5);
    assert!(f.store.list("nothing-here").await.unwrap().is_empty());
    let all = f.store.list("").await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|m| m.size == 1));
}

async fn metadata(f: Fixture) {
    let jpeg = Bytes::from(common::jpeg());
    let k = key("meta/photo");
    f.store
        .put(&k, jpeg.clone(), &opts("image/jpeg"))
        .await
        .unwrap();
    let head = f.store.head(&k).await.unwrap();
    assert_eq!(head.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(head.size, jpeg.len() as u64);
    let got = f.store.get(&k, 1 << 20).await.unwrap();
    assert_eq!(got.meta.content_type.as_deref(), Some("image/jpeg"));
    match f.kind {
        // A folder keeps no metadata: the type comes from the bytes (this key has no extension).
        Kind::Local => assert_eq!(head.cache_control, None),
        Kind::Memory => assert_eq!(head.cache_control.as_deref(), Some("public, max-age=60")),
        Kind::S3 => {
            // What a plain S3 client sees: the SDK's own HeadObject on the raw bucket name.
            let s3 = f.s3.as_ref().unwrap();
            let raw = s3
                .client()
                .head_object()
                .bucket(s3.bucket())
                .key("some/prefix/meta/photo")
                .send()
                .await
                .unwrap();
            assert_eq!(raw.content_type(), Some("image/jpeg"));
            assert_eq!(raw.cache_control(), Some("public, max-age=60"));
            assert_eq!(head.cache_control.as_deref(), Some("public, max-age=60"));
        }
    }
}

async fn deleting(f: Fixture) {
    let k = key("gone/soon.bin");
    f.store
        .put(&k, Bytes::from_static(b"x"), &PutOptions::default())
        .await
        .unwrap();
    assert!(f.store.exists(&k).await.unwrap());
    f.store.delete(&k).await.unwrap();
    assert!(!f.store.exists(&k).await.unwrap());
    assert!(f.store.list("gone").await.unwrap().is_empty());
}

async fn invalid_keys(f: Fixture) {
    let outside_before = f.dir.as_ref().map(|d| common::files_under(d.path()));
    for bad in [
        "../etc/passwd",
        "/abs",
        "a/../../b",
        "a\0b",
        &"k".repeat(2048),
        "",
        "a//b",
        "..",
        "a/./b",
    ] {
        match Key::new(bad) {
            Err(StoreError::InvalidKey { .. }) => {}
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    // Nothing reached the store, and (for a folder) nothing appeared anywhere on disk.
    assert!(f.store.list("").await.unwrap().is_empty());
    if let (Some(d), Some(before)) = (&f.dir, outside_before) {
        assert_eq!(common::files_under(d.path()), before);
        assert!(
            common::files_under(d.path())
                .iter()
                .all(|p| !p.contains("passwd"))
        );
    }
}

async fn reachable(f: Fixture) {
    f.store.check().await.unwrap();
}

macro_rules! suite {
    ($($behaviour:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test] async fn $behaviour() { super::$behaviour(super::fixture(super::Kind::Memory).await).await })*
        }
        mod local {
            $(#[tokio::test] async fn $behaviour() { super::$behaviour(super::fixture(super::Kind::Local).await).await })*
        }
        mod s3 {
            $(#[tokio::test] async fn $behaviour() { super::$behaviour(super::fixture(super::Kind::S3).await).await })*
        }
    };
}

suite!(
    round_trip,
    overwrite,
    not_found,
    size_cap,
    listing,
    metadata,
    deleting,
    invalid_keys,
    presigned_post,
    reachable
);
