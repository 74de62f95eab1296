//! Webhook delivery (SPEC 4.11, Standard Webhooks): each due delivery is claimed for a
//! lease, checked against its webhook's stored scopes and filter, signed and POSTed; a 2xx
//! within 10 s is delivered, anything else is retried after a growing wait until the retry
//! window closes, then `FAILED`. The same `webhook-id` (the event's id) is sent on every
//! attempt. Redirects are not followed, and every connection goes only to a public address
//! found by resolving the host at that moment (unless `SENCO_WEBHOOK_ALLOW_PRIVATE`), so a
//! name that resolves to a private address later is refused then too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::db::Db;
use crate::domain::events::{Backoff, is_public_address};
use crate::store::events::StoredEvent;
use crate::store::webhooks::{self, Due, Outcome};

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed delivery is held: longer than an attempt can take, so that no other
/// replica attempts it meanwhile; after a crash, the delivery is attempted again once it
/// lapses (within 30 s of a restart, as SPEC 4.11 asks).
pub const LEASE: Duration = Duration::from_secs(20);
/// Deliveries claimed at once.
const BATCH: u64 = 128;
/// Attempts in flight at once per process.
const IN_FLIGHT: usize = 256;
/// How often due deliveries are looked for when nothing wakes the deliverer (retries fall
/// due, other replicas' commits on SQLite-less setups): at most this, or the first retry's
/// wait when that is shorter.
const POLL: Duration = Duration::from_secs(1);

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks a webhook URL (SPEC 4.11): `http` or `https`, a host, and (unless `allow_private`)
/// every address the host resolves to now public. Used at creation; deliveries check again
/// through the client's resolver.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), Refused> {
    let parsed = reqwest::Url::parse(url).map_err(|_| Refused("is not a URL".into()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused("must be an http or https URL".into()));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| Refused("must name a host".into()))?;
    if allow_private {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|_| Refused(format!("the host `{host}` does not resolve")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Refused(format!("the host `{host}` does not resolve")));
    }
    if let Some(a) = addrs.iter().find(|a| !is_public_address(a.ip())) {
        return Err(Refused(format!(
            "the host `{host}` resolves to {}, a loopback, private, link-local or metadata \
             address, which webhooks may not reach",
            a.ip()
        )));
    }
    Ok(())
}

/// Resolves webhook hosts and keeps only the addresses a webhook may reach.
struct Guarded {
    allow_private: bool,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public_address(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "`{}` resolves to no address webhooks may reach",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Sends due deliveries.
pub struct Deliverer {
    client: reqwest::Client,
    allow_private: bool,
    backoff: Backoff,
}

impl Deliverer {
    /// A deliverer configured as the process is.
    pub fn new(config: &Config) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .no_proxy()
            .user_agent(concat!("senco-oversight/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Guarded {
                allow_private: config.webhook_allow_private,
            }))
            .build()
            .unwrap_or_default();
        Self {
            client,
            allow_private: config.webhook_allow_private,
            backoff: config.webhook_backoff,
        }
    }

