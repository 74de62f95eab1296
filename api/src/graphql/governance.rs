//! The governing body's side over GraphQL (SPEC 4.10): SENCO-governor meetings, the actions
//! agreed at them and in the SEN action plan, sign-offs, and the termly track record.
//!
//! Privacy by field: the free text of meetings and actions (attendees' names, key points,
//! descriptions, success criteria, monitoring, evaluation) is null for a reader whose only
//! reach to the school is an `la:` scope; `store::scope::reads_governance_text` decides,
//! once per school, and every object below carries the answer down.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::NaiveDate;
use entity::{governance_action, school};

use crate::domain::governance::{self as rules, Change, STANDARD_STATEMENT};
use crate::domain::money;
use crate::domain::school::Urn;
use crate::domain::terms::AcademicTerm;
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::reports::Term;
use crate::graphql::schools::School;
use crate::graphql::{Date, Money, connection_type, loaders, page, parse_id, rc, today};
use crate::service;
use crate::store::governance::{
    ActionPatch, Meeting, MeetingPatch, NewAction, NewMeeting, NewSignOff,
    SignOff as StoredSignOff, status_of,
};
use crate::store::{Paged, scope};

/// A document the governing body signs off.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::governance::GovernanceDocument")]
pub enum GovernanceDocument {
    /// The SENCO's termly report to governors: a sign-off binds one version of it.
    TermlyReport,
    /// The SEN information report the school publishes (SEND Regulations 2014, reg 51): a
    /// sign-off binds its date.
    SenInformationReport,
    /// The school's SEN policy: a sign-off binds its date.
    SenPolicy,
}

/// In what capacity someone signed for the governing body.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::governance::SignOffRole")]
pub enum SignOffRole {
    /// The chair of the governing body.
    Chair,
    /// The governor with responsibility for SEN.
    SenGovernor,
    /// A trustee of the academy trust (the appropriate authority of its academies).
    Trustee,
    /// Anyone else the board authorised.
    Other,
}

/// Where an agreed action stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::governance::ActionStatus")]
pub enum ActionStatus {
    /// Still to do; overdue once its due date has passed.
    Open,
    /// Done.
    Done,
    /// No longer pursued.
    Dropped,
}

fn pounds(pence: i64) -> Money {
    Money::of(money::Money::from_pence(pence))
}

/// Whether the caller may read the governance text of `school`.
fn text_visible(ctx: &Context<'_>, s: &school::Model) -> ApiResult<bool> {
    Ok(scope::reads_governance_text(&rc(ctx)?.principal, s))
}

async fn school_of(ctx: &Context<'_>, urn: i32) -> ApiResult<school::Model> {
    let l = super::loaders(ctx)?;
    loaders::one(&l.schools, urn)
        .await?
        .ok_or_else(|| ApiError::internal(format!("school {urn} missing")))
}

/// Someone who attended a meeting.
#[derive(SimpleObject)]
pub struct Attendee {
    /// Their name; null for a reader who reaches the school only through an LA scope.
    name: Option<String>,
    /// Their role, such as "SENCO" or "SEN governor".
    role: String,
}

/// One item of a meeting's agenda.
#[derive(SimpleObject)]
pub struct AgendaItem {
    /// The item's title.
    title: String,
    /// What was said and agreed; null when nothing was noted, and for a reader who reaches
    /// the school only through an LA scope.
    key_points: Option<String>,
}

/// A termly meeting of the SENCO with the SEN governor (SPEC 4.10). Holds no pupil data.
pub struct GovernorMeeting {
    m: Meeting,
    text: bool,
}

connection_type!(
    GovernorMeetingConnection,
    GovernorMeetingEdge,
    GovernorMeeting,
    "SENCO-governor meetings"
);

impl GovernorMeeting {
    async fn school_actions(&self, ctx: &Context<'_>) -> ApiResult<Vec<governance_action::Model>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.governance_actions, self.m.school_urn)
            .await?
            .unwrap_or_default())
    }
}

/// A termly meeting of the SENCO with the SEN governor (SPEC 4.10). Holds no pupil data.
#[Object]
impl GovernorMeeting {
    /// The meeting's id.
    async fn id(&self) -> ID {
        ID(self.m.id.to_string())
    }
    /// The school.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<School> {
        Ok(School(school_of(ctx, self.m.school_urn).await?))
    }
    /// When it was held.
    async fn held_on(&self) -> Date {
        Date(self.m.held_on)
    }
    /// The academic year of the term it was held in (2025 means 2025/26).
    async fn academic_year(&self) -> i32 {
        AcademicTerm::containing(self.m.held_on).academic_year
    }
    /// The term it was held in.
    async fn term(&self) -> Term {
        AcademicTerm::containing(self.m.held_on).term.into()
    }
    /// Who attended, in the order recorded.
    async fn attendees(&self) -> Vec<Attendee> {
        self.m
            .attendees
            .iter()
            .map(|a| Attendee {
                name: self.text.then(|| a.name.clone()),
                role: a.role.clone(),
            })
            .collect()
    }
    /// The agenda, in order.
    async fn items(&self) -> Vec<AgendaItem> {
        self.m
            .items
            .iter()
            .map(|i| AgendaItem {
                title: i.title.clone(),
                key_points: if self.text {
                    i.key_points.clone()
                } else {
                    None
                },
            })
            .collect()
    }
    /// When the next meeting is planned; null when not yet set.
    async fn next_meeting_on(&self) -> Option<Date> {
        self.m.next_meeting_on.map(Date)
    }
    /// The actions agreed at this meeting, by due date.
    async fn actions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<GovernanceAction>> {
        Ok(self
            .school_actions(ctx)
            .await?
            .into_iter()
            .filter(|a| a.meeting_id == Some(self.m.id))
            .map(|a| GovernanceAction { a, text: self.text })
            .collect())
    }
    /// The actions agreed at earlier meetings of the school that were still open when this
    /// one was held, by due date (SEN action plan actions belong to no meeting and are not
    /// listed).
    async fn carried_forward(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<GovernanceAction>> {
        let l = super::loaders(ctx)?;
        let meetings = loaders::one(&l.governor_meetings, self.m.school_urn)
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for a in self.school_actions(ctx).await? {
            let Some(agreed) = a
                .meeting_id
                .and_then(|id| meetings.iter().find(|m| m.id == id))
                .map(|m| m.held_on)
            else {
                continue;
            };
            if rules::carried_forward_to(agreed, status_of(&a)?, a.completed_on, self.m.held_on) {
                out.push(GovernanceAction { a, text: self.text });
            }
        }
        Ok(out)
    }
}

