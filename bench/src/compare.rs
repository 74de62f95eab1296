//! The peer comparison of issue 21, on PostgreSQL: two reads both our server and PostGraphile
//! 4.14 ([`crate::peer`]) can serve over the same database, for the LA the dashboard
//! scenarios use, each measured at one client and at N: ours with the whole response reused
//! (one token), ours with none reused (a token of its own per request), PostGraphile, and the
//! SQL the page needs run directly (the statements our server runs for it); and the
//! transport floor of both. Before anything is measured both servers must answer the same
//! rows, or the run fails.
//!
//! - **flat**: the LA's first 100 schools by URN with `totalCount`, each with its URN, name,
//!   kind, phase and number on roll;
//! - **nested**: the same with each school's SENCO appointments (start, end) and each
//!   appointment's person (full name).

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use crate::dataset::DataSet;
use crate::direct::Page;
use crate::load::{self, Workload};
use crate::peer::{Installed, Peer};
use crate::scenarios::{self, FRESH_TOKENS, Scenario, ScenarioResult, Work};
use crate::server::{CpuMark, RssSampler, Server};

/// Page size of both reads.
pub const FIRST: u32 = 100;

/// Our flat read.
pub const OURS_FLAT: &str = "query Flat($la: Int!, $first: Int!) {
  schools(filter: { laCode: $la }, first: $first) {
    totalCount
    edges { node { urn name kind phase numberOnRoll } }
  }
}";

/// Our nested read.
pub const OURS_NESTED: &str = "query Nested($la: Int!, $first: Int!) {
  schools(filter: { laCode: $la }, first: $first) {
    totalCount
    edges { node {
      urn name kind phase numberOnRoll
      sencoAppointments { startedOn endedOn person { fullName } }
    } }
  }
}";

/// PostGraphile's flat read: the same columns, by URN.
pub const PEER_FLAT: &str = "query Flat($la: Int!, $first: Int!) {
  allSchools(condition: { laCode: $la }, orderBy: URN_ASC, first: $first) {
    totalCount
    edges { node { urn name kind phase numberOnRoll } }
  }
}";

/// PostGraphile's nested read: appointments through the foreign key
/// `senco_appointment.school_urn`, people through `senco_appointment.person_id`.
pub const PEER_NESTED: &str = "query Nested($la: Int!, $first: Int!) {
  allSchools(condition: { laCode: $la }, orderBy: URN_ASC, first: $first) {
    totalCount
    edges { node {
      urn name kind phase numberOnRoll
      sencoAppointmentsBySchoolUrn { nodes { startedOn endedOn personByPersonId { fullName } } }
    } }
  }
}";

/// Our transport floor: what the token says, no data.
pub const FLOOR_VIEWER: &str = "{ viewer { sub } }";

/// Both servers' transport floor.
pub const FLOOR_TYPENAME: &str = "{ __typename }";

/// The scenario keys of one read at one concurrency.
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    /// Ours, one token: the whole response reused.
    pub reuse: &'static str,
    /// Ours, a token of its own per request: no whole response reused.
    pub fresh: &'static str,
    /// PostGraphile.
    pub peer: &'static str,
    /// The page's SQL, directly.
    pub sql: &'static str,
}

/// One read of the comparison and its targets.
#[derive(Debug, Clone, Copy)]
pub struct Read {
    /// Its name in the report.
    pub name: &'static str,
    /// Whether it reads the appointments and people too.
    pub nested: bool,
    /// The least share of the database's own throughput ours must reach with no reuse.
    pub sql_share: f64,
    /// The share as written in the report.
    pub share_text: &'static str,
    /// Keys at one client, then at N.
    pub keys: [Keys; 2],
}

/// The two reads.
pub const READS: [Read; 2] = [
    Read {
        name: "flat: 100 schools",
        nested: false,
        sql_share: 0.5,
        share_text: "1/2",
        keys: [
            Keys {
                reuse: "cmp-flat-reuse-1",
                fresh: "cmp-flat-fresh-1",
                peer: "cmp-flat-peer-1",
                sql: "cmp-flat-sql-1",
            },
            Keys {
                reuse: "cmp-flat-reuse-n",
                fresh: "cmp-flat-fresh-n",
                peer: "cmp-flat-peer-n",
                sql: "cmp-flat-sql-n",
            },
        ],
    },
    Read {
        name: "nested: 100 schools, appointments, people",
        nested: true,
        sql_share: 1.0 / 3.0,
        share_text: "1/3",
        keys: [
            Keys {
                reuse: "cmp-nested-reuse-1",
                fresh: "cmp-nested-fresh-1",
                peer: "cmp-nested-peer-1",
                sql: "cmp-nested-sql-1",
            },
            Keys {
                reuse: "cmp-nested-reuse-n",
                fresh: "cmp-nested-fresh-n",
                peer: "cmp-nested-peer-n",
                sql: "cmp-nested-sql-n",
            },
        ],
    },
];

