//! A small cache with expiry where concurrent lookups of one key share one load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::{FutureExt, Shared};

use crate::fetch::BoxFuture;

type Load<T> = Shared<BoxFuture<'static, Result<(Arc<T>, i64), String>>>;

enum Entry<T> {
    Ready { value: Arc<T>, expires: i64 },
    Loading(Load<T>),
}

/// Values by key, each with an expiry time; loads are single-flight.
pub struct Cache<T> {
    entries: Mutex<HashMap<String, Entry<T>>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Send + Sync + 'static> Cache<T> {
    /// The value for `key` if fresh at `now`; otherwise runs `load` (once, however many callers
    /// wait), which returns the value and its expiry.
    pub async fn get(
        &self,
        key: &str,
        now: i64,
        load: impl FnOnce() -> BoxFuture<'static, Result<(Arc<T>, i64), String>>,
    ) -> Result<Arc<T>, String> {
        let shared = {
            let mut map = self
                .entries
                .lock()
                .map_err(|_| "cache lock poisoned".to_owned())?;
            match map.get(key) {
                Some(Entry::Ready { value, expires }) if *expires > now => return Ok(value.clone()),
                Some(Entry::Loading(l)) => l.clone(),
                _ => {
                    let l = load().shared();
                    map.insert(key.to_owned(), Entry::Loading(l.clone()));
                    l
                }
            }
        };
        let result = shared.await;
        let mut map = self
            .entries
            .lock()
            .map_err(|_| "cache lock poisoned".to_owned())?;
        match &result {
            Ok((value, expires)) => {
                map.insert(
                    key.to_owned(),
                    Entry::Ready {
                        value: value.clone(),
                        expires: *expires,
                    },
                );
            }
            Err(_) => {
                if matches!(map.get(key), Some(Entry::Loading(_))) {
                    map.remove(key);
                }
            }
        }
        result.map(|(v, _)| v)
    }

    /// Forgets the value for `key` if it expires no later than `not_before` (a value loaded more
    /// recently is kept). Returns whether it was forgotten.
    pub fn forget_if_expiring_before(&self, key: &str, not_before: i64) -> bool {
        let Ok(mut map) = self.entries.lock() else {
            return false;
        };
        match map.get(key) {
            Some(Entry::Ready { expires, .. }) if *expires <= not_before => {
                map.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut m) = self.entries.lock() {
            m.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn concurrent_lookups_share_one_load_and_expiry_reloads() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let cache: Cache<u32> = Cache::default();
        let loads = Arc::new(AtomicU32::new(0));
        let run = |now: i64| {
            let loads = loads.clone();
            let cache = &cache;
            async move {
                cache
                    .get("k", now, move || {
                        let loads = loads.clone();
                        Box::pin(async move {
                            let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
                            Ok((Arc::new(n), now + 10))
                        })
                    })
                    .await
            }
        };
        let results = rt.block_on(futures_util::future::join_all((0..8).map(|_| run(0))));
        assert!(results.iter().all(|r| r.as_deref() == Ok(&1)));
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "eight concurrent lookups, one load"
        );
        assert_eq!(rt.block_on(run(5)).as_deref(), Ok(&1));
        assert_eq!(rt.block_on(run(11)).as_deref(), Ok(&2), "expired: reloaded");
        let err: Result<Arc<u32>, String> =
            rt.block_on(cache.get("e", 0, || Box::pin(async { Err("down".to_owned()) })));
        assert_eq!(err, Err("down".into()));
    }
}
