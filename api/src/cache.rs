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

use axum::body::Bytes;

/// Most entries kept; beyond this the cache starts again empty (entries are cheap to
/// recompute, and this bounds memory without bookkeeping).
const MAX_ENTRIES: usize = 256;

type Entry = (String, Arc<dyn Any + Send + Sync>);

/// One lock per key being computed, so that the requests that miss together wait for one
/// computation instead of each running their own (a dashboard polled by many users right
/// after a change).
#[derive(Default)]
pub struct Flights(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Flights {
    /// The lock that computations of `key` take turns under.
    pub fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let Ok(mut flights) = self.0.lock() else {
            return Arc::default();
        };
        if flights.len() >= MAX_ENTRIES && !flights.contains_key(key) {
            // Only locks nobody holds or waits on are dropped.
            flights.retain(|_, l| Arc::strong_count(l) > 1);
        }
        flights.entry(key.to_string()).or_default().clone()
    }
}

/// Computed results by key, each with the change marker it was computed under.
#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Computations in progress.
    pub flights: Flights,
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

    /// The entry for `key` whatever it was computed under, to bring up to date.
    pub fn get_any<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().ok()?;
        let (_, value) = entries.get(key)?;
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

/// Most bytes of response bodies kept by [`ResponseCache`]; beyond this it starts again.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Larger bodies are not kept (a national list is cheaper to recompute than to hold).
const MAX_RESPONSE_BODY: usize = 512 * 1024;

/// Whole GraphQL response bodies of successful queries, keyed by everything the answer
/// depends on (the bearer token, the operation, its variables and the date in London) and
/// stamped with the database's change marker, so that a dashboard polled again before
/// anything changed costs one marker read and no execution. Mutations and responses with
/// errors are never kept.
#[derive(Default)]
pub struct ResponseCache {
    state: Mutex<Responses>,
    /// Executions in progress.
    pub flights: Flights,
}

#[derive(Default)]
struct Responses {
    entries: HashMap<String, (String, Bytes)>,
    bytes: usize,
}

impl ResponseCache {
    /// The body kept for `key` if it was produced under `version`.
    pub fn get(&self, key: &str, version: &str) -> Option<Bytes> {
        let state = self.state.lock().ok()?;
        let (v, body) = state.entries.get(key)?;
        (v == version).then(|| body.clone())
    }

    /// Keeps `body` for `key`, produced under `version`, within the byte budget.
    pub fn put(&self, key: String, version: String, body: Bytes) {
        if body.len() > MAX_RESPONSE_BODY {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let cost = key.len() + body.len();
        if state.bytes + cost > MAX_RESPONSE_BYTES || state.entries.len() >= MAX_ENTRIES {
            state.entries.clear();
            state.bytes = 0;
        }
        if let Some((_, old)) = state.entries.insert(key.clone(), (version, body)) {
            state.bytes = state.bytes.saturating_sub(key.len() + old.len());
        }
        state.bytes += cost;
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
    fn requests_for_one_key_share_its_lock_and_idle_locks_are_dropped() {
        let c = Flights::default();
        assert!(Arc::ptr_eq(&c.flight("k"), &c.flight("k")));
        assert!(!Arc::ptr_eq(&c.flight("k"), &c.flight("other")));
        let held = c.flight("held");
        for i in 0..(MAX_ENTRIES + 10) {
            c.flight(&i.to_string());
        }
        let flights = c.0.lock().map(|f| f.len()).unwrap_or(usize::MAX);
        assert!(flights <= MAX_ENTRIES, "{flights} locks kept");
        assert!(Arc::ptr_eq(&held, &c.flight("held")), "a held lock is kept");
    }

    #[test]
    fn responses_are_served_under_their_version_within_the_byte_budget() {
        let c = ResponseCache::default();
        c.put("k".into(), "1".into(), Bytes::from_static(b"{}"));
        assert_eq!(c.get("k", "1").as_deref(), Some(&b"{}"[..]));
        assert!(c.get("k", "2").is_none());
        c.put("k".into(), "2".into(), Bytes::from_static(b"{\"a\":1}"));
        assert!(c.get("k", "1").is_none(), "replaced by the newer version");
        let big = Bytes::from(vec![b' '; MAX_RESPONSE_BODY + 1]);
        c.put("big".into(), "2".into(), big);
        assert!(c.get("big", "2").is_none(), "too large to keep");
        let body = Bytes::from(vec![b' '; MAX_RESPONSE_BODY]);
        for i in 0..(2 * MAX_RESPONSE_BYTES / MAX_RESPONSE_BODY) {
            c.put(i.to_string(), "2".into(), body.clone());
        }
        let kept = c.state.lock().map(|s| s.bytes).unwrap_or(usize::MAX);
        assert!(kept <= MAX_RESPONSE_BYTES, "{kept} bytes kept");
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
