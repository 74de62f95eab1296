//! Webhooks and their deliveries (SPEC 4.11).
//!
//! A webhook keeps the scopes of the token that created it; every delivery is checked
//! against them, through `store::scope`, as the school is stored at the time of delivery.
//! A webhook is its creator's: only the same `sub` (or `admin`) sees or changes it.
//!
//! Deliveries are claimed for a lease (`locked_until`) so that, with several replicas, each
//! is attempted by one of them: on PostgreSQL the claim takes its rows with `FOR UPDATE SKIP
//! LOCKED`, so replicas claiming together each get other rows; on SQLite one process serves
//! the file and the write gate orders claims. A process killed mid-attempt leaves a lease
//! that lapses, and the delivery is attempted again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{event, school, webhook, webhook_delivery};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::domain::events::{DeliveryStatus, EventType};
use crate::domain::school::{LaCode, Phase, SchoolKind, TrustUid, Urn};
use crate::error::{ApiError, ApiResult};
use crate::store::schools::SchoolQuery;
use crate::store::{Page, Paged, audit, scope};

/// A school filter as kept with a webhook.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredFilter {
    /// Only this LA.
    pub la_code: Option<i32>,
    /// Only this trust.
    pub trust_uid: Option<i32>,
    /// Only these URNs.
    pub urns: Option<Vec<i32>>,
    /// Only members of this cluster.
    pub cluster_id: Option<i64>,
    /// Only these phases (stored names).
    pub phases: Option<Vec<String>>,
    /// Only these kinds (stored names).
    pub kinds: Option<Vec<String>>,
    /// Name contains this, case-insensitively.
    pub name_contains: Option<String>,
}

impl From<&SchoolQuery> for StoredFilter {
    fn from(q: &SchoolQuery) -> Self {
        Self {
            la_code: q.la_code.map(LaCode::get),
            trust_uid: q.trust_uid.map(TrustUid::get),
            urns: q.urns.as_ref().map(|v| v.iter().map(|u| u.get()).collect()),
            cluster_id: q.cluster_id,
            phases: q
                .phases
                .as_ref()
                .map(|v| v.iter().map(|p| p.as_str().to_string()).collect()),
            kinds: q
                .kinds
                .as_ref()
                .map(|v| v.iter().map(|k| k.as_str().to_string()).collect()),
            name_contains: q.name_contains.clone(),
        }
    }
}

impl StoredFilter {
    /// The filter as the store applies it.
    pub fn query(&self) -> SchoolQuery {
        SchoolQuery {
            la_code: self.la_code.map(LaCode),
            trust_uid: self.trust_uid.map(TrustUid),
            urns: self
                .urns
                .as_ref()
                .map(|v| v.iter().copied().map(Urn).collect()),
            cluster_id: self.cluster_id,
            phases: self
                .phases
                .as_ref()
                .map(|v| v.iter().filter_map(|p| Phase::parse(p)).collect()),
            kinds: self
                .kinds
                .as_ref()
                .map(|v| v.iter().filter_map(|k| SchoolKind::parse(k)).collect()),
            name_contains: self.name_contains.clone(),
        }
    }
}

/// The caller whose stored scopes a webhook's deliveries are checked against.
pub fn creator(h: &webhook::Model) -> Principal {
    Principal::from_claims(h.created_by.clone(), Some(h.scopes.clone()))
}

/// The kinds a webhook asked for; empty means every kind.
pub fn types(h: &webhook::Model) -> Vec<EventType> {
    h.types
        .split(',')
        .filter_map(|t| EventType::parse(t.trim()))
        .collect()
}

/// Whether a webhook asked for events of `kind`.
pub fn wants(h: &webhook::Model, kind: EventType) -> bool {
    h.types.is_empty() || h.types.split(',').any(|t| t == kind.as_str())
}

/// The filter a webhook was given, if any.
pub fn filter(h: &webhook::Model) -> Option<StoredFilter> {
    h.filter
        .as_deref()
        .and_then(|f| serde_json::from_str(f).ok())
}

/// A webhook as the audit log shows it: everything but its secret.
#[derive(Serialize)]
struct Audited<'a> {
    url: &'a str,
    types: &'a str,
    filter: Option<&'a str>,
    description: Option<&'a str>,
    active: bool,
    scopes: &'a str,
}

