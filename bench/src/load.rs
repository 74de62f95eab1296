//! The load generator: N clients, each a tokio task with its own keep-alive HTTP connection,
//! sending one request after another (a closed loop) for a warm-up and then a measured
//! window, and the statistics of what they saw.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

/// What a [`Writer`] changes, each time it writes.
#[derive(Debug, Clone)]
pub enum Change {
    /// The current SENCO appointment at school `urn`: its `startedOn` moves to the day before
    /// its original start date, then back, and so on, which moves that appointment's
    /// qualification deadline (a change to one person's SENCO data).
    Appointment {
        /// The school.
        urn: i32,
    },
    /// School `urn`'s termly report for a term, amended (`expectedVersion` the current
    /// version) with every figure as it stands except `numberOnRoll`, which is one more than
    /// the original, then the original again, and so on, which moves the term's totals.
    Report {
        /// The school.
        urn: i32,
        /// Academic year of the report.
        academic_year: i32,
        /// Term of the report (`AUTUMN`, ...).
        term: &'static str,
    },
    /// An LA renamed (`upsertLocalAuthority`, admin), to its name with [`RENAMED`] after it,
    /// then back, and so on: a change to reference data that no answer read shows (none
    /// names the LA), which moves the change counters, after which the server computes every
    /// cached result afresh. (A rewrite with the name unchanged changes no row, and the server
    /// rightly keeps its cached answers for it.)
    ReferenceData {
        /// The LA's code.
        la_code: i32,
        /// Its name as it stands.
        name: String,
    },
}

/// What a [`Change::ReferenceData`] writer adds to the LA's name every other time.
pub const RENAMED: &str = " (renamed by senco-bench)";

/// What a writer looked up before its first change.
#[derive(Debug, Clone)]
enum Current {
    /// The appointment's id, its start date when first read and the day before.
    Appointment {
        id: String,
        started_on: NaiveDate,
        day_before: NaiveDate,
    },
    /// The report's figures as first read (input field names), the version it is at now and
    /// its `numberOnRoll` when first read.
    Report {
        figures: Map<String, Value>,
        version: i64,
        roll: i64,
    },
}

/// A writer's state, shared by its clones so that every scenario using one writer carries
/// on alternating where the last left off.
#[derive(Debug, Default)]
struct WriterState {
    /// What the first write looked up (none for reference data); cleared after a failed
    /// report amendment, so that the next re-reads the version.
    current: Option<Current>,
    /// Changes made so far: which of the two values the next one writes.
    done: u64,
}

/// Makes one kind of change, again and again, each a real change of the data that the
/// answer being read depends on (or, for reference data, one that makes the server compute
/// every cached result afresh). Clones share their state; changes are made one at a time.
#[derive(Clone)]
pub struct Writer {
    /// What it changes.
    pub change: Change,
    /// The token it writes with: `school:{urn}:read school:{urn}:write`, or `admin`.
    pub token: String,
    /// What it looked up and how many changes it made.
    state: Arc<tokio::sync::Mutex<WriterState>>,
}

impl Writer {
    /// A writer making `change` with `token`.
    pub fn new(change: Change, token: String) -> Self {
        Self {
            change,
            token,
            state: Arc::default(),
        }
    }

    /// Whether its changes are to reference data (they change no answer, but make the
    /// server compute every cached result afresh).
    pub fn is_reference_data(&self) -> bool {
        matches!(self.change, Change::ReferenceData { .. })
    }

    /// Looks up what it changes (the appointment, or the report and its version), if it has
    /// not already.
    pub async fn prepare(&self, http: &reqwest::Client, url: &str) -> Result<(), String> {
        let mut state = self.state.lock().await;
        self.look_up(&mut state, http, url).await
    }

