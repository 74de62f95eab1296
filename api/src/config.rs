//! The one typed configuration, read once at start-up from the environment (SPEC section 2).
//!
//! Every variable is parsed here and nowhere else; a bad value stops start-up with a message
//! that names the variable. Secrets are wrapped so that `Debug` never prints them.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;

use crate::domain::clusters::ClusterThresholds;
use crate::domain::events::Backoff;

/// The default database: an SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://senco.db?mode=rwc";
/// The default `aud` every token must carry.
pub const DEFAULT_AUDIENCE: &str = "senco-oversight";

/// A secret string whose `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The service configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SENCO_DATABASE_URL`.
    pub database_url: String,
    /// `SENCO_BIND`.
    pub bind: SocketAddr,
    /// `SENCO_JWT_SECRET`: HS256 shared secret.
    pub jwt_secret: Option<Secret>,
    /// `SENCO_JWT_PUBLIC_KEY_FILE`: PEM public key(s).
    pub jwt_public_key_file: Option<PathBuf>,
    /// `SENCO_JWKS_FILE`: a JWKS document.
    pub jwks_file: Option<PathBuf>,
    /// `SENCO_JWT_ISSUER`: required `iss` when set.
    pub jwt_issuer: Option<String>,
    /// `SENCO_JWT_AUDIENCE`: required `aud`.
    pub jwt_audience: String,
    /// `SENCO_DEMO`: start without a key, using a generated secret kept beside the database.
    pub demo: bool,
    /// `SENCO_GRAPHIQL`.
    pub graphiql: bool,
    /// `SENCO_INTROSPECTION`.
    pub introspection: bool,
    /// `SENCO_CORS_ORIGINS`.
    pub cors_origins: Vec<String>,
    /// `SENCO_MAX_DEPTH`.
    pub max_depth: usize,
    /// `SENCO_MAX_COMPLEXITY`.
    pub max_complexity: usize,
    /// `SENCO_OIDC_ISSUER`: the OpenID Connect provider the web console signs in with.
    pub oidc_issuer: Option<String>,
    /// `SENCO_OIDC_CLIENT_ID`: the console's client id at that provider.
    pub oidc_client_id: Option<String>,
    /// `SENCO_OIDC_SCOPES`: the scopes the console asks that provider for besides `openid`
    /// (the provider decides which it grants, and they reach the token's `scope` claim).
    pub oidc_scopes: Option<String>,
    /// `SENCO_TRUSTED_DOCUMENTS`, read and checked at start-up; the web console's own
    /// operations when unset.
    pub trusted_documents: std::sync::Arc<crate::trusted::TrustedDocuments>,
    /// `SENCO_TRUSTED_DOCUMENTS_ONLY`.
    pub trusted_documents_only: bool,
    /// `SENCO_REQUEST_TIMEOUT_MS`.
    pub request_timeout: Duration,
    /// `SENCO_DB_MAX_CONNECTIONS`: the pool size (SQLite files and PostgreSQL).
    pub db_max_connections: u32,
    /// `SENCO_SQLITE_BUSY_TIMEOUT_MS`: how long an SQLite writer waits for another
    /// process's write lock before the request is answered 503.
    pub sqlite_busy_timeout: Duration,
    /// `SENCO_MAX_CONNECTIONS`: open client connections the server accepts at once.
    pub max_client_connections: usize,
    /// `SENCO_CLUSTER_MAX_CLASS_TEACHING_FRACTION`, `SENCO_CLUSTER_MIN_HOURS_PER_100_PUPILS`,
    /// `SENCO_CLUSTER_SMALL_PRIMARY_MAX_ROLL`: the thresholds of SPEC 4.6.
    pub cluster_thresholds: ClusterThresholds,
    /// `SENCO_WEBHOOK_ALLOW_PRIVATE`: allow webhook URLs on loopback and private addresses.
    pub webhook_allow_private: bool,
    /// `SENCO_WEBHOOK_RETRY_FIRST_MS` (default 5000, at most 30000) and
    /// `SENCO_WEBHOOK_RETRY_WINDOW_SECS` (default 86400): the wait before a failed delivery's
    /// first retry, doubling after each attempt, and how long attempts go on before it is
    /// `FAILED`. Tests shorten both.
    pub webhook_backoff: Backoff,
    /// `SENCO_REMINDER_TIME`: when the daily reminders run, Europe/London wall time.
    pub reminder_time: NaiveTime,
    /// `SENCO_REMINDERS`: whether this process runs the daily reminders (default true; tests
    /// that run a chosen day themselves turn it off).
    pub reminders: bool,
    /// `SENCO_EVENT_RETENTION_DAYS`: settled webhook deliveries and change events older
    /// than this are removed (default 90; 0 keeps everything).
    pub event_retention_days: u32,
}

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

