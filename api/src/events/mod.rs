//! Telling people and systems (SPEC 4.11): the background work of a serving process.
//!
//! - `delivery`: sends the outbox's webhook deliveries, signed per Standard Webhooks, with
//!   retries; several replicas share the work through leases (`store::webhooks`).
//! - `live`: brings every committed event, from any replica, to this process's
//!   subscriptions: PostgreSQL `LISTEN`/`NOTIFY`, or straight from the commit on SQLite.
//! - `reminders`: the daily run at `SENCO_REMINDER_TIME` in Europe/London.
//! - `metrics`: what the workers count.
//!
//! Events themselves are written by `service::write` through the journal, in the change's
//! own transaction (`store::events`); [`Bus::committed`] then wakes the workers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::AppState;
use crate::db::Db;
use crate::store::events::{Raised, StoredEvent};

pub mod delivery;
pub mod live;
pub mod metrics;
pub mod reminders;

/// Events kept for subscribers that read slowly; one that falls further behind is told how
/// many it missed (SPEC 4.11: bounded per-connection buffers).
pub const LIVE_BUFFER: usize = 1024;

/// Where a process announces committed events to its own workers and subscribers.
pub struct Bus {
    /// Wakes the deliverer when new deliveries may be due.
    pub(crate) wake: Notify,
    /// The ids of events committed by this process, for the fan-out (SQLite, where no other
    /// process announces them); `None` until the fan-out runs, or on PostgreSQL, where the
    /// database's notifications bring every replica's events, this one's included.
    local: Mutex<Option<mpsc::UnboundedSender<Vec<i64>>>>,
    /// Committed events, read back once and shared by every subscription of the process.
    live: broadcast::Sender<Arc<StoredEvent>>,
    /// Whether committed events reach this process's subscriptions yet (the fan-out runs,
    /// and on PostgreSQL the `LISTEN` is in place).
    listening: AtomicBool,
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            wake: Notify::new(),
            local: Mutex::new(None),
            live: broadcast::channel(LIVE_BUFFER).0,
            listening: AtomicBool::new(false),
        }
    }
}

impl Bus {
    /// Called after a commit that stored `raised`: wakes the deliverer when it made
    /// deliveries, and hands the ids to the fan-out where no database notification will.
    pub fn committed(&self, raised: &Raised) {
        if raised.deliveries > 0 {
            self.wake.notify_one();
        }
        if raised.ids.is_empty() {
            return;
        }
        if let Ok(local) = self.local.lock()
            && let Some(tx) = local.as_ref()
        {
            let _ = tx.send(raised.ids.clone());
        }
    }

    /// A receiver of every event committed from now on, by any replica.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.live.subscribe()
    }

    /// Whether events committed from now on, by any replica, reach this process's
    /// subscriptions (false for a moment after start, and while PostgreSQL reconnects).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    pub(crate) fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::SeqCst);
    }

    /// How many subscriptions of this process are listening now.
    pub fn subscribers(&self) -> usize {
        self.live.receiver_count()
    }

    pub(crate) fn publish(&self, e: StoredEvent) {
        // No receiver is not an error: nobody is subscribed.
        let _ = self.live.send(Arc::new(e));
    }

    fn route_local(&self, tx: mpsc::UnboundedSender<Vec<i64>>) {
        if let Ok(mut local) = self.local.lock() {
            *local = Some(tx);
        }
        self.set_listening(true);
    }
}

/// The background workers of a serving process; dropped or stopped, they end.
pub struct Workers(Vec<JoinHandle<()>>);

impl Workers {
    /// Stops every worker. A delivery cut off mid-attempt keeps its lease and is attempted
    /// again when the lease lapses; nothing acknowledged is lost.
    pub fn stop(self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Starts the deliverer, the live fan-out and (unless `SENCO_REMINDERS=false`) the daily
/// reminders for a serving process. They run on a small pool of their own, so that their
/// polling neither takes connections from requests nor shows in the statement counts of
/// requests; they announce and hear events on the same [`Bus`] as the requests.
pub fn start(state: &AppState) -> Workers {
    metrics::describe();
    let state = state.clone();
    let task = tokio::spawn(async move {
        let db = worker_db(&state).await;
        let (tx, rx) = mpsc::unbounded_channel();
        let postgres = db.backend() == sea_orm::DbBackend::Postgres;
        let bus = state.db.events.clone();
        let url = state.config.database_url.clone();
        let listen = async move {
            if postgres {
                live::listen(url, bus, tx).await;
            } else {
                bus.route_local(tx);
                std::future::pending::<()>().await;
            }
        };
        let reminders = {
            let db = db.clone();
            let at = state.config.reminder_time;
            let enabled = state.config.reminders;
            async move {
                if enabled {
                    reminders::schedule(db, at).await;
                }
            }
        };
        let retention = state.config.event_retention_days;
        tokio::join!(
            listen,
            live::fan_out(db.clone(), rx),
            delivery::Deliverer::new(&state.config).run(db.clone()),
            reminders,
            prune(db.clone(), retention),
        );
    });
    Workers(vec![task])
}

/// The workers' own pool (the requests' one for an in-memory SQLite database, which a
/// second pool would not see), sharing the requests' bus.
/// How often settled deliveries and old change events are removed.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Removes, a minute after start and then every [`PRUNE_EVERY`], what
/// `store::events::prune` removes that is older than `days` (never, when 0). Every replica
/// may do it: a row two remove at once is removed once.
async fn prune(db: Db, days: u32) {
    if days == 0 {
        return;
    }
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    loop {
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        match prune_before(&db, before).await {
            Ok(p) if p.deliveries + p.events > 0 => tracing::info!(
                deliveries = p.deliveries,
                events = p.events,
                days,
                "removed settled deliveries and change events past their retention"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "pruning old events failed"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}

/// Removes everything `store::events::prune_batch` removes older than `before`, a batch
/// per write transaction (so SQLite's other writers wait for one batch at most).
pub async fn prune_before(
    db: &Db,
    before: chrono::DateTime<chrono::Utc>,
) -> crate::error::ApiResult<crate::store::events::Pruned> {
    let mut all = crate::store::events::Pruned::default();
    loop {
        let w = db.begin_write().await?;
        let p = crate::store::events::prune_batch(w.txn(), before).await?;
        w.commit(crate::freshness::Touched::Nothing).await?;
        all.deliveries += p.deliveries;
        all.events += p.events;
        if p.deliveries < crate::store::events::PRUNE_BATCH
            && p.events < crate::store::events::PRUNE_BATCH
        {
            return Ok(all);
        }
    }
}

async fn worker_db(state: &AppState) -> Db {
    if state.config.database_url.contains(":memory:") {
        return state.db.clone();
    }
    loop {
        match Db::connect_waiting(
            &state.config.database_url,
            4,
            state.config.sqlite_busy_timeout,
        )
        .await
        {
            Ok(mut db) => {
                db.events = state.db.events.clone();
                db.share_write_gate(&state.db);
                return db;
            }
            Err(e) => {
                tracing::warn!(error = %e, "the event workers cannot connect; trying again");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}
