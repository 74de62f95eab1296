//! Token verification and the caller's scopes (SPEC section 3).
//!
//! A `Verifier` holds exactly the configured keys, each with its one algorithm, so `none`
//! and algorithm confusion (an HS256 token "signed" with an RSA public key) have no key to
//! match. A verified token becomes a `Principal`; what it may read or write is decided by
//! `store::scope` against stored rows, never here against identifiers a client sent.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{Config, Secret};

mod oidc;
pub use oidc::OidcKeys;

/// Clock skew allowed on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 60;
/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
    /// The `iss` its tokens must carry, when the key is an OpenID provider's; otherwise
    /// `SENCO_JWT_ISSUER` applies.
    issuer: Option<String>,
}

/// Verifies bearer tokens against the configured keys, and the OpenID provider's.
pub struct Verifier {
    keys: Vec<Key>,
    oidc: Option<Arc<OidcKeys>>,
    audience: String,
    issuer: Option<String>,
}

/// Why a presented token was refused. Never sent to the client in detail.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Anything wrong with the token: the reason is for the debug log only.
    #[error("invalid token: {0}")]
    Invalid(String),
}

fn invalid(reason: impl Into<String>) -> TokenError {
    TokenError::Invalid(reason.into())
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    exp: Option<f64>,
}

/// The claims the `token` subcommand writes.
#[derive(Debug, Serialize)]
pub struct IssuedClaims {
    /// Subject.
    pub sub: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Audience.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Issuer, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

impl Verifier {
    /// Builds the verifier from configuration, reading key files. `demo_secret` is used when
    /// no key is configured and demo mode allowed the start.
    pub fn from_config(config: &Config, demo_secret: Option<&Secret>) -> anyhow::Result<Self> {
        Self::build(config, demo_secret, None)
    }

    /// [`Verifier::from_config`], with the keys of the OpenID provider `SENCO_OIDC_ISSUER`
    /// names, fetched now and kept fresh by a task that runs as long as the runtime.
    pub async fn load(config: &Config, demo_secret: Option<&Secret>) -> anyhow::Result<Self> {
        let oidc = match &config.oidc_issuer {
            Some(issuer) => {
                let keys = Arc::new(
                    OidcKeys::discover(issuer)
                        .await
                        .map_err(|e| anyhow::anyhow!("SENCO_OIDC_ISSUER: {e}"))?,
                );
                tokio::spawn(keys.clone().keep_fresh());
                Some(keys)
            }
            None => None,
        };
        Self::build(config, demo_secret, oidc)
    }

    fn build(
        config: &Config,
        demo_secret: Option<&Secret>,
        oidc: Option<Arc<OidcKeys>>,
    ) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        if let Some(secret) = config.jwt_secret.as_ref().or(demo_secret) {
            keys.push(Key {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.expose().as_bytes()),
                issuer: None,
            });
        }
        if let Some(path) = &config.jwt_public_key_file {
            keys.extend(pem_keys(path).map_err(|e| {
                anyhow::anyhow!("SENCO_JWT_PUBLIC_KEY_FILE: {}: {e}", path.display())
            })?);
        }
        if let Some(path) = &config.jwks_file {
            keys.extend(
                jwks_keys(path)
                    .map_err(|e| anyhow::anyhow!("SENCO_JWKS_FILE: {}: {e}", path.display()))?,
            );
        }
        if keys.is_empty() && oidc.is_none() {
            anyhow::bail!("SENCO_JWT_SECRET: no verification key configured");
        }
        Ok(Self {
            keys,
            oidc,
            audience: config.jwt_audience.clone(),
            issuer: config.jwt_issuer.clone(),
        })
    }

    /// Verifies a compact JWS and returns the caller it names.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        self.verify_until(token).map(|(p, _)| p)
    }

    /// [`Verifier::verify`], with the token's expiry (`exp`, Unix seconds), for a
    /// connection that must close when its token expires (`/graphql/ws`).
    pub fn verify_until(&self, token: &str) -> Result<(Principal, i64), TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("token too large"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(e.to_string()))?;
        let provider = self.oidc.as_ref().map(|o| o.keys());
        let all = || {
            self.keys
                .iter()
                .chain(provider.iter().flat_map(|keys| keys.iter()))
        };
        // A `kid` naming a configured key selects that key alone; a `kid` naming none may
        // still match a key that has no id (the shared secret or a PEM key), never a JWKS key.
        let kid_known = header
            .kid
            .as_ref()
            .is_some_and(|kid| all().any(|k| k.kid.as_ref() == Some(kid)));
        if header.kid.is_some()
            && !kid_known
            && let Some(o) = &self.oidc
        {
            // Perhaps the provider has rotated its keys: fetch them again soon.
            o.mark_stale();
        }
        let candidates: Vec<&Key> = all()
            .filter(|k| k.algorithm == header.alg)
            .filter(|k| match &header.kid {
                Some(kid) if kid_known => k.kid.as_ref() == Some(kid),
                Some(_) => k.kid.is_none(),
                None => true,
            })
            .collect();
        if candidates.is_empty() {
            return Err(invalid(format!(
                "no key for alg {:?} kid {:?}",
                header.alg, header.kid
            )));
        }
        let mut last = invalid("no key verified the token");
        for key in candidates {
            let mut validation = Validation::new(header.alg);
            validation.leeway = LEEWAY_SECONDS;
            validation.validate_nbf = true;
            validation.validate_exp = true;
            validation.set_audience(&[&self.audience]);
            let mut required = vec!["exp", "sub", "aud"];
            if let Some(iss) = key.issuer.as_ref().or(self.issuer.as_ref()) {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            validation.set_required_spec_claims(&required);
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => {
                    let exp = data.claims.exp.unwrap_or_default() as i64;
                    return Ok((
                        Principal::from_claims(data.claims.sub, data.claims.scope),
                        exp,
                    ));
                }
                Err(e) => last = invalid(e.to_string()),
            }
        }
        Err(last)
    }
}

