//! Reference data over GraphQL (SPEC 3, 4.1, 5): who may read which schools and LAs, every
//! `SchoolFilter` field, cursor paging, and the admin-only upserts with their validation.
//!
//! `common::small_world` gives LAs 202 and 203, trust 2044, and schools
//! 100001 (LA 202, primary), 100002 (LA 202, trust 2044, primary), 100003 (LA 203,
//! trust 2044, secondary) and 100004 (LA 203, special, NOT_APPLICABLE).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const ALL: [i64; 4] = [100001, 100002, 100003, 100004];

const LIST: &str = "query($f: SchoolFilter, $first: Int, $after: String) {
  schools(filter: $f, first: $first, after: $after) {
    totalCount
    edges { cursor node { urn } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

const UPSERT_LA: &str =
    "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code name } }";
const UPSERT_TRUST: &str = "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid name } }";
const UPSERT_SCHOOL: &str = "mutation($i: SchoolInput!) { upsertSchool(input: $i) {
  urn name localAuthority { code name } trust { uid name } phase kind isAcademy
  isRelevantSchool numberOnRoll predecessorUrn closedOn
} }";

fn urns_of(connection: &Value) -> Vec<i64> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {connection}"))
        .iter()
        .map(|e| e["node"]["urn"].as_i64().unwrap())
        .collect()
}

/// The URNs `token` lists with `filter` (one page of up to 100).
async fn list(s: &TestServer, token: &str, filter: Value) -> Vec<i64> {
    let data = s
        .ok(token, LIST, json!({ "f": filter, "first": 100 }))
        .await;
    let urns = urns_of(&data["schools"]);
    assert_eq!(
        data["schools"]["totalCount"].as_u64().unwrap() as usize,
        urns.len(),
        "totalCount disagrees with a single full page: {data}"
    );
    urns
}

/// The error code of a `schools` query with `filter` (expects an error).
async fn list_err(s: &TestServer, token: &str, filter: Value) -> (String, Value) {
    s.err(Some(token), LIST, json!({ "f": filter, "first": 100 }))
        .await
}

