//! Reference data (SPEC 4.1): LAs, trusts and schools, written by administrators. A
//! school's kind decides whether the duty applies to its SENCOs, so a school change keeps
//! the duty facts of everyone appointed there.

use entity::{local_authority, school, trust};

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::store::{duty, schools, scope};

/// Creates or renames an LA.
pub async fn upsert_local_authority(
    db: &Db,
    p: &Principal,
    input: local_authority::Model,
) -> ApiResult<local_authority::Model> {
    scope::require_admin(p)?;
    super::write(
        db,
        p,
        "upsertLocalAuthority",
        Touched::Staff,
        async |txn, log| schools::upsert_local_authority(txn, p, log, input).await,
    )
    .await
}

/// Creates or renames a trust.
pub async fn upsert_trust(db: &Db, p: &Principal, input: trust::Model) -> ApiResult<trust::Model> {
    scope::require_admin(p)?;
    super::write(db, p, "upsertTrust", Touched::Staff, async |txn, log| {
        schools::upsert_trust(txn, p, log, input).await
    })
    .await
}

/// Creates or replaces a school.
pub async fn upsert_school(
    db: &Db,
    p: &Principal,
    input: school::Model,
) -> ApiResult<school::Model> {
    scope::require_admin(p)?;
    super::write(db, p, "upsertSchool", Touched::Staff, async |txn, log| {
        let out = schools::upsert_school(txn, p, log, input).await?;
        let people = duty::people_at_schools(txn, &[out.urn]).await?;
        duty::refresh_people(txn, &people).await?;
        Ok(out)
    })
    .await
}

/// Rebuilds every derived fact from the base tables (`senco-oversight recompute`); returns
/// how many appointments there are. `progress` is told the people done and the total.
pub async fn recompute(db: &Db, progress: impl FnMut(usize, usize)) -> ApiResult<usize> {
    let w = db.begin_write().await?;
    let n = duty::recompute_all(w.txn(), progress).await?;
    w.commit(Touched::Staff).await?;
    Ok(n)
}

/// The URNs of the schools the caller may read that `q` selects (a subscription's filter,
/// resolved once when it begins).
pub async fn urns_matching(
    db: &Db,
    p: &Principal,
    q: &schools::SchoolQuery,
) -> ApiResult<Vec<i32>> {
    schools::readable_urns_matching(&db.conn, p, q).await
}
