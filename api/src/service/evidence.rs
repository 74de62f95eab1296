//! Evidence checks (SPEC 4.9): recording one, and the list of SENCOs due a DfE teacher
//! record check. A check can clear `SENCO_EVIDENCE_NOT_CHECKED`, so recording one moves the
//! `staff` counter like any other change to a person's SENCO records.

use chrono::NaiveDate;
use entity::evidence_check;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::store::evidence::{self, NewEvidenceCheck};
use crate::store::schools::SchoolQuery;
use crate::store::scope;

/// Records a check of a person's QTS, induction or award.
pub async fn record(
    db: &Db,
    p: &Principal,
    input: NewEvidenceCheck,
) -> ApiResult<evidence_check::Model> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "recordEvidenceCheck",
        Touched::Staff,
        async |txn, log| evidence::record(txn, p, log, input).await,
    )
    .await
}

/// Page `page` (from 1) of the TRNs of the current SENCOs the filter selects who are due a
/// DfE teacher record check on `today`, read in one snapshot.
pub async fn due_dfe_check(
    db: &Db,
    p: &Principal,
    q: &SchoolQuery,
    today: NaiveDate,
    page: u32,
) -> ApiResult<Vec<String>> {
    scope::require_authenticated(p)?;
    q.check_covered(p)?;
    let txn = Db::begin_read(&db.conn).await?;
    let out = evidence::due_dfe_check(&txn, p, q, today, page).await?;
    txn.commit().await?;
    Ok(out)
}