fn audited(h: &webhook::Model) -> Audited<'_> {
    Audited {
        url: &h.url,
        types: &h.types,
        filter: h.filter.as_deref(),
        description: h.description.as_deref(),
        active: h.active,
        scopes: &h.scopes,
    }
}

/// A new webhook, validated.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Where events are sent.
    pub url: String,
    /// The kinds wanted; empty for every kind.
    pub types: Vec<EventType>,
    /// Only schools matching this.
    pub filter: Option<SchoolQuery>,
    /// What it is for.
    pub description: Option<String>,
    /// The signing secret, `whsec_` and base64.
    pub secret: String,
}

/// Changes to a webhook; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    /// A new URL.
    pub url: Option<String>,
    /// New kinds.
    pub types: Option<Vec<EventType>>,
    /// A new filter (`Some(None)` removes it).
    pub filter: Option<Option<SchoolQuery>>,
    /// A new description (`Some(None)` removes it).
    pub description: Option<Option<String>>,
    /// Pauses (false) or resumes (true) deliveries.
    pub active: Option<bool>,
}

fn types_text(types: &[EventType]) -> String {
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

fn filter_text(q: Option<&SchoolQuery>) -> ApiResult<Option<String>> {
    q.map(|q| serde_json::to_string(&StoredFilter::from(q)).map_err(ApiError::internal))
        .transpose()
}

/// Fails unless the caller may register webhooks: any write scope, or `admin`.
pub fn check_may_create(p: &Principal) -> ApiResult<()> {
    scope::require_authenticated(p)?;
    if p.admin || !p.write.is_empty() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "registering a webhook needs a write scope or `admin`",
        ))
    }
}

/// Registers a webhook for the caller, keeping the caller's scopes with it.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    w: NewWebhook,
) -> ApiResult<webhook::Model> {
    check_may_create(p)?;
    let now = Utc::now();
    let scopes: Vec<String> = p.scopes.iter().map(ToString::to_string).collect();
    let row = webhook::ActiveModel {
        url: Set(w.url),
        types: Set(types_text(&w.types)),
        filter: Set(filter_text(w.filter.as_ref())?),
        description: Set(w.description),
        secret: Set(w.secret),
        created_by: Set(p.sub.clone().unwrap_or_default()),
        scopes: Set(scopes.join(" ")),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.inserted("webhook", row.id, &[], &audited(&row))?;
    Ok(row)
}

/// A webhook the caller owns (or any, for `admin`); `NOT_FOUND` otherwise, so that other
/// callers' webhooks are not revealed.
pub async fn owned<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    id: i64,
    field: &str,
) -> ApiResult<webhook::Model> {
    scope::require_authenticated(p)?;
    webhook::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|h| p.admin || p.sub.as_deref() == Some(h.created_by.as_str()))
        .ok_or_else(|| ApiError::not_found_at(field, format!("you have no webhook {id}")))
}

/// Changes a webhook the caller owns.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
    patch: WebhookPatch,
) -> ApiResult<webhook::Model> {
    let before = owned(db, p, id, "id").await?;
    let mut after = before.clone();
    if let Some(url) = patch.url {
        after.url = url;
    }
    if let Some(types) = patch.types {
        after.types = types_text(&types);
    }
    if let Some(filter) = patch.filter {
        after.filter = filter_text(filter.as_ref())?;
    }
    if let Some(description) = patch.description {
        after.description = description;
    }
    if let Some(active) = patch.active {
        after.active = active;
    }
    if after == before {
        return Ok(after);
    }
    after.updated_at = Utc::now();
    let saved = after.into_active_model().reset_all().update(db).await?;
    log.updated("webhook", id, &[], &audited(&before), &audited(&saved))?;
    Ok(saved)
}

/// Deletes a webhook the caller owns, and its deliveries.
pub async fn delete<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    id: i64,
) -> ApiResult<()> {
    let before = owned(db, p, id, "id").await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(db)
        .await?;
    webhook::Entity::delete_by_id(id).exec(db).await?;
    log.changed(
        "webhook",
        id,
        &[],
        Some(&audited(&before)),
        None::<&Audited<'_>>,
    )?;
    Ok(())
}

/// The caller's webhooks (every webhook, for `admin`), oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    page: Page<i64>,
) -> ApiResult<Paged<webhook::Model>> {
    scope::require_authenticated(p)?;
    let mut base = webhook::Entity::find();
    if !p.admin {
        base = base.filter(webhook::Column::CreatedBy.eq(p.sub.clone().unwrap_or_default()));
    }
    let total = base.clone().count(db).await?;
    let mut q = base.order_by_asc(webhook::Column::Id);
    if let Some(after) = page.after {
        q = q.filter(webhook::Column::Id.gt(after));
    }
    let rows = q.limit(page.first + 1).all(db).await?;
    Ok(Paged::from_overfetch(rows, page.first, total))
}

