//! The scenarios of SPEC section 7, as GraphQL requests with the tokens they need (or, for
//! the database's own time, the SQL a page needs, run directly), and how each is run and
//! measured: throughput and latency from the clients, SQL statements per request and
//! whole responses reused from the server's `/metrics`, resident memory from `/proc`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use api::auth::IssuedClaims;
use api::config::{DEFAULT_AUDIENCE, Secret};
use api::db::Db;
use entity::termly_report;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::dataset::DataSet;
use crate::direct::{self, Page};
use crate::load::{self, RunStats, TokenPool, Workload};
use crate::server::{CpuMark, CpuShare, RssSampler, Server};

/// The LA dashboard of SPEC 7: deadlines for one LA, with person and school.
pub const DASHBOARD: &str = "query Dashboard($la: Int!, $first: Int!) {
  qualificationDeadlines(filter: { laCode: $la }, first: $first) {
    totalCount
    edges { node {
      status deadline daysRemaining dutyApplies
      projection mustRegisterBy projectedQualifiedOn
      person { id fullName trn }
      school { urn name }
    } }
  }
}";

/// The termly summary of SPEC 7, with all three sets of totals and the missing schools.
pub const SUMMARY: &str = "query Summary($year: Int!, $term: Term!, $filter: SchoolFilter) {
  termlySummary(academicYear: $year, term: $term, filter: $filter) {
    schoolsInScope reportsSubmitted
    missingReports { urn name }
    totals { ...T } previousTerm { ...T } sameTermLastYear { ...T }
  }
}
fragment T on TermlyTotals {
  reports numberOnRoll pupilsWithSend senSupport ehcp ehcpApplicationsInProcess
  senSupportPercent ehcpPercent budgetTotal expenditureToDate budgetRemaining overspentSchools
}";

/// The nested dashboard: schools with their appointments, people, qualifications, deadline
/// status and latest reports.
pub const NESTED: &str = "query Nested($la: Int!, $first: Int!) {
  schools(filter: { laCode: $la }, first: $first) {
    totalCount
    edges { node {
      urn name numberOnRoll
      sencoAppointments {
        startedOn endedOn
        person { fullName trn qualifications { kind completedOn } }
        qualification { status deadline }
      }
      termlyReports { academicYear term version overspent }
    } }
  }
}";

/// How often the background writer changes the database under the dashboard's readers.
pub const CHURN_PER_SECOND: f64 = 10.0;

/// Distinct tokens minted for each scope whose scenarios send no two requests under one
/// token. The server's whole-response cache holds far fewer entries than this, so a token
/// that comes round again finds its response gone (and the scenario counts any response
/// that was reused all the same).
pub const FRESH_TOKENS: usize = 5_000;

/// `n` tokens of `scope`, each with its own `sub`.
pub fn token_pool(
    secret: &str,
    sub: &str,
    scope: &str,
    n: usize,
) -> anyhow::Result<Arc<TokenPool>> {
    let tokens = (0..n)
        .map(|i| token(secret, &format!("{sub}-{i}"), scope))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Arc::new(TokenPool::new(tokens)?))
}

/// The schools the "submit" scenario writes as, spread across the country: every k-th
/// relevant school (the caller has checked there are at least `connections`).
pub fn submit_writers(data: &DataSet, connections: usize) -> Vec<i32> {
    let step = (data.writer_urns.len() / connections.max(1)).max(1);
    (0..connections)
        .filter_map(|i| data.writer_urns.get(i * step).copied())
        .collect()
}

/// Signs a token the server will accept, valid for four hours.
pub fn token(secret: &str, sub: &str, scope: &str) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    api::auth::sign_hs256(
        &Secret::new(secret),
        &IssuedClaims {
            sub: sub.into(),
            scope: scope.into(),
            aud: DEFAULT_AUDIENCE.into(),
            iat: now,
            exp: now + 4 * 3600,
            iss: None,
        },
    )
}

fn body(query: &str, variables: Value) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(
        &json!({ "query": query, "variables": variables }),
    )?)
}

