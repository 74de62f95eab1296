//! The pages the binary serves itself (SPEC section 6): GraphiQL at `/graphiql` from the
//! committed build in `graphiql/dist/`, embedded in the binary, with nothing from a CDN and
//! under a Content-Security-Policy of `'self'`; the web console at `/`; the schema at
//! `/schema.graphql`; and all of it following `SENCO_GRAPHIQL` and `SENCO_INTROSPECTION`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

/// Hosts that serve scripts, styles or fonts to other sites' pages. None may appear in
/// GraphiQL's page, scripts or styles, with `http://`, `https://` or `//` before it.
const CDN_HOSTS: [&str; 9] = [
    "unpkg.com",
    "cdn.jsdelivr.net",
    "jsdelivr.com",
    "cdnjs.cloudflare.com",
    "esm.sh",
    "cdn.skypack.dev",
    "ga.jspm.io",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
];

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    s.client
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap()
}

/// The CSP's directives, each with its sources.
fn directives(csp: &str) -> BTreeMap<String, Vec<String>> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_string).collect()))
        })
        .collect()
}

/// The value of `attr` in every `<tag ...>` of `html`.
fn attributes(html: &str, tag: &str, attr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let open = format!("<{tag}");
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let end = after.find('>').unwrap();
        let element = &after[..end];
        let key = format!("{attr}=\"");
        if let Some(j) = element.find(&key) {
            let value = &element[j + key.len()..];
            found.push(value[..value.find('"').unwrap()].to_string());
        }
        rest = &after[end..];
    }
    found
}

/// The media type a built file must be served with, by its extension.
fn expected_media_type(name: &str) -> &'static [&'static str] {
    match name.rsplit('.').next().unwrap() {
        "js" => &["text/javascript", "application/javascript"],
        "css" => &["text/css"],
        "html" => &["text/html"],
        "ttf" => &["font/ttf"],
        "woff2" => &["font/woff2"],
        "svg" => &["image/svg+xml"],
        "png" => &["image/png"],
        other => panic!("graphiql/dist holds a .{other} file: add its media type here"),
    }
}

fn cdn_references(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    CDN_HOSTS
        .iter()
        .flat_map(|host| ["http://", "https://", "//"].map(|scheme| format!("{scheme}{host}")))
        .filter(|r| lower.contains(r.as_str()))
        .collect()
}

/// Every file of the committed build, as (name under dist/, bytes).
fn built_files() -> Vec<(String, Vec<u8>)> {
    let dist = repo_root().join("graphiql/dist");
    let mut files = vec![(
        "index.html".to_string(),
        std::fs::read(dist.join("index.html")).unwrap(),
    )];
    for entry in std::fs::read_dir(dist.join("assets")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        files.push((
            format!("assets/{name}"),
            std::fs::read(entry.path()).unwrap(),
        ));
    }
    files.sort();
    files
}

#[tokio::test]
async fn graphiql_page_is_served_under_a_self_only_csp() {
    let s = TestServer::start().await;
    let resp = get(&s, "/graphiql").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    assert_eq!(header(&resp, "cache-control"), "no-cache");
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    let csp = directives(&header(&resp, "content-security-policy"));
    assert_eq!(csp["default-src"], ["'none'"], "{csp:?}");
    for name in ["script-src", "worker-src", "connect-src"] {
        assert_eq!(csp[name], ["'self'"], "{name}: {csp:?}");
    }
    // Styles may be inline (Monaco's run-time <style> elements) but come from nowhere else.
    assert_eq!(csp["style-src"], ["'self'", "'unsafe-inline'"], "{csp:?}");
    // GraphiQL's fonts and Monaco's error underlines are data: URLs.
    for name in ["font-src", "img-src"] {
        assert_eq!(csp[name], ["'self'", "data:"], "{name}: {csp:?}");
    }
    assert_eq!(csp["frame-ancestors"], ["'none'"]);
    assert_eq!(csp["base-uri"], ["'none'"]);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("<title>SENCO Oversight: GraphiQL</title>"),
        "{html}"
    );
    // 'self' forbids inline scripts: every script has a src.
    assert_eq!(
        html.matches("<script").count(),
        attributes(&html, "script", "src").len(),
        "{html}"
    );
    // The trailing-slash form is the same page.
    let again = get(&s, "/graphiql/").await;
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.text().await.unwrap(), html);
    s.stop().await;
}

