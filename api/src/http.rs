//! The HTTP surface: GraphQL over HTTP, GraphiQL, `/health` and `/metrics` (SPEC section 6).
//!
//! The GraphQL endpoint is written here rather than taken from async-graphql-axum, whose
//! stock handler runs mutations sent by GET and accepts batched arrays: this one accepts one
//! operation per request, refuses a mutation over GET with 405, and answers a bad token
//! with 401 before anything runs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{ErrorExtensionValues, ServerError, Value};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Principal;
use crate::graphql::RequestContext;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// GraphiQL, when enabled.
pub async fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .title("SENCO Oversight")
            .finish(),
    )
}

/// `GET /health`: 200 while the database answers, 503 otherwise.
pub async fn health(State(state): State<AppState>) -> Response {
    let up = tokio::time::timeout(Duration::from_secs(2), state.db.ping())
        .await
        .unwrap_or(false);
    metrics::gauge!("senco_database_up").set(if up { 1.0 } else { 0.0 });
    let body = if up {
        r#"{"status":"ok","database":"up"}"#
    } else {
        r#"{"status":"unavailable","database":"down"}"#
    };
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    metrics::counter!("senco_sql_statements_total").absolute(state.db.statements.get());
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// The query-string form of a GraphQL request.
#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE))
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    })
    .to_string()
}

fn plain_error(status: StatusCode, headers: &HeaderMap, code: &str, message: &str) -> Response {
    let ct = if wants_graphql_response(headers) {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    (
        status,
        [(header::CONTENT_TYPE, ct)],
        error_body(code, message),
    )
        .into_response()
}

fn unauthorized(headers: &HeaderMap) -> Response {
    let mut r = plain_error(
        StatusCode::UNAUTHORIZED,
        headers,
        "UNAUTHENTICATED",
        "the bearer token is not valid",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer error="invalid_token""#),
    );
    r
}

/// Resolves the caller from the `Authorization` header: anonymous when absent, `None` when
/// present but not a valid bearer token (the caller answers 401).
fn principal(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Some(Principal::anonymous());
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty());
    let token = token?;
    state
        .verifier
        .verify(token)
        .map_err(|e| {
            tracing::debug!(reason = %e, "refused a token");
            metrics::counter!("senco_rejected_tokens_total").increment(1);
        })
        .ok()
}

/// `GET /graphql`: queries only.
pub async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let Some(query) = params.query else {
        return plain_error(
            StatusCode::BAD_REQUEST,
            &headers,
            "BAD_USER_INPUT",
            "a GET request needs a `query` parameter",
        );
    };
    if is_mutation(&query, params.operation_name.as_deref()) {
        let mut r = plain_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &headers,
            "BAD_USER_INPUT",
            "mutations must be sent with POST",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    for (raw, is_vars) in [(params.variables, true), (params.extensions, false)] {
        let Some(raw) = raw else { continue };
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(v @ serde_json::Value::Object(_)) if is_vars => {
                request = request.variables(async_graphql::Variables::from_json(v));
            }
            Ok(serde_json::Value::Object(_) | serde_json::Value::Null) if !is_vars => {}
            Ok(serde_json::Value::Null) => {}
            _ => {
                return plain_error(
                    StatusCode::BAD_REQUEST,
                    &headers,
                    "BAD_USER_INPUT",
                    "`variables` and `extensions` must be JSON objects",
                );
            }
        }
    }
    execute(state, headers, request).await
}

/// `POST /graphql`: one operation as a JSON object; batches are refused.
pub async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| t == "application/json" || t == "application/graphql+json");
    if !json_type {
        return plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &headers,
            "BAD_USER_INPUT",
            "send the request as Content-Type: application/json",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            return plain_error(
                StatusCode::BAD_REQUEST,
                &headers,
                "BAD_USER_INPUT",
                "the body is not valid JSON",
            );
        }
    };
    if value.is_array() {
        return plain_error(
            StatusCode::BAD_REQUEST,
            &headers,
            "BAD_USER_INPUT",
            "batched requests are not supported: send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(_) => {
            return plain_error(
                StatusCode::BAD_REQUEST,
                &headers,
                "BAD_USER_INPUT",
                "the body must be an object with a string `query` and optional \
                 `operationName`, `variables` and `extensions`",
            );
        }
    };
    execute(state, headers, request).await
}

/// Whether the operation the request would run is a mutation (unparsable counts as not).
pub(crate) fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op.node.ty == OperationType::Mutation,
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .is_some_and(|op| op.node.ty == OperationType::Mutation),
        (DocumentOperations::Multiple(ops), None) => {
            ops.values().any(|op| op.node.ty == OperationType::Mutation)
        }
    }
}

