//! Termly reports (SPEC 4.5): submission and the termly summary.

use std::sync::Arc;

use entity::termly_report;

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::terms::AcademicTerm;
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
        reports::submit(txn, p, log, s).await
    })
    .await
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
