//! The SQL statements a request runs are bounded by the query's shape, never by the number
//! of rows (SPEC section 7): the nested dashboard query (schools with their appointments,
//! people, qualifications, deadline status and latest reports) and the LA dashboard's
//! deadlines list run the same number of statements over 10 schools as over 200, and a
//! trust board's page of academies with track records and governance (SPEC 4.10) the same
//! over 5 academies as over 50.
//!
//! The count is the server's own statement counter (`Db::statements`), read around one
//! request at a time. Each query runs a few times per size and the smallest count is kept,
//! so a DataLoader batch split by scheduling cannot make the test flaky; an N+1 would add
//! statements on every run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const LA: i32 = 202;

/// The nested dashboard: every level a list or an object reached through a DataLoader.
const NESTED: &str = "query($la: Int!) {
  schools(filter: { laCode: $la }, first: 250) {
    totalCount
    edges { node {
      urn name numberOnRoll
      localAuthority { code name }
      sencoAppointments {
        startedOn endedOn eligible
        person { fullName trn qualifications { kind completedOn countsTowardDuty }
                 evidenceChecks { checkedOn confirms } }
        qualification { status deadline daysRemaining projection projectedQualifiedOn }
      }
      termlyReports { academicYear term version overspent }
    } }
  }
}";

/// The LA dashboard of SPEC 7: deadlines with person and school.
const DASHBOARD: &str = "query($la: Int!) {
  qualificationDeadlines(filter: { laCode: $la }, first: 250) {
    totalCount
    edges { node { status deadline daysRemaining projection mustRegisterBy
                   latestViableCohort { startsOn } person { fullName trn } school { urn name } } }
  }
}";

/// Adds schools `from..to` to the LA: each with a SENCO, every other SENCO qualified, every
/// third school with a termly report.
async fn add_schools(s: &TestServer, from: i32, to: i32) {
    let a = admin();
    for i in from..to {
        let urn = 300_000 + i;
        s.ok(
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": {
                "urn": urn, "name": format!("School {urn}"), "laCode": LA,
                "phase": if i % 4 == 0 { "SECONDARY" } else { "PRIMARY" },
                "kind": "MAINSTREAM", "isAcademy": false, "numberOnRoll": 100 + i
            } }),
        )
        .await;
        let d = s
            .ok(
                &a,
                "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }",
                json!({ "i": {
                    "schoolUrn": urn,
                    "person": {
                        "trn": format!("{:07}", 2_000_000 + i), "fullName": format!("Senco {i}"),
                        "hasQts": true, "inductionStatus": "COMPLETED"
                    },
                    "startedOn": format!("20{:02}-09-01", 15 + i % 10),
                    "onSeniorLeadershipTeam": i % 2 == 0
                } }),
            )
            .await;
        let person = d["appointSenco"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if i % 2 == 0 {
            s.ok(
                &a,
                "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { id } }",
                json!({ "i": {
                    "personId": person, "kind": "NASENCO", "provider": "Bath Spa University",
                    "startedOn": "2023-01-09", "completedOn": "2024-07-15"
                } }),
            )
            .await;
        }
        if i % 3 == 0 {
            let t = token(&format!("school-{urn}"), &format!("school:{urn}:write"));
            s.ok(
                &t,
                "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
                json!({ "i": {
                    "schoolUrn": urn, "academicYear": 2024, "term": "SUMMER",
                    "numberOnRoll": 100 + i, "pupilsWithSend": 20, "senSupport": 15, "ehcp": 3,
                    "ehcpApplicationsInProcess": 1, "budgetE1": "1000", "budgetE2": "500",
                    "budgetE3": "0", "budgetAdditional": "0", "expenditureToDate": "900.50",
                    "nonContactHoursPerWeek": 5.0, "senPolicyDate": "2024-01-01",
                    "senInformationReportPublishedOn": "2024-10-10"
                } }),
            )
            .await;
        }
    }
}

/// Runs `query` alone a few times; returns (edges returned, most statements of a run), so
/// that a batch split by timing in any run shows.
async fn statements(s: &TestServer, query: &str, field: &str) -> (usize, u64) {
    let tok = token("la-reader", &format!("la:{LA}:read"));
    let mut most = 0;
    let mut rows = 0;
    for _ in 0..3 {
        let before = s.state.db.statements.get();
        let d: Value = s.ok(&tok, query, json!({ "la": LA })).await;
        let after = s.state.db.statements.get();
        rows = d[field]["edges"].as_array().unwrap().len();
        most = most.max(after - before);
    }
    (rows, most)
}

