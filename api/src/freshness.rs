//! Freshness: the one home of everything that lets the product answer a repeated question
//! without computing it again, and of the rule that says when it must.
//!
//! **Vocabulary.** The database holds *change counters* (`change_marker`: `staff`,
//! `clusters`, and `reports:0` to `reports:15`, spread by school so that concurrent
//! submissions rarely wait on one row). Every committed write moves the counter of what it
//! [`Touched`], as its transaction's last statement ([`crate::db::WriteTxn::commit`]). A
//! counter row stays locked from that update until the commit, so its values become visible
//! in commit order. A cached answer carries a *stamp*: the sum of the counters it
//! [`Depends`] on, read in the same snapshot it was computed in.
//!
//! **The one invalidation rule.** A cached answer is served only while the counters it
//! depends on are where they were when it was computed; any committed write through the
//! product to what it depends on moves one of them, and the next read computes afresh.
//! Nothing is brought up to date piecemeal: what is expensive to derive is stored on write
//! (`store::duty`, the latest-version flag of reports), so computing afresh is cheap.
//!
//! **When an answer can be stale.** Only when the database is changed by hand in SQL
//! without moving a counter: `senco-oversight recompute` rebuilds the derived facts and
//! moves the `staff` counter, which every stamp includes.
//!
//! Two caches use the rule: [`ResultCache`] (computed results keyed by the caller's reach,
//! used by `service`), and [`ResponseCache`] (whole response bodies keyed by token, used by
//! `http`).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, Statement};

use crate::auth::Principal;
use crate::error::ApiResult;

/// How many counters report submissions are spread over.
pub const REPORT_SHARDS: i32 = 16;

/// What a committed write changed, which decides the counter it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touched {
    /// People, appointments, qualifications, prior service, evidence checks, reference data
    /// (LAs, trusts, schools, imports) or policy data (the NPQ cohort calendar, which every
    /// projection reads): the `staff` counter.
    Staff,
    /// Clusters and their reviews: the `clusters` counter.
    Clusters,
    /// A new version of one school's termly report: that school's `reports:N` counter.
    Report {
        /// The school.
        school_urn: i32,
    },
    /// SENCO-governor meetings, governance actions and sign-offs: the `governance`
    /// counter, which no cached result reads but whole responses (and so the response
    /// cache's stamp) do.
    Governance,
    /// Nothing a cached answer reads (a submission replayed under its idempotency key).
    Nothing,
}

impl Touched {
    /// The counter this write moves; `None` for [`Touched::Nothing`].
    pub fn counter(self) -> Option<String> {
        match self {
            Touched::Staff => Some("staff".into()),
            Touched::Clusters => Some("clusters".into()),
            Touched::Governance => Some("governance".into()),
            Touched::Report { school_urn } => {
                Some(format!("reports:{}", school_urn.rem_euclid(REPORT_SHARDS)))
            }
            Touched::Nothing => None,
        }
    }

    /// The statement that moves the counter, the last of the write's transaction. Only
    /// the product's own counter names are spliced in.
    pub fn commit_sql(self) -> Option<String> {
        self.counter().map(|c| {
            format!(
                "INSERT INTO change_marker (domain, n) VALUES ('{c}', 1) \
                 ON CONFLICT (domain) DO UPDATE SET n = change_marker.n + 1"
            )
        })
    }
}

/// What a cached answer is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depends {
    /// Staff and reference data only (qualification deadlines).
    Staff,
    /// Staff, reference data and termly reports (summaries).
    StaffAndReports,
    /// Everything (whole responses).
    Everything,
}

/// The change counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(BTreeMap<String, i64>);

impl Counters {
    /// Reads every counter, as one statement.
    pub async fn read<C: ConnectionTrait>(db: &C) -> ApiResult<Self> {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT domain, n FROM change_marker",
            ))
            .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            out.insert(
                r.try_get::<String>("", "domain")?,
                r.try_get::<i64>("", "n")?,
            );
        }
        Ok(Self(out))
    }

    /// The stamp of an answer computed from `depends` under these counters: it changes
    /// exactly when one of the counters `depends` names moves, since counters only grow.
    pub fn stamp(&self, depends: Depends) -> String {
        let sum: i64 = self
            .0
            .iter()
            .filter(|(name, _)| match depends {
                Depends::Staff => name.as_str() == "staff",
                Depends::StaffAndReports => {
                    name.as_str() == "staff" || name.starts_with("reports:")
                }
                Depends::Everything => true,
            })
            .map(|(_, n)| n)
            .sum();
        format!("{depends:?}:{sum}")
    }
}

