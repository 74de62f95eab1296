//! Trusted documents (SPEC 6): `documentId` runs a document from
//! `SENCO_TRUSTED_DOCUMENTS`; an unknown id is `NOT_FOUND`; with
//! `SENCO_TRUSTED_DOCUMENTS_ONLY=true` free-form text is refused for school and LA tokens
//! and still runs for `admin`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const SCHOOLS: &str = "query Schools { schools(first: 10) { edges { node { urn name } } } }";
const VIEWER: &str = "query Viewer { viewer { sub } }";

/// The id the SPEC names (`sha256:` and the hex digest; the function's own unit test
/// checks it against the published digest of the empty string).
fn id(doc: &str) -> String {
    api::trusted::id_of(doc)
}

fn manifest() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("senco-trusted-{}.json", uuid::Uuid::new_v4()));
    let docs = json!({ id(SCHOOLS): SCHOOLS, id(VIEWER): VIEWER });
    std::fs::write(&path, docs.to_string()).unwrap();
    path
}

async fn by_id(s: &TestServer, token: &str, document_id: &str) -> (u16, Value) {
    let resp = s
        .client
        .post(s.url())
        .bearer_auth(token)
        .json(&json!({ "documentId": document_id }))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_trusted_document_runs_by_its_id_and_an_unknown_id_is_not_found() {
    let path = manifest();
    let s = TestServer::start_with(&[("SENCO_TRUSTED_DOCUMENTS", path.to_str().unwrap())]).await;
    small_world(&s).await;
    let school = token("school-100001", "school:100001:read");
    let (status, body) = by_id(&s, &school, &id(SCHOOLS)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["schools"]["edges"][0]["node"]["urn"], 100001,
        "{body}"
    );
    // Over GET too.
    let resp = s
        .client
        .get(s.url())
        .query(&[("documentId", id(VIEWER))])
        .bearer_auth(&school)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["sub"], "school-100001", "{body}");
    let (status, body) = by_id(&s, &school, &id("{ viewer { scopes } }")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    // Free-form text still runs when the server does not insist on trusted documents.
    s.ok(&school, "{ viewer { scopes } }", json!({})).await;
    s.stop().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn trusted_documents_only_refuses_free_text_for_school_and_la_tokens_not_admin() {
    let path = manifest();
    let s = TestServer::start_with(&[
        ("SENCO_TRUSTED_DOCUMENTS", path.to_str().unwrap()),
        ("SENCO_TRUSTED_DOCUMENTS_ONLY", "true"),
    ])
    .await;
    small_world(&s).await;
    let free = "{ schools(first: 10) { edges { node { urn trust { name } } } } }";
    for t in [
        token("school-100001", "school:100001:write"),
        token("la-202", "la:202:read"),
    ] {
        let (status, body) = s.post(Some(&t), free, json!({})).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{body}"
        );
        let (status, body) = by_id(&s, &t, &id(SCHOOLS)).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"]["schools"]["edges"].is_array(), "{body}");
    }
    // The administrator may still send any query.
    let d = s.ok(&admin(), free, json!({})).await;
    assert_eq!(d["schools"]["edges"].as_array().unwrap().len(), 4);
    s.stop().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_manifest_whose_id_is_not_its_documents_hash_stops_start_up() {
    let path = std::env::temp_dir().join(format!("senco-trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, json!({ id("{ a }"): "{ b }" }).to_string()).unwrap();
    let err = api::config::Config::from_lookup(|k| match k {
        "SENCO_TRUSTED_DOCUMENTS" => Some(path.to_str().unwrap().to_string()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(err.variable, "SENCO_TRUSTED_DOCUMENTS");
    assert!(err.message.contains("hashes to"), "{}", err.message);
    std::fs::remove_file(path).ok();
}
