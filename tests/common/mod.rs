//! The integration-test harness: a real server on port 0 over a fresh database per test.
//!
//! SQLite by default (a new file in a temporary directory); a fresh PostgreSQL database per
//! test when `SENCO_TEST_POSTGRES_URL` is set (for example `postgres://postgres@127.0.0.1/postgres`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use api::config::{Config, Secret};
use api::{AppState, auth::IssuedClaims};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The HS256 secret every test server trusts.
pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";

/// A fresh, empty database.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    _dir: Option<tempdir::TempDir>,
    /// Whether dropping this removes the database (false for [`TestDb::shared`]).
    owner: bool,
}

mod tempdir {
    use std::path::{Path, PathBuf};

    /// A directory removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("senco-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Drop for TestDb {
    /// Drops a PostgreSQL test database, so that runs do not pile them up on the server.
    fn drop(&mut self) {
        if !self.is_postgres() || !self.owner {
            return;
        }
        let (Ok(base), Some(name)) = (
            std::env::var("SENCO_TEST_POSTGRES_URL"),
            self.url.rsplit('/').next().map(str::to_owned),
        ) else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its
        // own small runtime does the work and is waited for.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sea_orm::ConnectionTrait;
                if let Ok(admin) = sea_orm::Database::connect(&base).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

impl TestDb {
    /// SQLite file, or a new PostgreSQL database when `SENCO_TEST_POSTGRES_URL` is set.
    pub async fn new() -> Self {
        match std::env::var("SENCO_TEST_POSTGRES_URL") {
            Ok(base) if !base.is_empty() => {
                use sea_orm::ConnectionTrait;
                let name = format!("senco_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&base).await.expect("postgres");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.ok();
                // Replace the database name in the URL (or add one).
                let host_start = base.find("//").map(|i| i + 2).unwrap_or(0);
                let url = match base[host_start..].find('/') {
                    Some(i) => format!("{}/{name}", &base[..host_start + i]),
                    None => format!("{base}/{name}"),
                };
                Self {
                    url,
                    _dir: None,
                    owner: true,
                }
            }
            _ => {
                let dir = tempdir::TempDir::new();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    owner: true,
                }
            }
        }
    }

    /// The same database for a second server; the database lives as long as `self`.
    pub fn shared(&self) -> Self {
        Self {
            url: self.url.clone(),
            _dir: None,
            owner: false,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

/// Configuration for a test server: the embedded defaults, the test secret, and `extra`.
pub fn test_config(db_url: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("SENCO_DATABASE_URL".into(), db_url.into()),
        ("SENCO_JWT_SECRET".into(), SECRET.into()),
        ("SENCO_DEMO".into(), "false".into()),
        ("SENCO_BIND".into(), "127.0.0.1:0".into()),
    ]);
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test config")
}

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its address.
    pub addr: SocketAddr,
    /// The state (for direct database access in assertions).
    pub state: AppState,
    /// A client.
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    /// Keeps the database alive.
    pub db: TestDb,
}

impl TestServer {
    /// A server over a fresh database with default settings.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A server over a fresh database with extra environment settings.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        Self::start_on(db, extra).await
    }

    /// A server over `db`.
    pub async fn start_on(db: TestDb, extra: &[(&str, &str)]) -> Self {
        let config = test_config(&db.url, extra);
        let state = AppState::new(config, None).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let s = state.clone();
        let done = tokio::spawn(async move {
            api::serve(s, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            addr,
            state,
            client: reqwest::Client::new(),
            stop: Some(tx),
            done: Some(done),
            db,
        }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// The GraphQL endpoint.
    pub fn url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// POSTs a GraphQL request with an optional bearer token; returns (status, body).
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url())
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// POSTs and expects success: returns `data`, panicking with the errors otherwise.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// POSTs and expects exactly one error; returns its `extensions.code` and the body.
    pub async fn err(&self, token: Option<&str>, query: &str, variables: Value) -> (String, Value) {
        let (_, body) = self.post(token, query, variables).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors: {body}"));
        assert!(!errors.is_empty(), "{body}");
        let code = errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string();
        (code, body)
    }
}

/// Signs a token with the test secret.
pub fn token(sub: &str, scope: &str) -> String {
    token_with(sub, scope, 3600)
}

/// Signs a token with the test secret that expires `ttl` seconds from now.
pub fn token_with(sub: &str, scope: &str, ttl: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    api::auth::sign_hs256(
        &Secret::new(SECRET),
        &IssuedClaims {
            sub: sub.into(),
            scope: scope.into(),
            aud: "senco-oversight".into(),
            iat: now,
            exp: now + ttl,
            iss: None,
        },
    )
    .unwrap()
}

/// An admin token.
pub fn admin() -> String {
    token("admin-user", "admin")
}

/// A small world built through the admin API: LAs 202 and 203, trust 2044 with one school
/// in each LA, and schools:
/// - 100001 primary, LA 202, no trust
/// - 100002 primary, LA 202, trust 2044 (academy)
/// - 100003 secondary, LA 203, trust 2044 (academy)
/// - 100004 special, LA 203, no trust
pub async fn small_world(s: &TestServer) {
    let a = admin();
    for (code, name) in [(202, "Camden"), (203, "Greenwich")] {
        s.ok(
            &a,
            "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
            json!({ "i": { "code": code, "name": name } }),
        )
        .await;
    }
    s.ok(
        &a,
        "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid } }",
        json!({ "i": { "uid": 2044, "name": "Thames Bridge Academy Trust" } }),
    )
    .await;
    for (urn, la, trust, phase, kind, roll) in [
        (100001, 202, None, "PRIMARY", "MAINSTREAM", 180),
        (100002, 202, Some(2044), "PRIMARY", "MAINSTREAM", 95),
        (100003, 203, Some(2044), "SECONDARY", "MAINSTREAM", 1100),
        (100004, 203, None, "NOT_APPLICABLE", "SPECIAL", 120),
    ] {
        s.ok(
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": {
                "urn": urn, "name": format!("School {urn}"), "laCode": la, "trustUid": trust,
                "phase": phase, "kind": kind, "isAcademy": trust.is_some(), "numberOnRoll": roll
            } }),
        )
        .await;
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A stand-in for an OpenID provider's two public documents, on a loopback port: its
/// discovery document and the key set it names, which a test may change (a key rotation).
pub struct OidcProvider {
    /// `http://127.0.0.1:PORT`, the issuer.
    pub issuer: String,
    /// The key set served at `/jwks`.
    pub jwks: std::sync::Arc<std::sync::Mutex<Value>>,
}

/// Serves `jwks` as an OpenID provider's keys until the test ends.
pub async fn oidc_provider(jwks: Value) -> OidcProvider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let jwks = std::sync::Arc::new(std::sync::Mutex::new(jwks));
    let served = jwks.clone();
    let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks"),
        "authorization_endpoint": format!("{issuer}/auth"), "token_endpoint": format!("{issuer}/token") });
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let d = discovery.clone();
                async move { axum::Json(d) }
            }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || {
                let j = served.lock().unwrap().clone();
                async move { axum::Json(j) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    OidcProvider { issuer, jwks }
}
