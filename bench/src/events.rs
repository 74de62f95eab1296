//! The event figures of SPEC 7 (issue 19), measured against the running server:
//!
//! - **Webhook delivery lag**: a webhook for `TERMLY_REPORT_SUBMITTED` pointing at a
//!   receiver in this process, then submissions offered at a fixed rate (500 a second on the
//!   full data set) by 32 writers, each its own school. The lag of an event is from the
//!   moment its submission was acknowledged (the commit is just before) to the moment the
//!   receiver has the delivery; every acknowledged submission must be delivered.
//! - **Fan-out**: 1,000 WebSocket subscriptions (`graphql-transport-ws`, each its own token
//!   for the largest LA) held open, the server's memory read with them open, then
//!   submissions at that LA's schools: each event's lag to each subscriber, from the
//!   acknowledgement as above.
//!
//! Both use the term in progress, for schools the "submit" scenario did not write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::dataset::DataSet;
use crate::load::submission;
use crate::scenarios::token;
use crate::server::{RssSampler, Server};

/// What the event measurements found.
#[derive(Debug, Clone, Default)]
pub struct EventsRun {
    /// Submissions offered per second to the webhook measurement.
    pub offered_rate: f64,
    /// Submissions acknowledged per second.
    pub achieved_rate: f64,
    /// Submissions acknowledged.
    pub submitted: usize,
    /// Submissions refused or failed.
    pub submit_errors: usize,
    /// Of the acknowledged ones, how many were delivered to the webhook.
    pub delivered: usize,
    /// Delivery lag percentiles and maximum, ms.
    pub lag: Percentiles,
    /// Subscriptions held open.
    pub subscribers: usize,
    /// Events raised during the fan-out.
    pub fanout_events: usize,
    /// Messages the subscribers received of the `subscribers * fanout_events` due.
    pub fanout_received: usize,
    /// Fan-out lag percentiles and maximum, ms.
    pub fanout: Percentiles,
    /// Server RSS with the subscriptions open, before the fan-out, KiB.
    pub rss_subscribed_kib: u64,
    /// Peak server RSS during the fan-out, KiB.
    pub rss_peak_kib: u64,
    /// A few error messages, for the report.
    pub samples: Vec<String>,
}

/// p50, p99 and the largest value, ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    fn of(mut ms: Vec<f64>) -> Self {
        if ms.is_empty() {
            return Self::default();
        }
        ms.sort_by(f64::total_cmp);
        let at = |p: f64| {
            let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
            ms[rank.clamp(1, ms.len()) - 1]
        };
        Self {
            p50: at(50.0),
            p99: at(99.0),
            max: ms[ms.len() - 1],
        }
    }
}

/// When each submission (school, version) was acknowledged.
type Acks = Arc<Mutex<HashMap<(i64, i64), Instant>>>;

/// Each (school, version) a subscriber received, and when.
type Received = Arc<Mutex<Vec<((i64, i64), Instant)>>>;

/// Runs both measurements: `rate` submissions a second for `duration`, then `subscribers`
/// subscriptions and submissions at `fanout_rate` a second for `duration`.
#[allow(clippy::too_many_arguments)]
pub async fn measure(
    srv: &Server,
    data: &DataSet,
    secret: &str,
    rate: f64,
    subscribers: usize,
    fanout_rate: f64,
    duration: Duration,
    connections: usize,
) -> anyhow::Result<EventsRun> {
    let mut run = EventsRun {
        offered_rate: rate,
        subscribers,
        ..EventsRun::default()
    };
    let admin = token(secret, "bench-events", "admin")?;
    webhook_lag(
        srv,
        data,
        &admin,
        secret,
        rate,
        duration,
        connections,
        &mut run,
    )
    .await?;
    fan_out(
        srv,
        data,
        secret,
        subscribers,
        fanout_rate,
        duration,
        connections,
        &mut run,
    )
    .await?;
    Ok(run)
}

