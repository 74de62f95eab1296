//! Shared-SENCO clusters, school compliance and the audit log, end to end over a realistic
//! LA: small Camden primaries from the real census file in two clusters, one sound and one
//! breaking every rule of SPEC 4.6, with a Greenwich member and a trust school to check who
//! sees what.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{Value, json};

/// The day every check is made on.
const AS_OF: &str = "2026-11-01";

/// (URN, roll) of census rows of `la` with `school_type`, by URN.
fn census(la: i32, school_type: &str, max_roll: i32) -> Vec<(i32, i32)> {
    let text =
        std::fs::read_to_string(repo_root().join("data/england_census_performance_tables.csv"))
            .unwrap();
    let mut out: Vec<(i32, i32)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let urn = f.first()?.parse().ok()?;
            let row_la: i32 = f.get(1)?.parse().ok()?;
            let roll: i32 = f.get(4)?.parse().ok()?;
            (row_la == la && f.get(3)? == &school_type && roll <= max_roll).then_some((urn, roll))
        })
        .collect();
    out.sort_unstable();
    out
}

struct World {
    /// The sound cluster's members (Camden small primaries).
    a: Vec<(i32, i32)>,
    /// The broken cluster's Camden small primaries.
    b_primaries: Vec<(i32, i32)>,
    /// A Camden secondary in the broken cluster.
    b_secondary: (i32, i32),
    /// A Greenwich small primary in the broken cluster.
    b_greenwich: (i32, i32),
    sound_id: String,
    broken_id: String,
    sound_senco: String,
    broken_senco: String,
}

async fn upsert_school(
    s: &TestServer,
    urn: i32,
    la: i32,
    trust: Option<i32>,
    phase: &str,
    roll: i32,
) {
    s.ok(
        &admin(),
        "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
        json!({ "i": {
            "urn": urn, "name": format!("Census school {urn}"), "laCode": la, "trustUid": trust,
            "phase": phase, "kind": "MAINSTREAM", "isAcademy": trust.is_some(), "numberOnRoll": roll
        } }),
    )
    .await;
}

const APPOINT: &str =
    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }";

