//! Per-request DataLoaders, so nested fields cost one query per level, not one per row.
//!
//! Loaders are built for each request and dropped with it: nothing cached for one caller
//! is ever served to another. They load reference rows only; anything scoped is checked by
//! the resolver against the loaded school through `store::scope`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::NaiveDate;
use entity::{
    cluster, evidence_check, governance_action, local_authority, person, prior_senco_service,
    qualification, school, school_census, senco_appointment, termly_report, trust,
};
use futures::future::BoxFuture;

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::compliance::SchoolFacts;
use crate::domain::governance::TermFigures;
use crate::error::{ApiError, ApiResult};
use crate::store::clusters::{self, ClusterState};
use crate::store::deadlines::{self, Deadline};
use crate::store::scope::Reached;
use crate::store::{compliance, evidence, governance, reports, schools, sencos};

/// A failed batch load, shared by every waiter on the batch.
#[derive(Clone, Debug)]
pub struct LoadError(Arc<str>);

type LoadFn<K, V> = fn(Db, Reached, Vec<K>) -> BoxFuture<'static, ApiResult<HashMap<K, V>>>;

/// A loader that runs one store function over a batch of keys.
pub struct StoreLoader<K, V> {
    db: Db,
    /// The caller's reach; `None` for an anonymous caller, whose loads all fail.
    reach: Option<Reached>,
    load: LoadFn<K, V>,
}

impl<K, V> Loader<K> for StoreLoader<K, V>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    type Value = V;
    type Error = LoadError;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, V>, LoadError> {
        let reach = self
            .reach
            .ok_or_else(|| LoadError(Arc::from("a load for an anonymous caller")))?;
        (self.load)(self.db.clone(), reach, keys.to_vec())
            .await
            .map_err(|e| LoadError(Arc::from(format!("{e:?}"))))
    }
}

/// One loader's handle.
pub type L<K, V> = DataLoader<StoreLoader<K, V>, HashMapCache>;

fn loader<K, V>(db: &Db, reach: Option<Reached>, load: LoadFn<K, V>) -> L<K, V>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    DataLoader::with_cache(
        StoreLoader {
            db: db.clone(),
            reach,
            load,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// Loads a whole level's keys at once, straight away, and feeds the rows into the loader's
/// cache, so the resolvers that follow find them there. A list resolver calls it with
/// every key the level can have, so nothing more could join the batch: it does not wait
/// out the loader's batching window as `load_many` would (see [`Loaders::new`]).
pub async fn many<K, V>(l: &L<K, V>, keys: impl IntoIterator<Item = K>) -> ApiResult<HashMap<K, V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    let keys: Vec<K> = keys.into_iter().collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let found = l
        .loader()
        .load(&keys)
        .await
        .map_err(|LoadError(msg)| ApiError::internal(msg))?;
    l.feed_many(found.iter().map(|(k, v)| (k.clone(), v.clone())))
        .await;
    Ok(found)
}

/// Loads one key, turning a batch failure into an internal error.
pub async fn one<K, V>(l: &L<K, V>, key: K) -> ApiResult<Option<V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    l.load_one(key)
        .await
        .map_err(|LoadError(msg)| ApiError::internal(msg))
}

