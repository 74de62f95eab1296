//! People, SENCO appointments, prior service and qualifications (SPEC 4.2 - 4.4), and the
//! set-based computation of qualification deadlines.
//!
//! A person is reachable only through a school the caller may read (an appointment there);
//! a person is writable through any school where the caller may write SENCO records and the
//! person holds, or held, an appointment.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{
    cluster, cluster_member, person, prior_senco_service, qualification, school, senco_appointment,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use crate::auth::Principal;
use crate::domain::eligibility::InductionStatus;
use crate::domain::qualification::{self as rules, QualificationKind};
use crate::domain::school::Urn;
use crate::error::{ApiError, ApiResult};
use crate::store::audit;
use crate::store::scope::Reached;
use crate::store::scope::require_school;
use crate::store::scope::{self, WriteAction};

/// A person as given to `appointSenco`.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// TRN, validated.
    pub trn: Option<String>,
    /// Full name, trimmed.
    pub full_name: String,
    /// E-mail, validated.
    pub email: Option<String>,
    /// Qualified teacher status.
    pub has_qts: bool,
    /// Stored induction status.
    pub induction_status: InductionStatus,
}

/// A new appointment, validated field by field.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    /// The school.
    pub school_urn: Urn,
    /// The person (linked by TRN when known).
    pub person: NewPerson,
    /// First day in post.
    pub started_on: NaiveDate,
    /// Head or acting head.
    pub is_headteacher: bool,
    /// Works as a teacher at the school.
    pub works_as_teacher_at_school: bool,
    /// On the senior leadership team.
    pub on_senior_leadership_team: bool,
    /// Non-contact hours a week.
    pub non_contact_hours_per_week: Option<f64>,
    /// Fraction of the week teaching a class.
    pub class_teaching_fraction: Option<f64>,
}

/// A change to a field: `None` leaves it, `Some(v)` sets it (`Some(None)` clears it).
pub type Patch<T> = Option<T>;

/// Changes to an appointment.
#[derive(Debug, Clone, Default)]
pub struct AppointmentPatch {
    /// New start.
    pub started_on: Patch<NaiveDate>,
    /// New headteacher flag.
    pub is_headteacher: Patch<bool>,
    /// New teaching flag.
    pub works_as_teacher_at_school: Patch<bool>,
    /// New SLT flag.
    pub on_senior_leadership_team: Patch<bool>,
    /// New hours.
    pub non_contact_hours_per_week: Patch<Option<f64>>,
    /// New fraction.
    pub class_teaching_fraction: Patch<Option<f64>>,
}

/// Changes to a person.
#[derive(Debug, Clone, Default)]
pub struct PersonPatch {
    /// New TRN.
    pub trn: Patch<Option<String>>,
    /// New name.
    pub full_name: Patch<String>,
    /// New e-mail.
    pub email: Patch<Option<String>>,
    /// New QTS flag.
    pub has_qts: Patch<bool>,
    /// New induction status.
    pub induction_status: Patch<InductionStatus>,
}

/// A qualification to record, validated field by field.
#[derive(Debug, Clone)]
pub struct NewQualification {
    /// The person.
    pub person_id: i64,
    /// NASENCO or NPQ for SENCOs, as stored.
    pub kind: QualificationKind,
    /// The provider.
    pub provider: Option<String>,
    /// When the course began.
    pub started_on: NaiveDate,
    /// When it was completed.
    pub completed_on: Option<NaiveDate>,
    /// When the award is expected.
    pub expected_completion_on: Option<NaiveDate>,
}

/// Changes to a qualification.
#[derive(Debug, Clone, Default)]
pub struct QualificationPatch {
    /// New kind.
    pub kind: Patch<QualificationKind>,
    /// New provider.
    pub provider: Patch<Option<String>>,
    /// New start.
    pub started_on: Patch<NaiveDate>,
    /// New completion.
    pub completed_on: Patch<Option<NaiveDate>>,
    /// New expected completion.
    pub expected_completion_on: Patch<Option<NaiveDate>>,
}

fn overlaps(
    a_start: NaiveDate,
    a_end: Option<NaiveDate>,
    b_start: NaiveDate,
    b_end: Option<NaiveDate>,
) -> bool {
    a_end.is_none_or(|e| e >= b_start) && b_end.is_none_or(|e| e >= a_start)
}