async fn appoint(s: &TestServer, urn: i32, person: Value, extra: Value) -> String {
    let mut input = json!({ "schoolUrn": urn, "person": person });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let d = s.ok(&admin(), APPOINT, json!({ "i": input })).await;
    d["appointSenco"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn submit_good_report(s: &TestServer, urn: i32, roll: i32) {
    let t = token(&format!("school-{urn}"), &format!("school:{urn}:write"));
    s.ok(
        &t,
        "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }",
        json!({ "i": {
            "schoolUrn": urn, "academicYear": 2025, "term": "SUMMER",
            "numberOnRoll": roll, "pupilsWithSend": 10, "senSupport": 8, "ehcp": 2,
            "ehcpApplicationsInProcess": 1, "budgetE1": "1000", "budgetE2": "500",
            "budgetE3": "0", "budgetAdditional": "0", "expenditureToDate": "900.50",
            "nonContactHoursPerWeek": 5.0, "senPolicyDate": "2025-01-01",
            "senInformationReportPublishedOn": "2026-01-10"
        } }),
    )
    .await;
}

/// The governing body's part of a sound school (SPEC 4.10): a meeting last term, and the
/// summer report and the SEN information report of [`submit_good_report`] signed off.
async fn govern_well(s: &TestServer, urn: i32) {
    let t = token(&format!("governor-{urn}"), &format!("school:{urn}:govern"));
    s.ok(
        &t,
        "mutation($i: RecordGovernorMeetingInput!) { recordGovernorMeeting(input: $i) { id } }",
        json!({ "i": { "schoolUrn": urn, "heldOn": "2026-06-10",
                       "attendees": [{ "name": "A Governor", "role": "SEN governor" }] } }),
    )
    .await;
    for input in [
        json!({ "schoolUrn": urn, "document": "TERMLY_REPORT", "academicYear": 2025,
                "term": "SUMMER", "signedOn": "2026-09-20", "signedBy": "A Governor",
                "role": "SEN_GOVERNOR" }),
        json!({ "schoolUrn": urn, "document": "SEN_INFORMATION_REPORT",
                "documentDate": "2026-01-10", "signedOn": "2026-01-10",
                "signedBy": "A Governor", "role": "CHAIR" }),
    ] {
        s.ok(
            &t,
            "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    }
}

const CREATE: &str = "mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }";

async fn world(s: &TestServer) -> World {
    let a = admin();
    for (code, name) in [(202, "Camden"), (203, "Greenwich")] {
        s.ok(
            &a,
            "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
            json!({ "i": { "code": code, "name": name } }),
        )
        .await;
    }
    s.ok(
        &a,
        "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid } }",
        json!({ "i": { "uid": 2044, "name": "Thames Bridge Academy Trust" } }),
    )
    .await;
    let small = census(202, "State-funded primary", 210);
    assert!(small.len() >= 5, "Camden has small primaries: {small:?}");
    let a_members = small[..3].to_vec();
    let b_primaries = small[3..5].to_vec();
    let b_secondary = *census(202, "State-funded secondary", 5000).first().unwrap();
    let b_greenwich = *census(203, "State-funded primary", 210).first().unwrap();
    // The first sound member is a trust academy, so a trust token reaches the sound cluster.
    for (i, (urn, roll)) in a_members.iter().enumerate() {
        upsert_school(s, *urn, 202, (i == 0).then_some(2044), "PRIMARY", *roll).await;
    }
    for (urn, roll) in &b_primaries {
        upsert_school(s, *urn, 202, None, "PRIMARY", *roll).await;
    }
    upsert_school(s, b_secondary.0, 202, None, "SECONDARY", b_secondary.1).await;
    upsert_school(s, b_greenwich.0, 203, None, "PRIMARY", b_greenwich.1).await;

    // The sound cluster: one qualified SENCO on the SLT at every member, with enough time.
    let roll: i32 = a_members.iter().map(|m| m.1).sum();
    let hours_each = (2.5 * f64::from(roll) / 100.0 / 3.0).ceil() + 0.5;
    let good = json!({ "trn": "1234567", "fullName": "Alex Good", "hasQts": true,
                       "inductionStatus": "COMPLETED" });
    let mut sound_senco = String::new();
    for (urn, _) in &a_members {
        sound_senco = appoint(
            s,
            *urn,
            good.clone(),
            json!({ "startedOn": "2024-09-02", "onSeniorLeadershipTeam": true,
                    "classTeachingFraction": 0.1, "nonContactHoursPerWeek": hours_each }),
        )
        .await;
        submit_good_report(s, *urn, 150).await;
        govern_well(s, *urn).await;
    }
    s.ok(
        &a,
        "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { countsTowardDuty } }",
        json!({ "i": { "personId": sound_senco, "kind": "NPQ_SENCO",
                       "startedOn": "2024-10-01", "completedOn": "2025-07-15" } }),
    )
    .await;
    // Its QTS and award checked against DfE's record (SPEC 4.9).
    s.ok(
        &a,
        "mutation($i: RecordEvidenceCheckInput!) { recordEvidenceCheck(input: $i) { id } }",
        json!({ "i": { "personId": sound_senco, "checkedOn": "2025-08-01",
                       "source": "DFE_TEACHER_RECORD", "confirms": ["QTS", "NPQ_SENCO"] } }),
    )
    .await;
    let sound = s
        .ok(
            &token("la-officer", "la:202:write"),
            CREATE,
            json!({ "i": { "name": "Kentish Town small schools", "sencoPersonId": sound_senco,
                           "memberUrns": a_members.iter().map(|m| m.0).collect::<Vec<_>>(),
                           "startedOn": "2024-09-02", "lastReviewedOn": "2026-06-01" } }),
        )
        .await;

    // The broken cluster: head at one member, heavy class teaching at another, absent from
    // the secondary, too few hours, never reviewed, and past the qualification deadline.
    let bad = json!({ "trn": "7654321", "fullName": "Sam Stretched", "hasQts": true,
                      "inductionStatus": "COMPLETED" });
    let broken_senco = appoint(
        s,
        b_primaries[0].0,
        bad.clone(),
        json!({ "startedOn": "2021-01-04", "isHeadteacher": true, "nonContactHoursPerWeek": 0.5 }),
    )
    .await;
    for (urn, extra) in [
        (
            b_primaries[1].0,
            json!({ "startedOn": "2021-01-04", "classTeachingFraction": 0.5,
                                    "nonContactHoursPerWeek": 0.5 }),
        ),
        (
            b_greenwich.0,
            json!({ "startedOn": "2021-01-04", "nonContactHoursPerWeek": 0.5 }),
        ),
    ] {
        let linked = appoint(s, urn, bad.clone(), extra).await;
        assert_eq!(
            linked, broken_senco,
            "the TRN links the appointments to one person"
        );
    }
    let broken = s
        .ok(
            &a,
            CREATE,
            json!({ "i": { "name": "Stretched cluster", "sencoPersonId": broken_senco,
                           "memberUrns": [b_primaries[0].0, b_primaries[1].0, b_secondary.0, b_greenwich.0],
                           "startedOn": "2021-01-04" } }),
        )
        .await;
    World {
        a: a_members,
        b_primaries,
        b_secondary,
        b_greenwich,
        sound_id: sound["createCluster"]["id"].as_str().unwrap().to_owned(),
        broken_id: broken["createCluster"]["id"].as_str().unwrap().to_owned(),
        sound_senco,
        broken_senco,
    }
}

/// (code, severity, school URN or 0) of a list of issues.
fn issue_set(issues: &Value) -> BTreeSet<(String, String, i64)> {
    issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_owned(),
                i["severity"].as_str().unwrap().to_owned(),
                i["school"]["urn"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, i64)]) -> BTreeSet<(String, String, i64)> {
    items
        .iter()
        .map(|(c, s, u)| ((*c).to_owned(), (*s).to_owned(), *u))
        .collect()
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "STATUTORY" => 0,
        "GUIDANCE" => 1,
        _ => 2,
    }
}

fn assert_most_severe_first(issues: &Value) {
    let ranks: Vec<u8> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| severity_rank(i["severity"].as_str().unwrap()))
        .collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(ranks, sorted, "most severe first: {issues}");
}

const CLUSTER: &str = "query($id: ID!, $asOf: Date) { cluster(id: $id) {
    id name senco { id } members { urn } startedOn lastReviewedOn reviewIntervalMonths
    nextReviewDue endedOn totalNumberOnRoll totalNonContactHoursPerWeek
    issues(asOf: $asOf) { code severity school { urn } message cluster { id } } } }";

