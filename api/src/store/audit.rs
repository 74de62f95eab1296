//! The audit log: every change made through a mutation, written in the same transaction.

use chrono::Utc;
use entity::audit_event;
use sea_orm::ColumnTrait;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::store::{Page, Paged, scope};

/// One change to record.
pub struct Change<'a, B: Serialize, A: Serialize> {
    /// The mutation, e.g. `appointSenco`.
    pub operation: &'a str,
    /// The school the row belongs to, when it belongs to one.
    pub school_urn: Option<i32>,
    /// The table.
    pub entity: &'a str,
    /// The row's key.
    pub row_id: String,
    /// The row before (None for an insert).
    pub before: Option<&'a B>,
    /// The row after (None for a delete).
    pub after: Option<&'a A>,
}

fn json<T: Serialize>(v: Option<&T>) -> ApiResult<Option<String>> {
    v.map(|v| serde_json::to_string(v).map_err(ApiError::internal))
        .transpose()
}

/// Writes one audit row; call it inside the transaction that makes the change.
pub async fn record<C: ConnectionTrait, B: Serialize, A: Serialize>(
    db: &C,
    p: &Principal,
    change: Change<'_, B, A>,
) -> ApiResult<()> {
    audit_event::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor: Set(p.sub.clone().unwrap_or_default()),
        operation: Set(change.operation.to_string()),
        school_urn: Set(change.school_urn),
        entity: Set(change.entity.to_string()),
        row_id: Set(change.row_id),
        before: Set(json(change.before)?),
        after: Set(json(change.after)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The audit events of one school, newest first, for callers who may read it.
pub async fn for_school<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    urn: i32,
    page: Page<i64>,
) -> ApiResult<Paged<audit_event::Model>> {
    let school = crate::store::scope::require_school(db, urn, "schoolUrn").await?;
    scope::check_read(p, &school)?;
    let base = audit_event::Entity::find().filter(audit_event::Column::SchoolUrn.eq(urn));
    let total = sea_orm::PaginatorTrait::count(base.clone(), db).await?;
    let mut q = base.order_by_desc(audit_event::Column::Id);
    if let Some(after) = page.after {
        q = q.filter(audit_event::Column::Id.lt(after));
    }
    let rows = q.limit(page.first + 1).all(db).await?;
    Ok(Paged::from_overfetch(rows, page.first, total))
}
