//! What the event workers count, for `/metrics` (Prometheus text):
//!
//! - `senco_events_raised_total{type}`: events written to the outbox (by `store::events`);
//! - `senco_webhook_deliveries_total{outcome}`: attempts by outcome (`delivered`, `retry`,
//!   `failed`, `out_of_scope`);
//! - `senco_webhook_retries_total`: attempts after the first;
//! - `senco_webhook_delivery_lag_seconds`: from an event's commit to its delivery;
//! - `senco_webhook_attempt_duration_seconds`: one attempt, the receiver's answer included;
//! - `senco_subscriptions_open`: live subscriptions open in this process.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::webhooks::{Due, Outcome};

/// Registers the descriptions of the workers' metrics.
pub fn describe() {
    metrics::describe_counter!(
        "senco_events_raised_total",
        "Events written to the outbox, by type"
    );
    metrics::describe_counter!(
        "senco_webhook_deliveries_total",
        "Webhook delivery attempts, by outcome"
    );
    metrics::describe_counter!(
        "senco_webhook_retries_total",
        "Webhook delivery attempts after the first"
    );
    metrics::describe_histogram!(
        "senco_webhook_delivery_lag_seconds",
        metrics::Unit::Seconds,
        "From an event's commit to its webhook delivery"
    );
    metrics::describe_histogram!(
        "senco_webhook_attempt_duration_seconds",
        metrics::Unit::Seconds,
        "One webhook delivery attempt"
    );
    metrics::describe_gauge!(
        "senco_subscriptions_open",
        "Live GraphQL subscriptions open in this process"
    );
}

/// Counts one attempt made at `at` that took `took`.
pub(crate) fn attempted(due: &Due, outcome: &Outcome, at: DateTime<Utc>, took: Duration) {
    let label = match outcome {
        Outcome::Delivered { .. } => "delivered",
        Outcome::Retry { next: Some(_), .. } => "retry",
        Outcome::Retry { next: None, .. } => "failed",
        Outcome::OutOfScope => "out_of_scope",
    };
    metrics::counter!("senco_webhook_deliveries_total", "outcome" => label).increment(1);
    if due.delivery.attempts > 0 {
        metrics::counter!("senco_webhook_retries_total").increment(1);
    }
    metrics::histogram!("senco_webhook_attempt_duration_seconds").record(took.as_secs_f64());
    if matches!(outcome, Outcome::Delivered { .. }) {
        let lag = (at - due.event.occurred_at).to_std().unwrap_or_default() + took;
        metrics::histogram!("senco_webhook_delivery_lag_seconds").record(lag.as_secs_f64());
    }
}

/// A live subscription opened; the returned guard counts it closed when dropped.
pub(crate) fn subscription_opened() -> OpenSubscription {
    metrics::gauge!("senco_subscriptions_open").increment(1.0);
    OpenSubscription(())
}

/// Counts one open subscription while it lives.
pub(crate) struct OpenSubscription(());

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        metrics::gauge!("senco_subscriptions_open").decrement(1.0);
    }
}
