//! Evidence checks (SPEC 4.9) end to end over HTTP: who may record one, what is refused,
//! `Person.evidenceChecks`, the audit row, the compliance code `SENCO_EVIDENCE_NOT_CHECKED`
//! raised and cleared, and the `dfe-teacher-check` export in files of 100.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const APPOINT: &str =
    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }";
const RECORD: &str = "mutation($i: RecordEvidenceCheckInput!) { recordEvidenceCheck(input: $i) { \
    id checkedOn source confirms note person { id } } }";
const CHECKS: &str =
    "query($id: ID!) { person(id: $id) { evidenceChecks { id checkedOn source confirms note } } }";

/// Appoints a SENCO at `urn` (admin) and returns the person's id.
async fn appoint(s: &TestServer, urn: i32, trn: Option<&str>, head: bool) -> String {
    let d = s
        .ok(
            &admin(),
            APPOINT,
            json!({ "i": { "schoolUrn": urn, "startedOn": "2024-01-08", "isHeadteacher": head,
                "onSeniorLeadershipTeam": true,
                "person": { "trn": trn, "fullName": "Evidence Senco", "hasQts": true,
                            "inductionStatus": "COMPLETED" } } }),
        )
        .await;
    d["appointSenco"]["person"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn check(person: &str, on: &str, source: &str, confirms: &[&str]) -> Value {
    json!({ "i": { "personId": person, "checkedOn": on, "source": source, "confirms": confirms,
                   "note": "Checked with the SENCO present" } })
}

/// Schools of LA 202 flagged `SENCO_EVIDENCE_NOT_CHECKED` today.
async fn flagged(s: &TestServer) -> Vec<i64> {
    let d = s
        .ok(
            &token("officer", "la:202:read"),
            "{ complianceIssues(filter: { laCode: 202 }, first: 250, \
             codes: [\"SENCO_EVIDENCE_NOT_CHECKED\"]) { edges { node { severity school { urn } } } } }",
            json!({}),
        )
        .await;
    d["complianceIssues"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["node"]["severity"], "ADVISORY");
            e["node"]["school"]["urn"].as_i64().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_school_writer_records_a_check_that_the_person_then_shows_and_the_audit_log_keeps() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let person = appoint(&s, 100001, Some("4000001"), false).await;
    let tok = token("school-1", "school:100001:write");
    let d = s
        .ok(
            &tok,
            RECORD,
            check(
                &person,
                "2026-01-12",
                "DFE_TEACHER_RECORD",
                &["NPQ_SENCO", "QTS", "QTS"],
            ),
        )
        .await;
    let c = &d["recordEvidenceCheck"];
    assert_eq!(c["source"], "DFE_TEACHER_RECORD");
    assert_eq!(c["confirms"], json!(["QTS", "NPQ_SENCO"]));
    assert_eq!(c["checkedOn"], "2026-01-12");
    assert_eq!(c["person"]["id"], person.as_str());

    let read = token("reader", "school:100001:read");
    let checks = s.ok(&read, CHECKS, json!({ "id": person })).await;
    assert_eq!(
        checks["person"]["evidenceChecks"],
        json!([{ "id": c["id"], "checkedOn": "2026-01-12", "source": "DFE_TEACHER_RECORD",
                 "confirms": ["QTS", "NPQ_SENCO"], "note": "Checked with the SENCO present" }])
    );

    let audit = s
        .ok(
            &read,
            "{ auditLog(schoolUrn: 100001, first: 5) { edges { node { operation entity rowId } } } }",
            json!({}),
        )
        .await;
    let newest = &audit["auditLog"]["edges"][0]["node"];
    assert_eq!(newest["operation"], "recordEvidenceCheck");
    assert_eq!(newest["entity"], "evidence_check");
    assert_eq!(newest["rowId"], c["id"]);
    s.stop().await;
}

#[tokio::test]
async fn only_those_who_may_write_the_person_record_a_check() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let person = appoint(&s, 100001, Some("4000002"), false).await;
    let input = check(&person, "2026-01-12", "CERTIFICATE", &["NASENCO"]);
    for scope in [
        "school:100001:read",
        "school:100002:write",
        "la:203:write",
        "la:202:read",
        "school:100001:govern",
    ] {
        let (code, body) = s
            .err(Some(&token("someone", scope)), RECORD, input.clone())
            .await;
        assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
    }
    let (code, _) = s.err(None, RECORD, input.clone()).await;
    assert_eq!(code, "UNAUTHENTICATED");
    for scope in ["school:100001:write", "la:202:write", "admin"] {
        s.ok(&token("someone", scope), RECORD, input.clone()).await;
    }
    let mut nobody = input.clone();
    nobody["i"]["personId"] = json!("999999");
    let (code, _) = s.err(Some(&admin()), RECORD, nobody).await;
    assert_eq!(code, "NOT_FOUND");
    s.stop().await;
}

#[tokio::test]
async fn a_check_is_refused_field_by_field_and_nothing_is_stored() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let person = appoint(&s, 100001, Some("4000003"), false).await;
    let a = admin();
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
    for (input, field) in [
        (
            check(&person, "2026-01-12", "DFE_TEACHER_RECORD", &["NASENCO"]),
            "input.confirms",
        ),
        (check(&person, "2026-01-12", "OTHER", &[]), "input.confirms"),
        (
            check(&person, &tomorrow, "OTHER", &["QTS"]),
            "input.checkedOn",
        ),
        (
            {
                let mut v = check(&person, "2026-01-12", "OTHER", &["QTS"]);
                v["i"]["note"] = json!("x".repeat(1001));
                v
            },
            "input.note",
        ),
        (
            {
                let mut v = check(&person, "2026-01-12", "OTHER", &["QTS"]);
                v["i"]["personId"] = json!("not-an-id");
                v
            },
            "input.personId",
        ),
    ] {
        let (code, body) = s.err(Some(&a), RECORD, input).await;
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let checks = s.ok(&a, CHECKS, json!({ "id": person })).await;
    assert_eq!(checks["person"]["evidenceChecks"], json!([]));
    s.stop().await;
}

#[tokio::test]
async fn an_unchecked_senco_is_flagged_until_their_qts_and_award_are_confirmed() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    let teacher = appoint(&s, 100001, Some("4000004"), false).await;
    // A headteacher SENCO with no award has nothing to confirm.
    appoint(&s, 100002, Some("4000005"), true).await;
    assert_eq!(flagged(&s).await, vec![100001]);

    s.ok(
        &a,
        RECORD,
        check(&teacher, "2026-01-12", "DFE_TEACHER_RECORD", &["QTS"]),
    )
    .await;
    assert_eq!(flagged(&s).await, Vec::<i64>::new());

    // Once qualified, the award needs confirming too.
    s.ok(
        &a,
        "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { id } }",
        json!({ "i": { "personId": teacher, "kind": "NPQ_SENCO", "startedOn": "2024-11-01",
                       "completedOn": "2026-06-01" } }),
    )
    .await;
    assert_eq!(flagged(&s).await, vec![100001]);
    // A check of another item does not clear it.
    s.ok(
        &a,
        RECORD,
        check(&teacher, "2026-07-01", "OTHER", &["INDUCTION"]),
    )
    .await;
    assert_eq!(flagged(&s).await, vec![100001]);
    s.ok(
        &a,
        RECORD,
        check(&teacher, "2026-07-01", "DFE_TEACHER_RECORD", &["NPQ_SENCO"]),
    )
    .await;
    assert_eq!(flagged(&s).await, Vec::<i64>::new());
    s.stop().await;
}