/// Most entries kept; beyond this a cache starts again empty (entries are cheap to
/// recompute, and this bounds memory without bookkeeping).
const MAX_ENTRIES: usize = 256;

/// One lock per key being computed, so that the requests that miss together wait for one
/// computation instead of each running their own.
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

type Entry = (String, Arc<dyn Any + Send + Sync>);

/// Computed results by key, each with the stamp it was computed under.
#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<String, Entry>>,
    flights: Flights,
}

impl ResultCache {
    fn get<T: Any + Send + Sync>(&self, key: &str, stamp: &str) -> Option<Arc<T>> {
        let entries = self.entries.lock().ok()?;
        let (s, value) = entries.get(key)?;
        if s != stamp {
            return None;
        }
        value.clone().downcast::<T>().ok()
    }

    fn put<T: Any + Send + Sync>(&self, key: String, stamp: String, value: Arc<T>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (stamp, value));
        }
    }
}

/// The answer to `what` for the caller's reach, from the cache when it was computed under
/// the counters it depends on as they are now (`seen`, when the request has read them
/// already, spares reading them again); otherwise computed by `compute` in a read snapshot
/// (repeatable read on PostgreSQL; SQLite's read transactions always are) whose counters
/// stamp it. Requests that miss together wait for one computation. `what` must, with the
/// reach, determine the answer.
pub async fn cached<T: Send + Sync + 'static>(
    conn: &DatabaseConnection,
    cache: &ResultCache,
    p: &Principal,
    seen: Option<&Counters>,
    depends: Depends,
    what: String,
    compute: impl AsyncFnOnce(&DatabaseTransaction) -> ApiResult<T>,
) -> ApiResult<Arc<T>> {
    let key = format!("{what}|admin={}|read={:?}", p.admin, p.read);
    let stamp = match seen {
        Some(c) => c.stamp(depends),
        None => Counters::read(conn).await?.stamp(depends),
    };
    if let Some(hit) = cache.get::<T>(&key, &stamp) {
        metrics::counter!("senco_cache_hits_total").increment(1);
        return Ok(hit);
    }
    let _turn = cache.flights.flight(&key).lock_owned().await;
    let txn = crate::db::Db::begin_read(conn).await?;
    let stamp = Counters::read(&txn).await?.stamp(depends);
    if let Some(hit) = cache.get::<T>(&key, &stamp) {
        txn.commit().await?;
        metrics::counter!("senco_cache_hits_total").increment(1);
        return Ok(hit);
    }
    metrics::counter!("senco_cache_misses_total").increment(1);
    let value = Arc::new(compute(&txn).await?);
    txn.commit().await?;
    cache.put(key, stamp, value.clone());
    Ok(value)
}

/// Most bytes of response bodies kept by [`ResponseCache`]; beyond this it starts again.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Larger bodies are not kept (a national list is cheaper to recompute than to hold).
const MAX_RESPONSE_BODY: usize = 512 * 1024;

/// Whole GraphQL response bodies of successful queries, keyed by everything the answer
/// depends on (the bearer token, the operation, its variables and the date in London) and
/// stamped with every counter ([`Depends::Everything`]), so that a dashboard polled again
/// before anything changed costs one counter read and no execution. Mutations and
/// responses with errors are never kept, and a body is kept only the second time its key
/// is answered: questions asked once (many officers, each with their own token) neither
/// pay for keeping their answers nor push out the answers of those who poll.
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
    /// Hashes of keys answered once and not kept.
    seen: std::collections::HashSet<u64>,
}

/// Most keys remembered as answered once; beyond this the memory starts again.
const MAX_SEEN: usize = 16 * 1024;

impl ResponseCache {
    /// The body kept for `key` if it was produced under `stamp`.
    pub fn get(&self, key: &str, stamp: &str) -> Option<Bytes> {
        let state = self.state.lock().ok()?;
        let (s, body) = state.entries.get(key)?;
        (s == stamp).then(|| body.clone())
    }

