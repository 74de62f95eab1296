//! The governing body's records (SPEC 4.10): SENCO-governor meetings, governance actions
//! and sign-offs, their batch reads for DataLoaders, the facts the governance compliance
//! checks need (gathered set-based for any number of schools), and the track record.
//!
//! Writes load the stored school inside the write's transaction and check it through
//! `scope`: meetings and actions with [`WriteAction::Governance`], sign-offs with
//! [`WriteAction::SignOff`]. Rows are returned whole; which of their text fields a reader
//! sees is decided by [`scope::reads_governance_text`], and the audit rows of these tables
//! are read through [`redact_audit`] for readers who may not see that text.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{
    audit_event, governance_action, governance_sign_off, governor_meeting, termly_report,
};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::governance::{
    self as rules, ActionStatus, AgendaItem, Attendee, Figures, GovernanceDocument,
    GovernanceFacts, ReportFacts, SignOffFacts, SignOffRole, TermFigures,
};
use crate::domain::school::Urn;
use crate::domain::terms::{AcademicTerm, Term};
use crate::error::{ApiError, ApiResult};
use crate::store::audit;
use crate::store::reports::{budget_of, term_of};
use crate::store::scope::{self, Reached, WriteAction, require_school};
use crate::store::sencos::Patch;

/// The audit entity names of the governance tables.
pub const MEETING: &str = "governor_meeting";
/// See [`MEETING`].
pub const ACTION: &str = "governance_action";
/// See [`MEETING`].
pub const SIGN_OFF: &str = "governance_sign_off";

/// A SENCO-governor meeting with its attendees and agenda read out of their JSON columns.
/// This is also the form the audit log records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meeting {
    /// Id.
    pub id: i64,
    /// School.
    pub school_urn: i32,
    /// When it was held.
    pub held_on: NaiveDate,
    /// When the next is planned.
    pub next_meeting_on: Option<NaiveDate>,
    /// Who attended.
    pub attendees: Vec<Attendee>,
    /// What was discussed.
    pub items: Vec<AgendaItem>,
}

impl Meeting {
    fn from_row(m: governor_meeting::Model) -> ApiResult<Self> {
        let attendees = serde_json::from_str(&m.attendees).map_err(ApiError::internal)?;
        let items = serde_json::from_str(&m.items).map_err(ApiError::internal)?;
        Ok(Self {
            id: m.id,
            school_urn: m.school_urn,
            held_on: m.held_on,
            next_meeting_on: m.next_meeting_on,
            attendees,
            items,
        })
    }

    fn active(&self) -> ApiResult<governor_meeting::ActiveModel> {
        Ok(governor_meeting::ActiveModel {
            school_urn: Set(self.school_urn),
            held_on: Set(self.held_on),
            next_meeting_on: Set(self.next_meeting_on),
            attendees: Set(serde_json::to_string(&self.attendees).map_err(ApiError::internal)?),
            items: Set(serde_json::to_string(&self.items).map_err(ApiError::internal)?),
            ..Default::default()
        })
    }
}

/// A meeting to record, validated field by field.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    /// The school.
    pub school_urn: Urn,
    /// When it was held.
    pub held_on: NaiveDate,
    /// When the next is planned.
    pub next_meeting_on: Option<NaiveDate>,
    /// Who attended.
    pub attendees: Vec<Attendee>,
    /// What was discussed.
    pub items: Vec<AgendaItem>,
    /// The actions agreed at it, recorded with it in one transaction (their `meeting_id`
    /// is set to the new meeting's).
    pub actions: Vec<NewAction>,
}

/// Changes to a meeting; a list given replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct MeetingPatch {
    /// New date held.
    pub held_on: Patch<NaiveDate>,
    /// New next date (`Some(None)` clears it).
    pub next_meeting_on: Patch<Option<NaiveDate>>,
    /// New attendees.
    pub attendees: Patch<Vec<Attendee>>,
    /// New agenda.
    pub items: Patch<Vec<AgendaItem>>,
}

