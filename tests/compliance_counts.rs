//! Counts for dashboards and the compliance rules of SPEC 4.7 (issue 15): counts over the
//! whole filtered set equal the rows; `codes` narrows the list; only the schools the
//! regulations bind, or that use the product, are checked, and `termlySummary` expects
//! reports from the same schools; no report is taken for a term that has not begun.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};

async fn appoint(s: &TestServer, urn: i32, started: &str, trn: &str) {
    s.ok(
        &admin(),
        "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
        json!({ "i": { "schoolUrn": urn, "startedOn": started,
            "person": { "trn": trn, "fullName": format!("Senco {urn}"), "hasQts": true,
                        "inductionStatus": "COMPLETED" } } }),
    )
    .await;
}

fn tally<'a>(rows: impl Iterator<Item = &'a Value>, key: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r[key].as_str().unwrap().to_string()).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn status_and_issue_counts_cover_the_whole_filtered_list_not_the_page() {
    let s = TestServer::start().await;
    small_world(&s).await;
    appoint(&s, 100001, "2018-09-01", "1000001").await; // long overdue
    appoint(&s, 100002, "2026-06-01", "1000002").await; // not started
    appoint(&s, 100003, "2005-09-01", "1000003").await; // exempt (before 2009)
    let a = admin();
    let q = "query($first: Int) { qualificationDeadlines(asOf: \"2026-11-20\", first: $first) {
        totalCount statusCounts { status count } edges { node { status } } } }";
    let page = s.ok(&a, q, json!({ "first": 1 })).await;
    let all = s.ok(&a, q, json!({ "first": 250 })).await;
    let rows = all["qualificationDeadlines"]["edges"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let expected = tally(rows.iter().map(|e| &e["node"]), "status");
    let counts = &page["qualificationDeadlines"]["statusCounts"];
    let listed: BTreeMap<String, u64> = counts
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["count"].as_u64().unwrap() > 0)
        .map(|c| {
            (
                c["status"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, expected, "{page}");
    assert_eq!(
        counts.as_array().unwrap().len(),
        5,
        "every status listed: {counts}"
    );
    assert_eq!(expected.get("OVERDUE"), Some(&1));

    let iq = "query($first: Int, $codes: [String!]) { complianceIssues(asOf: \"2026-11-20\",
        first: $first, codes: $codes) { totalCount counts { code severity count }
        edges { node { code severity } } } }";
    let page = s.ok(&a, iq, json!({ "first": 1 })).await;
    let all = s.ok(&a, iq, json!({ "first": 250 })).await;
    let rows: Vec<&Value> = all["complianceIssues"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let expected = tally(rows.iter().copied(), "code");
    let counts: BTreeMap<String, u64> = page["complianceIssues"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, expected, "{page}");
    assert_eq!(
        page["complianceIssues"]["totalCount"].as_u64().unwrap(),
        expected.values().sum::<u64>()
    );
    // `codes` narrows the list and its counts alike.
    let only = s
        .ok(
            &a,
            iq,
            json!({ "first": 250, "codes": ["QUALIFICATION_OVERDUE", "NO_SENCO"] }),
        )
        .await;
    for e in only["complianceIssues"]["edges"].as_array().unwrap() {
        let code = e["node"]["code"].as_str().unwrap();
        assert!(
            code == "QUALIFICATION_OVERDUE" || code == "NO_SENCO",
            "{only}"
        );
    }
    let n: u64 = ["QUALIFICATION_OVERDUE", "NO_SENCO"]
        .iter()
        .map(|c| expected.get(*c).copied().unwrap_or(0))
        .sum();
    assert!(n >= 1);
    assert_eq!(only["complianceIssues"]["totalCount"].as_u64().unwrap(), n);
    s.stop().await;
}

#[tokio::test]
async fn only_bound_or_using_schools_are_checked_and_summarised() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // School 100004 is a special school in LA 203 that has recorded nothing.
    let issues = "{ complianceIssues(filter: { laCode: 203 }, asOf: \"2026-11-20\", first: 250) {
        edges { node { code school { urn } } } } }";
    let summary = "{ termlySummary(academicYear: 2025, term: SUMMER, filter: { laCode: 203 }) {
        schoolsInScope missingReports { urn } } }";
    let at = |d: &Value, urn: i64| {
        d["complianceIssues"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["school"]["urn"].as_i64() == Some(urn))
            .count()
    };
    let d = s.ok(&a, issues, json!({})).await;
    assert_eq!(
        at(&d, 100004),
        0,
        "an unbound school that uses nothing: {d}"
    );
    assert!(at(&d, 100003) > 0, "the mainstream school is checked: {d}");
    let sum = s.ok(&a, summary, json!({})).await;
    assert_eq!(sum["termlySummary"]["schoolsInScope"], 1, "{sum}");
    assert_eq!(
        sum["termlySummary"]["missingReports"],
        json!([{ "urn": 100003 }])
    );
    // Once it records a SENCO it has chosen to use the product, and is checked.
    appoint(&s, 100004, "2024-09-01", "1000004").await;
    let d = s.ok(&a, issues, json!({})).await;
    assert!(at(&d, 100004) > 0, "{d}");
    let sum = s.ok(&a, summary, json!({})).await;
    assert_eq!(sum["termlySummary"]["schoolsInScope"], 2, "{sum}");
    s.stop().await;
}

#[tokio::test]
async fn a_report_for_a_term_that_has_not_begun_is_refused_and_nothing_is_stored() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let school = token("school-100001", "school:100001:write");
    let submit = "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { id } }";
    let input = |year: i32, term: &str| {
        json!({ "i": {
            "schoolUrn": 100001, "academicYear": year, "term": term,
            "numberOnRoll": 100, "pupilsWithSend": 20, "senSupport": 15, "ehcp": 3,
            "ehcpApplicationsInProcess": 1, "budgetE1": "100", "budgetE2": "0",
            "budgetE3": "0", "budgetAdditional": "0", "expenditureToDate": "0",
            "nonContactHoursPerWeek": 5.0
        } })
    };
    let next_year = chrono_year() + 1;
    let (code, body) = s
        .err(Some(&school), submit, input(next_year, "SUMMER"))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.academicYear",
        "{body}"
    );
    assert!(body.to_string().contains("has not begun"), "{body}");
    let d = s
        .ok(
            &admin(),
            "{ school(urn: 100001) { termlyReports { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["school"]["termlyReports"],
        json!([]),
        "nothing stored: {d}"
    );
    // The summer term of the year before has begun and is accepted.
    s.ok(&school, submit, input(next_year - 2, "SUMMER")).await;
    s.stop().await;
}

fn chrono_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().date_naive().year()
}