fn pem_keys(path: &Path) -> anyhow::Result<Vec<Key>> {
    let text = std::fs::read_to_string(path)?;
    let mut keys = Vec::new();
    for block in text.split("-----BEGIN ").skip(1) {
        let pem = format!("-----BEGIN {block}");
        let (key, algorithm) = if let Ok(k) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            (k, Algorithm::RS256)
        } else if let Ok(k) = DecodingKey::from_ed_pem(pem.as_bytes()) {
            (k, Algorithm::EdDSA)
        } else if let Ok(k) = DecodingKey::from_ec_pem(pem.as_bytes()) {
            // A P-384 SubjectPublicKeyInfo is longer than a P-256 one; the base64 body
            // length tells the curve without a second ASN.1 parser.
            let body: usize = block
                .lines()
                .filter(|l| !l.starts_with("-----") && !l.contains("PUBLIC KEY-----"))
                .map(|l| l.trim().len())
                .sum();
            (
                k,
                if body > 130 {
                    Algorithm::ES384
                } else {
                    Algorithm::ES256
                },
            )
        } else {
            anyhow::bail!("a PEM block is not an RSA, EC or Ed25519 public key");
        };
        keys.push(Key {
            kid: None,
            algorithm,
            key,
            issuer: None,
        });
    }
    if keys.is_empty() {
        anyhow::bail!("no PEM public key found");
    }
    Ok(keys)
}

fn jwks_keys(path: &Path) -> anyhow::Result<Vec<Key>> {
    let set: JwkSet = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let keys = signing_keys(&set, true, None)?;
    if keys.is_empty() {
        anyhow::bail!("the JWKS has no keys");
    }
    Ok(keys)
}

/// The signature keys of `set`. `strict` (a file the operator wrote) refuses any key it
/// cannot use; otherwise (a provider's published set) keys for encryption, symmetric keys
/// and unknown algorithms are passed over. `issuer` is the `iss` their tokens must carry.
fn signing_keys(set: &JwkSet, strict: bool, issuer: Option<&str>) -> anyhow::Result<Vec<Key>> {
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if !strict
            && (matches!(
                jwk.common.public_key_use,
                Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            ) || matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)))
        {
            continue;
        }
        let key = match signing_key(jwk, issuer) {
            Ok(k) => k,
            Err(e) if strict => return Err(e),
            Err(e) => {
                tracing::debug!(kid = ?jwk.common.key_id, "passing over a key: {e}");
                continue;
            }
        };
        keys.push(key);
    }
    Ok(keys)
}

fn signing_key(jwk: &jsonwebtoken::jwk::Jwk, issuer: Option<&str>) -> anyhow::Result<Key> {
    let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(alg), _) => alg.to_string().parse::<Algorithm>()?,
        (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (None, AlgorithmParameters::EllipticCurve(ec)) => match ec.curve {
            EllipticCurve::P384 => Algorithm::ES384,
            _ => Algorithm::ES256,
        },
        (None, AlgorithmParameters::OctetKeyPair(_)) => Algorithm::EdDSA,
        (None, AlgorithmParameters::OctetKey(_)) => {
            anyhow::bail!("symmetric keys are not accepted from a JWKS")
        }
    };
    if matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        anyhow::bail!("symmetric keys are not accepted from a JWKS");
    }
    Ok(Key {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key: DecodingKey::from_jwk(jwk)?,
        issuer: issuer.map(str::to_owned),
    })
}

