//! Termly SENCO reports over GraphQL: submission, reading, history and summaries (SPEC 4.5).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::termly_report;

use crate::domain::money;
use crate::domain::school::Urn;
use crate::domain::terms::AcademicTerm;
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::graphql::schools::{School, SchoolFilter};
use crate::graphql::{Date, DateTime, Money, loaders, rc, today};
use crate::service;
use crate::store::{reports, scope};

/// A school term.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::terms::Term")]
pub enum Term {
    /// 1 September to 31 December of the academic year's first calendar year.
    Autumn,
    /// 1 January to 31 March of the following calendar year.
    Spring,
    /// 1 April to 31 August of the following calendar year.
    Summer,
}

fn pounds(pence: i64) -> Money {
    Money::of(money::Money::from_pence(pence))
}

/// A SENCO's termly report to governors, one version of it.
pub struct TermlyReport(pub termly_report::Model);

impl TermlyReport {
    fn budget(&self) -> money::Budget {
        reports::budget_of(&self.0)
    }
    fn academic_term(&self) -> AcademicTerm {
        reports::term_of(&self.0)
    }
}

/// A SENCO's termly report to governors, one version of it.
#[Object]
impl TermlyReport {
    /// The id of this version.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The school.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<School> {
        let l = super::loaders(ctx)?;
        Ok(School(
            loaders::one(&l.schools, self.0.school_urn)
                .await?
                .ok_or_else(|| ApiError::internal("report without school"))?,
        ))
    }
    /// The calendar year in which the academic year starts (2025 means 2025/26).
    async fn academic_year(&self) -> i32 {
        self.0.academic_year
    }
    /// The term.
    async fn term(&self) -> Term {
        self.academic_term().term.into()
    }
    /// The version: 1 for the first submission, one more for each amendment.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When this version was stored.
    async fn submitted_at(&self) -> DateTime {
        DateTime(self.0.submitted_at)
    }
    /// The `sub` of the token that submitted this version.
    async fn submitted_by(&self) -> &str {
        &self.0.submitted_by
    }
    /// When the report is due: 14 days after the term ends.
    async fn due_on(&self) -> Date {
        Date(self.academic_term().due_on())
    }
    /// Pupils on roll.
    async fn number_on_roll(&self) -> i32 {
        self.0.number_on_roll
    }
    /// Pupils with special educational needs or disabilities.
    async fn pupils_with_send(&self) -> i32 {
        self.0.pupils_with_send
    }
    /// Pupils on SEN support (census code K).
    async fn sen_support(&self) -> i32 {
        self.0.sen_support
    }
    /// Pupils with an education, health and care plan (census code E).
    async fn ehcp(&self) -> i32 {
        self.0.ehcp
    }
    /// EHC plan applications in process.
    async fn ehcp_applications_in_process(&self) -> i32 {
        self.0.ehcp_applications_in_process
    }
    /// Budget line E1.
    async fn budget_e1(&self) -> Money {
        pounds(self.0.budget_e1_pence)
    }
    /// Budget line E2.
    async fn budget_e2(&self) -> Money {
        pounds(self.0.budget_e2_pence)
    }
    /// Budget line E3.
    async fn budget_e3(&self) -> Money {
        pounds(self.0.budget_e3_pence)
    }
    /// Additional budget.
    async fn budget_additional(&self) -> Money {
        pounds(self.0.budget_additional_pence)
    }
    /// Spent so far this year.
    async fn expenditure_to_date(&self) -> Money {
        pounds(self.0.expenditure_to_date_pence)
    }
    /// The SENCO's non-contact hours a week.
    async fn non_contact_hours_per_week(&self) -> f64 {
        self.0.non_contact_hours_per_week
    }
    /// Date of the SEN policy; null when not given.
    async fn sen_policy_date(&self) -> Option<Date> {
        self.0.sen_policy_date.map(Date)
    }
    /// Date of the last provision review; null when not given.
    async fn provision_review_date(&self) -> Option<Date> {
        self.0.provision_review_date.map(Date)
    }
    /// When the SEN information report was last published; null when not given.
    async fn sen_information_report_published_on(&self) -> Option<Date> {
        self.0.sen_information_report_published_on.map(Date)
    }
    /// Challenges; null when not given.
    async fn challenges(&self) -> Option<&str> {
        self.0.challenges.as_deref()
    }
    /// Ongoing concerns; null when not given.
    async fn ongoing_concerns(&self) -> Option<&str> {
        self.0.ongoing_concerns.as_deref()
    }
    /// Training undertaken; null when not given.
    async fn training_undertaken(&self) -> Option<&str> {
        self.0.training_undertaken.as_deref()
    }
    /// E1 + E2 + E3 + additional.
    async fn budget_total(&self) -> Money {
        pounds(self.budget().total())
    }
    /// Budget total less expenditure; negative when overspent.
    async fn budget_remaining(&self) -> Money {
        pounds(self.budget().remaining())
    }
    /// Whether expenditure exceeds the budget total.
    async fn overspent(&self) -> bool {
        self.budget().overspent()
    }
    /// The governing body's sign-offs of this term's report, any version, newest first;
    /// each says which version it binds and whether that is still the latest.
    async fn sign_offs(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::graphql::governance::SignOff>> {
        Ok(crate::graphql::governance::report_sign_offs(
            ctx,
            self.0.school_urn,
            self.academic_term(),
        )
        .await?)
    }
    /// Every version of this report, oldest first (this one included).
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TermlyReport>> {
        let l = super::loaders(ctx)?;
        Ok(loaders::one(
            &l.report_history,
            (self.0.school_urn, self.0.academic_year, self.0.term.clone()),
        )
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(TermlyReport)
        .collect())
    }
}