/// `BAD_USER_INPUT` when `person` already holds an appointment at `urn` overlapping the
/// period (other than `except`).
async fn check_no_overlap<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
    urn: i32,
    start: NaiveDate,
    end: Option<NaiveDate>,
    except: Option<i64>,
    field: &str,
) -> ApiResult<()> {
    let others = senco_appointment::Entity::find()
        .filter(senco_appointment::Column::PersonId.eq(person_id))
        .filter(senco_appointment::Column::SchoolUrn.eq(urn))
        .all(db)
        .await?;
    if let Some(o) = others
        .iter()
        .filter(|o| Some(o.id) != except)
        .find(|o| overlaps(o.started_on, o.ended_on, start, end))
    {
        return Err(ApiError::bad_input(
            field,
            format!(
                "this person already holds appointment {} at school {urn} from {}, which overlaps",
                o.id, o.started_on
            ),
        ));
    }
    Ok(())
}

/// Appoints a SENCO, creating the person or linking the one with the same TRN.
pub async fn appoint<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    input: NewAppointment,
) -> ApiResult<senco_appointment::Model> {
    let school = require_school(db, input.school_urn, "schoolUrn").await?;
    scope::check_write(p, &school, WriteAction::Staff)?;
    let existing = match &input.person.trn {
        Some(trn) => {
            person::Entity::find()
                .filter(person::Column::Trn.eq(trn.as_str()))
                .one(db)
                .await?
        }
        None => None,
    };
    let person = match existing {
        // The TRN identifies the teacher: a second school's appointment links to the same
        // person and leaves their recorded details as they are.
        Some(person) => person,
        None => {
            let person = person::ActiveModel {
                trn: Set(input.person.trn.clone()),
                full_name: Set(input.person.full_name.clone()),
                email: Set(input.person.email.clone()),
                has_qts: Set(input.person.has_qts),
                induction_status: Set(input.person.induction_status.to_string()),
                ..Default::default()
            }
            .insert(db)
            .await?;
            log.inserted("person", person.id, &[school.urn], &person)?;
            person
        }
    };
    check_no_overlap(
        db,
        person.id,
        school.urn,
        input.started_on,
        None,
        None,
        "startedOn",
    )
    .await?;
    let appointment = senco_appointment::ActiveModel {
        person_id: Set(person.id),
        school_urn: Set(school.urn),
        started_on: Set(input.started_on),
        ended_on: Set(None),
        is_headteacher: Set(input.is_headteacher),
        works_as_teacher_at_school: Set(input.works_as_teacher_at_school),
        on_senior_leadership_team: Set(input.on_senior_leadership_team),
        non_contact_hours_per_week: Set(input.non_contact_hours_per_week),
        class_teaching_fraction: Set(input.class_teaching_fraction),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted(
        "senco_appointment",
        appointment.id,
        &[school.urn],
        &appointment,
    )?;
    Ok(appointment)
}

/// Loads an appointment and its school and checks the caller may change it.
async fn writable_appointment<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
) -> ApiResult<senco_appointment::Model> {
    scope::require_authenticated(p)?;
    let a = senco_appointment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found_at("appointmentId", format!("no appointment {id}")))?;
    let school = require_school(db, Urn(a.school_urn), "appointmentId").await?;
    scope::check_write(p, &school, WriteAction::Staff)?;
    Ok(a)
}

/// Changes an appointment's details.
pub async fn update_appointment<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: AppointmentPatch,
) -> ApiResult<senco_appointment::Model> {
    let before = writable_appointment(db, p, id).await?;
    let mut after = before.clone();
    if let Some(v) = patch.started_on {
        after.started_on = v;
    }
    if let Some(v) = patch.is_headteacher {
        after.is_headteacher = v;
    }
    if let Some(v) = patch.works_as_teacher_at_school {
        after.works_as_teacher_at_school = v;
    }
    if let Some(v) = patch.on_senior_leadership_team {
        after.on_senior_leadership_team = v;
    }
    if let Some(v) = patch.non_contact_hours_per_week {
        after.non_contact_hours_per_week = v;
    }
    if let Some(v) = patch.class_teaching_fraction {
        after.class_teaching_fraction = v;
    }
    if after.ended_on.is_some_and(|e| e < after.started_on) {
        return Err(ApiError::bad_input(
            "startedOn",
            "must not be after the appointment's end",
        ));
    }
    if after.started_on != before.started_on {
        check_no_overlap(
            db,
            after.person_id,
            after.school_urn,
            after.started_on,
            after.ended_on,
            Some(id),
            "startedOn",
        )
        .await?;
    }
    if after == before {
        return Ok(after);
    }
    let saved = after
        .clone()
        .into_active_model()
        .reset_all()
        .update(db)
        .await?;
    log.updated(
        "senco_appointment",
        id,
        &[saved.school_urn],
        &before,
        &saved,
    )?;
    Ok(saved)
}

