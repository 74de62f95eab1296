//! Events, webhooks and live subscriptions over GraphQL (SPEC 4.11).

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{
    Context, Enum, ID, InputObject, Json, MaybeUndefined, Object, SimpleObject, Subscription,
};
use entity::{event, school, webhook, webhook_delivery};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::domain::school::{Phase as DomainPhase, SchoolKind as DomainKind};
use crate::error::ApiError;
use crate::events::live::{self, Item, Wanted};
use crate::graphql::schools::{Phase, School, SchoolFilter, SchoolKind};
use crate::graphql::{DateTime, connection, connection_type, loaders, page, parse_id, rc};
use crate::service;
use crate::store::events::StoredEvent;
use crate::store::scope;
use crate::store::webhooks::{self, NewWebhook, StoredFilter, WebhookPatch};

/// Root fields whose answers change without any change counter moving (deliveries are
/// attempted in the background), so the HTTP handler never answers them from its response
/// cache.
pub const UNCACHED_FIELDS: [&str; 2] = ["webhooks", "webhookDeliveries"];

/// What an event announces (SPEC 4.11).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[graphql(remote = "crate::domain::events::EventType")]
pub enum EventType {
    /// A termly report, or a new version of it, was submitted.
    TermlyReportSubmitted,
    /// A SENCO was appointed at a school.
    SencoAppointed,
    /// A SENCO appointment ended.
    SencoAppointmentEnded,
    /// A qualification, or a course under way, was recorded.
    QualificationRecorded,
    /// A governing body signed off a document.
    SignOffRecorded,
    /// Reminder: an unqualified SENCO's deadline is 90, 30 or 7 days away (`daysBefore`).
    DeadlineApproaching,
    /// Reminder: yesterday was the deadline and the SENCO holds no counting qualification.
    QualificationOverdue,
    /// Reminder: a SENCO's projection turned `AT_RISK`.
    QualificationAtRisk,
    /// Reminder: a termly report was due yesterday and none was submitted.
    TermlyReportMissing,
    /// Reminder: a shared-SENCO cluster's review falls due today.
    ClusterReviewDue,
    /// Reminder: a governance action is open past its due date.
    GovernanceActionOverdue,
}

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::events::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Not yet answered with a 2xx; another attempt is scheduled.
    Pending,
    /// A 2xx answered an attempt.
    Delivered,
    /// Attempts went on for the whole retry window (24 hours) without a 2xx, or the school
    /// left the webhook's scopes or filter; sent again only by `redeliverWebhookEvent`.
    Failed,
}

/// Something that happened to a school's SENCO records, or a reminder about them.
pub struct Event {
    row: event::Model,
    /// The school as read with the event, for live events (one read shared by every
    /// subscription); `None` to load it through the request's loaders.
    school: Option<Option<school::Model>>,
}

impl From<event::Model> for Event {
    fn from(row: event::Model) -> Self {
        Self { row, school: None }
    }
}

impl From<&StoredEvent> for Event {
    fn from(e: &StoredEvent) -> Self {
        Self {
            row: e.event.clone(),
            school: Some(e.school.clone()),
        }
    }
}

/// Something that happened to a school's SENCO records, or a reminder about them (SPEC
/// 4.11); the body of a webhook delivery and the item of the `events` subscription.
#[Object]
impl Event {
    /// The event's id: also the `webhook-id` of its webhook deliveries, the same on every
    /// retry, so a receiver can tell a repeat from a new event.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// What it announces.
    #[graphql(name = "type")]
    async fn kind(&self) -> async_graphql::Result<EventType> {
        Ok(crate::domain::events::EventType::parse(&self.row.kind)
            .map(Into::into)
            .ok_or_else(|| ApiError::internal(format!("unknown event type {}", self.row.kind)))?)
    }

    /// When its change was committed (for a reminder, when the daily run raised it).
    async fn occurred_at(&self) -> DateTime {
        DateTime(self.row.occurred_at)
    }