/// Schools for the event writers: `n` of `urns` from the end, none that the "submit"
/// scenario writes as (its acknowledged versions are checked after the run) nor in `taken`.
fn event_schools(urns: &[i32], n: usize, avoid: &[i32]) -> Vec<i32> {
    urns.iter()
        .rev()
        .filter(|u| !avoid.contains(u))
        .take(n)
        .copied()
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn webhook_lag(
    srv: &Server,
    data: &DataSet,
    admin: &str,
    secret: &str,
    rate: f64,
    duration: Duration,
    connections: usize,
    run: &mut EventsRun,
) -> anyhow::Result<()> {
    // The receiver: notes when each delivery of (school, version) arrives, once.
    let arrived: Arc<Mutex<HashMap<(i64, i64), Instant>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let seen = arrived.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_slice::<Value>(&body)
                    && let (Some(urn), Some(version)) =
                        (v["schoolUrn"].as_i64(), v["data"]["version"].as_i64())
                    && let Ok(mut m) = seen.lock()
                {
                    m.entry((urn, version)).or_insert(at);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let receiver = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let created = gql(
        srv,
        admin,
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
        json!({ "i": { "url": url, "types": ["TERMLY_REPORT_SUBMITTED"],
                       "description": "senco-bench delivery lag" } }),
    )
    .await
    .context("creating the benchmark's webhook (is SENCO_WEBHOOK_ALLOW_PRIVATE set?)")?;
    let hook = created["createWebhook"]["webhook"]["id"]
        .as_str()
        .context("createWebhook answered no id")?
        .to_string();

    let avoid = crate::scenarios::submit_writers(data, connections);
    let schools = event_schools(&data.writer_urns, 32, &avoid);
    let acks: Acks = Arc::default();
    let (ok, errors, samples, elapsed) =
        submit_at_rate(srv, data, secret, &schools, rate, duration, acks.clone()).await?;
    run.submitted = ok;
    run.submit_errors = errors;
    run.samples.extend(samples);
    run.achieved_rate = ok as f64 / elapsed.as_secs_f64();
    // Every acknowledged submission has its delivery within 30 s, or it is counted missing.
    let wait_until = Instant::now() + Duration::from_secs(30);
    loop {
        let got = arrived.lock().map(|m| m.len()).unwrap_or(0);
        if got >= ok || Instant::now() > wait_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let acks = acks.lock().map(|m| m.clone()).unwrap_or_default();
    let arrived = arrived.lock().map(|m| m.clone()).unwrap_or_default();
    let lags: Vec<f64> = acks
        .iter()
        .filter_map(|(k, at)| {
            arrived
                .get(k)
                .map(|d| d.saturating_duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    run.delivered = lags.len();
    run.lag = Percentiles::of(lags);
    // The webhook goes, so that nothing after this measurement delivers to it.
    let _ = gql(
        srv,
        admin,
        "mutation($id: ID!) { deleteWebhook(id: $id) }",
        json!({ "id": hook }),
    )
    .await;
    receiver.abort();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn fan_out(
    srv: &Server,
    data: &DataSet,
    secret: &str,
    subscribers: usize,
    rate: f64,
    duration: Duration,
    connections: usize,
    run: &mut EventsRun,
) -> anyhow::Result<()> {
    let la = data.largest_la.0;
    let ws_url = format!("{}/graphql/ws", srv.base.replace("http://", "ws://"));
    // Each subscriber notes when it received each (school, version).
    let received: Received = Arc::default();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<Result<(), String>>(subscribers);
    let mut tasks = Vec::with_capacity(subscribers);
    for i in 0..subscribers {
        let t = token(
            secret,
            &format!("bench-subscriber-{i}"),
            &format!("la:{la}:read"),
        )?;
        let url = ws_url.clone();
        let received = received.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = subscriber(&url, &t, received, ready.clone()).await {
                let _ = ready.send(Err(e.to_string())).await;
            }
        }));
    }
    drop(ready_tx);
    let mut open = 0;
    while open < subscribers {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(Ok(()))) => open += 1,
            Ok(Some(Err(e))) => bail!("a subscription could not be opened: {e}"),
            Ok(None) | Err(_) => bail!("only {open} of {subscribers} subscriptions opened"),
        }
    }
    // The server has every subscription once its count of open ones says so.
    let wait_until = Instant::now() + Duration::from_secs(30);
    while srv.metric("senco_subscriptions_open").await?.unwrap_or(0) < subscribers as u64 {
        if Instant::now() > wait_until {
            bail!("the server did not report {subscribers} open subscriptions");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    run.rss_subscribed_kib = srv.memory().rss_kib;
    let sampler = RssSampler::start(srv.pid);
    let mut avoid = crate::scenarios::submit_writers(data, connections);
    avoid.extend(event_schools(&data.writer_urns, 32, &avoid.clone()));
    let schools = event_schools(&data.largest_la_writer_urns, 16, &avoid);
    let acks: Acks = Arc::default();
    let (ok, errors, samples, _) =
        submit_at_rate(srv, data, secret, &schools, rate, duration, acks.clone()).await?;
    run.submit_errors += errors;
    run.samples.extend(samples);
    run.fanout_events = ok;
    let due = ok * subscribers;
    let wait_until = Instant::now() + Duration::from_secs(30);
    loop {
        let got = received.lock().map(|v| v.len()).unwrap_or(0);
        if got >= due || Instant::now() > wait_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.rss_peak_kib = sampler.stop();
    for t in &tasks {
        t.abort();
    }
    let acks = acks.lock().map(|m| m.clone()).unwrap_or_default();
    let received = received.lock().map(|v| v.clone()).unwrap_or_default();
    let lags: Vec<f64> = received
        .iter()
        .filter_map(|(k, at)| {
            acks.get(k)
                .map(|a| at.saturating_duration_since(*a).as_secs_f64() * 1000.0)
        })
        .collect();
    run.fanout_received = lags.len();
    run.fanout = Percentiles::of(lags);
    Ok(())
}

/// One subscriber: connects, signs in, subscribes, says it is ready, then notes each event.
async fn subscriber(
    url: &str,
    token: &str,
    received: Received,
    ready: tokio::sync::mpsc::Sender<Result<(), String>>,
) -> anyhow::Result<()> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    ws.send(Message::text(
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })
            .to_string(),
    ))
    .await?;
    let ack = ws.next().await.context("the socket closed")??;
    if !ack.to_text().unwrap_or("").contains("connection_ack") {
        bail!("no connection_ack: {ack:?}");
    }
    ws.send(Message::text(
        json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { events(types: [TERMLY_REPORT_SUBMITTED]) { id school { urn } data } }"
        } })
        .to_string(),
    ))
    .await?;
    ready.send(Ok(())).await.ok();
    while let Some(m) = ws.next().await {
        let at = Instant::now();
        let Ok(Message::Text(text)) = m else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let e = &v["payload"]["data"]["events"];
        if let (Some(urn), Some(version)) =
            (e["school"]["urn"].as_i64(), e["data"]["version"].as_i64())
            && let Ok(mut r) = received.lock()
        {
            r.push(((urn, version), at));
        }
    }
    Ok(())
}