    async fn look_up(
        &self,
        state: &mut WriterState,
        http: &reqwest::Client,
        url: &str,
    ) -> Result<(), String> {
        if state.current.is_some() {
            return Ok(());
        }
        state.current = match &self.change {
            Change::Appointment { urn } => {
                let data = post(
                    http,
                    url,
                    &self.token,
                    &json!({ "query": APPOINTMENT_QUERY, "variables": { "urn": urn } }),
                )
                .await?;
                let current = data["school"]["sencoAppointments"]
                    .as_array()
                    .and_then(|a| a.iter().rev().find(|a| a["endedOn"].is_null()))
                    .ok_or_else(|| format!("school {urn} has no current appointment: {data}"))?;
                let id = current["id"]
                    .as_str()
                    .ok_or_else(|| format!("an appointment without an id: {current}"))?;
                let started_on = current["startedOn"]
                    .as_str()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .ok_or_else(|| format!("an appointment without a start date: {current}"))?;
                let day_before = started_on
                    .pred_opt()
                    .ok_or_else(|| format!("no day before {started_on}"))?;
                Some(Current::Appointment {
                    id: id.to_string(),
                    started_on,
                    day_before,
                })
            }
            Change::Report {
                urn,
                academic_year,
                term,
            } => {
                let data = post(
                    http,
                    url,
                    &self.token,
                    &json!({ "query": REPORT_QUERY,
                             "variables": { "urn": urn, "year": academic_year, "term": term } }),
                )
                .await?;
                let report = data["termlyReport"].as_object().ok_or_else(|| {
                    format!("school {urn} has no report for {term} {academic_year}: {data}")
                })?;
                let version = report["version"]
                    .as_i64()
                    .ok_or_else(|| format!("a report without a version: {data}"))?;
                let roll = report["numberOnRoll"]
                    .as_i64()
                    .ok_or_else(|| format!("a report without a number on roll: {data}"))?;
                let figures = report
                    .iter()
                    .filter(|(k, v)| REPORT_FIGURES.contains(&k.as_str()) && !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Some(Current::Report {
                    figures,
                    version,
                    roll,
                })
            }
            Change::ReferenceData { .. } => None,
        };
        Ok(())
    }
}

/// The figures of a termly report, named alike in `TermlyReport` and
/// `SubmitTermlyReportInput`.
const REPORT_FIGURES: [&str; 17] = [
    "numberOnRoll",
    "pupilsWithSend",
    "senSupport",
    "ehcp",
    "ehcpApplicationsInProcess",
    "budgetE1",
    "budgetE2",
    "budgetE3",
    "budgetAdditional",
    "expenditureToDate",
    "nonContactHoursPerWeek",
    "senPolicyDate",
    "provisionReviewDate",
    "senInformationReportPublishedOn",
    "challenges",
    "ongoingConcerns",
    "trainingUndertaken",
];

/// Distinct bearer tokens of one scope, minted before a scenario runs (so that minting is
/// not measured) and handed out one per request, in turn, by every client: no two requests
/// in a row of the pool's length carry the same token, so the server's whole-response cache,
/// which is keyed by the whole token, can answer none of them.
#[derive(Debug)]
pub struct TokenPool {
    tokens: Vec<String>,
    next: AtomicUsize,
}

impl TokenPool {
    /// A pool handing out `tokens` in turn; at least one is needed.
    pub fn new(tokens: Vec<String>) -> anyhow::Result<Self> {
        if tokens.is_empty() {
            anyhow::bail!("a token pool needs at least one token");
        }
        Ok(Self {
            tokens,
            next: AtomicUsize::new(0),
        })
    }

    /// The next token, going round the pool.
    pub fn take(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.tokens.len();
        &self.tokens[i]
    }

