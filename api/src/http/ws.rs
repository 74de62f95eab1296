//! `/graphql/ws`: live subscriptions over WebSocket (SPEC 4.11), speaking
//! graphql-transport-ws (and the older subscriptions-transport-ws) with async-graphql-axum's
//! protocol negotiation and async-graphql's protocol engine.
//!
//! The token comes in the `connection_init` payload (`{"Authorization": "Bearer ..."}`),
//! not in a header, since browsers cannot set headers on a WebSocket. This handler, rather
//! than async-graphql-axum's stock one, pumps the messages so that it can close with the
//! codes the SPEC names: 4403 for a bad token and when the token expires, and 4408 when no
//! `connection_init` comes within 10 s. Each subscription reads from the process's one
//! bounded event buffer, and messages are sent as fast as the client reads them, so a slow
//! client costs no more memory than that buffer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use tokio::sync::oneshot;

use crate::AppState;
use crate::graphql::RequestContext;

/// How long a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema as the socket runs it: subscriptions only (queries and mutations go to
/// `/graphql`, with its time limit, caches and trusted-document rules), each refused before
/// it runs when it is deeper or costlier than `/graphql` allows (SPEC 6).
#[derive(Clone)]
struct Limited {
    schema: crate::graphql::AppSchema,
    config: Arc<crate::config::Config>,
}

/// An error answer with `extensions.code`.
fn refused(code: &str, message: &str) -> async_graphql::Response {
    let mut e = async_graphql::ServerError::new(message, None);
    let mut x = async_graphql::ErrorExtensionValues::default();
    x.set("code", code);
    e.extensions = Some(x);
    async_graphql::Response::from_errors(vec![e])
}

impl Limited {
    /// The trusted-documents rule of `/graphql` (SPEC 6), on the socket: a subscription may
    /// name a trusted document by `extensions.documentId` instead of sending `query`; with
    /// `SENCO_TRUSTED_DOCUMENTS_ONLY`, query text is accepted from a token other than
    /// `admin` only when it is one of the trusted documents, character for character.
    fn trusted(
        &self,
        request: &mut async_graphql::Request,
        session: Option<&Data>,
    ) -> Option<async_graphql::Response> {
        let docs = &self.config.trusted_documents;
        if let Some(id) = request.extensions.get("documentId") {
            let async_graphql::Value::String(id) = id else {
                return Some(refused(
                    "BAD_USER_INPUT",
                    "extensions.documentId must be a string",
                ));
            };
            if !request.query.is_empty() {
                return Some(refused(
                    "BAD_USER_INPUT",
                    "send either query or extensions.documentId, not both",
                ));
            }
            let Some(text) = docs.get(id) else {
                return Some(refused(
                    "NOT_FOUND",
                    "no trusted document has that documentId",
                ));
            };
            request.query = text.to_owned();
            return None;
        }
        if !self.config.trusted_documents_only {
            return None;
        }
        let admin = session
            .and_then(|d| d.get(&std::any::TypeId::of::<RequestContext>()))
            .and_then(|b| b.downcast_ref::<RequestContext>())
            .is_some_and(|rc| rc.principal.admin);
        if admin || docs.get(&crate::trusted::id_of(&request.query)).is_some() {
            return None;
        }
        Some(refused(
            "FORBIDDEN",
            "this server runs only trusted documents for your token: send \
             extensions.documentId of one instead of query text",
        ))
    }

    fn refusal(&self, request: &mut async_graphql::Request) -> Option<async_graphql::Response> {
        use async_graphql::parser::types::{DocumentOperations, OperationType};
        let shape = super::Shape::of_request(request);
        if let Some(r) = shape.analysis.and_then(|a| super::refuse(&self.config, a)) {
            return Some(r);
        }
        let name = request.operation_name.clone();
        let subscription = request.parsed_query().ok().is_some_and(|doc| {
            let op = match (&doc.operations, name.as_deref()) {
                (DocumentOperations::Single(op), _) => Some(op),
                (DocumentOperations::Multiple(ops), Some(n)) => ops.get(n),
                (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
                _ => None,
            };
            op.is_some_and(|op| op.node.ty == OperationType::Subscription)
        });
        if subscription {
            return None;
        }
        let mut e = async_graphql::ServerError::new(
            "only subscriptions are served on /graphql/ws: send queries and mutations to /graphql",
            None,
        );
        let mut x = async_graphql::ErrorExtensionValues::default();
        x.set("code", "BAD_USER_INPUT");
        x.set("field", "query");
        e.extensions = Some(x);
        Some(async_graphql::Response::from_errors(vec![e]))
    }
}

impl async_graphql::Executor for Limited {
    fn execute(
        &self,
        mut request: async_graphql::Request,
    ) -> impl std::future::Future<Output = async_graphql::Response> + Send {
        let refused = self
            .trusted(&mut request, None)
            .or_else(|| self.refusal(&mut request));
        let schema = self.schema.clone();
        async move {
            match refused {
                Some(r) => r,
                None => schema.execute(request).await,
            }
        }
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> futures::stream::BoxStream<'static, async_graphql::Response> {
        let refused = self
            .trusted(&mut request, session_data.as_deref())
            .or_else(|| self.refusal(&mut request));
        match refused {
            Some(r) => futures::stream::once(async move { r }).boxed(),
            None => async_graphql::Executor::execute_stream(&self.schema, request, session_data),
        }
    }
}

/// `GET /graphql/ws`: upgrades to a WebSocket and serves subscriptions on it.
pub async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(64 * 1024)
        // Subscriptions send and receive small messages: small buffers (tungstenite's are
        // 128 KiB each by default) keep a thousand open sockets in a few megabytes.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| serve(state, socket, protocol))
}

