//! SENCOs over GraphQL: people, appointments, qualifications and the deadlines view
//! (SPEC 4.2 - 4.4 and 5).

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object};
use chrono::NaiveDate;
use entity::{person, prior_senco_service, qualification, senco_appointment};

use crate::domain::eligibility::{self, InductionStatus as DomainInduction};
use crate::domain::qualification as rules;
use crate::domain::school::{LaCode, TrustUid, Urn};
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::npq::{NpqCohort, ProjectionCount, QualificationProjection};
use crate::graphql::schools::{School, name_filter};
use crate::graphql::{Date, connection, connection_type, loaders, page, parse_id, rc, today};
use crate::service;
use crate::store::{deadlines, scope, sencos};

/// A teacher's induction status.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::eligibility::InductionStatus")]
pub enum InductionStatus {
    /// Induction completed.
    Completed,
    /// Induction under way.
    InProgress,
    /// Induction not begun.
    NotStarted,
    /// Induction not required (e.g. qualified before induction was introduced).
    NotRequired,
}

/// The mandatory SENCO qualification's two forms.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::qualification::QualificationKind")]
pub enum QualificationKind {
    /// The National Award for SEN Co-ordination (courses started before 1 September 2024).
    Nasenco,
    /// The NPQ for SENCOs (courses started on or after 1 September 2024).
    NpqSenco,
}

/// Where an appointment stands against the qualification duty.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::qualification::QualificationStatus")]
pub enum QualificationStatus {
    /// Holds a qualification that counts.
    Qualified,
    /// On a course that could still count, before the deadline.
    InTraining,
    /// Not qualified and not on a course, before the deadline.
    NotStarted,
    /// The deadline has passed without a qualification that counts.
    Overdue,
    /// The duty does not apply (see `exemptionReason`).
    Exempt,
}

/// Why the qualification duty does not apply.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::qualification::ExemptionReason")]
pub enum ExemptionReason {
    /// The school is not a relevant school.
    NotARelevantSchool,
    /// Appointed on or before 1 September 2009.
    AppointedBeforeSeptember2009,
    /// More than twelve months' SENCO service before this appointment.
    PriorServiceOver12Months,
}

fn induction_from_db(s: &str) -> ApiResult<DomainInduction> {
    DomainInduction::parse(s).ok_or_else(|| ApiError::internal(format!("stored induction `{s}`")))
}

/// A person who is, or was, a SENCO. Visible only through a school the caller may read.
pub struct Person(pub person::Model);

/// A person who is, or was, a SENCO. Visible only through a school the caller may read.
#[Object]
impl Person {
    /// The person's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The seven-digit teacher reference number; null when not recorded.
    async fn trn(&self) -> Option<&str> {
        self.0.trn.as_deref()
    }
    /// Full name.
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    /// Work e-mail; null when not recorded.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Whether the person has qualified teacher status.
    async fn has_qts(&self) -> bool {
        self.0.has_qts
    }
    /// The person's induction status.
    async fn induction_status(&self) -> async_graphql::Result<InductionStatus> {
        Ok(induction_from_db(&self.0.induction_status)?.into())
    }
    /// The person's SENCO appointments at schools the caller may read (others are never
    /// shown), oldest first.
    async fn appointments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<SencoAppointment>> {
        let rc = rc(ctx)?;
        let l = super::loaders(ctx)?;
        let all = loaders::one(&l.appointments_by_person, self.0.id)
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for a in all {
            if let Some(s) = loaders::one(&l.schools, a.school_urn).await?
                && scope::can_read(&rc.principal, &s)
            {
                out.push(SencoAppointment(a));
            }
        }
        Ok(out)
    }
    /// The person's SENCO qualifications and courses, oldest first.
    async fn qualifications(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Qualification>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.qualifications, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Qualification)
            .collect())
    }
    /// The checks of this person's QTS, induction or award against a source (SPEC 4.9),
    /// oldest first; empty when none was recorded.
    async fn evidence_checks(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::evidence::EvidenceCheck>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.evidence_checks, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(super::evidence::EvidenceCheck)
            .collect())
    }
    /// SENCO service recorded outside this system, oldest first.
    async fn prior_service(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PriorSencoService>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(&l.prior_service, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(PriorSencoService)
            .collect())
    }
}

/// A SENCO qualification or course.
pub struct Qualification(pub qualification::Model);