/// The deliveries of a webhook the caller owns, newest first, optionally of one status.
pub async fn deliveries<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    webhook_id: i64,
    status: Option<DeliveryStatus>,
    page: Page<i64>,
) -> ApiResult<Paged<webhook_delivery::Model>> {
    owned(db, p, webhook_id, "webhookId").await?;
    let mut base =
        webhook_delivery::Entity::find().filter(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(s) = status {
        base = base.filter(webhook_delivery::Column::Status.eq(s.as_str()));
    }
    let total = base.clone().count(db).await?;
    let mut q = base.order_by_desc(webhook_delivery::Column::Id);
    if let Some(after) = page.after {
        q = q.filter(webhook_delivery::Column::Id.lt(after));
    }
    let rows = q.limit(page.first + 1).all(db).await?;
    Ok(Paged::from_overfetch(rows, page.first, total))
}

/// Schedules a delivery of a webhook the caller owns to be attempted again now, with the
/// same event and id, whatever its status; its retry window starts again.
pub async fn redeliver<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    delivery_id: i64,
) -> ApiResult<webhook_delivery::Model> {
    let not_found =
        || ApiError::not_found_at("deliveryId", format!("you have no delivery {delivery_id}"));
    let before = webhook_delivery::Entity::find_by_id(delivery_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    owned(db, p, before.webhook_id, "deliveryId")
        .await
        .map_err(|_| not_found())?;
    let now = Utc::now();
    let mut am = before.clone().into_active_model();
    am.status = Set(DeliveryStatus::Pending.as_str().into());
    am.attempts = Set(0);
    am.created_at = Set(now);
    am.next_attempt_at = Set(now);
    am.locked_until = Set(None);
    let saved = am.update(db).await?;
    log.changed(
        "webhook_delivery",
        delivery_id,
        &[],
        Some(&before.status),
        Some(&saved.status),
    )?;
    Ok(saved)
}

/// A delivery claimed for an attempt, with its event and webhook.
#[derive(Debug, Clone)]
pub struct Due {
    /// The delivery.
    pub delivery: webhook_delivery::Model,
    /// Its event.
    pub event: event::Model,
    /// Its webhook.
    pub webhook: webhook::Model,
}

/// Claims up to `limit` deliveries due by `now` that nobody holds, for a lease until
/// `until`, and returns them with their events and webhooks (three statements).
pub async fn claim_due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Vec<Due>> {
    let mut due = Query::select()
        .column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .cond_where(
            Condition::all()
                .add(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                .add(webhook_delivery::Column::NextAttemptAt.lte(now))
                .add(
                    Condition::any()
                        .add(webhook_delivery::Column::LockedUntil.is_null())
                        .add(webhook_delivery::Column::LockedUntil.lte(now)),
                ),
        )
        .order_by(
            webhook_delivery::Column::NextAttemptAt,
            sea_orm::sea_query::Order::Asc,
        )
        .limit(limit)
        .to_owned();
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    } else if db.query_one(&due).await?.is_none() {
        // On SQLite an UPDATE takes the file's write lock even when it matches nothing: a
        // read first keeps an idle deliverer from queueing behind (or ahead of) writers.
        return Ok(Vec::new());
    }
    let claim = Query::update()
        .table(webhook_delivery::Entity)
        .value(webhook_delivery::Column::LockedUntil, until)
        .and_where(webhook_delivery::Column::Id.in_subquery(due))
        .returning_col(webhook_delivery::Column::Id)
        .to_owned();
    let ids: Vec<i64> = db
        .query_all(&claim)
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Id.is_in(ids))
        .order_by_asc(webhook_delivery::Column::Id)
        .all(db)
        .await?;
    let event_ids: Vec<i64> = deliveries.iter().map(|d| d.event_id).collect();
    let events: HashMap<i64, event::Model> = events_by_id(db, &event_ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let hook_ids: Vec<i64> = deliveries.iter().map(|d| d.webhook_id).collect();
    let hooks: HashMap<i64, webhook::Model> = webhook::Entity::find()
        .filter(webhook::Column::Id.is_in(hook_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    Ok(deliveries
        .into_iter()
        .filter_map(|delivery| {
            let webhook = hooks.get(&delivery.webhook_id)?.clone();
            let event = events.get(&delivery.event_id)?.clone();
            Some(Due {
                delivery,
                event,
                webhook,
            })
        })
        .collect())
}

/// Whether the webhook's creator's stored scopes can read the event's school as it is
/// stored now, and the school matches the webhook's filter (SPEC 4.11: "at the time of
/// delivery"). An event of no school goes only to an `admin` webhook.
pub async fn in_scope<C: ConnectionTrait>(
    db: &C,
    h: &webhook::Model,
    e: &event::Model,
) -> ApiResult<bool> {
    let p = creator(h);
    let Some(urn) = e.school_urn else {
        return Ok(p.admin);
    };
    let mut cond = Condition::all()
        .add(school::Column::Urn.eq(urn))
        .add(scope::readable_schools(&p)?);
    if let Some(f) = filter(h) {
        cond = cond.add(f.query().condition());
    }
    Ok(school::Entity::find().filter(cond).count(db).await? > 0)
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered {
        /// The status code.
        status: u16,
    },
    /// Anything else, to be tried again at `next` (or `FAILED` when `None`).
    Retry {
        /// The status code, when the receiver answered.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// When to try again; `None` when the retry window is over.
        next: Option<DateTime<Utc>>,
    },
    /// The school is no longer in the webhook's scope or filter: never sent.
    OutOfScope,
}

/// Records the attempt made at `at` on a claimed delivery and releases its lease.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    d: &webhook_delivery::Model,
    at: DateTime<Utc>,
    outcome: &Outcome,
) -> ApiResult<()> {
    let mut u = Query::update()
        .table(webhook_delivery::Entity)
        .value(
            webhook_delivery::Column::LockedUntil,
            Option::<DateTime<Utc>>::None,
        )
        .and_where(webhook_delivery::Column::Id.eq(d.id))
        .to_owned();
    match outcome {
        Outcome::Delivered { status } => {
            u.value(
                webhook_delivery::Column::Status,
                DeliveryStatus::Delivered.as_str(),
            )
            .value(
                webhook_delivery::Column::Attempts,
                Expr::col(webhook_delivery::Column::Attempts).add(1),
            )
            .value(webhook_delivery::Column::LastAttemptAt, at)
            .value(webhook_delivery::Column::DeliveredAt, at)
            .value(webhook_delivery::Column::LastStatusCode, i32::from(*status))
            .value(webhook_delivery::Column::LastError, Option::<String>::None);
        }
        Outcome::Retry {
            status,
            error,
            next,
        } => {
            let status_after = if next.is_some() {
                DeliveryStatus::Pending
            } else {
                DeliveryStatus::Failed
            };
            u.value(webhook_delivery::Column::Status, status_after.as_str())
                .value(
                    webhook_delivery::Column::Attempts,
                    Expr::col(webhook_delivery::Column::Attempts).add(1),
                )
                .value(webhook_delivery::Column::LastAttemptAt, at)
                .value(webhook_delivery::Column::NextAttemptAt, next.unwrap_or(at))
                .value(
                    webhook_delivery::Column::LastStatusCode,
                    status.map(i32::from),
                )
                .value(webhook_delivery::Column::LastError, error.clone());
        }
        Outcome::OutOfScope => {
            u.value(
                webhook_delivery::Column::Status,
                DeliveryStatus::Failed.as_str(),
            )
            .value(
                webhook_delivery::Column::LastError,
                "not sent: the school is no longer within the webhook's scopes or filter",
            );
        }
    }
    db.execute(&u).await?;
    Ok(())
}

/// Releases every lease: on SQLite, where one process serves the file, a lease left by a
/// process that was killed belongs to nobody once the next one starts.
pub async fn release_all_leases<C: ConnectionTrait>(db: &C) -> ApiResult<()> {
    let u = Query::update()
        .table(webhook_delivery::Entity)
        .value(
            webhook_delivery::Column::LockedUntil,
            Option::<DateTime<Utc>>::None,
        )
        .and_where(webhook_delivery::Column::LockedUntil.is_not_null())
        .to_owned();
    db.execute(&u).await?;
    Ok(())
}

/// Events by id (for deliveries already scoped to their webhook's owner).
pub async fn events_by_id<C: ConnectionTrait>(db: &C, ids: &[i64]) -> ApiResult<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
