//! The newcomer's first run (SPEC section 2): the demo is a working LA, not an empty shell.
//! `serve` on an empty database loads it and prints tokens that work; every view of the
//! product has something true to show on the first query.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};

/// Runs `senco-oversight seed-demo` against `db`; returns what it printed.
fn seed_demo(db: &TestDb) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
        .arg("seed-demo")
        .env("SENCO_DATABASE_URL", &db.url)
        .env("SENCO_JWT_SECRET", SECRET)
        .env("SENCO_DEMO", "false")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "seed-demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn count_of(list: &Value, key: &str, value: &str) -> i64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c[key] == value)
        .map_or(0, |c| c["count"].as_i64().unwrap())
}

#[tokio::test]
async fn the_demo_shows_an_la_with_every_status_six_terms_and_sound_and_unsound_clusters() {
    let db = TestDb::new().await;
    let first = seed_demo(&db);
    assert!(first.contains("demo data loaded"), "{first}");
    // Seeding again adds nothing.
    let again = seed_demo(&db);
    assert!(again.contains("already holds SENCO data"), "{again}");
    let s = TestServer::start_on(db, &[]).await;
    let la = token("camden-send-team", "la:202:read");

    let d = s
        .ok(
            &la,
            "{ qualificationDeadlines(filter: {laCode: 202}, first: 5) { totalCount \
               statusCounts { status count } projectionCounts { projection count } \
               edges { node { school { urn } person { fullName } } } } }",
            json!({}),
        )
        .await;
    let counts = &d["qualificationDeadlines"]["statusCounts"];
    for status in [
        "QUALIFIED",
        "IN_TRAINING",
        "NOT_STARTED",
        "OVERDUE",
        "EXEMPT",
    ] {
        assert!(
            count_of(counts, "status", status) > 0,
            "no {status} SENCO in the demo: {counts}"
        );
    }
    assert!(d["qualificationDeadlines"]["totalCount"].as_i64().unwrap() > 50);
    // Every projection of SPEC 4.8 but UNKNOWN, which only an empty cohort calendar gives.
    let projections = &d["qualificationDeadlines"]["projectionCounts"];
    for p in [
        "ON_TRACK",
        "AT_RISK",
        "CANNOT_MEET",
        "QUALIFIED",
        "OVERDUE",
        "EXEMPT",
    ] {
        assert!(
            count_of(projections, "projection", p) > 0,
            "no {p} projection in the demo: {projections}"
        );
    }

    // Compliance: real findings, not a wall of "no SENCO".
    let c = s
        .ok(
            &la,
            "{ schools(filter: {laCode: 202}) { totalCount } \
               complianceIssues(filter: {laCode: 202}, first: 1) { totalCount counts { code count } } }",
            json!({}),
        )
        .await;
    let schools = c["schools"]["totalCount"].as_i64().unwrap();
    let issues = &c["complianceIssues"]["counts"];
    let no_senco = count_of(issues, "code", "NO_SENCO");
    assert!(
        no_senco > 0 && no_senco * 10 < schools,
        "NO_SENCO {no_senco} of {schools} schools"
    );
    for code in [
        "QUALIFICATION_OVERDUE",
        "BUDGET_OVERSPENT",
        "TERMLY_REPORT_MISSING",
    ] {
        assert!(count_of(issues, "code", code) > 0, "no {code}: {issues}");
    }

    // Six terms of reports, some amended, some overspent, a few missing.
    let r = s
        .ok(
            &la,
            "{ schools(filter: {laCode: 202}, first: 250) { edges { node { \
               termlyReports { academicYear term version overspent } } } } }",
            json!({}),
        )
        .await;
    let mut terms = BTreeSet::new();
    let (mut amended, mut overspent) = (0, 0);
    for edge in r["schools"]["edges"].as_array().unwrap() {
        for report in edge["node"]["termlyReports"].as_array().unwrap() {
            terms.insert((
                report["academicYear"].as_i64().unwrap(),
                report["term"].as_str().unwrap().to_string(),
            ));
            amended += i32::from(report["version"].as_i64().unwrap() > 1);
            overspent += i32::from(report["overspent"].as_bool().unwrap());
        }
    }
    assert_eq!(terms.len(), 6, "{terms:?}");
    assert!(
        amended > 0 && overspent > 0,
        "{amended} amended, {overspent} overspent"
    );
    let latest = terms.iter().next_back().unwrap().clone();
    let summary = s
        .ok(
            &la,
            "query($y: Int!, $t: Term!) { termlySummary(academicYear: $y, term: $t, filter: {laCode: 202}) \
               { schoolsInScope reportsSubmitted } }",
            json!({"y": latest.0, "t": latest.1}),
        )
        .await;
    let (in_scope, submitted) = (
        summary["termlySummary"]["schoolsInScope"].as_i64().unwrap(),
        summary["termlySummary"]["reportsSubmitted"]
            .as_i64()
            .unwrap(),
    );
    assert!(submitted > 0 && submitted < in_scope, "{summary}");

    // Shared-SENCO clusters, sound and unsound, across the demo's LAs.
    let cl = s
        .ok(
            &admin(),
            "{ clusters(first: 100) { totalCount edges { node { members { urn } issues { code } } } } }",
            json!({}),
        )
        .await;
    let clusters = cl["clusters"]["edges"].as_array().unwrap();
    assert!(
        clusters
            .iter()
            .any(|c| c["node"]["issues"].as_array().unwrap().is_empty()),
        "no sound cluster"
    );
    assert!(
        clusters
            .iter()
            .any(|c| !c["node"]["issues"].as_array().unwrap().is_empty()),
        "no unsound cluster"
    );

    // The trust spans two LAs.
    let t = s
        .ok(
            &token("trust", "trust:2044:read"),
            "{ schools { totalCount edges { node { localAuthority { code } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(t["schools"]["totalCount"], 7);
    let las: BTreeSet<i64> = t["schools"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["localAuthority"]["code"].as_i64().unwrap())
        .collect();
    assert_eq!(las, BTreeSet::from([202, 203]));

    // The demo school's governing body: meetings, actions done, overdue and carried
    // forward, a current and a stale sign-off.
    let first = s
        .ok(
            &la,
            "{ schools(filter: {laCode: 202, kinds: [MAINSTREAM]}, first: 1) { edges { node { urn } } } }",
            json!({}),
        )
        .await;
    let urn = first["schools"]["edges"][0]["node"]["urn"]
        .as_i64()
        .unwrap();
    let governor = token("governor", &format!("school:{urn}:govern"));
    let g = s
        .ok(
            &governor,
            "query($u: Int!) { school(urn: $u) { governorMeetings { totalCount edges { node { carriedForward { id } } } } \
               governanceActions { status dueOn description } signOffs { document current } } }",
            json!({ "u": urn }),
        )
        .await;
    let school = &g["school"];
    assert_eq!(school["governorMeetings"]["totalCount"], 2, "{g}");
    let carried: usize = school["governorMeetings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["carriedForward"].as_array().unwrap().len())
        .sum();
    assert!(carried >= 1, "{g}");
    let actions = school["governanceActions"].as_array().unwrap();
    assert!(actions.iter().any(|a| a["status"] == "DONE"), "{g}");
    assert!(actions.iter().any(|a| a["status"] == "OPEN"), "{g}");
    let sign_offs = school["signOffs"].as_array().unwrap();
    assert!(sign_offs.iter().any(|o| o["current"] == true), "{g}");
    assert!(sign_offs.iter().any(|o| o["current"] == false), "{g}");

    // The demo's loads are imports like any other: /metrics accounts for every row read.
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |name: &str| -> i64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{metrics}")) as i64
    };
    assert_eq!(sample("senco_import_runs_total{file=\"census\"}"), 1);
    assert_eq!(sample("senco_import_runs_total{file=\"gias\"}"), 1);
    let read = sample("senco_import_rows_read_total{file=\"census\"}");
    let accounted: i64 = ["inserted", "updated", "unchanged", "skipped"]
        .iter()
        .map(|o| {
            sample(&format!(
                "senco_import_rows_total{{file=\"census\",outcome=\"{o}\"}}"
            ))
        })
        .sum();
    assert!(read > 200, "{read} census rows read");
    assert_eq!(read, accounted);
    s.stop().await;
}

/// The tokens `serve` prints, by the scope they carry, and the address it listens on.
fn banner(lines: &mut impl Iterator<Item = String>) -> (String, Vec<(String, String)>) {
    let mut addr = None;
    let mut tokens = Vec::new();
    let mut scope = None;
    for line in lines.by_ref() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("GraphQL:") {
            addr = Some(rest.trim().trim_end_matches("/graphql").to_string());
        } else if t.ends_with("):") && t.contains('(') {
            scope = t
                .rsplit_once('(')
                .map(|(_, s)| s.trim_end_matches("):").to_string());
        } else if let Some(sc) = scope.take_if(|_| t.starts_with("eyJ")) {
            tokens.push((sc, t.to_string()));
        } else if t.starts_with("More tokens") {
            break;
        }
    }
    (addr.expect("the banner names the GraphQL address"), tokens)
}