/// The shapes measured: the whole nested dashboard, then its parts one loader at a time, so
/// that a failure names the field whose statements grow.
fn shapes() -> Vec<(&'static str, String, &'static str)> {
    let part = |inner: &str| {
        format!(
            "query($la: Int!) {{ schools(filter: {{ laCode: $la }}, first: 250) {{ \
             edges {{ node {{ urn {inner} }} }} }} }}"
        )
    };
    vec![
        ("nested dashboard", NESTED.to_string(), "schools"),
        (
            "LA dashboard (qualificationDeadlines)",
            DASHBOARD.to_string(),
            "qualificationDeadlines",
        ),
        (
            "School.localAuthority",
            part("localAuthority { name }"),
            "schools",
        ),
        (
            "School.sencoAppointments",
            part("sencoAppointments { startedOn }"),
            "schools",
        ),
        (
            "SencoAppointment.person",
            part("sencoAppointments { person { fullName } }"),
            "schools",
        ),
        (
            "Person.qualifications",
            part("sencoAppointments { person { qualifications { kind } } }"),
            "schools",
        ),
        (
            "SencoAppointment.qualification",
            part("sencoAppointments { qualification { status } }"),
            "schools",
        ),
        (
            "School.termlyReports",
            part("termlyReports { version }"),
            "schools",
        ),
    ]
}

#[tokio::test]
async fn nested_dashboard_statements_do_not_grow_with_rows() {
    // Complexity grows with the page size; the limit is raised so that 200 rows fit in one
    // page, which is what this test is about.
    let s = TestServer::start_with(&[("SENCO_MAX_COMPLEXITY", "1000000")]).await;
    s.ok(
        &admin(),
        "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
        json!({ "i": { "code": LA, "name": "Camden" } }),
    )
    .await;

    let mut small = Vec::new();
    add_schools(&s, 0, 10).await;
    for (name, query, field) in shapes() {
        let (rows, n) = statements(&s, &query, field).await;
        assert_eq!(rows, 10, "{name}");
        small.push(n);
    }
    add_schools(&s, 10, 200).await;
    let mut large = Vec::new();
    for (name, query, field) in shapes() {
        let (rows, n) = statements(&s, &query, field).await;
        assert_eq!(rows, 200, "{name}");
        large.push(n);
    }
    s.stop().await;

    let table: Vec<String> = shapes()
        .iter()
        .zip(small.iter().zip(&large))
        .map(|((name, _, _), (a, b))| {
            format!("  {name}: {a} statements over 10 schools, {b} over 200")
        })
        .collect();
    let table = table.join("\n");
    eprintln!("SQL statements per request (most of 3 runs):\n{table}");
    let grown: Vec<&str> = shapes()
        .iter()
        .zip(small.iter().zip(&large))
        .filter(|(_, (a, b))| b > a)
        .map(|((name, _, _), _)| *name)
        .collect();
    assert!(
        grown.is_empty(),
        "the statement count grows with the rows for: {}\n{table}",
        grown.join(", ")
    );
}

/// The transport floor touches no database: a query of the token and the schema alone runs
/// no statement, however often it is asked (SPEC 7), while a query of data runs at least one.
#[tokio::test]
async fn queries_of_the_token_and_schema_alone_run_no_statement() {
    let s = TestServer::start().await;
    let tok = token("la-reader", &format!("la:{LA}:read"));
    for query in [
        "{ viewer { sub scopes } }",
        "{ __typename }",
        "query Who { viewer { sub } __typename }",
        "{ __type(name: \"School\") { name } }",
    ] {
        for _ in 0..3 {
            let before = s.state.db.statements.get();
            let d: Value = s.ok(&tok, query, json!({})).await;
            let after = s.state.db.statements.get();
            assert!(d.is_object(), "{query}: {d}");
            assert_eq!(
                after - before,
                0,
                "{query} ran {} statements",
                after - before
            );
        }
    }
    let before = s.state.db.statements.get();
    s.ok(
        &tok,
        "{ viewer { sub } localAuthorities { code } }",
        json!({}),
    )
    .await;
    assert!(
        s.state.db.statements.get() > before,
        "a query of data must read the database"
    );
}

const TRUST: i32 = 2044;

/// A trust board's reporting script (SPEC 4.10): a page of academies, each with its track
/// record, meetings (their actions and what they carried forward), the action register and
/// the sign-offs of its reports.
const TRUST_PAGE: &str = "query($t: Int!) {
  schools(filter: { trustUid: $t }, first: 50) {
    edges { node {
      urn
      trackRecord { academicYear term version senSupportPercent
        changeOnPreviousTerm { pupilsWithSend } changeOnSameTermLastYear { pupilsWithSend } }
      governorMeetings { totalCount edges { node { heldOn attendees { role }
        actions { id owner } carriedForward { id } } } }
      governanceActions { id status timesCarriedForward meeting { id } }
      signOffs { document current }
      termlyReports { version signOffs { reportVersion current } }
    } }
  }
}";

