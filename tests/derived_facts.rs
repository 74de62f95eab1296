//! What the product keeps on write must be what a full recomputation gives: after every kind
//! of change (appointments, people, prior service, qualifications, a school's kind through
//! the API and through an import), the stored duty facts of every appointment equal the
//! facts recomputed from the base tables, and every cached answer of the running server
//! equals the answer of a second server started afresh on the same database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const DEADLINES: &str = "query($f: DeadlineFilter) { qualificationDeadlines(filter: $f, first: 50) { \
    totalCount edges { cursor node { status deadline daysRemaining dutyApplies \
    person { id fullName } school { urn name } } } } }";

const TOTALS: &str = "reports numberOnRoll pupilsWithSend senSupport ehcp \
    ehcpApplicationsInProcess senSupportPercent ehcpPercent budgetTotal expenditureToDate \
    budgetRemaining overspentSchools";

fn summary_q() -> String {
    format!(
        "query($f: SchoolFilter) {{ termlySummary(academicYear: 2025, term: SUMMER, filter: $f) {{ \
         schoolsInScope reportsSubmitted missingReports {{ urn name }} totals {{ {TOTALS} }} \
         previousTerm {{ {TOTALS} }} sameTermLastYear {{ {TOTALS} }} }} }}"
    )
}

/// Every cached view the test watches: (token, query, variables).
fn views() -> Vec<(String, String, Value)> {
    let la = token("la-reader", "la:202:read");
    vec![
        (
            la.clone(),
            DEADLINES.to_string(),
            json!({ "f": { "laCode": 202 } }),
        ),
        (admin(), DEADLINES.to_string(), json!({})),
        (la, summary_q(), json!({ "f": { "laCode": 202 } })),
        (admin(), summary_q(), json!({})),
        (admin(), summary_q(), json!({ "f": { "trustUid": 2044 } })),
    ]
}

/// Asserts that the stored duty facts equal a full recomputation, and that `s` answers every
/// view as a server started afresh on its database does.
async fn same_as_fresh(s: &TestServer, step: &str) {
    let stale = api::store::duty::stale(&s.state.db.conn).await.unwrap();
    assert!(
        stale.is_empty(),
        "after {step}: appointments whose stored duty facts differ from a recomputation: {stale:?}"
    );
    let fresh = TestServer::start_on(s.db.shared(), &[]).await;
    for (tok, q, vars) in views() {
        let kept = s.ok(&tok, &q, vars.clone()).await;
        let computed = fresh.ok(&tok, &q, vars.clone()).await;
        assert_eq!(kept, computed, "after {step}: {q} {vars}");
    }
    fresh.stop().await;
}

async fn appoint(s: &TestServer, urn: i32, name: &str, started: &str) -> (String, String) {
    let d = s
        .ok(
            &admin(),
            "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }",
            json!({ "i": { "schoolUrn": urn, "startedOn": started,
                           "person": { "fullName": name, "hasQts": true,
                                       "inductionStatus": "COMPLETED" } } }),
        )
        .await;
    (
        d["appointSenco"]["id"].as_str().unwrap().to_owned(),
        d["appointSenco"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn report(urn: i32, year: i32, term: &str, roll: i32, spent: &str) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": year, "term": term,
        "numberOnRoll": roll, "pupilsWithSend": 40, "senSupport": 30, "ehcp": 6,
        "ehcpApplicationsInProcess": 2,
        "budgetE1": "10000", "budgetE2": "2500.50", "budgetE3": "0", "budgetAdditional": "1200",
        "expenditureToDate": spent, "nonContactHoursPerWeek": 6.5,
        "senPolicyDate": "2024-09-01", "senInformationReportPublishedOn": "2024-10-01",
    })
}

