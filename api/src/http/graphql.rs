//! The GraphQL endpoint, written here rather than taken from async-graphql-axum, whose
//! stock handler runs mutations sent by GET and accepts batched arrays: this one accepts one
//! operation per request, refuses a mutation over GET with 405, answers a bad token with
//! 401 before anything runs, and gives back a whole response kept by
//! [`crate::freshness::ResponseCache`] when nothing it depends on has changed.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::{ErrorExtensionValues, ServerError, Value};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{
    GRAPHQL_RESPONSE, observe, plain_error, principal, unauthorized, wants_graphql_response,
};
use crate::AppState;
use crate::auth::Principal;
use crate::freshness::{Counters, Depends};
use crate::graphql::{RequestContext, cost};

/// The query-string form of a GraphQL request.
#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "documentId")]
    document_id: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: queries only.
pub async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let (query, trusted) = match document(&state, params.query, params.document_id) {
        Ok(found) => found,
        Err(e) => return e.into_response(&headers),
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
    execute(state, headers, request, trusted).await
}

/// Why a request names no document the server can run.
enum NoDocument {
    Missing,
    Unknown(String),
    Mismatch,
}

impl NoDocument {
    fn into_response(self, headers: &HeaderMap) -> Response {
        match self {
            Self::Missing => plain_error(
                StatusCode::BAD_REQUEST,
                headers,
                "BAD_USER_INPUT",
                "a request needs a `query`, or the `documentId` of a trusted document",
            ),
            Self::Unknown(id) => plain_error(
                StatusCode::NOT_FOUND,
                headers,
                "NOT_FOUND",
                &format!("no trusted document has the id `{id}`"),
            ),
            Self::Mismatch => plain_error(
                StatusCode::BAD_REQUEST,
                headers,
                "BAD_USER_INPUT",
                "`query` and `documentId` were both sent and the query is not that document",
            ),
        }
    }
}

/// The document a request runs and whether it is a trusted one: `documentId` looked up in
/// `SENCO_TRUSTED_DOCUMENTS`, or the `query` text (trusted when it is one of them).
fn document(
    state: &AppState,
    query: Option<String>,
    document_id: Option<String>,
) -> Result<(String, bool), NoDocument> {
    let trusted = &state.config.trusted_documents;
    match (query, document_id) {
        (None, None) => Err(NoDocument::Missing),
        (Some(q), None) => {
            let known = !trusted.is_empty() && trusted.get(&crate::trusted::id_of(&q)).is_some();
            Ok((q, known))
        }
        (None, Some(id)) => trusted
            .get(&id)
            .map(|d| (d.to_string(), true))
            .ok_or(NoDocument::Unknown(id)),
        (Some(q), Some(id)) => {
            if crate::trusted::id_of(&q) != id {
                return Err(NoDocument::Mismatch);
            }
            let known = trusted.get(&id).is_some();
            Ok((q, known))
        }
    }
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
    let mut value = value;
    let trusted = match value.as_object_mut() {
        Some(obj) => {
            let mut take = |key: &str| match obj.remove(key) {
                Some(serde_json::Value::String(v)) => Ok(Some(v)),
                Some(serde_json::Value::Null) | None => Ok(None),
                Some(_) => Err(format!("`{key}` must be a string")),
            };
            let (query, id) = match (take("query"), take("documentId")) {
                (Ok(q), Ok(id)) => (q, id),
                (Err(m), _) | (_, Err(m)) => {
                    return plain_error(StatusCode::BAD_REQUEST, &headers, "BAD_USER_INPUT", &m);
                }
            };
            match document(&state, query, id) {
                Ok((q, trusted)) => {
                    obj.insert("query".into(), serde_json::Value::String(q));
                    trusted
                }
                Err(e) => return e.into_response(&headers),
            }
        }
        None => false,
    };
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
    execute(state, headers, request, trusted).await
}