/// `school(urn)` as `token`: `Ok(Some(urn))`, `Ok(None)` or `Err(code)`.
async fn read_school(s: &TestServer, token: &str, urn: i64) -> Result<Option<i64>, String> {
    let (status, body) = s
        .post(
            Some(token),
            "query($u: Int!) { school(urn: $u) { urn name } }",
            json!({ "u": urn }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    match body["errors"].as_array() {
        Some(errors) => {
            assert!(
                body["data"]["school"].is_null(),
                "error and data together: {body}"
            );
            Err(errors[0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string())
        }
        None => Ok(body["data"]["school"]["urn"].as_i64()),
    }
}

async fn la_list(s: &TestServer, token: &str) -> Vec<i64> {
    let data = s
        .ok(token, "{ localAuthorities { code name } }", json!({}))
        .await;
    data["localAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_i64().unwrap())
        .collect()
}

fn school_input(urn: i64, la: i64, trust: Option<i64>) -> Value {
    json!({
        "urn": urn, "name": format!("School {urn}"), "laCode": la, "trustUid": trust,
        "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": trust.is_some(),
        "numberOnRoll": 100
    })
}

async fn add_school(s: &TestServer, urn: i64, la: i64, trust: Option<i64>) {
    s.ok(
        &admin(),
        UPSERT_SCHOOL,
        json!({ "i": school_input(urn, la, trust) }),
    )
    .await;
}

/// Asserts one `BAD_USER_INPUT` naming `field`.
fn assert_bad_input(body: &Value, field: &str) {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(errors[0]["extensions"]["field"], field, "{body}");
}

/// The admin's view of one school: its whole stored record.
async fn stored_school(s: &TestServer, urn: i64) -> Value {
    let data = s
        .ok(
            &admin(),
            "query($u: Int!) { school(urn: $u) { urn name localAuthority { code name } \
             trust { uid } phase kind isAcademy numberOnRoll predecessorUrn closedOn } }",
            json!({ "u": urn }),
        )
        .await;
    data["school"].clone()
}

async fn la_name(s: &TestServer, code: i64) -> Option<String> {
    let data = s
        .ok(&admin(), "{ localAuthorities { code name } }", json!({}))
        .await;
    data["localAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code)
        .map(|l| l["name"].as_str().unwrap().to_string())
}

// ---------------------------------------------------------------------------------------
// Scope enforcement
// ---------------------------------------------------------------------------------------

/// For each kind of token: the schools it lists, the single schools it may read (the rest
/// are `FORBIDDEN`), and the LAs it is shown.
#[tokio::test]
async fn each_role_reads_exactly_its_own_schools_and_las() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let cases: &[(&str, &[i64], &[i64])] = &[
        ("school:100001:read", &[100001], &[202]),
        ("school:100001:write", &[100001], &[202]),
        ("school:100004:read", &[100004], &[203]),
        ("la:202:read", &[100001, 100002], &[202]),
        ("la:202:write", &[100001, 100002], &[202]),
        ("la:203:read", &[100003, 100004], &[203]),
        ("trust:2044:read", &[100002, 100003], &[202, 203]),
        ("trust:2044:write", &[100002, 100003], &[202, 203]),
        ("admin", &ALL, &[202, 203]),
        // Scopes naming a school, LA or trust that does not exist read nothing.
        ("school:999999:read", &[], &[]),
        ("school:999999:write", &[], &[]),
        ("la:204:read", &[], &[]),
        ("trust:9999:write", &[], &[]),
        ("", &[], &[]),
        // Several scopes add up.
        (
            "school:100001:read school:100004:read",
            &[100001, 100004],
            &[202, 203],
        ),
        (
            "la:202:read trust:2044:read",
            &[100001, 100002, 100003],
            &[202, 203],
        ),
    ];
    for (scope, sees, las) in cases {
        let t = token("role", scope);
        assert_eq!(list(&s, &t, Value::Null).await, sees.to_vec(), "{scope}");
        for urn in ALL {
            let got = read_school(&s, &t, urn).await;
            if sees.contains(&urn) {
                assert_eq!(got, Ok(Some(urn)), "{scope} reading {urn}");
            } else {
                assert_eq!(got, Err("FORBIDDEN".into()), "{scope} reading {urn}");
            }
        }
        // A URN no school has is null, not an error, for any caller.
        assert_eq!(read_school(&s, &t, 123456).await, Ok(None), "{scope}");
        assert_eq!(la_list(&s, &t).await, las.to_vec(), "{scope}");
    }
    s.stop().await;
}

#[tokio::test]
async fn school_token_cannot_read_another_school() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = token("school-office", "school:100001:write");
    let (code, body) = s
        .err(Some(&t), "{ school(urn: 100002) { name } }", json!({}))
        .await;
    assert_eq!(code, "FORBIDDEN");
    assert!(
        !body.to_string().contains("School 100002"),
        "forbidden school's data leaked: {body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn la_token_sees_a_school_that_moves_into_its_la_at_once() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let la203 = token("greenwich", "la:203:read");
    let la202 = token("camden", "la:202:read");
    assert_eq!(
        read_school(&s, &la203, 100001).await,
        Err("FORBIDDEN".into())
    );
    add_school(&s, 100001, 203, None).await;
    // The same tokens, unchanged: scopes are expanded from the stored rows.
    assert_eq!(read_school(&s, &la203, 100001).await, Ok(Some(100001)));
    assert_eq!(
        list(&s, &la203, Value::Null).await,
        vec![100001, 100003, 100004]
    );
    assert_eq!(
        read_school(&s, &la202, 100001).await,
        Err("FORBIDDEN".into())
    );
    assert_eq!(list(&s, &la202, Value::Null).await, vec![100002]);
    s.stop().await;
}

#[tokio::test]
async fn trust_token_sees_a_school_that_joins_the_trust_at_once() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = token("trust-script", "trust:2044:read");
    assert_eq!(list(&s, &t, Value::Null).await, vec![100002, 100003]);
    add_school(&s, 100004, 203, Some(2044)).await;
    assert_eq!(
        list(&s, &t, Value::Null).await,
        vec![100002, 100003, 100004]
    );
    // And one that leaves is gone at once.
    add_school(&s, 100002, 202, None).await;
    assert_eq!(list(&s, &t, Value::Null).await, vec![100003, 100004]);
    assert_eq!(read_school(&s, &t, 100002).await, Err("FORBIDDEN".into()));
    s.stop().await;
}

#[tokio::test]
async fn la_scope_names_its_la_even_before_any_school_is_loaded() {
    let s = TestServer::start().await;
    small_world(&s).await;
    s.ok(
        &admin(),
        UPSERT_LA,
        json!({ "i": { "code": 204, "name": "Hackney" } }),
    )
    .await;
    let t = token("hackney", "la:204:read");
    assert_eq!(la_list(&s, &t).await, vec![204]);
    assert_eq!(list(&s, &t, Value::Null).await, Vec::<i64>::new());
    s.stop().await;
}

#[tokio::test]
async fn school_filter_within_the_callers_scope_works() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let la = token("camden", "la:202:read");
    assert_eq!(
        list(&s, &la, json!({ "laCode": 202 })).await,
        vec![100001, 100002]
    );
    let trust = token("trust", "trust:2044:read");
    assert_eq!(
        list(&s, &trust, json!({ "trustUid": 2044 })).await,
        vec![100002, 100003]
    );
    // Naming URNs never widens the list beyond what the caller may read.
    assert_eq!(
        list(&s, &la, json!({ "urns": [100001, 100003, 100004] })).await,
        vec![100001]
    );
    s.stop().await;
}

/// A filter naming an LA or trust the caller cannot read must not quietly mean "the part
/// of it you can see" (SPEC 3: reading another school's data is `FORBIDDEN`).
#[tokio::test]
async fn school_filter_naming_an_la_or_trust_the_caller_cannot_read_is_forbidden() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let la = token("camden", "la:202:read");
    let (code, body) = list_err(&s, &la, json!({ "laCode": 203 })).await;
    assert_eq!(code, "FORBIDDEN", "{body}");
    let (code, body) = list_err(&s, &la, json!({ "trustUid": 2044 })).await;
    assert_eq!(code, "FORBIDDEN", "{body}");
    let trust = token("trust", "trust:2044:read");
    let (code, body) = list_err(&s, &trust, json!({ "laCode": 203 })).await;
    assert_eq!(code, "FORBIDDEN", "{body}");
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Every SchoolFilter field
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn school_filter_by_la_code() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    assert_eq!(
        list(&s, &a, json!({ "laCode": 202 })).await,
        vec![100001, 100002]
    );
    assert_eq!(
        list(&s, &a, json!({ "laCode": 203 })).await,
        vec![100003, 100004]
    );
    assert_eq!(
        list(&s, &a, json!({ "laCode": 999 })).await,
        Vec::<i64>::new()
    );
    s.stop().await;
}

#[tokio::test]
async fn school_filter_by_trust_uid() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    assert_eq!(
        list(&s, &a, json!({ "trustUid": 2044 })).await,
        vec![100002, 100003]
    );
    assert_eq!(
        list(&s, &a, json!({ "trustUid": 1 })).await,
        Vec::<i64>::new()
    );
    s.stop().await;
}