impl Config {
    /// Reads the process environment (after a `.env` file, when present).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());
        let database_url = get("SENCO_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let is_sqlite = database_url.starts_with("sqlite:");
        if !is_sqlite
            && !database_url.starts_with("postgres://")
            && !database_url.starts_with("postgresql://")
        {
            return Err(bad(
                "SENCO_DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }
        let bind = parse(&get, "SENCO_BIND", "127.0.0.1:8080")?;
        let jwt_secret = get("SENCO_JWT_SECRET").map(Secret::new);
        if let Some(s) = &jwt_secret
            && s.expose().len() < 32
        {
            return Err(bad("SENCO_JWT_SECRET", "must be at least 32 bytes long"));
        }
        let jwt_public_key_file = get("SENCO_JWT_PUBLIC_KEY_FILE").map(PathBuf::from);
        let jwks_file = get("SENCO_JWKS_FILE").map(PathBuf::from);
        let demo = parse_bool(&get, "SENCO_DEMO", is_sqlite)?;
        let max_depth: usize = parse(&get, "SENCO_MAX_DEPTH", "12")?;
        let max_complexity: usize = parse(&get, "SENCO_MAX_COMPLEXITY", "100000")?;
        if max_depth == 0 {
            return Err(bad("SENCO_MAX_DEPTH", "must be at least 1"));
        }
        if max_complexity == 0 {
            return Err(bad("SENCO_MAX_COMPLEXITY", "must be at least 1"));
        }
        let timeout_ms: u64 = parse(&get, "SENCO_REQUEST_TIMEOUT_MS", "10000")?;
        if timeout_ms == 0 {
            return Err(bad("SENCO_REQUEST_TIMEOUT_MS", "must be at least 1"));
        }
        let cors_origins = get("SENCO_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for origin in &cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || axum::http::HeaderValue::from_str(origin).is_err()
            {
                return Err(bad(
                    "SENCO_CORS_ORIGINS",
                    format!("`{origin}` is not an http(s) origin"),
                ));
            }
        }
        let defaults = ClusterThresholds::default();
        let cluster_thresholds = ClusterThresholds {
            max_class_teaching_fraction: parse_f64(
                &get,
                "SENCO_CLUSTER_MAX_CLASS_TEACHING_FRACTION",
                defaults.max_class_teaching_fraction,
                0.0..=1.0,
            )?,
            min_hours_per_100_pupils: parse_f64(
                &get,
                "SENCO_CLUSTER_MIN_HOURS_PER_100_PUPILS",
                defaults.min_hours_per_100_pupils,
                0.0..=100.0,
            )?,
            small_primary_max_roll: parse(
                &get,
                "SENCO_CLUSTER_SMALL_PRIMARY_MAX_ROLL",
                &defaults.small_primary_max_roll.to_string(),
            )?,
        };
        let retry_first_ms: u64 = parse(&get, "SENCO_WEBHOOK_RETRY_FIRST_MS", "5000")?;
        if !(1..=30_000).contains(&retry_first_ms) {
            return Err(bad(
                "SENCO_WEBHOOK_RETRY_FIRST_MS",
                "must be between 1 and 30000 (the first retry comes within 30 s)",
            ));
        }
        let retry_window_secs: u64 = parse(&get, "SENCO_WEBHOOK_RETRY_WINDOW_SECS", "86400")?;
        if retry_window_secs == 0 {
            return Err(bad("SENCO_WEBHOOK_RETRY_WINDOW_SECS", "must be at least 1"));
        }
        let reminder_raw = get("SENCO_REMINDER_TIME").unwrap_or_else(|| "06:00".into());
        let reminder_time =
            NaiveTime::parse_from_str(reminder_raw.trim(), "%H:%M").map_err(|_| {
                bad(
                    "SENCO_REMINDER_TIME",
                    format!("`{reminder_raw}` is not a time of day like 06:00"),
                )
            })?;
        let config = Config {
            database_url,
            bind,
            jwt_secret,
            jwt_public_key_file,
            jwks_file,
            jwt_issuer: get("SENCO_JWT_ISSUER"),
            jwt_audience: get("SENCO_JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
            demo,
            graphiql: parse_bool(&get, "SENCO_GRAPHIQL", true)?,
            introspection: parse_bool(&get, "SENCO_INTROSPECTION", true)?,
            cors_origins,
            max_depth,
            max_complexity,
            trusted_documents: std::sync::Arc::new(match get("SENCO_TRUSTED_DOCUMENTS") {
                Some(path) => crate::trusted::TrustedDocuments::load(std::path::Path::new(&path))
                    .map_err(|m| bad("SENCO_TRUSTED_DOCUMENTS", m))?,
                None => crate::trusted::TrustedDocuments::console(),
            }),
            oidc_issuer: get("SENCO_OIDC_ISSUER"),
            oidc_client_id: get("SENCO_OIDC_CLIENT_ID"),
            oidc_scopes: get("SENCO_OIDC_SCOPES"),
            trusted_documents_only: parse_bool(&get, "SENCO_TRUSTED_DOCUMENTS_ONLY", false)?,
            request_timeout: Duration::from_millis(timeout_ms),
            db_max_connections: parse(&get, "SENCO_DB_MAX_CONNECTIONS", "8")?,
            sqlite_busy_timeout: Duration::from_millis(parse(
                &get,
                "SENCO_SQLITE_BUSY_TIMEOUT_MS",
                "10000",
            )?),
            max_client_connections: parse(&get, "SENCO_MAX_CONNECTIONS", "4096")?,
            cluster_thresholds,
            webhook_allow_private: parse_bool(&get, "SENCO_WEBHOOK_ALLOW_PRIVATE", false)?,
            webhook_backoff: Backoff {
                first: Duration::from_millis(retry_first_ms),
                window: Duration::from_secs(retry_window_secs),
            },
            reminder_time,
            reminders: parse_bool(&get, "SENCO_REMINDERS", true)?,
            event_retention_days: parse(&get, "SENCO_EVENT_RETENTION_DAYS", "90")?,
        };
        if config.db_max_connections == 0 {
            return Err(bad("SENCO_DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        if !config.has_verification_key() && !config.demo {
            return Err(bad(
                "SENCO_JWT_SECRET",
                "no verification key: set SENCO_JWT_SECRET, SENCO_JWT_PUBLIC_KEY_FILE, \
                 SENCO_JWKS_FILE or SENCO_OIDC_ISSUER (or SENCO_DEMO=true for a development \
                 start)",
            ));
        }
        Ok(config)
    }

    /// Whether any verification key is configured.
    pub fn has_verification_key(&self) -> bool {
        self.has_local_key() || self.oidc_issuer.is_some()
    }

    /// Whether a key of this server's own configuration is set (not an OpenID provider's):
    /// without one, demo mode signs its banner tokens with a generated secret.
    pub fn has_local_key(&self) -> bool {
        self.jwt_secret.is_some() || self.jwt_public_key_file.is_some() || self.jwks_file.is_some()
    }

    /// Whether the database is SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Where the demo secret is kept: beside the SQLite file, or in the working directory.
    pub fn demo_secret_path(&self) -> PathBuf {
        let file = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or(rest))
            .filter(|p| !p.is_empty() && !p.contains(":memory:"));
        match file {
            Some(path) => PathBuf::from(format!("{path}.secret")),
            None => PathBuf::from("senco-demo.secret"),
        }
    }
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    let raw = get(variable).unwrap_or_else(|| default.to_string());
    raw.trim()
        .parse()
        .map_err(|e| bad(variable, format!("`{raw}` is not valid: {e}")))
}

fn parse_f64(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: f64,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, ConfigError> {
    let value: f64 = parse(get, variable, &default.to_string())?;
    if !value.is_finite() || !range.contains(&value) {
        return Err(bad(
            variable,
            format!("must be between {} and {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(variable).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
        Some(v) => Err(bad(variable, format!("`{v}` is not true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn empty_environment_is_the_embedded_demo_default() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c.demo && c.graphiql && c.introspection);
        assert_eq!((c.max_depth, c.max_complexity), (12, 100_000));
        assert_eq!(c.request_timeout, Duration::from_millis(10_000));
        assert_eq!(c.jwt_audience, "senco-oversight");
        assert_eq!(c.demo_secret_path(), PathBuf::from("senco.db.secret"));
        assert!(!c.webhook_allow_private);
        assert_eq!(c.reminder_time, NaiveTime::from_hms_opt(6, 0, 0).unwrap());
        assert_eq!(c.webhook_backoff, Backoff::default());
    }

    #[test]
    fn postgres_without_a_key_refuses_to_start() {
        let err = config(&[("SENCO_DATABASE_URL", "postgres://localhost/x")]).unwrap_err();
        assert_eq!(err.variable, "SENCO_JWT_SECRET");
    }

    #[test]
    fn short_secret_is_refused_naming_the_variable() {
        let err = config(&[("SENCO_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(err.variable, "SENCO_JWT_SECRET");
        assert!(err.to_string().contains("32 bytes"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("SENCO_BIND", "nowhere"),
            ("SENCO_DEMO", "maybe"),
            ("SENCO_MAX_DEPTH", "-1"),
            ("SENCO_REQUEST_TIMEOUT_MS", "0"),
            ("SENCO_CORS_ORIGINS", "not an origin"),
            ("SENCO_DATABASE_URL", "mysql://x"),
            ("SENCO_CLUSTER_MAX_CLASS_TEACHING_FRACTION", "2"),
            ("SENCO_WEBHOOK_ALLOW_PRIVATE", "sometimes"),
            ("SENCO_REMINDER_TIME", "6am"),
            ("SENCO_REMINDER_TIME", "25:00"),
            ("SENCO_WEBHOOK_RETRY_FIRST_MS", "60000"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var, "{value}");
        }
    }

    #[test]
    fn secret_is_not_debug_printed() {
        let c = config(&[("SENCO_JWT_SECRET", "0123456789abcdef0123456789abcdef-x")]).unwrap();
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
    }
}