/// A SENCO qualification or course.
#[Object]
impl Qualification {
    /// The qualification's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// NASENCO or the NPQ for SENCOs.
    async fn kind(&self) -> async_graphql::Result<QualificationKind> {
        Ok(rules::QualificationKind::parse(&self.0.kind)
            .ok_or_else(|| ApiError::internal("stored qualification kind"))?
            .into())
    }
    /// The course provider; null when not recorded.
    async fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }
    /// When the course began.
    async fn started_on(&self) -> Date {
        Date(self.0.started_on)
    }
    /// When it was completed (the date of the award, not the end of teaching); null while
    /// under way.
    async fn completed_on(&self) -> Option<Date> {
        self.0.completed_on.map(Date)
    }
    /// When the award is expected, as the projection uses it (SPEC 4.8); null when not
    /// recorded.
    async fn expected_completion_on(&self) -> Option<Date> {
        self.0.expected_completion_on.map(Date)
    }
    /// Whether it is a relevant SENCO qualification that discharges the duty (SPEC 4.4(5)):
    /// completed, and NASENCO begun before 1 September 2024 and completed before
    /// 1 September 2027, or the NPQ for SENCOs begun on or after 1 September 2024.
    async fn counts_toward_duty(&self) -> bool {
        sencos::counts(&self.0)
    }
}

/// SENCO service outside this system (another LA, before records began).
pub struct PriorSencoService(pub prior_senco_service::Model);

/// SENCO service outside this system (another LA, before records began).
#[Object]
impl PriorSencoService {
    /// First day of the service.
    async fn started_on(&self) -> Date {
        Date(self.0.started_on)
    }
    /// Last day of the service.
    async fn ended_on(&self) -> Date {
        Date(self.0.ended_on)
    }
    /// What the service was; null when not recorded.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
}

/// A person's appointment as SENCO of a school.
pub struct SencoAppointment(pub senco_appointment::Model);

impl SencoAppointment {
    async fn person_model(&self, ctx: &Context<'_>) -> ApiResult<person::Model> {
        let l = super::loaders(ctx)?;
        loaders::one(&l.people, self.0.person_id)
            .await
            .map_err(|e| e.within("input"))?
            .ok_or_else(|| ApiError::internal("appointment without person"))
    }
}

/// A person's appointment as SENCO of a school.
#[Object]
impl SencoAppointment {
    /// The appointment's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The SENCO.
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        Ok(Person(self.person_model(ctx).await?))
    }
    /// The school.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<School> {
        let l = super::loaders(ctx)?;
        Ok(School(
            loaders::one(&l.schools, self.0.school_urn)
                .await?
                .ok_or_else(|| ApiError::internal("appointment without school"))?,
        ))
    }
    /// First day in post.
    async fn started_on(&self) -> Date {
        Date(self.0.started_on)
    }
    /// Last day in post; null while current.
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
    /// Whether the SENCO is the school's head or acting head.
    async fn is_headteacher(&self) -> bool {
        self.0.is_headteacher
    }
    /// Whether the SENCO works as a teacher at the school.
    async fn works_as_teacher_at_school(&self) -> bool {
        self.0.works_as_teacher_at_school
    }
    /// Whether the SENCO sits on the senior leadership team.
    async fn on_senior_leadership_team(&self) -> bool {
        self.0.on_senior_leadership_team
    }
    /// Non-contact hours a week for the SENCO role; null when not recorded.
    async fn non_contact_hours_per_week(&self) -> Option<f64> {
        self.0.non_contact_hours_per_week
    }
    /// Fraction of the week spent teaching a class (0 to 1); null when not recorded.
    async fn class_teaching_fraction(&self) -> Option<f64> {
        self.0.class_teaching_fraction
    }
    /// Whether the person may hold the post (reg 49(2),(3)): the head, or a qualified teacher
    /// who has completed induction (or needs none) and works as a teacher at the school.
    async fn eligible(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.issues(ctx).await?.is_empty())
    }
    /// Every reason the appointment is not eligible: `NO_QTS`, `INDUCTION_NOT_COMPLETED`,
    /// `NOT_TEACHING_AT_SCHOOL`. Empty when eligible.
    async fn eligibility_issues(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        Ok(self
            .issues(ctx)
            .await?
            .into_iter()
            .map(|i| i.as_str().to_string())
            .collect())
    }
    /// The qualification duty, deadline and status of this appointment as of a date.
    async fn qualification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The date to evaluate on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
    ) -> async_graphql::Result<QualificationDeadline> {
        let l = super::loaders(ctx)?;
        let as_of = as_of.map_or_else(today, |d| d.0);
        let d = loaders::one(&l.deadlines, (self.0.id, as_of))
            .await?
            .ok_or_else(|| ApiError::internal("deadline not computed"))?;
        Ok(QualificationDeadline(d))
    }
}