    /// Runs until the task is stopped: claims due deliveries whenever woken (a commit, a
    /// notification) and at least every [`POLL`], and attempts each.
    pub async fn run(self, db: Db) {
        if db.backend() == sea_orm::DbBackend::Sqlite {
            let _gate = db.write_gate().await;
            if let Err(e) = webhooks::release_all_leases(db.write_conn()).await {
                tracing::warn!(error = ?e, "could not release old delivery leases");
            }
        }
        let me = Arc::new(self);
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        // Attempts are recorded by one task, as many as have finished in one write
        // transaction: on SQLite every write waits its turn for the one writer, so a write
        // per attempt would let busy writers starve the deliveries.
        let (done_tx, done_rx) = tokio::sync::mpsc::unbounded_channel::<Attempted>();
        tokio::spawn(record(db.clone(), done_rx));
        let poll = POLL.min(me.backoff.first);
        loop {
            let free = slots.available_permits().min(BATCH as usize) as u64;
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let now = Utc::now();
                let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
                let _gate = db.write_gate().await;
                match webhooks::claim_due(db.write_conn(), now, until, free).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = ?e, "could not claim webhook deliveries");
                        Vec::new()
                    }
                }
            };
            let full = claimed.len() as u64 == BATCH;
            for due in claimed {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let me = me.clone();
                let db = db.clone();
                let done = done_tx.clone();
                tokio::spawn(async move {
                    if let Some((at, outcome)) = me.attempt(&db, &due).await {
                        // The slot is given back once the attempt is recorded.
                        let _ = done.send(Attempted {
                            due,
                            at,
                            outcome,
                            _slot: slot,
                        });
                    }
                });
            }
            if !full {
                tokio::select! {
                    () = db.events.wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }
    }

    /// Makes one attempt; `None` when its scope could not be checked (the lease lapses and
    /// it is attempted again).
    async fn attempt(&self, db: &Db, due: &Due) -> Option<(DateTime<Utc>, Outcome)> {
        let at = Utc::now();
        let started = Instant::now();
        let outcome = match webhooks::in_scope(&db.conn, &due.webhook, &due.event).await {
            Ok(true) => self.send(due, at).await,
            Ok(false) => Outcome::OutOfScope,
            Err(e) => {
                tracing::warn!(error = ?e, "could not check a delivery's scope");
                return None;
            }
        };
        super::metrics::attempted(due, &outcome, at, started.elapsed());
        Some((at, outcome))
    }

    async fn send(&self, due: &Due, at: DateTime<Utc>) -> Outcome {
        let failed = |status: Option<u16>, error: String| {
            let attempts = u32::try_from(due.delivery.attempts).unwrap_or(0) + 1;
            let elapsed = (at - due.delivery.created_at).to_std().unwrap_or_default();
            let next = self
                .backoff
                .next_wait(attempts, elapsed)
                .and_then(|w| chrono::Duration::from_std(w).ok())
                .map(|w| at + w);
            Outcome::Retry {
                status,
                error,
                next,
            }
        };
        if let Err(Refused(why)) = literal_allowed(&due.webhook.url, self.allow_private) {
            return failed(None, why);
        }
        let event = StoredEvent {
            event: due.event.clone(),
            school: None,
        };
        let body = match serde_json::to_vec(&event.payload()) {
            Ok(b) => b,
            Err(e) => return failed(None, format!("could not encode the event: {e}")),
        };
        let id = due.event.id.to_string();
        let timestamp = at.timestamp();
        let signature = match standardwebhooks::Webhook::new(&due.webhook.secret)
            .and_then(|w| w.sign(&id, timestamp, &body))
        {
            Ok(s) => s,
            Err(e) => return failed(None, format!("could not sign the event: {e}")),
        };
        let sent = self
            .client
            .post(&due.webhook.url)
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &id)
            .header(
                standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
                timestamp.to_string(),
            )
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Outcome::Delivered {
                status: r.status().as_u16(),
            },
            Ok(r) => failed(
                Some(r.status().as_u16()),
                format!("the receiver answered {}", r.status()),
            ),
            Err(e) if e.is_timeout() => {
                failed(None, format!("no answer within {} s", TIMEOUT.as_secs()))
            }
            Err(e) => failed(None, describe(&e)),
        }
    }
}

/// An attempt made, waiting to be recorded, with the in-flight slot it holds.
struct Attempted {
    due: Due,
    at: DateTime<Utc>,
    outcome: Outcome,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

/// The most attempts recorded in one transaction.
const RECORD_BATCH: usize = 256;

/// Records finished attempts, all that are waiting (up to [`RECORD_BATCH`]) in one write
/// transaction. A batch that cannot be written is logged; its deliveries' leases lapse and
/// they are attempted again (at least once).
async fn record(db: Db, mut done: tokio::sync::mpsc::UnboundedReceiver<Attempted>) {
    while let Some(first) = done.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match done.try_recv() {
                Ok(a) => batch.push(a),
                Err(_) => break,
            }
        }
        let written = async {
            let w = db.begin_write().await?;
            for a in &batch {
                webhooks::finish(w.txn(), &a.due.delivery, a.at, &a.outcome).await?;
            }
            w.commit(crate::freshness::Touched::Nothing).await
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = ?e, attempts = batch.len(), "could not record webhook attempts");
        }
    }
}

/// A URL whose host is an address, not a name, never meets the resolver: it is judged here.
fn literal_allowed(url: &str, allow_private: bool) -> Result<(), Refused> {
    let parsed = reqwest::Url::parse(url).map_err(|_| Refused("is not a URL".into()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused("must be an http or https URL".into()));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| Refused("must name a host".into()))?;
    let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    else {
        return Ok(());
    };
    if allow_private || is_public_address(ip) {
        Ok(())
    } else {
        Err(Refused(format!(
            "{ip} is a loopback, private, link-local or metadata address, which webhooks may \
             not reach"
        )))
    }
}

/// A transport error without the chain of causes' internals.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text.chars().take(500).collect()
}