    /// The school it concerns; null when it concerns none, or the caller may no longer
    /// read it.
    async fn school(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<School>> {
        let Some(urn) = self.row.school_urn else {
            return Ok(None);
        };
        let rc = rc(ctx)?;
        let s = match &self.school {
            Some(s) => s.clone(),
            None => loaders::one(&loaders(ctx)?.schools, urn).await?,
        };
        Ok(s.filter(|s| scope::can_read(&rc.principal, s)).map(School))
    }

    /// What it is about: ids, dates and figures (never a person's name or e-mail). Each
    /// type's fields are listed in the README.
    async fn data(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.row.data).unwrap_or(serde_json::Value::Null))
    }
}

/// The schools a webhook is limited to, as it was given; every field given must match.
#[derive(SimpleObject)]
pub struct WebhookFilter {
    /// Only schools of this LA; null for any.
    pub la_code: Option<i32>,
    /// Only schools of this trust; null for any.
    pub trust_uid: Option<i32>,
    /// Only these URNs; null for any.
    pub urns: Option<Vec<i32>>,
    /// Only members of this cluster; null for any.
    pub cluster_id: Option<ID>,
    /// Only these phases; null for any.
    pub phases: Option<Vec<Phase>>,
    /// Only these kinds; null for any.
    pub kinds: Option<Vec<SchoolKind>>,
    /// Only schools whose name contains this; null for any.
    pub name_contains: Option<String>,
}

impl From<StoredFilter> for WebhookFilter {
    fn from(f: StoredFilter) -> Self {
        Self {
            la_code: f.la_code,
            trust_uid: f.trust_uid,
            urns: f.urns,
            cluster_id: f.cluster_id.map(|id| ID(id.to_string())),
            phases: f.phases.map(|v| {
                v.iter()
                    .filter_map(|p| DomainPhase::parse(p))
                    .map(Into::into)
                    .collect()
            }),
            kinds: f.kinds.map(|v| {
                v.iter()
                    .filter_map(|k| DomainKind::parse(k))
                    .map(Into::into)
                    .collect()
            }),
            name_contains: f.name_contains,
        }
    }
}

/// Where events are POSTed, signed per the Standard Webhooks specification.
pub struct Webhook(pub webhook::Model);

/// Where events are POSTed, signed per the Standard Webhooks specification.
#[Object]
impl Webhook {
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Where events are sent.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The event types it receives; every type when empty.
    async fn types(&self) -> Vec<EventType> {
        webhooks::types(&self.0)
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// The schools it is limited to (within its creator's scopes); null for every school
    /// the scopes cover.
    async fn filter(&self) -> Option<WebhookFilter> {
        webhooks::filter(&self.0).map(Into::into)
    }

    /// What it is for; null when not given.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Whether deliveries are made (false: paused, events are not queued for it).
    async fn active(&self) -> bool {
        self.0.active
    }

    /// The `sub` of the token that created it.
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }

    /// The creator's scopes, kept with it: it receives events only of schools these can
    /// read at the time of delivery.
    async fn scopes(&self) -> Vec<String> {
        self.0
            .scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

/// A webhook just created, with the secret its deliveries are signed with.
#[derive(SimpleObject)]
pub struct CreatedWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// `whsec_` followed by the base64 signing key, for a Standard Webhooks library. Shown
    /// only in this answer: keep it, it cannot be read again.
    pub secret: String,
}

/// One event sent (or to be sent) to one webhook.
pub struct WebhookDelivery {
    row: webhook_delivery::Model,
    event: Option<event::Model>,
}

/// One event sent (or to be sent) to one webhook.
#[Object]
impl WebhookDelivery {
    /// Its id (for `redeliverWebhookEvent`).
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// The webhook's id.
    async fn webhook_id(&self) -> ID {
        ID(self.row.webhook_id.to_string())
    }

    /// The event sent.
    async fn event(&self) -> async_graphql::Result<Event> {
        Ok(self
            .event
            .clone()
            .map(Event::from)
            .ok_or_else(|| ApiError::internal("a delivery's event is missing"))?)
    }

    /// Where it stands.
    async fn status(&self) -> async_graphql::Result<DeliveryStatus> {
        Ok(
            crate::domain::events::DeliveryStatus::parse(&self.row.status)
                .map(Into::into)
                .ok_or_else(|| ApiError::internal("unknown delivery status"))?,
        )
    }