impl SencoAppointment {
    async fn issues(&self, ctx: &Context<'_>) -> ApiResult<Vec<eligibility::EligibilityIssue>> {
        let p = self.person_model(ctx).await?;
        Ok(eligibility::eligibility_issues(
            self.0.is_headteacher,
            p.has_qts,
            induction_from_db(&p.induction_status)?,
            self.0.works_as_teacher_at_school,
        ))
    }
}

/// The qualification duty of one appointment, as of a date (SPEC 4.4).
pub struct QualificationDeadline(pub deadlines::Deadline);

connection_type!(
    QualificationDeadlineConnection,
    QualificationDeadlineEdge,
    QualificationDeadline,
    "qualification deadlines",
    #[doc = "How many appointments of the whole filtered list (not the page) stand at each status, every status listed (0 when none)."]
    status_counts: Vec<StatusCount>,
    #[doc = "How many appointments of the whole filtered list (not the page) stand at each projection, every projection listed (0 when none)."]
    projection_counts: Vec<ProjectionCount>,
);

/// How many appointments stand at one status.
#[derive(async_graphql::SimpleObject, Clone)]
pub struct StatusCount {
    /// The status.
    status: QualificationStatus,
    /// How many.
    count: u64,
}

/// The qualification duty of one appointment, as of a date (SPEC 4.4).
#[Object]
impl QualificationDeadline {
    /// The appointment.
    async fn appointment(&self) -> SencoAppointment {
        SencoAppointment(self.0.appointment.clone())
    }
    /// The SENCO.
    async fn person(&self) -> Person {
        Person(self.0.person.clone())
    }
    /// The school.
    async fn school(&self) -> School {
        School(self.0.school.clone())
    }
    /// Whether the duty to hold the qualification applies to this appointment.
    async fn duty_applies(&self) -> bool {
        self.0.outcome.duty_applies
    }
    /// Why the duty does not apply; null when it does.
    async fn exemption_reason(&self) -> Option<ExemptionReason> {
        self.0.outcome.exemption_reason.map(Into::into)
    }
    /// The third anniversary of the appointment; the qualification must be held at any time
    /// after it. Null when exempt.
    async fn deadline(&self) -> Option<Date> {
        self.0.outcome.deadline.map(Date)
    }
    /// The status as of the date asked for.
    async fn status(&self) -> QualificationStatus {
        self.0.outcome.status.into()
    }
    /// Days from the date asked for to the deadline; negative when overdue, null when exempt.
    async fn days_remaining(&self) -> Option<i64> {
        self.0.outcome.days_remaining
    }
    /// The qualification that discharges the duty; null when none does yet.
    async fn qualifying_award(&self) -> Option<Qualification> {
        self.0.award.clone().map(Qualification)
    }
    /// Distinct days of SENCO service before this appointment (other appointments at
    /// relevant schools and recorded prior service, overlaps counted once).
    async fn prior_service_days(&self) -> i64 {
        self.0.outcome.prior_service_days
    }
    /// Whether the SENCO will hold the qualification by the deadline, from the courses under
    /// way and the NPQ cohort calendar on the date asked for (SPEC 4.8).
    async fn projection(&self) -> QualificationProjection {
        self.0.projection.projection.into()
    }
    /// The day registration closes for the one cohort that still finishes in time; null
    /// unless the projection is `AT_RISK`.
    async fn must_register_by(&self) -> Option<Date> {
        self.0.projection.must_register_by.map(Date)
    }
    /// The earliest day a course under way or an open cohort could give the award; null when
    /// `QUALIFIED`, `EXEMPT`, or nothing under way or open.
    async fn projected_qualified_on(&self) -> Option<Date> {
        self.0.projection.projected_qualified_on.map(Date)
    }
    /// The open cohort starting last that still finishes by the deadline; null when none
    /// does.
    async fn latest_viable_cohort(&self) -> Option<NpqCohort> {
        self.0.projection.latest_viable_cohort.map(NpqCohort)
    }
}