/// Totals over the latest version of each school's report for one term.
#[derive(SimpleObject)]
pub struct TermlyTotals {
    /// Reports counted.
    reports: i64,
    /// Pupils on roll at the schools that reported.
    number_on_roll: i64,
    /// Pupils with SEND.
    pupils_with_send: i64,
    /// Pupils on SEN support (K).
    sen_support: i64,
    /// Pupils with an EHC plan (E).
    ehcp: i64,
    /// EHC plan applications in process.
    ehcp_applications_in_process: i64,
    /// SEN support as a percentage of pupils on roll at the schools that reported; null when
    /// none reported.
    sen_support_percent: Option<f64>,
    /// EHC plans as a percentage of pupils on roll at the schools that reported; null when
    /// none reported.
    ehcp_percent: Option<f64>,
    /// Sum of budget totals.
    budget_total: Money,
    /// Sum of expenditure to date.
    expenditure_to_date: Money,
    /// Budget total less expenditure.
    budget_remaining: Money,
    /// Schools whose report is overspent.
    overspent_schools: i64,
}

impl From<reports::Totals> for TermlyTotals {
    fn from(t: reports::Totals) -> Self {
        let pct = |n: i64| {
            (t.reports > 0 && t.number_on_roll > 0)
                .then(|| n as f64 * 100.0 / t.number_on_roll as f64)
        };
        Self {
            reports: t.reports,
            number_on_roll: t.number_on_roll,
            pupils_with_send: t.pupils_with_send,
            sen_support: t.sen_support,
            ehcp: t.ehcp,
            ehcp_applications_in_process: t.ehcp_applications_in_process,
            sen_support_percent: pct(t.sen_support),
            ehcp_percent: pct(t.ehcp),
            budget_total: pounds(t.budget_total_pence),
            expenditure_to_date: pounds(t.expenditure_pence),
            budget_remaining: pounds(t.budget_total_pence - t.expenditure_pence),
            overspent_schools: t.overspent_schools,
        }
    }
}

/// A term's reports across the schools in scope, with the term before and the same term a
/// year before for the same scope.
pub struct TermlySummary(reports::Summary);

/// A term's reports across the schools in scope, with the term before and the same term a
/// year before for the same scope.
#[Object]
impl TermlySummary {
    /// The academic year.
    async fn academic_year(&self) -> i32 {
        self.0.term.academic_year
    }
    /// The term.
    async fn term(&self) -> Term {
        self.0.term.term.into()
    }
    /// Schools in scope: readable by the caller, matching the filter, open when the term began.
    async fn schools_in_scope(&self) -> i64 {
        self.0.schools_in_scope
    }
    /// Schools in scope that have submitted a report for the term.
    async fn reports_submitted(&self) -> i64 {
        self.0.totals.reports
    }
    /// Schools in scope with no report for the term, by URN.
    async fn missing_reports(&self) -> Vec<School> {
        self.0.missing.iter().cloned().map(School).collect()
    }
    /// Totals for the term.
    async fn totals(&self) -> TermlyTotals {
        self.0.totals.clone().into()
    }
    /// Totals for the term before, over the same schools.
    async fn previous_term(&self) -> TermlyTotals {
        self.0.previous_term.clone().into()
    }
    /// Totals for the same term a year before, over the same schools.
    async fn same_term_last_year(&self) -> TermlyTotals {
        self.0.same_term_last_year.clone().into()
    }
}

