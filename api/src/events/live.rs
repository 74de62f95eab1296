//! Live events for subscriptions (SPEC 4.11): every replica hears the ids of the events any
//! replica commits (PostgreSQL `NOTIFY` in the committing transaction, so only committed
//! events are heard; on SQLite, the committing process itself), reads each event back once,
//! and shares it with all of its subscriptions through one bounded broadcast buffer.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::{broadcast, mpsc};

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::events::EventType;
use crate::events::Bus;
use crate::store::events::{CHANNEL, Raised, StoredEvent, by_ids};
use crate::store::scope;

/// Reads each batch of committed ids back and publishes the events to the subscriptions.
pub(crate) async fn fan_out(db: Db, mut ids: mpsc::UnboundedReceiver<Vec<i64>>) {
    while let Some(mut batch) = ids.recv().await {
        while let Ok(more) = ids.try_recv() {
            batch.extend(more);
            if batch.len() >= 500 {
                break;
            }
        }
        // Read back only what somebody is listening for.
        if db.events.subscribers() == 0 {
            continue;
        }
        match by_ids(&db.conn, &batch).await {
            Ok(events) => {
                for e in events {
                    db.events.publish(e);
                }
            }
            Err(e) => tracing::warn!(error = ?e, "could not read committed events back"),
        }
    }
}

/// Listens on PostgreSQL for the ids every replica commits, reconnecting when the
/// connection drops, and passes them to the fan-out; each notification also wakes the
/// deliverer, which may then claim the new deliveries before another replica does.
pub(crate) async fn listen(url: String, bus: Arc<Bus>, ids: mpsc::UnboundedSender<Vec<i64>>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for events; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "cannot listen for events; trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        bus.set_listening(true);
        loop {
            match listener.recv().await {
                Ok(n) => {
                    let (batch, deliveries) = Raised::parse(n.payload());
                    if deliveries {
                        bus.wake.notify_one();
                    }
                    if ids.send(batch).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    bus.set_listening(false);
                    tracing::warn!(error = %e, "lost the event listener; reconnecting");
                    break;
                }
            }
        }
    }
}

/// What one subscription asked for.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Only these kinds; `None` for every kind.
    pub types: Option<HashSet<EventType>>,
    /// Only these schools (the subscription's filter, resolved when it began); `None` for
    /// every school the caller may read.
    pub urns: Option<HashSet<i32>>,
}

/// One item of a subscription: an event, or how many it missed by reading too slowly.
#[derive(Debug, Clone)]
pub enum Item {
    /// An event the caller may read.
    Event(Arc<StoredEvent>),
    /// Events dropped because the subscription fell more than [`super::LIVE_BUFFER`] behind.
    Missed(u64),
}

/// The events committed from now on that `p` may read and `wanted` selects, checked against
/// the school as stored when the event was committed.
pub fn subscribe(bus: &Bus, p: Arc<Principal>, wanted: Wanted) -> impl Stream<Item = Item> + use<> {
    let rx = bus.subscribe();
    futures::stream::unfold((rx, p, wanted), |(mut rx, p, wanted)| async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if visible(&p, &wanted, &e) {
                        return Some((Item::Event(e), (rx, p, wanted)));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    return Some((Item::Missed(n), (rx, p, wanted)));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

fn visible(p: &Principal, wanted: &Wanted, e: &StoredEvent) -> bool {
    let kind_ok = match (&wanted.types, e.kind()) {
        (Some(types), Some(k)) => types.contains(&k),
        (None, Some(_)) => true,
        (_, None) => false,
    };
    if !kind_ok {
        return false;
    }
    match &e.school {
        Some(s) => scope::can_read(p, s) && wanted.urns.as_ref().is_none_or(|u| u.contains(&s.urn)),
        None => p.admin && e.event.school_urn.is_none() && wanted.urns.is_none(),
    }
}
