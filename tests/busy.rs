//! SQLite writers that wait (SPEC 2, issue 16): while another process holds the write
//! lock, a write waits the busy timeout; a wait that runs out is answered 503 with
//! `Retry-After` and changes nothing (never `INTERNAL_SERVER_ERROR`), and the same request
//! succeeds once the lock is released. SQLite only: PostgreSQL writers do not share a lock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use serde_json::json;

#[tokio::test]
async fn a_write_that_outwaits_the_busy_timeout_is_503_with_retry_after_and_changes_nothing() {
    let s = TestServer::start_with(&[("SENCO_SQLITE_BUSY_TIMEOUT_MS", "300")]).await;
    if s.state.db.backend() != sea_orm::DbBackend::Sqlite {
        s.stop().await;
        return;
    }
    small_world(&s).await;
    // Another process's writer: one connection holding the write lock.
    let mut opts = ConnectOptions::new(s.state.config.database_url.clone());
    opts.max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let other = Database::connect(opts).await.unwrap();
    other.execute_unprepared("BEGIN IMMEDIATE").await.unwrap();
    let q =
        "mutation { upsertLocalAuthority(input: { code: 998, name: \"Waiting LA\" }) { code } }";
    let resp = s
        .client
        .post(s.url())
        .bearer_auth(admin())
        .json(&json!({ "query": q }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert!(
        !body.to_string().contains("locked"),
        "no database detail leaks: {body}"
    );
    other.execute_unprepared("ROLLBACK").await.unwrap();
    let d = s
        .ok(&admin(), "{ localAuthorities { code } }", json!({}))
        .await;
    assert!(!d.to_string().contains("998"), "nothing was written: {d}");
    // Once the lock is free the same request goes through.
    let d = s.ok(&admin(), q, json!({})).await;
    assert_eq!(d["upsertLocalAuthority"]["code"], 998);
    other.close().await.ok();
    s.stop().await;
}