    /// How many distinct tokens it holds.
    pub fn size(&self) -> usize {
        self.tokens.len()
    }
}

/// What the clients send.
#[derive(Clone)]
pub enum Workload {
    /// Fixed requests: client `c` sends `requests[c % len]` over and over.
    Read {
        /// (bearer token, JSON body) pairs; an empty token sends no `Authorization` header.
        requests: Vec<(String, Vec<u8>)>,
        /// When set, every request is sent under the pool's next token instead of its pair's
        /// own: the same question asked by many callers of one scope, each with a token of
        /// their own, so that no whole response can be reused.
        fresh_tokens: Option<Arc<TokenPool>>,
        /// When set, every client first makes this change (not timed) before each read,
        /// so that every timed read follows a change (use with one client).
        write_before_each: Option<Writer>,
        /// When set, one more task makes this change this many times a second while the
        /// readers run (not timed): reads then see a database that changes under them.
        background_writes: Option<(Writer, f64)>,
    },
    /// Termly reports: client `c` submits for its own school `urns[c]`, first a new report
    /// for `term`, then amendments each naming the version it last got back.
    Submit {
        /// One school per client.
        urns: Vec<i32>,
        /// One `school:{urn}:write` token per client.
        tokens: Vec<String>,
        /// Academic year submitted for.
        academic_year: i32,
        /// Term submitted for (`AUTUMN`, ...).
        term: &'static str,
    },
}

/// One client's outcome.
#[derive(Debug, Default)]
pub struct ClientOutcome {
    /// Latencies of the requests started inside the measured window, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Requests completed in all (warm-up included).
    pub total: u64,
    /// Failed requests (HTTP status other than 200, or GraphQL errors), measured window.
    pub errors: u64,
    /// Failed requests in all.
    pub total_errors: u64,
    /// Up to three error bodies.
    pub samples: Vec<String>,
    /// Submissions the server acknowledged (a version came back), warm-up included.
    pub acknowledged: u64,
    /// The last version acknowledged.
    pub last_version: i32,
    /// Untimed changes made before reads (`write_before_each`).
    pub writes: u64,
}

/// The merged outcome of a run.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    /// Clients.
    pub connections: usize,
    /// Requests in the measured window.
    pub requests: u64,
    /// All requests, warm-up included.
    pub total_requests: u64,
    /// Failed requests in the measured window.
    pub errors: u64,
    /// Failed requests, warm-up included.
    pub total_errors: u64,
    /// Requests a second over the measured window.
    pub throughput: f64,
    /// Latency percentiles, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
    /// Some error bodies.
    pub samples: Vec<String>,
    /// Acknowledged submissions per client (Submit only): (urn, count, last version).
    pub acknowledged: Vec<(i32, u64, i32)>,
    /// Untimed changes made alongside the reads (`write_before_each`,
    /// `background_writes`), whose statements are not the reads'.
    pub background_writes: u64,
}

const MUTATION: &str = "mutation Submit($input: SubmitTermlyReportInput!) { \
    submitTermlyReport(input: $input) { id version } }";

pub(crate) fn submission(urn: i32, year: i32, term: &str, version: i32, n: u64) -> Value {
    // Figures vary with each amendment so every version differs from the one before.
    let roll = 200 + (n % 50) as i64;
    let mut input = json!({
        "schoolUrn": urn,
        "academicYear": year,
        "term": term,
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        "numberOnRoll": roll,
        "pupilsWithSend": 30,
        "senSupport": 22,
        "ehcp": 6,
        "ehcpApplicationsInProcess": (n % 4) as i64,
        "budgetE1": "12500.00",
        "budgetE2": "36000",
        "budgetE3": "8250.5",
        "budgetAdditional": "0",
        "expenditureToDate": format!("{}.{:02}", 15_000 + n % 1000, n % 100),
        "nonContactHoursPerWeek": 7.5,
        "senPolicyDate": "2025-09-01",
        "senInformationReportPublishedOn": "2025-10-01",
        "challenges": "Educational psychology waiting times.",
    });
    if version > 0 {
        input["expectedVersion"] = json!(version);
    }
    json!({ "query": MUTATION, "variables": { "input": input } })
}

const APPOINTMENT_QUERY: &str = "query Current($urn: Int!) { \
    school(urn: $urn) { sencoAppointments { id startedOn endedOn } } }";

const APPOINTMENT_CHANGE: &str = "mutation Change($input: UpdateSencoAppointmentInput!) { \
    updateSencoAppointment(input: $input) { id } }";

const REPORT_QUERY: &str = "query Report($urn: Int!, $year: Int!, $term: Term!) { \
    termlyReport(schoolUrn: $urn, academicYear: $year, term: $term) { version \
    numberOnRoll pupilsWithSend senSupport ehcp ehcpApplicationsInProcess \
    budgetE1 budgetE2 budgetE3 budgetAdditional expenditureToDate nonContactHoursPerWeek \
    senPolicyDate provisionReviewDate senInformationReportPublishedOn \
    challenges ongoingConcerns trainingUndertaken } }";

const LA_CHANGE: &str = "mutation La($input: LocalAuthorityInput!) { \
    upsertLocalAuthority(input: $input) { code } }";

/// Posts one GraphQL request as `token` and returns `data`, or the body as the error.
async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<Value, String> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("transport error: {e}"))?;
    let v: Value = resp.json().await.map_err(|e| format!("bad body: {e}"))?;
    if v.get("errors").is_some() {
        return Err(v.to_string());
    }
    Ok(v["data"].clone())
}

