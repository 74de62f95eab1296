//! Shared-SENCO clusters (SPEC 4.6): their rows, who may change them, and the facts the
//! cluster checks in `domain::clusters` look at.
//!
//! A cluster is visible to a caller who may read at least one of its member schools; its
//! member list is cut down to the readable ones by the GraphQL layer, as a person's
//! appointments are. Changing one needs an LA or trust write scope over *every* member
//! (SPEC 4.6), checked on the stored schools inside the write's transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::{cluster, cluster_member, school, senco_appointment};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::clusters::{self as rules, ClusterFacts, ClusterMemberFacts, MemberAppointment};
use crate::domain::qualification::QualificationStatus;
use crate::domain::school::{Urn, numbers};
use crate::error::{ApiError, ApiResult};
use crate::store::schools::SchoolQuery;
use crate::store::scope::Reached;
use crate::store::scope::{self, WriteAction};
use crate::store::{Page, Paged, audit, deadlines, sencos};

/// A new cluster, validated for shape by the caller (names trimmed, dates parsed).
#[derive(Debug, Clone)]
pub struct NewCluster {
    /// Its name.
    pub name: String,
    /// The shared SENCO.
    pub senco_person_id: i64,
    /// Member URNs.
    pub member_urns: Vec<Urn>,
    /// When the arrangement began.
    pub started_on: NaiveDate,
    /// When it was last reviewed.
    pub last_reviewed_on: Option<NaiveDate>,
    /// Months between reviews.
    pub review_interval_months: i32,
}

/// Changes to a cluster; `None` leaves a field as it is (`Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct ClusterPatch {
    /// New name.
    pub name: Option<String>,
    /// New SENCO.
    pub senco_person_id: Option<i64>,
    /// The new, whole member list.
    pub member_urns: Option<Vec<Urn>>,
    /// New start.
    pub started_on: Option<NaiveDate>,
    /// New or cleared last review.
    pub last_reviewed_on: Option<Option<NaiveDate>>,
    /// New interval.
    pub review_interval_months: Option<i32>,
    /// New or cleared end.
    pub ended_on: Option<Option<NaiveDate>>,
}

/// What the audit log keeps of a cluster: the row and its members.
#[derive(Clone, Copy)]
struct Snapshot<'a> {
    cluster: &'a cluster::Model,
    member_urns: &'a [i32],
}

/// A cluster as one school's audit log shows it: the row, how many members it has and
/// whether this school is one, but not which other schools they are, since a reader of
/// this school may not read them.
#[derive(Serialize)]
struct SchoolView<'a> {
    #[serde(flatten)]
    cluster: &'a cluster::Model,
    members: usize,
    school_is_member: bool,
}

impl<'a> Snapshot<'a> {
    fn for_school(self, urn: i32) -> SchoolView<'a> {
        SchoolView {
            cluster: self.cluster,
            members: self.member_urns.len(),
            school_is_member: self.member_urns.contains(&urn),
        }
    }
}

/// Checks the member list's shape (`domain::clusters::member_list`).
fn check_members(urns: &[i32], field: &str) -> ApiResult<()> {
    rules::member_list(urns).map_err(|m| ApiError::bad_input(field, m))
}

/// Loads the member schools, `NOT_FOUND` naming `field` for any URN with no school (as
/// everywhere a school is named),
/// then requires the cluster write permission on every one.
async fn writable_members<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    urns: &[i32],
    field: &str,
) -> ApiResult<Vec<school::Model>> {
    let found: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Urn.is_in(urns.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.urn, s))
        .collect();
    let mut out = Vec::with_capacity(urns.len());
    for u in urns {
        let s = found
            .get(u)
            .ok_or_else(|| ApiError::not_found_at(field, format!("no school has URN {u}")))?;
        scope::check_write(p, s, WriteAction::Cluster)?;
        out.push(s.clone());
    }
    Ok(out)
}