/// An action to add, validated field by field.
#[derive(Debug, Clone)]
pub struct NewAction {
    /// The school.
    pub school_urn: Urn,
    /// The meeting that agreed it; `None` for the SEN action plan.
    pub meeting_id: Option<i64>,
    /// The area of SEN provision it concerns.
    pub area: Option<String>,
    /// What is to be done.
    pub description: String,
    /// Who is to do it (a role).
    pub owner: String,
    /// By when.
    pub due_on: NaiveDate,
    /// Its status.
    pub status: ActionStatus,
    /// When it was done or dropped.
    pub completed_on: Option<NaiveDate>,
    /// What it costs, pence.
    pub cost_pence: i64,
    /// The staff time it takes, hours.
    pub time_hours: f64,
    /// How success will be judged.
    pub success_criteria: Option<String>,
    /// How it is monitored.
    pub monitoring: Option<String>,
    /// How it was evaluated.
    pub evaluation: Option<String>,
}

/// Changes to an action.
#[derive(Debug, Clone, Default)]
pub struct ActionPatch {
    /// New area (`Some(None)` clears it).
    pub area: Patch<Option<String>>,
    /// New description.
    pub description: Patch<String>,
    /// New owner.
    pub owner: Patch<String>,
    /// New due date.
    pub due_on: Patch<NaiveDate>,
    /// New status.
    pub status: Patch<ActionStatus>,
    /// New completion date (`Some(None)` clears it).
    pub completed_on: Patch<Option<NaiveDate>>,
    /// New cost, pence.
    pub cost_pence: Patch<i64>,
    /// New time, hours.
    pub time_hours: Patch<f64>,
    /// New success criteria.
    pub success_criteria: Patch<Option<String>>,
    /// New monitoring.
    pub monitoring: Patch<Option<String>>,
    /// New evaluation.
    pub evaluation: Patch<Option<String>>,
}

/// A sign-off to record, validated field by field.
#[derive(Debug, Clone)]
pub struct NewSignOff {
    /// The school.
    pub school_urn: Urn,
    /// The document.
    pub document: GovernanceDocument,
    /// For a termly report: its term.
    pub term: Option<AcademicTerm>,
    /// For a termly report: the version signed; the latest when `None`.
    pub report_version: Option<i32>,
    /// For a SEN information report or policy: the document's date.
    pub document_date: Option<NaiveDate>,
    /// When it was signed.
    pub signed_on: NaiveDate,
    /// Who signed.
    pub signed_by: String,
    /// In what capacity.
    pub role: SignOffRole,
    /// The statement signed.
    pub statement: String,
}

/// A stored sign-off and whether it is still current (SPEC 4.10).
#[derive(Debug, Clone, PartialEq)]
pub struct SignOff {
    /// The row.
    pub row: governance_sign_off::Model,
    /// Whether it still binds the latest version or date.
    pub current: bool,
}

/// The stored status of an action; an unknown one is an internal error.
pub fn status_of(a: &governance_action::Model) -> ApiResult<ActionStatus> {
    ActionStatus::parse(&a.status)
        .ok_or_else(|| ApiError::internal(format!("stored action status `{}`", a.status)))
}

fn sign_off_facts(s: &governance_sign_off::Model) -> Option<SignOffFacts> {
    Some(SignOffFacts {
        document: GovernanceDocument::parse(&s.document)?,
        term: match (s.academic_year, s.term.as_deref().and_then(Term::parse)) {
            (Some(y), Some(t)) => Some(AcademicTerm::new(y, t)),
            _ => None,
        },
        report_version: s.report_version,
        document_date: s.document_date,
        signed_on: s.signed_on,
    })
}

async fn writable_school<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    urn: i32,
    field: &str,
    action: WriteAction,
) -> ApiResult<entity::school::Model> {
    let school = require_school(db, Urn(urn), field).await?;
    scope::check_write(p, &school, action)?;
    Ok(school)
}

/// Records a SENCO-governor meeting.
pub async fn record_meeting<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    m: NewMeeting,
    today: NaiveDate,
) -> ApiResult<Meeting> {
    scope::require_authenticated(p)?;
    let school = writable_school(
        db,
        p,
        m.school_urn.get(),
        "schoolUrn",
        WriteAction::Governance,
    )
    .await?;
    if let Some(next) = m.next_meeting_on {
        rules::next_meeting_on(m.held_on, next)
            .map_err(|e| ApiError::bad_input("nextMeetingOn", e))?;
    }
    let mut meeting = Meeting {
        id: 0,
        school_urn: school.urn,
        held_on: m.held_on,
        next_meeting_on: m.next_meeting_on,
        attendees: m.attendees,
        items: m.items,
    };
    meeting.id = meeting.active()?.insert(db).await?.id;
    log.inserted(MEETING, meeting.id, &[school.urn], &meeting)?;
    for (i, a) in m.actions.into_iter().enumerate() {
        let a = NewAction {
            school_urn: Urn(school.urn),
            meeting_id: Some(meeting.id),
            ..a
        };
        add_action(db, p, log, a, today)
            .await
            .map_err(|e| e.within(&format!("actions.{i}")))?;
    }
    Ok(meeting)
}