#[tokio::test]
async fn school_filter_by_urns() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    assert_eq!(
        list(&s, &a, json!({ "urns": [100004, 100001, 123456] })).await,
        vec![100001, 100004]
    );
    let too_many: Vec<i64> = (100_000..101_001).collect();
    let (code, body) = list_err(&s, &a, json!({ "urns": too_many })).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_bad_input(&body, "filter.urns");
    s.stop().await;
}

#[tokio::test]
async fn school_filter_by_phases_and_kinds() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    assert_eq!(
        list(&s, &a, json!({ "phases": ["PRIMARY"] })).await,
        vec![100001, 100002]
    );
    assert_eq!(
        list(&s, &a, json!({ "phases": ["SECONDARY", "NOT_APPLICABLE"] })).await,
        vec![100003, 100004]
    );
    assert_eq!(
        list(&s, &a, json!({ "phases": ["NURSERY"] })).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        list(&s, &a, json!({ "kinds": ["SPECIAL"] })).await,
        vec![100004]
    );
    assert_eq!(
        list(&s, &a, json!({ "kinds": ["MAINSTREAM"] })).await,
        vec![100001, 100002, 100003]
    );
    // An unknown enum value is the client's error.
    let (code, _) = list_err(&s, &a, json!({ "kinds": ["CASTLE"] })).await;
    assert_eq!(code, "BAD_USER_INPUT");
    s.stop().await;
}