async fn submit(s: &TestServer, input: Value) -> i64 {
    let urn = input["schoolUrn"].as_i64().unwrap();
    let t = token(&format!("head-{urn}"), &format!("school:{urn}:write"));
    s.ok(
        &t,
        "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
        json!({ "i": input }),
    )
    .await["submitTermlyReport"]["version"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn facts_kept_on_write_and_cached_answers_match_a_full_recomputation() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (a1, _p1) = appoint(&s, 100001, "Ada Lovelace", "2024-09-02").await;
    let (_a2, p2) = appoint(&s, 100002, "Mary Somerville", "2025-01-06").await;
    appoint(&s, 100003, "Caroline Herschel", "2023-09-04").await;
    submit(&s, report(100003, 2025, "SUMMER", 900, "100")).await;
    same_as_fresh(&s, "the first computation").await;

    // Person-level changes: that person's facts are kept, the cached answers recomputed.
    s.ok(
        &admin(),
        "mutation($i: UpdateSencoAppointmentInput!) { updateSencoAppointment(input: $i) { id } }",
        json!({ "i": { "appointmentId": a1, "startedOn": "2024-01-08" } }),
    )
    .await;
    same_as_fresh(&s, "an appointment's start moved").await;
    s.ok(
        &admin(),
        "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { id } }",
        json!({ "i": { "personId": p2, "kind": "NPQ_SENCO",
                       "startedOn": "2024-10-01", "completedOn": "2025-07-15" } }),
    )
    .await;
    same_as_fresh(&s, "a qualification recorded").await;
    let (_a4, _p4) = appoint(&s, 100002, "Emmy Noether", "2026-01-05").await;
    same_as_fresh(&s, "a second SENCO appointed").await;

    // Reports: a first submission (the school leaves the missing list), the term before and
    // the same term a year before, amendments one at a time and several between two reads,
    // a replay that stores nothing, and a school outside the LA.
    let key = "incremental-test-1";
    let mut first = report(100001, 2025, "SUMMER", 210, "5000.25");
    first["idempotencyKey"] = json!(key);
    assert_eq!(submit(&s, first.clone()).await, 1);
    same_as_fresh(&s, "a first submission").await;
    assert_eq!(submit(&s, first).await, 1, "a replay stores nothing");
    same_as_fresh(&s, "a replayed submission").await;
    submit(&s, report(100002, 2025, "SPRING", 95, "700")).await;
    submit(&s, report(100002, 2024, "SUMMER", 90, "20000")).await;
    same_as_fresh(&s, "reports for the earlier terms").await;
    let mut amend = report(100001, 2025, "SUMMER", 220, "99999.99");
    amend["expectedVersion"] = json!(1);
    assert_eq!(submit(&s, amend.clone()).await, 2);
    same_as_fresh(&s, "an amendment that overspends").await;
    amend["expectedVersion"] = json!(2);
    amend["numberOnRoll"] = json!(230);
    assert_eq!(submit(&s, amend.clone()).await, 3);
    amend["expectedVersion"] = json!(3);
    amend["expenditureToDate"] = json!("10.00");
    assert_eq!(submit(&s, amend).await, 4);
    let mut spring = report(100002, 2025, "SPRING", 96, "800");
    spring["expectedVersion"] = json!(1);
    submit(&s, spring).await;
    submit(&s, report(100004, 2025, "SUMMER", 120, "0")).await;
    same_as_fresh(&s, "several amendments between two reads").await;

    // Prior service elsewhere counts towards the twelve months (rule 3).
    s.ok(
        &admin(),
        "mutation($i: AddPriorSencoServiceInput!) { addPriorSencoService(input: $i) { id } }",
        json!({ "i": { "personId": p2, "startedOn": "2022-01-01", "endedOn": "2024-06-30" } }),
    )
    .await;
    same_as_fresh(&s, "prior service recorded").await;

    // Reference data decides every scope and whether the duty applies at all.
    s.ok(
        &admin(),
        "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
        json!({ "i": { "urn": 100002, "name": "Renamed Academy", "laCode": 203,
                       "trustUid": 2044, "phase": "PRIMARY", "kind": "MAINSTREAM",
                       "isAcademy": true, "numberOnRoll": 95 } }),
    )
    .await;
    same_as_fresh(&s, "a school moved to another LA").await;
    s.ok(
        &admin(),
        "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
        json!({ "i": { "urn": 100003, "name": "School 100003", "laCode": 203,
                       "trustUid": 2044, "phase": "SECONDARY", "kind": "SPECIAL",
                       "isAcademy": true, "numberOnRoll": 1100 } }),
    )
    .await;
    same_as_fresh(&s, "a school became a special school").await;
    // An import that changes a school's type: the GIAS register owns it.
    let gias = "URN,LA (code),EstablishmentName,TypeOfEstablishment (name),PhaseOfEducation (name)\n\
                100003,203,School 100003,Academy converter,Secondary\n";
    let (rows, rejected) = api::import::gias::parse(gias.as_bytes()).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    let summary = api::service::imports::gias_rows(&s.state.db, rows, rejected, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(summary.updated, 1, "{summary}");
    same_as_fresh(&s, "an import made the school mainstream again").await;
    s.ok(
        &admin(),
        "mutation($i: EndSencoAppointmentInput!) { endSencoAppointment(input: $i) { id } }",
        json!({ "i": { "appointmentId": a1, "endedOn": "2026-01-02" } }),
    )
    .await;
    let mut again = report(100001, 2025, "SUMMER", 240, "1.00");
    again["expectedVersion"] = json!(4);
    submit(&s, again).await;
    same_as_fresh(&s, "an appointment ended and another amendment").await;
    s.stop().await;
}