async fn stored_meeting<C: ConnectionTrait>(db: &C, id: i64, field: &str) -> ApiResult<Meeting> {
    let row = governor_meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found_at(field, format!("no governor meeting {id}")))?;
    Meeting::from_row(row)
}

/// Changes a meeting's date, attendees, agenda or next date.
pub async fn update_meeting<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: MeetingPatch,
) -> ApiResult<Meeting> {
    scope::require_authenticated(p)?;
    let before = stored_meeting(db, id, "meetingId").await?;
    writable_school(
        db,
        p,
        before.school_urn,
        "meetingId",
        WriteAction::Governance,
    )
    .await?;
    let mut after = before.clone();
    if let Some(v) = patch.held_on {
        after.held_on = v;
    }
    let next_given = patch.next_meeting_on.is_some();
    if let Some(v) = patch.next_meeting_on {
        after.next_meeting_on = v;
    }
    if let Some(v) = patch.attendees {
        after.attendees = v;
    }
    if let Some(v) = patch.items {
        after.items = v;
    }
    if let Some(next) = after.next_meeting_on {
        let field = if next_given {
            "nextMeetingOn"
        } else {
            "heldOn"
        };
        rules::next_meeting_on(after.held_on, next).map_err(|e| ApiError::bad_input(field, e))?;
    }
    if after == before {
        return Ok(after);
    }
    let mut am = after.active()?;
    am.id = Set(id);
    am.reset_all().update(db).await?;
    log.updated(MEETING, id, &[after.school_urn], &before, &after)?;
    Ok(after)
}

fn settle(
    status: ActionStatus,
    completed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> ApiResult<Option<NaiveDate>> {
    rules::settle(status, completed_on, today).map_err(|e| ApiError::bad_input("completedOn", e))
}

/// Adds an action agreed at a meeting, or to the SEN action plan.
pub async fn add_action<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    a: NewAction,
    today: NaiveDate,
) -> ApiResult<governance_action::Model> {
    scope::require_authenticated(p)?;
    let school = writable_school(
        db,
        p,
        a.school_urn.get(),
        "schoolUrn",
        WriteAction::Governance,
    )
    .await?;
    if let Some(id) = a.meeting_id {
        let meeting = stored_meeting(db, id, "meetingId").await?;
        if meeting.school_urn != school.urn {
            return Err(ApiError::bad_input(
                "meetingId",
                format!("is not a meeting of school {}", school.urn),
            ));
        }
    }
    let completed_on = settle(a.status, a.completed_on, today)?;
    let row = governance_action::ActiveModel {
        school_urn: Set(school.urn),
        meeting_id: Set(a.meeting_id),
        area: Set(a.area),
        description: Set(a.description),
        owner: Set(a.owner),
        due_on: Set(a.due_on),
        status: Set(a.status.as_str().to_owned()),
        completed_on: Set(completed_on),
        cost_pence: Set(a.cost_pence),
        time_hours: Set(a.time_hours),
        success_criteria: Set(a.success_criteria),
        monitoring: Set(a.monitoring),
        evaluation: Set(a.evaluation),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted(ACTION, row.id, &[school.urn], &row)?;
    Ok(row)
}

/// Changes an action: its follow-up (status, completion, evaluation) or its terms.
pub async fn update_action<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: ActionPatch,
    today: NaiveDate,
) -> ApiResult<governance_action::Model> {
    scope::require_authenticated(p)?;
    let before = governance_action::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found_at("actionId", format!("no governance action {id}")))?;
    writable_school(
        db,
        p,
        before.school_urn,
        "actionId",
        WriteAction::Governance,
    )
    .await?;
    let mut after = before.clone();
    if let Some(v) = patch.area {
        after.area = v;
    }
    if let Some(v) = patch.description {
        after.description = v;
    }
    if let Some(v) = patch.owner {
        after.owner = v;
    }
    if let Some(v) = patch.due_on {
        after.due_on = v;
    }
    if let Some(v) = patch.cost_pence {
        after.cost_pence = v;
    }
    if let Some(v) = patch.time_hours {
        after.time_hours = v;
    }
    if let Some(v) = patch.success_criteria {
        after.success_criteria = v;
    }
    if let Some(v) = patch.monitoring {
        after.monitoring = v;
    }
    if let Some(v) = patch.evaluation {
        after.evaluation = v;
    }
    let status = patch.status.map_or_else(|| status_of(&before), Ok)?;
    // A completion date given is checked against the new status; reopening an action
    // forgets the old one, and closing it keeps one already recorded.
    let completed_on = match patch.completed_on {
        Some(v) => v,
        None if status == ActionStatus::Open => None,
        None => before.completed_on,
    };
    after.status = status.as_str().to_owned();
    after.completed_on = settle(status, completed_on, today)?;
    if after == before {
        return Ok(after);
    }
    let saved = after.into_active_model().reset_all().update(db).await?;
    log.updated(ACTION, id, &[saved.school_urn], &before, &saved)?;
    Ok(saved)
}