/// The secret the `token` subcommand and the demo banner sign with: the configured one,
/// or in demo mode the generated one kept beside the database.
pub fn signing_secret(config: &Config) -> anyhow::Result<Option<Secret>> {
    if let Some(s) = &config.jwt_secret {
        return Ok(Some(s.clone()));
    }
    if config.demo && !config.has_local_key() {
        return Ok(Some(load_or_create_secret(&config.demo_secret_path())?));
    }
    Ok(None)
}

/// Signs a token for `sub` with `scope`.
pub fn issue_token(
    config: &Config,
    secret: &Secret,
    sub: &str,
    scope: &str,
    ttl: Duration,
) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    sign_hs256(
        secret,
        &IssuedClaims {
            sub: sub.to_string(),
            scope: scope.to_string(),
            aud: config.jwt_audience.clone(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
            iss: config.jwt_issuer.clone(),
        },
    )
}

/// Reads the development secret kept at `path`, creating it (owner-only) on first use.
pub fn load_or_create_secret(path: &Path) -> anyhow::Result<Secret> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let s = existing.trim();
        if s.len() >= 32 {
            return Ok(Secret::new(s));
        }
        anyhow::bail!(
            "{}: the demo secret is shorter than 32 bytes",
            path.display()
        );
    }
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret)
        .map_err(|e| anyhow::anyhow!("{}: cannot write the demo secret: {e}", path.display()))?;
    Ok(Secret::new(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// Signs an HS256 token, for the `token` subcommand and the tests.
pub fn sign_hs256(secret: &Secret, claims: &IssuedClaims) -> anyhow::Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )?)
}

/// What a scope word grants on a set of schools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Read.
    Read,
    /// Read and write.
    Write,
    /// Read, plus the governing body's records: meetings, actions and sign-offs (SPEC
    /// 3 and 4.10). Only for `school:` and `trust:` scopes: an LA is not a school's
    /// governing body.
    Govern,
}

/// One recognised scope word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// `admin`.
    Admin,
    /// `school:{urn}:{read|write|govern}`.
    School(i32, Access),
    /// `la:{code}:{read|write}`.
    La(i32, Access),
    /// `trust:{uid}:{read|write|govern}`.
    Trust(i32, Access),
}

impl Scope {
    /// Parses one scope word; anything else is `None` (ignored, never an error).
    pub fn parse(word: &str) -> Option<Self> {
        if word == "admin" {
            return Some(Self::Admin);
        }
        let mut parts = word.split(':');
        let (kind, id, access) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let access = match access {
            "read" => Access::Read,
            "write" => Access::Write,
            "govern" if kind != "la" => Access::Govern,
            _ => return None,
        };
        match (kind, id.len()) {
            ("school", 6) => Some(Self::School(id.parse().ok()?, access)),
            ("la", 3) => Some(Self::La(id.parse().ok()?, access)),
            ("trust", 1..=9) => Some(Self::Trust(id.parse().ok()?, access)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let access = |a: &Access| match a {
            Access::Read => "read",
            Access::Write => "write",
            Access::Govern => "govern",
        };
        match self {
            Self::Admin => f.write_str("admin"),
            Self::School(urn, a) => write!(f, "school:{urn}:{}", access(a)),
            Self::La(code, a) => write!(f, "la:{code}:{}", access(a)),
            Self::Trust(uid, a) => write!(f, "trust:{uid}:{}", access(a)),
        }
    }
}

/// Schools named by scope words, by URN, LA code and trust UID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolSet {
    /// `school:` scopes.
    pub urns: BTreeSet<i32>,
    /// `la:` scopes.
    pub las: BTreeSet<i32>,
    /// `trust:` scopes.
    pub trusts: BTreeSet<i32>,
}

impl SchoolSet {
    /// Whether the set names nothing.
    pub fn is_empty(&self) -> bool {
        self.urns.is_empty() && self.las.is_empty() && self.trusts.is_empty()
    }
}

/// The caller of one request.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// The token's `sub`; `None` for an anonymous request.
    pub sub: Option<String>,
    /// The recognised scopes, in a stable order.
    pub scopes: Vec<Scope>,
    /// `admin`.
    pub admin: bool,
    /// Schools readable through school, LA and trust scopes (write scopes included).
    pub read: SchoolSet,
    /// Schools writable through school, LA and trust write scopes.
    pub write: SchoolSet,
    /// Schools whose governing body the caller acts for, through `school:` and `trust:`
    /// govern scopes (which also grant read, never write).
    pub govern: SchoolSet,
}

