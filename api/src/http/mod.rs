//! The HTTP surface (SPEC section 6): GraphQL over HTTP (`graphql`), the pages the binary
//! serves itself (`pages`: `/`, GraphiQL, the schema), live subscriptions (`ws`:
//! `/graphql/ws`), `/health`, `/metrics`, and the error
//! bodies and bearer-token check every endpoint shares.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::Principal;

pub mod export;
mod graphql;
pub mod observe;
mod pages;
mod ws;

pub(crate) use graphql::{Shape, refuse};
pub use graphql::{graphql_get, graphql_post};
pub use pages::{
    console_asset, console_config, console_documents, graphiql, graphiql_asset, home, schema,
};
pub use ws::graphql_ws;

/// The media type of GraphQL responses (GraphQL over HTTP).
pub(crate) const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

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
    observe::scrape(&state.db).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

pub(crate) fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE))
}

pub(crate) fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    })
    .to_string()
}

pub(crate) fn plain_error(
    status: StatusCode,
    headers: &HeaderMap,
    code: &str,
    message: &str,
) -> Response {
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

pub(crate) fn unauthorized(headers: &HeaderMap) -> Response {
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
pub(crate) fn principal(state: &AppState, headers: &HeaderMap) -> Option<Principal> {
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

/// Anything else: 404 as JSON.
pub async fn not_found() -> Response {
    not_found_response()
}

pub(crate) fn not_found_response() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        error_body("NOT_FOUND", "no such endpoint; GraphQL is at /graphql"),
    )
        .into_response()
}