/// The bearer token of a `connection_init` payload.
fn token(payload: &serde_json::Value) -> Option<&str> {
    let value = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))?
        .as_str()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

async fn serve(state: AppState, socket: WebSocket, protocol: GraphQLProtocol) {
    let (mut sink, stream) = socket.split();
    let refused = Arc::new(AtomicBool::new(false));
    // The token's expiry once `connection_init` is accepted; dropped unsent when refused.
    let (expires_tx, expires_rx) = oneshot::channel::<i64>();
    // What async-graphql-axum sends passes through a short queue, so that the close frames
    // can be given the SPEC's codes; the queue is bounded, so a slow client slows its own
    // subscriptions instead of growing the server's memory.
    let (out_tx, mut out_rx) = futures::channel::mpsc::channel::<Message>(16);
    let on_init = {
        let state = state.clone();
        let refused = refused.clone();
        move |payload: serde_json::Value| async move {
            let verified = token(&payload).map(|t| state.verifier.verify_until(t));
            match verified {
                Some(Ok((principal, exp))) => {
                    let _ = expires_tx.send(exp);
                    let principal = Arc::new(principal);
                    let ctx = RequestContext {
                        db: state.db.clone(),
                        principal: principal.clone(),
                        config: state.config.clone(),
                        counters: None,
                    };
                    let loaders =
                        crate::graphql::loaders::Loaders::new(&state.db, &principal, false);
                    let mut data = Data::default();
                    data.insert(ctx);
                    data.insert(loaders);
                    Ok(data)
                }
                _ => {
                    metrics::counter!("senco_rejected_tokens_total").increment(1);
                    refused.store(true, Ordering::SeqCst);
                    Err(async_graphql::Error::new(
                        "connection_init must carry a valid token: {\"Authorization\": \"Bearer ...\"}",
                    ))
                }
            }
        }
    };
    let limited = Limited {
        schema: state.schema.clone(),
        config: state.config.clone(),
    };
    let graphql = GraphQLWebSocket::new_with_pair(out_tx, stream, limited, protocol)
        .on_connection_init(on_init)
        .serve();
    tokio::pin!(graphql);
    // Resolves with the close frame the server must send on its own: the token expired, or
    // no `connection_init` came in time; never, after a refused one (the engine closes).
    let deadline = async move {
        match tokio::time::timeout(INIT_TIMEOUT, expires_rx).await {
            Ok(Ok(exp)) => {
                let left = exp - chrono::Utc::now().timestamp();
                tokio::time::sleep(Duration::from_secs(u64::try_from(left).unwrap_or(0))).await;
                (4403, "the token has expired")
            }
            Ok(Err(_)) => std::future::pending::<(u16, &'static str)>().await,
            Err(_) => (4408, "connection initialisation timeout"),
        }
    };
    tokio::pin!(deadline);
    let close = |code: u16, reason: String| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    let refused_code = |frame: Option<CloseFrame>| {
        if refused.load(Ordering::SeqCst) {
            close(4403, "Forbidden: the token is not valid".into())
        } else {
            Message::Close(frame)
        }
    };
    loop {
        tokio::select! {
            () = &mut graphql => {
                // The protocol ended (the client went, or a close was queued): send what
                // is left.
                while let Ok(m) = out_rx.try_recv() {
                    let m = match m {
                        Message::Close(frame) => refused_code(frame),
                        m => m,
                    };
                    if sink.send(m).await.is_err() {
                        break;
                    }
                }
                break;
            }
            next = out_rx.next() => match next {
                Some(Message::Close(frame)) => {
                    let _ = sink.send(refused_code(frame)).await;
                    break;
                }
                Some(m) => {
                    if sink.send(m).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            (code, reason) = &mut deadline => {
                let _ = sink.send(close(code, reason.into())).await;
                break;
            }
        }
    }
}
