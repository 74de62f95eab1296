//! The DfE imports as a user runs them: the real `senco-oversight import-*` subcommands over
//! the real files in `data/`, into a fresh SQLite or PostgreSQL database, checked through
//! the API against counts that can be worked out by hand from the files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

/// Runs one import subcommand against `db`, as an administrator would.
fn run_import(db: &TestDb, subcommand: &str, file: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
        .arg(subcommand)
        .arg(file)
        .env("SENCO_DATABASE_URL", &db.url)
        .env("SENCO_JWT_SECRET", SECRET)
        .env("SENCO_DEMO", "false")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs one import subcommand against `db`, which must succeed; returns its standard output.
fn import(db: &TestDb, subcommand: &str, file: &Path) -> String {
    let out = run_import(db, subcommand, file);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{subcommand} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn data(name: &str) -> std::path::PathBuf {
    repo_root().join("data").join(name)
}

/// Every school of an LA with its roll and census figures, in one page.
async fn la_schools(s: &TestServer, la: i32) -> (u64, Vec<Value>) {
    let d = s
        .ok(
            &admin(),
            "query($la: Int!) { schools(filter: { laCode: $la }, first: 150) { totalCount
               edges { node { urn numberOnRoll census { collectedOn numberOnRoll ehcp senSupport } } } } }",
            json!({ "la": la }),
        )
        .await;
    let nodes = d["schools"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    (d["schools"]["totalCount"].as_u64().unwrap(), nodes)
}

fn sum(nodes: &[Value], f: impl Fn(&Value) -> &Value) -> i64 {
    nodes.iter().filter_map(|n| f(n).as_i64()).sum()
}

/// Checks that the summary line "N rows read: a inserted, b updated, c unchanged, d
/// skipped" adds up.
fn accounts_for_every_row(summary: &str) {
    let line = summary
        .lines()
        .find(|l| l.contains(" rows read: "))
        .unwrap_or_else(|| panic!("no summary line: {summary}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    let [read, inserted, updated, unchanged, skipped] = numbers[..] else {
        panic!("unexpected summary line: {line}")
    };
    assert_eq!(
        inserted + updated + unchanged + skipped,
        read,
        "the outcomes do not add up to the rows read: {summary}"
    );
}

#[tokio::test]
async fn real_files_load_with_exact_counts_and_reimport_changes_nothing() {
    let db = TestDb::new().await;
    let census = import(
        &db,
        "import-census",
        &data("england_census_performance_tables.csv"),
    );
    // 23,942 data rows: 23,939 schools and 3 national-total rows, which are skipped.
    assert!(
        census.contains("23942 rows read: 23939 inserted, 0 updated, 0 unchanged, 3 skipped"),
        "{census}"
    );
    let gias = import(&db, "import-gias", &data("gias_edubase_sample_2018.csv"));
    assert!(gias.contains("4 rows read"), "{gias}");
    let links = import(&db, "import-gias-links", &data("gias_links_20250422.csv"));
    assert!(links.contains("33801 rows read"), "{links}");
    // Every row of every file is accounted for (issue 16): the outcomes add up to the rows.
    for summary in [&census, &gias, &links] {
        accounts_for_every_row(summary);
    }

    let s = TestServer::start_on(db, &[]).await;
    // Camden (202): 93 schools in the file, roll 32,307, EHC plans 1,042, SEN support 3,910.
    let (total, camden) = la_schools(&s, 202).await;
    assert_eq!(total, 93);
    assert_eq!(camden.len(), 93);
    assert_eq!(sum(&camden, |n| &n["numberOnRoll"]), 32_307);
    assert_eq!(sum(&camden, |n| &n["census"]["ehcp"]), 1_042);
    assert_eq!(sum(&camden, |n| &n["census"]["senSupport"]), 3_910);
    assert!(
        camden
            .iter()
            .all(|n| n["census"]["collectedOn"] == "2019-01-17")
    );
    // Greenwich (203): 101 schools, roll 47,730, E 1,397, K 6,167.
    let (total, greenwich) = la_schools(&s, 203).await;
    assert_eq!(total, 101);
    assert_eq!(sum(&greenwich, |n| &n["census"]["numberOnRoll"]), 47_730);
    assert_eq!(sum(&greenwich, |n| &n["census"]["ehcp"]), 1_397);
    assert_eq!(sum(&greenwich, |n| &n["census"]["senSupport"]), 6_167);

    // The pre-2019 Dorset, Poole and Bournemouth codes, which the LA list lacks.
    let d = s
        .ok(&admin(), "{ localAuthorities { code name } }", json!({}))
        .await;
    let las = d["localAuthorities"].as_array().unwrap();
    assert_eq!(las.len(), 152, "151 census LA codes plus City of London");
    for (code, name) in [(835, "Dorset"), (836, "Poole"), (837, "Bournemouth")] {
        let la = las.iter().find(|l| l["code"] == code).unwrap();
        assert!(la["name"].as_str().unwrap().contains(name), "{la}");
    }
    let (total, _) = la_schools(&s, 836).await;
    assert_eq!(total, 46);

    // `NA` in the census is missing, not zero: 103769 has no roll and no E count.
    let d = s
        .ok(
            &admin(),
            "{ school(urn: 103769) { numberOnRoll census { numberOnRoll ehcp } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["school"],
        json!({ "numberOnRoll": null, "census": { "numberOnRoll": null, "ehcp": null } })
    );

    // GIAS supplies the real name over the census placeholder.
    let d = s
        .ok(
            &admin(),
            "{ school(urn: 100492) { name phase isAcademy } }",
            json!({}),
        )
        .await;
    assert_eq!(d["school"]["name"], "St Thomas' CofE Primary School");
    assert_eq!(d["school"]["phase"], "PRIMARY");

    // Links: the academy 137421 converted from 119791.
    let d = s
        .ok(
            &admin(),
            "{ school(urn: 137421) { predecessorUrn } }",
            json!({}),
        )
        .await;
    assert_eq!(d["school"]["predecessorUrn"], 119791);

    // Importing the same files again changes nothing.
    let db = &s.db;
    let again = import(
        db,
        "import-census",
        &data("england_census_performance_tables.csv"),
    );
    assert!(
        again.contains("0 inserted, 0 updated, 23939 unchanged"),
        "{again}"
    );
    let again = import(db, "import-gias", &data("gias_edubase_sample_2018.csv"));
    assert!(
        again.contains("0 inserted, 0 updated, 4 unchanged"),
        "{again}"
    );
    let again = import(db, "import-gias-links", &data("gias_links_20250422.csv"));
    assert!(again.contains("0 inserted, 0 updated"), "{again}");
    s.stop().await;
}

#[tokio::test]
async fn windows_1252_names_are_decoded() {
    let db = TestDb::new().await;
    let sample = std::fs::read(data("gias_edubase_sample_2018.csv")).unwrap();
    let text = String::from_utf8(sample).unwrap();
    let (before, after) = text.split_once("St Thomas' CofE Primary School").unwrap();
    // "École St Thomas’ Primary" in Windows-1252: É is 0xC9 and ’ is 0x92.
    let mut bytes = before.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xC9cole St Thomas\x92 Primary");
    bytes.extend_from_slice(after.as_bytes());
    let dir = std::env::temp_dir().join(format!("senco-gias-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("gias-cp1252.csv");
    std::fs::write(&file, bytes).unwrap();
    let out = import(&db, "import-gias", &file);
    assert!(out.contains("4 inserted"), "{out}");
    let s = TestServer::start_on(db, &[]).await;
    let d = s
        .ok(&admin(), "{ school(urn: 100492) { name } }", json!({}))
        .await;
    assert_eq!(d["school"]["name"], "\u{c9}cole St Thomas\u{2019} Primary");
    std::fs::remove_dir_all(dir).ok();
    s.stop().await;
}

#[tokio::test]
async fn broken_rows_are_reported_by_line_and_the_good_rows_load() {
    let db = TestDb::new().await;
    let text = std::fs::read_to_string(data("england_census_performance_tables.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let good: Vec<&str> = lines.by_ref().take(3).collect();
    let file_text = [
        header,
        good[0],
        "notaurn,201,3614,State-funded primary,285,141,144,49.5,50.5,5,1.8,50,17.5,141,143,1,49.5,50.2,0.4,32,38,16.2",
        good[1],
        "100100,201,3614",
        good[2],
        "100101,201,3614,State-funded primary,many,141,144,49.5,50.5,5,1.8,50,17.5,141,143,1,49.5,50.2,0.4,32,38,16.2",
    ]
    .join("\n");
    let dir = std::env::temp_dir().join(format!("senco-census-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("census-broken.csv");
    std::fs::write(&file, file_text).unwrap();
    let out = import(&db, "import-census", &file);
    assert!(out.contains("6 rows read: 3 inserted"), "{out}");
    assert!(out.contains("3 skipped"), "{out}");
    for line in ["line 3:", "line 5:", "line 7:"] {
        assert!(out.contains(line), "{line} missing: {out}");
    }
    let s = TestServer::start_on(db, &[]).await;
    let d = s
        .ok(&admin(), "{ schools { totalCount } }", json!({}))
        .await;
    assert_eq!(d["schools"]["totalCount"], 3);
    std::fs::remove_dir_all(dir).ok();
    s.stop().await;
}

#[tokio::test]
async fn an_academy_keeps_its_history_through_its_predecessor() {
    let s = TestServer::start().await;
    let a = admin();
    s.ok(
        &a,
        "mutation { upsertLocalAuthority(input: { code: 888, name: \"Lancashire\" }) { code } }",
        json!({}),
    )
    .await;
    s.ok(
        &a,
        "mutation { upsertTrust(input: { uid: 2044, name: \"Trust\" }) { uid } }",
        json!({}),
    )
    .await;
    let school = "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }";
    s.ok(&a, school, json!({ "i": { "urn": 119791, "name": "Old High School", "laCode": 888,
        "phase": "SECONDARY", "kind": "MAINSTREAM", "isAcademy": false, "closedOn": "2011-08-31" } })).await;
    s.ok(&a, school, json!({ "i": { "urn": 137421, "name": "New Academy", "laCode": 888, "trustUid": 2044,
        "phase": "SECONDARY", "kind": "MAINSTREAM", "isAcademy": true, "predecessorUrn": 119791 } })).await;
    s.ok(
        &a,
        "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
        json!({ "i": { "schoolUrn": 119791, "startedOn": "2008-09-01", "person": {
            "fullName": "Pat Before", "hasQts": true, "inductionStatus": "COMPLETED" } } }),
    )
    .await;
    // The trust reads the academy, and through it the maintained school's SENCO history.
    let trust = token("trust", "trust:2044:read");
    let d = s
        .ok(&trust, "{ school(urn: 137421) { predecessorUrn predecessor { urn closedOn sencoAppointments { startedOn } } } }", json!({}))
        .await;
    assert_eq!(d["school"]["predecessor"]["urn"], 119791);
    assert_eq!(
        d["school"]["predecessor"]["sencoAppointments"][0]["startedOn"],
        "2008-09-01"
    );
    // The LA reads both, and finds the academy from the old school.
    let la = token("la", "la:888:read");
    let d = s
        .ok(
            &la,
            "{ school(urn: 119791) { successor { urn isAcademy } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["school"]["successor"],
        json!({ "urn": 137421, "isAcademy": true })
    );
    // A school token of the old school cannot see the academy it became.
    let old = token("old", "school:119791:read");
    let d = s
        .ok(
            &old,
            "{ school(urn: 119791) { successor { urn } } }",
            json!({}),
        )
        .await;
    assert!(d["school"]["successor"].is_null());
    s.stop().await;
}

/// A valid termly report for `urn`.
fn a_report(urn: i32, year: i32, term: &str) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": year, "term": term,
        "numberOnRoll": 200, "pupilsWithSend": 40, "senSupport": 30, "ehcp": 6,
        "ehcpApplicationsInProcess": 2,
        "budgetE1": "10000", "budgetE2": "2500.50", "budgetE3": "0", "budgetAdditional": "1200",
        "expenditureToDate": "5000.25", "nonContactHoursPerWeek": 6.5,
    })
}

#[tokio::test]
async fn an_import_in_another_process_and_32_clients_submitting_all_complete() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let import = tokio::process::Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
        .arg("import-census")
        .arg(data("england_census_performance_tables.csv"))
        .env("SENCO_DATABASE_URL", &s.db.url)
        .env("SENCO_JWT_SECRET", SECRET)
        .env("SENCO_DEMO", "false")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // 32 clients, each submitting two reports of its own (school, term) keys while the
    // import writes the same database from its own process.
    let urns = [100001, 100002, 100003, 100004];
    let terms = ["AUTUMN", "SPRING", "SUMMER"];
    let mut keys = Vec::new();
    for year in 2019..=2024 {
        for term in terms {
            for urn in urns {
                keys.push((urn, year, term));
            }
        }
    }
    let clients: Vec<_> = keys
        .chunks(2)
        .take(32)
        .map(|pair| {
            let pair = pair.to_vec();
            let s = &s;
            async move {
                let mut failures = Vec::new();
                for (urn, year, term) in pair {
                    let tok = token(&format!("head-{urn}"), &format!("school:{urn}:write"));
                    let (status, body) = s
                        .post(
                            Some(&tok),
                            "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
                            json!({ "i": a_report(urn, year, term) }),
                        )
                        .await;
                    if status != 200 || body["data"]["submitTermlyReport"]["version"] != 1 {
                        failures.push(format!("{urn} {year} {term}: {status} {body}"));
                    }
                }
                failures
            }
        })
        .collect();
    let failures: Vec<String> = futures::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    let out = import.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "the import failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(failures.is_empty(), "submissions refused: {failures:#?}");
    let stored = s
        .ok(
            &admin(),
            "{ schools(filter: { laCode: 202 }, first: 250) { edges { node { urn termlyReports { version } } } } }",
            json!({}),
        )
        .await;
    let reports: usize = stored["schools"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| urns.contains(&(e["node"]["urn"].as_i64().unwrap() as i32)))
        .map(|e| e["node"]["termlyReports"].as_array().unwrap().len())
        .sum();
    // LA 202 holds schools 100001 and 100002: 2 of the 4 schools' 16 reports each.
    assert_eq!(
        reports, 32,
        "every acknowledged submission of LA 202 is stored"
    );
    s.stop().await;
}

/// A file that is not the one the command reads stops at once with exit code 2 and a
/// message naming the file it expects; nothing is loaded (issue 16).
#[tokio::test]
async fn the_wrong_file_stops_the_import_with_exit_code_2_and_names_the_file_expected() {
    let db = TestDb::new().await;
    for (subcommand, file, expects) in [
        (
            "import-census",
            "gias_edubase_sample_2018.csv",
            "england_census_performance_tables.csv",
        ),
        (
            "import-gias",
            "england_census_performance_tables.csv",
            "GIAS establishments download",
        ),
        (
            "import-gias-links",
            "gias_edubase_sample_2018.csv",
            "GIAS links download",
        ),
    ] {
        let out = run_import(&db, subcommand, &data(file));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{subcommand} {file}: {stderr}");
        assert!(stderr.contains(expects), "{subcommand}: {stderr}");
        assert!(stderr.contains("Nothing was loaded"), "{stderr}");
    }
    let s = TestServer::start_on(db, &[]).await;
    let d = s
        .ok(
            &admin(),
            "{ schools(first: 1) { totalCount } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(d["schools"]["totalCount"], 0, "nothing loaded: {d}");
    s.stop().await;
}

/// A broken copy of the real census file: an unclosed quote on line 3 costs that row only,
/// reported with its line number; every other school still loads (issue 16).
#[tokio::test]
async fn an_unclosed_quote_in_the_census_costs_one_row_reported_by_line() {
    let text = std::fs::read_to_string(data("england_census_performance_tables.csv")).unwrap();
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    // Line 3 (index 2): open a quote in its school type and never close it.
    let broken = lines[2].replacen(",Independent", ",\"Independent", 1);
    assert_ne!(broken, lines[2], "line 3 is an independent school");
    lines[2] = broken;
    let dir = std::env::temp_dir().join(format!("senco-broken-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("census.csv");
    std::fs::write(&file, lines.concat()).unwrap();
    let db = TestDb::new().await;
    let out = import(&db, "import-census", &file);
    assert!(
        out.contains("23942 rows read: 23938 inserted, 0 updated, 0 unchanged, 4 skipped"),
        "{out}"
    );
    assert!(
        out.contains("line 3: a quoted field runs past the end of the line"),
        "{out}"
    );
    accounts_for_every_row(&out);
    std::fs::remove_dir_all(dir).ok();
}

/// A broken copy of the real census file: bytes that are not UTF-8 on line 6 (as when a row
/// is pasted in from a Windows-1252 spreadsheet) cost that row only, reported by line; the
/// rest of the file, UTF-8 with its BOM, loads.
#[tokio::test]
async fn bytes_that_are_not_utf8_in_the_census_cost_one_row_reported_by_line() {
    let bytes = std::fs::read(data("england_census_performance_tables.csv")).unwrap();
    let mut lines: Vec<Vec<u8>> = bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    // Line 6 (index 5): a school type with a Windows-1252 byte in it.
    let at = lines[5]
        .windows(6)
        .position(|w| w == b"State-")
        .expect("line 6 is a state school");
    lines[5].splice(at..at + 5, b"St\xE4te".iter().copied());
    let dir = std::env::temp_dir().join(format!("senco-encoding-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("census.csv");
    std::fs::write(&file, lines.concat()).unwrap();
    let db = TestDb::new().await;
    let out = import(&db, "import-census", &file);
    assert!(
        out.contains("23942 rows read: 23938 inserted, 0 updated, 0 unchanged, 4 skipped"),
        "{out}"
    );
    assert!(
        out.contains("line 6: the row holds bytes that are not UTF-8"),
        "{out}"
    );
    accounts_for_every_row(&out);
    std::fs::remove_dir_all(dir).ok();
}