/// Latest-version report rows of `urns`, reduced to what sign-off currency needs: the
/// latest version of each term, and each school's latest report.
struct LatestVersions {
    by_term: HashMap<(i32, AcademicTerm), i32>,
    newest: HashMap<i32, termly_report::Model>,
}

impl LatestVersions {
    async fn of<C: ConnectionTrait>(db: &C, urns: &[i32]) -> ApiResult<Self> {
        let rows = termly_report::Entity::find()
            .filter(termly_report::Column::SchoolUrn.is_in(urns.iter().copied()))
            .filter(termly_report::Column::IsLatest.eq(true))
            .all(db)
            .await?;
        let mut out = Self {
            by_term: HashMap::new(),
            newest: HashMap::new(),
        };
        for r in rows {
            let term = term_of(&r);
            out.by_term.insert((r.school_urn, term), r.version);
            let newer = out
                .newest
                .get(&r.school_urn)
                .is_none_or(|n| term_of(n) < term);
            if newer {
                out.newest.insert(r.school_urn, r);
            }
        }
        Ok(out)
    }

    fn current(&self, s: &governance_sign_off::Model) -> bool {
        let Some(f) = sign_off_facts(s) else {
            return false;
        };
        let latest_version = f
            .term
            .and_then(|t| self.by_term.get(&(s.school_urn, t)).copied());
        let newest = self.newest.get(&s.school_urn);
        let reported = match f.document {
            GovernanceDocument::TermlyReport => None,
            GovernanceDocument::SenInformationReport => {
                newest.and_then(|r| r.sen_information_report_published_on)
            }
            GovernanceDocument::SenPolicy => newest.and_then(|r| r.sen_policy_date),
        };
        rules::is_current(&f, latest_version, reported)
    }
}

/// Records the governing body's sign-off of a document. A termly report sign-off binds the
/// version named, or the latest; it must exist.
pub async fn sign_off<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    s: NewSignOff,
) -> ApiResult<SignOff> {
    scope::require_authenticated(p)?;
    let school =
        writable_school(db, p, s.school_urn.get(), "schoolUrn", WriteAction::SignOff).await?;
    let mut version = s.report_version;
    if let (GovernanceDocument::TermlyReport, Some(term)) = (s.document, s.term) {
        let latest = termly_report::Entity::find()
            .filter(termly_report::Column::SchoolUrn.eq(school.urn))
            .filter(termly_report::Column::AcademicYear.eq(term.academic_year))
            .filter(termly_report::Column::Term.eq(term.term.as_str()))
            .filter(termly_report::Column::IsLatest.eq(true))
            .one(db)
            .await?
            .ok_or_else(|| {
                ApiError::not_found_at(
                    "term",
                    format!(
                        "school {} has no termly report for the {term} to sign off",
                        school.urn
                    ),
                )
            })?;
        match version {
            Some(v) if !(1..=latest.version).contains(&v) => {
                return Err(ApiError::not_found_at(
                    "reportVersion",
                    format!(
                        "the report has no version {v}: its latest is version {}",
                        latest.version
                    ),
                ));
            }
            Some(_) => {}
            None => version = Some(latest.version),
        }
    }
    let row = governance_sign_off::ActiveModel {
        school_urn: Set(school.urn),
        document: Set(s.document.as_str().to_owned()),
        academic_year: Set(s.term.map(|t| t.academic_year)),
        term: Set(s.term.map(|t| t.term.as_str().to_owned())),
        report_version: Set(version),
        document_date: Set(s.document_date),
        signed_on: Set(s.signed_on),
        signed_by: Set(s.signed_by),
        role: Set(s.role.as_str().to_owned()),
        statement: Set(s.statement),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted(SIGN_OFF, row.id, &[school.urn], &row)?;
    let current = LatestVersions::of(db, &[school.urn]).await?.current(&row);
    Ok(SignOff { row, current })
}

/// One meeting and its school, for a caller who may read the school; `None` when no
/// meeting has the id.
pub async fn meeting<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
) -> ApiResult<Option<(Meeting, entity::school::Model)>> {
    scope::require_authenticated(p)?;
    let Some(row) = governor_meeting::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let school = require_school(db, Urn(row.school_urn), "id").await?;
    scope::check_read(p, &school)?;
    Ok(Some((Meeting::from_row(row)?, school)))
}