/// Narrows the deadlines view; every field given must match.
#[derive(InputObject, Default)]
pub struct DeadlineFilter {
    /// Only schools of this LA.
    pub la_code: Option<i32>,
    /// Only schools of this trust.
    pub trust_uid: Option<i32>,
    /// Only these schools (at most 1000).
    pub urns: Option<Vec<i32>>,
    /// Only these statuses.
    pub statuses: Option<Vec<QualificationStatus>>,
    /// Only these projections (SPEC 4.8).
    pub projections: Option<Vec<QualificationProjection>>,
    /// Only deadlines on or before this date (exempt appointments have none and are left out).
    pub deadline_on_or_before: Option<Date>,
    /// Only deadlines on or after this date (exempt appointments are left out).
    pub deadline_on_or_after: Option<Date>,
    /// Only schools whose name contains this text, ignoring case (at most 200 characters).
    pub school_name_contains: Option<String>,
}

/// A person as recorded with an appointment.
#[derive(InputObject)]
pub struct PersonInput {
    /// The seven-digit teacher reference number. An existing person with this TRN is linked
    /// rather than duplicated (their recorded details are kept).
    pub trn: Option<String>,
    /// Full name.
    pub full_name: String,
    /// Work e-mail.
    pub email: Option<String>,
    /// Whether the person has qualified teacher status.
    pub has_qts: bool,
    /// Induction status.
    pub induction_status: InductionStatus,
}

/// Appoints a SENCO at a school.
#[derive(InputObject)]
pub struct AppointSencoInput {
    /// The school.
    pub school_urn: i32,
    /// The SENCO (linked by TRN when known).
    pub person: PersonInput,
    /// First day in post.
    pub started_on: Date,
    /// Whether the SENCO is the head or acting head (default false).
    pub is_headteacher: Option<bool>,
    /// Whether the SENCO works as a teacher at the school (default true).
    pub works_as_teacher_at_school: Option<bool>,
    /// Whether the SENCO sits on the senior leadership team (default false).
    pub on_senior_leadership_team: Option<bool>,
    /// Non-contact hours a week for the role (0 to 60).
    pub non_contact_hours_per_week: Option<f64>,
    /// Fraction of the week teaching a class (0 to 1).
    pub class_teaching_fraction: Option<f64>,
}

/// Changes an appointment; absent fields are left unchanged, null clears a nullable one.
#[derive(InputObject)]
pub struct UpdateSencoAppointmentInput {
    /// The appointment.
    pub appointment_id: ID,
    /// New first day in post.
    pub started_on: Option<Date>,
    /// New headteacher flag.
    pub is_headteacher: Option<bool>,
    /// New teaching flag.
    pub works_as_teacher_at_school: Option<bool>,
    /// New leadership flag.
    pub on_senior_leadership_team: Option<bool>,
    /// New non-contact hours (null clears).
    pub non_contact_hours_per_week: MaybeUndefined<f64>,
    /// New class-teaching fraction (null clears).
    pub class_teaching_fraction: MaybeUndefined<f64>,
}

/// Ends an appointment.
#[derive(InputObject)]
pub struct EndSencoAppointmentInput {
    /// The appointment.
    pub appointment_id: ID,
    /// Last day in post.
    pub ended_on: Date,
}

/// Changes a person; absent fields are left unchanged, null clears a nullable one.
#[derive(InputObject)]
pub struct UpdatePersonInput {
    /// The person.
    pub person_id: ID,
    /// New TRN (null clears).
    pub trn: MaybeUndefined<String>,
    /// New full name.
    pub full_name: Option<String>,
    /// New e-mail (null clears).
    pub email: MaybeUndefined<String>,
    /// New QTS flag.
    pub has_qts: Option<bool>,
    /// New induction status.
    pub induction_status: Option<InductionStatus>,
}

/// Records SENCO service outside this system.
#[derive(InputObject)]
pub struct AddPriorSencoServiceInput {
    /// The person.
    pub person_id: ID,
    /// First day of the service.
    pub started_on: Date,
    /// Last day of the service.
    pub ended_on: Date,
    /// What the service was (at most 1000 characters).
    pub description: Option<String>,
}

