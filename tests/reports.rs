//! Termly SENCO reports (SPEC 4.5, 5 and 6) end to end over HTTP with real tokens:
//! submission, validation, the Money scalar, versions, idempotent retries, history, and
//! summaries checked against sums computed here from the real DfE census figures.

// Test helpers panic on a malformed response: that is the right failure in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};

use chrono::Datelike;
use common::*;
use serde_json::{Value, json};

const REPORT: &str = "id academicYear term version submittedAt submittedBy dueOn \
    numberOnRoll pupilsWithSend senSupport ehcp ehcpApplicationsInProcess \
    budgetE1 budgetE2 budgetE3 budgetAdditional expenditureToDate nonContactHoursPerWeek \
    senPolicyDate provisionReviewDate senInformationReportPublishedOn \
    challenges ongoingConcerns trainingUndertaken budgetTotal budgetRemaining overspent \
    school { urn }";

const TOTALS: &str = "reports numberOnRoll pupilsWithSend senSupport ehcp \
    ehcpApplicationsInProcess senSupportPercent ehcpPercent budgetTotal expenditureToDate \
    budgetRemaining overspentSchools";

fn submit_q() -> String {
    format!(
        "mutation($i: SubmitTermlyReportInput!) {{ submitTermlyReport(input: $i) {{ {REPORT} }} }}"
    )
}

fn latest_q() -> String {
    format!(
        "query($u: Int!, $y: Int!, $t: Term!) {{ termlyReport(schoolUrn: $u, academicYear: $y, \
         term: $t) {{ {REPORT} history {{ id version submittedBy numberOnRoll challenges }} }} }}"
    )
}

fn summary_q() -> String {
    format!(
        "query($y: Int!, $t: Term!, $f: SchoolFilter) {{ termlySummary(academicYear: $y, \
         term: $t, filter: $f) {{ academicYear term schoolsInScope reportsSubmitted \
         missingReports {{ urn }} totals {{ {TOTALS} }} previousTerm {{ {TOTALS} }} \
         sameTermLastYear {{ {TOTALS} }} }} }}"
    )
}

/// The school's own writer.
fn head(urn: i32) -> String {
    token(&format!("head-{urn}"), &format!("school:{urn}:write"))
}

/// A valid report: 200 on roll, budget 13700.50, spent 5000.25.
fn report(urn: i32, year: i32, term: &str) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": year, "term": term,
        "numberOnRoll": 200, "pupilsWithSend": 40, "senSupport": 30, "ehcp": 6,
        "ehcpApplicationsInProcess": 2,
        "budgetE1": "10000", "budgetE2": "2500.50", "budgetE3": "0", "budgetAdditional": "1200",
        "expenditureToDate": "5000.25",
        "nonContactHoursPerWeek": 6.5,
        "senPolicyDate": "2024-09-01", "provisionReviewDate": "2024-11-01",
        "senInformationReportPublishedOn": "2024-10-01",
        "challenges": "Speech and language waiting lists",
        "ongoingConcerns": "Two EHCP assessments delayed",
        "trainingUndertaken": "Whole-staff autism awareness",
    })
}