/// An action agreed with the governing body, at a meeting or in the SEN action plan (SPEC
/// 4.10). Holds no pupil data.
pub struct GovernanceAction {
    a: governance_action::Model,
    text: bool,
}

impl GovernanceAction {
    fn private(&self, v: &Option<String>) -> Option<String> {
        if self.text { v.clone() } else { None }
    }
}

/// An action agreed with the governing body, at a meeting or in the SEN action plan (SPEC
/// 4.10). Holds no pupil data.
#[Object]
impl GovernanceAction {
    /// The action's id.
    async fn id(&self) -> ID {
        ID(self.a.id.to_string())
    }
    /// The school.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<School> {
        Ok(School(school_of(ctx, self.a.school_urn).await?))
    }
    /// The meeting that agreed it; null for an action of the SEN action plan.
    async fn meeting(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<GovernorMeeting>> {
        let Some(id) = self.a.meeting_id else {
            return Ok(None);
        };
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.governor_meetings, self.a.school_urn)
            .await?
            .unwrap_or_default()
            .into_iter()
            .find(|m| m.id == id)
            .map(|m| GovernorMeeting { m, text: self.text }))
    }
    /// The area of SEN provision it concerns (an aim of the action plan); null when none
    /// was given.
    async fn area(&self) -> Option<&str> {
        self.a.area.as_deref()
    }
    /// What is to be done; null for a reader who reaches the school only through an LA
    /// scope.
    async fn description(&self) -> Option<&str> {
        self.text.then_some(self.a.description.as_str())
    }
    /// Who is to do it, by role (for example "SENCO"); visible to every reader of the
    /// school, so a role rather than a person's name.
    async fn owner(&self) -> &str {
        &self.a.owner
    }
    /// By when.
    async fn due_on(&self) -> Date {
        Date(self.a.due_on)
    }
    /// Where it stands.
    async fn status(&self) -> async_graphql::Result<ActionStatus> {
        Ok(status_of(&self.a)?.into())
    }
    /// When it was done or dropped; null while open.
    async fn completed_on(&self) -> Option<Date> {
        self.a.completed_on.map(Date)
    }
    /// What it costs.
    async fn cost(&self) -> Money {
        pounds(self.a.cost_pence)
    }
    /// The staff time it takes, in hours.
    async fn time_hours(&self) -> f64 {
        self.a.time_hours
    }
    /// How success will be judged; null when not given, and for a reader who reaches the
    /// school only through an LA scope.
    async fn success_criteria(&self) -> Option<String> {
        self.private(&self.a.success_criteria)
    }
    /// How progress is monitored; null when not given, and for a reader who reaches the
    /// school only through an LA scope.
    async fn monitoring(&self) -> Option<String> {
        self.private(&self.a.monitoring)
    }
    /// How it was evaluated; null when not given, and for a reader who reaches the school
    /// only through an LA scope.
    async fn evaluation(&self) -> Option<String> {
        self.private(&self.a.evaluation)
    }
    /// Whether it is overdue on `asOf`: open, and due before that day.
    async fn overdue(
        &self,
        #[graphql(desc = "The day to judge on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
    ) -> async_graphql::Result<bool> {
        let t = as_of.map_or_else(today, |d| d.0);
        Ok(rules::is_overdue(status_of(&self.a)?, self.a.due_on, t))
    }
    /// How many later meetings of the school found it still open (0 for an action of the
    /// SEN action plan).
    async fn times_carried_forward(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let Some(id) = self.a.meeting_id else {
            return Ok(0);
        };
        let l = super::loaders(ctx)?;
        let meetings = loaders::one(&l.governor_meetings, self.a.school_urn)
            .await?
            .unwrap_or_default();
        let Some(agreed) = meetings.iter().find(|m| m.id == id).map(|m| m.held_on) else {
            return Ok(0);
        };
        let status = status_of(&self.a)?;
        Ok(meetings
            .iter()
            .filter(|m| rules::carried_forward_to(agreed, status, self.a.completed_on, m.held_on))
            .count() as i32)
    }
}

/// The governing body's sign-off of one of the school's SEN documents (SPEC 4.10): the
/// evidence that the board read it and declares it accurate and compliant.
pub struct SignOff(StoredSignOff);

