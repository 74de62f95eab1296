//! Events, webhooks, reminders and live subscriptions (SPEC 4.11), against real servers, a
//! real HTTP receiver started by each test, and (for `kill -9`) the real binary. Signatures
//! are checked by an independent implementation: the Standard Webhooks npm package, run
//! with Node from `ci/node_modules` (installed by `(cd ci && npm ci)`, as `.ci/run` does).
//! Delivery retries are made fast with `SENCO_WEBHOOK_RETRY_FIRST_MS`; reminders run on
//! chosen days through `api::events::reminders` instead of the clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use futures::{SinkExt, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the test servers run with: webhooks may reach this machine's receiver, retries come
/// after 50 ms, and no reminder runs by the clock.
const FAST: &[(&str, &str)] = &[
    ("SENCO_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("SENCO_WEBHOOK_RETRY_FIRST_MS", "50"),
    ("SENCO_REMINDERS", "false"),
];

/// How a receiver answers one request.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Status(u16),
    /// Never answers (the server's 10 s timeout, or its death, ends the request).
    Hang,
}

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// An HTTP server standing in for an LA's system: records every request and answers as
/// scripted (200 once the script is used up).
struct Receiver {
    url: String,
    got: mpsc::UnboundedReceiver<Received>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Receiver {
    async fn start(script: &[Reply]) -> Self {
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let (tx, got) = mpsc::unbounded_channel();
        let s = script.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            let tx = tx.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let _ = tx.send(Received {
                    id: h("webhook-id"),
                    timestamp: h("webhook-timestamp"),
                    signature: h("webhook-signature"),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let reply = s.lock().unwrap().pop_front().unwrap_or(Reply::Status(200));
                match reply {
                    Reply::Status(code) => StatusCode::from_u16(code).unwrap(),
                    Reply::Hang => {
                        std::future::pending::<()>().await;
                        StatusCode::OK
                    }
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}/hooks/senco"),
            got,
            script,
        }
    }

    /// The next request, within `secs` seconds.
    async fn next_within(&mut self, secs: u64) -> Received {
        tokio::time::timeout(Duration::from_secs(secs), self.got.recv())
            .await
            .expect("no webhook request arrived in time")
            .expect("the receiver stopped")
    }

    async fn next(&mut self) -> Received {
        self.next_within(30).await
    }

    /// Requests that have arrived and not been read yet.
    fn pending(&mut self) -> Vec<Received> {
        let mut out = Vec::new();
        while let Ok(r) = self.got.try_recv() {
            out.push(r);
        }
        out
    }
}

/// Installs `ci/`'s npm packages (the Standard Webhooks verifier) when they are missing, as
/// `.ci/run` does, so that `cargo test` works on a fresh clone wherever npm is; once per test
/// binary, however many tests ask at once.
fn install_verifier(ci: &std::path::Path) {
    static INSTALLED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if *done || ci.join("node_modules/standardwebhooks").exists() {
        *done = true;
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(ci)
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "installing the independent verifier failed: run  (cd ci && npm ci)  ({status:?})"
    );
    *done = true;
}

/// Verifies each request's signature with the Standard Webhooks npm package, and that the
/// same package refuses a body changed by one character (so the check can fail).
fn verify_independently(secret: &str, got: &[Received]) {
    let ci = repo_root().join("ci");
    install_verifier(&ci);
    assert!(
        ci.join("node_modules/standardwebhooks").exists(),
        "the independent verifier is missing: run  (cd ci && npm ci)"
    );
    let script = r#"
import { Webhook } from "standardwebhooks";
const wh = new Webhook(process.argv[1]);
const msgs = JSON.parse(process.argv[2]);
for (const m of msgs) {
  const headers = { "webhook-id": m.id, "webhook-timestamp": m.timestamp, "webhook-signature": m.signature };
  wh.verify(m.body, headers);
  let tampered = false;
  try { wh.verify(m.body + " ", headers); } catch (e) { tampered = true; }
  if (!tampered) { throw new Error("a changed body verified"); }
}
console.log("verified " + msgs.length);
"#;
    let msgs: Vec<Value> = got
        .iter()
        .map(|r| json!({ "id": r.id, "timestamp": r.timestamp, "signature": r.signature, "body": r.body }))
        .collect();
    let payload = Value::Array(msgs).to_string();
    let out = Command::new("node")
        .current_dir(&ci)
        .args([
            "--input-type=module",
            "-e",
            script,
            secret,
            payload.as_str(),
        ])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "signature verification failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("verified {}", got.len())
    );
}

const CREATE: &str = "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { secret webhook { id url types } } }";
const APPOINT: &str =
    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }";
