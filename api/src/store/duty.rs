//! The derived duty facts of each appointment (`appointment_duty`, SPEC 4.4 rules 1 to 5),
//! kept on write: every change that can move them (a person's appointments, prior service
//! or qualifications; a school's kind) calls [`refresh_people`] for the people concerned in
//! the same transaction, and [`recompute_all`] rebuilds them from the base tables.
//!
//! A person's facts depend on all of their appointments (prior service counts the others,
//! at relevant schools) and on the kinds of those schools, so the unit of recomputation is
//! the person: all of their appointments are redone together. The rules themselves are
//! [`crate::domain::qualification::duty_facts`]; this module only gathers their inputs.

use std::collections::{BTreeSet, HashMap};

use entity::{
    appointment_duty, facts_version, prior_senco_service, qualification, school, senco_appointment,
};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::qualification::{
    self as rules, DutyFacts, DutyInput, ExemptionReason, QualificationKind, QualificationRecord,
    ServicePeriod,
};
use crate::error::ApiResult;

/// The version of the rules that write `appointment_duty`. Raise it when
/// [`rules::duty_facts`] changes what it computes: the next start rebuilds every row once.
pub const DUTY_FACTS_VERSION: i32 = 1;

/// The name of the duty facts in `facts_version`.
const DUTY_FACTS: &str = "appointment_duty";

/// People recomputed per batch by [`recompute_all`] (bounded by the bound-parameter limits
/// of both databases).
const BATCH: usize = 1000;

/// A qualification row as the rules see it; `None` for a kind the rules do not know.
pub fn record(q: &qualification::Model) -> Option<QualificationRecord> {
    Some(QualificationRecord {
        id: q.id,
        kind: QualificationKind::parse(&q.kind)?,
        started_on: q.started_on,
        completed_on: q.completed_on,
    })
}

/// The stored facts of one appointment, as the rules return them.
pub fn facts_of(row: &appointment_duty::Model) -> DutyFacts {
    DutyFacts {
        exemption_reason: row
            .exemption_reason
            .as_deref()
            .and_then(ExemptionReason::parse),
        deadline: row.deadline,
        prior_service_days: i64::from(row.prior_service_days),
        earliest_award: row.qualified_on.zip(row.qualifying_award_id),
    }
}

fn row_of(appointment_id: i64, f: &DutyFacts) -> appointment_duty::Model {
    appointment_duty::Model {
        appointment_id,
        duty_applies: f.duty_applies(),
        exemption_reason: f.exemption_reason.map(|r| r.as_str().to_string()),
        deadline: f.deadline,
        prior_service_days: i32::try_from(f.prior_service_days).unwrap_or(i32::MAX),
        qualified_on: f.earliest_award.map(|(d, _)| d),
        qualifying_award_id: f.earliest_award.map(|(_, id)| id),
    }
}

/// Computes, from the base tables, the facts of every appointment of `people`.
pub async fn compute_for_people<C: ConnectionTrait>(
    db: &C,
    people: &[i64],
) -> ApiResult<Vec<appointment_duty::Model>> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let ids = || people.iter().copied();
    let appointments = senco_appointment::Entity::find()
        .filter(senco_appointment::Column::PersonId.is_in(ids()))
        .order_by_asc(senco_appointment::Column::Id)
        .all(db)
        .await?;
    let relevant: HashMap<i32, bool> = school::Entity::find()
        .select_only()
        .column(school::Column::Urn)
        .column(school::Column::Kind)
        .filter(
            school::Column::Urn.in_subquery(
                Query::select()
                    .column(senco_appointment::Column::SchoolUrn)
                    .from(senco_appointment::Entity)
                    .and_where(senco_appointment::Column::PersonId.is_in(ids()))
                    .to_owned(),
            ),
        )
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(urn, kind)| (urn, crate::domain::is_relevant_kind(&kind)))
        .collect();
    let prior = prior_senco_service::Entity::find()
        .filter(prior_senco_service::Column::PersonId.is_in(ids()))
        .all(db)
        .await?;
    let quals = qualification::Entity::find()
        .filter(qualification::Column::PersonId.is_in(ids()))
        .all(db)
        .await?;

    // (appointment id or 0 for prior service, period) per person.
    let mut service: HashMap<i64, Vec<(i64, ServicePeriod)>> = HashMap::new();
    for a in &appointments {
        if relevant.get(&a.school_urn).copied().unwrap_or(false) {
            service.entry(a.person_id).or_default().push((
                a.id,
                ServicePeriod {
                    started_on: a.started_on,
                    ended_on: a.ended_on,
                },
            ));
        }
    }
    for ps in &prior {
        service.entry(ps.person_id).or_default().push((
            0,
            ServicePeriod {
                started_on: ps.started_on,
                ended_on: Some(ps.ended_on),
            },
        ));
    }
    let mut records: HashMap<i64, Vec<QualificationRecord>> = HashMap::new();
    for q in &quals {
        if let Some(r) = record(q) {
            records.entry(q.person_id).or_default().push(r);
        }
    }
    let mut out = Vec::with_capacity(appointments.len());
    for a in &appointments {
        let other: Vec<ServicePeriod> = service
            .get(&a.person_id)
            .map(|v| {
                v.iter()
                    .filter(|(id, _)| *id != a.id)
                    .map(|(_, p)| *p)
                    .collect()
            })
            .unwrap_or_default();
        let facts = rules::duty_facts(&DutyInput {
            school_is_relevant: relevant.get(&a.school_urn).copied().unwrap_or(false),
            appointment_start: a.started_on,
            other_service: &other,
            qualifications: records.get(&a.person_id).map_or(&[], Vec::as_slice),
        });
        out.push(row_of(a.id, &facts));
    }
    Ok(out)
}