#[tokio::test]
async fn school_filter_by_name_ignores_case_and_treats_wildcards_as_text() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let mut odd = school_input(100005, 202, None);
    odd["name"] = json!("St Mary's 100% Club_A");
    s.ok(&a, UPSERT_SCHOOL, json!({ "i": odd })).await;

    assert_eq!(
        list(&s, &a, json!({ "nameContains": "SCHOOL 10000" })).await,
        ALL.to_vec()
    );
    assert_eq!(
        list(&s, &a, json!({ "nameContains": "00003" })).await,
        vec![100003]
    );
    assert_eq!(
        list(&s, &a, json!({ "nameContains": "mary's" })).await,
        vec![100005]
    );
    // `%` and `_` match themselves only.
    assert_eq!(
        list(&s, &a, json!({ "nameContains": "%" })).await,
        vec![100005]
    );
    assert_eq!(
        list(&s, &a, json!({ "nameContains": "_a" })).await,
        vec![100005]
    );
    assert_eq!(
        list(&s, &a, json!({ "nameContains": "1_0" })).await,
        Vec::<i64>::new()
    );
    // Blank text narrows nothing.
    assert_eq!(
        list(&s, &a, json!({ "nameContains": "   " })).await.len(),
        5
    );
    // Too long, or with control characters: the client's error, naming the field.
    let (_, body) = list_err(&s, &a, json!({ "nameContains": "x".repeat(201) })).await;
    assert_bad_input(&body, "filter.nameContains");
    let (_, body) = list_err(&s, &a, json!({ "nameContains": "a\u{7}b" })).await;
    assert_bad_input(&body, "filter.nameContains");
    s.stop().await;
}