    /// Attempts made so far (since the last redelivery).
    async fn attempts(&self) -> i32 {
        self.row.attempts
    }

    /// When the next attempt is due; null unless `PENDING`.
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.row.status == crate::domain::events::DeliveryStatus::Pending.as_str())
            .then_some(DateTime(self.row.next_attempt_at))
    }

    /// When the last attempt was made; null before the first.
    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.row.last_attempt_at.map(DateTime)
    }

    /// When a 2xx answered; null unless `DELIVERED`.
    async fn delivered_at(&self) -> Option<DateTime> {
        self.row.delivered_at.map(DateTime)
    }

    /// The HTTP status of the last answer; null before one, or when none came (a timeout,
    /// a refused connection or address).
    async fn last_status_code(&self) -> Option<i32> {
        self.row.last_status_code
    }

    /// What went wrong with the last attempt; null when it succeeded or none was made.
    async fn last_error(&self) -> Option<&str> {
        self.row.last_error.as_deref()
    }
}

connection_type!(WebhookConnection, WebhookEdge, Webhook, "webhooks");
connection_type!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook deliveries"
);

/// Registers a webhook.
#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// An `http` or `https` URL; one whose host resolves to a loopback, private,
    /// link-local or cloud-metadata address is refused.
    pub url: String,
    /// The event types to send; every type when omitted or empty.
    pub types: Option<Vec<EventType>>,
    /// Only events of schools matching this (within the caller's scopes).
    pub filter: Option<SchoolFilter>,
    /// What it is for, at most 1,000 characters.
    pub description: Option<String>,
}

/// Changes a webhook; an absent field is left unchanged.
#[derive(InputObject)]
pub struct UpdateWebhookInput {
    /// The webhook.
    pub id: ID,
    /// A new URL, checked as at creation.
    pub url: Option<String>,
    /// New event types; every type when empty.
    pub types: Option<Vec<EventType>>,
    /// A new filter; null removes it.
    pub filter: MaybeUndefined<SchoolFilter>,
    /// A new description; null removes it.
    pub description: MaybeUndefined<String>,
    /// False pauses deliveries (no event is queued for it meanwhile); true resumes them.
    pub active: Option<bool>,
}

fn kinds(types: Option<Vec<EventType>>) -> Vec<crate::domain::events::EventType> {
    types
        .unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}

/// Webhook queries.
#[derive(Default)]
pub struct EventsQuery;

/// Webhook queries.
#[Object]
impl EventsQuery {
    /// The caller's webhooks (those its `sub` created; every webhook for `admin`), oldest
    /// first.
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<WebhookConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, |c| c.strip_prefix("w:")?.parse::<i64>().ok())?;
        let paged = service::webhooks::list(&rc.db, &rc.principal, page).await?;
        Ok(connection(paged, has_prev, |w| (format!("w:{}", w.id), Webhook(w))).into())
    }

    /// The deliveries of one of the caller's webhooks, newest first.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook.")] webhook_id: ID,
        #[graphql(desc = "Only deliveries with this status; all when omitted.")] status: Option<
            DeliveryStatus,
        >,
        #[graphql(desc = "Page size, 0 to 250 (default 50); 0 gives only the total.")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the last edge of the previous page.")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let id = parse_id(&webhook_id, "webhookId")?;
        let has_prev = after.as_deref().is_some_and(|a| !a.is_empty());
        let page = page(first, after, |c| c.strip_prefix("d:")?.parse::<i64>().ok())?;
        let (paged, events) =
            service::webhooks::deliveries(&rc.db, &rc.principal, id, status.map(Into::into), page)
                .await?;
        let events: std::collections::HashMap<i64, event::Model> =
            events.into_iter().map(|e| (e.id, e)).collect();
        Ok(connection(paged, has_prev, |d| {
            let event = events.get(&d.event_id).cloned();
            (format!("d:{}", d.id), WebhookDelivery { row: d, event })
        })
        .into())
    }
}

/// Webhook mutations.
#[derive(Default)]
pub struct EventsMutation;