#[tokio::test]
async fn graphiql_page_loads_only_same_origin_assets_that_the_binary_serves() {
    let s = TestServer::start().await;
    let html = get(&s, "/graphiql").await.text().await.unwrap();
    let scripts = attributes(&html, "script", "src");
    let links = attributes(&html, "link", "href");
    assert!(!scripts.is_empty() && !links.is_empty(), "{html}");
    for path in scripts.iter().chain(&links) {
        assert!(
            path.starts_with("/graphiql/assets/") && !path.starts_with("//"),
            "not a same-origin asset path: {path}"
        );
        let resp = get(&s, path).await;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let ct = header(&resp, "content-type");
        assert!(
            expected_media_type(path).iter().any(|m| ct.starts_with(m)),
            "{path}: {ct}"
        );
        assert_eq!(
            header(&resp, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert!(
            !header(&resp, "content-security-policy").is_empty(),
            "{path}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn every_built_file_is_served_from_the_binary_as_built() {
    let s = TestServer::start().await;
    let files = built_files();
    let js = files.iter().filter(|(n, _)| n.ends_with(".js")).count();
    assert!(
        js >= 4,
        "the bundle and Monaco's three workers at least: {js}"
    );
    for (name, bytes) in &files {
        let path = match name.as_str() {
            "index.html" => "/graphiql".to_string(),
            asset => format!("/graphiql/{asset}"),
        };
        let resp = get(&s, &path).await;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let ct = header(&resp, "content-type");
        assert!(
            expected_media_type(name).iter().any(|m| ct.starts_with(m)),
            "{path}: {ct}"
        );
        assert_eq!(&resp.bytes().await.unwrap()[..], &bytes[..], "{path}");
    }
    s.stop().await;
}

#[tokio::test]
async fn nothing_graphiql_loads_refers_to_a_cdn() {
    let s = TestServer::start().await;
    let mut checked = BTreeSet::new();
    for (name, bytes) in built_files() {
        if name.ends_with(".ttf") || name.ends_with(".woff2") || name.ends_with(".png") {
            continue;
        }
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(cdn_references(&text), Vec::<String>::new(), "{name}");
        checked.insert(name);
    }
    // The page as served, too, and the bundle really talks to this server's /graphql.
    let html = get(&s, "/graphiql").await.text().await.unwrap();
    assert_eq!(cdn_references(&html), Vec::<String>::new());
    let bundle = &attributes(&html, "script", "src")[0];
    let js = get(&s, bundle).await.text().await.unwrap();
    assert!(
        js.contains("\"/graphql\""),
        "the bundle does not call /graphql"
    );
    assert!(
        js.contains("Bearer <paste a token>"),
        "no token placeholder"
    );
    assert!(checked.iter().any(|n| n.ends_with(".css")), "{checked:?}");
    s.stop().await;
}

#[tokio::test]
async fn assets_answer_304_to_a_matching_etag_and_404_when_unknown() {
    let s = TestServer::start().await;
    let html = get(&s, "/graphiql").await.text().await.unwrap();
    let css = attributes(&html, "link", "href").remove(0);
    let first = get(&s, &css).await;
    let etag = header(&first, "etag");
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let again = s
        .client
        .get(format!("{}{css}", s.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    for path in [
        "/graphiql/assets/nope.js",
        "/graphiql/assets/",
        "/graphiql/index.html",
    ] {
        assert_eq!(get(&s, path).await.status().as_u16(), 404, "{path}");
    }
    s.stop().await;
}

#[tokio::test]
async fn home_is_the_web_console_under_a_strict_self_only_csp_with_its_assets_served() {
    let s = TestServer::start().await;
    let resp = get(&s, "/").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    let csp = directives(&header(&resp, "content-security-policy"));
    for d in [
        "script-src",
        "style-src",
        "connect-src",
        "img-src",
        "font-src",
    ] {
        assert_eq!(csp[d], ["'self'"], "{d}: {csp:?}");
    }
    assert_eq!(csp["default-src"], ["'none'"], "{csp:?}");
    let html = resp.text().await.unwrap();
    assert!(html.contains("<div id=\"app\">"), "{html}");
    let scripts = attributes(&html, "script", "src");
    let styles = attributes(&html, "link", "href");
    assert!(!scripts.is_empty(), "{html}");
    for path in scripts.iter().chain(&styles) {
        assert!(path.starts_with("/assets/"), "{path}");
        let asset = get(&s, path).await;
        assert_eq!(asset.status().as_u16(), 200, "{path}");
        let text = asset.text().await.unwrap();
        assert!(cdn_references(&text).is_empty(), "{path} refers to a CDN");
    }
    // No inline script or style for the CSP to forbid.
    assert!(
        !html.contains("<script>") && !html.contains("<style"),
        "{html}"
    );
    assert_eq!(get(&s, "/assets/nope.js").await.status().as_u16(), 404);
    s.stop().await;
}

#[tokio::test]
async fn the_console_settings_name_the_oidc_provider_only_when_one_is_configured() {
    let s = TestServer::start().await;
    let plain: serde_json::Value = get(&s, "/console/config.json").await.json().await.unwrap();
    assert_eq!(plain["oidc"], serde_json::Value::Null, "{plain}");
    s.stop().await;
    // The server reads the provider's keys at start, so the provider must answer.
    let keys: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("tests/fixtures/keys/jwks.json")).unwrap(),
    )
    .unwrap();
    let idp = oidc_provider(keys).await;
    let s = TestServer::start_with(&[
        ("SENCO_OIDC_ISSUER", &idp.issuer),
        ("SENCO_OIDC_CLIENT_ID", "senco-console"),
        ("SENCO_OIDC_SCOPES", "la:202:read"),
    ])
    .await;
    let with: serde_json::Value = get(&s, "/console/config.json").await.json().await.unwrap();
    assert_eq!(with["oidc"]["issuer"], idp.issuer.as_str());
    assert_eq!(with["oidc"]["clientId"], "senco-console");
    assert_eq!(with["oidc"]["scope"], "la:202:read");
    let csp = directives(&header(&get(&s, "/").await, "content-security-policy"));
    assert_eq!(
        csp["connect-src"],
        ["'self'", idp.issuer.as_str()],
        "{csp:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn the_console_operations_are_the_default_trusted_documents() {
    let manifest: std::collections::HashMap<String, String> = serde_json::from_slice(
        &std::fs::read(repo_root().join("web/dist/trusted-documents.json")).unwrap(),
    )
    .unwrap();
    assert!(manifest.len() >= 5, "{manifest:?}");
    let s = TestServer::start_with(&[("SENCO_TRUSTED_DOCUMENTS_ONLY", "true")]).await;
    let (id, _) = manifest
        .iter()
        .find(|(_, doc)| doc.starts_with("query Viewer"))
        .unwrap();
    let resp = s
        .client
        .post(format!("{}/graphql", s.base))
        .bearer_auth(token("la-officer", "la:202:read"))
        .json(&serde_json::json!({ "documentId": id }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["scopes"][0], "la:202:read", "{body}");
    s.stop().await;
}

#[tokio::test]
async fn schema_graphql_is_the_sdl() {
    let s = TestServer::start().await;
    let resp = get(&s, "/schema.graphql").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(header(&resp, "content-type").starts_with("text/plain"));
    assert_eq!(resp.text().await.unwrap(), api::graphql::sdl());
    s.stop().await;
}

#[tokio::test]
async fn graphiql_is_404_when_senco_graphiql_is_false() {
    let s = TestServer::start_with(&[("SENCO_GRAPHIQL", "false")]).await;
    let asset = built_files()
        .into_iter()
        .map(|(n, _)| n)
        .find(|n| n.ends_with(".js"))
        .unwrap();
    for path in ["/graphiql".to_string(), format!("/graphiql/{asset}")] {
        let resp = get(&s, &path).await;
        assert_eq!(resp.status().as_u16(), 404, "{path}");
        assert!(header(&resp, "content-type").starts_with("application/json"));
    }
    let settings: serde_json::Value = get(&s, "/console/config.json").await.json().await.unwrap();
    assert_eq!(settings["graphiql"], false);
    // The console and the API itself still answer.
    assert_eq!(get(&s, "/").await.status().as_u16(), 200);
    s.ok(&admin(), "{ viewer { sub } }", serde_json::json!({}))
        .await;
    s.stop().await;
}

#[tokio::test]
async fn schema_is_not_published_when_introspection_is_off() {
    let s = TestServer::start_with(&[("SENCO_INTROSPECTION", "false")]).await;
    assert_eq!(get(&s, "/schema.graphql").await.status().as_u16(), 404);
    assert_eq!(get(&s, "/graphiql").await.status().as_u16(), 200);
    s.stop().await;
}