async fn dfe_file(s: &TestServer, tok: &str, query: &str) -> (u16, String) {
    let resp = s
        .client
        .get(format!("{}/export/dfe-teacher-check.csv{query}", s.base))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

fn trns(body: &str) -> Vec<String> {
    let body = body.strip_prefix('\u{feff}').unwrap();
    let mut lines = body.split("\r\n");
    assert_eq!(lines.next(), Some("TRN,Date of birth"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (trn, dob) = l.split_once(',').unwrap();
            assert_eq!(dob, "", "no dates of birth are stored");
            trn.to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_dfe_check_file_lists_current_sencos_due_a_check_in_files_of_100() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let a = admin();
    // 103 SENCOs at 100001, one without a TRN, one checked last month, one checked more than
    // a year ago, one whose appointment has ended, one shared with 100002.
    let mut people = Vec::new();
    for i in 0..103 {
        people.push(appoint(&s, 100001, Some(&format!("{:07}", 5_000_000 + i)), false).await);
    }
    appoint(&s, 100001, None, false).await;
    let today = chrono::Utc::now().date_naive();
    let recent = (today - chrono::Days::new(30)).to_string();
    let old = (today - chrono::Days::new(400)).to_string();
    s.ok(
        &a,
        RECORD,
        check(&people[0], &recent, "DFE_TEACHER_RECORD", &["QTS"]),
    )
    .await;
    s.ok(
        &a,
        RECORD,
        check(&people[1], &old, "DFE_TEACHER_RECORD", &["QTS"]),
    )
    .await;
    // A recent certificate is no DfE check.
    s.ok(
        &a,
        RECORD,
        check(&people[2], &recent, "CERTIFICATE", &["NASENCO"]),
    )
    .await;
    let ended = s
        .ok(
            &a,
            "{ school(urn: 100001) { sencoAppointments { id person { trn } } } }",
            json!({}),
        )
        .await["school"]["sencoAppointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["person"]["trn"] == "5000003")
        .unwrap()["id"]
        .clone();
    s.ok(
        &a,
        "mutation($i: EndSencoAppointmentInput!) { endSencoAppointment(input: $i) { id } }",
        json!({ "i": { "appointmentId": ended, "endedOn": "2026-01-31" } }),
    )
    .await;
    s.ok(
        &a,
        APPOINT,
        json!({ "i": { "schoolUrn": 100002, "startedOn": "2024-01-08",
            "person": { "trn": "5000004", "fullName": "Shared", "hasQts": true,
                        "inductionStatus": "COMPLETED" } } }),
    )
    .await;

    let la = token("officer", "la:202:read");
    let (status, page1) = dfe_file(&s, &la, "?laCode=202").await;
    assert_eq!(status, 200);
    let page1 = trns(&page1);
    let (_, page2) = dfe_file(&s, &la, "?laCode=202&page=2").await;
    let page2 = trns(&page2);
    let (_, page3) = dfe_file(&s, &la, "?laCode=202&page=3").await;
    assert_eq!(trns(&page3), Vec::<String>::new());

    let mut want: Vec<String> = (1..103)
        .filter(|i| *i != 3)
        .map(|i| format!("{:07}", 5_000_000 + i))
        .collect();
    want.sort();
    assert_eq!(page1.len(), 100);
    assert_eq!([page1.clone(), page2.clone()].concat(), want);
    assert_eq!(page2.len(), 1);

    // The shared SENCO is listed once, through either school.
    let (_, school2) = dfe_file(&s, &token("s2", "school:100002:read"), "").await;
    assert_eq!(trns(&school2), vec!["5000004".to_owned()]);
    // An LA token may not ask for another LA; a bad page is refused.
    let (status, _) = dfe_file(&s, &token("other", "la:203:read"), "?laCode=202").await;
    assert_eq!(status, 403);
    for bad in ["?page=0", "?page=-1", "?page=two"] {
        let (status, _) = dfe_file(&s, &la, bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    let resp = s
        .client
        .get(format!("{}/export/dfe-teacher-check.csv", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    s.stop().await;
}
