//! The qualification projection (SPEC 4.8) end to end over HTTP: an LA with a SENCO in each
//! projection on a fixed `asOf`, the calendar changed by an administrator and the answers
//! moving with it at once, counts equal to the rows, the filter, the compliance codes
//! `QUALIFICATION_AT_RISK` and `QUALIFICATION_CANNOT_BE_MET`, the `deadlines` export's
//! projection columns, the validation of `expectedCompletionOn`, and who may change the
//! calendar.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};

/// The day every question is asked about: before the 2026 cohort's registration closes.
const AS_OF: &str = "2026-09-10";

const APPOINT: &str =
    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }";
const RECORD_QUAL: &str = "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { \
    id expectedCompletionOn } }";
const UPDATE_QUAL: &str = "mutation($i: UpdateQualificationInput!) { updateQualification(input: $i) { \
    id expectedCompletionOn } }";
const UPSERT: &str = "mutation($i: NpqCohortInput!) { upsertNpqCohort(input: $i) { \
    startsOn registrationClosesOn expectedOutcomeMonths expectedOutcomeOn } }";
const DELETE: &str = "mutation($d: Date!) { deleteNpqCohort(startsOn: $d) }";
const COHORTS: &str =
    "{ npqCohorts { startsOn registrationClosesOn expectedOutcomeMonths expectedOutcomeOn } }";
const DEADLINES: &str = "query($f: DeadlineFilter, $d: Date) { \
    qualificationDeadlines(filter: $f, asOf: $d, first: 250) { totalCount \
    projectionCounts { projection count } statusCounts { status count } \
    edges { node { appointment { id } status projection mustRegisterBy projectedQualifiedOn \
    latestViableCohort { startsOn expectedOutcomeOn } } } } }";