/// What the operation a request would run is, as far as the handler needs to know before
/// executing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    /// A mutation (unparsable counts as not).
    pub writes: bool,
    /// Whether it may read the database: false only for a query whose every top-level
    /// field is `viewer`, `__typename`, `__schema` or `__type`, which the server answers
    /// from the token and the schema alone.
    pub reads_db: bool,
    /// Whether its answer may come from the response cache: false for a query that reads
    /// what no change counter follows (a webhook's deliveries change as they are attempted;
    /// see [`crate::graphql::events::UNCACHED_FIELDS`]), or whose top level is not plain
    /// fields.
    pub cacheable: bool,
    /// Its cost and depth (SPEC 6); `None` when the document does not parse or names no
    /// operation it has (execution then reports that).
    pub analysis: Option<cost::Analysis>,
    /// The operation's name in the document, for the logs when the request names none.
    pub name: Option<String>,
}

impl Shape {
    const UNKNOWN: Self = Self {
        writes: false,
        reads_db: true,
        cacheable: false,
        analysis: None,
        name: None,
    };

    /// The shape of the operation `operation_name` (or the only one) of `doc`.
    pub(crate) fn of(
        doc: &async_graphql::parser::types::ExecutableDocument,
        operation_name: Option<&str>,
        variables: &async_graphql::Variables,
    ) -> Self {
        use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
        let (op, name) = match (&doc.operations, operation_name) {
            (DocumentOperations::Single(op), _) => (Some(op), None),
            (DocumentOperations::Multiple(ops), Some(name)) => {
                (ops.get(name), Some(name.to_string()))
            }
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
                let (name, op) = ops
                    .iter()
                    .next()
                    .map_or((None, None), |(n, o)| (Some(n.to_string()), Some(o)));
                (op, name)
            }
            (DocumentOperations::Multiple(ops), None) => {
                let writes = ops.values().any(|op| op.node.ty == OperationType::Mutation);
                return Self {
                    writes,
                    ..Self::UNKNOWN
                };
            }
        };
        let Some(op) = op else {
            return Self::UNKNOWN;
        };
        let writes = op.node.ty == OperationType::Mutation;
        let answered_without_db = |sel: &Selection| match sel {
            Selection::Field(f) => matches!(
                f.node.name.node.as_str(),
                "viewer" | "__typename" | "__schema" | "__type"
            ),
            _ => false,
        };
        let reads_db = writes
            || op.node.ty != OperationType::Query
            || !op
                .node
                .selection_set
                .node
                .items
                .iter()
                .all(|s| answered_without_db(&s.node));
        let cacheable =
            op.node
                .selection_set
                .node
                .items
                .iter()
                .all(|s| match &s.node {
                    Selection::Field(f) => !crate::graphql::events::UNCACHED_FIELDS
                        .contains(&f.node.name.node.as_str()),
                    _ => false,
                });
        let analysis = Some(cost::analyse(&cost::TYPES, doc, &op.node, variables));
        Self {
            writes,
            reads_db,
            cacheable,
            analysis,
            name,
        }
    }

    /// The shape of a request, parsing its document once (the parse is kept for execution).
    pub(crate) fn of_request(request: &mut async_graphql::Request) -> Self {
        let name = request.operation_name.take();
        let variables = std::mem::take(&mut request.variables);
        let shape = match request.parsed_query() {
            Ok(doc) => Self::of(doc, name.as_deref(), &variables),
            Err(_) => Self::UNKNOWN,
        };
        request.operation_name = name;
        request.variables = variables;
        shape
    }
}

/// Whether the operation the request would run is a mutation (unparsable counts as not).
pub(crate) fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    async_graphql::parser::parse_query(query)
        .map(|doc| Shape::of(&doc, operation_name, &async_graphql::Variables::default()).writes)
        .unwrap_or(false)
}

