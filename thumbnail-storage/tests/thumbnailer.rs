//! The shared read -> thumbnail -> write step, on every backend.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Kind, fixture};
use thumbnail_storage::{
    JobError, Key, PutOptions, S3Config, S3Store, Thumbnailer, Timeouts, parse_presets,
};

fn presets() -> Vec<thumbnail_storage::Preset> {
    parse_presets("default=100x100 small=32x24,fit=fill webp=64x64,format=webp").unwrap()
}

async fn same_input_twice_gives_the_same_keys(kind: Kind) {
    let f = fixture(kind).await;
    let t = Thumbnailer::new(f.store.clone(), f.store.clone(), presets());
    let original = Key::new("photos/canon.jpg").unwrap();
    f.store
        .put(
            &original,
            Bytes::from(common::jpeg()),
            &PutOptions::default(),
        )
        .await
        .unwrap();

    let first = t.process(&original).await.unwrap();
    let second = t.process(&original).await.unwrap();
    let keys = |r: &thumbnail_storage::Report| {
        r.written
            .iter()
            .map(|w| w.key.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&first), keys(&second));
    assert_eq!(
        keys(&first),
        [
            "thumbnails/default/photos/canon.jpg",
            "thumbnails/small/photos/canon.jpg",
            "thumbnails/webp/photos/canon.jpg"
        ]
    );
    // One object per preset (and the original's info), not one per run.
    let outputs = f.store.list("thumbnails").await.unwrap();
    assert_eq!(outputs.len(), 4, "{kind:?}: {outputs:?}");
    for (w, (size, mime)) in first.written.iter().zip([
        ((100, 100), "image/jpeg"),
        ((32, 24), "image/jpeg"),
        ((64, 64), "image/webp"),
    ]) {
        let stored = f.store.get(&w.key, 1 << 20).await.unwrap();
        let info = thumbnail_core::probe(&stored.bytes).unwrap();
        assert_eq!((info.width, info.height), size, "{}", w.key);
        assert_eq!(
            stored.meta.content_type.as_deref(),
            Some(mime),
            "{kind:?} {}",
            w.key
        );
        assert_eq!(w.content_type, mime);
    }
    assert!(first.render_ms > 0.0 && first.source_bytes > 0);
}

async fn own_outputs_are_refused(kind: Kind) {
    let f = fixture(kind).await;
    let t = Thumbnailer::new(f.store.clone(), f.store.clone(), presets());
    let output = Key::new("thumbnails/default/photos/canon.jpg").unwrap();
    f.store
        .put(&output, Bytes::from(common::jpeg()), &PutOptions::default())
        .await
        .unwrap();
    match t.process(&output).await {
        Err(JobError::OwnOutput { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        t.process_bytes(&output, Bytes::from(common::jpeg()))
            .await
            .is_err()
    );
    // Still only the one object: nothing was derived from it.
    assert_eq!(f.store.list("").await.unwrap().len(), 1);
    // A folder merely starting with the same letters is not the prefix.
    t.check_source(&Key::new("thumbnailsx/a.jpg").unwrap())
        .unwrap();
    // Thumbnails at the root of a store of their own: no original is one of them.
    let mut separate = Thumbnailer::new(
        f.store.clone(),
        std::sync::Arc::new(thumbnail_storage::ObjectStoreBackend::memory()),
        presets(),
    );
    separate.prefix = String::new();
    separate.check_source(&output).unwrap();
    // At the root of the same store: everything would be an output, so everything is refused.
    let mut same = Thumbnailer::new(f.store.clone(), f.store.clone(), presets());
    same.prefix = String::new();
    assert!(same.check_source(&Key::new("a.jpg").unwrap()).is_err());
}

async fn corrupt_originals_fail_for_good(kind: Kind) {
    let f = fixture(kind).await;
    let t = Thumbnailer::new(f.store.clone(), f.store.clone(), presets());
    let k = Key::new("photos/broken.jpg").unwrap();
    f.store
        .put(
            &k,
            Bytes::from_static(b"\xFF\xD8\xFF\xE0 this is not really a JPEG"),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    let err = t.process(&k).await.unwrap_err();
    assert!(matches!(err, JobError::Image { .. }), "{err:?}");
    assert!(!err.is_transient());
    assert!(f.store.list("thumbnails").await.unwrap().is_empty());
    let missing = t
        .process(&Key::new("photos/none.jpg").unwrap())
        .await
        .unwrap_err();
    assert!(!missing.is_transient(), "{missing:?}");
}

#[tokio::test]
async fn separate_stores_and_prefixes() {
    let (src, dst) = (fixture(Kind::S3).await, fixture(Kind::Local).await);
    let t = Thumbnailer::new(src.store.clone(), dst.store.clone(), presets());
    let k = Key::new("thumbnails/but-an-original.jpg").unwrap();
    src.store
        .put(&k, Bytes::from(common::jpeg()), &PutOptions::default())
        .await
        .unwrap();
    // Another store's "thumbnails/" folder is not our output: it is processed.
    let report = t.process(&k).await.unwrap();
    assert_eq!(report.written.len(), 3);
    assert!(dst.store.exists(&report.written[0].key).await.unwrap());
}

#[tokio::test]
async fn an_unreachable_store_is_a_transient_failure() {
    common::s3_endpoint();
    let dead = Arc::new(
        S3Store::new(S3Config {
            bucket: "nowhere".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            path_style: true,
            timeouts: Timeouts {
                connect: Duration::from_millis(300),
                operation: Duration::from_secs(2),
                attempts: 2,
            },
            ..S3Config::default()
        })
        .await
        .unwrap(),
    );
    let memory = fixture(Kind::Memory).await;
    let k = Key::new("photos/canon.jpg").unwrap();
    memory
        .store
        .put(&k, Bytes::from(common::jpeg()), &PutOptions::default())
        .await
        .unwrap();
    // Reading from it, and writing to it.
    let read = Thumbnailer::new(dead.clone(), memory.store.clone(), presets())
        .process(&k)
        .await
        .unwrap_err();
    assert!(read.is_transient(), "{read:?}");
    let write = Thumbnailer::new(memory.store.clone(), dead, presets())
        .process(&k)
        .await
        .unwrap_err();
    assert!(write.is_transient(), "{write:?}");
}

macro_rules! on_every_backend {
    ($($t:ident),*) => {
        mod memory { $(#[tokio::test] async fn $t() { super::$t(super::Kind::Memory).await })* }
        mod local { $(#[tokio::test] async fn $t() { super::$t(super::Kind::Local).await })* }
        mod s3 { $(#[tokio::test] async fn $t() { super::$t(super::Kind::S3).await })* }
    };
}

on_every_backend!(
    same_input_twice_gives_the_same_keys,
    own_outputs_are_refused,
    corrupt_originals_fail_for_good
);
