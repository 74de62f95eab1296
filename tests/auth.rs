//! Authentication (SPEC section 3): which bearer tokens the server accepts, what a refused
//! token gets back, what an anonymous caller may do, and the `token` subcommand.
//!
//! The asymmetric keys are test-only fixtures in `tests/fixtures/keys/` (they protect
//! nothing): `ed25519.*.pem` and `rsa.*.pem` are the trusted pairs, `other-ed25519.key.pem`
//! a key no server trusts, and `jwks.json` the two trusted public keys with the kids
//! `test-ed25519-1` and `test-rsa-1`. Regenerate them with
//! `openssl genpkey -algorithm ed25519 -out ed25519.key.pem`,
//! `openssl pkey -in ed25519.key.pem -pubout -out ed25519.pub.pem` (likewise RSA with
//! `-algorithm RSA -pkeyopt rsa_keygen_bits:2048`) and rebuild `jwks.json` from the public
//! keys (`x` is the base64url raw Ed25519 key, `n` the base64url RSA modulus).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const VIEWER: &str = "{ viewer { sub scopes } }";
const ED_KID: &str = "test-ed25519-1";
const RSA_KID: &str = "test-rsa-1";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    repo_root()
        .join("tests/fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Standard claims for `sub` with `scope`, valid for an hour.
fn claims(sub: &str, scope: &str) -> Value {
    let now = now();
    json!({ "sub": sub, "scope": scope, "aud": "senco-oversight", "iat": now, "exp": now + 3600 })
}

/// `claims` with `key` replaced by `value` (or removed when `value` is null).
fn claims_with(sub: &str, scope: &str, key: &str, value: Value) -> Value {
    let mut c = claims(sub, scope);
    let map = c.as_object_mut().unwrap();
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.into(), value);
    }
    c
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// HS256 with the secret every test server trusts.
fn hs(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        claims,
    )
}

fn ed_key() -> EncodingKey {
    EncodingKey::from_ed_pem(&read_fixture("ed25519.key.pem")).unwrap()
}

fn other_ed_key() -> EncodingKey {
    EncodingKey::from_ed_pem(&read_fixture("other-ed25519.key.pem")).unwrap()
}

fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&read_fixture("rsa.key.pem")).unwrap()
}

/// Unpadded base64url, for hand-made tokens (no base64 crate among the dev-dependencies).
fn b64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A compact JWS made by hand from a header, claims and signature part.
fn hand_made(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes()),
        signature
    )
}

/// A server that trusts only the PEM public key(s) in `file` (no shared secret).
async fn pem_server(file: &str) -> TestServer {
    TestServer::start_with(&[
        ("SENCO_JWT_SECRET", ""),
        ("SENCO_JWT_PUBLIC_KEY_FILE", file),
    ])
    .await
}

/// A server that trusts only the JWKS fixture (no shared secret).
async fn jwks_server() -> TestServer {
    let jwks = fixture("jwks.json");
    TestServer::start_with(&[("SENCO_JWT_SECRET", ""), ("SENCO_JWKS_FILE", &jwks)]).await
}

/// The raw response to a POST of `query` with `authorization` as the whole header value.
struct Reply {
    status: u16,
    www_authenticate: Option<String>,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn post_raw(s: &TestServer, authorization: Option<&str>, query: &str) -> Reply {
    let mut req = s
        .client
        .post(s.url())
        .json(&json!({ "query": query, "variables": {} }));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    Reply {
        status: resp.status().as_u16(),
        www_authenticate: resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string()),
        text: resp.text().await.unwrap(),
    }
}

/// Asserts that `token` is refused the way SPEC section 3 says: HTTP 401, a
/// `WWW-Authenticate: Bearer error="invalid_token"` header, one `UNAUTHENTICATED` error,
/// no data, and nothing of the token or of the reason in the body.
async fn assert_refused(s: &TestServer, token: &str) {
    let r = post_raw(s, Some(&format!("Bearer {token}")), VIEWER).await;
    assert_refused_reply(&r, token);
}