/// The governing body's sign-off of one of the school's SEN documents (SPEC 4.10): the
/// evidence that the board read it and declares it accurate and compliant.
#[Object]
impl SignOff {
    /// The sign-off's id.
    async fn id(&self) -> ID {
        ID(self.0.row.id.to_string())
    }
    /// The school.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<School> {
        Ok(School(school_of(ctx, self.0.row.school_urn).await?))
    }
    /// The document signed off.
    async fn document(&self) -> async_graphql::Result<GovernanceDocument> {
        rules::GovernanceDocument::parse(&self.0.row.document)
            .map(Into::into)
            .ok_or_else(|| ApiError::internal("stored sign-off document unknown").into())
    }
    /// For a termly report, its academic year; null for other documents.
    async fn academic_year(&self) -> Option<i32> {
        self.0.row.academic_year
    }
    /// For a termly report, its term; null for other documents.
    async fn term(&self) -> Option<Term> {
        self.0
            .row
            .term
            .as_deref()
            .and_then(crate::domain::terms::Term::parse)
            .map(Into::into)
    }
    /// For a termly report, the version signed off; null for other documents.
    async fn report_version(&self) -> Option<i32> {
        self.0.row.report_version
    }
    /// For a SEN information report or policy, the document's date; null for a termly
    /// report.
    async fn document_date(&self) -> Option<Date> {
        self.0.row.document_date.map(Date)
    }
    /// When it was signed.
    async fn signed_on(&self) -> Date {
        Date(self.0.row.signed_on)
    }
    /// Who signed.
    async fn signed_by(&self) -> &str {
        &self.0.row.signed_by
    }
    /// In what capacity.
    async fn role(&self) -> async_graphql::Result<SignOffRole> {
        rules::SignOffRole::parse(&self.0.row.role)
            .map(Into::into)
            .ok_or_else(|| ApiError::internal("stored sign-off role unknown").into())
    }
    /// The statement signed: the product's standard compliance statement unless the board
    /// gave its own.
    async fn statement(&self) -> &str {
        &self.0.row.statement
    }
    /// Whether it still binds the document as it stands: for a termly report, while the
    /// version signed is the latest; for a SEN information report or policy, until a termly
    /// report states a later date for the document.
    async fn current(&self) -> bool {
        self.0.current
    }
}

/// How a term's figures differ from another term's (this one minus that one); each field
/// null when either term has no report, or the figure cannot be worked out for either.
pub struct TermChange(Change);

/// How a term's figures differ from another term's (this one minus that one); each field
/// null when either term has no report, or the figure cannot be worked out for either.
#[Object]
impl TermChange {
    /// Change in pupils on roll.
    async fn number_on_roll(&self) -> Option<i64> {
        self.0.number_on_roll
    }
    /// Change in pupils with SEND.
    async fn pupils_with_send(&self) -> Option<i64> {
        self.0.pupils_with_send
    }
    /// Change in pupils on SEN support (K).
    async fn sen_support(&self) -> Option<i64> {
        self.0.sen_support
    }
    /// Change in pupils with an EHC plan (E).
    async fn ehcp(&self) -> Option<i64> {
        self.0.ehcp
    }
    /// Change in EHC plan applications in process.
    async fn ehcp_applications_in_process(&self) -> Option<i64> {
        self.0.ehcp_applications_in_process
    }
    /// Change in the budget total.
    async fn budget_total(&self) -> Option<Money> {
        self.0.budget_total_pence.map(pounds)
    }
    /// Change in expenditure to date.
    async fn expenditure_to_date(&self) -> Option<Money> {
        self.0.expenditure_pence.map(pounds)
    }
    /// Change in the budget remaining.
    async fn budget_remaining(&self) -> Option<Money> {
        self.0.budget_remaining_pence.map(pounds)
    }
    /// Change in the SENCO's non-contact hours a week.
    async fn non_contact_hours_per_week(&self) -> Option<f64> {
        self.0.non_contact_hours_per_week
    }
    /// Change in SEN support per 100 on roll, in percentage points.
    async fn sen_support_percent(&self) -> Option<f64> {
        self.0.sen_support_percent
    }
    /// Change in EHC plans per 100 on roll, in percentage points.
    async fn ehcp_percent(&self) -> Option<f64> {
        self.0.ehcp_percent
    }
    /// Change in non-contact hours per 100 on roll.
    async fn non_contact_hours_per_100_pupils(&self) -> Option<f64> {
        self.0.non_contact_hours_per_100_pupils
    }
}

/// One term of a school's track record (SPEC 4.10): the latest version of its report's
/// figures, and how they changed on the term before and on the same term a year before.
pub struct TermFigures(rules::TermFigures);

impl TermFigures {
    fn figures(&self) -> Option<&rules::Figures> {
        self.0.report.as_ref().map(|(_, f)| f)
    }
}

