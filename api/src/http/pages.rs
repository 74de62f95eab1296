//! The pages the binary serves itself (SPEC sections 6 and 8): the web console at `/` with
//! its assets under `/assets/` and its settings at `/console/config.json`, GraphiQL at
//! `/graphiql` with its assets under `/graphiql/assets/`, and the schema at
//! `/schema.graphql`.
//!
//! Both are built once by Vite, the console from `web/` and GraphiQL from `graphiql/` (the
//! `graphiql` npm package), into `dist/` folders that are committed and embedded here at
//! compile time, so building the binary needs no Node.js and a page holding a token loads
//! nothing from a CDN.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::AppState;

/// GraphiQL as built by `npm run build` in `graphiql/`. `debug-embed` embeds it in debug
/// builds too, so that a test binary serves exactly what a release binary does.
#[derive(rust_embed::Embed)]
#[folder = "../graphiql/dist"]
struct GraphiQLBuild;

/// The web console as built by `npm run build` in `web/`.
#[derive(rust_embed::Embed)]
#[folder = "../web/dist"]
struct ConsoleBuild;

/// The trusted documents the console's build made from its own operations: the default
/// `SENCO_TRUSTED_DOCUMENTS` (SPEC 6 and 8).
pub fn console_documents() -> Option<String> {
    ConsoleBuild::get("trusted-documents.json")
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// The console's Content-Security-Policy: everything from this server alone, no inline
/// script or style; `connect-src` adds the OpenID Connect issuer's origin when one is
/// configured, since the browser fetches its discovery document and exchanges the code at
/// its token endpoint.
fn console_csp(issuer: Option<&str>) -> String {
    let extra = issuer
        .and_then(url_origin)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'{extra}; style-src 'self'; \
         img-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// `scheme://host[:port]` of an absolute http(s) URL.
fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && !host.contains(['\'', ' ', ';'])).then(|| format!("{scheme}://{host}"))
}

/// The Content-Security-Policy of every page served here: the least GraphiQL runs under.
///
/// - `script-src`, `worker-src`, `connect-src` are `'self'`: the bundle, the Monaco editor's
///   workers (plain files under `/graphiql/assets/`, started by URL, no `blob:`) and
///   `/graphql`.
/// - `style-src` adds `'unsafe-inline'`: Monaco writes `<style>` elements and `style`
///   attributes at run time (themes, layout), and without them the editors do not render
///   (a browser with `style-src 'self'` alone reports hundreds of violations). Styles cannot
///   run code, and with `img-src`/`font-src` closed they cannot send anything away either.
/// - `font-src` adds `data:`: GraphiQL's stylesheet carries its fonts as `data:` URLs.
/// - `img-src` adds `data:`: Monaco underlines an error in the query, variables or headers
///   with a wavy line drawn as a `data:` SVG.
/// - Nothing else: no plugins, no `<base>`, no forms, not framed by other sites.
const CSP: &str = "default-src 'none'; script-src 'self'; worker-src 'self'; \
                   connect-src 'self'; style-src 'self' 'unsafe-inline'; \
                   font-src 'self' data:; img-src 'self' data:; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Built asset names carry a hash of their content, so a browser may keep them for good.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages name the assets of the current build (and reflect the configuration): always ask.
const REVALIDATE: &str = "no-cache";

/// `GET /`: the web console's page.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let csp = console_csp(state.config.oidc_issuer.as_deref());
    embedded::<ConsoleBuild>("index.html", &headers, REVALIDATE, &csp)
}

/// `GET /assets/{*path}`: the console's scripts and styles.
pub async fn console_asset(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let csp = console_csp(state.config.oidc_issuer.as_deref());
    embedded::<ConsoleBuild>(&format!("assets/{path}"), &headers, IMMUTABLE, &csp)
}

/// `GET /console/config.json`: what the console needs to know of this server's settings
/// before sign-in: the OpenID Connect provider, if any (no secret: the console is a public
/// client using PKCE), and whether GraphiQL is served.
pub async fn console_config(State(state): State<AppState>) -> Response {
    let oidc = match (&state.config.oidc_issuer, &state.config.oidc_client_id) {
        (Some(issuer), Some(client_id)) => serde_json::json!({
            "issuer": issuer,
            "clientId": client_id,
            "audience": state.config.jwt_audience,
            "scope": state.config.oidc_scopes,
        }),
        _ => serde_json::Value::Null,
    };
    let body = serde_json::json!({ "oidc": oidc, "graphiql": state.config.graphiql });
    page(
        StatusCode::OK,
        "application/json",
        REVALIDATE,
        body.to_string().into_bytes(),
        CSP,
    )
}

/// `GET /schema.graphql`: the SDL, as checked in at `schema.graphql`. Not routed when
/// introspection is off, since it says the same.
pub async fn schema() -> Response {
    page(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        REVALIDATE,
        crate::graphql::sdl().into_bytes(),
        CSP,
    )
}

/// `GET /graphiql`: GraphiQL's page.
pub async fn graphiql(headers: HeaderMap) -> Response {
    embedded::<GraphiQLBuild>("index.html", &headers, REVALIDATE, CSP)
}

/// `GET /graphiql/assets/{*path}`: its scripts, styles, workers and fonts.
pub async fn graphiql_asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    embedded::<GraphiQLBuild>(&format!("assets/{path}"), &headers, IMMUTABLE, CSP)
}

/// One embedded file with its media type, an `ETag` from its content, and `304` when the
/// browser already has it. A name not in the build (`..` included) is `404`.
fn embedded<B: rust_embed::Embed>(
    name: &str,
    request: &HeaderMap,
    cache: &'static str,
    csp: &str,
) -> Response {
    let Some(file) = B::get(name) else {
        return super::not_found_response();
    };
    let etag = format!(
        "\"{}\"",
        URL_SAFE_NO_PAD.encode(file.metadata.sha256_hash())
    );
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime == "application/javascript" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    let mut response = if fresh {
        page(
            StatusCode::NOT_MODIFIED,
            &content_type,
            cache,
            Vec::new(),
            csp,
        )
    } else {
        page(
            StatusCode::OK,
            &content_type,
            cache,
            file.data.into_owned(),
            csp,
        )
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// A response with the headers every page and asset here carries.
fn page(
    status: StatusCode,
    content_type: &str,
    cache: &'static str,
    body: Vec<u8>,
    csp: &str,
) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
