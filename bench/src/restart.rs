//! Restart (SPEC 7): after the scenarios the server is started again on the same database,
//! `/health` is asked every 2 ms until it first answers 200, and at once one read is sent on
//! the same connection, under a token the server has never seen: the LA dashboard, or
//! (after another restart) the whole country's `qualificationDeadlines` as admin. The time
//! from that first 200 to the read's whole answer is what SPEC 7 bounds: nothing may be
//! computed in full on the request path. Each read gets restarts of its own, so that
//! neither warms the other, and the slowest of them is judged.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dataset::DataSet;
use crate::scenarios::{self, DASHBOARD};
use crate::server::{HEALTH_POLL_FINE, Server};

/// The whole country's deadlines, first 100, with person and school (admin).
pub const COUNTRY_DEADLINES: &str = "query Country($first: Int!) {
  qualificationDeadlines(first: $first) {
    totalCount
    edges { node {
      status deadline daysRemaining dutyApplies
      person { id fullName trn }
      school { urn name }
    } }
  }
}";

/// Restarts per read.
pub const TIMES: usize = 3;

/// The LA dashboard's target after a restart, ms.
pub const DASHBOARD_TARGET_MS: f64 = 100.0;

/// The country deadlines' target after a restart, ms.
pub const COUNTRY_TARGET_MS: f64 = 150.0;

/// Which read follows a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The LA dashboard, LA token.
    Dashboard,
    /// The country's `qualificationDeadlines`, admin token.
    Country,
}

/// One restart and its first read.
#[derive(Debug, Clone)]
pub struct Restart {
    /// The read sent.
    pub read: Read,
    /// From starting the process to `/health` first answering 200.
    pub up_in: Duration,
    /// From that 200 to the read's whole answer; `None` when it failed.
    pub answered_in: Option<Duration>,
    /// The answer's `totalCount`.
    pub total_count: Option<i64>,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// Sends the read on `srv`'s open connection and returns (time since the first 200,
/// `totalCount`).
async fn first_read(srv: &Server, token: &str, body: &Value) -> Result<(Duration, i64), String> {
    let resp = srv
        .http()
        .post(format!("{}/graphql", srv.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("transport error: {e}"))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    let answered_in = Instant::now().duration_since(srv.healthy_at);
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("HTTP {status}, not JSON ({e})"))?;
    if !status.is_success() || v.get("errors").is_some() {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(400)
                .collect::<String>()
        ));
    }
    let total = v["data"]["qualificationDeadlines"]["totalCount"]
        .as_i64()
        .ok_or_else(|| format!("no totalCount in {v}"))?;
    Ok((answered_in, total))
}

/// Restarts the server [`TIMES`] times per read, alternating the reads, each time stopping
/// it again after its read. Returns the restarts and the lines the servers logged (each
/// server's output goes to `log`, read back after it stops).
pub async fn measure(
    bin: &Path,
    database_url: &str,
    secret: &str,
    extra_env: &[(String, String)],
    log: &Path,
    data: &DataSet,
) -> anyhow::Result<(Vec<Restart>, Vec<String>)> {
    let la = data.largest_la.0;
    let mut out = Vec::new();
    let mut lines = Vec::new();
    for i in 0..TIMES {
        for read in [Read::Dashboard, Read::Country] {
            let (token, body) = match read {
                Read::Dashboard => (
                    scenarios::token(
                        secret,
                        &format!("bench-restart-la-{i}"),
                        &format!("la:{la}:read"),
                    )?,
                    json!({ "query": DASHBOARD, "variables": { "la": la, "first": 100 } }),
                ),
                Read::Country => (
                    scenarios::token(secret, &format!("bench-restart-admin-{i}"), "admin")?,
                    json!({ "query": COUNTRY_DEADLINES, "variables": { "first": 100 } }),
                ),
            };
            let srv = Server::start(
                bin,
                database_url,
                secret,
                extra_env,
                log.to_path_buf(),
                HEALTH_POLL_FINE,
            )
            .await?;
            let up_in = srv.up_in;
            let result = first_read(&srv, &token, &body).await;
            srv.stop().await?;
            lines.extend(
                std::fs::read_to_string(log)
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
            crate::log(format!(
                "  restart {}: {read:?}: up in {:.0} ms, {}",
                i + 1,
                up_in.as_secs_f64() * 1000.0,
                match &result {
                    Ok((d, n)) => format!(
                        "answered {:.1} ms after the first 200 ({n} rows in all)",
                        d.as_secs_f64() * 1000.0
                    ),
                    Err(e) => format!("failed: {e}"),
                }
            ));
            out.push(match result {
                Ok((d, n)) => Restart {
                    read,
                    up_in,
                    answered_in: Some(d),
                    total_count: Some(n),
                    error: None,
                },
                Err(e) => Restart {
                    read,
                    up_in,
                    answered_in: None,
                    total_count: None,
                    error: Some(e),
                },
            });
        }
    }
    Ok((out, lines))
}
