//! Termly reports (SPEC 4.5): submission and the termly summary.

use std::sync::Arc;

use entity::termly_report;

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::events::EventType;
use crate::domain::money::Money;
use crate::domain::terms::{AcademicTerm, Term};
use crate::error::ApiResult;
use crate::freshness::{self, Counters, Depends, Touched};
use crate::store::reports::{self, Submission, Summary};
use crate::store::schools::SchoolQuery;
use crate::store::scope;

/// Submits (or amends) a school's termly report; a retry under the same idempotency key
/// returns the version stored the first time and changes nothing.
pub async fn submit(db: &Db, p: &Principal, s: Submission) -> ApiResult<termly_report::Model> {
    scope::require_authenticated(p)?;
    let touched = Touched::Report {
        school_urn: s.school_urn.get(),
    };
    super::write(db, p, "submitTermlyReport", touched, async |txn, log| {
        let r = reports::submit(txn, p, log, s).await?;
        // A retry under the same idempotency key changed nothing, and announces nothing.
        if !log.is_empty() {
            log.raise(
                EventType::TermlyReportSubmitted,
                Some(r.school_urn),
                submitted(&r),
            );
        }
        Ok(r)
    })
    .await
}

/// What `TERMLY_REPORT_SUBMITTED` carries: the report's key, version and figures (no
/// free text, and not who submitted it: a token's `sub` may be a person's e-mail).
fn submitted(r: &termly_report::Model) -> serde_json::Value {
    let term = Term::parse(&r.term).map(|t| AcademicTerm::new(r.academic_year, t));
    let money = |pence: i64| Money::from_pence(pence).to_string();
    let budget =
        r.budget_e1_pence + r.budget_e2_pence + r.budget_e3_pence + r.budget_additional_pence;
    serde_json::json!({
        "reportId": r.id.to_string(),
        "academicYear": r.academic_year,
        "term": r.term,
        "version": r.version,
        "dueOn": term.map(AcademicTerm::due_on),
        "numberOnRoll": r.number_on_roll,
        "pupilsWithSend": r.pupils_with_send,
        "senSupport": r.sen_support,
        "ehcp": r.ehcp,
        "ehcpApplicationsInProcess": r.ehcp_applications_in_process,
        "budgetTotal": money(budget),
        "expenditureToDate": money(r.expenditure_to_date_pence),
        "overspent": r.expenditure_to_date_pence > budget,
        "nonContactHoursPerWeek": r.non_contact_hours_per_week,
    })
}

/// The summary of one term over the schools the caller may read that `filter` selects,
/// kept while no report, staff or reference data changes; `seen` as for
/// [`super::sencos::deadlines`].
pub async fn summary(
    db: &Db,
    p: &Principal,
    seen: Option<&Counters>,
    term: AcademicTerm,
    filter: SchoolQuery,
) -> ApiResult<Arc<Summary>> {
    scope::require_authenticated(p)?;
    filter.check_covered(p)?;
    freshness::cached(
        &db.conn,
        &db.cache,
        p,
        seen,
        Depends::StaffAndReports,
        format!("summary|{term:?}|{filter:?}"),
        async |txn| reports::summary(txn, p, term, &filter).await,
    )
    .await
}