/// `base` with the fields of `patch` replaced.
fn with(base: &Value, patch: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in patch.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

async fn submit(s: &TestServer, tok: &str, input: &Value) -> Value {
    s.ok(tok, &submit_q(), json!({ "i": input })).await["submitTermlyReport"].clone()
}

/// Submits and expects an error; returns its code and the whole body.
async fn submit_err(s: &TestServer, tok: &str, input: &Value) -> (String, Value) {
    s.err(Some(tok), &submit_q(), json!({ "i": input })).await
}

/// The latest version (with history) as the admin reads it; `Null` when none.
async fn latest(s: &TestServer, urn: i32, year: i32, term: &str) -> Value {
    s.ok(
        &admin(),
        &latest_q(),
        json!({ "u": urn, "y": year, "t": term }),
    )
    .await["termlyReport"]
        .clone()
}

async fn summary(s: &TestServer, tok: &str, year: i32, term: &str, filter: Value) -> Value {
    s.ok(
        tok,
        &summary_q(),
        json!({ "y": year, "t": term, "f": filter }),
    )
    .await["termlySummary"]
        .clone()
}

async fn add_school(s: &TestServer, urn: i32, la: i32, closed_on: Option<&str>) {
    s.ok(
        &admin(),
        "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
        json!({ "i": { "urn": urn, "name": format!("School {urn}"), "laCode": la,
                       "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": false,
                       "numberOnRoll": 100, "closedOn": closed_on } }),
    )
    .await;
}

/// Pence as a Money string with two places.
fn money(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    format!("{sign}{}.{:02}", p / 100, p % 100)
}

fn versions(history: &Value) -> Vec<i64> {
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["version"].as_i64().unwrap())
        .collect()
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

#[tokio::test]
async fn school_writer_submits_version_1_with_due_date_and_budget_figures() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let input = with(
        &report(100001, 2024, "AUTUMN"),
        json!({ "budgetE1": "1000", "budgetE2": "250.5", "budgetE3": "0.75",
                "budgetAdditional": "100.00", "expenditureToDate": "1400.00" }),
    );
    let r = submit(&s, &head(100001), &input).await;
    assert_eq!(r["version"], 1);
    assert_eq!(r["academicYear"], 2024);
    assert_eq!(r["term"], "AUTUMN");
    assert_eq!(r["school"]["urn"], 100001);
    assert_eq!(r["submittedBy"], "head-100001", "the token's sub");
    assert!(
        chrono::DateTime::parse_from_rfc3339(r["submittedAt"].as_str().unwrap()).is_ok(),
        "{r}"
    );
    assert_eq!(r["dueOn"], "2025-01-14", "14 days after 31 December");
    assert_eq!(r["budgetE1"], "1000.00");
    assert_eq!(r["budgetE2"], "250.50");
    assert_eq!(r["budgetE3"], "0.75");
    assert_eq!(r["budgetAdditional"], "100.00");
    assert_eq!(r["budgetTotal"], "1351.25");
    assert_eq!(r["expenditureToDate"], "1400.00");
    assert_eq!(r["budgetRemaining"], "-48.75");
    assert_eq!(r["overspent"], true);
    for (k, v) in [
        ("numberOnRoll", json!(200)),
        ("pupilsWithSend", json!(40)),
        ("senSupport", json!(30)),
        ("ehcp", json!(6)),
        ("ehcpApplicationsInProcess", json!(2)),
        ("nonContactHoursPerWeek", json!(6.5)),
        ("senPolicyDate", json!("2024-09-01")),
        ("provisionReviewDate", json!("2024-11-01")),
        ("senInformationReportPublishedOn", json!("2024-10-01")),
        ("challenges", json!("Speech and language waiting lists")),
        ("ongoingConcerns", json!("Two EHCP assessments delayed")),
        ("trainingUndertaken", json!("Whole-staff autism awareness")),
    ] {
        assert_eq!(r[k], v, "{k}");
    }
    // Stored: the school's readers see the same version.
    let read = s
        .ok(
            &token("gov", "school:100001:read"),
            &latest_q(),
            json!({ "u": 100001, "y": 2024, "t": "AUTUMN" }),
        )
        .await["termlyReport"]
        .clone();
    assert_eq!(read["id"], r["id"]);
    assert_eq!(read["budgetRemaining"], "-48.75");

    // The other terms' due dates; an exactly balanced budget is not overspent.
    let spring = submit(
        &s,
        &head(100001),
        &with(
            &report(100001, 2024, "SPRING"),
            json!({ "budgetE1": "100", "budgetE2": "0", "budgetE3": "0",
                    "budgetAdditional": "0", "expenditureToDate": "100" }),
        ),
    )
    .await;
    assert_eq!(spring["dueOn"], "2025-04-14");
    assert_eq!(spring["budgetRemaining"], "0.00");
    assert_eq!(spring["overspent"], false);
    let summer = submit(&s, &head(100001), &report(100001, 2024, "SUMMER")).await;
    assert_eq!(summer["dueOn"], "2025-09-14");
    assert_eq!(summer["budgetTotal"], "13700.50");
    assert_eq!(summer["budgetRemaining"], "8700.25");
    assert_eq!(summer["overspent"], false);
    // Optional fields may be left out.
    let bare = report(100002, 2024, "AUTUMN");
    let mut bare = bare.as_object().unwrap().clone();
    for k in [
        "senPolicyDate",
        "provisionReviewDate",
        "senInformationReportPublishedOn",
        "challenges",
        "ongoingConcerns",
        "trainingUndertaken",
    ] {
        bare.remove(k);
    }
    let r = submit(&s, &head(100002), &Value::Object(bare)).await;
    assert_eq!(r["version"], 1);
    assert_eq!(r["challenges"], Value::Null);
    assert_eq!(r["senPolicyDate"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn every_invalid_report_field_is_bad_user_input_naming_it_and_stores_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let base = report(100001, 2024, "AUTUMN");
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    let next_year = chrono::Utc::now().year() + 1;
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "numberOnRoll": -1 }), "input.numberOnRoll"),
        (json!({ "pupilsWithSend": -1 }), "input.pupilsWithSend"),
        (json!({ "senSupport": -1 }), "input.senSupport"),
        (json!({ "ehcp": -1 }), "input.ehcp"),
        (
            json!({ "ehcpApplicationsInProcess": -1 }),
            "input.ehcpApplicationsInProcess",
        ),
        // senSupport + ehcp <= pupilsWithSend <= numberOnRoll
        (
            json!({ "pupilsWithSend": 35, "senSupport": 30, "ehcp": 6 }),
            "input.pupilsWithSend",
        ),
        (
            json!({ "numberOnRoll": 39, "pupilsWithSend": 40 }),
            "input.pupilsWithSend",
        ),
        (
            json!({ "nonContactHoursPerWeek": 60.5 }),
            "input.nonContactHoursPerWeek",
        ),
        (
            json!({ "nonContactHoursPerWeek": -0.5 }),
            "input.nonContactHoursPerWeek",
        ),
        (json!({ "academicYear": 2008 }), "input.academicYear"),
        (
            json!({ "academicYear": next_year + 1 }),
            "input.academicYear",
        ),
        (json!({ "senPolicyDate": tomorrow }), "input.senPolicyDate"),
        (
            json!({ "provisionReviewDate": tomorrow }),
            "input.provisionReviewDate",
        ),
        (
            json!({ "senInformationReportPublishedOn": tomorrow }),
            "input.senInformationReportPublishedOn",
        ),
        (
            json!({ "challenges": "x".repeat(10_001) }),
            "input.challenges",
        ),
        (
            json!({ "ongoingConcerns": "bell \u{7} rings" }),
            "input.ongoingConcerns",
        ),
        (
            json!({ "trainingUndertaken": "escape \u{1b}[31m red" }),
            "input.trainingUndertaken",
        ),
        (json!({ "idempotencyKey": "" }), "input.idempotencyKey"),
        (json!({ "expectedVersion": -1 }), "input.expectedVersion"),
    ];
    for (patch, field) in cases {
        let input = with(&base, patch.clone());
        let (code, body) = submit_err(&s, &head(100001), &input).await;
        assert_eq!(code, "BAD_USER_INPUT", "{patch}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{patch}: {body}"
        );
        // Out-of-range years cannot be read back; the rest must still be absent.
        assert_eq!(
            latest(&s, 100001, 2024, "AUTUMN").await,
            Value::Null,
            "{patch} stored something"
        );
    }
    // The boundaries are accepted: 10,000 characters with line breaks and tabs, 0 and 60
    // hours, the first and the last academic years, and a roll wholly of SEND pupils.
    let long = format!("{}\r\n\t{}", "a".repeat(5_000), "b".repeat(4_997));
    assert_eq!(long.chars().count(), 10_000);
    let r = submit(
        &s,
        &head(100001),
        &with(
            &base,
            json!({ "challenges": long, "nonContactHoursPerWeek": 60,
                    "numberOnRoll": 36, "pupilsWithSend": 36 }),
        ),
    )
    .await;
    assert_eq!(r["challenges"].as_str().unwrap().chars().count(), 10_000);
    // The oldest year taken, and the latest term that has begun by today.
    let latest_begun = next_year - 2;
    for (year, hours) in [(2009, 0.0), (latest_begun, 0.0)] {
        let r = submit(
            &s,
            &head(100001),
            &with(
                &report(100001, year, "SPRING"),
                json!({ "nonContactHoursPerWeek": hours }),
            ),
        )
        .await;
        assert_eq!(r["academicYear"], year);
    }
    s.stop().await;
}