/// The SENCOs of LA 202 by the projection each has on [`AS_OF`] under the illustrative
/// calendar: (key, school, appointed, course as (kind, started, completed)).
/// A course: kind, started, completed.
type Course = (&'static str, &'static str, Option<&'static str>);

const SENCOS: [(&str, i32, &str, Option<Course>); 7] = [
    // Deadline 1 June 2029: only the 2026 cohort (outcome 1 September 2028) is in time.
    ("at_risk", 100001, "2026-06-01", None),
    // Deadline 1 September 2029: the 2026 cohort and the 2027 one (outcome on the day).
    ("on_track_cohorts", 100001, "2026-09-01", None),
    // On the NPQ of the 2025 cohort: outcome 1 September 2027, deadline 6 January 2028.
    (
        "on_track_course",
        100002,
        "2025-01-06",
        Some(("NPQ_SENCO", "2025-11-01", None)),
    ),
    // Deadline 6 January 2028: the 2025 cohort has closed, the 2026 one ends too late.
    ("cannot_meet", 100002, "2025-01-06", None),
    (
        "qualified",
        100001,
        "2024-09-02",
        Some(("NPQ_SENCO", "2024-10-01", Some("2026-03-01"))),
    ),
    ("overdue", 100002, "2022-01-06", None),
    ("exempt", 100001, "2008-09-01", None),
];

/// Builds the world and returns appointment id by key.
async fn world(s: &TestServer) -> BTreeMap<&'static str, String> {
    small_world(s).await;
    let a = admin();
    let mut ids = BTreeMap::new();
    for (i, (key, urn, started, course)) in SENCOS.iter().enumerate() {
        let d = s
            .ok(
                &a,
                APPOINT,
                json!({ "i": { "schoolUrn": urn, "startedOn": started, "onSeniorLeadershipTeam": true,
                    "person": { "trn": format!("{:07}", 3_000_000 + i), "fullName": format!("Senco {key}"),
                                "hasQts": true, "inductionStatus": "COMPLETED" } } }),
            )
            .await;
        let person = d["appointSenco"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        if let Some((kind, start, done)) = course {
            s.ok(
                &a,
                RECORD_QUAL,
                json!({ "i": { "personId": person, "kind": kind, "startedOn": start,
                               "completedOn": done } }),
            )
            .await;
        }
        ids.insert(*key, d["appointSenco"]["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Every current appointment of LA 202 on [`AS_OF`] (with `filter` added), by key.
async fn deadlines(
    s: &TestServer,
    tok: &str,
    ids: &BTreeMap<&'static str, String>,
    filter: Value,
) -> (BTreeMap<String, Value>, Value) {
    let mut f = json!({ "laCode": 202 });
    if let Value::Object(extra) = filter {
        for (k, v) in extra {
            f[k] = v;
        }
    }
    let d =
        s.ok(tok, DEADLINES, json!({ "f": f, "d": AS_OF })).await["qualificationDeadlines"].clone();
    let key_of = |id: &str| {
        ids.iter()
            .find(|(_, v)| v.as_str() == id)
            .map(|(k, _)| (*k).to_owned())
            .unwrap()
    };
    let rows = d["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (key_of(n["appointment"]["id"].as_str().unwrap()), n.clone())
        })
        .collect();
    (rows, d)
}

fn projections(rows: &BTreeMap<String, Value>) -> BTreeMap<&str, &str> {
    rows.iter()
        .map(|(k, v)| (k.as_str(), v["projection"].as_str().unwrap()))
        .collect()
}

fn counts(d: &Value) -> BTreeMap<String, u64> {
    d["projectionCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["projection"].as_str().unwrap().to_owned(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_la_sees_a_senco_in_each_projection_with_the_dates_to_act_on() {
    let s = TestServer::start().await;
    let ids = world(&s).await;
    let la = token("officer", "la:202:read");
    let (rows, d) = deadlines(&s, &la, &ids, json!({})).await;
    assert_eq!(
        projections(&rows),
        BTreeMap::from([
            ("at_risk", "AT_RISK"),
            ("on_track_cohorts", "ON_TRACK"),
            ("on_track_course", "ON_TRACK"),
            ("cannot_meet", "CANNOT_MEET"),
            ("qualified", "QUALIFIED"),
            ("overdue", "OVERDUE"),
            ("exempt", "EXEMPT"),
        ])
    );
    let at_risk = &rows["at_risk"];
    assert_eq!(at_risk["status"], "NOT_STARTED");
    assert_eq!(at_risk["mustRegisterBy"], "2026-10-01");
    assert_eq!(at_risk["projectedQualifiedOn"], "2028-09-01");
    assert_eq!(at_risk["latestViableCohort"]["startsOn"], "2026-11-01");
    assert_eq!(
        at_risk["latestViableCohort"]["expectedOutcomeOn"],
        "2028-09-01"
    );

    let cohorts = &rows["on_track_cohorts"];
    assert_eq!(cohorts["mustRegisterBy"], Value::Null);
    assert_eq!(cohorts["latestViableCohort"]["startsOn"], "2027-11-01");

    let course = &rows["on_track_course"];
    assert_eq!(course["status"], "IN_TRAINING");
    assert_eq!(course["projectedQualifiedOn"], "2027-09-01");

    let cannot = &rows["cannot_meet"];
    assert_eq!(cannot["status"], "NOT_STARTED");
    assert_eq!(cannot["projectedQualifiedOn"], "2028-09-01");
    assert_eq!(cannot["mustRegisterBy"], Value::Null);
    assert_eq!(cannot["latestViableCohort"], Value::Null);

    for key in ["qualified", "exempt"] {
        assert_eq!(rows[key]["projectedQualifiedOn"], Value::Null, "{key}");
        assert_eq!(rows[key]["latestViableCohort"], Value::Null, "{key}");
    }
    // Overdue: when the breach could end at the earliest.
    assert_eq!(rows["overdue"]["projectedQualifiedOn"], "2028-09-01");

    // The counts are the rows', every projection listed.
    let c = counts(&d);
    assert_eq!(c.len(), 7);
    assert_eq!(c["ON_TRACK"], 2);
    assert_eq!(c["UNKNOWN"], 0);
    for p in ["AT_RISK", "CANNOT_MEET", "QUALIFIED", "OVERDUE", "EXEMPT"] {
        assert_eq!(c[p], 1, "{p}");
    }
    assert_eq!(c.values().sum::<u64>(), d["totalCount"].as_u64().unwrap());
    s.stop().await;
}

#[tokio::test]
async fn the_projection_filter_selects_rows_and_counts_follow_it() {
    let s = TestServer::start().await;
    let ids = world(&s).await;
    let la = token("officer", "la:202:read");
    let (rows, d) = deadlines(
        &s,
        &la,
        &ids,
        json!({ "projections": ["AT_RISK", "CANNOT_MEET"] }),
    )
    .await;
    assert_eq!(
        rows.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["at_risk", "cannot_meet"]
    );
    assert_eq!(d["totalCount"], 2);
    let c = counts(&d);
    assert_eq!((c["AT_RISK"], c["CANNOT_MEET"], c["ON_TRACK"]), (1, 1, 0));

    // With a status filter too: both must match.
    let (rows, _) = deadlines(
        &s,
        &la,
        &ids,
        json!({ "projections": ["ON_TRACK"], "statuses": ["IN_TRAINING"] }),
    )
    .await;
    assert_eq!(
        rows.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["on_track_course"]
    );

    // Paging a filtered list walks exactly its rows.
    let q = "query($f: DeadlineFilter, $d: Date, $after: String) { \
        qualificationDeadlines(filter: $f, asOf: $d, first: 1, after: $after) { totalCount \
        pageInfo { hasNextPage endCursor } edges { node { projection } } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let d = s
            .ok(
                &la,
                q,
                json!({ "f": { "laCode": 202, "projections": ["ON_TRACK"] }, "d": AS_OF, "after": after }),
            )
            .await["qualificationDeadlines"]
            .clone();
        assert_eq!(d["totalCount"], 2);
        for e in d["edges"].as_array().unwrap() {
            seen.push(e["node"]["projection"].as_str().unwrap().to_owned());
        }
        if d["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = d["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, vec!["ON_TRACK", "ON_TRACK"]);
    s.stop().await;
}

#[tokio::test]
async fn a_new_database_starts_with_the_illustrative_calendar() {
    let s = TestServer::start().await;
    let tok = token("someone", "school:100001:read");
    let d = s.ok(&tok, COHORTS, json!({})).await;
    let starts: Vec<&str> = d["npqCohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["startsOn"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        vec![
            "2025-11-01",
            "2026-11-01",
            "2027-11-01",
            "2028-11-01",
            "2029-11-01",
            "2030-11-01"
        ]
    );
    assert_eq!(
        d["npqCohorts"][0],
        json!({ "startsOn": "2025-11-01", "registrationClosesOn": "2025-10-01",
                "expectedOutcomeMonths": 22, "expectedOutcomeOn": "2027-09-01" })
    );
    let (code, _) = s.err(None, COHORTS, json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    s.stop().await;
}

#[tokio::test]
async fn an_admin_changing_the_calendar_moves_the_answers_at_once() {
    let s = TestServer::start().await;
    let ids = world(&s).await;
    let la = token("officer", "la:202:read");
    let a = admin();
    let issues_q = "query($d: Date) { complianceIssues(filter: { laCode: 202 }, asOf: $d, first: 250) { \
        edges { node { code school { urn } message } } } }";
    // Asked once before, so that a kept answer would be served if nothing moved it.
    deadlines(&s, &la, &ids, json!({})).await;
    s.ok(&la, issues_q, json!({ "d": AS_OF })).await;

    // Without the 2026 cohort, the SENCO appointed in June 2026 can no longer make it and the
    // one appointed in September 2026 is down to the 2027 cohort.
    assert_eq!(
        s.ok(&a, DELETE, json!({ "d": "2026-11-01" })).await["deleteNpqCohort"],
        true
    );
    let (rows, _) = deadlines(&s, &la, &ids, json!({})).await;
    assert_eq!(rows["at_risk"]["projection"], "CANNOT_MEET");
    assert_eq!(rows["at_risk"]["projectedQualifiedOn"], "2029-09-01");
    assert_eq!(rows["on_track_cohorts"]["projection"], "AT_RISK");
    assert_eq!(rows["on_track_cohorts"]["mustRegisterBy"], "2027-10-01");
    assert_eq!(rows["cannot_meet"]["projectedQualifiedOn"], "2029-09-01");
    let issues = s.ok(&la, issues_q, json!({ "d": AS_OF })).await;
    let at_risk_messages: Vec<&str> = issues["complianceIssues"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["code"] == "QUALIFICATION_AT_RISK")
        .map(|e| e["node"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(at_risk_messages.len(), 1);
    assert!(
        at_risk_messages[0].contains("1 October 2027"),
        "{at_risk_messages:?}"
    );
    // Deleting a cohort that is not there is no change.
    assert_eq!(
        s.ok(&a, DELETE, json!({ "d": "2026-11-01" })).await["deleteNpqCohort"],
        false
    );

    // An empty calendar: nothing to project with, apart from the course under way (an NPQ
    // with no expected date and no cohort of its start takes 22 months).
    for start in [
        "2025-11-01",
        "2027-11-01",
        "2028-11-01",
        "2029-11-01",
        "2030-11-01",
    ] {
        s.ok(&a, DELETE, json!({ "d": start })).await;
    }
    assert_eq!(s.ok(&la, COHORTS, json!({})).await["npqCohorts"], json!([]));
    let (rows, d) = deadlines(&s, &la, &ids, json!({})).await;
    for key in ["at_risk", "on_track_cohorts", "cannot_meet"] {
        assert_eq!(rows[key]["projection"], "UNKNOWN", "{key}");
    }
    assert_eq!(rows["on_track_course"]["projection"], "ON_TRACK");
    assert_eq!(
        rows["on_track_course"]["projectedQualifiedOn"],
        "2027-09-01"
    );
    assert_eq!(counts(&d)["UNKNOWN"], 3);

    // The 2026 cohort put back, with a quicker outcome.
    let c = s
        .ok(
            &a,
            UPSERT,
            json!({ "i": { "startsOn": "2026-11-01", "registrationClosesOn": "2026-10-01",
                           "expectedOutcomeMonths": 20 } }),
        )
        .await;
    assert_eq!(c["upsertNpqCohort"]["expectedOutcomeOn"], "2028-07-01");
    let (rows, _) = deadlines(&s, &la, &ids, json!({})).await;
    assert_eq!(rows["at_risk"]["projection"], "AT_RISK");
    assert_eq!(rows["at_risk"]["projectedQualifiedOn"], "2028-07-01");
    // The one appointed in January 2025 (deadline 6 January 2028) still cannot make it.
    assert_eq!(rows["cannot_meet"]["projection"], "CANNOT_MEET");
    // Replacing the cohort with the same values changes nothing and writes no audit row.
    s.ok(
        &a,
        UPSERT,
        json!({ "i": { "startsOn": "2026-11-01", "registrationClosesOn": "2026-10-01",
                       "expectedOutcomeMonths": 20 } }),
    )
    .await;
    let audited: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = &s.state.db.conn;
        conn.query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit_event WHERE entity = 'npq_cohort'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    // Six deletes and one insert.
    assert_eq!(audited, 7);
    s.stop().await;
}

#[tokio::test]
async fn only_an_admin_may_change_the_calendar() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let input = json!({ "i": { "startsOn": "2031-11-01", "registrationClosesOn": "2031-10-01",
                               "expectedOutcomeMonths": 22 } });
    for scope in [
        "school:100001:write",
        "school:100001:read",
        "la:202:write",
        "trust:2044:write",
    ] {
        let tok = token("someone", scope);
        let (code, body) = s.err(Some(&tok), UPSERT, input.clone()).await;
        assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
        let (code, body) = s
            .err(Some(&tok), DELETE, json!({ "d": "2025-11-01" }))
            .await;
        assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
    }
    let (code, _) = s.err(None, DELETE, json!({ "d": "2025-11-01" })).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let cohorts = s.ok(&admin(), COHORTS, json!({})).await;
    assert_eq!(cohorts["npqCohorts"].as_array().unwrap().len(), 6);
    s.stop().await;
}

#[tokio::test]
async fn a_cohort_is_checked_field_by_field() {
    let s = TestServer::start().await;
    let a = admin();
    for (input, field) in [
        (
            json!({ "startsOn": "2024-08-01", "registrationClosesOn": "2024-07-01", "expectedOutcomeMonths": 22 }),
            "input.startsOn",
        ),
        (
            json!({ "startsOn": "2031-11-01", "registrationClosesOn": "2031-11-02", "expectedOutcomeMonths": 22 }),
            "input.registrationClosesOn",
        ),
        (
            json!({ "startsOn": "2031-11-01", "registrationClosesOn": "2031-10-01", "expectedOutcomeMonths": 0 }),
            "input.expectedOutcomeMonths",
        ),
        (
            json!({ "startsOn": "2031-11-01", "registrationClosesOn": "2031-10-01", "expectedOutcomeMonths": -3 }),
            "input.expectedOutcomeMonths",
        ),
    ] {
        let (code, body) = s.err(Some(&a), UPSERT, json!({ "i": input })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(
        s.ok(&a, COHORTS, json!({})).await["npqCohorts"]
            .as_array()
            .unwrap()
            .len(),
        6,
        "nothing stored"
    );
    s.stop().await;
}

#[tokio::test]
async fn compliance_names_the_day_to_register_by_and_the_earliest_day_to_qualify() {
    let s = TestServer::start().await;
    world(&s).await;
    let la = token("officer", "la:202:read");
    let d = s
        .ok(
            &la,
            "query($d: Date) { complianceIssues(filter: { laCode: 202 }, asOf: $d, first: 250, \
             codes: [\"QUALIFICATION_AT_RISK\", \"QUALIFICATION_CANNOT_BE_MET\"]) { totalCount \
             counts { code severity count } edges { node { code severity school { urn } message } } } }",
            json!({ "d": AS_OF }),
        )
        .await;
    let nodes: Vec<&Value> = d["complianceIssues"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let found: Vec<(&str, &str, i64)> = nodes
        .iter()
        .map(|n| {
            (
                n["code"].as_str().unwrap(),
                n["severity"].as_str().unwrap(),
                n["school"]["urn"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("QUALIFICATION_CANNOT_BE_MET", "STATUTORY", 100002),
            ("QUALIFICATION_AT_RISK", "GUIDANCE", 100001),
        ]
    );
    let cannot = nodes[0]["message"].as_str().unwrap();
    assert!(cannot.starts_with("1 of 3 "), "{cannot}");
    assert!(cannot.contains("1 September 2028"), "{cannot}");
    let at_risk = nodes[1]["message"].as_str().unwrap();
    assert!(at_risk.starts_with("1 of 4 "), "{at_risk}");
    assert!(at_risk.contains("register by 1 October 2026"), "{at_risk}");
    // The school's own compliance says the same.
    let school = s
        .ok(
            &la,
            "query($d: Date) { school(urn: 100001) { compliance(asOf: $d) { code } } }",
            json!({ "d": AS_OF }),
        )
        .await;
    let codes: Vec<&str> = school["school"]["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"QUALIFICATION_AT_RISK"), "{codes:?}");
    assert!(!codes.contains(&"QUALIFICATION_CANNOT_BE_MET"), "{codes:?}");
    s.stop().await;
}

#[tokio::test]
async fn the_deadlines_export_carries_the_projection_columns_and_filter() {
    let s = TestServer::start().await;
    let ids = world(&s).await;
    let la = token("officer", "la:202:read");
    let resp = s
        .client
        .get(format!(
            "{}/export/deadlines.csv?laCode=202&asOf={AS_OF}&projections=AT_RISK,CANNOT_MEET,ON_TRACK",
            s.base
        ))
        .bearer_auth(&la)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    for col in [
        "projection",
        "must_register_by",
        "projected_qualified_on",
        "latest_viable_cohort_starts_on",
    ] {
        assert!(header.contains(&col.to_string()), "{header:?}");
    }
    let csv_rows: BTreeMap<String, BTreeMap<String, String>> = r
        .records()
        .map(|rec| {
            let row: BTreeMap<String, String> = header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect();
            (row["appointment_id"].clone(), row)
        })
        .collect();
    let (rows, _) = deadlines(
        &s,
        &la,
        &ids,
        json!({ "projections": ["AT_RISK", "CANNOT_MEET", "ON_TRACK"] }),
    )
    .await;
    assert_eq!(csv_rows.len(), rows.len());
    let cell = |v: &Value| v.as_str().unwrap_or("").to_owned();
    for (key, node) in &rows {
        let row = &csv_rows[&ids[key.as_str()]];
        assert_eq!(row["projection"], cell(&node["projection"]), "{key}");
        assert_eq!(
            row["must_register_by"],
            cell(&node["mustRegisterBy"]),
            "{key}"
        );
        assert_eq!(
            row["projected_qualified_on"],
            cell(&node["projectedQualifiedOn"]),
            "{key}"
        );
        assert_eq!(
            row["latest_viable_cohort_starts_on"],
            cell(&node["latestViableCohort"]["startsOn"]),
            "{key}"
        );
    }
    let bad = s
        .client
        .get(format!("{}/export/deadlines.csv?projections=LATE", s.base))
        .bearer_auth(&la)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    s.stop().await;
}

/// The projection of one appointment at 100001 on [`AS_OF`], read through its school.
async fn projection_of(s: &TestServer, tok: &str, appointment: &str) -> Value {
    s.ok(
        tok,
        "query($u: Int!, $d: Date) { school(urn: $u) { sencoAppointments { id \
         qualification(asOf: $d) { projection projectedQualifiedOn } } } }",
        json!({ "u": 100001, "d": AS_OF }),
    )
    .await["school"]["sencoAppointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == appointment)
        .unwrap()["qualification"]
        .clone()
}

#[tokio::test]
async fn expected_completion_is_recorded_and_checked_against_the_2027_window() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = token("school", "school:100001:write");
    let d = s
        .ok(
            &tok,
            APPOINT,
            json!({ "i": { "schoolUrn": 100001, "startedOn": "2025-01-06",
                "person": { "trn": "3100000", "fullName": "Nasenco Senco", "hasQts": true,
                            "inductionStatus": "COMPLETED" } } }),
        )
        .await;
    let person = d["appointSenco"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let appointment = d["appointSenco"]["id"].as_str().unwrap().to_owned();

    // A NASENCO expected after August 2027 could never count: refused, saying why.
    let (code, body) = s
        .err(
            Some(&tok),
            RECORD_QUAL,
            json!({ "i": { "personId": person, "kind": "NASENCO", "startedOn": "2024-06-01",
                           "expectedCompletionOn": "2027-10-15" } }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.expectedCompletionOn"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("1 September 2027"), "{message}");

    let q = s
        .ok(
            &tok,
            RECORD_QUAL,
            json!({ "i": { "personId": person, "kind": "NASENCO", "startedOn": "2024-06-01",
                           "expectedCompletionOn": "2027-07-15" } }),
        )
        .await["recordQualification"]
        .clone();
    assert_eq!(q["expectedCompletionOn"], "2027-07-15");
    let qid = q["id"].as_str().unwrap().to_owned();

    assert_eq!(
        projection_of(&s, &tok, &appointment).await,
        json!({ "projection": "ON_TRACK", "projectedQualifiedOn": "2027-07-15" })
    );

    // The update is checked against the stored course too.
    for (input, field) in [
        (
            json!({ "expectedCompletionOn": "2027-09-01" }),
            "input.expectedCompletionOn",
        ),
        (
            json!({ "expectedCompletionOn": "2024-05-31" }),
            "input.expectedCompletionOn",
        ),
        (
            json!({ "expectedCompletionOn": "2099-01-01" }),
            "input.expectedCompletionOn",
        ),
    ] {
        let mut i = input;
        i["qualificationId"] = json!(qid);
        let (code, body) = s.err(Some(&tok), UPDATE_QUAL, json!({ "i": i })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // Clearing it: a NASENCO with no expected date is taken to finish by 31 August 2027.
    let cleared = s
        .ok(
            &tok,
            UPDATE_QUAL,
            json!({ "i": { "qualificationId": qid, "expectedCompletionOn": null } }),
        )
        .await;
    assert_eq!(
        cleared["updateQualification"]["expectedCompletionOn"],
        Value::Null
    );
    assert_eq!(
        projection_of(&s, &tok, &appointment).await,
        json!({ "projection": "ON_TRACK", "projectedQualifiedOn": "2027-08-31" })
    );
    s.stop().await;
}
