//! The signing keys of an OpenID Connect provider (`SENCO_OIDC_ISSUER`), so that the access
//! tokens it gives the web console are verified like any other (SPEC 2 and 8).
//!
//! At start the provider's discovery document (`{issuer}/.well-known/openid-configuration`)
//! names its `jwks_uri`; the keys there are fetched before the server listens, so a
//! misconfigured issuer stops the start with a clear message rather than refusing every
//! sign-in later. The keys are fetched again every [`REFRESH_EVERY`], and soon after a token
//! names a `kid` no key has (the provider rotated its keys), at most once per
//! [`MIN_REFETCH`]. Tokens verified with these keys must carry the provider's `iss`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::Notify;

use super::Key;

/// How often the keys are fetched again when nothing asks sooner.
pub const REFRESH_EVERY: Duration = Duration::from_secs(15 * 60);
/// The shortest time between two fetches asked for by unknown key ids.
pub const MIN_REFETCH: Duration = Duration::from_secs(5);
/// The time allowed for the provider to answer one request.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// The provider's keys as last fetched.
pub struct OidcKeys {
    issuer: String,
    jwks_uri: String,
    client: reqwest::Client,
    keys: RwLock<Arc<Vec<Key>>>,
    stale: Notify,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl OidcKeys {
    /// Reads the discovery document of `issuer` and fetches its keys.
    pub async fn discover(issuer: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let d: Discovery = serde_json::from_slice(&get(&client, &url).await?)
            .map_err(|e| anyhow::anyhow!("{url}: not an OpenID discovery document: {e}"))?;
        // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer asked.
        if d.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            anyhow::bail!("{url} names the issuer {:?}, not {issuer:?}", d.issuer);
        }
        let this = Self {
            issuer: d.issuer,
            jwks_uri: d.jwks_uri,
            client,
            keys: RwLock::new(Arc::new(Vec::new())),
            stale: Notify::new(),
        };
        let keys = this.fetch().await?;
        *this.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(this)
    }

    /// The issuer tokens verified with these keys must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The keys as last fetched.
    pub(super) fn keys(&self) -> Arc<Vec<Key>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Asks for the keys to be fetched again soon (a token named a key id no key has).
    pub fn mark_stale(&self) {
        self.stale.notify_one();
    }

    async fn fetch(&self) -> anyhow::Result<Vec<Key>> {
        let body = get(&self.client, &self.jwks_uri).await?;
        let set: JwkSet = serde_json::from_slice(&body)
            .map_err(|e| anyhow::anyhow!("{}: not a JWKS: {e}", self.jwks_uri))?;
        let keys = super::signing_keys(&set, false, Some(&self.issuer))
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.jwks_uri))?;
        if keys.is_empty() {
            anyhow::bail!("{}: no signing key", self.jwks_uri);
        }
        Ok(keys)
    }

    /// Fetches the keys again every [`REFRESH_EVERY`] and when marked stale, for as long as
    /// the server runs. A failed fetch keeps the keys held and is logged.
    pub async fn keep_fresh(self: Arc<Self>) {
        let mut last = Instant::now();
        loop {
            tokio::select! {
                () = tokio::time::sleep(REFRESH_EVERY) => {}
                () = self.stale.notified() => {
                    let since = last.elapsed();
                    if since < MIN_REFETCH {
                        tokio::time::sleep(MIN_REFETCH - since).await;
                    }
                }
            }
            last = Instant::now();
            match self.fetch().await {
                Ok(keys) => {
                    tracing::debug!(count = keys.len(), "fetched the OpenID provider's keys");
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                }
                Err(e) => tracing::warn!("SENCO_OIDC_ISSUER: keeping the keys held: {e}"),
            }
        }
    }
}

async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let resp = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    if !resp.status().is_success() {
        anyhow::bail!("{url}: HTTP {}", resp.status());
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    if body.len() > MAX_DOCUMENT_BYTES {
        anyhow::bail!("{url}: larger than {MAX_DOCUMENT_BYTES} bytes");
    }
    Ok(body.to_vec())
}
