//! Errors that agree (issue 15): the same mistake gets the same answer from every field.
//! A missing school is `NOT_FOUND` whichever mutation names it; `first: 0` is an empty page
//! with its total; `after: ""` is the start; a negative amount is told it must be 0 or more.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const NO_SCHOOL: i32 = 999_999;

fn report_input(urn: i32, budget: &str) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": 2024, "term": "SUMMER",
        "numberOnRoll": 100, "pupilsWithSend": 20, "senSupport": 15, "ehcp": 3,
        "ehcpApplicationsInProcess": 1, "budgetE1": budget, "budgetE2": "0",
        "budgetE3": "0", "budgetAdditional": "0", "expenditureToDate": "0",
        "nonContactHoursPerWeek": 5.0
    })
}

#[tokio::test]
async fn an_unknown_school_is_not_found_from_every_mutation() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let person = s
        .ok(
            &a,
            "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { person { id } } }",
            json!({ "i": { "schoolUrn": 100001, "startedOn": "2024-09-01",
                "person": { "fullName": "Ann Shared", "hasQts": true, "inductionStatus": "COMPLETED" } } }),
        )
        .await["appointSenco"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        (
            "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
            json!({ "i": { "schoolUrn": NO_SCHOOL, "startedOn": "2024-09-01",
                "person": { "fullName": "A", "hasQts": true, "inductionStatus": "COMPLETED" } } }),
            "input.schoolUrn",
        ),
        (
            "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { id } }",
            json!({ "i": report_input(NO_SCHOOL, "100") }),
            "input.schoolUrn",
        ),
        (
            "mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }",
            json!({ "i": { "name": "C", "sencoPersonId": person, "memberUrns": [100001, NO_SCHOOL],
                "startedOn": "2024-09-01" } }),
            "input.memberUrns",
        ),
    ];
    for (query, vars, field) in cases {
        let (code, body) = s.err(Some(&a), query, vars).await;
        assert_eq!(code, "NOT_FOUND", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn first_0_is_an_empty_page_with_its_total_and_an_empty_after_is_the_start() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let d = s
        .ok(
            &a,
            "{ schools(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["schools"]["totalCount"], 4, "{d}");
    assert_eq!(d["schools"]["edges"], json!([]), "{d}");
    assert_eq!(d["schools"]["pageInfo"]["hasNextPage"], true, "{d}");
    let d = s
        .ok(
            &a,
            "{ qualificationDeadlines(first: 0) { totalCount edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["qualificationDeadlines"]["edges"], json!([]), "{d}");
    let from_start = s
        .ok(
            &a,
            "{ schools(first: 2) { edges { node { urn } } } }",
            json!({}),
        )
        .await;
    let empty_after = s
        .ok(
            &a,
            "{ schools(first: 2, after: \"\") { edges { node { urn } } pageInfo { hasPreviousPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        from_start["schools"]["edges"],
        empty_after["schools"]["edges"]
    );
    assert_eq!(empty_after["schools"]["pageInfo"]["hasPreviousPage"], false);
    let (code, body) = s
        .err(Some(&a), "{ schools(first: -1) { totalCount } }", json!({}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_negative_amount_is_told_it_must_be_0_or_more() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let school = token("school-100001", "school:100001:write");
    let (code, body) = s
        .err(
            Some(&school),
            "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { id } }",
            json!({ "i": report_input(100001, "-5") }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["field"], "input.budgetE1", "{body}");
    assert!(
        e["message"].as_str().unwrap().contains("must be 0 or more"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_malformed_date_names_the_input_field_it_was_sent_in() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let appoint = "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }";
    let person = json!({ "fullName": "A", "hasQts": true, "inductionStatus": "COMPLETED" });
    // In variables and inline, at the top of the input and inside a list of inputs.
    let (code, body) = s
        .err(
            Some(&a),
            appoint,
            json!({ "i": { "schoolUrn": 100001, "person": person, "startedOn": "2024-13-01" } }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.startedOn",
        "{body}"
    );
    let inline = "mutation { appointSenco(input: { schoolUrn: 100001, startedOn: \"31/12/2024\",
        person: { fullName: \"A\", hasQts: true, inductionStatus: COMPLETED } }) { id } }";
    let (_, body) = s.err(Some(&a), inline, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.startedOn",
        "{body}"
    );
    // An argument of its own.
    let (_, body) = s
        .err(
            Some(&a),
            "{ qualificationDeadlines(asOf: \"soon\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "asOf", "{body}");
    // Under an alias.
    let (_, body) = s
        .err(
            Some(&a),
            "{ d: qualificationDeadlines(asOf: \"2024-02-30\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "asOf", "{body}");
    s.stop().await;
}
