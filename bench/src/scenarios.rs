//! The scenarios of SPEC section 7, as GraphQL requests with the tokens they need, and how
//! each is run and measured: throughput and latency from the clients, SQL statements per
//! request from the server's `/metrics`, resident memory from `/proc`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use api::auth::IssuedClaims;
use api::config::{DEFAULT_AUDIENCE, Secret};
use api::db::Db;
use entity::termly_report;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use crate::dataset::DataSet;
use crate::load::{self, RunStats, Workload};
use crate::server::{CpuMark, CpuShare, RssSampler, Server};

/// The LA dashboard of SPEC 7: deadlines for one LA, with person and school.
pub const DASHBOARD: &str = "query Dashboard($la: Int!, $first: Int!) {
  qualificationDeadlines(filter: { laCode: $la }, first: $first) {
    totalCount
    edges { node {
      status deadline daysRemaining dutyApplies
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

/// A scenario to run.
pub struct Scenario {
    /// Short key.
    pub key: &'static str,
    /// What it does.
    pub title: String,
    /// Requests.
    pub workload: Workload,
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
}

/// The `i`-th school whose SENCO appointment is changed to change the database under the
/// reads (a staff change, which moves both of the server's change markers). Each scenario has
/// its own school, from the far end of the list, away from the writers'.
pub fn churn_writer(data: &DataSet, secret: &str, i: usize) -> anyhow::Result<load::Writer> {
    let urn = *data
        .writer_urns
        .get(data.writer_urns.len().saturating_sub(1 + i))
        .context("no school to write with")?;
    Ok(load::Writer {
        urn,
        token: token(
            secret,
            &format!("bench-churn-{urn}"),
            &format!("school:{urn}:read school:{urn}:write"),
        )?,
        appointment: Default::default(),
    })
}

/// The scenarios, in the order they run: the writers first, on a freshly started server, so
/// that the memory measured under the write load is that load's own; then the reads (the
/// writers' term is not one the summaries read).
pub fn plan(data: &DataSet, secret: &str, connections: usize) -> anyhow::Result<Vec<Scenario>> {
    let (la, la_name, _) = &data.largest_la;
    let la_token = token(secret, "bench-la", &format!("la:{la}:read"))?;
    let admin = token(secret, "bench-admin", "admin")?;
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
    let read = |t: &str, b: &[u8]| Workload::Read {
        requests: vec![(t.to_string(), b.to_vec())],
        write_before_each: None,
        background_writes: None,
    };
    let churner = |i: usize| churn_writer(data, secret, i);
    let cold = |t: &str, b: &[u8], i: usize| -> anyhow::Result<Workload> {
        Ok(Workload::Read {
            requests: vec![(t.to_string(), b.to_vec())],
            write_before_each: Some(churner(i)?),
            background_writes: None,
        })
    };
    if data.writer_urns.len() < connections {
        anyhow::bail!(
            "only {} relevant schools for {connections} writers",
            data.writer_urns.len()
        );
    }
    // Writers spread across the country: every k-th relevant school.
    let step = data.writer_urns.len() / connections;
    let urns: Vec<i32> = (0..connections)
        .map(|i| data.writer_urns[i * step])
        .collect();
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
    let la_label = format!("{la_name} ({la})");
    Ok(vec![
        Scenario {
            key: "submit",
            title: format!(
                "`submitTermlyReport` for {} from {connections} clients, each its own school \
                 (a first submission, then amendments with `expectedVersion`)",
                data.submit_term
            ),
            workload: Workload::Submit {
                urns,
                tokens,
                academic_year: data.submit_term.academic_year,
                term: data.submit_term.term.as_str(),
            },
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
            key: "dashboard-1",
            title: "LA dashboard as above, one client".to_string(),
            workload: read(&la_token, &dashboard),
            connections: 1,
            target: None,
        },
        Scenario {
            key: "dashboard-writes",
            title: format!(
                "LA dashboard as above, {connections} clients, while one school's SENCO appointment \
                 changes {CHURN_PER_SECOND} times a second (each change invalidates the server's \
                 result cache)"
            ),
            workload: Workload::Read {
                requests: vec![(la_token.clone(), dashboard.clone())],
                write_before_each: None,
                background_writes: Some((churner(0)?, CHURN_PER_SECOND)),
            },
            connections,
            target: None,
        },
        Scenario {
            key: "dashboard-cold-1",
            title: "LA dashboard as above, one client, the database changed before every read \
                    (computed afresh each time)"
                .to_string(),
            workload: cold(&la_token, &dashboard, 1)?,
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
            key: "summary-la-cold-1",
            title: "`termlySummary` for the LA as above, one client, the database changed before \
                    every read (computed afresh each time)"
                .to_string(),
            workload: cold(&la_token, &summary_la, 2)?,
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
            key: "summary-all-cold-1",
            title: "`termlySummary` for the country as above, one client, the database changed \
                    before every read (computed afresh each time)"
                .to_string(),
            workload: cold(&admin, &summary_all, 3)?,
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

/// Runs one scenario against `server`.
pub async fn run(
    server: &Server,
    s: Scenario,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<ScenarioResult> {
    let before = server.statements().await?;
    let sampler = RssSampler::start(server.pid);
    let url = format!("{}/graphql", server.base);
    let mark = CpuMark::now(server.pid);
    let stats = load::run(&url, s.workload, s.connections, warmup, duration).await?;
    let cpu = mark.since(&CpuMark::now(server.pid));
    let peak_rss_kib = sampler.stop().max(server.memory().rss_kib);
    let after = server.statements().await?;
    let statements_per_request = if stats.total_requests == 0 {
        0.0
    } else {
        (after.saturating_sub(before)) as f64 / stats.total_requests as f64
    };
    Ok(ScenarioResult {
        key: s.key,
        title: s.title,
        stats,
        statements_per_request,
        peak_rss_kib,
        cpu,
        target: s.target,
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

/// Runs the dashboard and nested queries once each at a small and a large page size, one at
/// a time, and counts the statements of each; returns them with the statements one change
/// to the database costs, to take out of the scenarios that make changes alongside. The database is changed (untimed, uncounted)
/// before each, so that the server computes the answer rather than reading its cache.
pub async fn shape_checks(
    server: &Server,
    data: &DataSet,
    secret: &str,
) -> anyhow::Result<(Vec<ShapeCheck>, f64)> {
    let (la, _, _) = &data.largest_la;
    let la_token = token(secret, "bench-la", &format!("la:{la}:read"))?;
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", server.base);
    let writer = churn_writer(data, secret, 4)?;
    // The first change also looks the appointment up; the later ones are counted.
    let mut version = load::write_once(&http, &url, &writer, 0)
        .await
        .map_err(|e| anyhow::anyhow!("changing the database: {e}"))?;
    let (mut changes, mut change_statements) = (0_u64, 0_u64);
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
        let mut runs = Vec::new();
        for first in sizes {
            let before_change = server.statements().await?;
            version = load::write_once(&http, &url, &writer, version)
                .await
                .map_err(|e| anyhow::anyhow!("changing the database: {e}"))?;
            let before = server.statements().await?;
            changes += 1;
            change_statements += before.saturating_sub(before_change);
            let resp: Value = http
                .post(&url)
                .bearer_auth(&la_token)
                .json(&json!({ "query": query, "variables": { "la": la, "first": first } }))
                .send()
                .await?
                .json()
                .await?;
            let after = server.statements().await?;
            if let Some(errors) = resp.get("errors") {
                anyhow::bail!("{name} with first {first} failed: {errors}");
            }
            let rows = resp["data"][field]["edges"].as_array().map_or(0, Vec::len);
            runs.push((first, rows, after.saturating_sub(before)));
        }
        out.push(ShapeCheck { query: name, runs });
    }
    Ok((out, change_statements as f64 / changes.max(1) as f64))
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
