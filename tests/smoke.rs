//! The foundation end to end: a token lists an LA's schools; a school token sees only its own.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn la_token_lists_its_schools_and_school_token_cannot_read_another_school() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let la = token("la-user", "la:202:read");
    let data = s
        .ok(
            &la,
            "{ schools { totalCount edges { node { urn localAuthority { code } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["schools"]["totalCount"], 2);
    let school = token("school-user", "school:100001:read");
    let (code, _) = s
        .err(Some(&school), "{ school(urn: 100002) { name } }", json!({}))
        .await;
    assert_eq!(code, "FORBIDDEN");
    s.stop().await;
}
