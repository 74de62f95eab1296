//! The query cost model of SPEC 6, driven over HTTP: what the users of SPEC 1 really send
//! runs at the default limits with its cost on the response; what could return too much is
//! refused before it runs, with its cost, the limit and how to ask for less; the standard
//! introspection query runs at the default limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

/// A trust script at the documented page size: every scalar of a school, its appointments
/// with their people, qualifications and status, and its reports.
const TRUST_SCRIPT: &str = "query($after: String) {
  schools(first: 250, after: $after) {
    totalCount
    edges { cursor node {
      urn name phase kind isAcademy isRelevantSchool numberOnRoll predecessorUrn closedOn
      sencoAppointments {
        id startedOn endedOn isHeadteacher worksAsTeacherAtSchool onSeniorLeadershipTeam
        nonContactHoursPerWeek classTeachingFraction eligible eligibilityIssues
        person { id trn fullName email hasQts inductionStatus
          qualifications { id kind provider startedOn completedOn countsTowardDuty } }
        qualification { status deadline }
      }
      termlyReports { academicYear term version dueOn numberOnRoll pupilsWithSend overspent }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// An LA dashboard: deadlines with appointment, person, school and qualifying award.
const DASHBOARD: &str = "query($la: Int!) {
  qualificationDeadlines(filter: { laCode: $la }, first: 250) {
    totalCount
    edges { node {
      status deadline daysRemaining dutyApplies exemptionReason priorServiceDays
      appointment { id startedOn } person { fullName trn } school { urn name }
      qualifyingAward { kind completedOn }
    } }
  }
}";

fn requested(body: &Value) -> u64 {
    body["extensions"]["cost"]["requested"]
        .as_u64()
        .unwrap_or_else(|| panic!("no extensions.cost: {body}"))
}

#[tokio::test]
async fn what_trust_scripts_and_dashboards_send_runs_at_the_default_limits() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // 1 connection + 250 x (edge + node + 10 x (appointment + person + 10 qualifications
    // + status) + 10 reports) + pageInfo.
    let (status, body) = s.post(Some(&a), TRUST_SCRIPT, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(requested(&body), 1 + 250 * (2 + 10 * 13 + 10) + 1);
    assert_eq!(body["extensions"]["cost"]["limit"], 100_000);
    // 1 connection + 250 x (edge + node + appointment + person + school + award).
    let (_, body) = s.post(Some(&a), DASHBOARD, json!({ "la": 202 })).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(requested(&body), 1 + 250 * 6);
    // A 7-school trust asked 150 at a time.
    let (_, body) = s
        .post(
            Some(&a),
            "{ schools(filter: { trustUid: 2044 }, first: 150) { edges { node { urn name \
             sencoAppointments { person { fullName } qualification { status } } } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(requested(&body), 1 + 150 * (2 + 10 * 3));
    s.stop().await;
}

#[tokio::test]
async fn every_response_carries_its_cost_cached_or_not_and_mutations_too() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let q = "{ schools(first: 3) { edges { node { urn localAuthority { name } } } } }";
    for _ in 0..3 {
        let (_, body) = s.post(Some(&a), q, json!({})).await;
        assert_eq!(requested(&body), 1 + 3 * 3, "{body}");
    }
    let (_, body) = s.post(Some(&a), "{ viewer { sub } }", json!({})).await;
    assert_eq!(requested(&body), 1);
    let (_, body) = s
        .post(
            Some(&a),
            "mutation { upsertLocalAuthority(input: { code: 999, name: \"Test LA\" }) { code } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(requested(&body), 1);
    s.stop().await;
}

#[tokio::test]
async fn a_query_that_could_return_too_much_is_refused_before_it_runs() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let before = s.state.db.statements.get();
    // Lists inside lists inside a page of 250.
    let wide = "{ schools(first: 250) { edges { node { sencoAppointments { person { \
                appointments { school { sencoAppointments { person { fullName } } } } } } } } } }";
    let (status, body) = s.post(Some(&admin()), wide, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let cost = 1 + 250 * (2 + 10 * (2 + 10 * (2 + 10 * 2)));
    assert_eq!(
        e["extensions"]["cost"],
        json!({ "requested": cost, "limit": 100_000 }),
        "{body}"
    );
    assert!(
        body.get("data").is_none() || body["data"].is_null(),
        "{body}"
    );
    // Three trust-script pages under aliases are over the limit together.
    let inner = TRUST_SCRIPT
        .trim_start_matches("query($after: String) {")
        .trim_end_matches('}')
        .replace("after: $after", "");
    let three = format!("query {{ a: {inner} b: {inner} c: {inner} }}");
    let (_, body) = s.post(Some(&admin()), &three, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert!(requested(&body) > 100_000, "{body}");
    // Refused before running: no statement beyond the fixture's.
    assert_eq!(
        s.state.db.statements.get(),
        before,
        "a refused query ran SQL"
    );
    s.stop().await;
}

/// The introspection query GraphiQL, `gql` and code generators send: the whole schema,
/// with type references nested nine levels, deeper than `SENCO_MAX_DEPTH`.
const FULL_INTROSPECTION: &str = "
query IntrospectionQuery {
  __schema {
    description
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name
      ofType { kind name } } } } } } } } }
}";

#[tokio::test]
async fn the_standard_introspection_query_runs_at_the_default_limits() {
    let s = TestServer::start().await;
    let (status, body) = s.post(None, FULL_INTROSPECTION, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "School"), "{body}");
    assert_eq!(requested(&body), 0);
    s.stop().await;
    // Switched off, the same query is refused with FORBIDDEN.
    let off = TestServer::start_with(&[("SENCO_INTROSPECTION", "false")]).await;
    let (_, body) = off.post(None, FULL_INTROSPECTION, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    assert!(!body.to_string().contains("School"), "{body}");
    off.stop().await;
}