/// The SENCO must be someone the caller may already see: naming a cluster's SENCO must not
/// be a way to read a stranger's record (the cluster shows its SENCO to readers of any
/// member). Unknown and invisible ids get the same answer, so ids cannot be probed.
async fn require_person<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
    field: &str,
) -> ApiResult<()> {
    match sencos::person(db, p, id).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) | Err(ApiError::Forbidden(_)) => Err(ApiError::bad_input(
            field,
            format!("no person you may see has id {id}"),
        )),
        Err(e) => Err(e),
    }
}

fn check_dates(
    started_on: NaiveDate,
    last_reviewed_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    interval: i32,
    today: NaiveDate,
) -> ApiResult<()> {
    rules::cluster_dates(started_on, last_reviewed_on, ended_on, interval, today)
        .map_err(|(field, m)| ApiError::bad_input(field, m))
}

/// Member URNs of one cluster, ascending.
async fn member_urns<C: ConnectionTrait>(db: &C, id: i64) -> ApiResult<Vec<i32>> {
    Ok(cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(id))
        .order_by_asc(cluster_member::Column::SchoolUrn)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.school_urn)
        .collect())
}

/// Notes one audit row per school the change touches, each showing that school's view.
fn audit_each(
    log: &mut audit::Journal,
    urns: &BTreeSet<i32>,
    id: i64,
    before: Option<Snapshot<'_>>,
    after: Option<Snapshot<'_>>,
) -> ApiResult<()> {
    for urn in urns {
        let before = before.map(|b| b.for_school(*urn));
        let after = after.map(|a| a.for_school(*urn));
        log.changed("cluster", id, &[*urn], before.as_ref(), after.as_ref())?;
    }
    Ok(())
}

