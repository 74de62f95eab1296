//! Shared-SENCO clusters (SPEC 4.6): their writes, which no cached answer reads but whole
//! responses do.

use chrono::NaiveDate;
use entity::cluster;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::store::clusters::{self, ClusterPatch, NewCluster};
use crate::store::scope;

/// Records a shared-SENCO arrangement.
pub async fn create(
    db: &Db,
    p: &Principal,
    input: NewCluster,
    today: NaiveDate,
) -> ApiResult<cluster::Model> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "createCluster",
        Touched::Clusters,
        async |txn, log| clusters::create(txn, p, log, input, today).await,
    )
    .await
}

/// Changes a cluster's details or members.
pub async fn update(
    db: &Db,
    p: &Principal,
    id: i64,
    patch: ClusterPatch,
    today: NaiveDate,
) -> ApiResult<cluster::Model> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "updateCluster",
        Touched::Clusters,
        async |txn, log| clusters::update(txn, p, log, id, patch, today).await,
    )
    .await
}

/// Records that the arrangement was reviewed.
pub async fn record_review(
    db: &Db,
    p: &Principal,
    id: i64,
    reviewed_on: NaiveDate,
    today: NaiveDate,
) -> ApiResult<cluster::Model> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "recordClusterReview",
        Touched::Clusters,
        async |txn, log| clusters::record_review(txn, p, log, id, reviewed_on, today).await,
    )
    .await
}