#[tokio::test]
async fn serve_on_an_empty_database_loads_the_demo_and_prints_tokens_that_work() {
    if std::env::var("SENCO_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        // The embedded default is SQLite; its PostgreSQL run is the test above.
        return;
    }
    let dir = std::env::temp_dir().join(format!("senco-demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
        .current_dir(&dir)
        .env("SENCO_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env_remove("SENCO_DATABASE_URL")
        .env_remove("SENCO_JWT_SECRET")
        .env_remove("SENCO_DEMO")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    let (base, tokens) = banner(&mut lines);
    let scopes: Vec<&str> = tokens.iter().map(|(s, _)| s.as_str()).collect();
    assert!(scopes.contains(&"la:202:read"), "{scopes:?}");
    assert!(scopes.contains(&"la:202:write"), "{scopes:?}");
    assert!(scopes.iter().any(|s| s.starts_with("trust:")), "{scopes:?}");
    assert!(
        scopes.iter().any(|s| s.starts_with("school:")),
        "{scopes:?}"
    );
    let client = reqwest::Client::new();
    let ask = async |token: &str, query: &str| -> Value {
        client
            .post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    for (scope, token) in &tokens {
        let answer = ask(
            token,
            "{ viewer { scopes } schools(first: 1) { totalCount } }",
        )
        .await;
        assert_eq!(answer["data"]["viewer"]["scopes"][0], scope.as_str());
        assert!(
            answer["data"]["schools"]["totalCount"].as_i64().unwrap() > 0,
            "{scope}: {answer}"
        );
    }
    // The first dashboard query shows true data, not zeros.
    let la = &tokens.iter().find(|(s, _)| s == "la:202:read").unwrap().1;
    let d = ask(
        la,
        "{ qualificationDeadlines(filter: {laCode: 202}) { totalCount statusCounts { status count } } }",
    )
    .await;
    assert!(
        d["data"]["qualificationDeadlines"]["totalCount"]
            .as_i64()
            .unwrap()
            > 50,
        "{d}"
    );
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
}