/// One term of a school's track record (SPEC 4.10): the latest version of its report's
/// figures, and how they changed on the term before and on the same term a year before.
/// Every figure is null when the school did not report for the term.
#[Object]
impl TermFigures {
    /// The academic year.
    async fn academic_year(&self) -> i32 {
        self.0.term.academic_year
    }
    /// The term.
    async fn term(&self) -> Term {
        self.0.term.term.into()
    }
    /// Whether the school reported for the term.
    async fn reported(&self) -> bool {
        self.0.report.is_some()
    }
    /// The latest version of the term's report.
    async fn version(&self) -> Option<i32> {
        self.0.report.map(|(v, _)| v)
    }
    /// Pupils on roll.
    async fn number_on_roll(&self) -> Option<i32> {
        self.figures().map(|f| f.number_on_roll)
    }
    /// Pupils with SEND.
    async fn pupils_with_send(&self) -> Option<i32> {
        self.figures().map(|f| f.pupils_with_send)
    }
    /// Pupils on SEN support (K).
    async fn sen_support(&self) -> Option<i32> {
        self.figures().map(|f| f.sen_support)
    }
    /// Pupils with an EHC plan (E).
    async fn ehcp(&self) -> Option<i32> {
        self.figures().map(|f| f.ehcp)
    }
    /// EHC plan applications in process.
    async fn ehcp_applications_in_process(&self) -> Option<i32> {
        self.figures().map(|f| f.ehcp_applications_in_process)
    }
    /// E1 + E2 + E3 + additional.
    async fn budget_total(&self) -> Option<Money> {
        self.figures().map(|f| pounds(f.budget_total_pence))
    }
    /// Spent so far in the year.
    async fn expenditure_to_date(&self) -> Option<Money> {
        self.figures().map(|f| pounds(f.expenditure_pence))
    }
    /// Budget total less expenditure; negative when overspent.
    async fn budget_remaining(&self) -> Option<Money> {
        self.figures().map(|f| pounds(f.budget_remaining_pence()))
    }
    /// The SENCO's non-contact hours a week.
    async fn non_contact_hours_per_week(&self) -> Option<f64> {
        self.figures().map(|f| f.non_contact_hours_per_week)
    }
    /// SEN support per 100 on roll; null also when the roll is 0.
    async fn sen_support_percent(&self) -> Option<f64> {
        self.figures().and_then(rules::Figures::sen_support_percent)
    }
    /// EHC plans per 100 on roll; null also when the roll is 0.
    async fn ehcp_percent(&self) -> Option<f64> {
        self.figures().and_then(rules::Figures::ehcp_percent)
    }
    /// The SENCO's non-contact hours a week per 100 on roll; null also when the roll is 0.
    async fn non_contact_hours_per_100_pupils(&self) -> Option<f64> {
        self.figures()
            .and_then(rules::Figures::non_contact_hours_per_100_pupils)
    }
    /// The change on the term before.
    async fn change_on_previous_term(&self) -> TermChange {
        TermChange(self.0.on_previous_term)
    }
    /// The change on the same term a year before.
    async fn change_on_same_term_last_year(&self) -> TermChange {
        TermChange(self.0.on_same_term_last_year)
    }
}

// ---------------------------------------------------------------------------------------
// The fields of School and TermlyReport
// ---------------------------------------------------------------------------------------

fn meeting_cursor(m: &Meeting) -> String {
    format!("m:{}:{}", m.held_on, m.id)
}

fn decode_meeting_cursor(c: &str) -> Option<(NaiveDate, i64)> {
    let (day, id) = c.strip_prefix("m:")?.split_once(':')?;
    Some((
        NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
        id.parse().ok()?,
    ))
}