const DELIVERIES: &str = "query($w: ID!) { webhookDeliveries(webhookId: $w) { totalCount edges { node { id status attempts lastStatusCode event { id type school { urn } } } } } }";

/// Registers a webhook to `url` as the holder of `token`; returns (id, secret).
async fn create_webhook(s: &TestServer, token: &str, url: &str, types: Value) -> (String, String) {
    let d = s
        .ok(
            token,
            CREATE,
            json!({ "i": { "url": url, "types": types, "description": "test receiver" } }),
        )
        .await;
    let secret = d["createWebhook"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (
        d["createWebhook"]["webhook"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        secret,
    )
}

async fn appoint(s: &TestServer, token: &str, urn: i32, started: &str) -> (String, String) {
    let d = s
        .ok(
            token,
            APPOINT,
            json!({ "i": {
                "schoolUrn": urn, "startedOn": started,
                "person": { "fullName": "Jo Example", "email": "jo@example.org", "hasQts": true, "inductionStatus": "COMPLETED" }
            } }),
        )
        .await;
    (
        d["appointSenco"]["id"].as_str().unwrap().to_string(),
        d["appointSenco"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

fn report(urn: i32) -> Value {
    json!({ "i": {
        "schoolUrn": urn, "academicYear": 2025, "term": "AUTUMN",
        "numberOnRoll": 200, "pupilsWithSend": 30, "senSupport": 25, "ehcp": 5,
        "ehcpApplicationsInProcess": 1, "budgetE1": "1000.10", "budgetE2": "0", "budgetE3": "0",
        "budgetAdditional": "0", "expenditureToDate": "10", "nonContactHoursPerWeek": 4.5,
        "challenges": "Staffing"
    } })
}

/// Waits until every delivery of the webhook is in `status`, and returns them.
async fn settled(s: &TestServer, token: &str, webhook: &str, status: &str, n: u64) -> Vec<Value> {
    for _ in 0..500 {
        let d = s.ok(token, DELIVERIES, json!({ "w": webhook })).await;
        let c = &d["webhookDeliveries"];
        let edges: Vec<Value> = c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        if c["totalCount"] == n && edges.iter().all(|e| e["status"] == status) {
            return edges;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the deliveries did not all become {status}");
}

#[tokio::test]
async fn each_change_event_arrives_once_with_a_valid_signature() {
    let s = TestServer::start_with(FAST).await;
    small_world(&s).await;
    let mut rx = Receiver::start(&[]).await;
    let la = token("la-officer@example.org", "la:202:write");
    let (hook, secret) = create_webhook(&s, &la, &rx.url, json!([])).await;

    let (appointment, person) = appoint(&s, &la, 100001, "2025-09-01").await;
    let q = s
        .ok(
            &la,
            "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { id } }",
            json!({ "i": { "personId": person, "kind": "NPQ_SENCO", "startedOn": "2025-11-01" } }),
        )
        .await;
    // The course completed: a change to the qualification is announced as well.
    s.ok(
        &la,
        "mutation($i: UpdateQualificationInput!) { updateQualification(input: $i) { id } }",
        json!({ "i": { "qualificationId": q["recordQualification"]["id"], "completedOn": "2026-06-30" } }),
    )
    .await;
    s.ok(
        &la,
        "mutation($i: EndSencoAppointmentInput!) { endSencoAppointment(input: $i) { id } }",
        json!({ "i": { "appointmentId": appointment, "endedOn": "2026-07-31" } }),
    )
    .await;
    let school = token("school-100001", "school:100001:write");
    s.ok(
        &school,
        "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
        report(100001),
    )
    .await;
    // A rejected change raises nothing: a stale amendment is CONFLICT and rolls back.
    let (code, _) = s
        .err(
            Some(&school),
            "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
            report(100001),
        )
        .await;
    assert_eq!(code, "CONFLICT");

    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(rx.next().await);
    }
    let recorded: Vec<Value> = got
        .iter()
        .map(|r| r.json())
        .filter(|e| e["type"] == "QUALIFICATION_RECORDED")
        .collect();
    assert_eq!(recorded.len(), 2, "recorded, then updated: {recorded:?}");
    let updated: Vec<&Value> = recorded
        .iter()
        .filter(|e| e["data"]["updated"] == true)
        .collect();
    assert_eq!(updated.len(), 1, "{recorded:?}");
    assert_eq!(updated[0]["data"]["completedOn"], "2026-06-30");
    let by_type: HashMap<String, Value> = got
        .iter()
        .map(|r| (r.json()["type"].as_str().unwrap().to_string(), r.json()))
        .collect();
    let mut types: Vec<&str> = by_type.keys().map(String::as_str).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "QUALIFICATION_RECORDED",
            "SENCO_APPOINTED",
            "SENCO_APPOINTMENT_ENDED",
            "TERMLY_REPORT_SUBMITTED"
        ]
    );
    for r in &got {
        let body = r.json();
        assert_eq!(r.id, body["id"], "webhook-id is the event's id");
        assert_eq!(body["schoolUrn"], 100001);
        assert!(
            !r.body.contains("Jo Example") && !r.body.contains("jo@example.org"),
            "no names or e-mails in events: {}",
            r.body
        );
    }
    assert_eq!(
        by_type["SENCO_APPOINTED"]["data"]["appointmentId"],
        appointment
    );
    assert_eq!(
        by_type["SENCO_APPOINTMENT_ENDED"]["data"]["endedOn"],
        "2026-07-31"
    );
    assert_eq!(
        by_type["QUALIFICATION_RECORDED"]["data"]["kind"],
        "NPQ_SENCO"
    );
    assert_eq!(by_type["TERMLY_REPORT_SUBMITTED"]["data"]["version"], 1);
    verify_independently(&secret, &got);

    let delivered = settled(&s, &la, &hook, "DELIVERED", 5).await;
    assert!(delivered.iter().all(|d| d["attempts"] == 1));
    assert!(rx.pending().is_empty(), "each event arrived once");
}

#[tokio::test]
async fn a_receiver_answering_500_then_200_gets_the_same_id_twice() {
    let s = TestServer::start_with(FAST).await;
    small_world(&s).await;
    let mut rx = Receiver::start(&[Reply::Status(500)]).await;
    let la = token("la-officer", "la:202:write");
    let (hook, secret) = create_webhook(&s, &la, &rx.url, json!(["SENCO_APPOINTED"])).await;
    appoint(&s, &la, 100002, "2025-09-01").await;
    let first = rx.next().await;
    let second = rx.next().await;
    assert_eq!(first.id, second.id, "the same id on every retry");
    assert_eq!(first.body, second.body);
    verify_independently(&secret, &[first, second]);
    let d = settled(&s, &la, &hook, "DELIVERED", 1).await;
    assert_eq!(d[0]["attempts"], 2);
    assert_eq!(d[0]["lastStatusCode"], 200);
}

#[tokio::test]
async fn a_delivery_that_never_succeeds_fails_after_the_window_and_can_be_redelivered() {
    let mut env = FAST.to_vec();
    env.push(("SENCO_WEBHOOK_RETRY_WINDOW_SECS", "1"));
    let s = TestServer::start_with(&env).await;
    small_world(&s).await;
    let mut rx = Receiver::start(&[Reply::Status(503); 64]).await;
    let la = token("la-officer", "la:202:write");
    let (hook, _) = create_webhook(&s, &la, &rx.url, json!([])).await;
    appoint(&s, &la, 100001, "2025-09-01").await;
    let failed = settled(&s, &la, &hook, "FAILED", 1).await;
    let attempts = failed[0]["attempts"].as_i64().unwrap();
    assert!(attempts >= 2, "retried before failing: {attempts}");
    assert_eq!(failed[0]["lastStatusCode"], 503);
    let first = rx.next().await;
    rx.pending();
    rx.script.lock().unwrap().clear();
    let d = s
        .ok(
            &la,
            "mutation($d: ID!) { redeliverWebhookEvent(deliveryId: $d) { status attempts } }",
            json!({ "d": failed[0]["id"] }),
        )
        .await;
    assert_eq!(d["redeliverWebhookEvent"]["status"], "PENDING");
    let again = rx.next().await;
    assert_eq!(again.id, first.id);
    settled(&s, &la, &hook, "DELIVERED", 1).await;
}

#[tokio::test]
async fn webhooks_to_loopback_private_or_metadata_addresses_are_refused() {
    let s = TestServer::start_with(&[("SENCO_REMINDERS", "false")]).await;
    small_world(&s).await;
    let la = token("la-officer", "la:202:write");
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
        "http://localhost:9/hook",
        "ftp://example.org/hook",
        "not a url",
    ] {
        let (code, body) = s
            .err(Some(&la), CREATE, json!({ "i": { "url": url } }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "input.url",
            "{body}"
        );
    }
    let reader = token("la-reader", "la:202:read");
    let (code, _) = s
        .err(
            Some(&reader),
            CREATE,
            json!({ "i": { "url": "https://example.org/hook" } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "a read scope may not register webhooks");
    let d = s.ok(&la, "{ webhooks { totalCount } }", json!({})).await;
    assert_eq!(d["webhooks"]["totalCount"], 0, "nothing was stored");
    // The mutations that take only an id refuse a malformed one, naming it, and an unknown
    // one as NOT_FOUND.
    for (query, arg) in [
        ("mutation($x: ID!) { deleteWebhook(id: $x) }", "id"),
        (
            "mutation($x: ID!) { redeliverWebhookEvent(deliveryId: $x) { id } }",
            "deliveryId",
        ),
    ] {
        for bad in ["", "abc", "-1", "0", "1.5", "99999999999999999999"] {
            let (code, body) = s.err(Some(&la), query, json!({ "x": bad })).await;
            assert_eq!(code, "BAD_USER_INPUT", "{query} {bad}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], arg, "{body}");
        }
        let (code, _) = s.err(Some(&la), query, json!({ "x": "424242" })).await;
        assert_eq!(code, "NOT_FOUND", "{query}");
    }
}

#[tokio::test]
async fn a_trusts_webhook_never_receives_another_trusts_school() {
    let s = TestServer::start_with(FAST).await;
    small_world(&s).await;
    let mut rx = Receiver::start(&[]).await;
    let trust = token("trust-office", "trust:2044:write");
    let (hook, _) = create_webhook(&s, &trust, &rx.url, json!([])).await;
    let la = token("la-officer", "la:202:write");
    // 100001 is in LA 202 but not in trust 2044; 100002 is in both.
    appoint(&s, &la, 100001, "2025-09-01").await;
    appoint(&s, &la, 100002, "2025-09-01").await;
    let got = rx.next().await;
    assert_eq!(got.json()["schoolUrn"], 100002);
    settled(&s, &trust, &hook, "DELIVERED", 1).await;
    assert!(rx.pending().is_empty());
    // Another caller does not see the trust's webhook or its deliveries.
    let d = s.ok(&la, "{ webhooks { totalCount } }", json!({})).await;
    assert_eq!(d["webhooks"]["totalCount"], 0);
    let (code, _) = s.err(Some(&la), DELIVERIES, json!({ "w": hook })).await;
    assert_eq!(code, "NOT_FOUND");
}

/// A `senco-oversight serve` child process.
struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    async fn start(db_url: &str) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_senco-oversight"));
        cmd.arg("serve")
            .env("SENCO_DATABASE_URL", db_url)
            .env("SENCO_JWT_SECRET", SECRET)
            .env("SENCO_DEMO", "false")
            .env("SENCO_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in FAST {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let r = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
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

#[tokio::test]
async fn a_delivery_interrupted_by_kill_9_is_made_after_the_restart() {
    let db = TestDb::new().await;
    let url = db.url.clone();
    let mut rx = Receiver::start(&[Reply::Hang]).await;
    let la = token("la-officer", "la:202:write");
    let setup = TestServer::start_on(db.shared(), FAST).await;
    small_world(&setup).await;
    let (hook, secret) = create_webhook(&setup, &la, &rx.url, json!([])).await;
    setup.stop().await;

    let first = Replica::start(&url).await;
    let client = reqwest::Client::new();
    let resp: Value = client
        .post(format!("{}/graphql", first.base))
        .bearer_auth(&la)
        .json(&json!({ "query": APPOINT, "variables": { "i": {
            "schoolUrn": 100001, "startedOn": "2025-09-01",
            "person": { "fullName": "Kim", "hasQts": true, "inductionStatus": "COMPLETED" }
        } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(resp.get("errors").is_none(), "{resp}");
    // The change is committed and its delivery is under way: the server dies mid-attempt.
    let interrupted = rx.next().await;
    first.kill_9();

    let _second = Replica::start(&url).await;
    let delivered = rx.next_within(40).await;
    assert_eq!(delivered.id, interrupted.id, "the same event, the same id");
    verify_independently(&secret, &[delivered]);
    let check = TestServer::start_on(db.shared(), FAST).await;
    settled(&check, &la, &hook, "DELIVERED", 1).await;
}

#[tokio::test]
async fn two_replicas_deliver_each_event_once_and_raise_each_reminder_once() {
    let a = TestServer::start_with(FAST).await;
    // Two replicas on PostgreSQL; SQLite is served by one process, which runs the day twice.
    let second = if a.db.is_postgres() {
        Some(TestServer::start_on(a.db.shared(), FAST).await)
    } else {
        None
    };
    let b = second.as_ref().unwrap_or(&a);
    small_world(&a).await;
    let mut rx = Receiver::start(&[]).await;
    let la = token("la-officer", "la:202:write");
    let (hook, _) = create_webhook(&a, &la, &rx.url, json!([])).await;
    let n = 16;
    for i in 0..n {
        let s = if i % 2 == 0 { &a } else { b };
        // Appointed on 1 September 2024: on the reminder day below no NPQ cohort still open
        // ends by their deadline, so no QUALIFICATION_AT_RISK reminder joins the one counted.
        appoint(s, &la, 100001 + (i % 2), "2024-09-01").await;
    }
    let mut ids: HashMap<String, usize> = HashMap::new();
    for _ in 0..n {
        *ids.entry(rx.next().await.id).or_default() += 1;
    }
    assert_eq!(ids.len(), n as usize);
    settled(&a, &la, &hook, "DELIVERED", n as u64).await;
    for r in rx.pending() {
        *ids.entry(r.id).or_default() += 1;
    }
    assert!(ids.values().all(|c| *c == 1), "each event once: {ids:?}");

    // An appointment from 1 September 2023 has its deadline on 1 September 2026: the
    // 90-day reminder falls on 3 June 2026. Both replicas run that day at once, then again.
    let (appointment, _) = appoint(&a, &la, 100001, "2023-09-01").await;
    let day: chrono::NaiveDate = "2026-06-03".parse().unwrap();
    let (ra, rb) = tokio::join!(
        api::events::reminders::run_day(&a.state.db, day),
        api::events::reminders::run_day(&b.state.db, day)
    );
    let raised = ra.unwrap() + rb.unwrap();
    assert_eq!(raised, 1, "one of the two runs raised it");
    api::events::reminders::run_day(&b.state.db, day)
        .await
        .unwrap();
    let reminders = entity::event::Entity::find()
        .filter(entity::event::Column::Kind.eq("DEADLINE_APPROACHING"))
        .all(&a.state.db.conn)
        .await
        .unwrap();
    assert_eq!(reminders.len(), 1);
    let data: Value = serde_json::from_str(&reminders[0].data).unwrap();
    assert_eq!(data["appointmentId"], appointment);
    assert_eq!(data["daysBefore"], 90);
    let r = loop {
        let r = rx.next().await;
        if r.json()["type"] == "DEADLINE_APPROACHING" {
            break r;
        }
    };
    assert_eq!(r.json()["data"]["deadline"], "2026-09-01");
    settled(&a, &la, &hook, "DELIVERED", n as u64 + 2).await;
    assert!(
        rx.pending()
            .iter()
            .all(|r| r.json()["type"] != "DEADLINE_APPROACHING"),
        "the reminder arrived once"
    );
}

#[tokio::test]
async fn a_run_missed_while_every_replica_was_down_is_caught_up_at_the_next_start() {
    let s = TestServer::start_with(FAST).await;
    small_world(&s).await;
    let la = token("la-officer", "la:202:write");
    appoint(&s, &la, 100001, "2023-09-01").await;
    let six = chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap();
    let db = &s.state.db;
    api::events::reminders::run_day(db, "2026-06-01".parse().unwrap())
        .await
        .unwrap();
    // Nobody ran 2 to 4 June; a replica starts on 5 June at 05:30 in London (04:30 UTC),
    // before that day's run: the 4 June run is due, and covers the 90-day reminder of
    // 3 June.
    let now = "2026-06-05T04:30:00Z".parse().unwrap();
    let raised = api::events::reminders::tick(db, now, six).await.unwrap();
    assert_eq!(raised, Some(1));
    assert_eq!(
        api::events::reminders::tick(db, now, six).await.unwrap(),
        None,
        "that day has run"
    );
    let count = entity::event::Entity::find()
        .filter(entity::event::Column::Kind.eq("DEADLINE_APPROACHING"))
        .count(&db.conn)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(s: &TestServer) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/graphql/ws", s.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws")
    );
    ws
}

async fn ws_next(ws: &mut Ws, secs: u64) -> Message {
    tokio::time::timeout(Duration::from_secs(secs), ws.next())
        .await
        .expect("no message in time")
        .expect("the socket ended")
        .expect("a websocket error")
}

async fn ws_init(ws: &mut Ws, token: &str) -> Message {
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })
            .to_string(),
    ))
    .await
    .unwrap();
    ws_next(ws, 10).await
}

/// The next `next` (or `error`) message for the subscription `id`, passing over others.
async fn ws_answer(ws: &mut Ws, id: &str) -> Value {
    loop {
        let m = ws_next(ws, 20).await;
        let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        if v["id"] == id && (v["type"] == "next" || v["type"] == "error") {
            return v;
        }
    }
}

fn close_code(m: &Message) -> u16 {
    match m {
        Message::Close(Some(f)) => f.code.into(),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_subscription_receives_an_event_committed_through_the_other_replica() {
    let a = TestServer::start_with(FAST).await;
    // On PostgreSQL a second replica over the same database; on SQLite, one process.
    let b = if a.db.is_postgres() {
        Some(TestServer::start_on(a.db.shared(), FAST).await)
    } else {
        None
    };
    let writer = b.as_ref().unwrap_or(&a);
    small_world(&a).await;
    let mut ws = ws_connect(&a).await;
    let ack = ws_init(&mut ws, &token("dashboard", "la:202:read")).await;
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { events(types: [SENCO_APPOINTED]) { id type occurredAt school { urn } data } }"
        } })
        .to_string(),
    ))
    .await
    .unwrap();
    for _ in 0..500 {
        if a.state.db.events.subscribers() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        a.state.db.events.subscribers() > 0,
        "the subscription began"
    );
    for _ in 0..500 {
        if a.state.db.events.is_listening() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        a.state.db.events.is_listening(),
        "the replica hears commits"
    );
    let admin = admin();
    // LA 203's school first: not readable with la:202:read, so never sent.
    appoint(writer, &admin, 100003, "2025-09-01").await;
    let (appointment, _) = appoint(writer, &admin, 100001, "2025-09-01").await;
    let m = ws_next(&mut ws, 20).await;
    let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "next", "{v}");
    let e = &v["payload"]["data"]["events"];
    assert_eq!(e["type"], "SENCO_APPOINTED");
    assert_eq!(e["school"]["urn"], 100001);
    assert_eq!(e["data"]["appointmentId"], appointment);
}

#[tokio::test]
async fn a_bad_token_closes_the_socket_with_4403_and_so_does_expiry() {
    let s = TestServer::start_with(FAST).await;
    let mut ws = ws_connect(&s).await;
    let m = ws_init(&mut ws, "not-a-token").await;
    assert_eq!(close_code(&m), 4403);

    let mut ws = ws_connect(&s).await;
    let ack = ws_init(&mut ws, &token_with("dashboard", "la:202:read", 2)).await;
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    // Only subscriptions are served on the socket.
    ws.send(Message::text(
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ viewer { sub } }" } })
            .to_string(),
    ))
    .await
    .unwrap();
    let m = ws_next(&mut ws, 10).await;
    assert!(m.to_text().unwrap().contains("only subscriptions"), "{m:?}");
    let m = loop {
        let m = ws_next(&mut ws, 15).await;
        if matches!(m, Message::Close(_)) {
            break m;
        }
    };
    assert_eq!(close_code(&m), 4403, "closed when the token expired");
}

#[tokio::test]
async fn a_missing_report_is_raised_the_day_after_its_due_date_for_each_school_without_one() {
    let s = TestServer::start_with(FAST).await;
    small_world(&s).await;
    let school = token("school-100001", "school:100001:write");
    s.ok(
        &school,
        "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
        report(100001),
    )
    .await;
    let db = &s.state.db;
    // Autumn 2025 ends on 31 December; its report is due on 14 January 2026.
    let due_day: chrono::NaiveDate = "2026-01-14".parse().unwrap();
    assert_eq!(
        api::events::reminders::run_day(db, due_day).await.unwrap(),
        0,
        "the due day itself is still in time"
    );
    let raised = api::events::reminders::run_day(db, due_day.succ_opt().unwrap())
        .await
        .unwrap();
    assert_eq!(raised, 2);
    let mut urns: Vec<i32> = entity::event::Entity::find()
        .filter(entity::event::Column::Kind.eq("TERMLY_REPORT_MISSING"))
        .all(&db.conn)
        .await
        .unwrap()
        .iter()
        .map(|e| {
            let data: Value = serde_json::from_str(&e.data).unwrap();
            assert_eq!(data["term"], "AUTUMN");
            assert_eq!(data["academicYear"], 2025);
            e.school_urn.unwrap()
        })
        .collect();
    urns.sort_unstable();
    assert_eq!(urns, [100002, 100003], "the special school is not bound");
}

/// The three events whose sources came with the projection and governance work: a sign-off
/// is announced when it commits (with no name in it); an open action the day after its due
/// date, once; a SENCO whose projection is AT_RISK, once per date to register by.
#[tokio::test]
async fn sign_offs_overdue_actions_and_at_risk_projections_are_announced_once() {
    let s = TestServer::start_with(FAST).await;
    small_world(&s).await;
    let db = &s.state.db;
    let school = token("school-100001", "school:100001:write");
    s.ok(
        &school,
        "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
        report(100001),
    )
    .await;
    let governor = token("governor-100001", "school:100001:govern");
    let r = &report(100001)["i"];
    s.ok(
        &governor,
        "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) { id } }",
        json!({ "i": { "schoolUrn": 100001, "document": "TERMLY_REPORT",
                       "academicYear": r["academicYear"], "term": r["term"],
                       "signedOn": "2026-02-01", "signedBy": "Chair Person", "role": "CHAIR" } }),
    )
    .await;
    let of_kind = async |kind: &str| {
        entity::event::Entity::find()
            .filter(entity::event::Column::Kind.eq(kind))
            .all(&db.conn)
            .await
            .unwrap()
    };
    let signed = of_kind("SIGN_OFF_RECORDED").await;
    assert_eq!(signed.len(), 1);
    assert_eq!(signed[0].school_urn, Some(100001));
    assert!(
        !signed[0].data.contains("Chair Person"),
        "{}",
        signed[0].data
    );

    s.ok(
        &governor,
        "mutation($i: AddGovernanceActionInput!) { addGovernanceAction(input: $i) { id } }",
        json!({ "i": { "schoolUrn": 100001, "description": "Review the provision map",
                       "owner": "SENCO", "dueOn": "2026-03-01" } }),
    )
    .await;
    let due: chrono::NaiveDate = "2026-03-01".parse().unwrap();
    api::events::reminders::run_day(db, due).await.unwrap();
    assert!(
        of_kind("GOVERNANCE_ACTION_OVERDUE").await.is_empty(),
        "due, not yet overdue"
    );
    api::events::reminders::run_day(db, due.succ_opt().unwrap())
        .await
        .unwrap();
    api::events::reminders::run_day(db, due + chrono::Duration::days(2))
        .await
        .unwrap();
    assert_eq!(of_kind("GOVERNANCE_ACTION_OVERDUE").await.len(), 1);

    // A SENCO appointed on 1 December 2026 who has not started: with the illustrative
    // calendar only the November 2027 cohort (registration closing 1 October 2027) ends by
    // the deadline of 1 December 2029.
    let la = token("la-202-writer", "la:202:write");
    s.ok(
        &la,
        "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
        json!({ "i": { "schoolUrn": 100001, "startedOn": "2026-12-01",
                       "person": { "fullName": "New Senco", "hasQts": true, "inductionStatus": "COMPLETED" } } }),
    )
    .await;
    let day: chrono::NaiveDate = "2026-12-10".parse().unwrap();
    api::events::reminders::run_day(db, day).await.unwrap();
    api::events::reminders::run_day(db, day.succ_opt().unwrap())
        .await
        .unwrap();
    let at_risk: Vec<Value> = of_kind("QUALIFICATION_AT_RISK")
        .await
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let ours: Vec<&Value> = at_risk
        .iter()
        .filter(|d| d["deadline"] == "2029-12-01")
        .collect();
    assert_eq!(ours.len(), 1, "raised once over two runs: {at_risk:?}");
    assert_eq!(ours[0]["mustRegisterBy"], "2027-10-01");
}

#[tokio::test]
async fn with_trusted_documents_only_the_socket_runs_only_trusted_subscriptions() {
    let doc = "subscription Appointed { events(types: [SENCO_APPOINTED]) { type school { urn } } }";
    let id = api::trusted::id_of(doc);
    let file = std::env::temp_dir().join(format!("senco-trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, json!({ id.clone(): doc }).to_string()).unwrap();
    let path = file.display().to_string();
    let mut env = FAST.to_vec();
    env.push(("SENCO_TRUSTED_DOCUMENTS", &path));
    env.push(("SENCO_TRUSTED_DOCUMENTS_ONLY", "true"));
    let s = TestServer::start_with(&env).await;
    small_world(&s).await;
    let subscribe = async |ws: &mut Ws, sub: &str, payload: Value| {
        ws.send(Message::text(
            json!({ "id": sub, "type": "subscribe", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
    };
    let mut ws = ws_connect(&s).await;
    let ack = ws_init(&mut ws, &token("dashboard", "la:202:read")).await;
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
    // Free text, even of a harmless subscription, is refused for an LA token...
    subscribe(
        &mut ws,
        "free",
        json!({ "query": "subscription { events { type } }" }),
    )
    .await;
    let v = ws_answer(&mut ws, "free").await;
    assert_eq!(
        v["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{v}"
    );
    // ...as is an id no document has...
    subscribe(
        &mut ws,
        "unknown",
        json!({ "extensions": { "documentId": "sha256:00" } }),
    )
    .await;
    let v = ws_answer(&mut ws, "unknown").await;
    assert_eq!(
        v["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{v}"
    );
    // ...while the trusted document, by id, runs and is told of a change.
    subscribe(
        &mut ws,
        "trusted",
        json!({ "extensions": { "documentId": id } }),
    )
    .await;
    for _ in 0..500 {
        if s.state.db.events.subscribers() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        s.state.db.events.subscribers() > 0,
        "the subscription began"
    );
    for _ in 0..500 {
        if s.state.db.events.is_listening() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        s.state.db.events.is_listening(),
        "the replica hears commits"
    );
    appoint(&s, &admin(), 100001, "2025-09-01").await;
    let v = ws_answer(&mut ws, "trusted").await;
    assert_eq!(v["payload"]["data"]["events"]["school"]["urn"], 100001);
    // An admin may still send text.
    let mut ws = ws_connect(&s).await;
    ws_init(&mut ws, &admin()).await;
    subscribe(
        &mut ws,
        "admin",
        json!({ "query": "subscription { events { type } }" }),
    )
    .await;
    let before = s.state.db.events.subscribers();
    let mut began = false;
    for _ in 0..500 {
        if s.state.db.events.subscribers() > before {
            began = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(began, "the admin's subscription began");
    std::fs::remove_file(&file).ok();
}

#[tokio::test]
async fn settled_deliveries_and_old_change_events_are_pruned_and_nothing_else() {
    use entity::{event, webhook, webhook_delivery};
    use sea_orm::{ActiveModelTrait, Set};
    let s = TestServer::start_with(FAST).await;
    let db = &s.state.db;
    let old = chrono::Utc::now() - chrono::Duration::days(120);
    let recent = chrono::Utc::now() - chrono::Duration::days(10);
    let hook = webhook::ActiveModel {
        url: Set("http://127.0.0.1:9/".into()),
        types: Set("[]".into()),
        secret: Set("whsec_AAAA".into()),
        created_by: Set("test".into()),
        scopes: Set("admin".into()),
        active: Set(true),
        created_at: Set(old),
        updated_at: Set(old),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .unwrap();
    let ev = async |at: chrono::DateTime<chrono::Utc>, key: Option<&str>| {
        event::ActiveModel {
            kind: Set("SENCO_APPOINTED".into()),
            occurred_at: Set(at),
            school_urn: Set(None),
            data: Set("{}".into()),
            dedup_key: Set(key.map(str::to_owned)),
            ..Default::default()
        }
        .insert(&db.conn)
        .await
        .unwrap()
        .id
    };
    // Not due for another attempt, so the server's deliverer leaves them alone meanwhile.
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let delivery = async |event_id: i64, status: &str, at: chrono::DateTime<chrono::Utc>| {
        webhook_delivery::ActiveModel {
            webhook_id: Set(hook.id),
            event_id: Set(event_id),
            status: Set(status.into()),
            attempts: Set(1),
            created_at: Set(at),
            next_attempt_at: Set(later),
            ..Default::default()
        }
        .insert(&db.conn)
        .await
        .unwrap()
        .id
    };
    let old_delivered = ev(old, None).await;
    let d1 = delivery(old_delivered, "DELIVERED", old).await;
    let old_failed = ev(old, None).await;
    let d2 = delivery(old_failed, "FAILED", old).await;
    let old_pending = ev(old, None).await;
    let d3 = delivery(old_pending, "PENDING", old).await;
    let old_bare = ev(old, None).await;
    let old_reminder = ev(old, Some("QUALIFICATION_OVERDUE:1:2026-01-01")).await;
    let new_delivered = ev(recent, None).await;
    let d4 = delivery(new_delivered, "DELIVERED", recent).await;
    let new_bare = ev(recent, None).await;

    let before = chrono::Utc::now() - chrono::Duration::days(90);
    let p = api::events::prune_before(db, before).await.unwrap();
    assert_eq!((p.deliveries, p.events), (2, 3), "{p:?}");
    let mut events: Vec<i64> = event::Entity::find()
        .all(&db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    events.sort_unstable();
    let mut want = vec![old_pending, old_reminder, new_delivered, new_bare];
    want.sort_unstable();
    assert_eq!(
        events, want,
        "kept: the pending one's event, the reminder, the recent ones"
    );
    let _ = (old_delivered, old_failed, old_bare);
    let mut deliveries: Vec<i64> = webhook_delivery::Entity::find()
        .all(&db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    deliveries.sort_unstable();
    assert_eq!(deliveries, vec![d3, d4]);
    let _ = (d1, d2);
    // Run again: nothing more to remove.
    let again = api::events::prune_before(db, before).await.unwrap();
    assert_eq!((again.deliveries, again.events), (0, 0));
}
