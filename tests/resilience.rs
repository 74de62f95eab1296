//! Faults a production service meets: the process killed mid-stream, two replicas over one
//! PostgreSQL database, and the database going away and coming back. These run the real
//! `senco-oversight serve` binary as a child process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// A `senco-oversight serve` child process.
struct Replica {
    child: Child,
    url: String,
    base: String,
}

impl Replica {
    async fn start(db_url: &str) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
            .arg("serve")
            .env("SENCO_DATABASE_URL", db_url)
            .env("SENCO_JWT_SECRET", SECRET)
            .env("SENCO_DEMO", "false")
            .env("SENCO_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let r = Self {
            child,
            url: format!("{base}/graphql"),
            base,
        };
        // Wait for it to answer; bounded so a broken start fails the test, not hangs it.
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(resp) = client.get(format!("{}/health", r.base)).send().await
                && resp.status().is_success()
            {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    }

    fn kill_9(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> Option<Value> {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    resp.json::<Value>().await.ok()
}

const SUBMIT: &str = "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version challenges } }";

fn report(urn: i32, expected: i32, mark: &str) -> Value {
    json!({ "i": {
        "schoolUrn": urn, "academicYear": 2025, "term": "AUTUMN", "expectedVersion": expected,
        "numberOnRoll": 200, "pupilsWithSend": 30, "senSupport": 25, "ehcp": 5,
        "ehcpApplicationsInProcess": 1, "budgetE1": "1000.10", "budgetE2": "0", "budgetE3": "0",
        "budgetAdditional": "0", "expenditureToDate": "10", "nonContactHoursPerWeek": 4.5,
        "challenges": mark
    } })
}

async fn setup_schools(url: &str, urns: &[i32]) {
    let client = reqwest::Client::new();
    let a = admin();
    post(
        &client,
        url,
        &a,
        "mutation { upsertLocalAuthority(input: { code: 202, name: \"Camden\" }) { code } }",
        json!({}),
    )
    .await
    .unwrap();
    for urn in urns {
        let d = post(
            &client,
            url,
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": { "urn": urn, "name": format!("School {urn}"), "laCode": 202,
                           "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": false } }),
        )
        .await
        .unwrap();
        assert!(d.get("errors").is_none(), "{d}");
    }
}

/// Acknowledged (school, version, mark) triples.
type Acks = Arc<Mutex<Vec<(i32, i32, String)>>>;

/// Each client amends its own school's report in a loop, recording every acknowledgement,
/// until `stop` says so or the server stops answering.
async fn amend_loop(
    urls: Vec<String>,
    urn: i32,
    acks: Acks,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let client = reqwest::Client::new();
    let t = token(&format!("school-{urn}"), &format!("school:{urn}:write"));
    let mut version = 0;
    let mut n = 0usize;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let url = &urls[n % urls.len()];
        n += 1;
        let mark = format!("{urn}-{n}");
        match post(&client, url, &t, SUBMIT, report(urn, version, &mark)).await {
            Some(d) if d.get("errors").is_none() => {
                let v = d["data"]["submitTermlyReport"]["version"].as_i64().unwrap() as i32;
                assert_eq!(v, version + 1, "versions follow on: {d}");
                version = v;
                acks.lock().await.push((urn, v, mark));
            }
            Some(d) => {
                let code = d["errors"][0]["extensions"]["code"].as_str().unwrap_or("");
                assert_ne!(code, "BAD_USER_INPUT", "{d}");
                // A CONFLICT means an earlier, unacknowledged attempt was stored: re-read.
                return;
            }
            None => return,
        }
    }
}

