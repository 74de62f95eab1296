//! What `/metrics` says about requests and the pool, and the one log line per request
//! (SPEC section 6). Operation names are the client's to choose, so the set of them used as
//! metric labels is bounded: the first [`MAX_OPERATIONS`] names seen are kept and any later
//! one is counted as `other`, so a client sending random names cannot grow the server's
//! memory or the scrape.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Instant;

use axum::http::StatusCode;

use crate::db::Db;

/// Distinct operation names kept as labels.
pub const MAX_OPERATIONS: usize = 200;
/// The label of a request whose document names no operation.
pub const ANONYMOUS: &str = "anonymous";
/// The label of an operation name past the first [`MAX_OPERATIONS`].
pub const OTHER: &str = "other";
/// The outcome label of a request answered without errors.
pub const OK: &str = "ok";

/// The operation names used as labels so far.
#[derive(Debug, Default)]
pub struct Operations(Mutex<HashSet<String>>);

impl Operations {
    /// The label to count `operation` under.
    pub fn label(&self, operation: &str) -> String {
        if operation.is_empty() || operation == "-" {
            return ANONYMOUS.into();
        }
        let Ok(mut seen) = self.0.lock() else {
            return OTHER.into();
        };
        if seen.contains(operation) {
            return operation.into();
        }
        if seen.len() >= MAX_OPERATIONS {
            return OTHER.into();
        }
        seen.insert(operation.to_string());
        operation.into()
    }
}

/// How a GraphQL request ended, for the metrics and the log line.
pub struct Finished<'a> {
    /// The operation's name as the request or its document gave it (`-` when neither did).
    pub operation: &'a str,
    /// The HTTP status sent.
    pub status: StatusCode,
    /// `ok`, or the `extensions.code` of the first error.
    pub outcome: &'a str,
    /// How many errors the response carried.
    pub errors: usize,
    /// When the request arrived.
    pub started: Instant,
}

impl Operations {
    /// Counts the request by operation, status and outcome, records its latency by
    /// operation, and logs its line.
    pub fn finished(&self, f: Finished<'_>) {
        let elapsed = f.started.elapsed();
        let operation = self.label(f.operation);
        metrics::counter!(
            "senco_graphql_requests_total",
            "operation" => operation.clone(),
            "status" => f.status.as_u16().to_string(),
            "outcome" => f.outcome.to_string(),
        )
        .increment(1);
        metrics::histogram!(
            "senco_graphql_request_duration_seconds",
            "operation" => operation,
        )
        .record(elapsed.as_secs_f64());
        tracing::info!(
            operation = f.operation,
            status = f.status.as_u16(),
            outcome = f.outcome,
            errors = f.errors,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "graphql request"
        );
    }
}

/// Sets what is read at scrape time: the pool's connections in use and idle, its size, the
/// SQL statements run so far, and what the imports (commands run in processes of their own)
/// have done, from the `import_run` rows they leave. A database that does not answer leaves
/// the import figures as they were (`senco_database_up` says why).
pub async fn scrape(db: &Db) {
    metrics::counter!("senco_sql_statements_total").absolute(db.statements.get());
    let (open, idle) = db.pool_connections();
    let open = open as usize;
    metrics::gauge!("senco_db_pool_connections", "state" => "in_use")
        .set(open.saturating_sub(idle) as f64);
    metrics::gauge!("senco_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("senco_db_pool_max_connections").set(f64::from(db.pool_size()));
    let read = crate::store::imports::run_totals(&db.conn);
    let Ok(Ok(totals)) = tokio::time::timeout(std::time::Duration::from_secs(2), read).await else {
        return;
    };
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    for t in totals {
        let file = t.file.clone();
        metrics::counter!("senco_import_runs_total", "file" => file.clone()).absolute(n(t.runs));
        metrics::counter!("senco_import_rows_read_total", "file" => file.clone())
            .absolute(n(t.rows_read));
        for (outcome, rows) in [
            ("inserted", t.inserted),
            ("updated", t.updated),
            ("unchanged", t.unchanged),
            ("skipped", t.skipped),
        ] {
            metrics::counter!("senco_import_rows_total", "file" => file.clone(), "outcome" => outcome)
                .absolute(n(rows));
        }
        metrics::gauge!("senco_import_last_finished_timestamp_seconds", "file" => file)
            .set(t.last_finished_at.timestamp() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded_and_named_ones_kept() {
        let ops = Operations::default();
        assert_eq!(ops.label("-"), ANONYMOUS);
        assert_eq!(ops.label("Dashboard"), "Dashboard");
        for i in 0..MAX_OPERATIONS * 2 {
            ops.label(&format!("Random{i}"));
        }
        assert_eq!(ops.label("Dashboard"), "Dashboard");
        assert_eq!(ops.label("NeverSeenBefore"), OTHER);
        assert_eq!(ops.0.lock().map(|s| s.len()).unwrap_or(0), MAX_OPERATIONS);
    }
}