/// Every meeting of each school, newest first (DataLoaders; scoped by the school resolver).
pub async fn meetings_by_school<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<Meeting>>> {
    let rows = governor_meeting::Entity::find()
        .filter(governor_meeting::Column::SchoolUrn.is_in(urns.iter().copied()))
        .order_by_desc(governor_meeting::Column::HeldOn)
        .order_by_desc(governor_meeting::Column::Id)
        .all(db)
        .await?;
    // Every key gets an entry, so a loader caches "none" rather than asking again.
    let mut map: HashMap<i32, Vec<Meeting>> = urns.iter().map(|k| (*k, Vec::new())).collect();
    for r in rows {
        map.entry(r.school_urn)
            .or_default()
            .push(Meeting::from_row(r)?);
    }
    Ok(map)
}

/// Every action of each school, by due date (DataLoaders; scoped by the school resolver).
pub async fn actions_by_school<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<governance_action::Model>>> {
    let rows = governance_action::Entity::find()
        .filter(governance_action::Column::SchoolUrn.is_in(urns.iter().copied()))
        .order_by_asc(governance_action::Column::DueOn)
        .order_by_asc(governance_action::Column::Id)
        .all(db)
        .await?;
    Ok(super::grouped(urns, rows, |r| r.school_urn))
}

/// Every sign-off of each school, newest first, each with whether it is current
/// (DataLoaders; scoped by the school resolver): two statements for any number of schools.
pub async fn sign_offs_by_school<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<SignOff>>> {
    let rows = governance_sign_off::Entity::find()
        .filter(governance_sign_off::Column::SchoolUrn.is_in(urns.iter().copied()))
        .order_by_desc(governance_sign_off::Column::SignedOn)
        .order_by_desc(governance_sign_off::Column::Id)
        .all(db)
        .await?;
    let mut map: HashMap<i32, Vec<SignOff>> = urns.iter().map(|k| (*k, Vec::new())).collect();
    if rows.is_empty() {
        return Ok(map);
    }
    let signed: Vec<i32> = rows
        .iter()
        .map(|r| r.school_urn)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let latest = LatestVersions::of(db, &signed).await?;
    for row in rows {
        let current = latest.current(&row);
        map.entry(row.school_urn)
            .or_default()
            .push(SignOff { row, current });
    }
    Ok(map)
}

fn figures_of(r: &termly_report::Model) -> Figures {
    let budget = budget_of(r);
    Figures {
        number_on_roll: r.number_on_roll,
        pupils_with_send: r.pupils_with_send,
        sen_support: r.sen_support,
        ehcp: r.ehcp,
        ehcp_applications_in_process: r.ehcp_applications_in_process,
        budget_total_pence: budget.total(),
        expenditure_pence: r.expenditure_to_date_pence,
        non_contact_hours_per_week: r.non_contact_hours_per_week,
    }
}