/// Submissions for `schools` (one writer each) offered at `rate` a second in all for
/// `duration`: each writer sends its next when its turn comes, or at once when it is behind.
/// Returns (acknowledged, failed, error samples, time taken), noting each acknowledgement.
async fn submit_at_rate(
    srv: &Server,
    data: &DataSet,
    secret: &str,
    schools: &[i32],
    rate: f64,
    duration: Duration,
    acks: Acks,
) -> anyhow::Result<(usize, usize, Vec<String>, Duration)> {
    let year = data.submit_term.academic_year;
    let term = data.submit_term.term.as_str();
    let writers = schools.len().max(1);
    let interval = Duration::from_secs_f64(writers as f64 / rate);
    let per_writer = ((duration.as_secs_f64() * rate) / writers as f64).ceil() as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, &urn) in schools.iter().enumerate() {
        let tok = token(
            secret,
            &format!("bench-events-writer-{urn}"),
            &format!("school:{urn}:write"),
        )?;
        let http = srv.http().clone();
        let url = format!("{}/graphql", srv.base);
        let acks = acks.clone();
        let offset = interval.mul_f64(i as f64 / writers as f64);
        tasks.push(tokio::spawn(async move {
            let mut version = current_version(&http, &url, &tok, urn, year, term).await;
            let (mut ok, mut failed, mut samples) = (0usize, 0usize, Vec::new());
            for n in 0..per_writer {
                let slot = started + offset + interval.mul_f64(n as f64);
                tokio::time::sleep_until(slot.into()).await;
                let body = submission(urn, year, term, version, n);
                let sent = http.post(&url).bearer_auth(&tok).json(&body).send().await;
                let answer = match sent {
                    Ok(r) => r.json::<Value>().await.ok(),
                    Err(e) => {
                        samples.push(e.to_string());
                        None
                    }
                };
                let at = Instant::now();
                match answer
                    .as_ref()
                    .and_then(|v| v["data"]["submitTermlyReport"]["version"].as_i64())
                {
                    Some(v) => {
                        ok += 1;
                        version = i32::try_from(v).unwrap_or(i32::MAX);
                        if let Ok(mut m) = acks.lock() {
                            m.insert((i64::from(urn), v), at);
                        }
                    }
                    None => {
                        failed += 1;
                        if samples.len() < 2
                            && let Some(a) = answer
                        {
                            samples.push(a.to_string().chars().take(300).collect());
                        }
                        version = current_version(&http, &url, &tok, urn, year, term).await;
                    }
                }
            }
            (ok, failed, samples)
        }));
    }
    let (mut ok, mut failed, mut samples) = (0, 0, Vec::new());
    for t in tasks {
        let (o, f, s) = t.await?;
        ok += o;
        failed += f;
        samples.extend(s.into_iter().take(1));
    }
    samples.truncate(3);
    Ok((ok, failed, samples, started.elapsed()))
}

async fn current_version(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    urn: i32,
    year: i32,
    term: &str,
) -> i32 {
    let body = json!({
        "query": "query($u: Int!, $y: Int!, $t: Term!) { termlyReport(schoolUrn: $u, academicYear: $y, term: $t) { version } }",
        "variables": { "u": urn, "y": year, "t": term },
    });
    let v: Option<Value> = match http.post(url).bearer_auth(token).json(&body).send().await {
        Ok(r) => r.json().await.ok(),
        Err(_) => None,
    };
    v.and_then(|v| v["data"]["termlyReport"]["version"].as_i64())
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or(0)
}

async fn gql(srv: &Server, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
    let v: Value = srv
        .http()
        .post(format!("{}/graphql", srv.base))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?
        .json()
        .await?;
    if let Some(e) = v.get("errors") {
        bail!("{e}");
    }
    Ok(v["data"].clone())
}