async fn execute(
    state: AppState,
    headers: HeaderMap,
    mut request: async_graphql::Request,
    trusted: bool,
) -> Response {
    let started = Instant::now();
    let operation: String = request
        .operation_name
        .as_deref()
        .unwrap_or("-")
        .chars()
        .take(64)
        .collect();
    let Some(principal) = principal(&state, &headers) else {
        log_request(
            &state,
            &operation,
            StatusCode::UNAUTHORIZED,
            started,
            "UNAUTHENTICATED",
            0,
        );
        return unauthorized(&headers);
    };
    if state.config.trusted_documents_only && !trusted && !principal.admin {
        log_request(
            &state,
            &operation,
            StatusCode::FORBIDDEN,
            started,
            "FORBIDDEN",
            1,
        );
        return plain_error(
            StatusCode::FORBIDDEN,
            &headers,
            "FORBIDDEN",
            "this server runs only trusted documents for your token: send the `documentId` \
             of one instead of `query` text",
        );
    }
    let graphql_response = wants_graphql_response(&headers);
    let ct = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let Shape {
        writes,
        reads_db,
        cacheable,
        analysis,
        name,
    } = Shape::of_request(&mut request);
    let operation = if operation == "-" {
        name.map_or(operation, |n| n.chars().take(64).collect())
    } else {
        operation
    };
    let cost = analysis.map(|a| a.cost);
    if let Some(refused) = analysis.and_then(|a| refuse(&state.config, a)) {
        return respond(
            &state,
            &operation,
            started,
            &headers,
            refused,
            graphql_response,
            ct,
        );
    }
    // A write is never answered from the cache; nor is a query that reads no database,
    // which costs less to answer than to look up (and so touches no database at all), nor
    // one that reads what the change counters do not follow.
    let kept = if writes || !reads_db || !cacheable {
        None
    } else {
        Kept::look_up(&state, &headers, &request).await
    };
    if let Some(body) = kept.as_ref().and_then(|k| k.body.clone()) {
        metrics::counter!("senco_response_cache_hits_total").increment(1);
        log_request(&state, &operation, StatusCode::OK, started, observe::OK, 0);
        return (StatusCode::OK, [(header::CONTENT_TYPE, ct)], body).into_response();
    }
    let counters = kept.as_ref().map(|k| k.counters.clone());
    let sent = (
        request.query.clone(),
        request.operation_name.clone(),
        request.variables.clone(),
    );
    let response = match run(&state, &headers, principal, request, writes, counters).await {
        Ok(mut r) => {
            name_coercion_fields(&mut r, &sent.0, sent.1.as_deref(), &sent.2);
            if let Some(cost) = cost {
                r.extensions
                    .insert("cost".into(), cost_value(cost, &state.config));
            }
            r
        }
        Err(refused) => {
            log_request(
                &state,
                &operation,
                StatusCode::SERVICE_UNAVAILABLE,
                started,
                "SERVICE_UNAVAILABLE",
                1,
            );
            return refused;
        }
    };
    let errors = response.errors.len();
    let outcome = outcome(&response);
    let busy = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| *c == Value::from("SERVICE_UNAVAILABLE"))
    });
    let (status, body) = match encode(response, graphql_response) {
        Ok(encoded) => encoded,
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
    if busy {
        // Nothing was changed: the client may send the same request again shortly.
        log_request(
            &state,
            &operation,
            StatusCode::SERVICE_UNAVAILABLE,
            started,
            "SERVICE_UNAVAILABLE",
            errors,
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, ct), (header::RETRY_AFTER, "1")],
            body,
        )
            .into_response();
    }
    log_request(&state, &operation, status, started, &outcome, errors);
    if errors == 0
        && let Some(k) = kept
    {
        state.responses.put(k.key, k.stamp, body.clone());
    }
    (status, [(header::CONTENT_TYPE, ct)], body).into_response()
}

/// `extensions.cost`: what the query can cost and the most it may.
fn cost_value(requested: u64, config: &crate::config::Config) -> Value {
    Value::from_json(serde_json::json!({
        "requested": requested,
        "limit": config.max_complexity,
    }))
    .unwrap_or(Value::Null)
}