/// Track records for (school, number of terms) keys, each ending with `last` (DataLoaders;
/// scoped by the school resolver): one statement per distinct number of terms, however many
/// schools.
pub async fn track_records<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    keys: &[(i32, u32)],
    last: AcademicTerm,
) -> ApiResult<HashMap<(i32, u32), Vec<TermFigures>>> {
    let mut by_terms: HashMap<u32, Vec<i32>> = HashMap::new();
    for (urn, terms) in keys {
        by_terms.entry(*terms).or_default().push(*urn);
    }
    let mut out = HashMap::new();
    for (terms, urns) in by_terms {
        let (from, to) = rules::track_record_reads(last, terms);
        let rows = termly_report::Entity::find()
            .filter(termly_report::Column::SchoolUrn.is_in(urns.iter().copied()))
            .filter(termly_report::Column::IsLatest.eq(true))
            .filter(
                termly_report::Column::AcademicYear.between(from.academic_year, to.academic_year),
            )
            .all(db)
            .await?;
        let mut reported: HashMap<i32, HashMap<AcademicTerm, (i32, Figures)>> = HashMap::new();
        for r in &rows {
            let term = term_of(r);
            if term >= from && term <= to {
                reported
                    .entry(r.school_urn)
                    .or_default()
                    .insert(term, (r.version, figures_of(r)));
            }
        }
        for urn in urns {
            let record =
                rules::track_record(reported.get(&urn).unwrap_or(&HashMap::new()), last, terms);
            out.insert((urn, terms), record);
        }
    }
    Ok(out)
}

fn report_facts(r: &termly_report::Model) -> ReportFacts {
    ReportFacts {
        term: term_of(r),
        non_contact_hours_per_week: r.non_contact_hours_per_week,
        pupils_with_send: r.pupils_with_send,
        sen_information_report_published_on: r.sen_information_report_published_on,
    }
}