/// The loaders of one request.
pub struct Loaders {
    /// Schools by URN.
    pub schools: L<i32, school::Model>,
    /// LAs by code.
    pub las: L<i32, local_authority::Model>,
    /// Trusts by UID.
    pub trusts: L<i32, trust::Model>,
    /// Latest census snapshot by URN.
    pub census: L<i32, school_census::Model>,
    /// People by id.
    pub people: L<i64, person::Model>,
    /// Appointments by school.
    pub appointments_by_school: L<i32, Vec<senco_appointment::Model>>,
    /// Appointments by person.
    pub appointments_by_person: L<i64, Vec<senco_appointment::Model>>,
    /// Qualifications by person.
    pub qualifications: L<i64, Vec<qualification::Model>>,
    /// Prior service by person.
    pub prior_service: L<i64, Vec<prior_senco_service::Model>>,
    /// Latest report of every term, by school.
    pub latest_reports: L<i32, Vec<termly_report::Model>>,
    /// Every version of a report, by (URN, academic year, term).
    pub report_history: L<(i32, i32, String), Vec<termly_report::Model>>,
    /// Computed deadlines by (appointment id, as-of date).
    pub deadlines: L<(i64, NaiveDate), Deadline>,
    /// Clusters by id.
    pub clusters: L<i64, cluster::Model>,
    /// Member URNs by cluster id.
    pub cluster_members: L<i64, Vec<i32>>,
    /// Cluster ids by member URN.
    pub clusters_of_school: L<i32, Vec<i64>>,
    /// Cluster facts by (cluster id, as-of date).
    pub cluster_states: L<(i64, NaiveDate), ClusterState>,
    /// Successor schools by predecessor URN.
    pub successors: L<i32, Vec<school::Model>>,
    /// Compliance facts by (URN, as-of date).
    pub school_facts: L<(i32, NaiveDate), SchoolFacts>,
    /// Evidence checks by person.
    pub evidence_checks: L<i64, Vec<evidence_check::Model>>,
    /// SENCO-governor meetings by school.
    pub governor_meetings: L<i32, Vec<governance::Meeting>>,
    /// Governance actions by school.
    pub governance_actions: L<i32, Vec<governance_action::Model>>,
    /// Sign-offs by school.
    pub sign_offs: L<i32, Vec<governance::SignOff>>,
    /// Track records by (URN, number of terms), ending with the latest term that has ended.
    pub track_records: L<(i32, u32), Vec<TermFigures>>,
}

impl Loaders {
    /// Fresh loaders over `db`. With `cache`, a row loaded once is reused for the rest of
    /// the request, which lets list resolvers load a whole level in one batch up front
    /// (async-graphql's batching window is a timer, so rows resolved late would otherwise
    /// start further batches). Requests that write get no cache, so a mutation's result
    /// never shows rows read before an earlier mutation of the same request.
    pub fn new(db: &Db, p: &Principal, cache: bool) -> Self {
        let l = Self::build(db, Reached::through(p).ok());
        if !cache {
            l.disable_caches();
        }
        l
    }

    fn disable_caches(&self) {
        self.schools.enable_all_cache(false);
        self.las.enable_all_cache(false);
        self.trusts.enable_all_cache(false);
        self.census.enable_all_cache(false);
        self.people.enable_all_cache(false);
        self.appointments_by_school.enable_all_cache(false);
        self.appointments_by_person.enable_all_cache(false);
        self.qualifications.enable_all_cache(false);
        self.prior_service.enable_all_cache(false);
        self.latest_reports.enable_all_cache(false);
        self.report_history.enable_all_cache(false);
        self.deadlines.enable_all_cache(false);
        self.clusters.enable_all_cache(false);
        self.cluster_members.enable_all_cache(false);
        self.clusters_of_school.enable_all_cache(false);
        self.cluster_states.enable_all_cache(false);
        self.successors.enable_all_cache(false);
        self.school_facts.enable_all_cache(false);
        self.evidence_checks.enable_all_cache(false);
        self.governor_meetings.enable_all_cache(false);
        self.governance_actions.enable_all_cache(false);
        self.sign_offs.enable_all_cache(false);
        self.track_records.enable_all_cache(false);
    }