/// Makes `w`'s change once (looking up what it changes first, the first time).
pub async fn write_once(http: &reqwest::Client, url: &str, w: &Writer) -> Result<(), String> {
    let mut state = w.state.lock().await;
    w.look_up(&mut state, http, url).await?;
    let odd = state.done % 2 == 1;
    let result = match (&w.change, &mut state.current) {
        (
            Change::Appointment { .. },
            Some(Current::Appointment {
                id,
                started_on,
                day_before,
            }),
        ) => {
            // The first change (and every other) moves the start a day earlier; the next
            // puts it back.
            let day = if odd { *started_on } else { *day_before };
            post(
                http,
                url,
                &w.token,
                &json!({ "query": APPOINTMENT_CHANGE,
                         "variables": { "input": { "appointmentId": id, "startedOn": day.to_string() } } }),
            )
            .await
            .map(drop)
        }
        (
            Change::Report {
                urn,
                academic_year,
                term,
            },
            Some(Current::Report {
                figures,
                version,
                roll,
            }),
        ) => {
            let mut input = figures.clone();
            input.insert("schoolUrn".into(), json!(urn));
            input.insert("academicYear".into(), json!(academic_year));
            input.insert("term".into(), json!(term));
            input.insert("expectedVersion".into(), json!(*version));
            // One more pupil on roll, then the original number again: `pupilsWithSend`
            // stays within the roll either way.
            input.insert("numberOnRoll".into(), json!(*roll + i64::from(!odd)));
            let data = post(
                http,
                url,
                &w.token,
                &json!({ "query": MUTATION, "variables": { "input": input } }),
            )
            .await;
            data.and_then(|d| {
                d["submitTermlyReport"]["version"]
                    .as_i64()
                    .map(|v| *version = v)
                    .ok_or_else(|| format!("no version came back: {d}"))
            })
        }
        (Change::ReferenceData { la_code, name }, _) => {
            // The first change (and every other) renames the LA; the next puts the name back.
            let name = if odd {
                name.clone()
            } else {
                format!("{name}{RENAMED}")
            };
            post(
                http,
                url,
                &w.token,
                &json!({ "query": LA_CHANGE,
                         "variables": { "input": { "code": la_code, "name": name } } }),
            )
            .await
            .map(drop)
        }
        _ => Err("the writer's look-up does not match its change".to_string()),
    };
    match &result {
        Ok(()) => state.done += 1,
        // Re-read the report, and its version, before the next amendment.
        Err(_) if matches!(w.change, Change::Report { .. }) => *state = WriterState::default(),
        Err(_) => {}
    }
    result
}

/// Makes `w`'s change `per_second` times a second until `until`; returns (writes, errors,
/// samples of the errors).
async fn background_writer(
    url: Arc<str>,
    w: Writer,
    per_second: f64,
    until: Instant,
) -> anyhow::Result<(u64, u64, Vec<String>)> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let period = Duration::from_secs_f64(1.0 / per_second.max(0.001));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut writes, mut errors, mut samples) = (0, 0, Vec::new());
    loop {
        tick.tick().await;
        if Instant::now() >= until {
            break;
        }
        if let Err(e) = write_once(&http, &url, &w).await {
            errors += 1;
            if samples.len() < 2 {
                samples.push(e.chars().take(400).collect());
            }
        }
        writes += 1;
    }
    Ok((writes, errors, samples))
}

/// Whether a GraphQL response body reports errors (cheaply, without parsing it all).
fn has_errors(body: &[u8]) -> bool {
    body.windows(9).any(|w| w == b"\"errors\":")
}

