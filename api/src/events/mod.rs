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

use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::AppState;
use crate::store::events::StoredEvent;

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
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            wake: Notify::new(),
            local: Mutex::new(None),
            live: broadcast::channel(LIVE_BUFFER).0,
        }
    }
}

impl Bus {
    /// Called after a commit that stored the events `ids`.
    pub fn committed(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        self.wake.notify_one();
        if let Ok(local) = self.local.lock()
            && let Some(tx) = local.as_ref()
        {
            let _ = tx.send(ids.to_vec());
        }
    }

    /// A receiver of every event committed from now on, by any replica.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.live.subscribe()
    }

    pub(crate) fn publish(&self, e: StoredEvent) {
        // No receiver is not an error: nobody is subscribed.
        let _ = self.live.send(Arc::new(e));
    }

    fn route_local(&self, tx: mpsc::UnboundedSender<Vec<i64>>) {
        if let Ok(mut local) = self.local.lock() {
            *local = Some(tx);
        }
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
/// reminders for a serving process.
pub fn start(state: &AppState) -> Workers {
    metrics::describe();
    let mut tasks = Vec::new();
    let (tx, rx) = mpsc::unbounded_channel();
    if state.db.backend() == sea_orm::DbBackend::Postgres {
        tasks.push(tokio::spawn(live::listen(
            state.config.database_url.clone(),
            state.db.events.clone(),
            tx,
        )));
    } else {
        state.db.events.route_local(tx);
    }
    tasks.push(tokio::spawn(live::fan_out(state.db.clone(), rx)));
    tasks.push(tokio::spawn(
        delivery::Deliverer::new(&state.config).run(state.db.clone()),
    ));
    if state.config.reminders {
        tasks.push(tokio::spawn(reminders::schedule(
            state.db.clone(),
            state.config.reminder_time,
        )));
    }
    Workers(tasks)
}