#[tokio::test]
async fn sound_cluster_has_no_issues_and_broken_cluster_breaks_every_rule() {
    let s = TestServer::start().await;
    let w = world(&s).await;

    let sound = s
        .ok(
            &admin(),
            CLUSTER,
            json!({ "id": w.sound_id, "asOf": AS_OF }),
        )
        .await;
    let c = &sound["cluster"];
    assert_eq!(c["issues"], json!([]), "{c}");
    assert_eq!(c["senco"]["id"], w.sound_senco);
    assert_eq!(c["reviewIntervalMonths"], 12);
    assert_eq!(c["nextReviewDue"], "2027-06-01");
    let roll: i32 = w.a.iter().map(|m| m.1).sum();
    assert_eq!(c["totalNumberOnRoll"], roll);
    let members: Vec<i64> = c["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["urn"].as_i64().unwrap())
        .collect();
    assert_eq!(
        members,
        w.a.iter().map(|m| i64::from(m.0)).collect::<Vec<_>>()
    );

    let broken = s
        .ok(
            &admin(),
            CLUSTER,
            json!({ "id": w.broken_id, "asOf": AS_OF }),
        )
        .await;
    let c = &broken["cluster"];
    let (b1, b2, sec, gre) = (
        i64::from(w.b_primaries[0].0),
        i64::from(w.b_primaries[1].0),
        i64::from(w.b_secondary.0),
        i64::from(w.b_greenwich.0),
    );
    assert_eq!(
        issue_set(&c["issues"]),
        set(&[
            ("SENCO_NOT_APPOINTED_AT_MEMBER", "STATUTORY", sec),
            ("QUALIFICATION_OVERDUE", "STATUTORY", b1),
            ("QUALIFICATION_OVERDUE", "STATUTORY", b2),
            ("QUALIFICATION_OVERDUE", "STATUTORY", gre),
            ("SENCO_IS_HEADTEACHER", "GUIDANCE", b1),
            ("SIGNIFICANT_CLASS_TEACHING", "GUIDANCE", b2),
            ("INSUFFICIENT_TIME", "GUIDANCE", 0),
            ("REVIEW_OVERDUE", "GUIDANCE", 0),
            ("MEMBER_NOT_SMALL_PRIMARY", "ADVISORY", sec),
        ]),
        "{c}"
    );
    assert_most_severe_first(&c["issues"]);
    assert_eq!(c["nextReviewDue"], "2022-01-04");
    assert_eq!(c["totalNonContactHoursPerWeek"], 1.5);
    assert_eq!(c["issues"][0]["cluster"]["id"], w.broken_id);
    assert_eq!(c["senco"]["id"], w.broken_senco);
    // Before the qualification deadline (third anniversary, 4 January 2024) it is not overdue.
    let early = s
        .ok(
            &admin(),
            CLUSTER,
            json!({ "id": w.broken_id, "asOf": "2023-06-01" }),
        )
        .await;
    let codes = issue_set(&early["cluster"]["issues"]);
    assert!(
        !codes.iter().any(|(c, _, _)| c == "QUALIFICATION_OVERDUE"),
        "{codes:?}"
    );
    assert!(codes.iter().any(|(c, _, _)| c == "REVIEW_OVERDUE"));
    s.stop().await;
}

#[tokio::test]
async fn la_token_sees_only_its_own_members_of_a_cross_la_cluster() {
    let s = TestServer::start().await;
    let w = world(&s).await;
    let greenwich = token("greenwich", "la:203:read");
    let d = s
        .ok(
            &greenwich,
            CLUSTER,
            json!({ "id": w.broken_id, "asOf": AS_OF }),
        )
        .await;
    let c = &d["cluster"];
    let members: Vec<i64> = c["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["urn"].as_i64().unwrap())
        .collect();
    assert_eq!(members, vec![i64::from(w.b_greenwich.0)]);
    for i in c["issues"].as_array().unwrap() {
        let urn = i["school"]["urn"].as_i64();
        assert!(
            urn.is_none() || urn == Some(i64::from(w.b_greenwich.0)),
            "{i}"
        );
    }
    // Greenwich reads no member of the sound cluster.
    let (code, _) = s
        .err(
            Some(&greenwich),
            CLUSTER,
            json!({ "id": w.sound_id, "asOf": AS_OF }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // Listing: Greenwich sees only the broken cluster; the trust only the sound one.
    let list = "{ clusters { totalCount edges { node { id } } } }";
    let d = s.ok(&greenwich, list, json!({})).await;
    assert_eq!(d["clusters"]["totalCount"], 1);
    assert_eq!(d["clusters"]["edges"][0]["node"]["id"], w.broken_id);
    let trust = token("trust", "trust:2044:read");
    let d = s.ok(&trust, list, json!({})).await;
    assert_eq!(d["clusters"]["totalCount"], 1);
    assert_eq!(d["clusters"]["edges"][0]["node"]["id"], w.sound_id);
    let camden = token("camden", "la:202:read");
    let d = s
        .ok(&camden, "{ clusters(filter: { laCode: 202 }, first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(d["clusters"]["totalCount"], 2);
    assert_eq!(d["clusters"]["pageInfo"]["hasNextPage"], true);
    let (code, _) = s
        .err(
            Some(&camden),
            "{ clusters(filter: { laCode: 203 }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    s.stop().await;
}

const ISSUES: &str =
    "query($f: SchoolFilter, $asOf: Date, $sev: [Severity!], $first: Int, $after: String) {
    complianceIssues(filter: $f, asOf: $asOf, severities: $sev, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { code severity school { urn } cluster { id } message } } } }";

#[tokio::test]
async fn compliance_issues_list_every_problem_of_the_la_most_severe_first() {
    let s = TestServer::start().await;
    let w = world(&s).await;
    let camden = token("camden", "la:202:read");
    let all = s
        .ok(&camden, ISSUES, json!({ "asOf": AS_OF, "first": 100 }))
        .await;
    let edges = all["complianceIssues"]["edges"].as_array().unwrap().clone();
    let nodes = Value::Array(edges.iter().map(|e| e["node"].clone()).collect());
    assert_most_severe_first(&nodes);
    assert_eq!(all["complianceIssues"]["totalCount"], edges.len());
    // The sound cluster's schools are clean.
    for (urn, _) in &w.a {
        assert!(
            !nodes
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["school"]["urn"] == *urn),
            "school {urn} should have no issues: {nodes}"
        );
    }
    // Greenwich's school never appears in Camden's list.
    assert!(
        !nodes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["school"]["urn"] == w.b_greenwich.0)
    );
    // The secondary has no SENCO: NO_SENCO, and no report of any kind.
    let sec = i64::from(w.b_secondary.0);
    let of = |urn: i64| -> BTreeSet<(String, String, i64)> {
        issue_set(&Value::Array(
            nodes
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["school"]["urn"].as_i64() == Some(urn))
                .cloned()
                .collect(),
        ))
    };
    assert_eq!(
        of(sec),
        set(&[
            ("NO_SENCO", "STATUTORY", sec),
            ("SENCO_NOT_APPOINTED_AT_MEMBER", "STATUTORY", sec),
            ("SEN_INFORMATION_REPORT_OUT_OF_DATE", "GUIDANCE", sec),
            ("TERMLY_REPORT_MISSING", "ADVISORY", sec),
            ("SEN_POLICY_REVIEW_OVERDUE", "ADVISORY", sec),
            ("MEMBER_NOT_SMALL_PRIMARY", "ADVISORY", sec),
            ("NO_SEN_GOVERNOR_MEETING", "ADVISORY", sec),
        ])
    );
    let b1 = i64::from(w.b_primaries[0].0);
    assert_eq!(
        of(b1),
        set(&[
            ("QUALIFICATION_OVERDUE", "STATUTORY", b1),
            ("SEN_INFORMATION_REPORT_OUT_OF_DATE", "GUIDANCE", b1),
            ("SENCO_IS_HEADTEACHER", "GUIDANCE", b1),
            ("TERMLY_REPORT_MISSING", "ADVISORY", b1),
            ("SEN_POLICY_REVIEW_OVERDUE", "ADVISORY", b1),
            ("SENCO_NOT_ON_SLT", "ADVISORY", b1),
            ("NO_SEN_GOVERNOR_MEETING", "ADVISORY", b1),
        ])
    );
    // QUALIFICATION_OVERDUE at b1 is both a school check and the cluster's check of its
    // SENCO there: one fact, listed once (SPEC 4.7), so a dashboard does not count it twice.
    let overdue_b1 = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["school"]["urn"] == b1 && n["code"] == "QUALIFICATION_OVERDUE")
        .count();
    assert_eq!(overdue_b1, 1);
    // The cluster-wide issues of the broken cluster appear once each, with no school.
    let wide: BTreeSet<String> = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["school"].is_null())
        .map(|n| n["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        wide,
        ["INSUFFICIENT_TIME", "REVIEW_OVERDUE"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );

    // Paging walks the same list in the same order.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let d = s
            .ok(
                &camden,
                ISSUES,
                json!({ "asOf": AS_OF, "first": 7, "after": after }),
            )
            .await;
        let c = &d["complianceIssues"];
        for e in c["edges"].as_array().unwrap() {
            walked.push(e["node"].clone());
        }
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(Value::Array(walked), nodes);

    // Severities narrow the list.
    let statutory = s
        .ok(
            &camden,
            ISSUES,
            json!({ "asOf": AS_OF, "sev": ["STATUTORY"], "first": 100 }),
        )
        .await;
    for e in statutory["complianceIssues"]["edges"].as_array().unwrap() {
        assert_eq!(e["node"]["severity"], "STATUTORY");
    }
    let statutory_in_full = nodes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["severity"] == "STATUTORY")
        .count();
    assert!(statutory_in_full >= 4, "{nodes}");
    assert_eq!(
        statutory["complianceIssues"]["totalCount"], statutory_in_full,
        "the narrowed total is the full list's statutory issues"
    );

    // School.compliance agrees with the list for one school.
    let d = s
        .ok(&camden, "query($u: Int!, $asOf: Date) { school(urn: $u) { compliance(asOf: $asOf) { code severity school { urn } } } }",
            json!({ "u": sec, "asOf": AS_OF }))
        .await;
    assert_eq!(issue_set(&d["school"]["compliance"]), of(sec));
    s.stop().await;
}