/// Inserts member rows (with each school's audit row after its member row, so a failure
/// part-way leaves the transaction to roll both back together).
async fn insert_members<C: ConnectionTrait>(db: &C, id: i64, urns: &[i32]) -> ApiResult<()> {
    for urn in urns {
        cluster_member::ActiveModel {
            cluster_id: Set(id),
            school_urn: Set(*urn),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Creates a cluster; the caller needs the cluster write permission on every member.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    input: NewCluster,
    today: NaiveDate,
) -> ApiResult<cluster::Model> {
    scope::require_authenticated(p)?;
    let members = numbers(&input.member_urns);
    check_members(&members, "memberUrns")?;
    check_dates(
        input.started_on,
        input.last_reviewed_on,
        None,
        input.review_interval_months,
        today,
    )?;
    writable_members(db, p, &members, "memberUrns").await?;
    require_person(db, p, input.senco_person_id, "sencoPersonId").await?;
    let row = cluster::ActiveModel {
        name: Set(input.name),
        senco_person_id: Set(input.senco_person_id),
        started_on: Set(input.started_on),
        last_reviewed_on: Set(input.last_reviewed_on),
        review_interval_months: Set(input.review_interval_months),
        ended_on: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let mut urns = members;
    urns.sort_unstable();
    insert_members(db, row.id, &urns).await?;
    let after = Snapshot {
        cluster: &row,
        member_urns: &urns,
    };
    audit_each(
        log,
        &urns.iter().copied().collect(),
        row.id,
        None,
        Some(after),
    )?;
    Ok(row)
}

async fn require_cluster<C: ConnectionTrait>(db: &C, id: i64) -> ApiResult<cluster::Model> {
    cluster::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found_at("clusterId", format!("no cluster has id {id}")))
}

/// Changes a cluster; the caller needs the permission on every old and every new member.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: ClusterPatch,
    today: NaiveDate,
) -> ApiResult<cluster::Model> {
    scope::require_authenticated(p)?;
    let members = patch.member_urns.as_deref().map(numbers);
    if let Some(urns) = &members {
        check_members(urns, "memberUrns")?;
    }
    let before = require_cluster(db, id).await?;
    let old_urns = member_urns(db, id).await?;
    writable_members(db, p, &old_urns, "clusterId").await?;
    if let Some(urns) = &members {
        writable_members(db, p, urns, "memberUrns").await?;
    }
    if let Some(pid) = patch.senco_person_id {
        require_person(db, p, pid, "sencoPersonId").await?;
    }
    let started_on = patch.started_on.unwrap_or(before.started_on);
    let last_reviewed_on = patch.last_reviewed_on.unwrap_or(before.last_reviewed_on);
    let ended_on = patch.ended_on.unwrap_or(before.ended_on);
    let interval = patch
        .review_interval_months
        .unwrap_or(before.review_interval_months);
    check_dates(started_on, last_reviewed_on, ended_on, interval, today)?;

    let mut am = before.clone().into_active_model();
    if let Some(name) = patch.name {
        am.name = Set(name);
    }
    if let Some(pid) = patch.senco_person_id {
        am.senco_person_id = Set(pid);
    }
    am.started_on = Set(started_on);
    am.last_reviewed_on = Set(last_reviewed_on);
    am.ended_on = Set(ended_on);
    am.review_interval_months = Set(interval);
    let row = am.update(db).await?;

    let mut new_urns = old_urns.clone();
    if let Some(mut urns) = members {
        urns.sort_unstable();
        cluster_member::Entity::delete_many()
            .filter(cluster_member::Column::ClusterId.eq(id))
            .exec(db)
            .await?;
        insert_members(db, id, &urns).await?;
        new_urns = urns;
    }
    let touched: BTreeSet<i32> = old_urns.iter().chain(new_urns.iter()).copied().collect();
    audit_each(
        log,
        &touched,
        id,
        Some(Snapshot {
            cluster: &before,
            member_urns: &old_urns,
        }),
        Some(Snapshot {
            cluster: &row,
            member_urns: &new_urns,
        }),
    )?;
    Ok(row)
}

/// Records a review on `reviewed_on` (no later than `today`); a review older than the one
/// on record is kept in the audit log but does not move `lastReviewedOn` back.
pub async fn record_review<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    reviewed_on: NaiveDate,
    today: NaiveDate,
) -> ApiResult<cluster::Model> {
    scope::require_authenticated(p)?;
    let before = require_cluster(db, id).await?;
    let urns = member_urns(db, id).await?;
    writable_members(db, p, &urns, "clusterId").await?;
    if reviewed_on < before.started_on {
        return Err(ApiError::bad_input(
            "reviewedOn",
            "must not be before the cluster started",
        ));
    }
    if reviewed_on > today {
        return Err(ApiError::bad_input(
            "reviewedOn",
            "must not be in the future",
        ));
    }
    let latest = before
        .last_reviewed_on
        .map_or(reviewed_on, |d| d.max(reviewed_on));
    let mut am = before.clone().into_active_model();
    am.last_reviewed_on = Set(Some(latest));
    let row = am.update(db).await?;
    audit_each(
        log,
        &urns.iter().copied().collect(),
        id,
        Some(Snapshot {
            cluster: &before,
            member_urns: &urns,
        }),
        Some(Snapshot {
            cluster: &row,
            member_urns: &urns,
        }),
    )?;
    Ok(row)
}

/// Clusters with at least one member the caller may read.
fn visible(p: &Principal, extra: Condition) -> ApiResult<Condition> {
    let urns = Query::select()
        .column(school::Column::Urn)
        .from(school::Entity)
        .cond_where(Condition::all().add(scope::readable_schools(p)?).add(extra))
        .to_owned();
    Ok(Condition::all().add(
        cluster::Column::Id.in_subquery(
            Query::select()
                .column(cluster_member::Column::ClusterId)
                .from(cluster_member::Entity)
                .and_where(cluster_member::Column::SchoolUrn.in_subquery(urns))
                .to_owned(),
        ),
    ))
}

/// One cluster; `None` when there is none, `FORBIDDEN` when no member is readable.
pub async fn cluster<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
) -> ApiResult<Option<cluster::Model>> {
    scope::require_authenticated(p)?;
    let Some(row) = cluster::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let readable = cluster::Entity::find()
        .filter(cluster::Column::Id.eq(id))
        .filter(visible(p, Condition::all())?)
        .count(db)
        .await?;
    if readable == 0 {
        return Err(ApiError::forbidden(format!(
            "your token covers no member school of cluster {id}"
        )));
    }
    Ok(Some(row))
}