/// Checks every acknowledged submission is stored once, each school's history is one
/// unbroken chain, and nothing stored is half-written.
async fn assert_all_acknowledged_present(url: &str, urns: &[i32], acks: &[(i32, i32, String)]) {
    let client = reqwest::Client::new();
    let a = token("auditor", "la:202:read");
    for urn in urns {
        let d = post(
            &client,
            url,
            &a,
            "query($u: Int!) { termlyReport(schoolUrn: $u, academicYear: 2025, term: AUTUMN) {
               history { version challenges numberOnRoll budgetE1 } } }",
            json!({ "u": urn }),
        )
        .await
        .unwrap();
        let history = d["data"]["termlyReport"]["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let versions: Vec<i64> = history
            .iter()
            .map(|h| h["version"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (1..=versions.len() as i64).collect();
        assert_eq!(versions, expected, "an unbroken chain for {urn}");
        for h in &history {
            assert_eq!(h["numberOnRoll"], 200, "whole rows only: {h}");
            assert_eq!(h["budgetE1"], "1000.10", "whole rows only: {h}");
        }
        let stored: BTreeMap<i64, String> = history
            .iter()
            .map(|h| {
                (
                    h["version"].as_i64().unwrap(),
                    h["challenges"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for (u, v, mark) in acks.iter().filter(|(u, _, _)| u == urn) {
            assert_eq!(
                stored.get(&i64::from(*v)),
                Some(mark),
                "acknowledged {u} v{v} is stored"
            );
        }
    }
}

#[tokio::test]
async fn acknowledged_submissions_survive_kill_9() {
    let db = TestDb::new().await;
    let urns = [100001, 100002, 100003, 100004];
    let server = Replica::start(&db.url).await;
    setup_schools(&server.url, &urns).await;
    let acks: Acks = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks: Vec<_> = urns
        .iter()
        .map(|u| {
            tokio::spawn(amend_loop(
                vec![server.url.clone()],
                *u,
                acks.clone(),
                stop.clone(),
            ))
        })
        .collect();
    // Let a stream build up, then kill the server without warning in the middle of it.
    for _ in 0..400 {
        if acks.lock().await.len() >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_9();
    for t in tasks {
        t.await.unwrap();
    }
    let acks = acks.lock().await.clone();
    assert!(
        acks.len() >= 40,
        "the stream was running when the server died: {}",
        acks.len()
    );
    let restarted = Replica::start(&db.url).await;
    assert_all_acknowledged_present(&restarted.url, &urns, &acks).await;
    drop(restarted);
}

#[tokio::test]
async fn two_replicas_on_one_postgres_database_keep_every_acknowledged_write() {
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!("replicas share a PostgreSQL database; set SENCO_TEST_POSTGRES_URL to run this");
        return;
    }
    let one = Replica::start(&db.url).await;
    let two = Replica::start(&db.url).await;
    let urns: Vec<i32> = (0..8).map(|i| 100010 + i).collect();
    setup_schools(&one.url, &urns).await;
    let acks: Acks = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let urls = vec![one.url.clone(), two.url.clone()];
    let mut tasks: Vec<_> = urns
        .iter()
        .map(|u| tokio::spawn(amend_loop(urls.clone(), *u, acks.clone(), stop.clone())))
        .collect();
    // Both replicas also race to appoint SENCOs and change them at one school.
    let appoint_tasks: Vec<_> = (0..16)
        .map(|i| {
            let url = urls[i % 2].clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let d = post(
                    &client,
                    &url,
                    &token("officer", "la:202:write"),
                    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
                    json!({ "i": { "schoolUrn": 100010, "startedOn": format!("2020-01-{:02}", i + 1),
                                   "person": { "trn": format!("{:07}", 3_000_000 + i), "fullName": "Replica Test",
                                               "hasQts": true, "inductionStatus": "COMPLETED" } } }),
                )
                .await
                .unwrap();
                assert!(d.get("errors").is_none(), "{d}");
            })
        })
        .collect();
    for t in appoint_tasks {
        t.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks.drain(..) {
        t.await.unwrap();
    }
    let acks = acks.lock().await.clone();
    assert!(
        acks.len() >= urns.len(),
        "both replicas took writes: {}",
        acks.len()
    );
    assert_all_acknowledged_present(&two.url, &urns, &acks).await;
    let d = post(
        &reqwest::Client::new(),
        &one.url,
        &admin(),
        "{ school(urn: 100010) { sencoAppointments { person { trn } } } }",
        json!({}),
    )
    .await
    .unwrap();
    let mut trns: Vec<String> = d["data"]["school"]["sencoAppointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["person"]["trn"].as_str().unwrap().to_owned())
        .collect();
    trns.sort();
    let expected: Vec<String> = (0..16).map(|i| format!("{:07}", 3_000_000 + i)).collect();
    assert_eq!(trns, expected, "every acknowledged appointment once");
}

#[tokio::test]
async fn health_answers_503_while_the_database_is_away_and_recovers_by_itself() {
    use sea_orm::ConnectionTrait;
    let db = TestDb::new().await;
    if !db.is_postgres() {
        eprintln!(
            "this test takes a PostgreSQL database away; set SENCO_TEST_POSTGRES_URL to run it"
        );
        return;
    }
    let server = Replica::start(&db.url).await;
    setup_schools(&server.url, &[100001]).await;
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let base = std::env::var("SENCO_TEST_POSTGRES_URL").unwrap();
    let admin_conn = sea_orm::Database::connect(&base).await.unwrap();
    admin_conn
        .execute_unprepared(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 503);
    let d = post(
        &client,
        &server.url,
        &admin(),
        "{ school(urn: 100001) { name } }",
        json!({}),
    )
    .await
    .unwrap();
    let err = &d["errors"][0];
    assert_eq!(err["extensions"]["code"], "INTERNAL_SERVER_ERROR", "{d}");
    let text = d.to_string().to_lowercase();
    assert!(
        !text.contains("sql") && !text.contains("postgres") && !text.contains(&name),
        "{d}"
    );
    admin_conn
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        let r = client
            .get(format!("{}/health", server.base))
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the service recovers when the database returns");
    let d = post(
        &client,
        &server.url,
        &admin(),
        "{ school(urn: 100001) { name } }",
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(d["data"]["school"]["name"], "School 100001");
}