/// The stored facts of the appointments `fresh` holds facts for.
async fn stored_for<C: ConnectionTrait>(
    db: &C,
    fresh: &[appointment_duty::Model],
) -> ApiResult<HashMap<i64, appointment_duty::Model>> {
    Ok(appointment_duty::Entity::find()
        .filter(
            appointment_duty::Column::AppointmentId.is_in(fresh.iter().map(|r| r.appointment_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.appointment_id, r))
        .collect())
}

/// Recomputes and stores the facts of every appointment of `people`, inside the caller's
/// transaction. Rows whose facts did not change are not written.
pub async fn refresh_people<C: ConnectionTrait>(db: &C, people: &[i64]) -> ApiResult<()> {
    let people: Vec<i64> = people
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in people.chunks(BATCH) {
        let fresh = compute_for_people(db, chunk).await?;
        if fresh.is_empty() {
            continue;
        }
        let stored = stored_for(db, &fresh).await?;
        let changed: Vec<appointment_duty::ActiveModel> = fresh
            .into_iter()
            .filter(|r| stored.get(&r.appointment_id) != Some(r))
            .map(Into::into)
            .collect();
        if changed.is_empty() {
            continue;
        }
        appointment_duty::Entity::insert_many(changed)
            .on_conflict(
                OnConflict::column(appointment_duty::Column::AppointmentId)
                    .update_columns([
                        appointment_duty::Column::DutyApplies,
                        appointment_duty::Column::ExemptionReason,
                        appointment_duty::Column::Deadline,
                        appointment_duty::Column::PriorServiceDays,
                        appointment_duty::Column::QualifiedOn,
                        appointment_duty::Column::QualifyingAwardId,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The people holding or having held an appointment at any of `urns`: those whose facts a
/// change to these schools' records can move.
pub async fn people_at_schools<C: ConnectionTrait>(db: &C, urns: &[i32]) -> ApiResult<Vec<i64>> {
    let mut people = BTreeSet::new();
    for chunk in urns.chunks(BATCH) {
        let ids: Vec<i64> = senco_appointment::Entity::find()
            .select_only()
            .column(senco_appointment::Column::PersonId)
            .distinct()
            .filter(senco_appointment::Column::SchoolUrn.is_in(chunk.iter().copied()))
            .into_tuple::<i64>()
            .all(db)
            .await?;
        people.extend(ids);
    }
    Ok(people.into_iter().collect())
}

/// Every person with an appointment, in id order.
async fn all_people<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<i64>> {
    Ok(senco_appointment::Entity::find()
        .select_only()
        .column(senco_appointment::Column::PersonId)
        .distinct()
        .order_by_asc(senco_appointment::Column::PersonId)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Rebuilds every appointment's facts from the base tables; returns how many appointments
/// there are. `progress` is told the people done so far and the total.
pub async fn recompute_all<C: ConnectionTrait>(
    db: &C,
    mut progress: impl FnMut(usize, usize),
) -> ApiResult<usize> {
    let people = all_people(db).await?;
    let mut done = 0;
    for chunk in people.chunks(BATCH) {
        refresh_people(db, chunk).await?;
        done += chunk.len();
        progress(done, people.len());
    }
    appointment_duty::Entity::delete_many()
        .filter(
            appointment_duty::Column::AppointmentId.not_in_subquery(
                Query::select()
                    .column(senco_appointment::Column::Id)
                    .from(senco_appointment::Entity)
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    mark_current(db).await?;
    Ok(senco_appointment::Entity::find()
        .select_only()
        .column(senco_appointment::Column::Id)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .len())
}

/// The appointments whose stored facts differ from the facts computed afresh from the base
/// tables (missing rows included): empty when everything kept on write is right.
pub async fn stale<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<i64>> {
    let people = all_people(db).await?;
    let mut out = Vec::new();
    for chunk in people.chunks(BATCH) {
        let fresh = compute_for_people(db, chunk).await?;
        let stored = stored_for(db, &fresh).await?;
        out.extend(
            fresh
                .iter()
                .filter(|r| stored.get(&r.appointment_id) != Some(*r))
                .map(|r| r.appointment_id),
        );
    }
    Ok(out)
}

/// Records that the stored facts were written by this version of the rules.
async fn mark_current<C: ConnectionTrait>(db: &C) -> ApiResult<()> {
    facts_version::Entity::insert(facts_version::ActiveModel {
        name: sea_orm::Set(DUTY_FACTS.to_string()),
        version: sea_orm::Set(DUTY_FACTS_VERSION),
    })
    .on_conflict(
        OnConflict::column(facts_version::Column::Name)
            .update_column(facts_version::Column::Version)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Whether the stored facts were written by this version of the rules (false on a database
/// migrated from before they were kept).
pub async fn is_current<C: ConnectionTrait>(db: &C) -> ApiResult<bool> {
    Ok(facts_version::Entity::find_by_id(DUTY_FACTS.to_string())
        .one(db)
        .await?
        .is_some_and(|v| v.version == DUTY_FACTS_VERSION))
}