/// Visible clusters with a member matching `filter`, by id, one page at a time.
pub async fn clusters<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    filter: &SchoolQuery,
    page: Page<i64>,
) -> ApiResult<Paged<cluster::Model>> {
    filter.check_covered(p)?;
    let mut cond = visible(p, filter.condition())?;
    if let Some(id) = filter.cluster_id {
        cond = cond.add(cluster::Column::Id.eq(id));
    }
    let base = cluster::Entity::find().filter(cond);
    let total = base.clone().count(db).await?;
    let mut q = base.order_by_asc(cluster::Column::Id);
    if let Some(after) = page.after {
        q = q.filter(cluster::Column::Id.gt(after));
    }
    let rows = q.limit(page.first + 1).all(db).await?;
    Ok(Paged::from_overfetch(rows, page.first, total))
}

/// Clusters by id (DataLoaders; the resolver checks visibility through its members).
pub async fn clusters_by_id<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, cluster::Model>> {
    Ok(cluster::Entity::find()
        .filter(cluster::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// Member URNs by cluster id, ascending (DataLoaders).
pub async fn members_by_cluster<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<i32>>> {
    let rows = cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.is_in(ids.iter().copied()))
        .order_by_asc(cluster_member::Column::SchoolUrn)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<i32>> = ids.iter().map(|i| (*i, Vec::new())).collect();
    for m in rows {
        out.entry(m.cluster_id).or_default().push(m.school_urn);
    }
    Ok(out)
}

/// A cluster with the facts the checks need, as of one day.
#[derive(Debug, Clone)]
pub struct ClusterState {
    /// The row.
    pub cluster: cluster::Model,
    /// The facts.
    pub facts: ClusterFacts,
}

impl ClusterState {
    /// Combined roll of the members (unknown rolls count as none).
    pub fn total_number_on_roll(&self) -> i64 {
        self.facts
            .members
            .iter()
            .map(|m| i64::from(m.number_on_roll.unwrap_or(0)))
            .sum()
    }

    /// The SENCO's non-contact hours a week across the members.
    pub fn total_non_contact_hours(&self) -> f64 {
        self.facts
            .members
            .iter()
            .filter_map(|m| {
                m.senco_appointment
                    .and_then(|a| a.non_contact_hours_per_week)
            })
            .sum()
    }
}

/// Facts for the checks of `clusters` as of `as_of`, keyed by cluster id: a fixed number
/// of queries for any number of clusters (members, their schools, the SENCOs' current
/// appointments at them and those appointments' qualification status).
pub async fn facts<C: ConnectionTrait>(
    db: &C,
    reach: Reached,
    clusters: Vec<cluster::Model>,
    as_of: NaiveDate,
) -> ApiResult<HashMap<i64, ClusterState>> {
    if clusters.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = clusters.iter().map(|c| c.id).collect();
    let members = members_by_cluster(db, reach, &ids).await?;
    let all_urns: BTreeSet<i32> = members.values().flatten().copied().collect();
    let people: BTreeSet<i64> = clusters.iter().map(|c| c.senco_person_id).collect();
    let schools: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Urn.is_in(all_urns.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.urn, s))
        .collect();
    let appointments: Vec<senco_appointment::Model> = senco_appointment::Entity::find()
        .filter(senco_appointment::Column::PersonId.is_in(people.iter().copied()))
        .filter(senco_appointment::Column::SchoolUrn.is_in(all_urns.iter().copied()))
        .filter(super::current_on(
            senco_appointment::Column::StartedOn,
            senco_appointment::Column::EndedOn,
            as_of,
        ))
        .order_by_asc(senco_appointment::Column::StartedOn)
        .all(db)
        .await?;
    let statuses: HashMap<i64, QualificationStatus> = if appointments.is_empty() {
        HashMap::new()
    } else {
        deadlines::deadlines_for_appointments(
            db,
            reach,
            appointments.iter().map(|a| a.id).collect(),
            as_of,
        )
        .await?
        .into_iter()
        .map(|d| (d.appointment.id, d.outcome.status))
        .collect()
    };
    // The latest-starting current appointment of each (person, school) pair speaks for it.
    let mut by_pair: HashMap<(i64, i32), &senco_appointment::Model> = HashMap::new();
    for a in &appointments {
        by_pair.insert((a.person_id, a.school_urn), a);
    }
    let mut out = HashMap::with_capacity(clusters.len());
    for c in clusters {
        let urns = members.get(&c.id).cloned().unwrap_or_default();
        let member_facts = urns
            .iter()
            .map(|urn| {
                let s = schools.get(urn);
                ClusterMemberFacts {
                    urn: *urn,
                    is_primary: s.is_some_and(|s| s.phase == "PRIMARY"),
                    number_on_roll: s.and_then(|s| s.number_on_roll),
                    senco_appointment: by_pair.get(&(c.senco_person_id, *urn)).map(|a| {
                        MemberAppointment {
                            is_headteacher: a.is_headteacher,
                            class_teaching_fraction: a.class_teaching_fraction,
                            non_contact_hours_per_week: a.non_contact_hours_per_week,
                            qualification_overdue: statuses.get(&a.id)
                                == Some(&QualificationStatus::Overdue),
                        }
                    }),
                }
            })
            .collect();
        out.insert(
            c.id,
            ClusterState {
                facts: ClusterFacts {
                    started_on: c.started_on,
                    last_reviewed_on: c.last_reviewed_on,
                    review_interval_months: c.review_interval_months,
                    members: member_facts,
                },
                cluster: c,
            },
        );
    }
    Ok(out)
}

/// Clusters active on `as_of` with at least one member among the schools `schools`
/// selects (for the compliance list).
pub async fn active_with_member_in<C: ConnectionTrait>(
    db: &C,
    schools: sea_orm::sea_query::SelectStatement,
    as_of: NaiveDate,
) -> ApiResult<Vec<cluster::Model>> {
    Ok(cluster::Entity::find()
        .filter(
            cluster::Column::Id.in_subquery(
                Query::select()
                    .column(cluster_member::Column::ClusterId)
                    .from(cluster_member::Entity)
                    .and_where(cluster_member::Column::SchoolUrn.in_subquery(schools))
                    .to_owned(),
            ),
        )
        .filter(super::current_on(
            cluster::Column::StartedOn,
            cluster::Column::EndedOn,
            as_of,
        ))
        .order_by_asc(cluster::Column::Id)
        .all(db)
        .await?)
}

/// Cluster ids by member school (DataLoaders).
pub async fn clusters_of_schools<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<i64>>> {
    let rows = cluster_member::Entity::find()
        .filter(cluster_member::Column::SchoolUrn.is_in(urns.iter().copied()))
        .order_by_asc(cluster_member::Column::ClusterId)
        .all(db)
        .await?;
    let mut out: HashMap<i32, Vec<i64>> = urns.iter().map(|u| (*u, Vec::new())).collect();
    for m in rows {
        out.entry(m.school_urn).or_default().push(m.cluster_id);
    }
    Ok(out)
}

/// Cluster states for (cluster id, as-of) keys: one computation per distinct date.
pub async fn states<C: ConnectionTrait>(
    db: &C,
    reach: Reached,
    keys: &[(i64, NaiveDate)],
) -> ApiResult<HashMap<(i64, NaiveDate), ClusterState>> {
    let mut by_date: HashMap<NaiveDate, Vec<i64>> = HashMap::new();
    for (id, date) in keys {
        by_date.entry(*date).or_default().push(*id);
    }
    let mut out = HashMap::new();
    for (date, ids) in by_date {
        let rows: Vec<cluster::Model> = clusters_by_id(db, reach, &ids)
            .await?
            .into_values()
            .collect();
        for (id, state) in facts(db, reach, rows, date).await? {
            out.insert((id, date), state);
        }
    }
    Ok(out)
}