fn assert_refused_reply(r: &Reply, token: &str) {
    assert_eq!(r.status, 401, "token should be refused: {}", r.text);
    let challenge = r
        .www_authenticate
        .as_deref()
        .unwrap_or_else(|| panic!("no WWW-Authenticate header: {}", r.text));
    assert!(
        challenge.starts_with("Bearer "),
        "challenge is not Bearer: {challenge}"
    );
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "challenge lacks invalid_token: {challenge}"
    );
    let body = r.json();
    let errors = body["errors"].as_array().expect("an errors array");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    assert!(
        body.get("data").is_none_or(Value::is_null),
        "a refused token must run nothing: {body}"
    );
    // Nothing of the token comes back: neither whole nor any of its parts.
    for part in token.split('.').filter(|p| p.len() >= 8) {
        assert!(!r.text.contains(part), "body echoes the token: {}", r.text);
    }
    // Nor the reason, which is for the debug log only.
    let lower = r.text.to_lowercase();
    for word in [
        "expired",
        "signature",
        "audience",
        "issuer",
        "kid",
        "algorithm",
        "nbf",
        "immature",
        "too large",
        "base64",
        "json error",
        "missing",
        "claim",
        "hs256",
        "eddsa",
    ] {
        assert!(!lower.contains(word), "body leaks `{word}`: {}", r.text);
    }
}

/// Asserts that `token` is accepted and the server sees `sub`.
async fn assert_accepted(s: &TestServer, token: &str, sub: &str) -> Value {
    let data = s.ok(token, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["sub"], sub, "{data}");
    data["viewer"].clone()
}

fn scopes_of(viewer: &Value) -> Vec<String> {
    let mut v: Vec<String> = viewer["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
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

// ---------------------------------------------------------------------------------------
// Anonymous callers and the viewer
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn anonymous_caller_may_read_viewer_and_nothing_else() {
    let s = TestServer::start().await;
    small_world(&s).await;

    let (status, body) = s.post(None, VIEWER, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["viewer"]["sub"], Value::Null);
    assert_eq!(body["data"]["viewer"]["scopes"], json!([]));

    for query in [
        "{ schools { totalCount } }",
        "{ school(urn: 100001) { name } }",
        "{ localAuthorities { code } }",
    ] {
        let (code, body) = s.err(None, query, json!({})).await;
        assert_eq!(code, "UNAUTHENTICATED", "{query}: {body}");
        assert!(
            !body.to_string().contains("School 1000"),
            "anonymous caller saw data: {body}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn anonymous_caller_cannot_write_reference_data() {
    let s = TestServer::start().await;
    let (code, body) = s
        .err(
            None,
            "mutation { upsertLocalAuthority(input: { code: 909, name: \"Anon\" }) { code } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED", "{body}");
    assert!(!la_codes(&s).await.contains(&909));
    s.stop().await;
}

#[tokio::test]
async fn viewer_returns_the_tokens_sub_and_only_its_recognised_scopes() {
    let s = TestServer::start().await;
    let t = token(
        "officer@camden",
        "la:202:read school:100001:write trust:2044:read admin bogus la:20:read",
    );
    let viewer = assert_accepted(&s, &t, "officer@camden").await;
    assert_eq!(
        scopes_of(&viewer),
        vec![
            "admin",
            "la:202:read",
            "school:100001:write",
            "trust:2044:read"
        ]
    );
    // A stable order: asking twice gives the same list.
    let again = s.ok(&t, VIEWER, json!({})).await;
    assert_eq!(again["viewer"]["scopes"], viewer["scopes"]);
    s.stop().await;
}

#[tokio::test]
async fn bearer_scheme_is_matched_without_regard_to_case() {
    let s = TestServer::start().await;
    let t = token("case-user", "la:202:read");
    let r = post_raw(&s, Some(&format!("bearer {t}")), VIEWER).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["data"]["viewer"]["sub"], "case-user");
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Refused tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn token_with_a_bad_signature_is_refused() {
    let s = TestServer::start().await;
    // Signed with another secret.
    let other = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(b"another-secret-0123456789-abcdefghijkl"),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &other).await;

    // A genuine token whose payload was swapped for one that claims `admin`.
    let genuine = token("mallory", "school:100001:read");
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged_payload = b64url(claims("mallory", "admin").to_string().as_bytes());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_refused(&s, &tampered).await;

    // A genuine token with its signature cut off.
    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert_refused(&s, &stripped).await;
    s.stop().await;
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let s = TestServer::start().await;
    let payload = claims("mallory", "admin");
    for alg in ["none", "None", "NONE"] {
        let unsigned = hand_made(&json!({ "alg": alg, "typ": "JWT" }), &payload, "");
        assert_refused(&s, &unsigned).await;
    }
    // `none` with a signature part attached anyway.
    let with_sig = hand_made(&json!({ "alg": "none", "typ": "JWT" }), &payload, "c2ln");
    assert_refused(&s, &with_sig).await;
    // An HS256 header but no signature.
    let hs_unsigned = hand_made(&json!({ "alg": "HS256", "typ": "JWT" }), &payload, "");
    assert_refused(&s, &hs_unsigned).await;
    s.stop().await;
}

#[tokio::test]
async fn hs256_token_is_refused_by_a_server_configured_only_with_a_public_key() {
    let ed_pub = fixture("ed25519.pub.pem");
    let s = pem_server(&ed_pub).await;
    // Signed with the secret other test servers trust: this one trusts no secret.
    assert_refused(&s, &hs(&claims("mallory", "admin"))).await;
    // Algorithm confusion: HS256 "signed" with the public key text as the HMAC secret.
    let confused = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&read_fixture("ed25519.pub.pem")),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &confused).await;
    s.stop().await;

    let rsa_pub = fixture("rsa.pub.pem");
    let s = pem_server(&rsa_pub).await;
    let confused = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&read_fixture("rsa.pub.pem")),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &confused).await;
    s.stop().await;
}