/// Records a SENCO qualification or course.
#[derive(InputObject)]
pub struct RecordQualificationInput {
    /// The person.
    pub person_id: ID,
    /// NASENCO or the NPQ for SENCOs.
    pub kind: QualificationKind,
    /// The course provider.
    pub provider: Option<String>,
    /// When the course began.
    pub started_on: Date,
    /// When it was completed (the date of the award); omit while under way.
    pub completed_on: Option<Date>,
    /// When the award is expected: not before `startedOn`, within ten years (3,650 days) of
    /// today, and for a NASENCO before 1 September 2027 (after which it never counts).
    pub expected_completion_on: Option<Date>,
}

/// Changes a qualification; absent fields are left unchanged, null clears a nullable one.
#[derive(InputObject)]
pub struct UpdateQualificationInput {
    /// The qualification.
    pub qualification_id: ID,
    /// New kind.
    pub kind: Option<QualificationKind>,
    /// New provider (null clears).
    pub provider: MaybeUndefined<String>,
    /// New start.
    pub started_on: Option<Date>,
    /// New completion (null clears).
    pub completed_on: MaybeUndefined<Date>,
    /// New expected completion (null clears), as for `recordQualification`.
    pub expected_completion_on: MaybeUndefined<Date>,
}

fn bad(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::bad_input(field, m)
}

fn past_date(d: Date, field: &str) -> ApiResult<NaiveDate> {
    validation::past_date(d.0, today()).map_err(bad(field))
}

/// An expected award date: at most 3,650 days (ten years) from today; its order against the
/// start and the NASENCO window are checked with the stored course.
fn expected_date(d: Date, field: &str) -> ApiResult<NaiveDate> {
    let limit = today()
        .checked_add_days(chrono::Days::new(3650))
        .unwrap_or(NaiveDate::MAX);
    if d.0 > limit {
        return Err(ApiError::bad_input(
            field,
            "must be within ten years (3,650 days) from today",
        ));
    }
    Ok(d.0)
}

fn appointment_start(d: Date, field: &str) -> ApiResult<NaiveDate> {
    validation::appointment_date(d.0, today()).map_err(bad(field))
}

fn optional_text(v: Option<String>, max: usize, field: &str) -> ApiResult<Option<String>> {
    validation::optional_text(v, max).map_err(bad(field))
}

fn email(v: &str, field: &str) -> ApiResult<String> {
    validation::email(v).map_err(bad(field))
}

fn hours(v: Option<f64>, field: &str) -> ApiResult<Option<f64>> {
    v.map(|h| validation::hours_per_week(h).map(|_| h).map_err(bad(field)))
        .transpose()
}

fn fraction(v: Option<f64>, field: &str) -> ApiResult<Option<f64>> {
    v.map(|f| validation::fraction(f).map(|_| f).map_err(bad(field)))
        .transpose()
}

fn patch<T, U>(
    v: MaybeUndefined<T>,
    f: impl FnOnce(T) -> ApiResult<U>,
) -> ApiResult<Option<Option<U>>> {
    Ok(match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(x) => Some(Some(f(x)?)),
    })
}

/// SENCO queries.
#[derive(Default)]
pub struct SencosQuery;