async fn client(
    c: usize,
    url: Arc<str>,
    workload: Arc<Workload>,
    measure_from: Instant,
    until: Instant,
) -> anyhow::Result<ClientOutcome> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut out = ClientOutcome::default();
    loop {
        if Instant::now() >= until {
            break;
        }
        if let Workload::Read {
            write_before_each: Some(w),
            ..
        } = workload.as_ref()
        {
            out.writes += 1;
            if let Err(e) = write_once(&http, &url, w).await {
                out.total_errors += 1;
                if out.samples.len() < 3 {
                    out.samples.push(e.chars().take(400).collect());
                }
            }
        }
        let started = Instant::now();
        if started >= until {
            break;
        }
        let (token, body): (&str, Vec<u8>) = match workload.as_ref() {
            Workload::Read {
                requests,
                fresh_tokens,
                ..
            } => {
                let (t, b) = &requests[c % requests.len()];
                let t = fresh_tokens.as_ref().map_or(t.as_str(), |pool| pool.take());
                (t, b.clone())
            }
            Workload::Submit {
                urns,
                tokens,
                academic_year,
                term,
            } => (
                tokens[c].as_str(),
                serde_json::to_vec(&submission(
                    urns[c],
                    *academic_year,
                    term,
                    out.last_version,
                    out.total,
                ))?,
            ),
        };
        let mut request = http
            .post(&*url)
            .header("content-type", "application/json")
            .body(body);
        // An empty token sends no `Authorization` header (the peer takes none).
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        let sent = request.send().await;
        let (ok, text) = match sent {
            Ok(resp) => {
                let status = resp.status();
                let bytes = resp.bytes().await.unwrap_or_default();
                let mut ok = status.is_success() && !has_errors(&bytes);
                if ok && let Workload::Submit { .. } = workload.as_ref() {
                    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    match v["data"]["submitTermlyReport"]["version"].as_i64() {
                        Some(version) => {
                            out.acknowledged += 1;
                            out.last_version = i32::try_from(version).unwrap_or(i32::MAX);
                        }
                        None => ok = false,
                    }
                }
                (
                    ok,
                    format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)),
                )
            }
            Err(e) => (false, format!("transport error: {e}")),
        };
        let elapsed = started.elapsed();
        out.total += 1;
        let measured = started >= measure_from;
        if measured {
            out.latencies_us
                .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        }
        if !ok {
            out.total_errors += 1;
            if measured {
                out.errors += 1;
            }
            if out.samples.len() < 3 {
                out.samples.push(text.chars().take(400).collect());
            }
        }
    }
    Ok(out)
}

impl RunStats {
    /// Sets throughput over `duration` and the percentiles from the latencies (µs) of the
    /// requests measured.
    pub fn finish(&mut self, mut all: Vec<u32>, duration: Duration) {
        all.sort_unstable();
        self.requests = all.len() as u64;
        self.throughput = all.len() as f64 / duration.as_secs_f64();
        self.p50_ms = percentile(&all, 50.0);
        self.p90_ms = percentile(&all, 90.0);
        self.p99_ms = percentile(&all, 99.0);
        self.max_ms = all.last().map_or(0.0, |v| f64::from(*v) / 1000.0);
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// Runs `workload` from `connections` clients against `url` for `warmup` then `duration`.
pub async fn run(
    url: &str,
    workload: Workload,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<RunStats> {
    let url: Arc<str> = Arc::from(url);
    let workload = Arc::new(workload);
    let start = Instant::now();
    let measure_from = start + warmup;
    let until = measure_from + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            tokio::spawn(client(
                c,
                url.clone(),
                workload.clone(),
                measure_from,
                until,
            ))
        })
        .collect();
    let writer = match workload.as_ref() {
        Workload::Read {
            background_writes: Some((w, rate)),
            ..
        } => Some(tokio::spawn(background_writer(
            url.clone(),
            w.clone(),
            *rate,
            until,
        ))),
        _ => None,
    };
    let mut stats = RunStats {
        connections,
        ..RunStats::default()
    };
    if let Some(w) = writer {
        let (writes, errors, samples) = w.await??;
        stats.background_writes = writes;
        stats.total_errors += errors;
        stats.samples.extend(samples);
    }
    let mut all = Vec::new();
    for (c, t) in tasks.into_iter().enumerate() {
        let o = t.await??;
        stats.total_requests += o.total;
        stats.errors += o.errors;
        stats.total_errors += o.total_errors;
        stats.background_writes += o.writes;
        for s in o.samples {
            if stats.samples.len() < 5 {
                stats.samples.push(s);
            }
        }
        if let Workload::Submit { urns, .. } = workload.as_ref() {
            stats
                .acknowledged
                .push((urns[c], o.acknowledged, o.last_version));
        }
        all.extend(o.latencies_us);
    }
    stats.finish(all, duration);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert!((percentile(&v, 50.0) - 50.0).abs() < 1e-9);
        assert!((percentile(&v, 99.0) - 99.0).abs() < 1e-9);
        assert!((percentile(&[], 50.0)).abs() < 1e-9);
    }

    #[test]
    fn errors_are_spotted() {
        assert!(has_errors(br#"{"data":null,"errors":[{"message":"x"}]}"#));
        assert!(!has_errors(br#"{"data":{"a":1}}"#));
    }
}