#[tokio::test]
async fn hs256_token_is_refused_by_a_server_configured_only_with_a_jwks() {
    let s = jwks_server().await;
    assert_refused(&s, &hs(&claims("mallory", "admin"))).await;
    let with_kid = sign(
        Algorithm::HS256,
        Some(ED_KID),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &with_kid).await;
    s.stop().await;
}

#[tokio::test]
async fn eddsa_token_signed_by_the_configured_pem_key_is_accepted() {
    // The shared secret stays configured beside the key, for `small_world`'s admin token.
    let ed_pub = fixture("ed25519.pub.pem");
    let s = TestServer::start_with(&[("SENCO_JWT_PUBLIC_KEY_FILE", &ed_pub)]).await;
    small_world(&s).await;
    let t = sign(
        Algorithm::EdDSA,
        None,
        &ed_key(),
        &claims("ed-user", "la:202:read"),
    );
    let viewer = assert_accepted(&s, &t, "ed-user").await;
    assert_eq!(scopes_of(&viewer), vec!["la:202:read"]);
    let data = s.ok(&t, "{ schools { totalCount } }", json!({})).await;
    assert_eq!(data["schools"]["totalCount"], 2);
    s.stop().await;
}

#[tokio::test]
async fn rs256_token_signed_by_the_configured_pem_key_is_accepted() {
    let s = pem_server(&fixture("rsa.pub.pem")).await;
    let t = sign(
        Algorithm::RS256,
        None,
        &rsa_key(),
        &claims("rsa-user", "school:100001:read"),
    );
    let viewer = assert_accepted(&s, &t, "rsa-user").await;
    assert_eq!(scopes_of(&viewer), vec!["school:100001:read"]);
    s.stop().await;
}