/// The governance facts of SPEC 4.7 for the schools `schools` selects, as of `as_of`, given
/// their latest reports (`latest`, by URN): five statements for any number of schools.
pub async fn compliance_facts<C: ConnectionTrait>(
    db: &C,
    schools: SelectStatement,
    latest: &HashMap<i32, termly_report::Model>,
    as_of: NaiveDate,
) -> ApiResult<HashMap<i32, GovernanceFacts>> {
    let mut out: HashMap<i32, GovernanceFacts> = HashMap::new();
    let meetings: Vec<(i32, NaiveDate)> = governor_meeting::Entity::find()
        .select_only()
        .column(governor_meeting::Column::SchoolUrn)
        .column(governor_meeting::Column::HeldOn)
        .filter(governor_meeting::Column::SchoolUrn.in_subquery(schools.clone()))
        .filter(governor_meeting::Column::HeldOn.between(rules::meetings_count_from(as_of), as_of))
        .into_tuple()
        .all(db)
        .await?;
    for (urn, held_on) in meetings {
        let f = out.entry(urn).or_default();
        f.last_meeting_on = f.last_meeting_on.max(Some(held_on));
    }
    let open: Vec<(i32, NaiveDate)> = governance_action::Entity::find()
        .select_only()
        .column(governance_action::Column::SchoolUrn)
        .column(governance_action::Column::DueOn)
        .filter(governance_action::Column::SchoolUrn.in_subquery(schools.clone()))
        .filter(governance_action::Column::Status.eq(ActionStatus::Open.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    for (urn, due) in open {
        out.entry(urn).or_default().open_actions_due.push(due);
    }
    let term = rules::sign_off_term(as_of);
    let due_reports: Vec<(i32, i32)> = termly_report::Entity::find()
        .select_only()
        .column(termly_report::Column::SchoolUrn)
        .column(termly_report::Column::Version)
        .filter(termly_report::Column::SchoolUrn.in_subquery(schools.clone()))
        .filter(termly_report::Column::AcademicYear.eq(term.academic_year))
        .filter(termly_report::Column::Term.eq(term.term.as_str()))
        .filter(termly_report::Column::IsLatest.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    for (urn, version) in due_reports {
        out.entry(urn).or_default().report_for_sign_off = Some((term, version));
    }
    let sign_offs = governance_sign_off::Entity::find()
        .filter(governance_sign_off::Column::SchoolUrn.in_subquery(schools.clone()))
        .filter(governance_sign_off::Column::SignedOn.lte(as_of))
        .filter(
            Condition::any()
                .add(
                    governance_sign_off::Column::Document
                        .eq(GovernanceDocument::SenInformationReport.as_str()),
                )
                .add(
                    Condition::all()
                        .add(
                            governance_sign_off::Column::Document
                                .eq(GovernanceDocument::TermlyReport.as_str()),
                        )
                        .add(governance_sign_off::Column::AcademicYear.eq(term.academic_year))
                        .add(governance_sign_off::Column::Term.eq(term.term.as_str())),
                ),
        )
        .all(db)
        .await?;
    for s in &sign_offs {
        if let Some(f) = sign_off_facts(s) {
            out.entry(s.school_urn).or_default().sign_offs.push(f);
        }
    }
    // The same term a year before each school's latest term: few distinct terms, one
    // statement.
    let year_before: HashSet<AcademicTerm> = latest
        .values()
        .map(|r| term_of(r).same_term_last_year())
        .collect();
    if !year_before.is_empty() {
        let mut terms = Condition::any();
        for t in &year_before {
            terms = terms.add(
                Condition::all()
                    .add(termly_report::Column::AcademicYear.eq(t.academic_year))
                    .add(termly_report::Column::Term.eq(t.term.as_str())),
            );
        }
        let rows = termly_report::Entity::find()
            .filter(termly_report::Column::SchoolUrn.in_subquery(schools))
            .filter(termly_report::Column::IsLatest.eq(true))
            .filter(terms)
            .all(db)
            .await?;
        for r in rows {
            let wanted = latest
                .get(&r.school_urn)
                .is_some_and(|l| term_of(l).same_term_last_year() == term_of(&r));
            if wanted {
                out.entry(r.school_urn).or_default().same_term_last_year = Some(report_facts(&r));
            }
        }
    }
    for (urn, r) in latest {
        out.entry(*urn).or_default().latest_report = Some(report_facts(r));
    }
    Ok(out)
}

/// The keys of the governance audit rows that hold the text an LA reader may not see
/// (SPEC 4.10), as JSON paths: `*` is every element of an array.
const PRIVATE: &[(&str, &[&[&str]])] = &[
    (
        MEETING,
        &[&["attendees", "*", "name"], &["items", "*", "key_points"]],
    ),
    (
        ACTION,
        &[
            &["description"],
            &["success_criteria"],
            &["monitoring"],
            &["evaluation"],
        ],
    ),
];

fn blank(v: &mut serde_json::Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        *v = serde_json::Value::Null;
        return;
    };
    match (*first, v) {
        ("*", serde_json::Value::Array(items)) => {
            for item in items {
                blank(item, rest);
            }
        }
        (key, serde_json::Value::Object(o)) => {
            if let Some(x) = o.get_mut(key) {
                blank(x, rest);
            }
        }
        _ => {}
    }
}

fn redact_json(json: Option<String>, paths: &[&[&str]]) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(&json?).ok()?;
    for path in paths {
        blank(&mut v, path);
    }
    serde_json::to_string(&v).ok()
}

/// An audit row as a reader who may not see governance text reads it: the private fields
/// of meeting and action rows set to null (a row that cannot be read as JSON loses its
/// before and after entirely); every other row unchanged.
pub fn redact_audit(mut row: audit_event::Model) -> audit_event::Model {
    if let Some((_, paths)) = PRIVATE.iter().find(|(e, _)| *e == row.entity) {
        row.before = redact_json(row.before.take(), paths);
        row.after = redact_json(row.after.take(), paths);
    }
    row
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn redaction_blanks_the_private_text_of_meetings_and_actions_only() {
        let meeting = Meeting {
            id: 1,
            school_urn: 100_001,
            held_on: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
            next_meeting_on: None,
            attendees: vec![Attendee {
                name: "Private Name".into(),
                role: "SEN governor".into(),
            }],
            items: vec![AgendaItem {
                title: "Budget".into(),
                key_points: Some("Private points".into()),
            }],
        };
        let row = audit_event::Model {
            id: 1,
            occurred_at: chrono::Utc::now(),
            actor: "x".into(),
            operation: "recordGovernorMeeting".into(),
            school_urn: Some(100_001),
            entity: MEETING.into(),
            row_id: "1".into(),
            before: None,
            after: Some(serde_json::to_string(&meeting).unwrap()),
        };
        let out = redact_audit(row.clone());
        let after = out.after.unwrap();
        assert!(!after.contains("Private"), "{after}");
        assert!(
            after.contains("SEN governor") && after.contains("Budget"),
            "{after}"
        );
        let other = audit_event::Model {
            entity: "termly_report".into(),
            ..row
        };
        assert_eq!(redact_audit(other.clone()), other);
        let broken = audit_event::Model {
            entity: ACTION.into(),
            after: Some("not json".into()),
            ..other
        };
        assert_eq!(redact_audit(broken).after, None);
    }
}
