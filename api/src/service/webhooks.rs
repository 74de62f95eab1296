//! Webhooks (SPEC 4.11): registering, changing and removing them, their deliveries, and
//! asking for one to be sent again. The URL is checked here, after resolving its host, at
//! creation and on every change; the deliverer checks again at every delivery.

use base64::Engine;
use entity::{event, webhook, webhook_delivery};

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::events::DeliveryStatus;
use crate::domain::validation;
use crate::error::{ApiError, ApiResult};
use crate::events::delivery::check_url;
use crate::freshness::Touched;
use crate::store::webhooks::{self, NewWebhook, WebhookPatch};
use crate::store::{Page, Paged, scope};

/// The longest webhook URL accepted.
const MAX_URL: usize = 2000;

/// A webhook and its secret, which is shown only at creation.
pub struct Created {
    /// The webhook.
    pub webhook: webhook::Model,
    /// `whsec_` and the base64 of 32 random bytes: the key receivers verify signatures with.
    pub secret: String,
}

fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

async fn checked_url(url: &str, allow_private: bool) -> ApiResult<String> {
    let url = url.trim();
    if url.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            "url",
            "must not contain control characters",
        ));
    }
    if url.chars().count() > MAX_URL {
        return Err(ApiError::bad_input(
            "url",
            format!("at most {MAX_URL} characters"),
        ));
    }
    check_url(url, allow_private)
        .await
        .map_err(|e| ApiError::bad_input("url", e.0))?;
    Ok(url.to_string())
}

fn checked_description(d: Option<String>) -> ApiResult<Option<String>> {
    match d {
        Some(d) => {
            validation::free_text(&d, 1000).map_err(|m| ApiError::bad_input("description", m))?;
            Ok(Some(d.trim().to_string()).filter(|d| !d.is_empty()))
        }
        None => Ok(None),
    }
}

/// Registers a webhook for the caller (any write scope, or `admin`), keeping the caller's
/// scopes with it; `allow_private` is `SENCO_WEBHOOK_ALLOW_PRIVATE`.
pub async fn create(
    db: &Db,
    p: &Principal,
    mut w: NewWebhook,
    allow_private: bool,
) -> ApiResult<Created> {
    webhooks::check_may_create(p)?;
    w.url = checked_url(&w.url, allow_private).await?;
    w.description = checked_description(w.description)?;
    if let Some(f) = &w.filter {
        f.check_covered(p)?;
    }
    w.secret = new_secret();
    let secret = w.secret.clone();
    let webhook = super::write(
        db,
        p,
        "createWebhook",
        Touched::Nothing,
        async |txn, log| webhooks::create(txn, p, log, w).await,
    )
    .await?;
    Ok(Created { webhook, secret })
}

/// Changes a webhook the caller owns.
pub async fn update(
    db: &Db,
    p: &Principal,
    id: i64,
    mut patch: WebhookPatch,
    allow_private: bool,
) -> ApiResult<webhook::Model> {
    scope::require_authenticated(p)?;
    if let Some(url) = &patch.url {
        patch.url = Some(checked_url(url, allow_private).await?);
    }
    if let Some(d) = patch.description.take() {
        patch.description = Some(checked_description(d)?);
    }
    if let Some(Some(f)) = &patch.filter {
        f.check_covered(p)?;
    }
    super::write(
        db,
        p,
        "updateWebhook",
        Touched::Nothing,
        async |txn, log| webhooks::update(txn, p, log, id, patch).await,
    )
    .await
}

/// Deletes a webhook the caller owns, with its deliveries.
pub async fn delete(db: &Db, p: &Principal, id: i64) -> ApiResult<()> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "deleteWebhook",
        Touched::Nothing,
        async |txn, log| webhooks::delete(txn, p, log, id).await,
    )
    .await
}

/// The caller's webhooks.
pub async fn list(db: &Db, p: &Principal, page: Page<i64>) -> ApiResult<Paged<webhook::Model>> {
    webhooks::list(&db.conn, p, page).await
}

/// The deliveries of a webhook the caller owns, with their events, newest first.
pub async fn deliveries(
    db: &Db,
    p: &Principal,
    webhook_id: i64,
    status: Option<DeliveryStatus>,
    page: Page<i64>,
) -> ApiResult<(Paged<webhook_delivery::Model>, Vec<event::Model>)> {
    let txn = Db::begin_read(&db.conn).await?;
    let paged = webhooks::deliveries(&txn, p, webhook_id, status, page).await?;
    let ids: Vec<i64> = paged.rows.iter().map(|d| d.event_id).collect();
    let events = webhooks::events_by_id(&txn, &ids).await?;
    txn.commit().await?;
    Ok((paged, events))
}

/// Sends a delivery of a webhook the caller owns again, now, with the same event and id.
pub async fn redeliver(
    db: &Db,
    p: &Principal,
    delivery_id: i64,
) -> ApiResult<webhook_delivery::Model> {
    scope::require_authenticated(p)?;
    let d = super::write(
        db,
        p,
        "redeliverWebhookEvent",
        Touched::Nothing,
        async |txn, log| webhooks::redeliver(txn, p, log, delivery_id).await,
    )
    .await?;
    db.events.wake.notify_one();
    Ok(d)
}