impl Principal {
    /// The anonymous caller.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// A caller from verified claims.
    pub fn from_claims(sub: String, scope: Option<String>) -> Self {
        let mut scopes: Vec<Scope> = Vec::new();
        // Scope words are separated by single spaces and made of printable ASCII (RFC 6749
        // section 3.3); splitting on any whitespace would let "admin\nx" grant `admin`.
        for word in scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|w| !w.is_empty())
        {
            match Scope::parse(word) {
                Some(s) => scopes.push(s),
                None => tracing::debug!(len = word.len(), "ignored an unrecognised scope word"),
            }
        }
        scopes.sort();
        scopes.dedup();
        let mut p = Self {
            sub: Some(sub),
            ..Self::default()
        };
        for s in &scopes {
            match *s {
                Scope::Admin => p.admin = true,
                Scope::School(urn, a) => {
                    p.read.urns.insert(urn);
                    match a {
                        Access::Read => {}
                        Access::Write => {
                            p.write.urns.insert(urn);
                        }
                        Access::Govern => {
                            p.govern.urns.insert(urn);
                        }
                    }
                }
                Scope::La(code, a) => {
                    p.read.las.insert(code);
                    if a == Access::Write {
                        p.write.las.insert(code);
                    }
                }
                Scope::Trust(uid, a) => {
                    p.read.trusts.insert(uid);
                    match a {
                        Access::Read => {}
                        Access::Write => {
                            p.write.trusts.insert(uid);
                        }
                        Access::Govern => {
                            p.govern.trusts.insert(uid);
                        }
                    }
                }
            }
        }
        p.scopes = scopes;
        p
    }

    /// Whether the request carried a valid token.
    pub fn is_authenticated(&self) -> bool {
        self.sub.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_grammar_accepts_exactly_the_documented_words() {
        assert_eq!(Scope::parse("admin"), Some(Scope::Admin));
        assert_eq!(
            Scope::parse("school:100000:write"),
            Some(Scope::School(100000, Access::Write))
        );
        assert_eq!(
            Scope::parse("la:202:read"),
            Some(Scope::La(202, Access::Read))
        );
        assert_eq!(
            Scope::parse("trust:2044:read"),
            Some(Scope::Trust(2044, Access::Read))
        );
        for bad in [
            "Admin",
            "school:10000:read",
            "school:1000000:read",
            "la:20:read",
            "la:202:admin",
            "la:202:read:x",
            "la:-02:read",
            "la:+02:read",
            "trust::read",
            "trust:1234567890:read",
            "la:202:govern",
            "school:100000:Govern",
            "school:100000:read'--",
            "",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn write_scope_implies_read_and_unknown_words_grant_nothing() {
        let p = Principal::from_claims(
            "x".into(),
            Some("la:202:write  bogus school:100000:read trust:9:read DROP".into()),
        );
        assert!(p.read.las.contains(&202) && p.write.las.contains(&202));
        assert!(p.read.urns.contains(&100000) && !p.write.urns.contains(&100000));
        assert!(p.read.trusts.contains(&9) && p.write.trusts.is_empty());
        assert!(!p.admin);
        assert_eq!(p.scopes.len(), 3);
    }

    #[test]
    fn govern_scope_reads_and_governs_but_never_writes() {
        assert_eq!(
            Scope::parse("school:100000:govern"),
            Some(Scope::School(100000, Access::Govern))
        );
        assert_eq!(
            Scope::parse("trust:2044:govern"),
            Some(Scope::Trust(2044, Access::Govern))
        );
        let p = Principal::from_claims(
            "chair".into(),
            Some("school:100000:govern trust:2044:govern la:202:govern".into()),
        );
        assert!(p.read.urns.contains(&100000) && p.govern.urns.contains(&100000));
        assert!(p.read.trusts.contains(&2044) && p.govern.trusts.contains(&2044));
        assert!(p.write.is_empty(), "govern grants no write");
        assert!(p.read.las.is_empty() && p.govern.las.is_empty());
        let words: Vec<String> = p.scopes.iter().map(ToString::to_string).collect();
        assert_eq!(words, ["school:100000:govern", "trust:2044:govern"]);
    }
}