/// Ends an appointment.
pub async fn end_appointment<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    ended_on: NaiveDate,
) -> ApiResult<senco_appointment::Model> {
    let before = writable_appointment(db, p, id).await?;
    if ended_on < before.started_on {
        return Err(ApiError::bad_input(
            "endedOn",
            format!(
                "must not be before the appointment started ({})",
                before.started_on
            ),
        ));
    }
    if let Some(e) = before.ended_on {
        return Err(ApiError::conflict(format!(
            "the appointment already ended on {e}"
        )));
    }
    let mut am = before.clone().into_active_model();
    am.ended_on = Set(Some(ended_on));
    let saved = am.update(db).await?;
    log.updated(
        "senco_appointment",
        id,
        &[saved.school_urn],
        &before,
        &saved,
    )?;
    Ok(saved)
}

/// Schools at which `person_id` holds or held an appointment.
async fn person_schools<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
) -> ApiResult<Vec<school::Model>> {
    Ok(school::Entity::find()
        .filter(
            school::Column::Urn.in_subquery(
                Query::select()
                    .column(senco_appointment::Column::SchoolUrn)
                    .from(senco_appointment::Entity)
                    .and_where(senco_appointment::Column::PersonId.eq(person_id))
                    .to_owned(),
            ),
        )
        .order_by_asc(school::Column::Urn)
        .all(db)
        .await?)
}

/// Loads a person the caller may change; returns them and the URNs to audit under.
pub async fn writable_person<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
    field: &str,
) -> ApiResult<(person::Model, Vec<i32>)> {
    scope::require_authenticated(p)?;
    let person = person::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found_at(field, format!("no person {id}")))?;
    let schools = person_schools(db, id).await?;
    let allowed = p.admin
        || schools
            .iter()
            .any(|s| scope::can_write(p, s, WriteAction::Staff));
    if !allowed {
        return Err(ApiError::forbidden(
            "your token may not change this person's records: they hold no appointment at a \
             school you may write",
        ));
    }
    Ok((person, schools.iter().map(|s| s.urn).collect()))
}

/// Changes a person's details.
pub async fn update_person<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: PersonPatch,
) -> ApiResult<person::Model> {
    let (before, urns) = writable_person(db, p, id, "personId").await?;
    let mut after = before.clone();
    if let Some(v) = patch.trn {
        if let Some(trn) = &v
            && before.trn.as_ref() != Some(trn)
            && person::Entity::find()
                .filter(person::Column::Trn.eq(trn.as_str()))
                .one(db)
                .await?
                .is_some()
        {
            return Err(ApiError::conflict(
                "another person already has that TRN: appoint by TRN to link them instead",
            ));
        }
        after.trn = v;
    }
    if let Some(v) = patch.full_name {
        after.full_name = v;
    }
    if let Some(v) = patch.email {
        after.email = v;
    }
    if let Some(v) = patch.has_qts {
        after.has_qts = v;
    }
    if let Some(v) = patch.induction_status {
        after.induction_status = v.to_string();
    }
    if after == before {
        return Ok(after);
    }
    let saved = after.into_active_model().reset_all().update(db).await?;
    log.updated("person", id, &urns, &before, &saved)?;
    Ok(saved)
}

/// Records SENCO service outside this system.
pub async fn add_prior_service<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    person_id: i64,
    started_on: NaiveDate,
    ended_on: NaiveDate,
    description: Option<String>,
) -> ApiResult<person::Model> {
    let (person, urns) = writable_person(db, p, person_id, "personId").await?;
    let row = prior_senco_service::ActiveModel {
        person_id: Set(person_id),
        started_on: Set(started_on),
        ended_on: Set(ended_on),
        description: Set(description),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted("prior_senco_service", row.id, &urns, &row)?;
    Ok(person)
}

/// `BAD_USER_INPUT` on `expectedCompletionOn` when it precedes the start or, for a NASENCO,
/// falls when the course can no longer count (SPEC 4.8).
fn check_expected_completion(
    kind: QualificationKind,
    started_on: NaiveDate,
    expected: Option<NaiveDate>,
) -> ApiResult<()> {
    match expected {
        Some(e) => crate::domain::projection::check_expected_completion(kind, started_on, e)
            .map_err(|m| ApiError::bad_input("expectedCompletionOn", m)),
        None => Ok(()),
    }
}

/// Records a qualification.
pub async fn record_qualification<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    q: NewQualification,
) -> ApiResult<qualification::Model> {
    let (_, urns) = writable_person(db, p, q.person_id, "personId").await?;
    check_expected_completion(q.kind, q.started_on, q.expected_completion_on)?;
    let row = qualification::ActiveModel {
        person_id: Set(q.person_id),
        kind: Set(q.kind.to_string()),
        provider: Set(q.provider),
        started_on: Set(q.started_on),
        completed_on: Set(q.completed_on),
        expected_completion_on: Set(q.expected_completion_on),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted("qualification", row.id, &urns, &row)?;
    Ok(row)
}

/// Changes a qualification.
pub async fn update_qualification<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: QualificationPatch,
) -> ApiResult<qualification::Model> {
    scope::require_authenticated(p)?;
    let before = qualification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::not_found_at("qualificationId", format!("no qualification {id}"))
        })?;
    let (_, urns) = writable_person(db, p, before.person_id, "qualificationId").await?;
    let mut after = before.clone();
    if let Some(v) = patch.kind {
        after.kind = v.to_string();
    }
    if let Some(v) = patch.provider {
        after.provider = v;
    }
    if let Some(v) = patch.started_on {
        after.started_on = v;
    }
    if let Some(v) = patch.completed_on {
        after.completed_on = v;
    }
    if let Some(v) = patch.expected_completion_on {
        after.expected_completion_on = v;
    }
    if after.completed_on.is_some_and(|c| c < after.started_on) {
        return Err(ApiError::bad_input(
            "completedOn",
            "must not be before the course started",
        ));
    }
    if let Some(kind) = QualificationKind::parse(&after.kind) {
        check_expected_completion(kind, after.started_on, after.expected_completion_on)?;
    }
    if after == before {
        return Ok(after);
    }
    let saved = after.into_active_model().reset_all().update(db).await?;
    log.updated("qualification", id, &urns, &before, &saved)?;
    Ok(saved)
}