const MONEY_FIELDS: [&str; 5] = [
    "budgetE1",
    "budgetE2",
    "budgetE3",
    "budgetAdditional",
    "expenditureToDate",
];

/// Money inputs SPEC 4.5 and 5 refuse: JSON numbers, more than two places, negatives,
/// more than 1000000000.00, and anything but plain digits.
fn bad_money() -> Vec<Value> {
    vec![
        json!(1250),
        json!(1250.5),
        json!("1250.505"),
        json!("-1"),
        json!("-0.01"),
        json!("1000000000.01"),
        json!("1e3"),
        json!("1,000"),
        json!(""),
        json!(" 12"),
        json!(".5"),
        json!("1."),
        json!("£5"),
        json!(null),
    ]
}

#[tokio::test]
async fn money_is_a_decimal_string_with_at_most_two_places() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let r = submit(
        &s,
        &head(100001),
        &with(
            &report(100001, 2024, "AUTUMN"),
            json!({ "budgetE1": "1250", "budgetE2": "1250.5", "budgetE3": "1250.50",
                    "budgetAdditional": "0.05", "expenditureToDate": "1000000000.00" }),
        ),
    )
    .await;
    assert_eq!(r["budgetE1"], "1250.00");
    assert_eq!(r["budgetE2"], "1250.50");
    assert_eq!(r["budgetE3"], "1250.50");
    assert_eq!(r["budgetAdditional"], "0.05");
    assert_eq!(
        r["expenditureToDate"], "1000000000.00",
        "the maximum is allowed"
    );
    assert_eq!(r["budgetTotal"], "3751.05");
    assert_eq!(r["budgetRemaining"], "-999996248.95");
    assert_eq!(r["overspent"], true);

    let base = report(100002, 2024, "AUTUMN");
    for field in MONEY_FIELDS {
        for bad in bad_money() {
            let input = with(&base, json!({ field: bad }));
            let (code, body) = submit_err(&s, &head(100002), &input).await;
            assert_eq!(code, "BAD_USER_INPUT", "{field} = {bad}: {body}");
        }
    }
    assert_eq!(latest(&s, 100002, 2024, "AUTUMN").await, Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn a_refused_money_amount_is_bad_user_input_naming_its_field() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let base = report(100002, 2024, "AUTUMN");
    for field in MONEY_FIELDS {
        for bad in [
            json!(1250),
            json!("1250.505"),
            json!("-1"),
            json!("1000000000.01"),
        ] {
            let input = with(&base, json!({ field: bad }));
            let (code, body) = submit_err(&s, &head(100002), &input).await;
            assert_eq!(code, "BAD_USER_INPUT", "{field} = {bad}: {body}");
            let named = body["errors"][0]["extensions"]["field"]
                .as_str()
                .unwrap_or("");
            assert!(
                named.contains(field),
                "SPEC 4.5: each failure names the field; {field} = {bad} named {named:?}: {body}"
            );
        }
    }
    assert_eq!(latest(&s, 100002, 2024, "AUTUMN").await, Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn pence_add_up_exactly_across_schools_in_the_summary() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for (urn, amount) in [(100001, "0.10"), (100002, "0.20")] {
        submit(
            &s,
            &head(urn),
            &with(
                &report(urn, 2024, "SPRING"),
                json!({ "budgetE1": amount, "budgetE2": "0", "budgetE3": "0",
                        "budgetAdditional": "0", "expenditureToDate": amount }),
            ),
        )
        .await;
    }
    let sum = summary(
        &s,
        &token("la", "la:202:read"),
        2024,
        "SPRING",
        json!({ "laCode": 202 }),
    )
    .await;
    assert_eq!(sum["totals"]["budgetTotal"], "0.30");
    assert_eq!(sum["totals"]["expenditureToDate"], "0.30");
    assert_eq!(sum["totals"]["budgetRemaining"], "0.00");
    assert_eq!(sum["totals"]["overspentSchools"], 0);
    s.stop().await;
}

#[tokio::test]
async fn an_amendment_needs_the_current_expected_version_and_a_stale_one_conflicts() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = head(100001);
    let base = report(100001, 2024, "AUTUMN");

    // A first submission naming a version that does not exist conflicts.
    let (code, body) = submit_err(&s, &tok, &with(&base, json!({ "expectedVersion": 3 }))).await;
    assert_eq!(code, "CONFLICT", "{body}");
    assert_eq!(latest(&s, 100001, 2024, "AUTUMN").await, Value::Null);

    let v1 = submit(&s, &tok, &base).await;
    assert_eq!(v1["version"], 1);
    for (expected, what) in [
        (Value::Null, "missing"),
        (json!(0), "zero"),
        (json!(2), "ahead"),
    ] {
        let input = with(
            &base,
            json!({ "expectedVersion": expected, "numberOnRoll": 999, "challenges": what }),
        );
        let (code, body) = submit_err(&s, &tok, &input).await;
        assert_eq!(code, "CONFLICT", "{what}: {body}");
    }
    let now = latest(&s, 100001, 2024, "AUTUMN").await;
    assert_eq!(now["id"], v1["id"], "nothing stored");
    assert_eq!(versions(&now["history"]), vec![1]);

    let v2 = submit(
        &s,
        &token("deputy", "school:100001:write"),
        &with(
            &base,
            json!({ "expectedVersion": 1, "numberOnRoll": 210, "challenges": "v2" }),
        ),
    )
    .await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["submittedBy"], "deputy");
    assert_ne!(v2["id"], v1["id"]);
    // Version 1 is now stale.
    let (code, body) = submit_err(
        &s,
        &tok,
        &with(&base, json!({ "expectedVersion": 1, "challenges": "late" })),
    )
    .await;
    assert_eq!(code, "CONFLICT", "{body}");
    let v3 = submit(
        &s,
        &tok,
        &with(&base, json!({ "expectedVersion": 2, "challenges": "v3" })),
    )
    .await;
    assert_eq!(v3["version"], 3);
    let now = latest(&s, 100001, 2024, "AUTUMN").await;
    assert_eq!(now["id"], v3["id"]);
    assert_eq!(versions(&now["history"]), vec![1, 2, 3]);
    let challenges: Vec<&Value> = now["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["challenges"])
        .collect();
    assert_eq!(
        challenges,
        vec![
            &json!("Speech and language waiting lists"),
            &json!("v2"),
            &json!("v3")
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_retry_returns_the_same_version_and_stores_nothing_new() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = head(100001);
    let first = with(
        &report(100001, 2024, "AUTUMN"),
        json!({ "idempotencyKey": "autumn-2024-a" }),
    );
    let r1 = submit(&s, &tok, &first).await;
    assert_eq!(r1["version"], 1);
    for _ in 0..3 {
        let again = submit(&s, &tok, &first).await;
        assert_eq!(again["id"], r1["id"]);
        assert_eq!(again["version"], 1);
        assert_eq!(again["submittedAt"], r1["submittedAt"]);
    }
    assert_eq!(
        versions(&latest(&s, 100001, 2024, "AUTUMN").await["history"]),
        vec![1]
    );

    // The same key with other content, or for another term, is a conflict.
    for other in [
        with(&first, json!({ "numberOnRoll": 201 })),
        with(&first, json!({ "challenges": "something else" })),
        with(&first, json!({ "term": "SPRING" })),
    ] {
        let (code, body) = submit_err(&s, &tok, &other).await;
        assert_eq!(code, "CONFLICT", "{other}: {body}");
    }
    assert_eq!(
        versions(&latest(&s, 100001, 2024, "AUTUMN").await["history"]),
        vec![1]
    );
    assert_eq!(latest(&s, 100001, 2024, "SPRING").await, Value::Null);

    // An amendment under a new key; retrying either key returns the version it created.
    let second = with(
        &first,
        json!({ "idempotencyKey": "autumn-2024-b", "expectedVersion": 1, "ehcp": 7 }),
    );
    let r2 = submit(&s, &tok, &second).await;
    assert_eq!(r2["version"], 2);
    let again = submit(&s, &tok, &second).await;
    assert_eq!((&again["id"], &again["version"]), (&r2["id"], &json!(2)));
    let again = submit(&s, &tok, &first).await;
    assert_eq!((&again["id"], &again["version"]), (&r1["id"], &json!(1)));
    let now = latest(&s, 100001, 2024, "AUTUMN").await;
    assert_eq!(versions(&now["history"]), vec![1, 2]);
    assert_eq!(now["id"], r2["id"]);

    // Keys belong to a school: another school may use the same one.
    let other_school = with(
        &report(100002, 2024, "AUTUMN"),
        json!({ "idempotencyKey": "autumn-2024-a", "numberOnRoll": 95, "pupilsWithSend": 40 }),
    );
    let r = submit(&s, &head(100002), &other_school).await;
    assert_eq!(r["version"], 1);
    assert_eq!(r["numberOnRoll"], 95);
    s.stop().await;
}

#[tokio::test]
async fn only_the_schools_own_write_scope_may_submit_its_report() {
    let s = TestServer::start().await;
    small_world(&s).await;
    // 100002 is in LA 202 and trust 2044.
    let input = report(100002, 2024, "AUTUMN");
    for scope in [
        "la:202:write",
        "trust:2044:write",
        "admin",
        "school:100002:read",
        "la:202:read",
        "school:100001:write",
        "admin la:202:write trust:2044:write school:100002:read",
    ] {
        let (code, body) = submit_err(&s, &token("someone", scope), &input).await;
        assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
    }
    let (code, _) = s.err(None, &submit_q(), json!({ "i": input })).await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert_eq!(latest(&s, 100002, 2024, "AUTUMN").await, Value::Null);

    // A shared SENCO's front end with several school scopes writes each of them.
    let shared = token("shared-senco", "school:100001:write school:100002:write");
    let r = submit(&s, &shared, &input).await;
    assert_eq!(r["submittedBy"], "shared-senco");
    let r = submit(&s, &shared, &report(100001, 2024, "AUTUMN")).await;
    assert_eq!(r["school"]["urn"], 100001);

    // Reading another school's report is forbidden; an unknown school has none.
    let (code, _) = s
        .err(
            Some(&head(100003)),
            &latest_q(),
            json!({ "u": 100002, "y": 2024, "t": "AUTUMN" }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let none = latest(&s, 999999, 2024, "AUTUMN").await;
    assert_eq!(none, Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn history_lists_every_version_and_school_lists_the_latest_of_each_term() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let base = report(100001, 2024, "AUTUMN");
    for (v, sub) in [(1, "alice"), (2, "bob"), (3, "carol")] {
        let expected = if v == 1 { Value::Null } else { json!(v - 1) };
        let r = submit(
            &s,
            &token(sub, "school:100001:write"),
            &with(
                &base,
                json!({ "expectedVersion": expected, "numberOnRoll": 200 + v,
                        "challenges": format!("version {v}") }),
            ),
        )
        .await;
        assert_eq!(r["version"], v);
    }
    submit(&s, &head(100001), &report(100001, 2024, "SPRING")).await;
    submit(&s, &head(100001), &report(100001, 2023, "AUTUMN")).await;
    submit(&s, &head(100001), &report(100001, 2023, "SUMMER")).await;

    let now = latest(&s, 100001, 2024, "AUTUMN").await;
    assert_eq!(now["version"], 3);
    let h: Vec<(i64, &str, i64, &str)> = now["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["version"].as_i64().unwrap(),
                x["submittedBy"].as_str().unwrap(),
                x["numberOnRoll"].as_i64().unwrap(),
                x["challenges"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        h,
        vec![
            (1, "alice", 201, "version 1"),
            (2, "bob", 202, "version 2"),
            (3, "carol", 203, "version 3"),
        ]
    );
    assert_eq!(
        now["history"][2]["id"], now["id"],
        "the latest is in its history"
    );

    let data = s
        .ok(
            &token("gov", "school:100001:read"),
            "{ school(urn: 100001) { termlyReports { academicYear term version numberOnRoll \
             history { version } } } }",
            json!({}),
        )
        .await;
    let list: Vec<(i64, &str, i64)> = data["school"]["termlyReports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["academicYear"].as_i64().unwrap(),
                r["term"].as_str().unwrap(),
                r["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        list,
        vec![
            (2024, "SPRING", 1),
            (2024, "AUTUMN", 3),
            (2023, "SUMMER", 1),
            (2023, "AUTUMN", 1),
        ],
        "latest version of each term, newest term first"
    );
    assert_eq!(data["school"]["termlyReports"][1]["numberOnRoll"], 203);
    assert_eq!(
        data["school"]["termlyReports"][1]["history"],
        json!([{ "version": 1 }, { "version": 2 }, { "version": 3 }])
    );
    // Another school has none of them.
    let other = s
        .ok(
            &admin(),
            "{ school(urn: 100002) { termlyReports { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(other["school"]["termlyReports"], json!([]));
    s.stop().await;
}

/// Submits a report with exactly these figures (budget entirely in E1).
#[allow(clippy::too_many_arguments)]
async fn submit_figures(
    s: &TestServer,
    urn: i32,
    year: i32,
    term: &str,
    nor: i64,
    send: i64,
    k: i64,
    e: i64,
    apps: i64,
    budget: &str,
    spent: &str,
) -> Value {
    let current = latest(s, urn, year, term).await;
    let expected = current.get("version").cloned().unwrap_or(Value::Null);
    submit(
        s,
        &head(urn),
        &with(
            &report(urn, year, term),
            json!({ "expectedVersion": expected, "numberOnRoll": nor, "pupilsWithSend": send,
                    "senSupport": k, "ehcp": e, "ehcpApplicationsInProcess": apps,
                    "budgetE1": budget, "budgetE2": "0", "budgetE3": "0",
                    "budgetAdditional": "0", "expenditureToDate": spent }),
        ),
    )
    .await
}

#[tokio::test]
async fn la_summary_totals_the_latest_reports_of_schools_open_in_the_term() {
    let s = TestServer::start().await;
    small_world(&s).await;
    add_school(&s, 100005, 202, Some("2024-07-31")).await; // closed before the term
    add_school(&s, 100006, 202, None).await; // open, never reports
    add_school(&s, 100007, 202, Some("2024-10-15")).await; // closed during the term

    // AUTUMN 2024: 100001 amends (only version 2 counts), 100002 reports once.
    submit_figures(
        &s, 100001, 2024, "AUTUMN", 170, 30, 20, 5, 1, "5000", "1000",
    )
    .await;
    submit_figures(
        &s, 100001, 2024, "AUTUMN", 180, 36, 25, 6, 2, "7750.35", "9000.00",
    )
    .await;
    submit_figures(
        &s, 100002, 2024, "AUTUMN", 95, 20, 15, 3, 0, "4000.20", "1234.56",
    )
    .await;
    // Out of scope: a school closed before the term, and another LA's school.
    submit_figures(&s, 100005, 2024, "AUTUMN", 999, 99, 9, 9, 9, "1", "2").await;
    submit_figures(&s, 100003, 2024, "AUTUMN", 1100, 200, 150, 40, 9, "1", "2").await;
    // The term before AUTUMN 2024 is SUMMER of academic year 2023.
    submit_figures(
        &s, 100001, 2023, "SUMMER", 175, 30, 22, 4, 3, "3000", "3100",
    )
    .await;
    // The same term a year before.
    submit_figures(&s, 100002, 2023, "AUTUMN", 90, 18, 12, 2, 1, "2000.01", "0").await;
    // Decoys that are neither.
    submit_figures(&s, 100002, 2024, "SUMMER", 50, 5, 1, 1, 1, "1", "1").await;
    submit_figures(&s, 100002, 2024, "SPRING", 50, 5, 1, 1, 1, "1", "1").await;
    submit_figures(&s, 100002, 2023, "SPRING", 50, 5, 1, 1, 1, "1", "1").await;

    let la = token("la", "la:202:read");
    let sum = summary(&s, &la, 2024, "AUTUMN", json!({ "laCode": 202 })).await;
    assert_eq!(sum["academicYear"], 2024);
    assert_eq!(sum["term"], "AUTUMN");
    assert_eq!(sum["schoolsInScope"], 4, "{sum}");
    assert_eq!(sum["reportsSubmitted"], 2);
    assert_eq!(
        sum["missingReports"],
        json!([{ "urn": 100006 }, { "urn": 100007 }])
    );
    let t = &sum["totals"];
    assert_eq!(t["reports"], 2);
    assert_eq!(t["numberOnRoll"], 275);
    assert_eq!(t["pupilsWithSend"], 56);
    assert_eq!(t["senSupport"], 40);
    assert_eq!(t["ehcp"], 9);
    assert_eq!(t["ehcpApplicationsInProcess"], 2);
    assert!(close(&t["senSupportPercent"], 40.0 * 100.0 / 275.0), "{t}");
    assert!(close(&t["ehcpPercent"], 9.0 * 100.0 / 275.0), "{t}");
    assert_eq!(t["budgetTotal"], "11750.55");
    assert_eq!(t["expenditureToDate"], "10234.56");
    assert_eq!(t["budgetRemaining"], "1515.99");
    assert_eq!(t["overspentSchools"], 1);

    let p = &sum["previousTerm"];
    assert_eq!(p["reports"], 1, "{p}");
    assert_eq!(p["numberOnRoll"], 175);
    assert_eq!(p["senSupport"], 22);
    assert_eq!(p["ehcpApplicationsInProcess"], 3);
    assert!(close(&p["senSupportPercent"], 22.0 * 100.0 / 175.0));
    assert_eq!(p["budgetTotal"], "3000.00");
    assert_eq!(p["budgetRemaining"], "-100.00");
    assert_eq!(p["overspentSchools"], 1);

    let y = &sum["sameTermLastYear"];
    assert_eq!(y["reports"], 1, "{y}");
    assert_eq!(y["numberOnRoll"], 90);
    assert_eq!(y["ehcp"], 2);
    assert!(close(&y["ehcpPercent"], 2.0 * 100.0 / 90.0));
    assert_eq!(y["budgetTotal"], "2000.01");
    assert_eq!(y["overspentSchools"], 0);

    // Without a filter the LA reader's scope is the same LA.
    let unfiltered = summary(&s, &la, 2024, "AUTUMN", Value::Null).await;
    assert_eq!(unfiltered, sum);

    // A term nobody reported: zero totals, no percentages; 100007 had closed by then.
    let empty = summary(&s, &la, 2025, "SPRING", json!({ "laCode": 202 })).await;
    assert_eq!(empty["schoolsInScope"], 3);
    assert_eq!(empty["reportsSubmitted"], 0);
    assert_eq!(
        empty["missingReports"],
        json!([{ "urn": 100001 }, { "urn": 100002 }, { "urn": 100006 }])
    );
    assert_eq!(empty["totals"]["reports"], 0);
    assert_eq!(empty["totals"]["senSupportPercent"], Value::Null);
    assert_eq!(empty["totals"]["ehcpPercent"], Value::Null);
    assert_eq!(empty["totals"]["budgetTotal"], "0.00");
    assert_eq!(empty["totals"]["budgetRemaining"], "0.00");
    // SPRING's previous term is AUTUMN of the same academic year.
    let spring = summary(&s, &la, 2024, "SPRING", json!({ "laCode": 202 })).await;
    assert_eq!(spring["previousTerm"]["reports"], 2);
    assert_eq!(spring["previousTerm"]["numberOnRoll"], 275);
    assert_eq!(spring["sameTermLastYear"]["numberOnRoll"], 50);
    s.stop().await;
}

#[tokio::test]
async fn a_summary_filtered_to_an_la_or_trust_the_caller_cannot_read_whole_is_forbidden() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for (scope, filter) in [
        ("la:202:read", json!({ "laCode": 203 })),
        ("school:100001:read", json!({ "laCode": 202 })),
        (
            "school:100001:write school:100002:write",
            json!({ "laCode": 202 }),
        ),
        ("trust:2044:read", json!({ "laCode": 202 })),
        ("la:202:read", json!({ "trustUid": 2044 })),
        ("la:202:write", json!({ "laCode": 203 })),
    ] {
        let (code, body) = s
            .err(
                Some(&token("reader", scope)),
                &summary_q(),
                json!({ "y": 2024, "t": "AUTUMN", "f": filter }),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "{scope} {filter}: {body}");
    }
    // Those who cover it may.
    for (scope, filter) in [
        ("la:203:read", json!({ "laCode": 203 })),
        ("admin", json!({ "laCode": 203 })),
        ("trust:2044:read", json!({ "trustUid": 2044 })),
    ] {
        let sum = summary(&s, &token("reader", scope), 2024, "AUTUMN", filter).await;
        // LA 203's special school has recorded nothing, so no report is expected from it.
        let expected = if scope == "trust:2044:read" { 2 } else { 1 };
        assert_eq!(sum["schoolsInScope"], expected, "{scope}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_trust_summary_covers_only_the_trusts_schools_across_las() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for (urn, nor, k, e) in [
        (100001, 180, 20, 4),
        (100002, 95, 11, 2),
        (100003, 1100, 130, 25),
        (100004, 120, 0, 120),
    ] {
        submit_figures(
            &s,
            urn,
            2024,
            "AUTUMN",
            nor,
            k + e,
            k,
            e,
            1,
            "100.00",
            "50.00",
        )
        .await;
    }
    let trust = token("trust", "trust:2044:read");
    for filter in [Value::Null, json!({ "trustUid": 2044 })] {
        let sum = summary(&s, &trust, 2024, "AUTUMN", filter).await;
        assert_eq!(sum["schoolsInScope"], 2, "{sum}");
        assert_eq!(sum["reportsSubmitted"], 2);
        assert_eq!(sum["missingReports"], json!([]));
        assert_eq!(sum["totals"]["numberOnRoll"], 95 + 1100);
        assert_eq!(sum["totals"]["senSupport"], 11 + 130);
        assert_eq!(sum["totals"]["ehcp"], 2 + 25);
        assert_eq!(sum["totals"]["budgetTotal"], "200.00");
        assert!(close(
            &sum["totals"]["senSupportPercent"],
            141.0 * 100.0 / 1195.0
        ));
    }
    // Narrowed further within the trust.
    let sum = summary(
        &s,
        &trust,
        2024,
        "AUTUMN",
        json!({ "urns": [100003, 100001] }),
    )
    .await;
    assert_eq!(sum["schoolsInScope"], 1, "only readable schools count");
    assert_eq!(sum["totals"]["numberOnRoll"], 1100);
    // The admin sees all four.
    let all = summary(&s, &admin(), 2024, "AUTUMN", Value::Null).await;
    assert_eq!(all["totals"]["numberOnRoll"], 180 + 95 + 1100 + 120);
    s.stop().await;
}

/// A school's figures from the DfE census file.
struct CensusSchool {
    urn: i32,
    nor: i64,
    ehcp: i64,
    sen_support: i64,
}

/// Every state-funded primary of `la` in the census file whose NOR, E and K are published.
fn census_primaries(la: i32) -> Vec<CensusSchool> {
    let path = repo_root().join("data/england_census_performance_tables.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (urn, la_col, kind, nor, e, k) = (
        col("URN"),
        col("LA"),
        col("SCHOOLTYPE"),
        col("NOR"),
        col("TSENELSE"),
        col("TSENELK"),
    );
    lines
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            if f.get(la_col)?.parse::<i32>().ok()? != la || f[kind] != "State-funded primary" {
                return None;
            }
            // 'NA' (withheld) fails to parse and the school is skipped.
            Some(CensusSchool {
                urn: f[urn].parse().ok()?,
                nor: f[nor].parse().ok()?,
                ehcp: f[e].parse().ok()?,
                sen_support: f[k].parse().ok()?,
            })
        })
        .collect()
}

#[tokio::test]
async fn la_summary_equals_sums_computed_from_real_census_figures() {
    let la_code = 202;
    let schools = census_primaries(la_code);
    assert!(schools.len() >= 16, "census has {} schools", schools.len());
    let (reporting, silent) = (&schools[..15], &schools[15]);

    let s = TestServer::start().await;
    let a = admin();
    s.ok(
        &a,
        "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
        json!({ "i": { "code": la_code, "name": "Camden" } }),
    )
    .await;
    for c in reporting.iter().chain([silent]) {
        s.ok(
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": { "urn": c.urn, "name": format!("Primary {}", c.urn), "laCode": la_code,
                           "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": false,
                           "numberOnRoll": c.nor } }),
        )
        .await;
    }

    let mut expected: HashMap<&str, i64> = HashMap::new();
    let mut overspent = 0;
    for c in reporting {
        // Budget lines from the school's own figures, in pence; some schools overspend.
        let e1 = c.nor * 1234;
        let e2 = c.sen_support * 10_005;
        let e3 = c.ehcp * 150_050;
        let additional = i64::from(c.urn % 100);
        let total = e1 + e2 + e3 + additional;
        let spent = if c.urn % 3 == 0 {
            total + 1
        } else {
            total - i64::from(c.urn % 500)
        };
        let apps = c.ehcp / 2;
        let r = submit(
            &s,
            &head(c.urn),
            &with(
                &report(c.urn, 2024, "AUTUMN"),
                json!({ "numberOnRoll": c.nor, "pupilsWithSend": c.sen_support + c.ehcp,
                        "senSupport": c.sen_support, "ehcp": c.ehcp,
                        "ehcpApplicationsInProcess": apps,
                        "budgetE1": money(e1), "budgetE2": money(e2), "budgetE3": money(e3),
                        "budgetAdditional": money(additional),
                        "expenditureToDate": money(spent) }),
            ),
        )
        .await;
        assert_eq!(r["budgetTotal"], money(total));
        assert_eq!(r["budgetRemaining"], money(total - spent));
        *expected.entry("nor").or_default() += c.nor;
        *expected.entry("k").or_default() += c.sen_support;
        *expected.entry("e").or_default() += c.ehcp;
        *expected.entry("apps").or_default() += apps;
        *expected.entry("budget").or_default() += total;
        *expected.entry("spent").or_default() += spent;
        if spent > total {
            overspent += 1;
        }
    }
    assert!(
        overspent > 0 && overspent < 15,
        "a mix of overspent schools"
    );

    let sum = summary(
        &s,
        &token("camden", &format!("la:{la_code}:read")),
        2024,
        "AUTUMN",
        json!({ "laCode": la_code }),
    )
    .await;
    assert_eq!(sum["schoolsInScope"], 16);
    assert_eq!(sum["reportsSubmitted"], 15);
    assert_eq!(sum["missingReports"], json!([{ "urn": silent.urn }]));
    let t = &sum["totals"];
    assert_eq!(t["reports"], 15);
    assert_eq!(t["numberOnRoll"], expected["nor"]);
    assert_eq!(t["senSupport"], expected["k"]);
    assert_eq!(t["ehcp"], expected["e"]);
    assert_eq!(t["pupilsWithSend"], expected["k"] + expected["e"]);
    assert_eq!(t["ehcpApplicationsInProcess"], expected["apps"]);
    assert_eq!(t["budgetTotal"], money(expected["budget"]));
    assert_eq!(t["expenditureToDate"], money(expected["spent"]));
    assert_eq!(
        t["budgetRemaining"],
        money(expected["budget"] - expected["spent"])
    );
    assert_eq!(t["overspentSchools"], overspent);
    let nor = expected["nor"] as f64;
    assert!(
        close(&t["senSupportPercent"], expected["k"] as f64 * 100.0 / nor),
        "{t}"
    );
    assert!(
        close(&t["ehcpPercent"], expected["e"] as f64 * 100.0 / nor),
        "{t}"
    );
    assert_eq!(sum["previousTerm"]["reports"], 0);
    assert_eq!(sum["sameTermLastYear"]["reports"], 0);
    s.stop().await;
}

/// POSTs a GraphQL request outside the harness, for spawned tasks.
async fn post(client: &reqwest::Client, url: &str, tok: &str, query: &str, vars: Value) -> Value {
    client
        .post(url)
        .bearer_auth(tok)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_amendments_leave_one_unbroken_chain_and_lose_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let base = report(100001, 2024, "AUTUMN");
    submit(&s, &head(100001), &base).await;

    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let client = s.client.clone();
            let url = s.url();
            let tok = token(&format!("client-{i}"), "school:100001:write");
            let base = base.clone();
            tokio::spawn(async move {
                let current = post(
                    &client,
                    &url,
                    &tok,
                    "{ termlyReport(schoolUrn: 100001, academicYear: 2024, term: AUTUMN) { version } }",
                    json!({}),
                )
                .await;
                let version = current["data"]["termlyReport"]["version"].clone();
                assert!(version.is_i64(), "{current}");
                let body = post(
                    &client,
                    &url,
                    &tok,
                    &submit_q(),
                    json!({ "i": with(&base, json!({
                        "expectedVersion": version,
                        "challenges": format!("client-{i}"),
                    })) }),
                )
                .await;
                match body["data"]["submitTermlyReport"]["version"].as_i64() {
                    Some(v) => Ok((i, v)),
                    None => Err((
                        i,
                        body["errors"][0]["extensions"]["code"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        body.clone(),
                    )),
                }
            })
        })
        .collect();
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();

    let acked: Vec<(usize, i64)> = results.iter().filter_map(|r| r.clone().ok()).collect();
    for r in &results {
        if let Err((i, code, body)) = r {
            assert_eq!(code, "CONFLICT", "client {i}: {body}");
        }
    }
    assert!(!acked.is_empty(), "at least one amendment succeeds");

    let now = latest(&s, 100001, 2024, "AUTUMN").await;
    let history = now["history"].as_array().unwrap();
    let n = history.len();
    assert_eq!(n, 1 + acked.len(), "one version per acknowledged amendment");
    assert_eq!(
        versions(&now["history"]),
        (1..=n as i64).collect::<Vec<_>>(),
        "one unbroken chain"
    );
    assert_eq!(now["version"], n);
    let acked_versions: HashSet<i64> = acked.iter().map(|(_, v)| *v).collect();
    assert_eq!(acked_versions.len(), acked.len(), "no version given twice");
    for (i, v) in &acked {
        let mine: Vec<&Value> = history
            .iter()
            .filter(|h| h["challenges"] == format!("client-{i}").as_str())
            .collect();
        assert_eq!(mine.len(), 1, "client {i} stored exactly once");
        assert_eq!(mine[0]["version"], *v, "client {i}");
        assert_eq!(mine[0]["submittedBy"], format!("client-{i}").as_str());
    }
    for r in &results {
        if let Err((i, _, _)) = r {
            assert!(
                !history
                    .iter()
                    .any(|h| h["challenges"] == format!("client-{i}").as_str()),
                "refused client {i} was stored"
            );
        }
    }
    s.stop().await;
}
