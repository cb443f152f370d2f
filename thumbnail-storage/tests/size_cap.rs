//! A 60 MB object read with a 50 MB cap is refused without reading 60 MB into memory, on every
//! backend. A counting allocator (this test binary's alone) measures it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::{Kind, fixture};
use thumbnail_storage::{Key, PutOptions, StoreError};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
        let base = LIVE.load(Ordering::SeqCst);
        PEAK.store(base, Ordering::SeqCst);
        let result = f.store.get(&key, CAP).await;
        let grew = PEAK.load(Ordering::SeqCst) - base;
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
