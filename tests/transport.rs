//! GraphQL over HTTP and the limits around it (SPEC section 6): methods, media types,
//! body size, batching, depth and complexity, introspection, CORS, health,
//! metrics, the per-request time limit, slow clients, and what errors may say.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

async fn get_graphql(
    s: &TestServer,
    token: Option<&str>,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = s.client.get(s.url()).query(params);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn la_codes(s: &TestServer) -> Vec<i64> {
    let data = s
        .ok(&admin(), "{ localAuthorities { code } }", json!({}))
        .await;
    data["localAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_i64().unwrap())
        .collect()
}

fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

const UPSERT_LA: &str =
    "mutation { upsertLocalAuthority(input: { code: 901, name: \"Via GET\" }) { code } }";

// ---------------------------------------------------------------------------------------
// Methods, media types, bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn mutation_over_get_is_405_with_an_allow_header_and_runs_nothing() {
    let s = TestServer::start().await;
    let resp = get_graphql(&s, Some(&admin()), &[("query", UPSERT_LA)]).await;
    assert_eq!(resp.status().as_u16(), 405);
    let allow = header(&resp, "allow").unwrap_or_default();
    assert!(allow.contains("POST"), "Allow: {allow}");
    let body: Value = resp.json().await.unwrap();
    assert!(!first_code(&body).is_empty(), "{body}");

    // A document with a query and a mutation, selecting the mutation by name.
    let doc = format!(
        "query Q {{ viewer {{ sub }} }} {}",
        UPSERT_LA.replacen("mutation", "mutation M", 1)
    );
    let resp = get_graphql(
        &s,
        Some(&admin()),
        &[("query", doc.as_str()), ("operationName", "M")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 405);

    assert!(!la_codes(&s).await.contains(&901), "a GET mutation was run");
    s.stop().await;
}

#[tokio::test]
async fn query_over_get_is_answered() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = token("get-user", "la:202:read");
    let resp = get_graphql(&s, Some(&t), &[("query", "{ viewer { sub } }")]).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["sub"], "get-user", "{body}");

    // With variables and an operation name.
    let resp = get_graphql(
        &s,
        Some(&t),
        &[
            ("query", "query One($u: Int!) { school(urn: $u) { name } }"),
            ("variables", r#"{"u":100001}"#),
            ("operationName", "One"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["school"]["name"], "School 100001", "{body}");

    // A query document with a mutation in it, running the query, is still a query.
    let doc = format!(
        "query Q {{ viewer {{ sub }} }} {}",
        UPSERT_LA.replacen("mutation", "mutation M", 1)
    );
    let resp = get_graphql(
        &s,
        Some(&t),
        &[("query", doc.as_str()), ("operationName", "Q")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    s.stop().await;
}

#[tokio::test]
async fn get_without_a_query_is_400() {
    let s = TestServer::start().await;
    let resp = get_graphql(&s, None, &[]).await;
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    s.stop().await;
}

#[tokio::test]
async fn batched_json_array_is_400_and_runs_nothing() {
    let s = TestServer::start().await;
    let batch = json!([
        { "query": "mutation { upsertLocalAuthority(input: { code: 902, name: \"A\" }) { code } }" },
        { "query": "mutation { upsertLocalAuthority(input: { code: 903, name: \"B\" }) { code } }" }
    ]);
    let resp = s
        .client
        .post(s.url())
        .bearer_auth(admin())
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    let codes = la_codes(&s).await;
    assert!(!codes.contains(&902) && !codes.contains(&903), "{codes:?}");
    s.stop().await;
}

fn padded_body(total_bytes: usize) -> Vec<u8> {
    // A valid request whose query ends in a long comment.
    let head = r#"{"query":"{ viewer { sub } } #"#;
    let tail = r#""}"#;
    let pad = total_bytes - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
}

#[tokio::test]
async fn body_over_256_kib_is_413() {
    let s = TestServer::start().await;
    let body = padded_body(256 * 1024 + 1);
    let resp = s
        .client
        .post(s.url())
        .bearer_auth(admin())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);

    // Just under the limit is served, so the size is the reason.
    let body = padded_body(255 * 1024);
    let resp = s
        .client
        .post(s.url())
        .bearer_auth(admin())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["sub"], "admin-user", "{body}");
    s.stop().await;
}

#[tokio::test]
async fn non_json_content_type_is_415() {
    let s = TestServer::start().await;
    let body = json!({ "query": "{ viewer { sub } }" }).to_string();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/graphql"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut req = s.client.post(s.url()).body(body.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 415, "content-type {ct:?}");
    }
    // `application/json` with a charset parameter is JSON.
    let resp = s
        .client
        .post(s.url())
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    s.stop().await;
}

#[tokio::test]
async fn malformed_json_body_is_400() {
    let s = TestServer::start().await;
    for body in [
        "{\"query\": ",
        "not json",
        "{\"query\": 42}",
        "\"just a string\"",
    ] {
        let resp = s
            .client
            .post(s.url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{body}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(first_code(&v), "BAD_USER_INPUT", "{body}: {v}");
    }
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Query limits
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn query_deeper_than_senco_max_depth_is_refused() {
    let s = TestServer::start_with(&[("SENCO_MAX_DEPTH", "3")]).await;
    small_world(&s).await;
    let a = admin();
    // Depth 3: allowed.
    s.ok(&a, "{ schools { pageInfo { hasNextPage } } }", json!({}))
        .await;
    // Depth 4 and more: refused before anything runs.
    for deep in [
        "{ schools { edges { node { urn } } } }",
        "{ schools { edges { node { localAuthority { name } } } } }",
    ] {
        let (status, body) = s.post(Some(&a), deep, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"].is_null(), "a too-deep query ran: {body}");
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
        let msg = body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert!(msg.contains("deep") || msg.contains("depth"), "{body}");
    }
    // The same query is fine on a server with the default limit.
    let d = TestServer::start().await;
    d.ok(
        &admin(),
        "{ schools { edges { node { urn } } } }",
        json!({}),
    )
    .await;
    d.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn query_costlier_than_senco_max_complexity_is_refused_with_its_cost() {
    let s = TestServer::start_with(&[("SENCO_MAX_COMPLEXITY", "100")]).await;
    small_world(&s).await;
    let a = admin();
    let data = s
        .ok(
            &a,
            "{ schools(first: 10) { edges { node { urn } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["schools"]["edges"].as_array().unwrap().len(), 4);
    // 1 connection + 100 x (edge + node) = 201 objects, over 100.
    let (status, body) = s
        .post(
            Some(&a),
            "{ schools(first: 100) { edges { node { urn name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("data").is_none() || body["data"].is_null(),
        "{body}"
    );
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    let e = &body["errors"][0];
    assert_eq!(
        e["extensions"]["cost"],
        json!({ "requested": 201, "limit": 100 }),
        "{body}"
    );
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("201") && msg.contains("100") && msg.contains("first"),
        "{msg}"
    );
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Response media type
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn graphql_response_json_accept_is_honoured() {
    let s = TestServer::start().await;
    let post = |accept: &'static str, query: &'static str| {
        s.client
            .post(s.url())
            .header("accept", accept)
            .bearer_auth(token("u", "school:100001:read"))
            .json(&json!({ "query": query }))
            .send()
    };
    // A successful request.
    let resp = post(GRAPHQL_RESPONSE, "{ viewer { sub } }").await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = header(&resp, "content-type").unwrap();
    assert!(ct.starts_with(GRAPHQL_RESPONSE), "{ct}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["sub"], "u");

    // A request that cannot be parsed: 4xx under the new media type ...
    let resp = post(GRAPHQL_RESPONSE, "{ viewer { sub }").await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(
        header(&resp, "content-type")
            .unwrap()
            .starts_with(GRAPHQL_RESPONSE)
    );
    // ... and 200 under application/json, as the specification says for legacy clients.
    let resp = post("application/json", "{ viewer { sub }").await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        header(&resp, "content-type")
            .unwrap()
            .starts_with("application/json")
    );

    // A field error with partial data stays 200 under the new media type.
    let resp = post(
        GRAPHQL_RESPONSE,
        "{ viewer { sub } schools(first: 251) { totalCount } }",
    )
    .await
    .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(status, 200, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn refused_token_answer_honours_the_accept_header_too() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .post(s.url())
        .header("accept", GRAPHQL_RESPONSE)
        .bearer_auth("not.a.token")
        .json(&json!({ "query": "{ viewer { sub } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        header(&resp, "content-type")
            .unwrap()
            .starts_with(GRAPHQL_RESPONSE)
    );
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Other endpoints
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn health_is_200_while_the_database_answers() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    s.stop().await;
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let s = TestServer::start().await;
    s.ok(&admin(), "{ viewer { sub } }", json!({})).await;
    let resp = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = header(&resp, "content-type").unwrap();
    assert!(ct.starts_with("text/plain"), "{ct}");
    let text = resp.text().await.unwrap();
    assert!(text.contains("# TYPE"), "{text}");
    assert!(text.contains("senco_graphql_requests_total"), "{text}");
    // Every sample line is `name{labels} value` or `name value`.
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let value = line.rsplit(' ').next().unwrap();
        assert!(
            value.parse::<f64>().is_ok() || value == "+Inf" || value == "NaN",
            "not a Prometheus sample: {line}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_outcome_with_latency_and_pool_use() {
    let s = TestServer::start().await;
    // Names taken from the documents: no request sends `operationName`.
    s.ok(
        &admin(),
        "query MetricsProbeOk { schools { totalCount } }",
        json!({}),
    )
    .await;
    let (code, _) = s
        .err(
            Some(&admin()),
            "query MetricsProbeRefused { schools(first: 1000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |needles: &[&str]| {
        text.lines()
            .any(|l| !l.starts_with('#') && needles.iter().all(|n| l.contains(n)))
    };
    assert!(
        has(&[
            "senco_graphql_requests_total{",
            "operation=\"MetricsProbeOk\"",
            "outcome=\"ok\"",
            "status=\"200\""
        ]),
        "{text}"
    );
    assert!(
        has(&[
            "senco_graphql_requests_total{",
            "operation=\"MetricsProbeRefused\"",
            "outcome=\"BAD_USER_INPUT\""
        ]),
        "{text}"
    );
    assert!(
        has(&[
            "senco_graphql_request_duration_seconds_bucket{",
            "operation=\"MetricsProbeOk\""
        ]),
        "{text}"
    );
    for gauge in [
        "senco_db_pool_max_connections ",
        "senco_db_pool_connections{state=\"idle\"}",
        "senco_db_pool_connections{state=\"in_use\"}",
        "senco_sql_statements_total ",
    ] {
        assert!(has(&[gauge]), "no {gauge} in {text}");
    }
    s.stop().await;
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let s = TestServer::start().await;
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::POST, "/graphql/extra"),
        (Method::GET, "/admin"),
    ] {
        let resp = s
            .client
            .request(method.clone(), format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{method} {path}");
        let ct = header(&resp, "content-type").unwrap();
        assert!(ct.starts_with("application/json"), "{ct}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(first_code(&body), "NOT_FOUND", "{body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn introspection_is_answered_by_default() {
    let s = TestServer::start().await;
    let data = s
        .ok(
            &admin(),
            "{ __schema { queryType { name } } __type(name: \"School\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert_eq!(data["__type"]["name"], "School");
    // Anonymous callers may introspect too (SPEC section 3).
    let (status, body) = s
        .post(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
    s.stop().await;
}

/// Switched off, introspection is refused with `FORBIDDEN` (SPEC 6), not a silent null,
/// and nothing of the schema comes back.
#[tokio::test]
async fn introspection_is_refused_when_senco_introspection_is_false() {
    let s = TestServer::start_with(&[("SENCO_INTROSPECTION", "false")]).await;
    for (query, field) in [
        (
            "{ __schema { queryType { name } types { name } } }",
            "__schema",
        ),
        (
            "{ __type(name: \"School\") { name fields { name } } }",
            "__type",
        ),
    ] {
        let (status, body) = s.post(Some(&admin()), query, json!({})).await;
        assert_eq!(status, 200, "{body}");
        let text = body.to_string();
        assert!(
            body["data"][field].is_null(),
            "introspection answered: {body}"
        );
        assert_eq!(first_code(&body), "FORBIDDEN", "{body}");
        assert!(text.contains("introspection is disabled"), "{body}");
        for leak in ["\"Query\"", "\"School\"", "localAuthority", "urn"] {
            assert!(!text.contains(leak), "introspection leaked {leak}: {body}");
        }
    }
    // Ordinary queries still run.
    s.ok(&admin(), "{ viewer { sub } }", json!({})).await;
    s.stop().await;
}

#[tokio::test]
async fn field_suggestions_are_off_when_introspection_is_off() {
    let misspelt = "{ schoolz { totalCount } }";
    let on = TestServer::start().await;
    let (_, body) = on.post(Some(&admin()), misspelt, json!({})).await;
    let with_suggestions = body.to_string();
    on.stop().await;
    assert!(
        with_suggestions.contains("\\\"schools\\\"") || with_suggestions.contains("schools"),
        "expected a suggestion with introspection on: {with_suggestions}"
    );

    let off = TestServer::start_with(&[("SENCO_INTROSPECTION", "false")]).await;
    let (_, body) = off.post(Some(&admin()), misspelt, json!({})).await;
    assert!(body["errors"].is_array(), "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("schools") && !text.to_lowercase().contains("did you mean"),
        "suggestion leaked the schema: {text}"
    );
    off.stop().await;
}

// ---------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------

async fn preflight(s: &TestServer, origin: &str) -> reqwest::Response {
    s.client
        .request(Method::OPTIONS, s.url())
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_preflight_from_an_allowed_origin_is_allowed_and_others_are_not() {
    let s = TestServer::start_with(&[(
        "SENCO_CORS_ORIGINS",
        "https://dash.camden.example, https://send.greenwich.example",
    )])
    .await;
    for origin in [
        "https://dash.camden.example",
        "https://send.greenwich.example",
    ] {
        let resp = preflight(&s, origin).await;
        assert!(resp.status().is_success(), "{}", resp.status());
        assert_eq!(
            header(&resp, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        let methods = header(&resp, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains("POST"), "{methods}");
        let headers = header(&resp, "access-control-allow-headers")
            .unwrap_or_default()
            .to_lowercase();
        assert!(headers.contains("authorization"), "{headers}");
    }
    for origin in [
        "https://evil.example",
        "https://dash.camden.example.evil.example",
        "http://dash.camden.example",
        "null",
    ] {
        let resp = preflight(&s, origin).await;
        assert_eq!(
            header(&resp, "access-control-allow-origin"),
            None,
            "{origin} was allowed"
        );
    }
    // The actual request from an allowed origin carries the header too; others do not.
    let resp = s
        .client
        .post(s.url())
        .header("origin", "https://dash.camden.example")
        .json(&json!({ "query": "{ viewer { sub } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        header(&resp, "access-control-allow-origin").as_deref(),
        Some("https://dash.camden.example")
    );
    let resp = s
        .client
        .post(s.url())
        .header("origin", "https://evil.example")
        .json(&json!({ "query": "{ viewer { sub } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
    s.stop().await;
}

#[tokio::test]
async fn no_cors_origin_is_allowed_unless_configured() {
    let s = TestServer::start().await;
    let resp = preflight(&s, "https://dash.camden.example").await;
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Time limits and slow clients
// ---------------------------------------------------------------------------------------

/// A request that cannot finish within `SENCO_REQUEST_TIMEOUT_MS` is stopped with an error
/// and keeps nothing. Deterministic: the test holds the write lock the mutation needs (the
/// server's SQLite write gate; on PostgreSQL, an uncommitted row with the same key) until
/// the answer has arrived, so the request cannot complete in time however fast the machine.
#[tokio::test]
async fn request_exceeding_the_time_limit_is_stopped_and_keeps_nothing() {
    use sea_orm::{ConnectionTrait, TransactionTrait};

    let s = TestServer::start_with(&[("SENCO_REQUEST_TIMEOUT_MS", "1500")]).await;
    // An ordinary request completes within the limit.
    s.ok(&admin(), "{ viewer { sub } }", json!({})).await;

    let gate = s.state.db.write_gate().await;
    let holder = if s.db.is_postgres() {
        let conn = sea_orm::Database::connect(&s.db.url).await.unwrap();
        let txn = conn.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO local_authority (code, name) VALUES (904, 'Held')")
            .await
            .unwrap();
        Some((conn, txn))
    } else {
        None
    };
    let (status, body) = s
        .post(
            Some(&admin()),
            "mutation { upsertLocalAuthority(input: { code: 904, name: \"Slow\" }) { code } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(first_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    assert!(body["data"].is_null(), "{body}");
    drop(gate);
    if let Some((conn, txn)) = holder {
        txn.rollback().await.unwrap();
        conn.close().await.unwrap();
    }

    assert!(
        !la_codes(&s).await.contains(&904),
        "a stopped request kept its write"
    );
    // The server has recovered: the same write now succeeds.
    let data = s
        .ok(
            &admin(),
            "mutation { upsertLocalAuthority(input: { code: 904, name: \"Now\" }) { code name } }",
            json!({}),
        )
        .await;
    assert_eq!(data["upsertLocalAuthority"]["name"], "Now");
    s.stop().await;
}

#[tokio::test]
async fn slow_clients_holding_half_sent_requests_do_not_stop_others_being_served() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let mut held = Vec::new();
    for i in 0..32 {
        let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
        // Half a request head, never finished.
        let partial = if i % 2 == 0 {
            "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Ty".to_string()
        } else {
            // A complete head promising a body that never comes.
            "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: 10000\r\n\r\n{\"query\":"
                .to_string()
        };
        c.write_all(partial.as_bytes()).await.unwrap();
        c.flush().await.unwrap();
        held.push(c);
    }
    // While all of them are open, other clients are served.
    let t = token("la-user", "la:202:read");
    let data = s.ok(&t, "{ schools { totalCount } }", json!({})).await;
    assert_eq!(data["schools"]["totalCount"], 2);
    let resp = s
        .client
        .get(format!("{}/health", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    drop(held);
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// What errors may say
// ---------------------------------------------------------------------------------------

const SQL_WORDS: &[&str] = &[
    "select ",
    "insert into",
    "update ",
    "delete from",
    "unique constraint",
    "duplicate key",
    "violates",
    "sqlstate",
    "sqlite",
    "postgres",
    "sqlx",
    "sea_orm",
    "foreign key constraint",
    "syntax error at",
    ".rs:",
];

fn assert_no_sql(text: &str) {
    let lower = text.to_lowercase();
    for w in SQL_WORDS {
        assert!(!lower.contains(w), "response contains `{w}`: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_of_one_key_give_success_or_conflict_never_sql_text() {
    let s = TestServer::start().await;
    let a = admin();
    s.ok(
        &a,
        "mutation { upsertLocalAuthority(input: { code: 202, name: \"Camden\" }) { code } }",
        json!({}),
    )
    .await;
    let requests = (0..16).map(|i| {
        let s = &s;
        let a = &a;
        async move {
            let la = s
                .post(
                    Some(a),
                    "mutation($n: String!) { upsertLocalAuthority(input: { code: 905, name: $n }) { code } }",
                    json!({ "n": format!("Race {i}") }),
                )
                .await;
            let school = s
                .post(
                    Some(a),
                    "mutation($n: String!) { upsertSchool(input: { urn: 199999, name: $n, laCode: 202, \
                     phase: PRIMARY, kind: MAINSTREAM, isAcademy: false }) { urn } }",
                    json!({ "n": format!("Race {i}") }),
                )
                .await;
            [la, school]
        }
    });
    let results = futures::future::join_all(requests).await;
    for (status, body) in results.into_iter().flatten() {
        assert_eq!(status, 200, "{body}");
        assert_no_sql(&body.to_string());
        if let Some(errors) = body["errors"].as_array() {
            for e in errors {
                assert_eq!(e["extensions"]["code"], "CONFLICT", "{body}");
            }
        }
    }
    // Exactly one of each was stored.
    assert!(la_codes(&s).await.contains(&905));
    let data = s
        .ok(
            &a,
            "{ schools(filter: { urns: [199999] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["schools"]["totalCount"], 1);
    s.stop().await;
}

/// A writer that inserts the same key between the server's look-up and its insert. On
/// PostgreSQL the race is made certain: the test's uncommitted row holds the key, the test
/// waits until the server's insert is seen waiting on it, then commits, so the server's
/// insert meets a unique violation, which must reach the client as `CONFLICT` and nothing
/// more. SQLite serialises writers, so there the late upsert simply updates the row.
#[tokio::test]
async fn unique_violation_from_a_concurrent_writer_is_conflict_without_sql_text() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

    let s = TestServer::start().await;
    let conn = sea_orm::Database::connect(&s.db.url).await.unwrap();
    let request = {
        let client = s.client.clone();
        let url = s.url();
        let admin = admin();
        move || async move {
            let resp = client
                .post(url)
                .bearer_auth(admin)
                .json(&json!({ "query": "mutation { upsertLocalAuthority(input: { code: 906, name: \"Second\" }) { code name } }" }))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    if s.db.is_postgres() {
        let txn = conn.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO local_authority (code, name) VALUES (906, 'First')")
            .await
            .unwrap();
        let pending = tokio::spawn(request());
        // Wait (by observation, not by the clock) until a backend waits on our row lock.
        let watch = Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        let mut seen = false;
        for _ in 0..100_000 {
            let row = conn.query_one_raw(watch.clone()).await.unwrap().unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                seen = true;
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(seen, "the server's insert never waited on the held key");
        txn.commit().await.unwrap();
        let (status, text) = pending.await.unwrap();
        assert_eq!(status, 200, "{text}");
        assert_no_sql(&text);
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(first_code(&body), "CONFLICT", "{body}");
        assert!(body["data"].is_null(), "{body}");
    } else {
        let gate = s.state.db.write_gate().await;
        let pending = tokio::spawn(request());
        conn.execute_unprepared("INSERT INTO local_authority (code, name) VALUES (906, 'First')")
            .await
            .unwrap();
        drop(gate);
        let (status, text) = pending.await.unwrap();
        assert_eq!(status, 200, "{text}");
        assert_no_sql(&text);
        let body: Value = serde_json::from_str(&text).unwrap();
        match body["errors"].as_array() {
            None => assert_eq!(body["data"]["upsertLocalAuthority"]["name"], "Second"),
            Some(_) => assert_eq!(first_code(&body), "CONFLICT", "{body}"),
        }
    }
    conn.close().await.unwrap();
    assert!(la_codes(&s).await.contains(&906));
    s.stop().await;
}

#[tokio::test]
async fn errors_from_hostile_input_never_show_sql_text() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // Reference to rows that do not exist: a field error, not a database message.
    let (code, body) = s
        .err(
            Some(&a),
            "mutation { upsertSchool(input: { urn: 188888, name: \"X\", laCode: 777, trustUid: 77777, \
             phase: PRIMARY, kind: MAINSTREAM, isAcademy: true }) { urn } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_no_sql(&body.to_string());
    // Quotes and wildcards in a filter are data, not SQL.
    for text in ["'; DROP TABLE school; --", "\" OR 1=1 --", "%", "_", "\\"] {
        let (status, body) = s
            .post(
                Some(&a),
                "query($t: String!) { schools(filter: { nameContains: $t }) { totalCount } }",
                json!({ "t": text }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{text}: {body}");
        assert_eq!(body["data"]["schools"]["totalCount"], 0, "{text}: {body}");
    }
    let data = s.ok(&a, "{ schools { totalCount } }", json!({})).await;
    assert_eq!(data["schools"]["totalCount"], 4, "schools were harmed");
    // A cursor that is not one this list gave.
    let (code, body) = s
        .err(
            Some(&a),
            "{ schools(after: \"J09SIDE9MQ\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_no_sql(&body.to_string());
    s.stop().await;
}

#[tokio::test]
async fn every_error_carries_an_extensions_code() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = token("u", "school:100001:read");
    for query in [
        "{ nope }",
        "{ viewer { sub }",
        "{ school(urn: \"x\") { name } }",
        "{ school(urn: 100002) { name } }",
        "{ schools(first: 1000) { totalCount } }",
        "query($u: Int!) { school(urn: $u) { name } }",
        "mutation { upsertTrust(input: { uid: 1, name: \"T\" }) { uid } }",
    ] {
        let (_, body) = s.post(Some(&t), query, json!({})).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{query}: {body}"));
        for e in errors {
            let code = e["extensions"]["code"].as_str().unwrap_or_default();
            assert!(
                [
                    "UNAUTHENTICATED",
                    "FORBIDDEN",
                    "NOT_FOUND",
                    "BAD_USER_INPUT",
                    "CONFLICT",
                    "INTERNAL_SERVER_ERROR"
                ]
                .contains(&code),
                "{query}: {body}"
            );
        }
        assert_no_sql(&body.to_string());
    }
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// The response cache
// ---------------------------------------------------------------------------------------

/// A query repeated before anything changed is answered from the response cache (one
/// statement: the change marker), only ever to the same token, and never after a change:
/// every write, through any mutation, is seen by the next read.
#[tokio::test]
async fn repeated_queries_are_answered_from_the_cache_until_anything_changes() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let q = "query($la: Int) { schools(filter: { laCode: $la }) { totalCount edges { node { urn name } } } }";
    let la202 = token("la-user", "la:202:read");
    let names = |d: &Value| -> Vec<(i64, String)> {
        d["schools"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["node"]["urn"].as_i64().unwrap(),
                    e["node"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let run = |t: String, vars: Value| {
        let s = &s;
        async move {
            let before = s.state.db.statements.get();
            let data = s.ok(&t, q, vars).await;
            let after = s.state.db.statements.get();
            (data, after - before)
        }
    };

    let (first, computed) = run(la202.clone(), json!({ "la": 202 })).await;
    assert_eq!(
        names(&first),
        vec![
            (100001, "School 100001".into()),
            (100002, "School 100002".into())
        ]
    );
    // An answer is kept the second time its question is asked (a question asked once is not
    // worth keeping); from then on a repeat reads only the change counters.
    let (again, twice) = run(la202.clone(), json!({ "la": 202 })).await;
    assert_eq!(again, first);
    assert!(
        twice > 1,
        "the second asking is computed and kept ({twice})"
    );
    let (third, cached) = run(la202.clone(), json!({ "la": 202 })).await;
    assert_eq!(third, first);
    assert_eq!(
        cached, 1,
        "a repeat reads only the change counters ({computed} computed)"
    );

    // Another token asking the same thing gets its own answer, never the cached one.
    let school = token("school-user", "school:100002:read");
    let (theirs, _) = run(school.clone(), json!({})).await;
    assert_eq!(names(&theirs), vec![(100002, "School 100002".into())]);
    let (code, _) = s.err(Some(&school), q, json!({ "la": 202 })).await;
    assert_eq!(code, "FORBIDDEN");
    // Other variables are another question.
    let (other, _) = run(admin(), json!({ "la": 203 })).await;
    assert_eq!(names(&other)[0].0, 100003);

    // A change is seen at once.
    s.ok(
        &admin(),
        "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
        json!({ "i": { "urn": 100001, "name": "Renamed Primary", "laCode": 202,
                       "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": false,
                       "numberOnRoll": 180 } }),
    )
    .await;
    let (after, recomputed) = run(la202.clone(), json!({ "la": 202 })).await;
    assert_eq!(names(&after)[0], (100001, "Renamed Primary".into()));
    assert!(recomputed > 1, "the change forced a fresh answer");

    // Answers with errors are not kept: the same failing query runs again each time.
    let bad = "{ school(urn: 100003) { urn name } }";
    for _ in 0..2 {
        let before = s.state.db.statements.get();
        let (code, _) = s.err(Some(&la202), bad, json!({})).await;
        assert_eq!(code, "FORBIDDEN");
        assert!(s.state.db.statements.get() - before > 1);
    }
    s.stop().await;
}