/// A termly report submission. Only `school:{urn}:write` may submit.
#[derive(InputObject)]
pub struct SubmitTermlyReportInput {
    /// The school.
    pub school_urn: i32,
    /// The calendar year in which the academic year starts (2009 to next year).
    pub academic_year: i32,
    /// The term.
    pub term: Term,
    /// For an amendment, the current version; omit for the first submission.
    pub expected_version: Option<i32>,
    /// Makes retries safe: the same key with the same content returns the version it
    /// created; with other content it is `CONFLICT`.
    pub idempotency_key: Option<String>,
    /// Pupils on roll (whole number, 0 or more).
    pub number_on_roll: i32,
    /// Pupils with SEND (at least senSupport + ehcp, at most numberOnRoll).
    pub pupils_with_send: i32,
    /// Pupils on SEN support (K).
    pub sen_support: i32,
    /// Pupils with an EHC plan (E).
    pub ehcp: i32,
    /// EHC plan applications in process.
    pub ehcp_applications_in_process: i32,
    /// Budget line E1.
    pub budget_e1: Money,
    /// Budget line E2.
    pub budget_e2: Money,
    /// Budget line E3.
    pub budget_e3: Money,
    /// Additional budget.
    pub budget_additional: Money,
    /// Spent so far this year.
    pub expenditure_to_date: Money,
    /// The SENCO's non-contact hours a week (0 to 60).
    pub non_contact_hours_per_week: f64,
    /// Date of the SEN policy (not after today).
    pub sen_policy_date: Option<Date>,
    /// Date of the last provision review (not after today).
    pub provision_review_date: Option<Date>,
    /// When the SEN information report was last published (not after today).
    pub sen_information_report_published_on: Option<Date>,
    /// Challenges (at most 10,000 characters).
    pub challenges: Option<String>,
    /// Ongoing concerns (at most 10,000 characters).
    pub ongoing_concerns: Option<String>,
    /// Training undertaken (at most 10,000 characters).
    pub training_undertaken: Option<String>,
}

fn bad(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |m| ApiError::bad_input(field, m)
}

fn count(v: i32, field: &str) -> ApiResult<i32> {
    validation::count(v).map_err(bad(field))
}

fn text(v: Option<String>, field: &str) -> ApiResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(t) => {
            validation::free_text(&t, 10_000).map_err(bad(field))?;
            Ok(Some(t))
        }
    }
}

fn not_future(d: Option<Date>, field: &str) -> ApiResult<Option<chrono::NaiveDate>> {
    d.map(|d| validation::report_date(d.0, today()).map_err(bad(field)))
        .transpose()
}

fn academic_year(v: i32, field: &str) -> ApiResult<i32> {
    validation::academic_year(v, today()).map_err(bad(field))
}