/// `School.governorMeetings`: the school's meetings, newest first, a page at a time.
pub async fn school_meetings(
    ctx: &Context<'_>,
    s: &school::Model,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<GovernorMeetingConnection> {
    let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
    let page = page(first, after, decode_meeting_cursor)?;
    let text = text_visible(ctx, s)?;
    let l = super::loaders(ctx)?;
    let all = loaders::one(&l.governor_meetings, s.urn)
        .await?
        .unwrap_or_default();
    let total = all.len() as u64;
    let rows: Vec<Meeting> = all
        .into_iter()
        .filter(|m| page.after.is_none_or(|a| (m.held_on, m.id) < a))
        .take(page.first as usize + 1)
        .collect();
    let paged = Paged::from_overfetch(rows, page.first, total);
    Ok(super::connection(paged, has_prev, |m| {
        (meeting_cursor(&m), GovernorMeeting { m, text })
    })
    .into())
}

/// `School.governanceActions`: the school's actions, by due date.
pub async fn school_actions(
    ctx: &Context<'_>,
    s: &school::Model,
    status: Option<ActionStatus>,
    overdue_on: Option<Date>,
) -> ApiResult<Vec<GovernanceAction>> {
    let text = text_visible(ctx, s)?;
    let l = super::loaders(ctx)?;
    let mut out = Vec::new();
    for a in loaders::one(&l.governance_actions, s.urn)
        .await?
        .unwrap_or_default()
    {
        let st = status_of(&a)?;
        if status.is_some_and(|want| rules::ActionStatus::from(want) != st) {
            continue;
        }
        if overdue_on.is_some_and(|t| !rules::is_overdue(st, a.due_on, t.0)) {
            continue;
        }
        out.push(GovernanceAction { a, text });
    }
    Ok(out)
}

/// `School.signOffs`: every sign-off of the school's documents, newest first.
pub async fn school_sign_offs(ctx: &Context<'_>, urn: i32) -> ApiResult<Vec<SignOff>> {
    let l = super::loaders(ctx)?;
    Ok(loaders::one(&l.sign_offs, urn)
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(SignOff)
        .collect())
}

/// `TermlyReport.signOffs`: the sign-offs of one term's report, any version, newest first.
pub async fn report_sign_offs(
    ctx: &Context<'_>,
    urn: i32,
    term: AcademicTerm,
) -> ApiResult<Vec<SignOff>> {
    let l = super::loaders(ctx)?;
    Ok(loaders::one(&l.sign_offs, urn)
        .await?
        .unwrap_or_default()
        .into_iter()
        .filter(|s| {
            s.row.document == rules::GovernanceDocument::TermlyReport.as_str()
                && s.row.academic_year == Some(term.academic_year)
                && s.row.term.as_deref() == Some(term.term.as_str())
        })
        .map(SignOff)
        .collect())
}

/// The number of terms a `trackRecord` asks for, validated.
pub fn track_terms(terms: i32) -> ApiResult<u32> {
    u32::try_from(terms)
        .ok()
        .filter(|t| (1..=rules::MAX_TRACK_TERMS).contains(t))
        .ok_or_else(|| {
            ApiError::bad_input(
                "terms",
                format!("must be from 1 to {}", rules::MAX_TRACK_TERMS),
            )
        })
}

/// `School.trackRecord`: the last `terms` terms up to the latest that has ended.
pub async fn school_track_record(
    ctx: &Context<'_>,
    urn: i32,
    terms: i32,
) -> ApiResult<Vec<TermFigures>> {
    let terms = track_terms(terms)?;
    let l = super::loaders(ctx)?;
    Ok(loaders::one(&l.track_records, (urn, terms))
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(TermFigures)
        .collect())
}

// ---------------------------------------------------------------------------------------
// Queries and mutations
// ---------------------------------------------------------------------------------------

/// Governance queries.
#[derive(Default)]
pub struct GovernanceQuery;

/// Governance queries.
#[Object]
impl GovernanceQuery {
    /// One SENCO-governor meeting; null when none has the id, `FORBIDDEN` when the caller
    /// may not read its school. Its text fields are null for a reader who reaches the school
    /// only through an LA scope.
    async fn governor_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting's id.")] id: ID,
    ) -> async_graphql::Result<Option<GovernorMeeting>> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&id, "id")?;
        Ok(service::governance::meeting(&rc.db, &rc.principal, id)
            .await?
            .map(|(m, s)| GovernorMeeting {
                m,
                text: scope::reads_governance_text(&rc.principal, &s),
            }))
    }
}

/// Someone who attended a meeting.
#[derive(InputObject)]
pub struct AttendeeInput {
    /// Their name (1 to 200 characters after trimming); shown only to the school's and
    /// trust's readers.
    pub name: String,
    /// Their role, such as "SENCO" or "SEN governor" (1 to 200 characters).
    pub role: String,
}

/// One item of a meeting's agenda.
#[derive(InputObject)]
pub struct AgendaItemInput {
    /// The title (1 to 200 characters after trimming); shown to every reader of the school.
    pub title: String,
    /// What was said and agreed (at most 10,000 characters; no pupil data); shown only to
    /// the school's and trust's readers.
    pub key_points: Option<String>,
}

/// A SENCO-governor meeting to record. Needs `school:{urn}:write` or a govern scope
/// covering the school.
#[derive(InputObject)]
pub struct RecordGovernorMeetingInput {
    /// The school.
    pub school_urn: i32,
    /// When it was held (not after today).
    pub held_on: Date,
    /// Who attended (1 to 50).
    pub attendees: Vec<AttendeeInput>,
    /// The agenda (at most 50 items).
    pub items: Option<Vec<AgendaItemInput>>,
    /// When the next meeting is planned (after this one, within two years).
    pub next_meeting_on: Option<Date>,
    /// The actions agreed at it (at most 50), recorded with it: if one is refused,
    /// nothing is recorded.
    pub actions: Option<Vec<MeetingActionInput>>,
}

/// An action agreed at a meeting that is being recorded; it starts `OPEN`.
#[derive(InputObject)]
pub struct MeetingActionInput {
    /// The area of SEN provision it concerns (at most 200 characters).
    pub area: Option<String>,
    /// What is to be done (1 to 10,000 characters; no pupil data); shown only to the
    /// school's and trust's readers.
    pub description: String,
    /// Who is to do it, by role (1 to 200 characters); shown to every reader of the school.
    pub owner: String,
    /// By when (up to five years ahead).
    pub due_on: Date,
    /// How success will be judged (at most 10,000 characters).
    pub success_criteria: Option<String>,
}

/// Changes to a meeting's record; absent fields are left unchanged, a list given replaces
/// the stored one.
#[derive(InputObject)]
pub struct UpdateGovernorMeetingInput {
    /// The meeting.
    pub meeting_id: ID,
    /// New date held (not after today).
    pub held_on: Option<Date>,
    /// New attendees (1 to 50).
    pub attendees: Option<Vec<AttendeeInput>>,
    /// New agenda (at most 50 items).
    pub items: Option<Vec<AgendaItemInput>>,
    /// New next date (null clears).
    pub next_meeting_on: MaybeUndefined<Date>,
}

