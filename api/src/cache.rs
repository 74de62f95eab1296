//! A small in-process cache of computed read results (the LA dashboard's deadlines, termly
//! summaries), so that a dashboard polled by many users costs one computation per change.
//!
//! Entries are keyed by everything that determines the answer, the caller's reach
//! included, and stamped with the database's change marker ([`crate::store::version`]); a
//! lookup whose marker differs is a miss. The marker is read from the database on every
//! request, so replicas never serve each other's stale results.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Most entries kept; beyond this the cache starts again empty (entries are cheap to
/// recompute, and this bounds memory without bookkeeping).
const MAX_ENTRIES: usize = 256;

type Entry = (String, Arc<dyn Any + Send + Sync>);

/// Computed results by key, each with the change marker it was computed under.
#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ResultCache {
    /// The entry for `key` if it was computed under `version`.
    pub fn get<T: Any + Send + Sync>(&self, key: &str, version: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().ok()?;
        let (v, value) = entries.get(key)?;
        if v != version {
            return None;
        }
        value.clone().downcast::<T>().ok()
    }

    /// Keeps `value` for `key`, computed under `version`.
    pub fn put<T: Any + Send + Sync>(&self, key: String, version: String, value: Arc<T>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (version, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_only_under_its_version() {
        let c = ResultCache::default();
        c.put("k".into(), "1".into(), Arc::new(5_u32));
        assert_eq!(c.get::<u32>("k", "1").as_deref(), Some(&5));
        assert!(c.get::<u32>("k", "2").is_none());
        assert!(c.get::<u32>("other", "1").is_none());
        assert!(
            c.get::<String>("k", "1").is_none(),
            "a different type is a miss"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = ResultCache::default();
        for i in 0..(MAX_ENTRIES + 10) {
            c.put(i.to_string(), "v".into(), Arc::new(i));
        }
        let n = c.entries.lock().map(|e| e.len()).unwrap_or(0);
        assert!(n <= MAX_ENTRIES);
    }
}
