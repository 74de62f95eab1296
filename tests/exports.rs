//! CSV exports (SPEC 6), compared row for row with the GraphQL answer for the same filter
//! under LA, trust and school tokens: the same bearer token and scope rules (401 / 403 with
//! a JSON body), a BOM and CRLF for Excel, RFC 4180 quoting, and no formula injection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

struct Csv {
    status: u16,
    headers: reqwest::header::HeaderMap,
    raw: Vec<u8>,
}

impl Csv {
    /// The records after the header, as maps of column to cell.
    fn rows(&self) -> Vec<std::collections::BTreeMap<String, String>> {
        let text = std::str::from_utf8(&self.raw).unwrap();
        let text = text.strip_prefix('\u{feff}').expect("a BOM");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                header
                    .iter()
                    .cloned()
                    .zip(rec.iter().map(str::to_string))
                    .collect()
            })
            .collect()
    }

    fn column(&self, name: &str) -> Vec<String> {
        self.rows().into_iter().map(|r| r[name].clone()).collect()
    }
}

async fn get(s: &TestServer, token: Option<&str>, path: &str) -> Csv {
    let mut req = s.client.get(format!("{}{path}", s.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    Csv {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        raw: resp.bytes().await.unwrap().to_vec(),
    }
}

async fn world(s: &TestServer) {
    small_world(s).await;
    for (urn, started, trn) in [
        (100001, "2018-09-01", "2000001"),
        (100002, "2026-06-01", "2000002"),
        (100003, "2005-09-01", "2000003"),
    ] {
        s.ok(
            &admin(),
            "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
            json!({ "i": { "schoolUrn": urn, "startedOn": started,
                "person": { "trn": trn, "fullName": format!("Senco {urn}"), "hasQts": true,
                            "inductionStatus": "COMPLETED" } } }),
        )
        .await;
    }
    let school = token("school-100001", "school:100001:write");
    s.ok(
        &school,
        "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { id } }",
        json!({ "i": {
            "schoolUrn": 100001, "academicYear": 2025, "term": "AUTUMN",
            "numberOnRoll": 180, "pupilsWithSend": 30, "senSupport": 20, "ehcp": 4,
            "ehcpApplicationsInProcess": 1, "budgetE1": "1000", "budgetE2": "500.5",
            "budgetE3": "0", "budgetAdditional": "0", "expenditureToDate": "1600",
            "nonContactHoursPerWeek": 4.5, "challenges": "=HYPERLINK(\"http://x\")"
        } }),
    )
    .await;
}

fn tokens() -> Vec<(String, &'static str)> {
    vec![
        (token("la-202", "la:202:read"), "la 202"),
        (token("trust-2044", "trust:2044:read"), "trust 2044"),
        (
            token("school-100002", "school:100002:read"),
            "school 100002",
        ),
    ]
}

#[tokio::test]
async fn an_export_is_an_excel_friendly_attachment() {
    let s = TestServer::start().await;
    world(&s).await;
    let c = get(&s, Some(&admin()), "/export/schools.csv").await;
    assert_eq!(c.status, 200);
    assert!(c.raw.starts_with("\u{feff}urn,name,".as_bytes()));
    let text = String::from_utf8(c.raw.clone()).unwrap();
    assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'));
    assert_eq!(c.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        c.headers["content-disposition"],
        "attachment; filename=\"schools.csv\""
    );
    s.stop().await;
}

#[tokio::test]
async fn exports_follow_the_token_like_graphql() {
    let s = TestServer::start().await;
    world(&s).await;
    let c = get(&s, None, "/export/schools.csv").await;
    assert_eq!(c.status, 401);
    let body: Value = serde_json::from_slice(&c.raw).unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let c = get(&s, Some("not.a.token"), "/export/deadlines.csv").await;
    assert_eq!(c.status, 401);
    // An LA asking for another LA's export as a whole.
    let c = get(
        &s,
        Some(&token("la-202", "la:202:read")),
        "/export/schools.csv?laCode=203",
    )
    .await;
    assert_eq!(c.status, 403);
    let body: Value = serde_json::from_slice(&c.raw).unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let c = get(&s, Some(&admin()), "/export/nothing.csv").await;
    assert_eq!(c.status, 404);
    let c = get(&s, Some(&admin()), "/export/deadlines.csv?asOf=yesterday").await;
    assert_eq!(c.status, 400);
    s.stop().await;
}

#[tokio::test]
async fn schools_and_deadlines_are_the_graphql_rows_for_every_kind_of_token() {
    let s = TestServer::start().await;
    world(&s).await;
    for (t, who) in tokens() {
        let d = s
            .ok(
                &t,
                "{ schools(first: 250) { edges { node { urn name } } } }",
                json!({}),
            )
            .await;
        let want: Vec<String> = d["schools"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["urn"].to_string())
            .collect();
        let c = get(&s, Some(&t), "/export/schools.csv").await;
        assert_eq!(c.status, 200, "{who}");
        assert_eq!(c.column("urn"), want, "{who}");

        let d = s
            .ok(
                &t,
                "{ qualificationDeadlines(asOf: \"2026-11-20\", first: 250) { edges { node {
                    status deadline appointment { id } school { urn } } } } }",
                json!({}),
            )
            .await;
        let want: Vec<(String, String, String)> = d["qualificationDeadlines"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let n = &e["node"];
                (
                    n["appointment"]["id"].as_str().unwrap().to_string(),
                    n["status"].as_str().unwrap().to_string(),
                    n["deadline"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let c = get(&s, Some(&t), "/export/deadlines.csv?asOf=2026-11-20").await;
        assert_eq!(c.status, 200, "{who}");
        let got: Vec<(String, String, String)> = c
            .rows()
            .into_iter()
            .map(|r| {
                (
                    r["appointment_id"].clone(),
                    r["status"].clone(),
                    r["deadline"].clone(),
                )
            })
            .collect();
        assert_eq!(got, want, "{who}");
        assert!(!got.is_empty(), "{who}");
    }
    // A filter narrows both alike.
    let c = get(
        &s,
        Some(&admin()),
        "/export/deadlines.csv?asOf=2026-11-20&statuses=OVERDUE",
    )
    .await;
    assert!(c.column("status").iter().all(|s| s == "OVERDUE"));
    assert_eq!(c.column("status").len(), 1);
    // The console's school-name filter narrows the file as it narrows the table.
    let all = get(&s, Some(&admin()), "/export/deadlines.csv?asOf=2026-11-20").await;
    let first = all.column("school_name")[0].clone();
    let c = get(
        &s,
        Some(&admin()),
        &format!(
            "/export/deadlines.csv?asOf=2026-11-20&schoolNameContains={}",
            first.to_uppercase().replace(' ', "%20")
        ),
    )
    .await;
    assert_eq!(c.status, 200);
    let names = c.column("school_name");
    assert!(!names.is_empty() && names.len() < all.column("school_name").len());
    assert!(
        names
            .iter()
            .all(|n| n.to_lowercase().contains(&first.to_lowercase()))
    );
    s.stop().await;
}

#[tokio::test]
async fn compliance_issues_and_reports_are_the_graphql_rows_and_formulas_do_not_run() {
    let s = TestServer::start().await;
    world(&s).await;
    for (t, who) in tokens() {
        let d = s
            .ok(
                &t,
                "{ complianceIssues(asOf: \"2026-11-20\", first: 250) { edges { node {
                    code school { urn } } } } }",
                json!({}),
            )
            .await;
        let want: Vec<(String, String)> = d["complianceIssues"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let n = &e["node"];
                let urn = n["school"]["urn"]
                    .as_i64()
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                (n["code"].as_str().unwrap().to_string(), urn)
            })
            .collect();
        let c = get(
            &s,
            Some(&t),
            "/export/compliance-issues.csv?asOf=2026-11-20",
        )
        .await;
        assert_eq!(c.status, 200, "{who}");
        let got: Vec<(String, String)> = c
            .rows()
            .into_iter()
            .map(|r| (r["code"].clone(), r["school_urn"].clone()))
            .collect();
        assert_eq!(got, want, "{who}");
    }
    // The report: money with two decimals, derived figures, a guarded formula.
    let c = get(
        &s,
        Some(&token("la-202", "la:202:read")),
        "/export/termly-reports.csv?academicYear=2025&term=AUTUMN",
    )
    .await;
    assert_eq!(c.status, 200);
    let rows = c.rows();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["urn"], "100001");
    assert_eq!(r["budget_e2"], "500.50");
    assert_eq!(r["budget_total"], "1500.50");
    assert_eq!(
        r["budget_remaining"], "'-99.50",
        "a leading minus is guarded too"
    );
    assert_eq!(r["overspent"], "true");
    // The free text is not exported, but a school name that is a formula is guarded.
    s.ok(
        &admin(),
        "mutation { upsertSchool(input: { urn: 100001, name: \"=HYPERLINK(1)\", laCode: 202,
            phase: PRIMARY, kind: MAINSTREAM, isAcademy: false, numberOnRoll: 180 }) { urn } }",
        json!({}),
    )
    .await;
    let c = get(&s, Some(&admin()), "/export/schools.csv").await;
    let names = c.column("name");
    assert!(names.contains(&"'=HYPERLINK(1)".to_string()), "{names:?}");
    s.stop().await;
}

/// More schools than one page of the export (500): every one comes, once, in URN order.
#[tokio::test]
async fn a_long_export_pages_through_the_snapshot_without_losing_a_row() {
    let s = TestServer::start().await;
    small_world(&s).await;
    for urn in 200_000..200_520 {
        s.ok(
            &admin(),
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": { "urn": urn, "name": format!("School {urn}"), "laCode": 202,
                "phase": "PRIMARY", "kind": "MAINSTREAM", "isAcademy": false, "numberOnRoll": 90 } }),
        )
        .await;
    }
    let c = get(
        &s,
        Some(&token("la-202", "la:202:read")),
        "/export/schools.csv",
    )
    .await;
    assert_eq!(c.status, 200);
    let urns: Vec<i64> = c.column("urn").iter().map(|u| u.parse().unwrap()).collect();
    let mut want: Vec<i64> = vec![100001, 100002];
    want.extend(200_000..200_520);
    assert_eq!(urns, want);
    s.stop().await;
}