/// Ours, `{ viewer { sub } }`, one token, N clients.
pub const FLOOR_OURS_VIEWER: &str = "cmp-floor-viewer-n";
/// Ours, `{ __typename }`, one token, N clients.
pub const FLOOR_OURS_TYPENAME: &str = "cmp-floor-typename-n";
/// PostGraphile, `{ __typename }`, N clients.
pub const FLOOR_PEER: &str = "cmp-floor-peer-n";

/// Every key of the comparison's scenarios.
pub fn keys() -> impl Iterator<Item = &'static str> {
    let reads: &'static [Read; 2] = &READS;
    reads
        .iter()
        .flat_map(|r| {
            r.keys
                .iter()
                .flat_map(|k| [k.reuse, k.fresh, k.peer, k.sql])
        })
        .chain([FLOOR_OURS_VIEWER, FLOOR_OURS_TYPENAME, FLOOR_PEER])
}

/// How the peer was run and what both servers answered, for the report.
#[derive(Debug, Clone)]
pub struct PeerRun {
    /// PostGraphile's version.
    pub version: String,
    /// Node's version.
    pub node: String,
    /// The command line (the database URL left out).
    pub command: String,
    /// Its pool size (ours's).
    pub pool: u32,
    /// Cluster workers (1: one process).
    pub workers: u32,
    /// The LA read: (code, name).
    pub la: (i32, String),
    /// The LA's schools in all (`totalCount`).
    pub total: i64,
    /// Schools on the page.
    pub rows: usize,
    /// Appointments at them.
    pub appointments: usize,
    /// Response sizes in bytes, (ours, peer), of the flat then the nested read.
    pub bytes: [(usize, usize); 2],
    /// Lines the peer printed, and the first few of them.
    pub log: Vec<String>,
}

/// What to run the peer with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The installed PostGraphile.
    pub installed: Installed,
    /// Pool size (ours's `SENCO_DB_MAX_CONNECTIONS`).
    pub pool: u32,
    /// Cluster workers.
    pub workers: u32,
    /// Keep its log.
    pub keep_log: bool,
}

/// One school of a page as both servers answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    name: String,
    kind: String,
    phase: String,
    roll: Option<i64>,
    /// (started, ended, person's name), sorted.
    appointments: Vec<(String, Option<String>, String)>,
}