async fn execute(state: AppState, headers: HeaderMap, request: async_graphql::Request) -> Response {
    let started = Instant::now();
    let operation: String = request
        .operation_name
        .as_deref()
        .unwrap_or("-")
        .chars()
        .take(64)
        .collect();
    let Some(principal) = principal(&state, &headers) else {
        log_request(&operation, StatusCode::UNAUTHORIZED, started, 0);
        return unauthorized(&headers);
    };
    let graphql_response = wants_graphql_response(&headers);
    let ct = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let writes = is_mutation(&request.query, request.operation_name.as_deref());
    // A query answered before, under the same token, operation, variables, date and
    // database change marker, is answered with the same bytes. A marker that cannot be read
    // means no caching; execution then reports the database's state itself.
    let cache_key = (!writes).then(|| response_key(&headers, &request));
    let version = match &cache_key {
        Some(_) => crate::freshness::Counters::read(&state.db.conn)
            .await
            .ok()
            .map(|c| c.stamp(crate::freshness::Depends::Everything)),
        None => None,
    };
    let hit = |state: &AppState| match (&cache_key, &version) {
        (Some(key), Some(v)) => state.responses.get(key, v),
        _ => None,
    };
    let limit = state.config.request_timeout;
    let mut _turn = None;
    if let (Some(key), Some(_)) = (&cache_key, &version) {
        let mut body = hit(&state);
        if body.is_none() {
            // Identical requests that miss together wait (within the time limit) for the
            // first one's answer instead of each computing it.
            let flight = state.responses.flights.flight(key);
            _turn = tokio::time::timeout(limit, flight.lock_owned()).await.ok();
            body = hit(&state);
        }
        if let Some(body) = body {
            metrics::counter!("senco_response_cache_hits_total").increment(1);
            log_request(&operation, StatusCode::OK, started, 0);
            return (StatusCode::OK, [(header::CONTENT_TYPE, ct)], body).into_response();
        }
    }
    let ctx = RequestContext {
        db: state.db.clone(),
        principal: Arc::new(principal),
        config: state.config.clone(),
    };
    let request = ctx.attach(request, writes);
    let mut response = match tokio::time::timeout(limit, state.schema.execute(request)).await {
        Ok(r) => r,
        Err(_) => {
            log_request(&operation, StatusCode::SERVICE_UNAVAILABLE, started, 1);
            metrics::counter!("senco_request_timeouts_total").increment(1);
            return plain_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &headers,
                "INTERNAL_SERVER_ERROR",
                &format!(
                    "the request took longer than {} ms and was stopped; nothing it began was kept",
                    limit.as_millis()
                ),
            );
        }
    };
    for e in &mut response.errors {
        give_code(e);
    }
    let request_error = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = if graphql_response && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    log_request(&operation, status, started, response.errors.len());
    // A request that failed before execution has no `data` entry at all (GraphQL spec,
    // "Response": data is absent when an error prevented execution).
    let body = if request_error {
        serde_json::to_value(&response).and_then(|mut v| {
            if let Some(obj) = v.as_object_mut() {
                obj.remove("data");
            }
            serde_json::to_vec(&v)
        })
    } else {
        serde_json::to_vec(&response)
    };
    let body = match body {
        Ok(b) => Bytes::from(b),
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            return plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &headers,
                "INTERNAL_SERVER_ERROR",
                "internal error",
            );
        }
    };
    if response.errors.is_empty()
        && let (Some(key), Some(v)) = (cache_key, version)
    {
        state.responses.put(key, v, body.clone());
    }
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

/// What a query's answer depends on besides the database: the caller (the whole bearer
/// token, so a cached answer is only ever given back to the same token, which has just been
/// verified again), the operation and its variables, and today's date in London (the
/// default `asOf`).
fn response_key(headers: &HeaderMap, request: &async_graphql::Request) -> String {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        crate::graphql::today(),
        token,
        request.operation_name.as_deref().unwrap_or(""),
        variables,
        request.query
    )
}

/// Gives every error without a code one: errors async-graphql raises itself (parse,
/// validation, limits, input coercion) are the client's, so `BAD_USER_INPUT`, naming the
/// argument when the message does.
fn give_code(e: &mut ServerError) {
    let has_code = e
        .extensions
        .as_ref()
        .is_some_and(|x| x.get("code").is_some());
    if has_code {
        return;
    }
    let field = e
        .message
        .split('"')
        .nth(1)
        .filter(|_| e.message.starts_with("Invalid value for argument"))
        .map(str::to_string)
        .unwrap_or_else(|| "query".into());
    let ext = e
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    ext.set("code", "BAD_USER_INPUT");
    ext.set("field", field);
}

fn log_request(operation: &str, status: StatusCode, started: Instant, errors: usize) {
    let elapsed = started.elapsed();
    metrics::counter!("senco_graphql_requests_total", "status" => status.as_u16().to_string())
        .increment(1);
    metrics::histogram!("senco_graphql_request_duration_seconds").record(elapsed.as_secs_f64());
    tracing::info!(
        operation,
        status = status.as_u16(),
        errors,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "graphql request"
    );
}

/// Anything else: 404 as JSON.
pub async fn not_found(method: Method) -> Response {
    let _ = method;
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        error_body("NOT_FOUND", "no such endpoint; GraphQL is at /graphql"),
    )
        .into_response()
}
