//! People, SENCO appointments, prior service and qualifications (SPEC 4.2 - 4.4): the
//! writes, each keeping the duty facts of the person it changes, and the deadlines view.

use std::sync::Arc;

use chrono::NaiveDate;

use crate::domain::events::EventType;
use crate::domain::projection::Projection;
use crate::domain::qualification::QualificationStatus;
use entity::{person, qualification, senco_appointment};
use serde_json::json;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::{self, Counters, Depends, Touched};
use crate::store::audit::Journal;
use crate::store::deadlines::{self, Deadline, DeadlineQuery};
use crate::store::sencos::{
    self, AppointmentPatch, NewAppointment, PersonPatch, QualificationPatch,
};
use crate::store::{Paged, scope};
use crate::store::{duty, sencos::NewQualification};

/// Runs a staff write for the caller in one transaction: `write` changes the rows and
/// returns its result and the person whose duty facts it may have moved; those facts are
/// brought up to date before the commit.
async fn staff_write<T>(
    db: &Db,
    p: &Principal,
    operation: &str,
    write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction, &mut Journal) -> ApiResult<(T, i64)>,
) -> ApiResult<T> {
    scope::require_authenticated(p)?;
    super::write(db, p, operation, Touched::Staff, async |txn, log| {
        let (out, person_id) = write(txn, log).await?;
        duty::refresh_people(txn, &[person_id]).await?;
        Ok(out)
    })
    .await
}

/// Appoints a SENCO, creating the person or linking the one with the same TRN.
pub async fn appoint(
    db: &Db,
    p: &Principal,
    input: NewAppointment,
) -> ApiResult<senco_appointment::Model> {
    staff_write(db, p, "appointSenco", async |txn, log| {
        let a = sencos::appoint(txn, p, log, input).await?;
        log.raise(
            EventType::SencoAppointed,
            Some(a.school_urn),
            json!({
                "appointmentId": a.id.to_string(),
                "personId": a.person_id.to_string(),
                "startedOn": a.started_on,
                "isHeadteacher": a.is_headteacher,
            }),
        );
        let person = a.person_id;
        Ok((a, person))
    })
    .await
}

/// Changes an appointment's details.
pub async fn update_appointment(
    db: &Db,
    p: &Principal,
    id: i64,
    patch: AppointmentPatch,
) -> ApiResult<senco_appointment::Model> {
    staff_write(db, p, "updateSencoAppointment", async |txn, log| {
        let a = sencos::update_appointment(txn, p, log, id, patch).await?;
        let person = a.person_id;
        Ok((a, person))
    })
    .await
}

/// Ends an appointment on its last day in post.
pub async fn end_appointment(
    db: &Db,
    p: &Principal,
    id: i64,
    ended_on: NaiveDate,
) -> ApiResult<senco_appointment::Model> {
    staff_write(db, p, "endSencoAppointment", async |txn, log| {
        let a = sencos::end_appointment(txn, p, log, id, ended_on).await?;
        log.raise(
            EventType::SencoAppointmentEnded,
            Some(a.school_urn),
            json!({
                "appointmentId": a.id.to_string(),
                "personId": a.person_id.to_string(),
                "startedOn": a.started_on,
                "endedOn": a.ended_on,
            }),
        );
        let person = a.person_id;
        Ok((a, person))
    })
    .await
}

/// Changes a person's details.
pub async fn update_person(
    db: &Db,
    p: &Principal,
    id: i64,
    patch: PersonPatch,
) -> ApiResult<person::Model> {
    staff_write(db, p, "updatePerson", async |txn, log| {
        let person = sencos::update_person(txn, p, log, id, patch).await?;
        Ok((person, id))
    })
    .await
}

/// Records SENCO service outside this system.
pub async fn add_prior_service(
    db: &Db,
    p: &Principal,
    person_id: i64,
    started_on: NaiveDate,
    ended_on: NaiveDate,
    description: Option<String>,
) -> ApiResult<person::Model> {
    staff_write(db, p, "addPriorSencoService", async |txn, log| {
        let person =
            sencos::add_prior_service(txn, p, log, person_id, started_on, ended_on, description)
                .await?;
        Ok((person, person_id))
    })
    .await
}

/// Records a qualification or a course under way.
pub async fn record_qualification(
    db: &Db,
    p: &Principal,
    input: NewQualification,
) -> ApiResult<qualification::Model> {
    staff_write(db, p, "recordQualification", async |txn, log| {
        let q = sencos::record_qualification(txn, p, log, input).await?;
        announce_qualification(log, &q, false);
        let person = q.person_id;
        Ok((q, person))
    })
    .await
}

/// Changes a qualification.
pub async fn update_qualification(
    db: &Db,
    p: &Principal,
    id: i64,
    patch: QualificationPatch,
) -> ApiResult<qualification::Model> {
    staff_write(db, p, "updateQualification", async |txn, log| {
        let q = sencos::update_qualification(txn, p, log, id, patch).await?;
        announce_qualification(log, &q, true);
        let person = q.person_id;
        Ok((q, person))
    })
    .await
}

