//! The NPQ for SENCOs cohort calendar (SPEC 4.8): read by anyone signed in, written by
//! administrators. Every projection reads the calendar, so a change moves the `staff`
//! counter, which every cached deadline and compliance answer depends on: the next read
//! projects with the new calendar, without a restart.

use chrono::NaiveDate;

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::projection::{NpqCohort, check_cohort};
use crate::error::{ApiError, ApiResult};
use crate::freshness::Touched;
use crate::store::{npq, scope};

/// The calendar, earliest start first.
pub async fn calendar(db: &Db, p: &Principal) -> ApiResult<Vec<NpqCohort>> {
    scope::require_authenticated(p)?;
    npq::calendar(&db.conn).await
}

/// Creates or replaces the cohort starting on `c.starts_on` (admin).
pub async fn upsert(db: &Db, p: &Principal, c: NpqCohort) -> ApiResult<NpqCohort> {
    scope::require_admin(p)?;
    check_cohort(&c).map_err(|(field, m)| ApiError::bad_input(field, m))?;
    super::write(
        db,
        p,
        "upsertNpqCohort",
        Touched::Staff,
        async |txn, log| npq::upsert(txn, p, log, c).await,
    )
    .await
}

/// Deletes the cohort starting on `starts_on` (admin); whether there was one.
pub async fn delete(db: &Db, p: &Principal, starts_on: NaiveDate) -> ApiResult<bool> {
    scope::require_admin(p)?;
    super::write(
        db,
        p,
        "deleteNpqCohort",
        Touched::Staff,
        async |txn, log| npq::delete(txn, p, log, starts_on).await,
    )
    .await
}