fn validate(input: SubmitTermlyReportInput) -> ApiResult<reports::Submission> {
    let year = academic_year(input.academic_year, "input.academicYear")?;
    // Name the year when the whole academic year is still to come, else the term.
    let year_begun =
        AcademicTerm::new(year, crate::domain::terms::Term::Autumn).starts_on() <= today();
    validation::term_has_begun(AcademicTerm::new(year, input.term.into()), today()).map_err(
        bad(if year_begun {
            "input.term"
        } else {
            "input.academicYear"
        }),
    )?;
    let nor = count(input.number_on_roll, "input.numberOnRoll")?;
    let send = count(input.pupils_with_send, "input.pupilsWithSend")?;
    let k = count(input.sen_support, "input.senSupport")?;
    let e = count(input.ehcp, "input.ehcp")?;
    let apps = count(
        input.ehcp_applications_in_process,
        "input.ehcpApplicationsInProcess",
    )?;
    validation::pupil_counts(nor, send, k, e).map_err(bad("input.pupilsWithSend"))?;
    let hours = input.non_contact_hours_per_week;
    validation::hours_per_week(hours).map_err(bad("input.nonContactHoursPerWeek"))?;
    if let Some(key) = &input.idempotency_key {
        validation::idempotency_key(key).map_err(bad("input.idempotencyKey"))?;
    }
    if let Some(v) = input.expected_version {
        validation::expected_version(v).map_err(bad("input.expectedVersion"))?;
    }
    Ok(reports::Submission {
        school_urn: Urn(input.school_urn),
        term: AcademicTerm::new(year, input.term.into()),
        expected_version: input.expected_version,
        idempotency_key: input.idempotency_key,
        figures: reports::Figures {
            number_on_roll: nor,
            pupils_with_send: send,
            sen_support: k,
            ehcp: e,
            ehcp_applications_in_process: apps,
            budget_e1_pence: input.budget_e1.amount("input.budgetE1")?.pence(),
            budget_e2_pence: input.budget_e2.amount("input.budgetE2")?.pence(),
            budget_e3_pence: input.budget_e3.amount("input.budgetE3")?.pence(),
            budget_additional_pence: input
                .budget_additional
                .amount("input.budgetAdditional")?
                .pence(),
            expenditure_to_date_pence: input
                .expenditure_to_date
                .amount("input.expenditureToDate")?
                .pence(),
            non_contact_hours_per_week: hours,
            sen_policy_date: not_future(input.sen_policy_date, "input.senPolicyDate")?,
            provision_review_date: not_future(
                input.provision_review_date,
                "input.provisionReviewDate",
            )?,
            sen_information_report_published_on: not_future(
                input.sen_information_report_published_on,
                "input.senInformationReportPublishedOn",
            )?,
            challenges: text(input.challenges, "input.challenges")?,
            ongoing_concerns: text(input.ongoing_concerns, "input.ongoingConcerns")?,
            training_undertaken: text(input.training_undertaken, "input.trainingUndertaken")?,
        },
    })
}

/// Report queries.
#[derive(Default)]
pub struct ReportsQuery;

/// Report queries.
#[Object]
impl ReportsQuery {
    /// The latest version of a school's report for a term; null when none was submitted
    /// (or no school has the URN), `FORBIDDEN` when the caller may not read the school.
    async fn termly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The school.")] school_urn: i32,
        #[graphql(desc = "The calendar year in which the academic year starts.")]
        academic_year: i32,
        #[graphql(desc = "The term.")] term: Term,
    ) -> async_graphql::Result<Option<TermlyReport>> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let t = AcademicTerm::new(academic_year, term.into());
        Ok(
            reports::latest(&rc.db.conn, &rc.principal, Urn(school_urn), t)
                .await?
                .map(TermlyReport),
        )
    }

    /// Totals over the latest version of each report for a term, across the schools the
    /// caller may read that match the filter; a filter naming an LA or trust the caller
    /// cannot read in full is `FORBIDDEN`.
    async fn termly_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The calendar year in which the academic year starts.")]
        academic_year: i32,
        #[graphql(desc = "The term.")] term: Term,
        #[graphql(desc = "Narrows the schools in scope.")] filter: Option<SchoolFilter>,
    ) -> async_graphql::Result<TermlySummary> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let year = self::academic_year(academic_year, "academicYear")?;
        let filter = filter.unwrap_or_default().into_query("filter")?;
        let t = AcademicTerm::new(year, term.into());
        let summary =
            service::reports::summary(&rc.db, &rc.principal, rc.counters.as_ref(), t, filter)
                .await?;
        Ok(TermlySummary((*summary).clone()))
    }
}

/// Report mutations.
#[derive(Default)]
pub struct ReportsMutation;

/// Report mutations.
#[Object]
impl ReportsMutation {
    /// Submits (or amends) a school's termly report. Every submission is kept as a new
    /// version; an amendment must name the current version in `expectedVersion`.
    async fn submit_termly_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: SubmitTermlyReportInput,
    ) -> async_graphql::Result<TermlyReport> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let submission = validate(input)?;
        Ok(TermlyReport(
            service::reports::submit(&rc.db, &rc.principal, submission)
                .await
                .map_err(|e| e.within("input"))?,
        ))
    }
}