/// Webhook mutations.
#[Object]
impl EventsMutation {
    /// Registers a webhook for the caller (any write scope, or `admin`), keeping the
    /// caller's scopes with it; answers its signing secret, shown only here.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook.")] input: CreateWebhookInput,
    ) -> async_graphql::Result<CreatedWebhook> {
        let rc = rc(ctx)?;
        let filter = input
            .filter
            .map(|f| f.into_query("input.filter"))
            .transpose()?;
        let created = service::webhooks::create(
            &rc.db,
            &rc.principal,
            NewWebhook {
                url: input.url,
                types: kinds(input.types),
                filter,
                description: input.description,
                secret: String::new(),
            },
            rc.config.webhook_allow_private,
        )
        .await
        .map_err(|e| e.within("input"))?;
        Ok(CreatedWebhook {
            webhook: Webhook(created.webhook),
            secret: created.secret,
        })
    }

    /// Changes one of the caller's webhooks.
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let rc = rc(ctx)?;
        let id = parse_id(&input.id, "input.id")?;
        let filter = match input.filter {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(f) => Some(Some(f.into_query("input.filter")?)),
        };
        let patch = WebhookPatch {
            url: input.url,
            types: input.types.map(|t| kinds(Some(t))),
            filter,
            description: match input.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(d) => Some(Some(d)),
            },
            active: input.active,
        };
        let w = service::webhooks::update(
            &rc.db,
            &rc.principal,
            id,
            patch,
            rc.config.webhook_allow_private,
        )
        .await
        .map_err(|e| e.within("input"))?;
        Ok(Webhook(w))
    }

    /// Deletes one of the caller's webhooks and its deliveries; true when done.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook.")] id: ID,
    ) -> async_graphql::Result<bool> {
        let rc = rc(ctx)?;
        let id = parse_id(&id, "id")?;
        service::webhooks::delete(&rc.db, &rc.principal, id).await?;
        Ok(true)
    }

    /// Sends a delivery of one of the caller's webhooks again, now, with the same event
    /// and `webhook-id`, whatever its status; its retry window starts again.
    async fn redeliver_webhook_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] delivery_id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let rc = rc(ctx)?;
        let id = parse_id(&delivery_id, "deliveryId")?;
        let row = service::webhooks::redeliver(&rc.db, &rc.principal, id).await?;
        let event = webhooks::events_by_id(&rc.db.conn, &[row.event_id])
            .await?
            .into_iter()
            .next();
        Ok(WebhookDelivery { row, event })
    }
}

/// The subscription root: live events over WebSocket at `/graphql/ws`.
#[derive(Default)]
pub struct Subscription;

/// Live events over WebSocket at `/graphql/ws` (graphql-transport-ws; the token in the
/// `connection_init` payload).
#[Subscription]
impl Subscription {
    /// Every event committed from now on, by any replica, of the schools the connection's
    /// token may read. A connection that reads too slowly gets an error saying how many
    /// events it missed, and the stream goes on.
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these types; every type when omitted.")] types: Option<
            Vec<EventType>,
        >,
        #[graphql(
            desc = "Only schools matching this, as they match when the subscription \
                          begins."
        )]
        filter: Option<SchoolFilter>,
    ) -> async_graphql::Result<BoxStream<'static, async_graphql::Result<Event>>> {
        let rc = rc(ctx)?;
        scope::require_authenticated(&rc.principal)?;
        let urns = match filter {
            Some(f) => {
                let q = f.into_query("filter")?;
                q.check_covered(&rc.principal)?;
                let urns = service::schools::urns_matching(&rc.db, &rc.principal, &q).await?;
                Some(urns.into_iter().collect::<HashSet<i32>>())
            }
            None => None,
        };
        let wanted = Wanted {
            types: types.map(|t| t.into_iter().map(Into::into).collect()),
            urns,
        };
        let open = crate::events::metrics::subscription_opened();
        let principal: Arc<crate::auth::Principal> = rc.principal.clone();
        Ok(live::subscribe(&rc.db.events, principal, wanted)
            .map(move |item| {
                let _open = &open;
                match item {
                    Item::Event(e) => Ok(Event::from(e.as_ref())),
                    Item::Missed(n) => Err(ApiError::conflict(format!(
                        "{n} events were not sent because this connection read too slowly"
                    ))
                    .into()),
                }
            })
            .boxed())
    }
}