/// The refusal of a query over the limits of SPEC 6, before it runs; `None` within them.
pub(crate) fn refuse(
    config: &crate::config::Config,
    a: cost::Analysis,
) -> Option<async_graphql::Response> {
    let error = |code: &str, message: String| {
        let mut e = ServerError::new(message, None);
        let mut x = ErrorExtensionValues::default();
        x.set("code", code);
        e.extensions = Some(x);
        e
    };
    let e = if a.introspects && !config.introspection {
        error(
            "FORBIDDEN",
            "introspection is disabled on this server".into(),
        )
    } else if a.depth > config.max_depth {
        error(
            "BAD_USER_INPUT",
            format!(
                "Query is nested too deep: {} levels of fields, the limit is {}. Ask for \
                 fewer nested objects, or fetch the inner ones in a second query.",
                a.depth, config.max_depth
            ),
        )
    } else if a.introspection_depth > cost::INTROSPECTION_DEPTH {
        error(
            "BAD_USER_INPUT",
            format!(
                "the introspection selection is {} levels deep, the limit is {}",
                a.introspection_depth,
                cost::INTROSPECTION_DEPTH
            ),
        )
    } else if a.cost > config.max_complexity as u64 {
        let mut e = error(
            "BAD_USER_INPUT",
            format!(
                "Query is too costly: it can return {} objects, the limit is {}. Ask for \
                 smaller pages (`first`), fewer nested lists, or page through the inner \
                 lists in queries of their own.",
                a.cost, config.max_complexity
            ),
        );
        if let Some(x) = e.extensions.as_mut() {
            x.set("cost", cost_value(a.cost, config));
        }
        e
    } else {
        return None;
    };
    let mut r = async_graphql::Response::from_errors(vec![e]);
    r.extensions
        .insert("cost".into(), cost_value(a.cost, config));
    Some(r)
}

/// Sends a response made without executing (a refusal), logged like any other.
fn respond(
    state: &AppState,
    operation: &str,
    started: Instant,
    headers: &HeaderMap,
    response: async_graphql::Response,
    graphql_response: bool,
    ct: &'static str,
) -> Response {
    let errors = response.errors.len();
    let outcome = outcome(&response);
    match encode(response, graphql_response) {
        Ok((status, body)) => {
            log_request(state, operation, status, started, &outcome, errors);
            (status, [(header::CONTENT_TYPE, ct)], body).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                headers,
                "INTERNAL_SERVER_ERROR",
                "internal error",
            )
        }
    }
}

/// A query's place in the response cache: its key, the stamp of the counters now, and the
/// body kept under both, if any. Holding it makes identical requests that miss together
/// wait (within the time limit) for the first one's answer instead of each computing it.
struct Kept {
    key: String,
    /// The counters as the request found them, which its cached results reuse.
    counters: Counters,
    stamp: String,
    body: Option<Bytes>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Kept {
    /// `None` when the counters cannot be read: no caching, and execution then reports the
    /// database's state itself.
    async fn look_up(
        state: &AppState,
        headers: &HeaderMap,
        request: &async_graphql::Request,
    ) -> Option<Self> {
        let key = response_key(headers, request);
        let counters = Counters::read(&state.db.conn).await.ok()?;
        let stamp = counters.stamp(Depends::Everything);
        let mut body = state.responses.get(&key, &stamp);
        let mut turn = None;
        if body.is_none() {
            let flight = state.responses.flights.flight(&key);
            turn = tokio::time::timeout(state.config.request_timeout, flight.lock_owned())
                .await
                .ok();
            body = state.responses.get(&key, &stamp);
        }
        Some(Self {
            key,
            counters,
            stamp,
            body,
            _turn: turn,
        })
    }
}

/// Executes the request as `principal` within the time limit; past it, the 503 to send.
/// `counters`, as the request read them, spare its cached reads reading them again.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    principal: Principal,
    request: async_graphql::Request,
    writes: bool,
    counters: Option<Counters>,
) -> Result<async_graphql::Response, Response> {
    let ctx = RequestContext {
        db: state.db.clone(),
        principal: Arc::new(principal),
        config: state.config.clone(),
        counters,
    };
    let request = ctx.attach(request, writes);
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, state.schema.execute(request)).await {
        Ok(r) => Ok(r),
        Err(_) => {
            metrics::counter!("senco_request_timeouts_total").increment(1);
            Err(plain_error(
                StatusCode::SERVICE_UNAVAILABLE,
                headers,
                "INTERNAL_SERVER_ERROR",
                &format!(
                    "the request took longer than {} ms and was stopped; nothing it began was kept",
                    limit.as_millis()
                ),
            ))
        }
    }
}