#[tokio::test]
async fn trust_and_school_tokens_see_only_their_schools_issues() {
    let s = TestServer::start().await;
    let w = world(&s).await;
    let trust = token("trust", "trust:2044:read");
    let d = s
        .ok(&trust, ISSUES, json!({ "asOf": AS_OF, "first": 100 }))
        .await;
    // The trust's only school is a sound member: nothing to report.
    assert_eq!(d["complianceIssues"]["totalCount"], 0, "{d}");
    let gre = w.b_greenwich.0;
    let school = token("school", &format!("school:{gre}:read"));
    let d = s
        .ok(&school, ISSUES, json!({ "asOf": AS_OF, "first": 100 }))
        .await;
    for e in d["complianceIssues"]["edges"].as_array().unwrap() {
        let urn = &e["node"]["school"]["urn"];
        assert!(urn.is_null() || *urn == gre, "{e}");
    }
    assert!(d["complianceIssues"]["totalCount"].as_u64().unwrap() >= 3);
    let (code, _) = s
        .err(Some(&school), ISSUES, json!({ "f": { "laCode": 203 } }))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let (code, _) = s.err(None, ISSUES, json!({})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    s.stop().await;
}

#[tokio::test]
async fn only_writers_covering_every_member_may_change_a_cluster() {
    let s = TestServer::start().await;
    let w = world(&s).await;
    let members = json!([w.b_primaries[0].0, w.b_greenwich.0]);
    let input = json!({ "i": { "name": "Cross-LA", "sencoPersonId": w.broken_senco,
                                "memberUrns": members, "startedOn": "2025-01-06" } });
    for scope in [
        "la:202:write",
        "la:202:read",
        &format!("school:{}:write", w.b_primaries[0].0),
        "trust:2044:write",
    ] {
        let (code, body) = s.err(Some(&token("x", scope)), CREATE, input.clone()).await;
        assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
    }
    let both = token("both", "la:202:write la:203:write");
    s.ok(&both, CREATE, input).await;
    // An LA writer cannot review or change the cross-LA broken cluster alone.
    let review = "mutation($i: RecordClusterReviewInput!) { recordClusterReview(input: $i) { lastReviewedOn nextReviewDue } }";
    let (code, _) = s
        .err(
            Some(&token("c", "la:202:write")),
            review,
            json!({ "i": { "clusterId": w.broken_id, "reviewedOn": "2026-10-01" } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let d = s
        .ok(
            &both,
            review,
            json!({ "i": { "clusterId": w.broken_id, "reviewedOn": "2026-10-01" } }),
        )
        .await;
    assert_eq!(d["recordClusterReview"]["lastReviewedOn"], "2026-10-01");
    assert_eq!(d["recordClusterReview"]["nextReviewDue"], "2027-10-01");
    // The review clears REVIEW_OVERDUE.
    let d = s
        .ok(
            &admin(),
            CLUSTER,
            json!({ "id": w.broken_id, "asOf": AS_OF }),
        )
        .await;
    assert!(
        !issue_set(&d["cluster"]["issues"])
            .iter()
            .any(|(c, _, _)| c == "REVIEW_OVERDUE")
    );
    // The sound cluster is Camden's alone: its LA writer may rename it and move members.
    let update = "mutation($i: UpdateClusterInput!) { updateCluster(input: $i) { name members { urn } reviewIntervalMonths endedOn } }";
    let d = s
        .ok(&token("c", "la:202:write"), update, json!({ "i": { "clusterId": w.sound_id, "name": "  Renamed  ",
            "memberUrns": [w.a[0].0, w.a[1].0], "reviewIntervalMonths": 6, "endedOn": "2026-12-31" } }))
        .await;
    assert_eq!(d["updateCluster"]["name"], "Renamed");
    assert_eq!(d["updateCluster"]["members"].as_array().unwrap().len(), 2);
    assert_eq!(d["updateCluster"]["reviewIntervalMonths"], 6);
    assert_eq!(d["updateCluster"]["endedOn"], "2026-12-31");
    s.stop().await;
}

#[tokio::test]
async fn cluster_input_is_validated_and_nothing_is_stored_on_refusal() {
    let s = TestServer::start().await;
    let w = world(&s).await;
    let a = admin();
    let base = json!({ "name": "X", "sencoPersonId": w.sound_senco,
                       "memberUrns": [w.a[0].0, w.a[1].0], "startedOn": "2025-01-06" });
    let cases = [
        (json!({ "memberUrns": [w.a[0].0] }), "input.memberUrns"),
        (
            json!({ "memberUrns": [w.a[0].0, w.a[0].0] }),
            "input.memberUrns",
        ),
        (json!({ "sencoPersonId": "999999" }), "input.sencoPersonId"),
        (
            json!({ "sencoPersonId": "not-an-id" }),
            "input.sencoPersonId",
        ),
        (json!({ "name": "   " }), "input.name"),
        (
            json!({ "reviewIntervalMonths": 0 }),
            "input.reviewIntervalMonths",
        ),
        (
            json!({ "reviewIntervalMonths": 61 }),
            "input.reviewIntervalMonths",
        ),
        (
            json!({ "lastReviewedOn": "2024-01-01" }),
            "input.lastReviewedOn",
        ),
    ];
    for (patch, field) in cases {
        let mut input = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let (code, body) = s.err(Some(&a), CREATE, json!({ "i": input })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{patch}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // A member that is no school is NOT_FOUND, as an unknown school is everywhere.
    let mut input = base.clone();
    input["memberUrns"] = json!([w.a[0].0, 999999]);
    let (code, body) = s.err(Some(&a), CREATE, json!({ "i": input })).await;
    assert_eq!(code, "NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.memberUrns");
    let d = s.ok(&a, "{ clusters { totalCount } }", json!({})).await;
    assert_eq!(
        d["clusters"]["totalCount"], 2,
        "only the world's two clusters exist"
    );
    let review =
        "mutation($i: RecordClusterReviewInput!) { recordClusterReview(input: $i) { id } }";
    let (code, body) = s
        .err(
            Some(&a),
            review,
            json!({ "i": { "clusterId": w.sound_id, "reviewedOn": "2099-01-01" } }),
        )
        .await;
    assert_eq!(
        (code.as_str(), &body["errors"][0]["extensions"]["field"]),
        ("BAD_USER_INPUT", &json!("input.reviewedOn"))
    );
    let (code, _) = s
        .err(
            Some(&a),
            review,
            json!({ "i": { "clusterId": "424242", "reviewedOn": "2026-01-01" } }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND");
    s.stop().await;
}

const AUDIT: &str = "query($u: Int!, $first: Int, $after: String) { auditLog(schoolUrn: $u, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { operation entity rowId actor schoolUrn before after occurredAt } } } }";

#[tokio::test]
async fn audit_log_records_every_kind_of_change_for_readers_of_the_school() {
    let s = TestServer::start().await;
    let w = world(&s).await;
    let urn = w.a[0].0;
    let d = s
        .ok(&admin(), AUDIT, json!({ "u": urn, "first": 100 }))
        .await;
    let ops: Vec<&str> = d["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["operation"].as_str().unwrap())
        .collect();
    for op in [
        "upsertSchool",
        "appointSenco",
        "submitTermlyReport",
        "recordQualification",
        "createCluster",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    // Newest first: the cluster was created last.
    assert_eq!(ops[0], "createCluster");
    let created = &d["auditLog"]["edges"][0]["node"];
    assert_eq!(created["actor"], "la-officer");
    assert!(created["before"].is_null());
    let after: Value = serde_json::from_str(created["after"].as_str().unwrap()).unwrap();
    assert_eq!(after["name"], "Kentish Town small schools");
    // Readers of the school see it; others do not.
    s.ok(&token("t", "trust:2044:read"), AUDIT, json!({ "u": urn }))
        .await;
    let (code, _) = s
        .err(Some(&token("g", "la:203:read")), AUDIT, json!({ "u": urn }))
        .await;
    assert_eq!(code, "FORBIDDEN");
    // Paging.
    let d = s.ok(&admin(), AUDIT, json!({ "u": urn, "first": 2 })).await;
    assert_eq!(d["auditLog"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(d["auditLog"]["pageInfo"]["hasNextPage"], true);
    let next = s
        .ok(
            &admin(),
            AUDIT,
            json!({ "u": urn, "first": 100, "after": d["auditLog"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        next["auditLog"]["edges"].as_array().unwrap().len() + 2,
        ops.len()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_failed_change_leaves_neither_rows_nor_audit_events() {
    use sea_orm::ConnectionTrait;
    let s = TestServer::start().await;
    let w = world(&s).await;
    // Make the database refuse the second member row, after the cluster row and the first
    // member's row have been written inside the transaction.
    let bad_urn = w.b_greenwich.0;
    let conn = &s.state.db.conn;
    if s.db.is_postgres() {
        conn.execute_unprepared(&format!(
            "CREATE FUNCTION refuse_member() RETURNS trigger AS $$ BEGIN              IF NEW.school_urn = {bad_urn} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;              CREATE TRIGGER refuse_member BEFORE INSERT ON cluster_member FOR EACH ROW EXECUTE FUNCTION refuse_member();"
        ))
        .await
        .unwrap();
    } else {
        conn.execute_unprepared(&format!(
            "CREATE TRIGGER refuse_member BEFORE INSERT ON cluster_member              WHEN NEW.school_urn = {bad_urn} BEGIN SELECT RAISE(ABORT, 'refused'); END;"
        ))
        .await
        .unwrap();
    }
    let before = s
        .ok(&admin(), AUDIT, json!({ "u": w.b_primaries[0].0 }))
        .await["auditLog"]["totalCount"]
        .clone();
    let (code, body) = s
        .err(
            Some(&admin()),
            CREATE,
            json!({ "i": { "name": "Doomed", "sencoPersonId": w.broken_senco,
            "memberUrns": [w.b_primaries[0].0, bad_urn], "startedOn": "2025-01-06" } }),
        )
        .await;
    assert_eq!(code, "INTERNAL_SERVER_ERROR", "{body}");
    assert!(
        !body.to_string().contains("refused"),
        "no database text leaks: {body}"
    );
    let after = s
        .ok(&admin(), AUDIT, json!({ "u": w.b_primaries[0].0 }))
        .await["auditLog"]["totalCount"]
        .clone();
    assert_eq!(
        before, after,
        "the first member's audit row was rolled back"
    );
    let d = s
        .ok(&admin(), "{ clusters { totalCount } }", json!({}))
        .await;
    assert_eq!(d["clusters"]["totalCount"], 2);
    s.stop().await;
}