/// An action to add: agreed at a meeting (`meetingId`), or part of the SEN action plan.
/// Needs `school:{urn}:write` or a govern scope covering the school.
#[derive(InputObject)]
pub struct AddGovernanceActionInput {
    /// The school.
    pub school_urn: i32,
    /// The meeting that agreed it (a meeting of the same school); omit for the SEN action
    /// plan.
    pub meeting_id: Option<ID>,
    /// The area of SEN provision it concerns, an aim of the plan (at most 200 characters).
    pub area: Option<String>,
    /// What is to be done (1 to 10,000 characters; no pupil data); shown only to the
    /// school's and trust's readers.
    pub description: String,
    /// Who is to do it, by role (1 to 200 characters); shown to every reader of the school.
    pub owner: String,
    /// By when (up to five years ahead).
    pub due_on: Date,
    /// Its status; OPEN when omitted.
    pub status: Option<ActionStatus>,
    /// When it was done or dropped (not after today); only for a closed action, which
    /// gets today when omitted.
    pub completed_on: Option<Date>,
    /// What it costs; 0 when omitted.
    pub cost: Option<Money>,
    /// The staff time it takes in hours (0 to 10,000); 0 when omitted.
    pub time_hours: Option<f64>,
    /// How success will be judged (at most 10,000 characters).
    pub success_criteria: Option<String>,
    /// How progress is monitored (at most 10,000 characters).
    pub monitoring: Option<String>,
    /// How it was evaluated (at most 10,000 characters).
    pub evaluation: Option<String>,
}

/// Changes to an action; absent fields are left unchanged, null clears a nullable one.
/// Reopening an action clears its completion date; closing one without a date records
/// today.
#[derive(InputObject)]
pub struct UpdateGovernanceActionInput {
    /// The action.
    pub action_id: ID,
    /// New area (null clears).
    pub area: MaybeUndefined<String>,
    /// New description.
    pub description: Option<String>,
    /// New owner.
    pub owner: Option<String>,
    /// New due date.
    pub due_on: Option<Date>,
    /// New status.
    pub status: Option<ActionStatus>,
    /// New completion date (null clears).
    pub completed_on: MaybeUndefined<Date>,
    /// New cost.
    pub cost: Option<Money>,
    /// New staff time in hours.
    pub time_hours: Option<f64>,
    /// New success criteria (null clears).
    pub success_criteria: MaybeUndefined<String>,
    /// New monitoring (null clears).
    pub monitoring: MaybeUndefined<String>,
    /// New evaluation (null clears).
    pub evaluation: MaybeUndefined<String>,
}

/// The governing body's sign-off of a document. Needs `school:{urn}:govern` or
/// `trust:{uid}:govern` covering the school.
#[derive(InputObject)]
pub struct SignOffDocumentInput {
    /// The school.
    pub school_urn: i32,
    /// The document.
    pub document: GovernanceDocument,
    /// For a termly report: its academic year (required then; not given otherwise).
    pub academic_year: Option<i32>,
    /// For a termly report: its term (required then; not given otherwise).
    pub term: Option<Term>,
    /// For a termly report: the version signed off; the latest when omitted.
    pub report_version: Option<i32>,
    /// For a SEN information report or policy: the document's date (required then; not
    /// given for a termly report).
    pub document_date: Option<Date>,
    /// When it was signed (not after today).
    pub signed_on: Date,
    /// Who signed (1 to 200 characters after trimming).
    pub signed_by: String,
    /// In what capacity.
    pub role: SignOffRole,
    /// The statement signed (at most 2,000 characters); the product's standard compliance
    /// statement when omitted or blank.
    pub statement: Option<String>,
}

fn bad(field: String) -> impl Fn(String) -> ApiError {
    move |m| ApiError::bad_input(field.clone(), m)
}

/// The actions given with a new meeting, validated with fields named `input.actions.{i}...`.
fn meeting_actions(school_urn: i32, list: Vec<MeetingActionInput>) -> ApiResult<Vec<NewAction>> {
    if list.len() > 50 {
        return Err(ApiError::bad_input("input.actions", "at most 50 actions"));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, a)| {
            let f = |name: &str| format!("input.actions.{i}.{name}");
            Ok(NewAction {
                school_urn: Urn(school_urn),
                meeting_id: None,
                area: area(a.area, &f("area"))?,
                description: required_text(&a.description, &f("description"))?,
                owner: name(&a.owner, &f("owner"))?,
                due_on: rules::due_on(a.due_on.0, today()).map_err(bad(f("dueOn")))?,
                status: rules::ActionStatus::Open,
                completed_on: None,
                cost_pence: 0,
                time_hours: 0.0,
                success_criteria: text(a.success_criteria, &f("successCriteria"))?,
                monitoring: None,
                evaluation: None,
            })
        })
        .collect()
}

fn name(v: &str, field: &str) -> ApiResult<String> {
    validation::trimmed_name(v, rules::NAME_CHARS).map_err(bad(field.to_owned()))
}

fn text(v: Option<String>, field: &str) -> ApiResult<Option<String>> {
    validation::optional_text(v, rules::TEXT_CHARS).map_err(bad(field.to_owned()))
}

/// Required free text: trimmed, not blank.
fn required_text(v: &str, field: &str) -> ApiResult<String> {
    text(Some(v.to_owned()), field)?.ok_or_else(|| ApiError::bad_input(field, "must not be empty"))
}

fn past(d: Date, field: &str) -> ApiResult<NaiveDate> {
    validation::past_date(d.0, today()).map_err(bad(field.to_owned()))
}