    /// Keeps `body` for `key`, produced under `stamp`, within the byte budget.
    pub fn put(&self, key: String, stamp: String, body: Bytes) {
        if body.len() > MAX_RESPONSE_BODY {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if !state.entries.contains_key(&key) {
            let hash = {
                use std::hash::{BuildHasher, BuildHasherDefault};
                BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                    .hash_one(&key)
            };
            if state.seen.len() >= MAX_SEEN {
                state.seen.clear();
            }
            if state.seen.insert(hash) {
                return;
            }
        }
        let cost = key.len() + body.len();
        if state.bytes + cost > MAX_RESPONSE_BYTES || state.entries.len() >= MAX_ENTRIES {
            state.entries.clear();
            state.bytes = 0;
        }
        if let Some((_, old)) = state.entries.insert(key.clone(), (stamp, body)) {
            state.bytes = state.bytes.saturating_sub(key.len() + old.len());
        }
        state.bytes += cost;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(pairs: &[(&str, i64)]) -> Counters {
        Counters(pairs.iter().map(|(d, n)| ((*d).to_string(), *n)).collect())
    }

    #[test]
    fn a_stamp_moves_only_with_the_counters_it_depends_on() {
        let before = counters(&[("staff", 3), ("clusters", 1), ("reports:1", 7)]);
        let report = counters(&[("staff", 3), ("clusters", 1), ("reports:1", 8)]);
        let cluster = counters(&[("staff", 3), ("clusters", 2), ("reports:1", 7)]);
        let s = |c: &Counters, d| c.stamp(d);
        assert_eq!(s(&before, Depends::Staff), s(&report, Depends::Staff));
        assert_ne!(
            s(&before, Depends::StaffAndReports),
            s(&report, Depends::StaffAndReports)
        );
        assert_eq!(
            s(&before, Depends::StaffAndReports),
            s(&cluster, Depends::StaffAndReports)
        );
        assert_ne!(
            s(&before, Depends::Everything),
            s(&cluster, Depends::Everything)
        );
        assert_ne!(
            s(&before, Depends::Staff),
            s(&before, Depends::Everything),
            "stamps of different dependencies never collide"
        );
    }

    #[test]
    fn each_write_moves_its_own_counter() {
        assert_eq!(Touched::Staff.counter().as_deref(), Some("staff"));
        assert_eq!(Touched::Clusters.counter().as_deref(), Some("clusters"));
        assert_eq!(Touched::Governance.counter().as_deref(), Some("governance"));
        assert_eq!(
            Touched::Report { school_urn: 100017 }.counter().as_deref(),
            Some("reports:1")
        );
        assert_eq!(Touched::Nothing.commit_sql(), None);
    }

    #[test]
    fn an_entry_is_served_only_under_its_stamp() {
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
    fn a_response_is_kept_the_second_time_its_key_is_answered() {
        let c = ResponseCache::default();
        c.put("k".into(), "1".into(), Bytes::from_static(b"{}"));
        assert!(c.get("k", "1").is_none(), "asked once: not kept");
        c.put("k".into(), "1".into(), Bytes::from_static(b"{}"));
        assert_eq!(c.get("k", "1").as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn responses_are_served_under_their_stamp_within_the_byte_budget() {
        let c = ResponseCache::default();
        for _ in 0..2 {
            c.put("k".into(), "1".into(), Bytes::from_static(b"{}"));
        }
        assert_eq!(c.get("k", "1").as_deref(), Some(&b"{}"[..]));
        assert!(c.get("k", "2").is_none());
        c.put("k".into(), "2".into(), Bytes::from_static(b"{\"a\":1}"));
        assert!(c.get("k", "1").is_none(), "replaced by the newer stamp");
        let big = Bytes::from(vec![b' '; MAX_RESPONSE_BODY + 1]);
        for _ in 0..2 {
            c.put("big".into(), "2".into(), big.clone());
        }
        assert!(c.get("big", "2").is_none(), "too large to keep");
        let body = Bytes::from(vec![b' '; MAX_RESPONSE_BODY]);
        for i in 0..(2 * MAX_RESPONSE_BYTES / MAX_RESPONSE_BODY) {
            for _ in 0..2 {
                c.put(i.to_string(), "2".into(), body.clone());
            }
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