/// SENCO queries.
#[Object]
impl SencosQuery {
    /// A person by id; null when none has it, `FORBIDDEN` unless they hold or held an
    /// appointment at a school the caller may read.
    async fn person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] id: ID,
    ) -> async_graphql::Result<Option<Person>> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&id, "id")?;
        Ok(sencos::person(&rc.db.conn, &rc.principal, id)
            .await?
            .map(Person))
    }

    /// The LA dashboard's list: appointments current on `asOf` at schools the caller may
    /// read, ordered by deadline (exempt last), then URN, then appointment id.
    async fn qualification_deadlines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Narrows the list; every field given must match.")] filter: Option<
            DeadlineFilter,
        >,
        #[graphql(desc = "The date to evaluate on; today in Europe/London when omitted.")]
        as_of: Option<Date>,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<QualificationDeadlineConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, |c| {
            let mut parts = c.strip_prefix("d:")?.split(':');
            let d = NaiveDate::parse_from_str(parts.next()?, "%Y-%m-%d").ok()?;
            let urn: i32 = parts.next()?.parse().ok()?;
            let id: i64 = parts.next()?.parse().ok()?;
            Some((d, urn, id))
        })?;
        let f = filter.unwrap_or_default();
        if let Some(urns) = &f.urns
            && urns.len() > 1000
        {
            return Err(ApiError::bad_input("filter.urns", "at most 1000 URNs").into());
        }
        let q = deadlines::DeadlineQuery {
            la_code: f.la_code.map(LaCode),
            trust_uid: f.trust_uid.map(TrustUid),
            urns: f.urns.map(|v| v.into_iter().map(Urn).collect()),
            appointment_ids: None,
            statuses: f.statuses.map(|v| v.into_iter().map(Into::into).collect()),
            projections: f
                .projections
                .map(|v| v.into_iter().map(Into::into).collect()),
            on_or_before: f.deadline_on_or_before.map(|d| d.0),
            on_or_after: f.deadline_on_or_after.map(|d| d.0),
            school_name_contains: name_filter(f.school_name_contains, "filter.schoolNameContains")?,
            current_only: true,
        };
        let as_of = as_of.map_or_else(today, |d| d.0);
        let status_counts = if ctx.look_ahead().field("statusCounts").exists() {
            service::sencos::status_counts(
                &rc.db,
                &rc.principal,
                rc.counters.as_ref(),
                q.clone(),
                as_of,
            )
            .await?
            .into_iter()
            .map(|(status, count)| StatusCount {
                status: status.into(),
                count,
            })
            .collect()
        } else {
            Vec::new()
        };
        let projection_counts = if ctx.look_ahead().field("projectionCounts").exists() {
            service::sencos::projection_counts(
                &rc.db,
                &rc.principal,
                rc.counters.as_ref(),
                q.clone(),
                as_of,
            )
            .await?
            .into_iter()
            .map(|(projection, count)| ProjectionCount {
                projection: projection.into(),
                count,
            })
            .collect()
        } else {
            Vec::new()
        };
        let paged = service::sencos::deadlines(
            &rc.db,
            &rc.principal,
            rc.counters.as_ref(),
            q,
            as_of,
            page.after,
            page.first,
        )
        .await?;
        let paged = (*paged).clone();
        let mut out: QualificationDeadlineConnection = connection(paged, has_prev, |d| {
            let (date, urn, id) = d.sort_key();
            (
                format!("d:{}:{urn}:{id}", date.format("%Y-%m-%d")),
                QualificationDeadline(d),
            )
        })
        .into();
        out.status_counts = status_counts;
        out.projection_counts = projection_counts;
        Ok(out)
    }
}

/// SENCO mutations: school writers for their school, LA and trust writers for theirs,
/// admin anywhere.
#[derive(Default)]
pub struct SencosMutation;