/// The status and body of an executed request. Every error gets a code; a request that
/// failed before execution has no `data` entry at all (GraphQL spec, "Response": data is
/// absent when an error prevented execution), and is a 400 when the client asked for
/// `application/graphql-response+json`.
fn encode(
    mut response: async_graphql::Response,
    graphql_response: bool,
) -> serde_json::Result<(StatusCode, Bytes)> {
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
    let body = if request_error {
        let mut v = serde_json::to_value(&response)?;
        if let Some(obj) = v.as_object_mut() {
            obj.remove("data");
        }
        serde_json::to_vec(&v)?
    } else {
        serde_json::to_vec(&response)?
    };
    Ok((status, Bytes::from(body)))
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

/// Names the input field of each value async-graphql could not coerce to a custom scalar
/// (its message names only the type, as in `Failed to parse "Date"`): the path of the
/// offending value inside the field's arguments, as the client spelled it.
fn name_coercion_fields(
    response: &mut async_graphql::Response,
    query: &str,
    operation_name: Option<&str>,
    variables: &async_graphql::Variables,
) {
    use async_graphql::parser::types::DocumentOperations;
    use async_graphql::{PathSegment, ScalarType};
    let wanted = |e: &ServerError| {
        e.message.starts_with("Failed to parse \"")
            && e.extensions
                .as_ref()
                .is_none_or(|x| x.get("code").is_none())
    };
    if !response.errors.iter().any(wanted) {
        return;
    }
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let op = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n).map(|o| &o.node),
        (DocumentOperations::Multiple(ops), None) => ops.values().next().map(|o| &o.node),
    };
    let Some(op) = op else { return };
    for e in response.errors.iter_mut().filter(|e| wanted(e)) {
        let Some(scalar) = e.message.split('"').nth(1).map(str::to_string) else {
            continue;
        };
        let Some(PathSegment::Field(key)) = e.path.first() else {
            continue;
        };
        let invalid: &dyn Fn(&Value) -> bool = match scalar.as_str() {
            "Date" => &|v| crate::graphql::Date::parse(v.clone()).is_err(),
            "DateTime" => &|v| crate::graphql::DateTime::parse(v.clone()).is_err(),
            _ => continue,
        };
        if let Some(field) =
            cost::locate_invalid(&cost::TYPES, op, variables, key, &scalar, invalid)
        {
            let x = e
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default);
            x.set("code", "BAD_USER_INPUT");
            x.set("field", field.clone());
            e.message = format!("{field}: {}", e.message);
        }
    }
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

/// `ok`, or the code of the response's first error (what `/metrics` counts it under).
fn outcome(response: &async_graphql::Response) -> String {
    let Some(first) = response.errors.first() else {
        return observe::OK.into();
    };
    match first.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(Value::String(code)) => code.clone(),
        _ => "BAD_USER_INPUT".into(),
    }
}

fn log_request(
    state: &AppState,
    operation: &str,
    status: StatusCode,
    started: Instant,
    outcome: &str,
    errors: usize,
) {
    state.operations.finished(observe::Finished {
        operation,
        status,
        outcome,
        errors,
        started,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str, name: Option<&str>) -> Shape {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        Shape::of(&doc, name, &async_graphql::Variables::default())
    }

    #[test]
    fn the_operation_name_comes_from_the_document_when_the_request_names_none() {
        assert_eq!(
            shape("query Dash { viewer { sub } }", None).name.as_deref(),
            Some("Dash")
        );
        assert_eq!(shape("{ viewer { sub } }", None).name, None);
        let two = "query A { viewer { sub } } mutation B { upsertTrust(input: {uid: 1, name: \"x\"}) { uid } }";
        assert_eq!(shape(two, Some("B")).name.as_deref(), Some("B"));
        assert!(shape(two, Some("B")).writes);
        assert!(!shape(two, Some("A")).writes);
    }

    #[test]
    fn only_token_and_schema_fields_read_no_database() {
        assert!(!shape("{ viewer { sub } __typename }", None).reads_db);
        assert!(!shape("{ __schema { types { name } } }", None).reads_db);
        assert!(shape("{ viewer { sub } schools { totalCount } }", None).reads_db);
        assert!(shape("{ ... on Query { viewer { sub } } }", None).reads_db);
    }
}