fn attendees(v: Vec<AttendeeInput>, field: &str) -> ApiResult<Vec<rules::Attendee>> {
    if v.is_empty() || v.len() > rules::MAX_LIST {
        return Err(ApiError::bad_input(
            field,
            format!("must list 1 to {} attendees", rules::MAX_LIST),
        ));
    }
    v.into_iter()
        .enumerate()
        .map(|(i, a)| {
            Ok(rules::Attendee {
                name: name(&a.name, &format!("{field}.{i}.name"))?,
                role: name(&a.role, &format!("{field}.{i}.role"))?,
            })
        })
        .collect()
}

fn items(v: Vec<AgendaItemInput>, field: &str) -> ApiResult<Vec<rules::AgendaItem>> {
    if v.len() > rules::MAX_LIST {
        return Err(ApiError::bad_input(
            field,
            format!("must list at most {} items", rules::MAX_LIST),
        ));
    }
    v.into_iter()
        .enumerate()
        .map(|(i, it)| {
            Ok(rules::AgendaItem {
                title: name(&it.title, &format!("{field}.{i}.title"))?,
                key_points: text(it.key_points, &format!("{field}.{i}.keyPoints"))?,
            })
        })
        .collect()
}

fn area(v: Option<String>, field: &str) -> ApiResult<Option<String>> {
    let Some(a) = v else {
        return Ok(None);
    };
    // Checked whole before trimming, so that a control character at either end (which
    // trimming would drop) is refused as it is in every other free text.
    validation::free_text(&a, rules::NAME_CHARS).map_err(bad(field.to_owned()))?;
    if a.trim().is_empty() {
        return Ok(None);
    }
    name(&a, field).map(Some)
}

fn hours(v: f64, field: &str) -> ApiResult<f64> {
    rules::time_hours(v).map_err(bad(field.to_owned()))
}

fn patch<T, U>(
    v: MaybeUndefined<T>,
    f: impl FnOnce(T) -> ApiResult<Option<U>>,
) -> ApiResult<Option<Option<U>>> {
    Ok(match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(x) => Some(f(x)?),
    })
}

fn validate_sign_off(input: SignOffDocumentInput) -> ApiResult<NewSignOff> {
    let document: rules::GovernanceDocument = input.document.into();
    let only_report = "applies only to a TERMLY_REPORT sign-off";
    let (term, version, document_date) = match document {
        rules::GovernanceDocument::TermlyReport => {
            if input.document_date.is_some() {
                return Err(ApiError::bad_input(
                    "input.documentDate",
                    "applies only to a SEN information report or policy: a termly report \
                     sign-off binds a version",
                ));
            }
            let year = input.academic_year.ok_or_else(|| {
                ApiError::bad_input("input.academicYear", "is required for a termly report")
            })?;
            let year = validation::academic_year(year, today())
                .map_err(bad("input.academicYear".into()))?;
            let term = input.term.ok_or_else(|| {
                ApiError::bad_input("input.term", "is required for a termly report")
            })?;
            if input.report_version.is_some_and(|v| v < 1) {
                return Err(ApiError::bad_input(
                    "input.reportVersion",
                    "must be 1 or more",
                ));
            }
            (
                Some(AcademicTerm::new(year, term.into())),
                input.report_version,
                None,
            )
        }
        rules::GovernanceDocument::SenInformationReport | rules::GovernanceDocument::SenPolicy => {
            for (given, field) in [
                (input.academic_year.is_some(), "input.academicYear"),
                (input.term.is_some(), "input.term"),
                (input.report_version.is_some(), "input.reportVersion"),
            ] {
                if given {
                    return Err(ApiError::bad_input(field, only_report));
                }
            }
            let date = input.document_date.ok_or_else(|| {
                ApiError::bad_input("input.documentDate", "is required for this document")
            })?;
            let date = validation::report_date(date.0, today())
                .map_err(bad("input.documentDate".into()))?;
            (None, None, Some(date))
        }
    };
    let statement = validation::optional_text(input.statement, rules::STATEMENT_CHARS)
        .map_err(bad("input.statement".into()))?
        .unwrap_or_else(|| STANDARD_STATEMENT.to_owned());
    Ok(NewSignOff {
        school_urn: Urn(input.school_urn),
        document,
        term,
        report_version: version,
        document_date,
        signed_on: past(input.signed_on, "input.signedOn")?,
        signed_by: name(&input.signed_by, "input.signedBy")?,
        role: input.role.into(),
        statement,
    })
}

/// Governance mutations.
#[derive(Default)]
pub struct GovernanceMutation;

