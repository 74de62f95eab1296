//! School and cluster compliance (SPEC 4.7 and 4.6): the issues of the schools a caller may
//! read, and their counts over the whole filtered set.

use chrono::NaiveDate;

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::compliance::{FoundIssue, Severity};
use crate::error::ApiResult;
use crate::store::schools::SchoolQuery;
use crate::store::{compliance, scope};

/// Which issues to list.
#[derive(Debug, Clone, Default)]
pub struct IssueQuery {
    /// The schools.
    pub schools: SchoolQuery,
    /// Only these severities.
    pub severities: Option<Vec<Severity>>,
    /// Only these codes.
    pub codes: Option<Vec<String>>,
}

/// Every issue of the schools the caller may read that `q` selects, as of `as_of`, in the
/// order of [`FoundIssue::sort_key`].
pub async fn issues(
    db: &Db,
    p: &Principal,
    q: &IssueQuery,
    as_of: NaiveDate,
    thresholds: &crate::domain::clusters::ClusterThresholds,
) -> ApiResult<Vec<FoundIssue>> {
    scope::require_authenticated(p)?;
    q.schools.check_covered(p)?;
    let cond = sea_orm::Condition::all()
        .add(scope::readable_schools(p)?)
        .add(q.schools.condition());
    compliance::issues(
        &db.conn,
        scope::Reached::through(p)?,
        cond,
        as_of,
        thresholds,
        q.severities.as_deref(),
        q.codes.as_deref(),
    )
    .await
}

/// How many of `issues` there are of each code, most severe first, then by code.
pub fn counts(issues: &[FoundIssue]) -> Vec<(&'static str, Severity, u64)> {
    let mut by: std::collections::BTreeMap<(u8, &'static str), (Severity, u64)> =
        std::collections::BTreeMap::new();
    for f in issues {
        let e = by
            .entry((f.issue.severity.rank(), f.issue.code))
            .or_insert((f.issue.severity, 0));
        e.1 += 1;
    }
    by.into_iter()
        .map(|((_, code), (severity, n))| (code, severity, n))
        .collect()
}
