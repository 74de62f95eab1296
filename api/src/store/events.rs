//! The outbox (SPEC 4.11): events written in the transaction of the change they announce,
//! each with a delivery row for every webhook that asked for its kind and whose creator's
//! stored scopes can read its school. Whether the school is still readable, and matches the
//! webhook's filter, is decided again at every delivery (`store::webhooks::in_scope`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{event, school, webhook, webhook_delivery};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};

use crate::domain::events::{DeliveryStatus, EventType};
use crate::error::{ApiError, ApiResult};
use crate::store::audit::NewEvent;
use crate::store::scope;
use crate::store::webhooks;

/// The PostgreSQL channel on which committed event ids are announced to every replica.
pub const CHANNEL: &str = "senco_events";

/// A stored event with the school it concerns, as read back for delivery and live updates.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The row.
    pub event: event::Model,
    /// Its school, when it has one that still exists.
    pub school: Option<school::Model>,
}

impl StoredEvent {
    /// The event's kind.
    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event.kind)
    }

    /// The event's data as JSON.
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.event.data).unwrap_or(serde_json::Value::Null)
    }

    /// The body a webhook receives: the event as JSON, in the shape the Standard Webhooks
    /// specification suggests (`type`, `timestamp`, `data`) with the product's own fields.
    pub fn payload(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.event.id.to_string(),
            "type": self.event.kind,
            "timestamp": rfc3339(self.event.occurred_at),
            "occurredAt": rfc3339(self.event.occurred_at),
            "schoolUrn": self.event.school_urn,
            "data": self.data(),
        })
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What [`insert`] stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Raised {
    /// The ids of the events stored.
    pub ids: Vec<i64>,
    /// How many webhook deliveries they made.
    pub deliveries: usize,
}

impl Raised {
    /// The notification payload: the ids, and `;d` when deliveries were made.
    pub fn payload(ids: &[i64], deliveries: bool) -> String {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let mut p = ids.join(",");
        if deliveries {
            p.push_str(";d");
        }
        p
    }

    /// The ids of a notification payload, and whether it announced deliveries.
    pub fn parse(payload: &str) -> (Vec<i64>, bool) {
        let (ids, flag) = payload.split_once(';').unwrap_or((payload, ""));
        (
            ids.split(',').filter_map(|id| id.parse().ok()).collect(),
            flag == "d",
        )
    }
}

/// Writes `events` to the outbox with their deliveries, inside the caller's transaction, and
/// says what it stored (an event whose `dedup_key` is stored already is not stored again).
/// On PostgreSQL the ids are also announced on [`CHANNEL`], which the database delivers to
/// the listening replicas only when the transaction commits.
/// `known` holds schools the caller read in the same transaction, which are not read again.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    events: Vec<NewEvent>,
    known: HashMap<i32, school::Model>,
) -> ApiResult<Raised> {
    if events.is_empty() {
        return Ok(Raised::default());
    }
    let now = Utc::now();
    let mut urns: Vec<i32> = events
        .iter()
        .filter_map(|e| e.school_urn)
        .filter(|u| !known.contains_key(u))
        .collect();
    urns.sort_unstable();
    urns.dedup();
    let mut schools = known;
    if !urns.is_empty() {
        for s in school::Entity::find()
            .filter(school::Column::Urn.is_in(urns))
            .all(db)
            .await?
        {
            schools.insert(s.urn, s);
        }
    }
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::Active.eq(true))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?;
    let hooks: Vec<(webhook::Model, crate::auth::Principal)> = hooks
        .into_iter()
        .map(|h| {
            let p = webhooks::creator(&h);
            (h, p)
        })
        .collect();
    let mut stored = Vec::with_capacity(events.len());
    let mut deliveries = Vec::new();
    for e in events {
        let data = serde_json::to_string(&e.data).map_err(ApiError::internal)?;
        let insert = Query::insert()
            .into_table(event::Entity)
            .columns([
                event::Column::Kind,
                event::Column::OccurredAt,
                event::Column::SchoolUrn,
                event::Column::Data,
                event::Column::DedupKey,
            ])
            .values_panic([
                e.kind.as_str().into(),
                now.into(),
                e.school_urn.into(),
                data.into(),
                e.dedup_key.clone().into(),
            ])
            .on_conflict(
                OnConflict::column(event::Column::DedupKey)
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(event::Column::Id)
            .to_owned();
        let Some(row) = db.query_one(&insert).await? else {
            continue;
        };
        let id: i64 = row.try_get("", "id")?;
        stored.push(id);
        metrics::counter!("senco_events_raised_total", "type" => e.kind.as_str()).increment(1);
        let school = e.school_urn.and_then(|u| schools.get(&u));
        for (h, creator) in &hooks {
            let readable = match school {
                Some(s) => scope::can_read(creator, s),
                None => creator.admin,
            };
            if readable && webhooks::wants(h, e.kind) {
                deliveries.push(webhook_delivery::ActiveModel {
                    webhook_id: Set(h.id),
                    event_id: Set(id),
                    status: Set(DeliveryStatus::Pending.as_str().into()),
                    attempts: Set(0),
                    created_at: Set(now),
                    next_attempt_at: Set(now),
                    locked_until: Set(None),
                    last_attempt_at: Set(None),
                    delivered_at: Set(None),
                    last_status_code: Set(None),
                    last_error: Set(None),
                    ..Default::default()
                });
            }
        }
    }
    for chunk in deliveries.chunks(500) {
        webhook_delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    if !stored.is_empty() && db.get_database_backend() == DbBackend::Postgres {
        // A NOTIFY payload is limited to 8000 bytes: large batches go in several.
        for chunk in stored.chunks(500) {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [
                    CHANNEL.into(),
                    Raised::payload(chunk, !deliveries.is_empty()).into(),
                ],
            ))
            .await?;
        }
    }
    Ok(Raised {
        ids: stored,
        deliveries: deliveries.len(),
    })
}

