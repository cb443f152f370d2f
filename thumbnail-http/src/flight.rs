//! Single flight: concurrent first requests for one thumbnail make it once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use thumbnail_storage::Key;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// A lock per key being made. The first request for a key takes it and makes the thumbnail;
/// the others wait for it, then find the thumbnail stored. Entries live only while someone
/// holds or waits for them, so the map stays as small as the work under way.
#[derive(Debug, Default)]
pub(crate) struct Flights(Mutex<HashMap<Key, Weak<AsyncMutex<()>>>>);

impl Flights {
    /// Waits until no other request is making `key`, and holds it until the guard drops.
    pub(crate) async fn enter(&self, key: &Key) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, w| w.strong_count() > 0);
            match map.get(key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(()));
                    map.insert(key.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_holder_per_key_and_no_leftovers() {
        let flights = Arc::new(Flights::default());
        let a = Key::new("a").unwrap();
        let held = flights.enter(&a).await;
        // Another key is not held up.
        drop(flights.enter(&Key::new("b").unwrap()).await);
        let f = flights.clone();
        let k = a.clone();
        let waiter = tokio::spawn(async move { drop(f.enter(&k).await) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiter.is_finished(),
            "the second request waits for the first"
        );
        drop(held);
        waiter.await.unwrap();
        drop(flights.enter(&a).await);
        let map = flights.0.lock().unwrap();
        assert!(map.values().all(|w| w.strong_count() == 0));
        assert!(map.len() <= 1);
    }
}
