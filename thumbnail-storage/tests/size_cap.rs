//! A 60 MB object read with a 50 MB cap is refused without reading 60 MB into memory, on every
//! backend. A counting allocator (this test binary's alone) measures it.

mod common;

use bytes::Bytes;
use common::{Kind, fixture};
use thumbnail_storage::{Key, PutOptions, StoreError};
use thumbnail_testkit::Measurement;

#[global_allocator]
static ALLOCATOR: thumbnail_testkit::Counting = thumbnail_testkit::Counting;

const OBJECT: usize = 60_000_000;
const CAP: u64 = 50_000_000;

#[tokio::test]
async fn a_60_mb_object_with_a_50_mb_cap_is_refused_unread() {
    let body = Bytes::from(vec![0x5Au8; OBJECT]);
    for kind in [Kind::Memory, Kind::Local, Kind::S3] {
        let f = fixture(kind).await;
        let key = Key::new("big/sixty.bin").unwrap();
        f.store
            .put(&key, body.clone(), &PutOptions::default())
            .await
            .unwrap();
        let measuring = Measurement::start();
        let result = f.store.get(&key, CAP).await;
        let grew = measuring.peak();
        match result {
            Err(StoreError::TooLarge { size, limit, .. }) => {
                assert_eq!((size, limit), (OBJECT as u64, CAP), "{kind:?}");
            }
            other => panic!("{kind:?}: {other:?}"),
        }
        // The in-memory backend already holds the object; reading it must not copy it.
        assert!(
            grew < 8 << 20,
            "{kind:?}: {} MiB allocated to refuse it",
            grew >> 20
        );
        f.store.delete(&key).await.unwrap();
    }
}