/// Governance mutations.
#[Object]
impl GovernanceMutation {
    /// Records a SENCO-governor meeting. Needs `school:{urn}:write` or a govern scope
    /// covering the school.
    async fn record_governor_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting.")] input: RecordGovernorMeetingInput,
    ) -> async_graphql::Result<GovernorMeeting> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let held_on = past(input.held_on, "input.heldOn")?;
        let m = NewMeeting {
            school_urn: Urn(input.school_urn),
            held_on,
            next_meeting_on: input.next_meeting_on.map(|d| d.0),
            attendees: attendees(input.attendees, "input.attendees")?,
            items: items(input.items.unwrap_or_default(), "input.items")?,
            actions: meeting_actions(input.school_urn, input.actions.unwrap_or_default())?,
        };
        let m = service::governance::record_meeting(&rc.db, &rc.principal, m, today())
            .await
            .map_err(|e| e.within("input"))?;
        let s = school_of(ctx, m.school_urn).await?;
        let text = text_visible(ctx, &s)?;
        Ok(GovernorMeeting { m, text })
    }

    /// Corrects a meeting's record. Needs `school:{urn}:write` or a govern scope covering
    /// its school.
    async fn update_governor_meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateGovernorMeetingInput,
    ) -> async_graphql::Result<GovernorMeeting> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.meeting_id, "input.meetingId")?;
        let patch = MeetingPatch {
            held_on: input.held_on.map(|d| past(d, "input.heldOn")).transpose()?,
            next_meeting_on: match input.next_meeting_on {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(d) => Some(Some(d.0)),
            },
            attendees: input
                .attendees
                .map(|v| attendees(v, "input.attendees"))
                .transpose()?,
            items: input.items.map(|v| items(v, "input.items")).transpose()?,
        };
        let m = service::governance::update_meeting(&rc.db, &rc.principal, id, patch)
            .await
            .map_err(|e| e.within("input"))?;
        let s = school_of(ctx, m.school_urn).await?;
        let text = text_visible(ctx, &s)?;
        Ok(GovernorMeeting { m, text })
    }

    /// Adds an action agreed at a meeting, or to the SEN action plan. Needs
    /// `school:{urn}:write` or a govern scope covering the school.
    async fn add_governance_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The action.")] input: AddGovernanceActionInput,
    ) -> async_graphql::Result<GovernanceAction> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let a = NewAction {
            school_urn: Urn(input.school_urn),
            meeting_id: input
                .meeting_id
                .as_ref()
                .map(|id| parse_id(id, "input.meetingId"))
                .transpose()?,
            area: area(input.area, "input.area")?,
            description: required_text(&input.description, "input.description")?,
            owner: name(&input.owner, "input.owner")?,
            due_on: rules::due_on(input.due_on.0, today()).map_err(bad("input.dueOn".into()))?,
            status: input.status.map_or(rules::ActionStatus::Open, Into::into),
            completed_on: input
                .completed_on
                .map(|d| past(d, "input.completedOn"))
                .transpose()?,
            cost_pence: match &input.cost {
                Some(m) => m.amount("input.cost")?.pence(),
                None => 0,
            },
            time_hours: hours(input.time_hours.unwrap_or(0.0), "input.timeHours")?,
            success_criteria: text(input.success_criteria, "input.successCriteria")?,
            monitoring: text(input.monitoring, "input.monitoring")?,
            evaluation: text(input.evaluation, "input.evaluation")?,
        };
        let a = service::governance::add_action(&rc.db, &rc.principal, a, today())
            .await
            .map_err(|e| e.within("input"))?;
        let s = school_of(ctx, a.school_urn).await?;
        let text = text_visible(ctx, &s)?;
        Ok(GovernanceAction { a, text })
    }

    /// Follows an action up, or changes its terms. Needs `school:{urn}:write` or a govern
    /// scope covering its school.
    async fn update_governance_action(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateGovernanceActionInput,
    ) -> async_graphql::Result<GovernanceAction> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.action_id, "input.actionId")?;
        let p = ActionPatch {
            area: patch(input.area, |a| area(Some(a), "input.area"))?,
            description: input
                .description
                .map(|d| required_text(&d, "input.description"))
                .transpose()?,
            owner: input.owner.map(|o| name(&o, "input.owner")).transpose()?,
            due_on: input
                .due_on
                .map(|d| rules::due_on(d.0, today()).map_err(bad("input.dueOn".into())))
                .transpose()?,
            status: input.status.map(Into::into),
            completed_on: patch(input.completed_on, |d| {
                past(d, "input.completedOn").map(Some)
            })?,
            cost_pence: input
                .cost
                .map(|m| m.amount("input.cost").map(|m| m.pence()))
                .transpose()?,
            time_hours: input
                .time_hours
                .map(|h| hours(h, "input.timeHours"))
                .transpose()?,
            success_criteria: patch(input.success_criteria, |t| {
                text(Some(t), "input.successCriteria")
            })?,
            monitoring: patch(input.monitoring, |t| text(Some(t), "input.monitoring"))?,
            evaluation: patch(input.evaluation, |t| text(Some(t), "input.evaluation"))?,
        };
        let a = service::governance::update_action(&rc.db, &rc.principal, id, p, today())
            .await
            .map_err(|e| e.within("input"))?;
        let s = school_of(ctx, a.school_urn).await?;
        let text = text_visible(ctx, &s)?;
        Ok(GovernanceAction { a, text })
    }

    /// Records the governing body's sign-off of one of the school's documents, with the
    /// statement signed. Needs `school:{urn}:govern` or `trust:{uid}:govern` covering the
    /// school: a school's own write scope may not sign off its documents.
    async fn sign_off_document(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-off.")] input: SignOffDocumentInput,
    ) -> async_graphql::Result<SignOff> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let s = validate_sign_off(input)?;
        Ok(SignOff(
            service::governance::sign_off(&rc.db, &rc.principal, s)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_cursors_round_trip() {
        let m = Meeting {
            id: 42,
            school_urn: 100_001,
            held_on: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap_or_default(),
            next_meeting_on: None,
            attendees: vec![],
            items: vec![],
        };
        assert_eq!(
            decode_meeting_cursor(&meeting_cursor(&m)),
            Some((m.held_on, 42))
        );
        assert_eq!(decode_meeting_cursor("s:1"), None);
    }
}