#[tokio::test]
async fn pem_file_with_several_public_keys_accepts_a_token_from_each() {
    let dir = std::env::temp_dir().join(format!("senco-keys-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let both = dir.join("both.pem");
    let mut text = String::from_utf8(read_fixture("rsa.pub.pem")).unwrap();
    text.push_str(&String::from_utf8(read_fixture("ed25519.pub.pem")).unwrap());
    std::fs::write(&both, text).unwrap();

    let s = pem_server(&both.display().to_string()).await;
    let ed = sign(Algorithm::EdDSA, None, &ed_key(), &claims("ed", ""));
    let rsa = sign(Algorithm::RS256, None, &rsa_key(), &claims("rsa", ""));
    assert_accepted(&s, &ed, "ed").await;
    assert_accepted(&s, &rsa, "rsa").await;
    let stranger = sign(Algorithm::EdDSA, None, &other_ed_key(), &claims("x", ""));
    assert_refused(&s, &stranger).await;
    s.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn token_signed_by_an_untrusted_key_of_the_right_algorithm_is_refused() {
    let s = pem_server(&fixture("ed25519.pub.pem")).await;
    let t = sign(
        Algorithm::EdDSA,
        None,
        &other_ed_key(),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &t).await;
    // And an RS256 token, for which no key is configured at all.
    let rsa = sign(
        Algorithm::RS256,
        None,
        &rsa_key(),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &rsa).await;
    s.stop().await;
}

#[tokio::test]
async fn jwks_keys_are_chosen_by_kid_and_accept_their_own_tokens() {
    let s = jwks_server().await;
    let ed = sign(
        Algorithm::EdDSA,
        Some(ED_KID),
        &ed_key(),
        &claims("jwks-ed", "la:202:read"),
    );
    let viewer = assert_accepted(&s, &ed, "jwks-ed").await;
    assert_eq!(scopes_of(&viewer), vec!["la:202:read"]);
    let rsa = sign(
        Algorithm::RS256,
        Some(RSA_KID),
        &rsa_key(),
        &claims("jwks-rsa", "admin"),
    );
    let viewer = assert_accepted(&s, &rsa, "jwks-rsa").await;
    assert_eq!(scopes_of(&viewer), vec!["admin"]);
    s.stop().await;
}

#[tokio::test]
async fn jwks_token_with_an_unknown_kid_is_refused() {
    let s = jwks_server().await;
    let t = sign(
        Algorithm::EdDSA,
        Some("no-such-key"),
        &ed_key(),
        &claims("jwks-ed", "la:202:read"),
    );
    assert_refused(&s, &t).await;
    s.stop().await;
}

#[tokio::test]
async fn jwks_kid_selects_one_key_and_no_other_key_may_verify_the_token() {
    let s = jwks_server().await;
    // Right kid, but signed by a key the JWKS does not hold.
    let stranger = sign(
        Algorithm::EdDSA,
        Some(ED_KID),
        &other_ed_key(),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &stranger).await;
    // A genuine RSA signature presented under the Ed25519 key's kid.
    let crossed = sign(
        Algorithm::RS256,
        Some(ED_KID),
        &rsa_key(),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &crossed).await;
    // A genuine Ed25519 signature presented under the RSA key's kid.
    let crossed = sign(
        Algorithm::EdDSA,
        Some(RSA_KID),
        &ed_key(),
        &claims("mallory", "admin"),
    );
    assert_refused(&s, &crossed).await;
    s.stop().await;
}

#[tokio::test]
async fn token_expired_beyond_the_60_second_leeway_is_refused() {
    let s = TestServer::start().await;
    let t = hs(&claims_with("late", "admin", "exp", json!(now() - 120)));
    assert_refused(&s, &t).await;
    let t = hs(&claims_with("late", "admin", "exp", json!(now() - 86_400)));
    assert_refused(&s, &t).await;
    s.stop().await;
}

#[tokio::test]
async fn token_expired_within_the_60_second_leeway_is_accepted() {
    let s = TestServer::start().await;
    let t = hs(&claims_with("skewed", "admin", "exp", json!(now() - 20)));
    assert_accepted(&s, &t, "skewed").await;
    s.stop().await;
}

#[tokio::test]
async fn token_whose_nbf_is_in_the_future_is_refused() {
    let s = TestServer::start().await;
    let t = hs(&claims_with("early", "admin", "nbf", json!(now() + 600)));
    assert_refused(&s, &t).await;
    s.stop().await;
}

#[tokio::test]
async fn token_whose_nbf_is_within_the_leeway_or_past_is_accepted() {
    let s = TestServer::start().await;
    let t = hs(&claims_with("skewed", "", "nbf", json!(now() + 20)));
    assert_accepted(&s, &t, "skewed").await;
    let t = hs(&claims_with("normal", "", "nbf", json!(now() - 5)));
    assert_accepted(&s, &t, "normal").await;
    s.stop().await;
}

#[tokio::test]
async fn token_for_another_audience_or_none_is_refused() {
    let s = TestServer::start().await;
    for aud in [
        json!("another-service"),
        json!(["another-service"]),
        json!(""),
    ] {
        let t = hs(&claims_with("aud-user", "admin", "aud", aud));
        assert_refused(&s, &t).await;
    }
    let t = hs(&claims_with("aud-user", "admin", "aud", Value::Null));
    assert_refused(&s, &t).await;
    // One of several audiences is enough.
    let t = hs(&claims_with(
        "aud-user",
        "",
        "aud",
        json!(["another-service", "senco-oversight"]),
    ));
    assert_accepted(&s, &t, "aud-user").await;
    s.stop().await;
}

#[tokio::test]
async fn configured_audience_replaces_the_default() {
    let s = TestServer::start_with(&[("SENCO_JWT_AUDIENCE", "oversight-prod")]).await;
    // `common::token` carries the default audience.
    assert_refused(&s, &token("u", "admin")).await;
    let t = hs(&claims_with("u", "", "aud", json!("oversight-prod")));
    assert_accepted(&s, &t, "u").await;
    s.stop().await;
}

#[tokio::test]
async fn token_from_the_wrong_issuer_or_none_is_refused_when_an_issuer_is_configured() {
    let s = TestServer::start_with(&[("SENCO_JWT_ISSUER", "https://idp.example.org")]).await;
    let t = hs(&claims_with(
        "iss-user",
        "",
        "iss",
        json!("https://idp.example.org"),
    ));
    assert_accepted(&s, &t, "iss-user").await;
    let t = hs(&claims_with(
        "iss-user",
        "admin",
        "iss",
        json!("https://evil.example.org"),
    ));
    assert_refused(&s, &t).await;
    // No `iss` at all.
    assert_refused(&s, &token("iss-user", "admin")).await;
    s.stop().await;
}

#[tokio::test]
async fn issuer_is_not_required_when_none_is_configured() {
    let s = TestServer::start().await;
    let t = hs(&claims_with("any-iss", "", "iss", json!("https://anyone")));
    assert_accepted(&s, &t, "any-iss").await;
    s.stop().await;
}

#[tokio::test]
async fn token_without_a_string_sub_is_refused() {
    let s = TestServer::start().await;
    assert_refused(&s, &hs(&claims_with("x", "admin", "sub", Value::Null))).await;
    assert_refused(&s, &hs(&claims_with("x", "admin", "sub", json!(42)))).await;
    s.stop().await;
}

#[tokio::test]
async fn token_without_exp_is_refused() {
    let s = TestServer::start().await;
    assert_refused(&s, &hs(&claims_with("x", "admin", "exp", Value::Null))).await;
    s.stop().await;
}

#[tokio::test]
async fn garbage_in_the_authorization_header_is_refused() {
    let s = TestServer::start().await;
    for garbage in [
        "garbage",
        "a.b.c",
        "..",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.%%%.***",
    ] {
        assert_refused(&s, garbage).await;
    }
    // Present but not a bearer token at all.
    for header in ["Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Token abc.def.ghi"] {
        let r = post_raw(&s, Some(header), VIEWER).await;
        assert_refused_reply(&r, "");
    }
    s.stop().await;
}

#[tokio::test]
async fn oversized_token_is_refused_even_when_validly_signed() {
    let s = TestServer::start().await;
    // Well over the 8 KiB limit, signed with the trusted secret.
    let padding = "x".repeat(9 * 1024);
    let big = hs(&claims("big", &format!("admin {padding}")));
    assert!(big.len() > 8 * 1024);
    assert_refused(&s, &big).await;
    // The same token with padding that keeps it under the limit is accepted, so the size
    // alone is the reason.
    let padding = "x".repeat(4 * 1024);
    let small = hs(&claims("big", &format!("admin {padding}")));
    assert!(small.len() < 8 * 1024);
    assert_accepted(&s, &small, "big").await;
    s.stop().await;
}

#[tokio::test]
async fn every_token_defect_gets_the_same_response_so_nothing_about_the_reason_leaks() {
    let s = TestServer::start().await;
    let defects = [
        "garbage".to_string(),
        hs(&claims_with("x", "admin", "exp", json!(now() - 3600))),
        hs(&claims_with("x", "admin", "aud", json!("other"))),
        hs(&claims_with("x", "admin", "sub", Value::Null)),
        sign(
            Algorithm::HS256,
            None,
            &EncodingKey::from_secret(b"wrong-secret-wrong-secret-wrong-secret"),
            &claims("x", "admin"),
        ),
        hand_made(&json!({ "alg": "none" }), &claims("x", "admin"), ""),
    ];
    let mut bodies = Vec::new();
    let mut challenges = Vec::new();
    for t in &defects {
        let r = post_raw(&s, Some(&format!("Bearer {t}")), VIEWER).await;
        assert_refused_reply(&r, t);
        bodies.push(r.json());
        challenges.push(r.www_authenticate.clone());
    }
    for (b, c) in bodies.iter().zip(&challenges) {
        assert_eq!(b, &bodies[0]);
        assert_eq!(c, &challenges[0]);
    }
    s.stop().await;
}

#[tokio::test]
async fn invalid_token_is_refused_over_get_too() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .get(s.url())
        .query(&[("query", VIEWER)])
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    s.stop().await;
}

#[tokio::test]
async fn refused_admin_token_writes_nothing() {
    let s = TestServer::start().await;
    let expired = hs(&claims_with(
        "admin-user",
        "admin",
        "exp",
        json!(now() - 3600),
    ));
    let r = post_raw(
        &s,
        Some(&format!("Bearer {expired}")),
        "mutation { upsertLocalAuthority(input: { code: 908, name: \"Late\" }) { code } }",
    )
    .await;
    assert_refused_reply(&r, &expired);
    assert!(!la_codes(&s).await.contains(&908));
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// Scope words
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_scope_words_are_ignored_and_grant_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for scope in [
        "la:202:read' OR 1=1",
        "la:202:read'--",
        "school:abc:read",
        "school:100001:read;DROP TABLE school",
        "la:202:read:extra",
        "la:202:admin",
        "Admin",
        "ADMIN",
        "trust:*:read",
        "la:%:read",
        "school:10000:read",
    ] {
        let t = token("probe", scope);
        // The token is still accepted: unknown words are ignored, never an error.
        let viewer = assert_accepted(&s, &t, "probe").await;
        assert_eq!(viewer["scopes"], json!([]), "{scope}: {viewer}");
        let data = s.ok(&t, "{ schools { totalCount } }", json!({})).await;
        assert_eq!(data["schools"]["totalCount"], 0, "{scope} granted schools");
        let (code, _) = s
            .err(Some(&t), "{ school(urn: 100001) { name } }", json!({}))
            .await;
        assert_eq!(code, "FORBIDDEN", "{scope}");
        let data = s.ok(&t, "{ localAuthorities { code } }", json!({})).await;
        assert_eq!(data["localAuthorities"], json!([]), "{scope}");
        let (code, _) = s
            .err(
                Some(&t),
                "mutation { upsertLocalAuthority(input: { code: 907, name: \"X\" }) { code } }",
                json!({}),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "{scope}");
    }
    assert!(!la_codes(&s).await.contains(&907));
    s.stop().await;
}

#[tokio::test]
async fn malformed_scope_words_beside_a_valid_one_leave_the_valid_one_working() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = token("mixed", "la:202:read' OR 1=1 school:100004:read bogus");
    let viewer = assert_accepted(&s, &t, "mixed").await;
    assert_eq!(scopes_of(&viewer), vec!["school:100004:read"]);
    let data = s
        .ok(&t, "{ schools { edges { node { urn } } } }", json!({}))
        .await;
    assert_eq!(
        data["schools"]["edges"],
        json!([{ "node": { "urn": 100004 } }])
    );
    s.stop().await;
}

/// The scope claim is space-delimited (RFC 9068, RFC 6749 section 3.3: a scope token is
/// printable ASCII without spaces). `admin\nx` is one malformed word, not `admin`.
#[tokio::test]
async fn scope_words_with_control_characters_grant_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for scope in ["admin\nx", "x\nadmin", "la:202:read\tx", "admin\r"] {
        let t = token("probe", scope);
        let viewer = assert_accepted(&s, &t, "probe").await;
        assert_eq!(
            viewer["scopes"],
            json!([]),
            "{scope:?} was read as scope words: {viewer}"
        );
        let data = s.ok(&t, "{ schools { totalCount } }", json!({})).await;
        assert_eq!(
            data["schools"]["totalCount"], 0,
            "{scope:?} granted schools"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn token_with_no_scope_claim_is_accepted_and_reads_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let t = hs(&claims_with("bare", "", "scope", Value::Null));
    let viewer = assert_accepted(&s, &t, "bare").await;
    assert_eq!(viewer["scopes"], json!([]));
    let data = s.ok(&t, "{ schools { totalCount } }", json!({})).await;
    assert_eq!(data["schools"]["totalCount"], 0);
    s.stop().await;
}

// ---------------------------------------------------------------------------------------
// The `token` subcommand
// ---------------------------------------------------------------------------------------

async fn run_token_subcommand(secret: &str, args: &[&str]) -> std::process::Output {
    // An empty working directory, so no developer `.env` is picked up.
    let dir = std::env::temp_dir().join(format!("senco-token-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
        .arg("token")
        .args(args)
        .env_clear()
        .env("SENCO_JWT_SECRET", secret)
        .env("SENCO_DEMO", "false")
        .env("SENCO_DATABASE_URL", "sqlite://unused.db?mode=rwc")
        .env("RUST_LOG", "off")
        .current_dir(&dir)
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[tokio::test]
async fn token_subcommand_prints_a_token_a_server_with_the_same_secret_accepts() {
    let out = run_token_subcommand(SECRET, &["--sub", "x", "--scope", "la:202:read"]).await;
    assert!(
        out.status.success(),
        "token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let issued = printed.trim();
    assert_eq!(issued.split('.').count(), 3, "not a compact JWS: {printed}");
    assert!(!issued.contains(char::is_whitespace), "{printed}");

    let s = TestServer::start().await;
    small_world(&s).await;
    let viewer = assert_accepted(&s, issued, "x").await;
    assert_eq!(scopes_of(&viewer), vec!["la:202:read"]);
    let data = s
        .ok(issued, "{ schools { edges { node { urn } } } }", json!({}))
        .await;
    assert_eq!(
        data["schools"]["edges"],
        json!([{ "node": { "urn": 100001 } }, { "node": { "urn": 100002 } }])
    );
    s.stop().await;

    // A server with another secret refuses it.
    let other =
        TestServer::start_with(&[("SENCO_JWT_SECRET", "a-different-secret-0123456789-abcdefgh")])
            .await;
    assert_refused(&other, issued).await;
    other.stop().await;
}

#[tokio::test]
async fn token_subcommand_honours_ttl() {
    let out = run_token_subcommand(
        SECRET,
        &["--sub", "short", "--scope", "admin", "--ttl", "30m"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let issued = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // Read the claims back without trusting them: the payload is plain base64url JSON.
    let payload = issued.split('.').nth(1).unwrap();
    let claims = decode_b64url_json(payload);
    let ttl = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(ttl, 30 * 60, "{claims}");
    assert_eq!(claims["aud"], "senco-oversight");
    assert_eq!(claims["sub"], "short");

    let s = TestServer::start().await;
    assert_accepted(&s, &issued, "short").await;
    s.stop().await;
}

fn decode_b64url_json(s: &str) -> Value {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: u32 = 0;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    serde_json::from_slice(&out).unwrap()
}

// ---------------------------------------------------------------------------------------
// An OpenID Connect provider's keys (SENCO_OIDC_ISSUER), fetched through its discovery
// document. The browser sign-in through a real provider is in web/tests/console.mjs.
// ---------------------------------------------------------------------------------------

/// The fixture's public keys with these kids, as a provider publishes them (with an
/// encryption key beside them, which must be passed over).
fn published(kids: &[&str]) -> Value {
    let all: Value = serde_json::from_slice(&read_fixture("jwks.json")).unwrap();
    let mut keys: Vec<Value> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| kids.contains(&k["kid"].as_str().unwrap()))
        .cloned()
        .collect();
    let mut enc = keys.first().cloned().unwrap_or(json!({}));
    enc["kid"] = json!("an-encryption-key");
    enc["use"] = json!("enc");
    keys.push(enc);
    json!({ "keys": keys })
}

#[tokio::test]
async fn an_openid_providers_tokens_are_verified_with_the_keys_its_discovery_names() {
    let p = oidc_provider(published(&[ED_KID])).await;
    let s =
        TestServer::start_with(&[("SENCO_JWT_SECRET", ""), ("SENCO_OIDC_ISSUER", &p.issuer)]).await;
    let with_iss = |sub: &str, iss: Value| claims_with(sub, "la:202:read", "iss", iss);
    let good = sign(
        Algorithm::EdDSA,
        Some(ED_KID),
        &ed_key(),
        &with_iss("officer@la", json!(p.issuer)),
    );
    let viewer = assert_accepted(&s, &good, "officer@la").await;
    assert_eq!(viewer["scopes"], json!(["la:202:read"]));
    // The provider's keys vouch only for the provider's own tokens.
    for iss in [Value::Null, json!("https://elsewhere.example")] {
        let t = sign(
            Algorithm::EdDSA,
            Some(ED_KID),
            &ed_key(),
            &with_iss("x", iss),
        );
        assert_refused(&s, &t).await;
    }
    // A key the provider has not published is refused, and is accepted once the provider
    // publishes it (a rotation), without a restart.
    let rotated = sign(
        Algorithm::RS256,
        Some(RSA_KID),
        &rsa_key(),
        &with_iss("rotated@la", json!(p.issuer)),
    );
    assert_refused(&s, &rotated).await;
    *p.jwks.lock().unwrap() = published(&[ED_KID, RSA_KID]);
    let mut accepted = false;
    for _ in 0..40 {
        // Each refusal of an unknown kid asks for the keys again (at most every 5 s).
        let (status, _) = s.post(Some(&rotated), VIEWER, json!({})).await;
        if status == 200 {
            accepted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(accepted, "the rotated key was never fetched");
    assert_accepted(&s, &rotated, "rotated@la").await;
    s.stop().await;
}

#[tokio::test]
async fn a_server_whose_openid_issuer_does_not_answer_refuses_to_start_and_says_why() {
    let dir = std::env::temp_dir().join(format!("senco-oidc-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_senco-oversight"))
        .arg("serve")
        .current_dir(&dir)
        .env("SENCO_BIND", "127.0.0.1:0")
        .env("SENCO_JWT_SECRET", "")
        .env("SENCO_DEMO", "false")
        .env("SENCO_OIDC_ISSUER", &dead)
        .env(
            "SENCO_DATABASE_URL",
            format!("sqlite://{}/x.db?mode=rwc", dir.display()),
        )
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SENCO_OIDC_ISSUER") && err.contains("/.well-known/openid-configuration"),
        "{err}"
    );
}