/// What a scenario is measured against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// p99 at most this many ms.
    P99AtMost(f64),
    /// p50 at most this many ms.
    P50AtMost(f64),
    /// At least this many requests a second, none lost, and RSS at most this many MB.
    Throughput(f64),
}

/// What a scenario runs.
pub enum Work {
    /// Requests to the server.
    Http(Workload),
    /// A page's SQL, run directly against the database.
    Sql {
        /// The page.
        page: Page,
        /// The server's request for the same page (token, body), sent once before the run
        /// to check that the SQL reads what the server answers.
        check: (String, Vec<u8>),
    },
}

/// A scenario to run.
pub struct Scenario {
    /// Short key.
    pub key: &'static str,
    /// What it does.
    pub title: String,
    /// Requests.
    pub workload: Work,
    /// Clients.
    pub connections: usize,
    /// The SPEC 7 target, when it has one.
    pub target: Option<(&'static str, Target)>,
}

/// A scenario's results.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// Short key.
    pub key: &'static str,
    /// What it did.
    pub title: String,
    /// Client-side numbers.
    pub stats: RunStats,
    /// SQL statements per request, over every request of the run.
    pub statements_per_request: f64,
    /// Peak server RSS while it ran, KiB.
    pub peak_rss_kib: u64,
    /// CPU used while it ran (warm-up included).
    pub cpu: CpuShare,
    /// The SPEC 7 target.
    pub target: Option<(&'static str, Target)>,
    /// Whether it ran SQL directly against the database rather than requests to the server.
    pub direct: bool,
    /// Whether its requests went to the peer (PostGraphile) rather than to our server: its
    /// CPU and memory are the peer's, and its statements are not counted.
    pub peer: bool,
    /// When every request carried a token of its own: the pool's size.
    pub fresh_tokens: Option<usize>,
    /// Requests the server answered from its whole-response cache (warm-up included).
    pub response_hits: u64,
}

/// A writer making `change` at school `urn` with that school's token.
fn school_writer(secret: &str, urn: i32, change: load::Change) -> anyhow::Result<load::Writer> {
    Ok(load::Writer::new(
        change,
        token(
            secret,
            &format!("bench-churn-{urn}"),
            &format!("school:{urn}:read school:{urn}:write"),
        )?,
    ))
}

/// A writer renaming the largest LA and back (admin): a change to reference data that no
/// answer read shows, after which the server computes every cached result afresh.
pub fn reference_writer(data: &DataSet, secret: &str) -> anyhow::Result<load::Writer> {
    let (la_code, name, _) = &data.largest_la;
    Ok(load::Writer::new(
        load::Change::ReferenceData {
            la_code: *la_code,
            name: name.clone(),
        },
        token(secret, "bench-admin-reference", "admin")?,
    ))
}

/// The scenarios, in the order they run: the writers first, on a freshly started server, so
/// that the memory measured under the write load is that load's own; then the reads (the
/// writers' term is not one the summaries read). The changes made under the reads are at
/// schools of the largest LA that are none of the writers'.
pub fn plan(data: &DataSet, secret: &str, connections: usize) -> anyhow::Result<Vec<Scenario>> {
    let (la, la_name, _) = &data.largest_la;
    let la_token = token(secret, "bench-la", &format!("la:{la}:read"))?;
    let admin = token(secret, "bench-admin", "admin")?;
    // Many officers of the LA (and admins), each with a token of their own.
    let la_pool = token_pool(
        secret,
        "bench-la-officer",
        &format!("la:{la}:read"),
        FRESH_TOKENS,
    )?;
    let admin_pool = token_pool(secret, "bench-admin-officer", "admin", FRESH_TOKENS)?;
    let term = data.summary_term;
    let dashboard = body(DASHBOARD, json!({ "la": la, "first": 100 }))?;
    let summary_la = body(
        SUMMARY,
        json!({ "year": term.academic_year, "term": term.term.as_str(), "filter": { "laCode": la } }),
    )?;
    let summary_all = body(
        SUMMARY,
        json!({ "year": term.academic_year, "term": term.term.as_str() }),
    )?;
    let nested = body(NESTED, json!({ "la": la, "first": 50 }))?;
    let read = |t: &str, b: &[u8]| {
        Work::Http(Workload::Read {
            requests: vec![(t.to_string(), b.to_vec())],
            fresh_tokens: None,
            write_before_each: None,
            background_writes: None,
        })
    };
    let fresh = |pool: &Arc<TokenPool>, b: &[u8]| {
        Work::Http(Workload::Read {
            requests: vec![(String::new(), b.to_vec())],
            fresh_tokens: Some(pool.clone()),
            write_before_each: None,
            background_writes: None,
        })
    };
    let changed = |t: &str, b: &[u8], w: &load::Writer| {
        Work::Http(Workload::Read {
            requests: vec![(t.to_string(), b.to_vec())],
            fresh_tokens: None,
            write_before_each: Some(w.clone()),
            background_writes: None,
        })
    };
    let dashboard_page = Page::Dashboard {
        la: *la,
        as_of: api::graphql::today(),
    };
    let summary_page = Page::Summary { la: *la, term };
    let sql = |page: &Page, b: &[u8]| Work::Sql {
        page: page.clone(),
        check: (la_token.clone(), b.to_vec()),
    };
    let no_reuse = format!(
        "each request under a token of its own (same scope, {FRESH_TOKENS} distinct `sub`s \
         in turn): no whole response reused"
    );
    let sql_title = |page: &Page, what: &str, n: usize| {
        format!(
            "Database alone, the SQL the {what} needs from nothing, run by the benchmark \
             ({} statements: {}), {n} connection{} of a pool of {connections}",
            page.statements(),
            page.describe(),
            if n == 1 { "" } else { "s" }
        )
    };
    if data.writer_urns.len() < connections {
        anyhow::bail!(
            "only {} relevant schools for {connections} writers",
            data.writer_urns.len()
        );
    }
    let urns = submit_writers(data, connections);
    let tokens = urns
        .iter()
        .map(|u| {
            token(
                secret,
                &format!("bench-school-{u}"),
                &format!("school:{u}:read school:{u}:write"),
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The schools changed under the reads: in the LA read, none of the writers'.
    let mut la_schools = data
        .largest_la_writer_urns
        .iter()
        .copied()
        .filter(|u| !urns.contains(u));
    let mut next_school = |what: &str| {
        la_schools.next().with_context(|| {
            format!(
                "no school left in LA {la} to change for {what} (of {} candidates)",
                data.largest_la_writer_urns.len()
            )
        })
    };
    let appointment_urn = next_school("the dashboard")?;
    let la_report_urn = next_school("the LA's summary")?;
    let all_report_urn = next_school("the country's summary")?;
    // One writer for both dashboard scenarios, so that the second carries on alternating
    // the start date where the first left off.
    let appointment = school_writer(
        secret,
        appointment_urn,
        load::Change::Appointment {
            urn: appointment_urn,
        },
    )?;
    let report = |urn: i32| {
        school_writer(
            secret,
            urn,
            load::Change::Report {
                urn,
                academic_year: term.academic_year,
                term: term.term.as_str(),
            },
        )
    };
    let la_report = report(la_report_urn)?;
    let all_report = report(all_report_urn)?;
    let reference = reference_writer(data, secret)?;
    let la_label = format!("{la_name} ({la})");
    let appointment_change = format!(
        "the start date of the current SENCO appointment at school {appointment_urn} (in the \
         LA, among its earliest deadlines) moves a day earlier or back, which moves its \
         deadline,"
    );
    let reference_change = format!(
        "{la_label} renamed with `upsertLocalAuthority`, or back (a reference-data change no \
         answer shows), before every read: computed afresh from the stored facts each time"
    );
    let report_change = |urn: i32| {
        format!(
            "school {urn}'s {term} report amended (`numberOnRoll` one more, then back) before \
             every read: computed afresh from the stored facts after a change"
        )
    };
    Ok(vec![
        Scenario {
            key: "submit",
            title: format!(
                "`submitTermlyReport` for {} from {connections} clients, each its own school \
                 (a first submission, then amendments with `expectedVersion`)",
                data.submit_term
            ),
            workload: Work::Http(Workload::Submit {
                urns,
                tokens,
                academic_year: data.submit_term.academic_year,
                term: data.submit_term.term.as_str(),
            }),
            connections,
            target: Some((
                "`submitTermlyReport` >= 500/s from 32 clients, none lost",
                Target::Throughput(500.0),
            )),
        },
        Scenario {
            key: "dashboard",
            title: format!(
                "LA dashboard: `qualificationDeadlines` for {la_label}, first 100, with person and school"
            ),
            workload: read(&la_token, &dashboard),
            connections,
            target: Some((
                "LA dashboard p99 <= 25 ms at 32 connections",
                Target::P99AtMost(25.0),
            )),
        },
        Scenario {
            key: "dashboard-fresh",
            title: format!("LA dashboard as above, {connections} clients, {no_reuse}"),
            workload: fresh(&la_pool, &dashboard),
            connections,
            target: None,
        },
        Scenario {
            key: "sql-dashboard",
            title: sql_title(&dashboard_page, "LA dashboard", connections),
            workload: sql(&dashboard_page, &dashboard),
            connections,
            target: None,
        },
        Scenario {
            key: "dashboard-1",
            title: "LA dashboard as above, one client".to_string(),
            workload: read(&la_token, &dashboard),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "dashboard-fresh-1",
            title: format!("LA dashboard as above, one client, {no_reuse}"),
            workload: fresh(&la_pool, &dashboard),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "sql-dashboard-1",
            title: sql_title(&dashboard_page, "LA dashboard", 1),
            workload: sql(&dashboard_page, &dashboard),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "dashboard-writes",
            title: format!(
                "LA dashboard as above, {connections} clients, while {appointment_change} \
                 {CHURN_PER_SECOND} times a second: computed afresh from the stored facts \
                 after each change"
            ),
            workload: Work::Http(Workload::Read {
                requests: vec![(la_token.clone(), dashboard.clone())],
                fresh_tokens: None,
                write_before_each: None,
                background_writes: Some((appointment.clone(), CHURN_PER_SECOND)),
            }),
            connections,
            target: None,
        },
        Scenario {
            key: "dashboard-cold-1",
            title: format!(
                "LA dashboard as above, one client; {appointment_change} before every read: \
                 computed afresh from the stored facts after a change"
            ),
            workload: changed(&la_token, &dashboard, &appointment),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "dashboard-full-1",
            title: format!("LA dashboard as above, one client, {reference_change}"),
            workload: changed(&la_token, &dashboard, &reference),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-la-1",
            title: format!("`termlySummary` {term} for {la_label}, LA token, one client"),
            workload: read(&la_token, &summary_la),
            connections: 1,
            target: Some((
                "`termlySummary` for one LA: p50 <= 10 ms",
                Target::P50AtMost(10.0),
            )),
        },
        Scenario {
            key: "summary-la-fresh-1",
            title: format!("`termlySummary` for the LA as above, one client, {no_reuse}"),
            workload: fresh(&la_pool, &summary_la),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "sql-summary-la-1",
            title: sql_title(&summary_page, "LA's `termlySummary`", 1),
            workload: sql(&summary_page, &summary_la),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-la-cold-1",
            title: format!(
                "`termlySummary` for the LA as above, one client, {}",
                report_change(la_report_urn)
            ),
            workload: changed(&la_token, &summary_la, &la_report),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-la-full-1",
            title: format!("`termlySummary` for the LA as above, one client, {reference_change}"),
            workload: changed(&la_token, &summary_la, &reference),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-la-n",
            title: format!("`termlySummary` {term} for {la_label}, LA token, concurrent"),
            workload: read(&la_token, &summary_la),
            connections,
            target: None,
        },
        Scenario {
            key: "summary-la-fresh-n",
            title: format!(
                "`termlySummary` for the LA as above, {connections} clients, {no_reuse}"
            ),
            workload: fresh(&la_pool, &summary_la),
            connections,
            target: None,
        },
        Scenario {
            key: "sql-summary-la-n",
            title: sql_title(&summary_page, "LA's `termlySummary`", connections),
            workload: sql(&summary_page, &summary_la),
            connections,
            target: None,
        },
        Scenario {
            key: "summary-all-1",
            title: format!("`termlySummary` {term} for the whole country, admin token, one client"),
            workload: read(&admin, &summary_all),
            connections: 1,
            target: Some((
                "`termlySummary` for the whole country: <= 150 ms (p50)",
                Target::P50AtMost(150.0),
            )),
        },
        Scenario {
            key: "summary-all-fresh-1",
            title: format!(
                "`termlySummary` for the country as above, one client, {no_reuse} (admin \
                 tokens)"
            ),
            workload: fresh(&admin_pool, &summary_all),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-all-cold-1",
            title: format!(
                "`termlySummary` for the country as above, one client, {}",
                report_change(all_report_urn)
            ),
            workload: changed(&admin, &summary_all, &all_report),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-all-full-1",
            title: format!(
                "`termlySummary` for the country as above, one client, {reference_change}"
            ),
            workload: changed(&admin, &summary_all, &reference),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "summary-all-n",
            title: format!("`termlySummary` {term} for the whole country, admin token, concurrent"),
            workload: read(&admin, &summary_all),
            connections,
            target: None,
        },
        Scenario {
            key: "nested",
            title: format!(
                "Nested dashboard: `schools` of {la_label}, first 50, with appointments, people, \
                 qualifications, deadline status and latest reports"
            ),
            workload: read(&la_token, &nested),
            connections,
            target: None,
        },
        Scenario {
            key: "nested-1",
            title: "Nested dashboard as above, one client".to_string(),
            workload: read(&la_token, &nested),
            connections: 1,
            target: None,
        },
    ])
}

/// Sends a scenario's read once, untimed, and returns the response body; fails on an HTTP
/// or GraphQL error.
async fn read_once(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    token: &str,
    body: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let resp = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .with_context(|| format!("{key}: sending its read"))?;
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .with_context(|| format!("{key}: reading its response"))?;
    let v: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{key}: its response is not JSON (HTTP {status})"))?;
    if !status.is_success() || v.get("errors").is_some() {
        anyhow::bail!(
            "{key}: its read failed (HTTP {status}): {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(bytes.to_vec())
}

/// Before a scenario that makes changes, untimed: looks up what its writer changes and makes
/// one change, counting the statements it runs. Unless the change is to reference data
/// (which changes no answer, only makes the server compute afresh), the scenario's read is
/// sent before and after the change, and the scenario is refused when the two answers are the
/// same: the change would not change what is read, and the scenario would measure nothing.
/// Returns the statements of one change, or `None` when the scenario makes none.
async fn check_changes(
    server: &Server,
    key: &str,
    workload: &Workload,
) -> anyhow::Result<Option<u64>> {
    let Workload::Read {
        requests,
        write_before_each,
        background_writes,
        ..
    } = workload
    else {
        return Ok(None);
    };
    let Some(writer) = write_before_each
        .as_ref()
        .or(background_writes.as_ref().map(|(w, _)| w))
    else {
        return Ok(None);
    };
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    writer
        .prepare(&http, &url)
        .await
        .map_err(|e| anyhow::anyhow!("{key}: looking up what to change: {e}"))?;
    let (token, body) = requests
        .first()
        .with_context(|| format!("{key}: no request to send"))?;
    let answer_before = if writer.is_reference_data() {
        None
    } else {
        Some(read_once(&http, &url, key, token, body).await?)
    };
    let before = server.statements().await?;
    load::write_once(&http, &url, writer)
        .await
        .map_err(|e| anyhow::anyhow!("{key}: making a change: {e}"))?;
    let statements = server.statements().await?.saturating_sub(before);
    if let Some(answer_before) = answer_before {
        let answer_after = read_once(&http, &url, key, token, body).await?;
        if answer_after == answer_before {
            anyhow::bail!(
                "{key}: the answer is the same before and after a change ({:?}), so the \
                 scenario would measure nothing: {}",
                writer.change,
                String::from_utf8_lossy(&answer_after)
                    .chars()
                    .take(600)
                    .collect::<String>()
            );
        }
    }
    Ok(Some(statements))
}

/// Before a scenario running a page's SQL directly, untimed: the server's answer to the
/// same page and one run of the SQL must agree on the counts the answer is made of (the
/// list's length; the reports counted per term and the schools missing), so that the SQL
/// measured reads what the server reads.
async fn check_sql(
    server: &Server,
    key: &str,
    db: &DatabaseConnection,
    page: &Page,
    (token, body): &(String, Vec<u8>),
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let answer: Value = serde_json::from_slice(&read_once(&http, &url, key, token, body).await?)
        .with_context(|| format!("{key}: the server's answer is not JSON"))?;
    let server_counts = page.counts_in(&answer)?;
    let sql_counts = page
        .once(db)
        .await
        .with_context(|| format!("{key}: running the SQL once"))?;
    if server_counts != sql_counts {
        anyhow::bail!(
            "{key}: the SQL reads {sql_counts:?} where the server answers {server_counts:?}: \
             it is not the SQL of the same page"
        );
    }
    Ok(())
}

/// Runs one scenario against `server`; `db` is the benchmark's own pool on the same
/// database, for the scenarios that run SQL directly.
pub async fn run(
    server: &Server,
    db: &DatabaseConnection,
    s: Scenario,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<ScenarioResult> {
    let workload = match s.workload {
        Work::Http(w) => w,
        Work::Sql { page, check } => {
            check_sql(server, s.key, db, &page, &check).await?;
            let mark = CpuMark::now(server.pid);
            let stats = direct::run(db, &page, s.connections, warmup, duration).await?;
            let cpu = mark.since(&CpuMark::now(server.pid));
            return Ok(ScenarioResult {
                key: s.key,
                title: s.title,
                stats,
                statements_per_request: page.statements() as f64,
                peak_rss_kib: 0,
                cpu,
                target: s.target,
                direct: true,
                peer: false,
                fresh_tokens: None,
                response_hits: 0,
            });
        }
    };
    let fresh_tokens = match &workload {
        Workload::Read {
            fresh_tokens: Some(pool),
            ..
        } => Some(pool.size()),
        _ => None,
    };
    let per_change = check_changes(server, s.key, &workload).await?;
    let before = server.statements().await?;
    let hits_before = server.response_hits().await?;
    let sampler = RssSampler::start(server.pid);
    let url = format!("{}/graphql", server.base);
    let mark = CpuMark::now(server.pid);
    let stats = load::run(&url, workload, s.connections, warmup, duration).await?;
    let cpu = mark.since(&CpuMark::now(server.pid));
    let peak_rss_kib = sampler.stop().max(server.memory().rss_kib);
    let after = server.statements().await?;
    let response_hits = server.response_hits().await?.saturating_sub(hits_before);
    // The statements of the untimed changes made alongside the reads are not the reads':
    // take them out, at the count one change ran before the scenario.
    let changes = stats
        .background_writes
        .saturating_mul(per_change.unwrap_or(0));
    let statements_per_request = if stats.total_requests == 0 {
        0.0
    } else {
        after.saturating_sub(before).saturating_sub(changes) as f64 / stats.total_requests as f64
    };
    Ok(ScenarioResult {
        key: s.key,
        title: s.title,
        stats,
        statements_per_request,
        peak_rss_kib,
        cpu,
        target: s.target,
        direct: false,
        peer: false,
        fresh_tokens,
        response_hits,
    })
}

/// Statements one request runs at two page sizes: equal when the count is bounded by the
/// query's shape rather than by the rows.
#[derive(Debug, Clone)]
pub struct ShapeCheck {
    /// Which query.
    pub query: &'static str,
    /// (page size, rows returned, statements).
    pub runs: Vec<(i64, usize, u64)>,
}

/// Sends `query` for the LA at page size `first` as `token` and returns the response.
async fn ask(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    (name, query): (&str, &str),
    la: i32,
    first: i64,
) -> anyhow::Result<Value> {
    let resp: Value = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": { "la": la, "first": first } }))
        .send()
        .await
        .with_context(|| format!("sending {name} with first {first}"))?
        .json()
        .await
        .with_context(|| format!("reading {name} with first {first}"))?;
    if let Some(errors) = resp.get("errors") {
        anyhow::bail!("{name} with first {first} failed: {errors}");
    }
    Ok(resp)
}

/// Runs the dashboard and nested queries once each at a small and a large page size, one at
/// a time, and counts the statements of each. Each is first asked once uncounted at every
/// size; then, before each counted request (untimed, uncounted), the largest LA is renamed
/// or named back, a change that moves the counters, so that the server computes the
/// answer afresh from the stored facts rather than reading a cached one.
pub async fn shape_checks(
    server: &Server,
    data: &DataSet,
    secret: &str,
) -> anyhow::Result<Vec<ShapeCheck>> {
    let la = data.largest_la.0;
    let la_token = token(secret, "bench-la", &format!("la:{la}:read"))?;
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let writer = reference_writer(data, secret)?;
    let mut out = Vec::new();
    for (name, query, field, sizes) in [
        (
            "qualificationDeadlines (dashboard)",
            DASHBOARD,
            "qualificationDeadlines",
            [10, 100],
        ),
        ("schools (nested dashboard)", NESTED, "schools", [10, 50]),
    ] {
        for first in sizes {
            ask(&http, &url, &la_token, (name, query), la, first).await?;
        }
        let mut runs = Vec::new();
        for first in sizes {
            load::write_once(&http, &url, &writer)
                .await
                .map_err(|e| anyhow::anyhow!("changing the database: {e}"))?;
            let before = server.statements().await?;
            let resp = ask(&http, &url, &la_token, (name, query), la, first).await?;
            let after = server.statements().await?;
            let rows = resp["data"][field]["edges"].as_array().map_or(0, Vec::len);
            runs.push((first, rows, after.saturating_sub(before)));
        }
        out.push(ShapeCheck { query: name, runs });
    }
    Ok(out)
}

/// What the writers' submissions left in the database.
#[derive(Debug, Clone, Default)]
pub struct SubmitCheck {
    /// Submissions acknowledged with a version.
    pub acknowledged: u64,
    /// Rows stored for the writers' schools and term.
    pub stored: u64,
    /// Acknowledged but not stored.
    pub lost: u64,
    /// Schools whose stored versions are not exactly 1..=n with the last one latest and
    /// equal to the last version acknowledged.
    pub inconsistent: Vec<i32>,
}

/// Compares what the writers were told with what the database holds (after the server
/// has stopped, so everything acknowledged must be durable).
pub async fn verify_submissions(
    db: &Db,
    data: &DataSet,
    stats: &RunStats,
) -> anyhow::Result<SubmitCheck> {
    let urns: Vec<i32> = stats.acknowledged.iter().map(|a| a.0).collect();
    let rows: Vec<(i32, i32, bool)> = termly_report::Entity::find()
        .select_only()
        .column(termly_report::Column::SchoolUrn)
        .column(termly_report::Column::Version)
        .column(termly_report::Column::IsLatest)
        .filter(termly_report::Column::SchoolUrn.is_in(urns))
        .filter(termly_report::Column::AcademicYear.eq(data.submit_term.academic_year))
        .filter(termly_report::Column::Term.eq(data.submit_term.term.as_str()))
        .into_tuple()
        .all(&db.conn)
        .await
        .context("reading back the submitted reports")?;
    let mut by_school: BTreeMap<i32, Vec<(i32, bool)>> = BTreeMap::new();
    for (urn, version, latest) in rows {
        by_school.entry(urn).or_default().push((version, latest));
    }
    let mut check = SubmitCheck::default();
    for (urn, acked, last) in &stats.acknowledged {
        let mut versions = by_school.remove(urn).unwrap_or_default();
        versions.sort_unstable();
        let stored = versions.len() as u64;
        check.acknowledged += acked;
        check.stored += stored;
        check.lost += acked.saturating_sub(stored);
        let contiguous = versions
            .iter()
            .enumerate()
            .all(|(i, (v, _))| usize::try_from(*v).ok() == Some(i + 1));
        let latest: Vec<i32> = versions.iter().filter(|v| v.1).map(|v| v.0).collect();
        let consistent = contiguous
            && (versions.is_empty() || latest == vec![versions.len() as i32])
            && (*acked == 0 || *last == versions.len() as i32);
        if !consistent {
            check.inconsistent.push(*urn);
        }
    }
    Ok(check)
}
