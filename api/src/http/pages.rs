//! The pages the binary serves itself (SPEC section 6): the home page at `/`, GraphiQL at
//! `/graphiql` with its assets under `/graphiql/assets/`, and the schema at
//! `/schema.graphql`.
//!
//! GraphiQL is built once from `graphiql/` (Vite, the `graphiql` npm package) into
//! `graphiql/dist/`, which is committed and embedded here at compile time, so building the
//! binary needs no Node.js and a page holding a token loads nothing from a CDN.

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

/// `GET /`: a short page pointing at what this server offers, until the web console
/// (SPEC section 8) takes its place. It links only what the configuration serves.
pub async fn home(State(state): State<AppState>) -> Response {
    let graphiql = if state.config.graphiql {
        r#"<li><a href="/graphiql">GraphiQL</a>: write and run queries in the browser;
  paste a bearer token into its request headers.</li>"#
    } else {
        "<li>GraphiQL is switched off on this server (<code>SENCO_GRAPHIQL=false</code>).</li>"
    };
    let schema = if state.config.introspection {
        r#"<li><a href="/schema.graphql">The schema</a>, in the GraphQL schema language.</li>"#
    } else {
        "<li>The schema is not published here: introspection is switched off \
         (<code>SENCO_INTROSPECTION=false</code>).</li>"
    };
    let readme = match env!("CARGO_PKG_REPOSITORY") {
        "" => "<li>How to run, configure and call it: <code>README.md</code> at the root of \
               the source.</li>"
            .to_string(),
        repo => format!(
            r#"<li><a href="{repo}#readme">The README</a>: how to run, configure and call it.</li>"#
        ),
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SENCO Oversight</title>
<style>
body {{ font-family: system-ui, sans-serif; line-height: 1.5; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #0b0c0c; }}
a {{ color: #1d4f91; }}
code {{ font-size: 0.95em; }}
</style>
</head>
<body>
<main>
<h1>SENCO Oversight</h1>
<p>A GraphQL API with which local authorities and academy trusts oversee the SENCOs of
their schools. A web console will be served here; until then:</p>
<ul>
{graphiql}
{schema}
<li>GraphQL: <code>POST /graphql</code> with <code>Authorization: Bearer &lt;token&gt;</code>.</li>
{readme}
<li><a href="/health">Health</a> and <a href="/metrics">metrics</a>.</li>
</ul>
</main>
</body>
</html>
"#
    );
    page(
        StatusCode::OK,
        "text/html; charset=utf-8",
        REVALIDATE,
        body.into_bytes(),
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
    )
}

/// `GET /graphiql`: GraphiQL's page.
pub async fn graphiql(headers: HeaderMap) -> Response {
    embedded("index.html", &headers, REVALIDATE)
}

/// `GET /graphiql/assets/{*path}`: its scripts, styles, workers and fonts.
pub async fn graphiql_asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    embedded(&format!("assets/{path}"), &headers, IMMUTABLE)
}

/// One embedded file with its media type, an `ETag` from its content, and `304` when the
/// browser already has it. A name not in the build (`..` included) is `404`.
fn embedded(name: &str, request: &HeaderMap, cache: &'static str) -> Response {
    let Some(file) = GraphiQLBuild::get(name) else {
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
        page(StatusCode::NOT_MODIFIED, &content_type, cache, Vec::new())
    } else {
        page(StatusCode::OK, &content_type, cache, file.data.into_owned())
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// A response with the headers every page and asset here carries.
fn page(status: StatusCode, content_type: &str, cache: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
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