/// `totalCount` and the rows by URN of one answer; `ours` says whose names to read.
fn rows_of(answer: &Value, ours: bool) -> anyhow::Result<(i64, BTreeMap<i64, Row>, Vec<i64>)> {
    let list = if ours {
        &answer["data"]["schools"]
    } else {
        &answer["data"]["allSchools"]
    };
    let total = list["totalCount"]
        .as_i64()
        .with_context(|| format!("no totalCount in {answer}"))?;
    let edges = list["edges"]
        .as_array()
        .with_context(|| format!("no edges in {answer}"))?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut rows = BTreeMap::new();
    let mut order = Vec::new();
    for e in edges {
        let n = &e["node"];
        let urn = n["urn"]
            .as_i64()
            .with_context(|| format!("a school without a URN: {n}"))?;
        let appointments = if ours {
            n["sencoAppointments"].as_array()
        } else {
            n["sencoAppointmentsBySchoolUrn"]["nodes"].as_array()
        };
        let mut appointments: Vec<(String, Option<String>, String)> = appointments
            .map(|a| {
                a.iter()
                    .map(|a| {
                        let person = if ours {
                            &a["person"]
                        } else {
                            &a["personByPersonId"]
                        };
                        (
                            text(&a["startedOn"]),
                            a["endedOn"].as_str().map(str::to_string),
                            text(&person["fullName"]),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        appointments.sort();
        order.push(urn);
        rows.insert(
            urn,
            Row {
                name: text(&n["name"]),
                // Ours are GraphQL enums of the stored words.
                kind: text(&n["kind"]).to_ascii_uppercase(),
                phase: text(&n["phase"]).to_ascii_uppercase(),
                roll: n["numberOnRoll"].as_i64(),
                appointments,
            },
        );
    }
    Ok((total, rows, order))
}

/// Fails unless the two answers hold the same rows: the same total, the same URNs in the
/// same order with the same columns, and the same appointments with the same people.
/// Returns (total, schools, appointments).
fn same_rows(what: &str, ours: &Value, peer: &Value) -> anyhow::Result<(i64, usize, usize)> {
    let (t1, r1, o1) = rows_of(ours, true).with_context(|| format!("{what}: our answer"))?;
    let (t2, r2, o2) =
        rows_of(peer, false).with_context(|| format!("{what}: the peer's answer"))?;
    if t1 != t2 {
        bail!("{what}: our totalCount is {t1}, PostGraphile's {t2}");
    }
    if o1 != o2 {
        bail!("{what}: the URNs differ: ours {o1:?}, PostGraphile's {o2:?}");
    }
    for (urn, a) in &r1 {
        let b = &r2[urn];
        if a != b {
            bail!("{what}: school {urn} differs: ours {a:?}, PostGraphile's {b:?}");
        }
    }
    let appointments = r1.values().map(|r| r.appointments.len()).sum();
    Ok((t1, r1.len(), appointments))
}

/// Posts `body` (with `token` unless it is empty) and returns the parsed answer and its size;
/// fails on an HTTP or GraphQL error.
async fn ask(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &[u8],
    what: &str,
) -> anyhow::Result<(Value, usize)> {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("{what}: sending"))?;
    let status = resp.status();
    let bytes = resp.bytes().await?;
    let v: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{what}: not JSON (HTTP {status})"))?;
    if !status.is_success() || v.get("errors").is_some() {
        bail!(
            "{what}: failed (HTTP {status}): {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(1500)
                .collect::<String>()
        );
    }
    Ok((v, bytes.len()))
}

fn body(query: &str, variables: Value) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(
        &json!({ "query": query, "variables": variables }),
    )?)
}

/// The scenarios of the comparison, in the order they run: per read, at one client then at
/// N, ours with the response reused, ours with none reused, the peer, the SQL; then the
/// floors at N. The bool says whether the scenario is the peer's.
fn plan(data: &DataSet, secret: &str, connections: usize) -> anyhow::Result<Vec<(Scenario, bool)>> {
    let (la, la_name, _) = &data.largest_la;
    let la_token = scenarios::token(secret, "bench-la", &format!("la:{la}:read"))?;
    let pool = scenarios::token_pool(
        secret,
        "bench-la-peer-officer",
        &format!("la:{la}:read"),
        FRESH_TOKENS,
    )?;
    let vars = json!({ "la": la, "first": FIRST });
    let read = |token: &str, b: &[u8], fresh: bool| {
        Work::Http(Workload::Read {
            requests: vec![(token.to_string(), b.to_vec())],
            fresh_tokens: fresh.then(|| pool.clone()),
            write_before_each: None,
            background_writes: None,
        })
    };
    let mut out = Vec::new();
    for r in &READS {
        let (ours_q, peer_q) = if r.nested {
            (OURS_NESTED, PEER_NESTED)
        } else {
            (OURS_FLAT, PEER_FLAT)
        };
        let ours = body(ours_q, vars.clone())?;
        let peer = body(peer_q, vars.clone())?;
        let page = Page::Schools {
            la: *la,
            first: FIRST,
            nested: r.nested,
        };
        for (keys, n) in r.keys.iter().zip([1, connections]) {
            let clients = format!("{n} client{}", if n == 1 { "" } else { "s" });
            let what = format!("Peer comparison, {} of {la_name} ({la})", r.name);
            out.push((
                Scenario {
                    key: keys.reuse,
                    title: format!("{what}: ours, one LA token (whole response reused), {clients}"),
                    workload: read(&la_token, &ours, false),
                    connections: n,
                    target: None,
                },
                false,
            ));
            out.push((
                Scenario {
                    key: keys.fresh,
                    title: format!(
                        "{what}: ours, a token of its own per request ({FRESH_TOKENS} in turn: \
                         no whole response reused), {clients}"
                    ),
                    workload: read("", &ours, true),
                    connections: n,
                    target: None,
                },
                false,
            ));
            out.push((
                Scenario {
                    key: keys.peer,
                    title: format!("{what}: PostGraphile, {clients}"),
                    workload: read("", &peer, false),
                    connections: n,
                    target: None,
                },
                true,
            ));
            out.push((
                Scenario {
                    key: keys.sql,
                    title: format!(
                        "{what}: the database alone, the page's SQL run by the benchmark ({} \
                         statements: {}), {clients}",
                        page.statements(),
                        page.describe()
                    ),
                    workload: Work::Sql {
                        page: page.clone(),
                        check: (la_token.clone(), ours.clone()),
                    },
                    connections: n,
                    target: None,
                },
                false,
            ));
        }
    }
    let viewer = body(FLOOR_VIEWER, json!({}))?;
    let typename = body(FLOOR_TYPENAME, json!({}))?;
    let n = connections;
    for (key, query, body) in [
        (FLOOR_OURS_VIEWER, FLOOR_VIEWER, &viewer),
        (FLOOR_OURS_TYPENAME, FLOOR_TYPENAME, &typename),
    ] {
        out.push((
            Scenario {
                key,
                title: format!("Transport floor: ours, `{query}`, one LA token, {n} clients"),
                workload: read(&la_token, body, false),
                connections: n,
                target: None,
            },
            false,
        ));
    }
    out.push((
        Scenario {
            key: FLOOR_PEER,
            title: format!("Transport floor: PostGraphile, `{FLOOR_TYPENAME}`, {n} clients"),
            workload: read("", &typename, false),
            connections: n,
            target: None,
        },
        true,
    ));
    Ok(out)
}

/// Asks both servers both reads once and fails unless they answer the same rows.
async fn check(
    srv: &Server,
    peer: &Peer,
    data: &DataSet,
    secret: &str,
) -> anyhow::Result<(i64, usize, usize, [(usize, usize); 2])> {
    let la = data.largest_la.0;
    let token = scenarios::token(secret, "bench-la", &format!("la:{la}:read"))?;
    let http = reqwest::Client::new();
    let ours_url = format!("{}/graphql", srv.base);
    let vars = json!({ "la": la, "first": FIRST });
    let mut bytes = [(0, 0); 2];
    let mut shape = (0, 0, 0);
    for (i, (what, ours_q, peer_q)) in [
        ("flat", OURS_FLAT, PEER_FLAT),
        ("nested", OURS_NESTED, PEER_NESTED),
    ]
    .into_iter()
    .enumerate()
    {
        let (ours, ours_len) = ask(
            &http,
            &ours_url,
            &token,
            &body(ours_q, vars.clone())?,
            &format!("our {what} read"),
        )
        .await?;
        let (theirs, peer_len) = ask(
            &http,
            &peer.url,
            "",
            &body(peer_q, vars.clone())?,
            &format!("PostGraphile's {what} read"),
        )
        .await?;
        let (total, rows, appointments) = same_rows(what, &ours, &theirs).with_context(|| {
            "the peer comparison's reads do not answer the same rows, so nothing would be \
             compared"
        })?;
        if rows == 0 {
            bail!("the peer comparison's {what} read found no schools in LA {la}");
        }
        if i == 1 && appointments == 0 {
            bail!("the peer comparison's nested read found no appointments in LA {la}");
        }
        bytes[i] = (ours_len, peer_len);
        shape = (total, rows, appointments.max(shape.2));
    }
    Ok((shape.0, shape.1, shape.2, bytes))
}

/// Runs one of the peer's scenarios: its CPU and memory are the peer's (its process and any
/// cluster workers).
async fn run_peer(
    peer: &Peer,
    s: Scenario,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<ScenarioResult> {
    let Work::Http(workload) = s.workload else {
        bail!("{}: a peer scenario must be requests", s.key);
    };
    // The Node.js process and its cluster workers, if any (forked when it started).
    let pids = crate::server::process_tree(peer.pid);
    let sampler = RssSampler::start_sum(pids.clone());
    let mark = CpuMark::of(&pids);
    let stats = load::run(&peer.url, workload, s.connections, warmup, duration).await?;
    let cpu = mark.since(&CpuMark::of(&pids));
    let peak_rss_kib = sampler.stop();
    Ok(ScenarioResult {
        key: s.key,
        title: s.title,
        stats,
        statements_per_request: 0.0,
        peak_rss_kib,
        cpu,
        target: None,
        direct: false,
        peer: true,
        fresh_tokens: None,
        response_hits: 0,
    })
}

/// Starts the peer over `database_url`, checks that both servers answer the same rows, runs
/// the comparison's scenarios that `selected` keeps (ours against `srv`, the SQL over `db`)
/// and stops the peer.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    setup: &Setup,
    srv: &Server,
    db: &DatabaseConnection,
    database_url: &str,
    data: &DataSet,
    secret: &str,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    selected: &dyn Fn(&str) -> bool,
) -> anyhow::Result<(Vec<ScenarioResult>, PeerRun)> {
    let log_path = std::env::temp_dir().join(format!(
        "senco-bench-postgraphile-{}.log",
        std::process::id()
    ));
    let peer = Peer::start(
        &setup.installed,
        database_url,
        setup.pool,
        setup.workers,
        log_path.clone(),
    )
    .await?;
    crate::log(format!(
        "PostgreSQL: PostGraphile {} up as pid {} at {}",
        setup.installed.version, peer.pid, peer.url
    ));
    let outcome = measure(
        &peer,
        srv,
        db,
        data,
        secret,
        connections,
        warmup,
        duration,
        selected,
    )
    .await;
    let command = peer.command.clone();
    let status = peer.stop().await;
    crate::log(format!("PostgreSQL: PostGraphile stopped ({status:?})"));
    let log: Vec<String> = std::fs::read_to_string(&log_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if setup.keep_log {
        crate::log(format!("kept the peer's log: {}", log_path.display()));
    } else {
        let _ = std::fs::remove_file(&log_path);
    }
    let (results, (total, rows, appointments, bytes)) = outcome?;
    Ok((
        results,
        PeerRun {
            version: setup.installed.version.clone(),
            node: setup.installed.node.clone(),
            command,
            pool: setup.pool,
            workers: setup.workers,
            la: (data.largest_la.0, data.largest_la.1.clone()),
            total,
            rows,
            appointments,
            bytes,
            log,
        },
    ))
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    peer: &Peer,
    srv: &Server,
    db: &DatabaseConnection,
    data: &DataSet,
    secret: &str,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    selected: &dyn Fn(&str) -> bool,
) -> anyhow::Result<(
    Vec<ScenarioResult>,
    (i64, usize, usize, [(usize, usize); 2]),
)> {
    let shape = check(srv, peer, data, secret).await?;
    crate::log(format!(
        "  both servers answer the same rows: {} schools of {} in LA {}, {} appointments",
        shape.1, shape.0, data.largest_la.0, shape.2
    ));
    let mut results = Vec::new();
    for (s, is_peer) in plan(data, secret, connections)? {
        if !selected(s.key) {
            continue;
        }
        crate::log(format!("  {} ({} clients)", s.key, s.connections));
        let r = if is_peer {
            run_peer(peer, s, warmup, duration).await?
        } else {
            scenarios::run(srv, db, s, warmup, duration).await?
        };
        crate::log_result(&r);
        results.push(r);
    }
    Ok((results, shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_prefixed() {
        let keys: Vec<&str> = keys().collect();
        let distinct: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(keys.len(), 19);
        assert_eq!(distinct.len(), keys.len());
        // `--only cmp` selects them all.
        assert!(keys.iter().all(|k| k.starts_with("cmp-")));
    }

    #[test]
    fn the_same_rows_are_recognised_and_others_refused() {
        let ours = json!({ "data": { "schools": { "totalCount": 2, "edges": [
            { "node": { "urn": 1, "name": "A", "kind": "ACADEMY_CONVERTER", "phase": "PRIMARY",
                        "numberOnRoll": 10, "sencoAppointments": [
                { "startedOn": "2020-01-01", "endedOn": null, "person": { "fullName": "X" } },
                { "startedOn": "2019-01-01", "endedOn": "2019-12-31", "person": { "fullName": "Y" } } ] } },
            { "node": { "urn": 2, "name": "B", "kind": "FREE_SCHOOL", "phase": "SECONDARY",
                        "numberOnRoll": null, "sencoAppointments": [] } } ] } } });
        let peer = json!({ "data": { "allSchools": { "totalCount": 2, "edges": [
            { "node": { "urn": 1, "name": "A", "kind": "academy_converter", "phase": "primary",
                        "numberOnRoll": 10, "sencoAppointmentsBySchoolUrn": { "nodes": [
                { "startedOn": "2019-01-01", "endedOn": "2019-12-31", "personByPersonId": { "fullName": "Y" } },
                { "startedOn": "2020-01-01", "endedOn": null, "personByPersonId": { "fullName": "X" } } ] } } },
            { "node": { "urn": 2, "name": "B", "kind": "free_school", "phase": "secondary",
                        "numberOnRoll": null, "sencoAppointmentsBySchoolUrn": { "nodes": [] } } } ] } } });
        assert_eq!(same_rows("t", &ours, &peer).unwrap(), (2, 2, 2));
        let mut other = peer.clone();
        other["data"]["allSchools"]["edges"][0]["node"]["sencoAppointmentsBySchoolUrn"]["nodes"]
            [0]["personByPersonId"]["fullName"] = json!("Z");
        assert!(same_rows("t", &ours, &other).is_err());
        let mut other = peer.clone();
        other["data"]["allSchools"]["totalCount"] = json!(3);
        assert!(same_rows("t", &ours, &other).is_err());
    }
}