/// Adds academies `from..to` to the trust: each with three terms' reports, a meeting with an
/// action, and a sign-off by the trust board.
async fn add_academies(s: &TestServer, from: i32, to: i32) {
    let a = admin();
    let board = token("trust-board", &format!("trust:{TRUST}:govern"));
    for i in from..to {
        let urn = 400_000 + i;
        s.ok(
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": {
                "urn": urn, "name": format!("Academy {urn}"), "laCode": LA, "trustUid": TRUST,
                "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": true,
                "numberOnRoll": 200
            } }),
        )
        .await;
        let school = token(&format!("school-{urn}"), &format!("school:{urn}:write"));
        for (year, term, send) in [
            (2024, "SUMMER", 20),
            (2025, "AUTUMN", 22),
            (2025, "SPRING", 25),
        ] {
            s.ok(
                &school,
                "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
                json!({ "i": {
                    "schoolUrn": urn, "academicYear": year, "term": term,
                    "numberOnRoll": 200, "pupilsWithSend": send, "senSupport": 15, "ehcp": 3,
                    "ehcpApplicationsInProcess": 1, "budgetE1": "1000", "budgetE2": "500",
                    "budgetE3": "0", "budgetAdditional": "0", "expenditureToDate": "900.50",
                    "nonContactHoursPerWeek": 5.0
                } }),
            )
            .await;
        }
        let d = s
            .ok(
                &board,
                "mutation($i: RecordGovernorMeetingInput!) { recordGovernorMeeting(input: $i) { id } }",
                json!({ "i": { "schoolUrn": urn, "heldOn": "2025-10-08",
                               "attendees": [{ "name": "Trustee", "role": "SEN trustee" }] } }),
            )
            .await;
        let meeting = d["recordGovernorMeeting"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        s.ok(
            &board,
            "mutation($i: AddGovernanceActionInput!) { addGovernanceAction(input: $i) { id } }",
            json!({ "i": { "schoolUrn": urn, "meetingId": meeting, "description": "Train staff",
                           "owner": "SENCO", "dueOn": "2025-12-12" } }),
        )
        .await;
        s.ok(
            &board,
            "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) { id } }",
            json!({ "i": { "schoolUrn": urn, "document": "TERMLY_REPORT", "academicYear": 2025,
                           "term": "AUTUMN", "signedOn": "2026-01-20", "signedBy": "Chair",
                           "role": "TRUSTEE" } }),
        )
        .await;
    }
}

/// Runs the trust page alone a few times; returns (schools returned, most statements).
async fn trust_statements(s: &TestServer) -> (usize, u64) {
    let tok = token("trust-script", &format!("trust:{TRUST}:read"));
    let mut most = 0;
    let mut rows = 0;
    for _ in 0..3 {
        let before = s.state.db.statements.get();
        let d: Value = s.ok(&tok, TRUST_PAGE, json!({ "t": TRUST })).await;
        let after = s.state.db.statements.get();
        let edges = d["schools"]["edges"].as_array().unwrap();
        rows = edges.len();
        assert_eq!(
            edges[0]["node"]["trackRecord"].as_array().unwrap().len(),
            6,
            "{d}"
        );
        most = most.max(after - before);
    }
    (rows, most)
}

#[tokio::test]
async fn a_trust_page_of_track_records_and_governance_does_not_grow_with_schools() {
    let s = TestServer::start_with(&[("SENCO_MAX_COMPLEXITY", "1000000")]).await;
    let a = admin();
    s.ok(
        &a,
        "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
        json!({ "i": { "code": LA, "name": "Camden" } }),
    )
    .await;
    s.ok(
        &a,
        "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid } }",
        json!({ "i": { "uid": TRUST, "name": "Thames Bridge Academy Trust" } }),
    )
    .await;
    add_academies(&s, 0, 5).await;
    let (rows, small) = trust_statements(&s).await;
    assert_eq!(rows, 5);
    add_academies(&s, 5, 50).await;
    let (rows, large) = trust_statements(&s).await;
    assert_eq!(rows, 50);
    s.stop().await;
    eprintln!("trust page: {small} statements over 5 academies, {large} over 50");
    assert!(
        large <= small,
        "the trust page's statements grow with the schools: {small} over 5, {large} over 50"
    );
}