/// The events with these ids, with their schools, in id order.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> ApiResult<Vec<StoredEvent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = event::Entity::find()
        .filter(event::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?;
    let urns: Vec<i32> = rows.iter().filter_map(|e| e.school_urn).collect();
    let schools: HashMap<i32, school::Model> = if urns.is_empty() {
        HashMap::new()
    } else {
        school::Entity::find()
            .filter(school::Column::Urn.is_in(urns))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.urn, s))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|event| {
            let school = event.school_urn.and_then(|u| schools.get(&u).cloned());
            StoredEvent { event, school }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::Raised;

    #[test]
    fn a_notification_carries_the_ids_and_whether_deliveries_were_made() {
        assert_eq!(
            Raised::parse(&Raised::payload(&[3, 4], true)),
            (vec![3, 4], true)
        );
        assert_eq!(
            Raised::parse(&Raised::payload(&[5], false)),
            (vec![5], false)
        );
        assert_eq!(Raised::parse("x,7"), (vec![7], false));
    }
}

/// What [`prune`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Deliveries settled (delivered or failed) before the cut-off.
    pub deliveries: u64,
    /// Change events before the cut-off with no delivery left.
    pub events: u64,
}

/// Rows removed by one statement of [`prune_batch`], so that no statement holds the write
/// lock for long.
pub const PRUNE_BATCH: u64 = 5_000;

/// Removes up to [`PRUNE_BATCH`] of each of what is older than `before` and settled:
/// deliveries `DELIVERED` or `FAILED` created before it, then change events that occurred
/// before it and have no delivery left. A delivery still pending or retrying is kept, and so
/// is its event. Reminder events are kept whatever their age: they are the record that each
/// reminder was raised once per subject and occasion (the unique `dedup_key`), one row per
/// occasion. Call it until it removes nothing.
pub async fn prune_batch<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> ApiResult<Pruned> {
    let mut pruned = Pruned::default();
    let ids: Vec<i64> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::Status.is_in([
            DeliveryStatus::Delivered.as_str(),
            DeliveryStatus::Failed.as_str(),
        ]))
        .filter(webhook_delivery::Column::CreatedAt.lt(before))
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(PRUNE_BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if !ids.is_empty() {
        pruned.deliveries = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
    let ids: Vec<i64> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::OccurredAt.lt(before))
        .filter(event::Column::DedupKey.is_null())
        .filter(
            event::Column::Id.not_in_subquery(
                Query::select()
                    .column(webhook_delivery::Column::EventId)
                    .from(webhook_delivery::Entity)
                    .to_owned(),
            ),
        )
        .order_by_asc(event::Column::Id)
        .limit(PRUNE_BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if !ids.is_empty() {
        pruned.events = event::Entity::delete_many()
            .filter(event::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(pruned)
}