#[tokio::test]
async fn school_filter_by_cluster_id() {
    use sea_orm::ConnectionTrait;

    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // A SENCO, appointed through the API, and a cluster of two schools with them as SENCO.
    let data = s
        .ok(
            &a,
            "mutation { appointSenco(input: { schoolUrn: 100001, startedOn: \"2024-09-01\", \
             person: { fullName: \"Pat Shared\", hasQts: true, inductionStatus: COMPLETED } }) \
             { person { id } } }",
            json!({}),
        )
        .await;
    let person: i64 = data["appointSenco"]["person"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let conn = &s.state.db.conn;
    conn.execute_unprepared(&format!(
        "INSERT INTO cluster (id, name, senco_person_id, started_on, review_interval_months) \
         VALUES (4242, 'North', {person}, '2024-09-01', 12)"
    ))
    .await
    .unwrap();
    conn.execute_unprepared(
        "INSERT INTO cluster_member (cluster_id, school_urn) VALUES (4242, 100001), (4242, 100002)",
    )
    .await
    .unwrap();

    assert_eq!(
        list(&s, &a, json!({ "clusterId": "4242" })).await,
        vec![100001, 100002]
    );
    // Still only what the caller may read.
    let one = token("school", "school:100002:read");
    assert_eq!(
        list(&s, &one, json!({ "clusterId": "4242" })).await,
        vec![100002]
    );
    assert_eq!(
        list(&s, &a, json!({ "clusterId": "4243" })).await,
        Vec::<i64>::new()
    );
    for bad in ["abc", "0", "-1", ""] {
        let (_, body) = list_err(&s, &a, json!({ "clusterId": bad })).await;
        assert_bad_input(&body, "filter.clusterId");
    }
    s.stop().await;
}

#[tokio::test]
async fn school_filter_fields_combine_with_and() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    assert_eq!(
        list(
            &s,
            &a,
            json!({ "laCode": 202, "trustUid": 2044, "phases": ["PRIMARY"] })
        )
        .await,
        vec![100002]
    );
    assert_eq!(
        list(
            &s,
            &a,
            json!({ "laCode": 203, "kinds": ["MAINSTREAM"], "nameContains": "school" })
        )
        .await,
        vec![100003]
    );
    assert_eq!(
        list(
            &s,
            &a,
            json!({ "urns": [100001, 100003], "trustUid": 2044 })
        )
        .await,
        vec![100003]
    );
    assert_eq!(
        list(&s, &a, json!({ "laCode": 202, "kinds": ["SPECIAL"] })).await,
        Vec::<i64>::new()
    );
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Paging
// ---------------------------------------------------------------------------------------

async fn page(s: &TestServer, token: &str, first: i64, after: Option<&str>) -> Value {
    let data = s
        .ok(
            token,
            LIST,
            json!({ "f": null, "first": first, "after": after }),
        )
        .await;
    data["schools"].clone()
}

#[tokio::test]
async fn cursor_paging_walks_every_school_once_in_urn_order() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let p1 = page(&s, &a, 3, None).await;
    assert_eq!(urns_of(&p1), vec![100001, 100002, 100003]);
    assert_eq!(p1["totalCount"], 4);
    assert_eq!(p1["pageInfo"]["hasNextPage"], true);
    assert_eq!(p1["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(p1["pageInfo"]["startCursor"], p1["edges"][0]["cursor"]);
    assert_eq!(p1["pageInfo"]["endCursor"], p1["edges"][2]["cursor"]);

    let end = p1["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let p2 = page(&s, &a, 3, Some(&end)).await;
    assert_eq!(urns_of(&p2), vec![100004]);
    assert_eq!(p2["totalCount"], 4, "totalCount counts every page");
    assert_eq!(p2["pageInfo"]["hasNextPage"], false);
    assert_eq!(p2["pageInfo"]["hasPreviousPage"], true);

    // After the last edge: an empty page.
    let last = p2["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let p3 = page(&s, &a, 3, Some(&last)).await;
    assert_eq!(urns_of(&p3), Vec::<i64>::new());
    assert_eq!(p3["pageInfo"]["hasNextPage"], false);
    assert_eq!(p3["pageInfo"]["startCursor"], Value::Null);
    assert_eq!(p3["pageInfo"]["endCursor"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn cursor_paging_is_stable_when_schools_are_inserted_between_pages() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let p1 = page(&s, &a, 2, None).await;
    assert_eq!(urns_of(&p1), vec![100001, 100002]);
    let cursor = p1["pageInfo"]["endCursor"].as_str().unwrap().to_string();

    // New schools before, between and after the pages already seen.
    add_school(&s, 100000, 202, None).await;
    add_school(&s, 100005, 203, None).await;
    add_school(&s, 100006, 203, None).await;

    let p2 = page(&s, &a, 2, Some(&cursor)).await;
    assert_eq!(
        urns_of(&p2),
        vec![100003, 100004],
        "the page after the cursor neither repeats nor skips"
    );
    assert_eq!(p2["totalCount"], 7);
    let cursor = p2["pageInfo"]["endCursor"].as_str().unwrap().to_string();
    let p3 = page(&s, &a, 2, Some(&cursor)).await;
    assert_eq!(urns_of(&p3), vec![100005, 100006]);
    assert_eq!(p3["pageInfo"]["hasNextPage"], false);

    // The first page's cursor still means the same place.
    let again = page(&s, &a, 2, Some(p1["edges"][0]["cursor"].as_str().unwrap())).await;
    assert_eq!(urns_of(&again), vec![100002, 100003]);
    s.stop().await;
}

#[tokio::test]
async fn cursor_paging_within_a_scope_pages_only_readable_schools() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = token("trust", "trust:2044:read");
    let p1 = page(&s, &t, 1, None).await;
    assert_eq!(urns_of(&p1), vec![100002]);
    assert_eq!(p1["totalCount"], 2);
    assert_eq!(p1["pageInfo"]["hasNextPage"], true);
    let p2 = page(&s, &t, 1, p1["pageInfo"]["endCursor"].as_str()).await;
    assert_eq!(urns_of(&p2), vec![100003]);
    assert_eq!(p2["pageInfo"]["hasNextPage"], false);
    s.stop().await;
}

#[tokio::test]
async fn first_defaults_to_50_and_accepts_up_to_250() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for urn in 110_001..=110_052 {
        add_school(&s, urn, 202, None).await;
    }
    let a = admin();
    let data = s
        .ok(
            &a,
            "{ schools { totalCount edges { node { urn } } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["schools"]["edges"].as_array().unwrap().len(), 50);
    assert_eq!(data["schools"]["totalCount"], 56);
    assert_eq!(data["schools"]["pageInfo"]["hasNextPage"], true);
    let data = s
        .ok(
            &a,
            "{ schools(first: 250) { edges { node { urn } } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(urns_of(&data["schools"]).len(), 56);
    assert_eq!(data["schools"]["pageInfo"]["hasNextPage"], false);
    s.stop().await;
}

#[tokio::test]
async fn first_above_250_or_below_zero_is_bad_user_input() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let q = "query($first: Int) { schools(first: $first) { totalCount } }";
    let data = s.ok(&a, q, json!({ "first": 250 })).await;
    assert_eq!(data["schools"]["totalCount"], 4);
    for first in [251, 1000, -1, -250] {
        let (code, body) = s.err(Some(&a), q, json!({ "first": first })).await;
        assert_eq!(code, "BAD_USER_INPUT", "first: {first}");
        assert_bad_input(&body, "first");
    }
    s.stop().await;
}

#[tokio::test]
async fn after_that_is_not_a_cursor_of_this_list_is_bad_user_input() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // (An empty cursor is the start of the list, see tests/errors_agree.rs.)
    for after in ["garbage!", "czp4", "eDoxMDAwMDE"] {
        let (code, body) = s.err(Some(&a), LIST, json!({ "after": after })).await;
        assert_eq!(code, "BAD_USER_INPUT", "after: {after}");
        assert_bad_input(&body, "after");
    }
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Upserts: admin only
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn reference_data_upserts_are_forbidden_to_every_scope_but_admin() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let before = stored_school(&s, 100001).await;
    for scope in [
        "la:202:write",
        "la:202:read",
        "trust:2044:write",
        "school:100001:write",
        "school:100001:read",
        "",
    ] {
        let t = token("not-admin", scope);
        let mut rename = school_input(100001, 202, None);
        rename["name"] = json!("Renamed");
        for (query, vars) in [
            (UPSERT_LA, json!({ "i": { "code": 950, "name": "New LA" } })),
            (
                UPSERT_LA,
                json!({ "i": { "code": 202, "name": "Renamed LA" } }),
            ),
            (
                UPSERT_TRUST,
                json!({ "i": { "uid": 7777, "name": "New Trust" } }),
            ),
            (
                UPSERT_SCHOOL,
                json!({ "i": school_input(100009, 202, None) }),
            ),
            (UPSERT_SCHOOL, json!({ "i": rename })),
        ] {
            let (code, body) = s.err(Some(&t), query, vars).await;
            assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
            assert!(body["data"].is_null(), "{body}");
        }
    }
    // Nothing was stored or changed.
    assert_eq!(stored_school(&s, 100001).await, before);
    assert_eq!(stored_school(&s, 100009).await, Value::Null);
    assert_eq!(la_name(&s, 202).await.as_deref(), Some("Camden"));
    assert_eq!(la_name(&s, 950).await, None);
    let mut uses_trust = school_input(100010, 202, Some(7777));
    uses_trust["name"] = json!("Probe");
    let (_, body) = s
        .err(Some(&admin()), UPSERT_SCHOOL, json!({ "i": uses_trust }))
        .await;
    assert_bad_input(&body, "input.trustUid");
    s.stop().await;
}

#[tokio::test]
async fn anonymous_reference_data_upsert_is_unauthenticated() {
    let s = TestServer::start().await;
    let (code, _) = s
        .err(
            None,
            UPSERT_LA,
            json!({ "i": { "code": 950, "name": "New LA" } }),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert_eq!(la_name(&s, 950).await, None);
    s.stop().await;
}

#[tokio::test]
async fn admin_upserts_create_then_update_reference_data() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // Rename an LA; names are trimmed.
    let data = s
        .ok(
            &a,
            UPSERT_LA,
            json!({ "i": { "code": 202, "name": "  London Borough of Camden  " } }),
        )
        .await;
    assert_eq!(
        data["upsertLocalAuthority"],
        json!({ "code": 202, "name": "London Borough of Camden" })
    );
    assert_eq!(
        stored_school(&s, 100001).await["localAuthority"]["name"],
        "London Borough of Camden"
    );
    // A new trust, and a school that joins it.
    let data = s
        .ok(
            &a,
            UPSERT_TRUST,
            json!({ "i": { "uid": 3100, "name": "Riverside Trust" } }),
        )
        .await;
    assert_eq!(
        data["upsertTrust"],
        json!({ "uid": 3100, "name": "Riverside Trust" })
    );
    let data = s
        .ok(
            &a,
            UPSERT_SCHOOL,
            json!({ "i": {
                "urn": 100005, "name": "Riverside Academy", "laCode": 203, "trustUid": 3100,
                "phase": "SECONDARY", "kind": "MAINSTREAM", "isAcademy": true,
                "numberOnRoll": 900, "predecessorUrn": 100004, "closedOn": null
            } }),
        )
        .await;
    assert_eq!(
        data["upsertSchool"],
        json!({
            "urn": 100005, "name": "Riverside Academy",
            "localAuthority": { "code": 203, "name": "Greenwich" },
            "trust": { "uid": 3100, "name": "Riverside Trust" },
            "phase": "SECONDARY", "kind": "MAINSTREAM", "isAcademy": true,
            "isRelevantSchool": true, "numberOnRoll": 900, "predecessorUrn": 100004,
            "closedOn": null
        })
    );
    // Replacing a school writes every field: omitted optional fields are cleared.
    let data = s
        .ok(
            &a,
            UPSERT_SCHOOL,
            json!({ "i": {
                "urn": 100005, "name": "Riverside Special", "laCode": 203,
                "phase": "NOT_APPLICABLE", "kind": "SPECIAL", "isAcademy": false,
                "closedOn": "2024-08-31"
            } }),
        )
        .await;
    let school = &data["upsertSchool"];
    assert_eq!(school["name"], "Riverside Special");
    assert_eq!(school["trust"], Value::Null);
    assert_eq!(school["numberOnRoll"], Value::Null);
    assert_eq!(school["predecessorUrn"], Value::Null);
    assert_eq!(school["isRelevantSchool"], false);
    assert_eq!(school["closedOn"], "2024-08-31");
    assert_eq!(stored_school(&s, 100005).await["name"], "Riverside Special");
    // Upserting the same record again changes nothing and still succeeds.
    let again = s
        .ok(
            &a,
            UPSERT_SCHOOL,
            json!({ "i": {
        "urn": 100005, "name": "Riverside Special", "laCode": 203,
        "phase": "NOT_APPLICABLE", "kind": "SPECIAL", "isAcademy": false,
        "closedOn": "2024-08-31"
    } }),
        )
        .await;
    assert_eq!(again["upsertSchool"], data["upsertSchool"]);
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Upserts: validation, nothing stored on failure
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn upsert_local_authority_validates_code_and_name_and_stores_nothing_on_failure() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    for (input, field) in [
        (json!({ "code": 99, "name": "Two digits" }), "input.code"),
        (json!({ "code": 1000, "name": "Four digits" }), "input.code"),
        (json!({ "code": -202, "name": "Negative" }), "input.code"),
        (json!({ "code": 0, "name": "Zero" }), "input.code"),
        (json!({ "code": 950, "name": "" }), "input.name"),
        (json!({ "code": 950, "name": "   " }), "input.name"),
        (json!({ "code": 950, "name": "Line\nbreak" }), "input.name"),
        (
            json!({ "code": 950, "name": "x".repeat(201) }),
            "input.name",
        ),
        // An existing LA keeps its name when the new one is blank.
        (json!({ "code": 202, "name": " \t " }), "input.name"),
    ] {
        let (code, body) = s.err(Some(&a), UPSERT_LA, json!({ "i": input })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{input}: {body}");
        assert_bad_input(&body, field);
    }
    let mut las = la_list(&s, &a).await;
    las.sort_unstable();
    assert_eq!(las, vec![202, 203], "a failed upsert stored an LA");
    assert_eq!(la_name(&s, 202).await.as_deref(), Some("Camden"));
    s.stop().await;
}

#[tokio::test]
async fn upsert_trust_validates_uid_and_name_and_stores_nothing_on_failure() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    for (input, field) in [
        (json!({ "uid": 0, "name": "Zero" }), "input.uid"),
        (json!({ "uid": -5, "name": "Negative" }), "input.uid"),
        (json!({ "uid": 3200, "name": "  " }), "input.name"),
        (json!({ "uid": 3200, "name": "" }), "input.name"),
    ] {
        let (code, body) = s.err(Some(&a), UPSERT_TRUST, json!({ "i": input })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{input}: {body}");
        assert_bad_input(&body, field);
    }
    // Trust 3200 does not exist: a school cannot join it.
    let (_, body) = s
        .err(
            Some(&a),
            UPSERT_SCHOOL,
            json!({ "i": school_input(100008, 202, Some(3200)) }),
        )
        .await;
    assert_bad_input(&body, "input.trustUid");
    s.stop().await;
}

#[tokio::test]
async fn upsert_school_validates_each_field_and_stores_nothing_on_failure() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let with = |key: &str, value: Value| {
        let mut i = school_input(100007, 202, None);
        i[key] = value;
        i
    };
    let cases = [
        (with("urn", json!(99_999)), "input.urn"),
        (with("urn", json!(1_000_000)), "input.urn"),
        (with("urn", json!(-100_007)), "input.urn"),
        (with("laCode", json!(99)), "input.laCode"),
        (with("laCode", json!(2020)), "input.laCode"),
        (with("laCode", json!(204)), "input.laCode"), // no such LA
        (with("name", json!("")), "input.name"),
        (with("name", json!("   ")), "input.name"),
        (with("trustUid", json!(0)), "input.trustUid"),
        (with("trustUid", json!(9999)), "input.trustUid"), // no such trust
        (with("numberOnRoll", json!(-1)), "input.numberOnRoll"),
        (with("predecessorUrn", json!(12)), "input.predecessorUrn"),
        (
            with("predecessorUrn", json!(100_007)),
            "input.predecessorUrn",
        ),
        (with("closedOn", json!("2999-01-01")), "input.closedOn"),
    ];
    for (input, field) in cases {
        let (code, body) = s
            .err(Some(&a), UPSERT_SCHOOL, json!({ "i": input.clone() }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{input}: {body}");
        assert_bad_input(&body, field);
    }
    assert_eq!(
        stored_school(&s, 100007).await,
        Value::Null,
        "a failed upsert stored the school"
    );
    assert_eq!(list(&s, &a, Value::Null).await, ALL.to_vec());
    s.stop().await;
}

#[tokio::test]
async fn failed_upsert_of_an_existing_school_leaves_it_unchanged() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let before = stored_school(&s, 100002).await;
    for (key, value, field) in [
        ("laCode", json!(204), "input.laCode"),
        ("trustUid", json!(9999), "input.trustUid"),
        ("name", json!(" "), "input.name"),
        ("predecessorUrn", json!(100002), "input.predecessorUrn"),
    ] {
        let mut input = school_input(100002, 203, Some(2044));
        input["name"] = json!("Moved and renamed");
        input[key] = value;
        let (_, body) = s.err(Some(&a), UPSERT_SCHOOL, json!({ "i": input })).await;
        assert_bad_input(&body, field);
    }
    assert_eq!(stored_school(&s, 100002).await, before);
    s.stop().await;
}