    fn build(db: &Db, r: Option<Reached>) -> Self {
        Self {
            schools: loader(db, r, |db, reach, k| {
                Box::pin(async move { schools::schools_by_urn(&db.conn, reach, &k).await })
            }),
            las: loader(db, r, |db, reach, k| {
                Box::pin(async move { schools::las_by_code(&db.conn, reach, &k).await })
            }),
            trusts: loader(db, r, |db, reach, k| {
                Box::pin(async move { schools::trusts_by_uid(&db.conn, reach, &k).await })
            }),
            census: loader(db, r, |db, reach, k| {
                Box::pin(async move { schools::census_by_urn(&db.conn, reach, &k).await })
            }),
            people: loader(db, r, |db, reach, k| {
                Box::pin(async move { sencos::people_by_id(&db.conn, reach, &k).await })
            }),
            appointments_by_school: loader(db, r, |db, reach, k| {
                Box::pin(async move { sencos::appointments_by_school(&db.conn, reach, &k).await })
            }),
            appointments_by_person: loader(db, r, |db, reach, k| {
                Box::pin(async move { sencos::appointments_by_person(&db.conn, reach, &k).await })
            }),
            qualifications: loader(db, r, |db, reach, k| {
                Box::pin(async move { sencos::qualifications_by_person(&db.conn, reach, &k).await })
            }),
            prior_service: loader(db, r, |db, reach, k| {
                Box::pin(async move { sencos::prior_service_by_person(&db.conn, reach, &k).await })
            }),
            latest_reports: loader(db, r, |db, reach, k| {
                Box::pin(async move { reports::latest_by_school(&db.conn, reach, &k).await })
            }),
            report_history: loader(db, r, |db, reach, k| {
                Box::pin(async move { reports::history(&db.conn, reach, &k).await })
            }),
            deadlines: loader(db, r, |db, reach, keys| {
                Box::pin(load_deadlines(db, reach, keys))
            }),
            clusters: loader(db, r, |db, reach, k| {
                Box::pin(async move { clusters::clusters_by_id(&db.conn, reach, &k).await })
            }),
            cluster_members: loader(db, r, |db, reach, k| {
                Box::pin(async move { clusters::members_by_cluster(&db.conn, reach, &k).await })
            }),
            clusters_of_school: loader(db, r, |db, reach, k| {
                Box::pin(async move { clusters::clusters_of_schools(&db.conn, reach, &k).await })
            }),
            cluster_states: loader(db, r, |db, reach, k| {
                Box::pin(async move { clusters::states(&db.conn, reach, &k).await })
            }),
            successors: loader(db, r, |db, reach, k| {
                Box::pin(async move { schools::successors_by_urn(&db.conn, reach, &k).await })
            }),
            school_facts: loader(db, r, |db, reach, k| {
                Box::pin(async move { compliance::facts_by_school(&db.conn, reach, &k).await })
            }),
            evidence_checks: loader(db, r, |db, reach, k| {
                Box::pin(async move { evidence::by_person(&db.conn, reach, &k).await })
            }),
            governor_meetings: loader(db, r, |db, reach, k| {
                Box::pin(async move { governance::meetings_by_school(&db.conn, reach, &k).await })
            }),
            governance_actions: loader(db, r, |db, reach, k| {
                Box::pin(async move { governance::actions_by_school(&db.conn, reach, &k).await })
            }),
            sign_offs: loader(db, r, |db, reach, k| {
                Box::pin(async move { governance::sign_offs_by_school(&db.conn, reach, &k).await })
            }),
            track_records: loader(db, r, |db, reach, k| {
                Box::pin(async move {
                    let last = crate::domain::governance::track_record_ends(super::today());
                    governance::track_records(&db.conn, reach, &k, last).await
                })
            }),
        }
    }
}

/// Deadlines for a batch of (appointment, as-of) keys: one computation per distinct date.
async fn load_deadlines(
    db: Db,
    reach: Reached,
    keys: Vec<(i64, NaiveDate)>,
) -> ApiResult<HashMap<(i64, NaiveDate), Deadline>> {
    let mut by_date: HashMap<NaiveDate, Vec<i64>> = HashMap::new();
    for (id, date) in keys {
        by_date.entry(date).or_default().push(id);
    }
    let mut out = HashMap::new();
    for (date, ids) in by_date {
        for d in deadlines::deadlines_for_appointments(&db.conn, reach, ids, date).await? {
            out.insert((d.appointment.id, date), d);
        }
    }
    Ok(out)
}
