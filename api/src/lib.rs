//! SENCO Oversight: a GraphQL API with which English local authorities and academy trusts
//! oversee the SENCOs of their schools.
//!
//! `app(state)` is the whole HTTP service as a `Router`, testable without a socket;
//! `serve(state, listener, shutdown)` runs it with connection limits and graceful shutdown.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub mod auth;
pub mod cli;
pub mod config;
pub mod dataset;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod freshness;
pub mod graphql;
pub mod http;
pub mod import;
pub mod service;
pub mod store;
pub mod trusted;

use crate::auth::Verifier;
use crate::config::{Config, Secret};
use crate::db::Db;
use crate::graphql::AppSchema;

/// The largest request body accepted (SPEC section 6).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// Token verification.
    pub verifier: Arc<Verifier>,
    /// The schema.
    pub schema: AppSchema,
    /// Prometheus rendering.
    pub metrics: PrometheusHandle,
    /// Whole responses to repeated queries.
    pub responses: Arc<freshness::ResponseCache>,
    /// The operation names `/metrics` counts requests under.
    pub operations: Arc<http::observe::Operations>,
}

impl AppState {
    /// Connects, migrates and builds the state. `demo_secret` is the generated development
    /// secret when demo mode runs without a configured key.
    pub async fn new(config: Config, demo_secret: Option<Secret>) -> anyhow::Result<Self> {
        let db = Db::connect_waiting(
            &config.database_url,
            config.db_max_connections,
            config.sqlite_busy_timeout,
        )
        .await
        .map_err(|e| anyhow::anyhow!("SENCO_DATABASE_URL: cannot connect: {e}"))?;
        db.migrate()
            .await
            .map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))?;
        db.refresh_statistics()
            .await
            .map_err(|e| anyhow::anyhow!("refreshing the planner's statistics failed: {e}"))?;
        db.warm_up()
            .await
            .map_err(|e| anyhow::anyhow!("SENCO_DATABASE_URL: cannot open the pool: {e}"))?;
        let verifier = Verifier::load(&config, demo_secret.as_ref()).await?;
        Ok(Self {
            schema: graphql::build_schema(&config),
            config: Arc::new(config),
            db,
            verifier: Arc::new(verifier),
            metrics: metrics_handle(),
            responses: Arc::default(),
            operations: Arc::default(),
        })
    }
}

/// The process-wide Prometheus recorder (metrics are per process by nature).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ])
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder is installed, and then ours renders empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The HTTP service.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route(
            "/graphql",
            get(http::graphql_get)
                .post(http::graphql_post)
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/graphql/ws", get(http::graphql_ws))
        .route("/health", get(http::health))
        .route("/metrics", get(http::metrics))
        .route("/", get(http::home))
        .route("/assets/{*path}", get(http::console_asset))
        .route("/console/config.json", get(http::console_config))
        .route("/export/{file}", get(http::export::export));
    if state.config.introspection {
        router = router.route("/schema.graphql", get(http::schema));
    }
    if state.config.graphiql {
        router = router
            .route("/graphiql", get(http::graphiql))
            .route("/graphiql/", get(http::graphiql))
            .route("/graphiql/assets/{*path}", get(http::graphiql_asset));
    }
    let timeout = state.config.request_timeout + Duration::from_secs(2);
    let origins: Vec<HeaderValue> = state
        .config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let mut router = router
        .fallback(http::not_found)
        .with_state(state)
        // Covers reading the body too, so a client trickling bytes is cut off.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish (up to 30 s) and returns.
///
/// Each connection must send its request head within 10 s, at most
/// `SENCO_MAX_CONNECTIONS` are open at once (more are closed at accept), and the router's
/// timeout bounds the time to read a body, so slow clients cannot hold the server.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let limit = Arc::new(Semaphore::new(state.config.max_client_connections));
    let workers = events::start(&state);
    let app = app(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(Duration::from_secs(30));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    metrics::counter!("senco_refused_connections_total").increment(1);
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(app.clone());
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    workers.stop();
    tracing::info!("shutting down: finishing in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("connections still open after 30 s; stopping anyway");
        }
    }
    Ok(())
}