/// A person, when the caller may read a school where they hold or held an appointment.
pub async fn person<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
) -> ApiResult<Option<person::Model>> {
    scope::require_authenticated(p)?;
    let Some(person) = person::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if p.admin {
        return Ok(Some(person));
    }
    let appointed = senco_appointment::Entity::find()
        .filter(senco_appointment::Column::PersonId.eq(id))
        .filter(senco_appointment::Column::SchoolUrn.in_subquery(scope::readable_urns(p)?))
        .one(db)
        .await?
        .is_some();
    // The SENCO of a cluster is also the SENCO of record of each member (Code 6.92 - 6.94),
    // so readers of any member see who it is, as `Cluster.senco` shows them.
    let visible = appointed
        || cluster::Entity::find()
            .filter(cluster::Column::SencoPersonId.eq(id))
            .filter(
                cluster::Column::Id.in_subquery(
                    Query::select()
                        .column(cluster_member::Column::ClusterId)
                        .from(cluster_member::Entity)
                        .and_where(
                            cluster_member::Column::SchoolUrn.in_subquery(scope::readable_urns(p)?),
                        )
                        .to_owned(),
                ),
            )
            .one(db)
            .await?
            .is_some();
    if visible {
        Ok(Some(person))
    } else {
        Err(ApiError::forbidden(
            "this person holds no appointment at a school your token covers",
        ))
    }
}

/// People by id, for DataLoaders. Callers reach people only through rows already scoped.
pub async fn people_by_id<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect())
}

/// Every appointment of each school, for DataLoaders (scoped by the school resolver).
pub async fn appointments_by_school<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<senco_appointment::Model>>> {
    let rows = senco_appointment::Entity::find()
        .filter(senco_appointment::Column::SchoolUrn.is_in(urns.iter().copied()))
        .order_by_asc(senco_appointment::Column::StartedOn)
        .order_by_asc(senco_appointment::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(urns, rows, |r| r.school_urn))
}

/// Every appointment of each person, for DataLoaders (the resolver filters by school).
pub async fn appointments_by_person<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<senco_appointment::Model>>> {
    let rows = senco_appointment::Entity::find()
        .filter(senco_appointment::Column::PersonId.is_in(ids.iter().copied()))
        .order_by_asc(senco_appointment::Column::StartedOn)
        .order_by_asc(senco_appointment::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(ids, rows, |r| r.person_id))
}

/// Qualifications of each person, for DataLoaders.
pub async fn qualifications_by_person<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<qualification::Model>>> {
    let rows = qualification::Entity::find()
        .filter(qualification::Column::PersonId.is_in(ids.iter().copied()))
        .order_by_asc(qualification::Column::StartedOn)
        .order_by_asc(qualification::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(ids, rows, |r| r.person_id))
}

/// Prior service of each person, for DataLoaders.
pub async fn prior_service_by_person<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: &[i64],
) -> ApiResult<HashMap<i64, Vec<prior_senco_service::Model>>> {
    let rows = prior_senco_service::Entity::find()
        .filter(prior_senco_service::Column::PersonId.is_in(ids.iter().copied()))
        .order_by_asc(prior_senco_service::Column::StartedOn)
        .all(db)
        .await?;
    Ok(super::grouped(ids, rows, |r| r.person_id))
}

/// Whether a stored qualification counts toward the duty (rule 4.4(5)).
pub fn counts(q: &qualification::Model) -> bool {
    QualificationKind::parse(&q.kind)
        .is_some_and(|k| rules::counts_toward_duty(k, q.started_on, q.completed_on))
}