/// `QUALIFICATION_RECORDED`, once for each school where the person holds or held an
/// appointment (those whose readers may see the person's qualifications), for a course
/// recorded or, with `"updated": true`, changed (completed, say).
fn announce_qualification(log: &mut Journal, q: &qualification::Model, updated: bool) {
    for urn in log.schools_of("qualification", q.id) {
        log.raise(
            EventType::QualificationRecorded,
            Some(urn),
            json!({
                "qualificationId": q.id.to_string(),
                "personId": q.person_id.to_string(),
                "kind": q.kind,
                "startedOn": q.started_on,
                "completedOn": q.completed_on,
                "expectedCompletionOn": q.expected_completion_on,
                "updated": updated,
            }),
        );
    }
}

/// The whole deadlines list `q` selects as of `as_of`, kept while no staff or reference
/// data changes (the caller has checked the scope).
async fn whole_list(
    db: &Db,
    p: &Principal,
    seen: Option<&Counters>,
    q: &DeadlineQuery,
    as_of: NaiveDate,
) -> ApiResult<Arc<Vec<Deadline>>> {
    freshness::cached(
        &db.conn,
        &db.cache,
        p,
        seen,
        Depends::Staff,
        format!("deadlines|{q:?}|{as_of}"),
        async |txn| deadlines::deadlines(txn, p, q, as_of).await,
    )
    .await
}

/// The whole deadlines list `q` selects as of `as_of`, in the order of SPEC 4.4 rule 7, read
/// in one snapshot (the `deadlines` export).
pub async fn all_deadlines(
    db: &Db,
    p: &Principal,
    q: DeadlineQuery,
    as_of: NaiveDate,
) -> ApiResult<Arc<Vec<Deadline>>> {
    scope::require_authenticated(p)?;
    q.check_covered(p)?;
    whole_list(db, p, None, &q, as_of).await
}

/// How many of the appointments `q` selects stand at each status on `as_of`, over the
/// whole list (not a page), in the order of [`QualificationStatus::ALL`]; statuses with
/// none are listed with 0.
pub async fn status_counts(
    db: &Db,
    p: &Principal,
    seen: Option<&Counters>,
    q: DeadlineQuery,
    as_of: NaiveDate,
) -> ApiResult<Vec<(QualificationStatus, u64)>> {
    scope::require_authenticated(p)?;
    q.check_covered(p)?;
    let all = whole_list(db, p, seen, &q, as_of).await?;
    Ok(QualificationStatus::ALL
        .iter()
        .map(|s| {
            let n = all.iter().filter(|d| d.outcome.status == *s).count() as u64;
            (*s, n)
        })
        .collect())
}

/// How many of the appointments `q` selects stand at each projection on `as_of` (SPEC 4.8),
/// over the whole list, in the order of [`Projection::ALL`]; projections with none are
/// listed with 0.
pub async fn projection_counts(
    db: &Db,
    p: &Principal,
    seen: Option<&Counters>,
    q: DeadlineQuery,
    as_of: NaiveDate,
) -> ApiResult<Vec<(Projection, u64)>> {
    scope::require_authenticated(p)?;
    q.check_covered(p)?;
    let all = whole_list(db, p, seen, &q, as_of).await?;
    Ok(Projection::ALL
        .iter()
        .map(|k| {
            let n = all.iter().filter(|d| d.projection.projection == *k).count() as u64;
            (*k, n)
        })
        .collect())
}

/// One page of the deadlines view (SPEC 4.4 rule 7): the readable appointments `q`
/// selects as of `as_of`, in the order of the rule, the `first` after the sort key `after`,
/// with the total; kept while no staff or reference data changes. `seen` holds the counters
/// the request has read already, if any. Without a status filter the page comes straight
/// from the stored facts in the database's order; a status or projection filter (which
/// depends on the day) needs the whole list, which is kept instead.
pub async fn deadlines(
    db: &Db,
    p: &Principal,
    seen: Option<&Counters>,
    q: DeadlineQuery,
    as_of: NaiveDate,
    after: Option<(NaiveDate, i32, i64)>,
    first: u64,
) -> ApiResult<Arc<Paged<Deadline>>> {
    scope::require_authenticated(p)?;
    q.check_covered(p)?;
    if q.needs_whole_list() {
        let all = whole_list(db, p, seen, &q, as_of).await?;
        let rows: Vec<Deadline> = all
            .iter()
            .filter(|d| after.is_none_or(|a| d.sort_key() > a))
            .take(first as usize + 1)
            .cloned()
            .collect();
        return Ok(Arc::new(Paged::from_overfetch(
            rows,
            first,
            all.len() as u64,
        )));
    }
    freshness::cached(
        &db.conn,
        &db.cache,
        p,
        seen,
        Depends::Staff,
        format!("deadline-page|{q:?}|{as_of}|{after:?}|{first}"),
        async |txn| {
            let (rows, total) = deadlines::page(txn, p, &q, as_of, after, first).await?;
            Ok(Paged::from_overfetch(rows, first, total))
        },
    )
    .await
}