/// SENCO mutations: school writers for their school, LA and trust writers for theirs,
/// admin anywhere.
#[Object]
impl SencosMutation {
    /// Appoints a SENCO, linking an existing person by TRN.
    async fn appoint_senco(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment.")] input: AppointSencoInput,
    ) -> async_graphql::Result<SencoAppointment> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let trn = input
            .person
            .trn
            .as_deref()
            .map(|t| validation::trn(t).map_err(bad("input.person.trn")))
            .transpose()?;
        let full_name = validation::trimmed_name(&input.person.full_name, 200)
            .map_err(bad("input.person.fullName"))?;
        let email = input
            .person
            .email
            .as_deref()
            .map(|e| email(e, "input.person.email"))
            .transpose()?;
        let new = sencos::NewAppointment {
            school_urn: Urn(input.school_urn),
            person: sencos::NewPerson {
                trn,
                full_name,
                email,
                has_qts: input.person.has_qts,
                induction_status: input.person.induction_status.into(),
            },
            started_on: appointment_start(input.started_on, "input.startedOn")?,
            is_headteacher: input.is_headteacher.unwrap_or(false),
            works_as_teacher_at_school: input.works_as_teacher_at_school.unwrap_or(true),
            on_senior_leadership_team: input.on_senior_leadership_team.unwrap_or(false),
            non_contact_hours_per_week: hours(
                input.non_contact_hours_per_week,
                "input.nonContactHoursPerWeek",
            )?,
            class_teaching_fraction: fraction(
                input.class_teaching_fraction,
                "input.classTeachingFraction",
            )?,
        };
        Ok(SencoAppointment(
            service::sencos::appoint(&rc.db, &rc.principal, new)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Changes an appointment's details.
    async fn update_senco_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateSencoAppointmentInput,
    ) -> async_graphql::Result<SencoAppointment> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.appointment_id, "input.appointmentId")?;
        let p = sencos::AppointmentPatch {
            started_on: input
                .started_on
                .map(|d| appointment_start(d, "input.startedOn"))
                .transpose()?,
            is_headteacher: input.is_headteacher,
            works_as_teacher_at_school: input.works_as_teacher_at_school,
            on_senior_leadership_team: input.on_senior_leadership_team,
            non_contact_hours_per_week: patch(input.non_contact_hours_per_week, |h| {
                validation::hours_per_week(h)
                    .map(|_| h)
                    .map_err(bad("input.nonContactHoursPerWeek"))
            })?,
            class_teaching_fraction: patch(input.class_teaching_fraction, |f| {
                validation::fraction(f)
                    .map(|_| f)
                    .map_err(bad("input.classTeachingFraction"))
            })?,
        };
        Ok(SencoAppointment(
            service::sencos::update_appointment(&rc.db, &rc.principal, id, p)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Ends an appointment on its last day in post.
    async fn end_senco_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment and its last day.")] input: EndSencoAppointmentInput,
    ) -> async_graphql::Result<SencoAppointment> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.appointment_id, "input.appointmentId")?;
        let ended_on = appointment_start(input.ended_on, "input.endedOn")?;
        Ok(SencoAppointment(
            service::sencos::end_appointment(&rc.db, &rc.principal, id, ended_on)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Changes a person's details.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdatePersonInput,
    ) -> async_graphql::Result<Person> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.person_id, "input.personId")?;
        let p = sencos::PersonPatch {
            trn: patch(input.trn, |t| validation::trn(&t).map_err(bad("input.trn")))?,
            full_name: input
                .full_name
                .map(|n| validation::trimmed_name(&n, 200).map_err(bad("input.fullName")))
                .transpose()?,
            email: patch(input.email, |e| email(&e, "input.email"))?,
            has_qts: input.has_qts,
            induction_status: input.induction_status.map(Into::into),
        };
        Ok(Person(
            service::sencos::update_person(&rc.db, &rc.principal, id, p)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Records SENCO service outside this system.
    async fn add_prior_senco_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] input: AddPriorSencoServiceInput,
    ) -> async_graphql::Result<Person> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.person_id, "input.personId")?;
        let start = past_date(input.started_on, "input.startedOn")?;
        let end = past_date(input.ended_on, "input.endedOn")?;
        if end < start {
            return Err(
                ApiError::bad_input("input.endedOn", "must not be before startedOn").into(),
            );
        }
        let description = optional_text(input.description, 1000, "input.description")?;
        Ok(Person(
            service::sencos::add_prior_service(&rc.db, &rc.principal, id, start, end, description)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Records a SENCO qualification or course.
    async fn record_qualification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The qualification.")] input: RecordQualificationInput,
    ) -> async_graphql::Result<Qualification> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.person_id, "input.personId")?;
        let start = past_date(input.started_on, "input.startedOn")?;
        let completed = input
            .completed_on
            .map(|d| past_date(d, "input.completedOn"))
            .transpose()?;
        if completed.is_some_and(|c| c < start) {
            return Err(
                ApiError::bad_input("input.completedOn", "must not be before startedOn").into(),
            );
        }
        let provider = optional_text(input.provider, 200, "input.provider")?;
        let kind = input.kind.into();
        let new = sencos::NewQualification {
            person_id: id,
            kind,
            provider,
            started_on: start,
            completed_on: completed,
            expected_completion_on: input
                .expected_completion_on
                .map(|d| expected_date(d, "input.expectedCompletionOn"))
                .transpose()?,
        };
        Ok(Qualification(
            service::sencos::record_qualification(&rc.db, &rc.principal, new)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }

    /// Changes a qualification.
    async fn update_qualification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateQualificationInput,
    ) -> async_graphql::Result<Qualification> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&input.qualification_id, "input.qualificationId")?;
        let p = sencos::QualificationPatch {
            kind: input.kind.map(Into::into),
            // A blank provider clears it, as `recordQualification` stores none for blank.
            provider: match input.provider {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(t) => Some(optional_text(Some(t), 200, "input.provider")?),
            },
            started_on: input
                .started_on
                .map(|d| past_date(d, "input.startedOn"))
                .transpose()?,
            completed_on: patch(input.completed_on, |d| past_date(d, "input.completedOn"))?,
            expected_completion_on: patch(input.expected_completion_on, |d| {
                expected_date(d, "input.expectedCompletionOn")
            })?,
        };
        Ok(Qualification(
            service::sencos::update_qualification(&rc.db, &rc.principal, id, p)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }
}
