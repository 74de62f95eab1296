//! SENCO appointments, people, qualifications, eligibility and the qualification deadline
//! (SPEC 3, 4.2 - 4.4, 5 and 6), end to end over HTTP with real tokens.

// Test helpers panic on a malformed response: that is the right failure in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use common::*;
use serde_json::{Value, json};

const APPT: &str = "id startedOn endedOn isHeadteacher worksAsTeacherAtSchool \
    onSeniorLeadershipTeam nonContactHoursPerWeek classTeachingFraction eligible \
    eligibilityIssues school { urn } \
    person { id trn fullName email hasQts inductionStatus }";

const QUAL: &str = "dutyApplies exemptionReason deadline status daysRemaining \
    priorServiceDays qualifyingAward { id kind }";

fn appoint_q() -> String {
    format!("mutation($i: AppointSencoInput!) {{ appointSenco(input: $i) {{ {APPT} }} }}")
}

fn update_appt_q() -> String {
    format!(
        "mutation($i: UpdateSencoAppointmentInput!) {{ updateSencoAppointment(input: $i) {{ {APPT} }} }}"
    )
}

fn end_appt_q() -> String {
    format!(
        "mutation($i: EndSencoAppointmentInput!) {{ endSencoAppointment(input: $i) {{ {APPT} }} }}"
    )
}

const UPDATE_PERSON: &str = "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { \
    id trn fullName email hasQts inductionStatus } }";

const ADD_PRIOR: &str = "mutation($i: AddPriorSencoServiceInput!) { addPriorSencoService(input: $i) { \
    id priorService { startedOn endedOn description } } }";

const RECORD_QUAL: &str = "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { \
    id kind provider startedOn completedOn countsTowardDuty } }";

const UPDATE_QUAL: &str = "mutation($i: UpdateQualificationInput!) { updateQualification(input: $i) { \
    id kind provider startedOn completedOn countsTowardDuty } }";

const PERSON_Q: &str = "query($id: ID!) { person(id: $id) { id trn fullName email hasQts \
    inductionStatus appointments { id school { urn } } \
    qualifications { id kind startedOn completedOn countsTowardDuty } \
    priorService { startedOn endedOn description } } }";

const DEADLINES_Q: &str = "query($f: DeadlineFilter, $d: Date, $first: Int, $after: String) { \
    qualificationDeadlines(filter: $f, asOf: $d, first: $first, after: $after) { \
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } \
    edges { cursor node { appointment { id } school { urn } deadline status } } } }";

fn person_input(trn: Option<&str>, name: &str) -> Value {
    json!({ "trn": trn, "fullName": name, "hasQts": true, "inductionStatus": "COMPLETED" })
}

fn appointment_input(urn: i32, trn: Option<&str>, name: &str, started_on: &str) -> Value {
    json!({ "schoolUrn": urn, "person": person_input(trn, name), "startedOn": started_on })
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Appoints and returns the appointment.
async fn appoint(s: &TestServer, tok: &str, input: Value) -> Value {
    s.ok(tok, &appoint_q(), json!({ "i": input })).await["appointSenco"].clone()
}

/// Appoints a person with `trn` at `urn` from `started_on` (admin) and returns the
/// appointment id and the person id.
async fn appoint_admin(s: &TestServer, urn: i32, trn: &str, started_on: &str) -> (String, String) {
    let a = appoint(
        s,
        &admin(),
        appointment_input(urn, Some(trn), &format!("Senco {trn}"), started_on),
    )
    .await;
    (id_of(&a), id_of(&a["person"]))
}

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// Records a qualification with the admin token; returns its id.
async fn record_qual(
    s: &TestServer,
    person_id: &str,
    kind: &str,
    started_on: &str,
    completed_on: Option<&str>,
) -> Value {
    s.ok(
        &admin(),
        RECORD_QUAL,
        json!({ "i": { "personId": person_id, "kind": kind, "startedOn": started_on,
                       "completedOn": completed_on } }),
    )
    .await["recordQualification"]
        .clone()
}

/// The school's appointments as the admin sees them.
async fn appointments_at(s: &TestServer, urn: i32) -> Vec<Value> {
    let data = s
        .ok(
            &admin(),
            &format!("query($u: Int!) {{ school(urn: $u) {{ sencoAppointments {{ {APPT} }} }} }}"),
            json!({ "u": urn }),
        )
        .await;
    data["school"]["sencoAppointments"]
        .as_array()
        .unwrap()
        .clone()
}

/// One appointment's qualification duty as of `as_of`, read through its school (admin).
async fn duty(s: &TestServer, urn: i32, appointment_id: &str, as_of: &str) -> Value {
    let data = s
        .ok(
            &admin(),
            &format!(
                "query($u: Int!, $d: Date) {{ school(urn: $u) {{ sencoAppointments {{ id \
                 qualification(asOf: $d) {{ {QUAL} }} }} }} }}"
            ),
            json!({ "u": urn, "d": as_of }),
        )
        .await;
    data["school"]["sencoAppointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == appointment_id)
        .unwrap_or_else(|| panic!("appointment {appointment_id} not at {urn}: {data}"))["qualification"]
        .clone()
}

/// The person as the admin sees them.
async fn person_admin(s: &TestServer, id: &str) -> Value {
    s.ok(&admin(), PERSON_Q, json!({ "id": id })).await["person"].clone()
}

/// Expects `BAD_USER_INPUT` naming `field`.
async fn expect_bad_input(s: &TestServer, tok: &str, query: &str, vars: Value, field: &str) {
    let (code, body) = s.err(Some(tok), query, vars).await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
}

/// Expects `FORBIDDEN`.
async fn expect_forbidden(s: &TestServer, tok: &str, query: &str, vars: Value) {
    let (code, body) = s.err(Some(tok), query, vars).await;
    assert_eq!(code, "FORBIDDEN", "{body}");
}

/// Runs every SENCO write through `tok` at `urn`, checking each result.
async fn full_lifecycle(s: &TestServer, tok: &str, urn: i32, trn: &str) {
    let a = appoint(
        s,
        tok,
        json!({
            "schoolUrn": urn,
            "person": { "trn": trn, "fullName": "  Robin Lee  ", "email": "robin@school.example",
                        "hasQts": false, "inductionStatus": "IN_PROGRESS" },
            "startedOn": "2024-01-15",
            "nonContactHoursPerWeek": 4.5,
        }),
    )
    .await;
    assert_eq!(a["school"]["urn"], urn);
    assert_eq!(a["startedOn"], "2024-01-15");
    assert_eq!(a["endedOn"], Value::Null);
    assert_eq!(a["isHeadteacher"], false, "default isHeadteacher");
    assert_eq!(
        a["worksAsTeacherAtSchool"], true,
        "default worksAsTeacherAtSchool"
    );
    assert_eq!(
        a["onSeniorLeadershipTeam"], false,
        "default onSeniorLeadershipTeam"
    );
    assert_eq!(a["nonContactHoursPerWeek"], 4.5);
    assert_eq!(a["classTeachingFraction"], Value::Null);
    assert_eq!(a["person"]["fullName"], "Robin Lee", "name is trimmed");
    assert_eq!(a["person"]["trn"], trn);
    let appt = id_of(&a);
    let pid = id_of(&a["person"]);

    let u = s
        .ok(
            tok,
            &update_appt_q(),
            json!({ "i": { "appointmentId": appt, "onSeniorLeadershipTeam": true,
                           "classTeachingFraction": 0.25 } }),
        )
        .await["updateSencoAppointment"]
        .clone();
    assert_eq!(u["onSeniorLeadershipTeam"], true);
    assert_eq!(u["classTeachingFraction"], 0.25);
    assert_eq!(
        u["nonContactHoursPerWeek"], 4.5,
        "absent field left unchanged"
    );
    let u = s
        .ok(
            tok,
            &update_appt_q(),
            json!({ "i": { "appointmentId": appt, "nonContactHoursPerWeek": null } }),
        )
        .await["updateSencoAppointment"]
        .clone();
    assert_eq!(u["nonContactHoursPerWeek"], Value::Null, "null clears");
    assert_eq!(u["classTeachingFraction"], 0.25);

    let p = s
        .ok(
            tok,
            UPDATE_PERSON,
            json!({ "i": { "personId": pid, "hasQts": true, "inductionStatus": "COMPLETED",
                           "email": "robin.lee@school.example" } }),
        )
        .await["updatePerson"]
        .clone();
    assert_eq!(p["hasQts"], true);
    assert_eq!(p["inductionStatus"], "COMPLETED");
    assert_eq!(p["email"], "robin.lee@school.example");
    assert_eq!(p["fullName"], "Robin Lee");

    let p = s
        .ok(
            tok,
            ADD_PRIOR,
            json!({ "i": { "personId": pid, "startedOn": "2019-09-01", "endedOn": "2020-03-31",
                           "description": "SENCO in another LA" } }),
        )
        .await["addPriorSencoService"]
        .clone();
    assert_eq!(
        p["priorService"],
        json!([{ "startedOn": "2019-09-01", "endedOn": "2020-03-31",
                 "description": "SENCO in another LA" }])
    );

    let q = s
        .ok(
            tok,
            RECORD_QUAL,
            json!({ "i": { "personId": pid, "kind": "NPQ_SENCO", "provider": "Ambition",
                           "startedOn": "2024-10-01" } }),
        )
        .await["recordQualification"]
        .clone();
    assert_eq!(q["kind"], "NPQ_SENCO");
    assert_eq!(q["completedOn"], Value::Null);
    assert_eq!(q["countsTowardDuty"], false, "not completed yet");
    let q = s
        .ok(
            tok,
            UPDATE_QUAL,
            json!({ "i": { "qualificationId": id_of(&q), "completedOn": "2025-07-01" } }),
        )
        .await["updateQualification"]
        .clone();
    assert_eq!(q["completedOn"], "2025-07-01");
    assert_eq!(q["provider"], "Ambition");
    assert_eq!(q["countsTowardDuty"], true);

    let e = s
        .ok(
            tok,
            &end_appt_q(),
            json!({ "i": { "appointmentId": appt, "endedOn": "2025-08-31" } }),
        )
        .await["endSencoAppointment"]
        .clone();
    assert_eq!(e["endedOn"], "2025-08-31");

    // Everything is stored, and readable with the same token.
    let data = s
        .ok(
            tok,
            "query($u: Int!) { school(urn: $u) { sencoAppointments { id endedOn \
             onSeniorLeadershipTeam classTeachingFraction nonContactHoursPerWeek \
             person { id hasQts qualifications { completedOn } priorService { endedOn } } } } }",
            json!({ "u": urn }),
        )
        .await;
    let stored = data["school"]["sencoAppointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == appt.as_str())
        .unwrap()
        .clone();
    assert_eq!(stored["endedOn"], "2025-08-31");
    assert_eq!(stored["onSeniorLeadershipTeam"], true);
    assert_eq!(stored["classTeachingFraction"], 0.25);
    assert_eq!(stored["nonContactHoursPerWeek"], Value::Null);
    assert_eq!(stored["person"]["id"], pid.as_str());
    assert_eq!(stored["person"]["hasQts"], true);
    assert_eq!(
        stored["person"]["qualifications"],
        json!([{ "completedOn": "2025-07-01" }])
    );
    assert_eq!(
        stored["person"]["priorService"],
        json!([{ "endedOn": "2020-03-31" }])
    );
}

/// Tries every SENCO write with `tok` against records of a school it may not write, and
/// checks each is `FORBIDDEN` and changes nothing.
async fn every_write_forbidden(s: &TestServer, tok: &str, urn: i32, trn: &str) {
    let (appt, pid) = appoint_admin(s, urn, trn, "2024-02-01").await;
    let qid = id_of(&record_qual(s, &pid, "NPQ_SENCO", "2024-10-01", None).await);
    let before_appts = appointments_at(s, urn).await;
    let before_person = person_admin(s, &pid).await;

    expect_forbidden(
        s,
        tok,
        &appoint_q(),
        json!({ "i": appointment_input(urn, Some("7777777"), "Intruder", "2025-01-01") }),
    )
    .await;
    expect_forbidden(
        s,
        tok,
        &update_appt_q(),
        json!({ "i": { "appointmentId": appt, "onSeniorLeadershipTeam": true } }),
    )
    .await;
    expect_forbidden(
        s,
        tok,
        &end_appt_q(),
        json!({ "i": { "appointmentId": appt, "endedOn": "2025-01-01" } }),
    )
    .await;
    expect_forbidden(
        s,
        tok,
        UPDATE_PERSON,
        json!({ "i": { "personId": pid, "fullName": "Changed" } }),
    )
    .await;
    expect_forbidden(
        s,
        tok,
        ADD_PRIOR,
        json!({ "i": { "personId": pid, "startedOn": "2015-01-01", "endedOn": "2016-12-31" } }),
    )
    .await;
    expect_forbidden(
        s,
        tok,
        RECORD_QUAL,
        json!({ "i": { "personId": pid, "kind": "NASENCO", "startedOn": "2020-01-01",
                       "completedOn": "2021-01-01" } }),
    )
    .await;
    expect_forbidden(
        s,
        tok,
        UPDATE_QUAL,
        json!({ "i": { "qualificationId": qid, "completedOn": "2025-06-01" } }),
    )
    .await;

    assert_eq!(appointments_at(s, urn).await, before_appts, "{tok}");
    assert_eq!(person_admin(s, &pid).await, before_person, "{tok}");
}

#[tokio::test]
async fn school_la_trust_and_admin_writers_manage_senco_records_at_their_own_schools() {
    let s = TestServer::start().await;
    small_world(&s).await;
    full_lifecycle(
        &s,
        &token("school-w", "school:100001:write"),
        100001,
        "1000001",
    )
    .await;
    full_lifecycle(&s, &token("la-w", "la:202:write"), 100002, "1000002").await;
    // Trust 2044 reaches 100003 in LA 203.
    full_lifecycle(&s, &token("trust-w", "trust:2044:write"), 100003, "1000003").await;
    full_lifecycle(&s, &admin(), 100004, "1000004").await;
    s.stop().await;
}

#[tokio::test]
async fn writers_are_forbidden_every_senco_write_at_schools_outside_their_scope() {
    let s = TestServer::start().await;
    small_world(&s).await;
    every_write_forbidden(
        &s,
        &token("school-w", "school:100001:write"),
        100002,
        "2000001",
    )
    .await;
    every_write_forbidden(&s, &token("la-w", "la:202:write"), 100003, "2000002").await;
    every_write_forbidden(&s, &token("la-w2", "la:203:write"), 100001, "2000003").await;
    every_write_forbidden(&s, &token("trust-w", "trust:2044:write"), 100001, "2000004").await;
    every_write_forbidden(
        &s,
        &token("trust-w2", "trust:2044:write"),
        100004,
        "2000005",
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn read_tokens_are_forbidden_every_senco_write_even_at_schools_they_read() {
    let s = TestServer::start().await;
    small_world(&s).await;
    // 100002 is in LA 202 and trust 2044: every one of these may read it.
    for (i, scope) in [
        "school:100002:read",
        "la:202:read",
        "trust:2044:read",
        "school:100002:read la:202:read trust:2044:read",
    ]
    .into_iter()
    .enumerate()
    {
        let tok = token("reader", scope);
        s.ok(&tok, "{ school(urn: 100002) { urn } }", json!({}))
            .await;
        every_write_forbidden(&s, &tok, 100002, &format!("300000{i}")).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn anonymous_callers_cannot_appoint() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (code, body) = s
        .err(
            None,
            &appoint_q(),
            json!({ "i": appointment_input(100001, None, "Anon", "2025-01-01") }),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED", "{body}");
    assert!(appointments_at(&s, 100001).await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn invalid_appointment_input_is_bad_user_input_naming_the_field_and_stores_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = token("la-w", "la:202:write");
    let far_future = (today() + chrono::Days::new(800)).to_string();
    let cases: Vec<(Value, &str)> = vec![
        (
            appointment_input(100001, Some("123456"), "Six Digits", "2025-01-10"),
            "input.person.trn",
        ),
        (
            appointment_input(100001, Some("12345678"), "Eight Digits", "2025-01-10"),
            "input.person.trn",
        ),
        (
            appointment_input(100001, Some("12a4567"), "Letter", "2025-01-10"),
            "input.person.trn",
        ),
        (
            json!({ "schoolUrn": 100001, "person": person_input(Some("1111111"), "Frac"),
                    "startedOn": "2025-01-10", "classTeachingFraction": 1.5 }),
            "input.classTeachingFraction",
        ),
        (
            json!({ "schoolUrn": 100001, "person": person_input(Some("1111111"), "Frac"),
                    "startedOn": "2025-01-10", "classTeachingFraction": -0.1 }),
            "input.classTeachingFraction",
        ),
        (
            json!({ "schoolUrn": 100001, "person": person_input(Some("1111111"), "Hours"),
                    "startedOn": "2025-01-10", "nonContactHoursPerWeek": 60.5 }),
            "input.nonContactHoursPerWeek",
        ),
        (
            json!({ "schoolUrn": 100001, "person": person_input(Some("1111111"), "Hours"),
                    "startedOn": "2025-01-10", "nonContactHoursPerWeek": -1.0 }),
            "input.nonContactHoursPerWeek",
        ),
        (
            appointment_input(100001, Some("1111111"), "Future", &far_future),
            "input.startedOn",
        ),
        (
            appointment_input(100001, Some("1111111"), "   ", "2025-01-10"),
            "input.person.fullName",
        ),
        (
            json!({ "schoolUrn": 100001,
                    "person": { "trn": "1111111", "fullName": "Mail", "email": "not-an-email",
                                "hasQts": true, "inductionStatus": "COMPLETED" },
                    "startedOn": "2025-01-10" }),
            "input.person.email",
        ),
    ];
    for (input, field) in cases {
        expect_bad_input(&s, &tok, &appoint_q(), json!({ "i": input }), field).await;
    }
    assert!(
        appointments_at(&s, 100001).await.is_empty(),
        "a refused appointment stored something"
    );
    // The boundaries themselves are accepted.
    let a = appoint(
        &s,
        &tok,
        json!({ "schoolUrn": 100001, "person": person_input(Some("1111111"), "Edges"),
                "startedOn": "2025-01-10", "classTeachingFraction": 1.0,
                "nonContactHoursPerWeek": 60.0 }),
    )
    .await;
    assert_eq!(a["classTeachingFraction"], 1.0);
    assert_eq!(a["nonContactHoursPerWeek"], 60.0);
    s.stop().await;
}

#[tokio::test]
async fn invalid_updates_are_bad_user_input_naming_the_field_and_change_nothing() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = token("school-w", "school:100001:write");
    let a = appoint(
        &s,
        &tok,
        json!({ "schoolUrn": 100001, "person": person_input(Some("1212121"), "Sam Patel"),
                "startedOn": "2024-09-01", "classTeachingFraction": 0.2,
                "nonContactHoursPerWeek": 5.0 }),
    )
    .await;
    let appt = id_of(&a);
    let pid = id_of(&a["person"]);
    let q = s
        .ok(
            &tok,
            RECORD_QUAL,
            json!({ "i": { "personId": pid, "kind": "NPQ_SENCO", "startedOn": "2024-10-01" } }),
        )
        .await["recordQualification"]
        .clone();
    let qid = id_of(&q);
    let before_appts = appointments_at(&s, 100001).await;
    let before_person = person_admin(&s, &pid).await;
    let future = (today() + chrono::Days::new(3)).to_string();

    let cases: Vec<(String, Value, &str)> = vec![
        (
            update_appt_q(),
            json!({ "appointmentId": appt, "classTeachingFraction": 1.01 }),
            "input.classTeachingFraction",
        ),
        (
            update_appt_q(),
            json!({ "appointmentId": appt, "nonContactHoursPerWeek": 61 }),
            "input.nonContactHoursPerWeek",
        ),
        (
            end_appt_q(),
            json!({ "appointmentId": appt, "endedOn": "2024-08-31" }),
            "input.endedOn",
        ),
        (
            UPDATE_PERSON.into(),
            json!({ "personId": pid, "trn": "12345" }),
            "input.trn",
        ),
        (
            UPDATE_PERSON.into(),
            json!({ "personId": pid, "fullName": "" }),
            "input.fullName",
        ),
        (
            ADD_PRIOR.into(),
            json!({ "personId": pid, "startedOn": "2020-09-01", "endedOn": "2020-08-31" }),
            "input.endedOn",
        ),
        (
            ADD_PRIOR.into(),
            json!({ "personId": pid, "startedOn": future, "endedOn": future }),
            "input.startedOn",
        ),
        (
            RECORD_QUAL.into(),
            json!({ "personId": pid, "kind": "NASENCO", "startedOn": "2022-01-01",
                    "completedOn": "2021-12-31" }),
            "input.completedOn",
        ),
        (
            RECORD_QUAL.into(),
            json!({ "personId": pid, "kind": "NASENCO", "startedOn": "2022-01-01",
                    "completedOn": future }),
            "input.completedOn",
        ),
        (
            UPDATE_QUAL.into(),
            json!({ "qualificationId": qid, "completedOn": "2024-09-30" }),
            "input.completedOn",
        ),
    ];
    for (query, input, field) in cases {
        expect_bad_input(&s, &tok, &query, json!({ "i": input }), field).await;
    }
    assert_eq!(appointments_at(&s, 100001).await, before_appts);
    assert_eq!(person_admin(&s, &pid).await, before_person);

    // An ended appointment cannot be moved to start after its end.
    s.ok(
        &tok,
        &end_appt_q(),
        json!({ "i": { "appointmentId": appt, "endedOn": "2025-03-31" } }),
    )
    .await;
    expect_bad_input(
        &s,
        &tok,
        &update_appt_q(),
        json!({ "i": { "appointmentId": appt, "startedOn": "2025-04-01" } }),
        "input.startedOn",
    )
    .await;
    let after = appointments_at(&s, 100001).await;
    assert_eq!(after[0]["startedOn"], "2024-09-01");
    assert_eq!(after[0]["endedOn"], "2025-03-31");
    s.stop().await;
}

#[tokio::test]
async fn overlapping_appointment_of_the_same_person_at_the_same_school_is_refused() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = token("la-w", "la:202:write");
    let first = appoint(
        &s,
        &tok,
        appointment_input(100001, Some("3434343"), "Jo Park", "2023-09-01"),
    )
    .await;
    // Open-ended first appointment: any later start overlaps.
    expect_bad_input(
        &s,
        &tok,
        &appoint_q(),
        json!({ "i": appointment_input(100001, Some("3434343"), "Jo Park", "2024-09-01") }),
        "input.startedOn",
    )
    .await;
    assert_eq!(appointments_at(&s, 100001).await.len(), 1);

    s.ok(
        &tok,
        &end_appt_q(),
        json!({ "i": { "appointmentId": id_of(&first), "endedOn": "2024-12-31" } }),
    )
    .await;
    // Starting on the last day of the ended appointment still overlaps (both inclusive)...
    expect_bad_input(
        &s,
        &tok,
        &appoint_q(),
        json!({ "i": appointment_input(100001, Some("3434343"), "Jo Park", "2024-12-31") }),
        "input.startedOn",
    )
    .await;
    // ...and so does an open-ended one starting before it.
    expect_bad_input(
        &s,
        &tok,
        &appoint_q(),
        json!({ "i": appointment_input(100001, Some("3434343"), "Jo Park", "2023-01-01") }),
        "input.startedOn",
    )
    .await;
    assert_eq!(appointments_at(&s, 100001).await.len(), 1);

    // The next day is fine, and so is the same period at another school.
    let second = appoint(
        &s,
        &tok,
        appointment_input(100001, Some("3434343"), "Jo Park", "2025-01-01"),
    )
    .await;
    assert_eq!(second["person"]["id"], first["person"]["id"]);
    let elsewhere = appoint(
        &s,
        &tok,
        appointment_input(100002, Some("3434343"), "Jo Park", "2024-01-01"),
    )
    .await;
    assert_eq!(elsewhere["person"]["id"], first["person"]["id"]);
    assert_eq!(appointments_at(&s, 100001).await.len(), 2);

    // Moving the second appointment back into the first is refused too.
    expect_bad_input(
        &s,
        &tok,
        &update_appt_q(),
        json!({ "i": { "appointmentId": id_of(&second), "startedOn": "2024-06-01" } }),
        "input.startedOn",
    )
    .await;
    let stored = appointments_at(&s, 100001).await;
    assert_eq!(stored[1]["startedOn"], "2025-01-01");
    s.stop().await;
}

#[tokio::test]
async fn a_second_school_appointing_a_known_trn_links_the_same_person() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let first = appoint(
        &s,
        &token("school-w", "school:100001:write"),
        appointment_input(100001, Some("0456789"), "Alex Morgan", "2024-01-08"),
    )
    .await;
    let second = appoint(
        &s,
        &token("la-w", "la:203:write"),
        appointment_input(100003, Some(" 0456789 "), "A. Morgan (typo)", "2024-04-15"),
    )
    .await;
    assert_eq!(second["person"]["id"], first["person"]["id"], "same Person");
    assert_ne!(second["id"], first["id"], "a new appointment");
    assert_eq!(
        second["person"]["fullName"], "Alex Morgan",
        "the recorded details are kept"
    );
    assert_eq!(second["person"]["trn"], "0456789", "leading zero kept");
    let p = person_admin(&s, &id_of(&first["person"])).await;
    let urns: Vec<i64> = p["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["school"]["urn"].as_i64().unwrap())
        .collect();
    assert_eq!(urns, vec![100001, 100003]);

    // Without a TRN nothing links: a new person every time.
    let a = appoint(
        &s,
        &admin(),
        appointment_input(100002, None, "No Trn", "2024-01-01"),
    )
    .await;
    let b = appoint(
        &s,
        &admin(),
        appointment_input(100004, None, "No Trn", "2024-01-01"),
    )
    .await;
    assert_ne!(a["person"]["id"], b["person"]["id"]);

    // A TRN already held by someone else cannot be given to another person.
    let (code, body) = s
        .err(
            Some(&admin()),
            UPDATE_PERSON,
            json!({ "i": { "personId": id_of(&a["person"]), "trn": "0456789" } }),
        )
        .await;
    assert_eq!(code, "CONFLICT", "{body}");
    assert_eq!(
        person_admin(&s, &id_of(&a["person"])).await["trn"],
        Value::Null
    );
    s.stop().await;
}

#[tokio::test]
async fn each_la_sees_only_its_own_schools_appointment_of_a_shared_senco() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (a202, pid) = appoint_admin(&s, 100001, "5555555", "2024-09-01").await;
    let (a203, pid2) = appoint_admin(&s, 100003, "5555555", "2024-09-01").await;
    assert_eq!(pid, pid2);

    for (scope, own_appt, own_urn, other_urn) in [
        ("la:202:read", &a202, 100001, 100003),
        ("la:203:read", &a203, 100003, 100001),
    ] {
        let tok = token("la-reader", scope);
        let p = s.ok(&tok, PERSON_Q, json!({ "id": pid })).await["person"].clone();
        assert_eq!(p["fullName"], "Senco 5555555");
        assert_eq!(
            p["appointments"],
            json!([{ "id": own_appt, "school": { "urn": own_urn } }]),
            "{scope} sees only its own school's appointment"
        );
        // The other school, and its appointments, stay out of reach.
        expect_forbidden(
            &s,
            &tok,
            "query($u: Int!) { school(urn: $u) { sencoAppointments { id } } }",
            json!({ "u": other_urn }),
        )
        .await;
        let d = s.ok(&tok, DEADLINES_Q, json!({ "d": "2025-06-01" })).await;
        let seen: Vec<&Value> = d["qualificationDeadlines"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"]["appointment"]["id"])
            .collect();
        assert_eq!(seen, vec![&json!(own_appt)], "{scope}");
        // Through an appointment's person, too.
        let via = s
            .ok(
                &tok,
                "query($u: Int!) { school(urn: $u) { sencoAppointments { person { \
                 appointments { school { urn } } } } } }",
                json!({ "u": own_urn }),
            )
            .await;
        assert_eq!(
            via["school"]["sencoAppointments"][0]["person"]["appointments"],
            json!([{ "school": { "urn": own_urn } }])
        );
    }
    // A token for neither school may not read the person at all.
    expect_forbidden(
        &s,
        &token("other", "school:100002:read"),
        PERSON_Q,
        json!({ "id": pid }),
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn school_senco_appointments_current_on_lists_those_in_post_that_day() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = token("school-w", "school:100001:write");
    let a = appoint(
        &s,
        &tok,
        appointment_input(100001, Some("6000001"), "First", "2020-01-01"),
    )
    .await;
    s.ok(
        &tok,
        &end_appt_q(),
        json!({ "i": { "appointmentId": id_of(&a), "endedOn": "2022-07-31" } }),
    )
    .await;
    let b = appoint(
        &s,
        &tok,
        appointment_input(100001, Some("6000002"), "Second", "2022-09-01"),
    )
    .await;
    let (ida, idb) = (id_of(&a), id_of(&b));
    let q = "query($d: Date) { school(urn: 100001) { sencoAppointments(currentOn: $d) { id } } }";
    for (on, expected) in [
        (Some("2019-12-31"), vec![]),
        (Some("2020-01-01"), vec![ida.clone()]),
        (Some("2022-07-31"), vec![ida.clone()]),
        (Some("2022-08-15"), vec![]),
        (Some("2022-09-01"), vec![idb.clone()]),
        (None, vec![ida.clone(), idb.clone()]),
    ] {
        let data = s.ok(&tok, q, json!({ "d": on })).await;
        let ids: Vec<String> = data["school"]["sencoAppointments"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect();
        assert_eq!(ids, expected, "currentOn {on:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn eligibility_lists_every_unmet_requirement_unless_the_senco_is_the_head() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let tok = token("la-w", "la:202:write");
    let cases = [
        (false, true, "COMPLETED", true, vec![]),
        (false, true, "NOT_REQUIRED", true, vec![]),
        (false, false, "COMPLETED", true, vec!["NO_QTS"]),
        (
            false,
            true,
            "IN_PROGRESS",
            true,
            vec!["INDUCTION_NOT_COMPLETED"],
        ),
        (
            false,
            true,
            "NOT_STARTED",
            true,
            vec!["INDUCTION_NOT_COMPLETED"],
        ),
        (
            false,
            true,
            "COMPLETED",
            false,
            vec!["NOT_TEACHING_AT_SCHOOL"],
        ),
        (
            false,
            false,
            "NOT_STARTED",
            false,
            vec![
                "NO_QTS",
                "INDUCTION_NOT_COMPLETED",
                "NOT_TEACHING_AT_SCHOOL",
            ],
        ),
        (true, false, "NOT_STARTED", false, vec![]),
    ];
    for (i, (head, qts, induction, teaches, issues)) in cases.into_iter().enumerate() {
        let a = appoint(
            &s,
            &tok,
            json!({
                "schoolUrn": 100001,
                "person": { "trn": format!("710000{i}"), "fullName": format!("Case {i}"),
                            "hasQts": qts, "inductionStatus": induction },
                "startedOn": "2025-01-10",
                "isHeadteacher": head,
                "worksAsTeacherAtSchool": teaches,
            }),
        )
        .await;
        assert_eq!(a["eligibilityIssues"], json!(issues), "case {i}");
        assert_eq!(a["eligible"], issues.is_empty(), "case {i}");
    }
    // Eligibility follows the stored facts: granting QTS and completing induction fixes it.
    let a = appoint(
        &s,
        &tok,
        json!({
            "schoolUrn": 100002,
            "person": { "trn": "7200000", "fullName": "Trainee", "hasQts": false,
                        "inductionStatus": "IN_PROGRESS" },
            "startedOn": "2025-01-10",
        }),
    )
    .await;
    assert_eq!(a["eligible"], false);
    s.ok(
        &tok,
        UPDATE_PERSON,
        json!({ "i": { "personId": id_of(&a["person"]), "hasQts": true,
                       "inductionStatus": "COMPLETED" } }),
    )
    .await;
    let after = appointments_at(&s, 100002).await;
    assert_eq!(after[0]["eligible"], true);
    assert_eq!(after[0]["eligibilityIssues"], json!([]));
    // And an appointment update can break it again.
    let u = s
        .ok(
            &tok,
            &update_appt_q(),
            json!({ "i": { "appointmentId": id_of(&a), "worksAsTeacherAtSchool": false } }),
        )
        .await;
    assert_eq!(
        u["updateSencoAppointment"]["eligibilityIssues"],
        json!(["NOT_TEACHING_AT_SCHOOL"])
    );
    s.stop().await;
}

#[tokio::test]
async fn deadline_is_the_third_anniversary_and_the_day_itself_is_not_overdue() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (appt, _) = appoint_admin(&s, 100001, "8000001", "2025-01-10").await;
    let d = duty(&s, 100001, &appt, "2025-06-01").await;
    assert_eq!(d["dutyApplies"], true);
    assert_eq!(d["exemptionReason"], Value::Null);
    assert_eq!(d["deadline"], "2028-01-10");
    assert_eq!(d["status"], "NOT_STARTED");
    assert_eq!(
        d["daysRemaining"],
        (date("2028-01-10") - date("2025-06-01")).num_days()
    );
    assert_eq!(d["priorServiceDays"], 0);
    assert_eq!(d["qualifyingAward"], Value::Null);

    let d = duty(&s, 100001, &appt, "2028-01-10").await;
    assert_eq!(d["status"], "NOT_STARTED");
    assert_eq!(d["daysRemaining"], 0);
    let d = duty(&s, 100001, &appt, "2028-01-11").await;
    assert_eq!(d["status"], "OVERDUE");
    assert_eq!(d["daysRemaining"], -1);

    // Appointed on 29 February: the anniversary in a non-leap year is 1 March.
    let (leap, _) = appoint_admin(&s, 100002, "8000002", "2024-02-29").await;
    let d = duty(&s, 100002, &leap, "2024-06-01").await;
    assert_eq!(d["deadline"], "2027-03-01");
    s.stop().await;
}

#[tokio::test]
async fn an_sencos_deadline_passed_without_a_counting_qualification_is_overdue() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (appt, pid) = appoint_admin(&s, 100001, "8100001", "2020-03-01").await;
    // A NASENCO begun too late never counts, however it ends.
    let late = record_qual(&s, &pid, "NASENCO", "2024-09-01", Some("2025-06-30")).await;
    assert_eq!(late["countsTowardDuty"], false);
    let d = duty(&s, 100001, &appt, "2025-01-01").await;
    assert_eq!(d["deadline"], "2023-03-01");
    assert_eq!(d["status"], "OVERDUE");
    assert_eq!(
        d["daysRemaining"],
        (date("2023-03-01") - date("2025-01-01")).num_days()
    );
    assert_eq!(d["qualifyingAward"], Value::Null);
    // Qualifying late still clears it from the day of completion.
    let npq = record_qual(&s, &pid, "NPQ_SENCO", "2024-10-01", Some("2025-09-30")).await;
    assert_eq!(
        duty(&s, 100001, &appt, "2025-09-29").await["status"],
        "OVERDUE"
    );
    let d = duty(&s, 100001, &appt, "2025-09-30").await;
    assert_eq!(d["status"], "QUALIFIED");
    assert_eq!(d["qualifyingAward"]["id"], npq["id"]);
    s.stop().await;
}

#[tokio::test]
async fn npq_begun_after_september_2024_trains_then_qualifies() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (appt, pid) = appoint_admin(&s, 100001, "8200001", "2025-01-10").await;
    let npq = s
        .ok(
            &admin(),
            RECORD_QUAL,
            json!({ "i": { "personId": pid, "kind": "NPQ_SENCO", "provider": "Best Practice Network",
                           "startedOn": "2025-02-01" } }),
        )
        .await["recordQualification"]
        .clone();
    assert_eq!(
        duty(&s, 100001, &appt, "2025-01-31").await["status"],
        "NOT_STARTED"
    );
    assert_eq!(
        duty(&s, 100001, &appt, "2025-02-01").await["status"],
        "IN_TRAINING"
    );
    s.ok(
        &admin(),
        UPDATE_QUAL,
        json!({ "i": { "qualificationId": id_of(&npq), "completedOn": "2026-03-01" } }),
    )
    .await;
    assert_eq!(
        duty(&s, 100001, &appt, "2026-02-28").await["status"],
        "IN_TRAINING"
    );
    let d = duty(&s, 100001, &appt, "2026-03-01").await;
    assert_eq!(d["status"], "QUALIFIED");
    assert_eq!(d["qualifyingAward"]["id"], npq["id"]);
    assert_eq!(d["qualifyingAward"]["kind"], "NPQ_SENCO");
    assert_eq!(d["deadline"], "2028-01-10", "the deadline is still shown");
    // Long after the deadline, qualified stays qualified.
    assert_eq!(
        duty(&s, 100001, &appt, "2030-01-01").await["status"],
        "QUALIFIED"
    );

    // An NPQ begun before 1 September 2024 is outside the window and never counts.
    let (appt2, pid2) = appoint_admin(&s, 100002, "8200002", "2025-01-10").await;
    let early = record_qual(&s, &pid2, "NPQ_SENCO", "2024-08-31", Some("2025-08-01")).await;
    assert_eq!(early["countsTowardDuty"], false);
    assert_eq!(
        duty(&s, 100002, &appt2, "2025-09-01").await["status"],
        "NOT_STARTED"
    );
    s.stop().await;
}

#[tokio::test]
async fn nasenco_started_before_september_2024_counts_and_even_before_appointment() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (appt, pid) = appoint_admin(&s, 100001, "8300001", "2025-01-10").await;
    // Completed before the appointment began: it counts.
    let nasenco = record_qual(&s, &pid, "NASENCO", "2023-09-01", Some("2024-07-15")).await;
    assert_eq!(nasenco["countsTowardDuty"], true);
    let d = duty(&s, 100001, &appt, "2025-02-01").await;
    assert_eq!(d["status"], "QUALIFIED");
    assert_eq!(d["qualifyingAward"]["id"], nasenco["id"]);
    assert_eq!(d["qualifyingAward"]["kind"], "NASENCO");

    // A NASENCO recorded as begun on 1 September 2024 does not count until corrected.
    let (appt2, pid2) = appoint_admin(&s, 100002, "8300002", "2025-01-10").await;
    let q = record_qual(&s, &pid2, "NASENCO", "2024-09-01", Some("2025-05-01")).await;
    assert_eq!(q["countsTowardDuty"], false);
    assert_eq!(
        duty(&s, 100002, &appt2, "2025-06-01").await["status"],
        "NOT_STARTED"
    );
    let fixed = s
        .ok(
            &admin(),
            UPDATE_QUAL,
            json!({ "i": { "qualificationId": id_of(&q), "startedOn": "2024-08-31" } }),
        )
        .await["updateQualification"]
        .clone();
    assert_eq!(fixed["countsTowardDuty"], true);
    assert_eq!(
        fixed["completedOn"], "2025-05-01",
        "absent field left unchanged"
    );
    assert_eq!(
        duty(&s, 100002, &appt2, "2025-06-01").await["status"],
        "QUALIFIED"
    );
    // Clearing completion puts it back in training.
    s.ok(
        &admin(),
        UPDATE_QUAL,
        json!({ "i": { "qualificationId": id_of(&q), "completedOn": null } }),
    )
    .await;
    assert_eq!(
        duty(&s, 100002, &appt2, "2025-06-01").await["status"],
        "IN_TRAINING"
    );
    s.stop().await;
}

#[tokio::test]
async fn appointments_on_or_before_1_september_2009_are_exempt() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (on, _) = appoint_admin(&s, 100001, "8400001", "2009-09-01").await;
    let d = duty(&s, 100001, &on, "2025-06-01").await;
    assert_eq!(d["dutyApplies"], false);
    assert_eq!(d["status"], "EXEMPT");
    assert_eq!(d["exemptionReason"], "APPOINTED_BEFORE_SEPTEMBER_2009");
    assert_eq!(d["deadline"], Value::Null);
    assert_eq!(d["daysRemaining"], Value::Null);
    let (before, _) = appoint_admin(&s, 100002, "8400002", "2005-01-01").await;
    assert_eq!(
        duty(&s, 100002, &before, "2025-06-01").await["exemptionReason"],
        "APPOINTED_BEFORE_SEPTEMBER_2009"
    );
    // The day after, the duty applies.
    let (after, _) = appoint_admin(&s, 100003, "8400003", "2009-09-02").await;
    let d = duty(&s, 100003, &after, "2010-01-01").await;
    assert_eq!(d["dutyApplies"], true);
    assert_eq!(d["deadline"], "2012-09-02");
    s.stop().await;
}

#[tokio::test]
async fn a_special_school_is_not_a_relevant_school() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let (appt, _) = appoint_admin(&s, 100004, "8500001", "2025-01-10").await;
    let d = duty(&s, 100004, &appt, "2029-01-01").await;
    assert_eq!(d["dutyApplies"], false);
    assert_eq!(d["status"], "EXEMPT");
    assert_eq!(d["exemptionReason"], "NOT_A_RELEVANT_SCHOOL");
    assert_eq!(d["deadline"], Value::Null);
    // Every non-relevant kind is exempt; a maintained nursery is bound.
    for (urn, kind, exempt) in [
        (100011, "ALTERNATIVE_PROVISION", true),
        (100012, "INDEPENDENT", true),
        (100013, "OTHER", true),
        (100014, "MAINTAINED_NURSERY", false),
    ] {
        s.ok(
            &admin(),
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": { "urn": urn, "name": format!("School {urn}"), "laCode": 202,
                           "phase": "NOT_APPLICABLE", "kind": kind, "isAcademy": false } }),
        )
        .await;
        let (appt, _) = appoint_admin(&s, urn, &format!("8{urn}"), "2025-01-10").await;
        let d = duty(&s, urn, &appt, "2025-06-01").await;
        assert_eq!(d["dutyApplies"], !exempt, "{kind}");
        if exempt {
            assert_eq!(d["exemptionReason"], "NOT_A_RELEVANT_SCHOOL", "{kind}");
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn more_than_twelve_months_prior_service_exempts_but_exactly_365_days_does_not() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let add_prior = |pid: String, from: &'static str, to: &'static str| {
        let s = &s;
        async move {
            s.ok(
                &admin(),
                ADD_PRIOR,
                json!({ "i": { "personId": pid, "startedOn": from, "endedOn": to } }),
            )
            .await;
        }
    };

    // 2021 has 365 days: exactly twelve months leaves the duty in force.
    let (a, p) = appoint_admin(&s, 100001, "8600001", "2025-01-10").await;
    add_prior(p.clone(), "2021-01-01", "2021-12-31").await;
    let d = duty(&s, 100001, &a, "2025-06-01").await;
    assert_eq!(d["priorServiceDays"], 365);
    assert_eq!(d["dutyApplies"], true);
    assert_eq!(d["status"], "NOT_STARTED");

    // One more day (overlapping days counted once) exempts.
    add_prior(p.clone(), "2021-12-01", "2022-01-01").await;
    let d = duty(&s, 100001, &a, "2025-06-01").await;
    assert_eq!(d["priorServiceDays"], 366);
    assert_eq!(d["status"], "EXEMPT");
    assert_eq!(d["exemptionReason"], "PRIOR_SERVICE_OVER_12_MONTHS");
    assert_eq!(d["deadline"], Value::Null);

    // Earlier appointments at relevant schools count as prior service, up to the day
    // before the new one starts...
    let (first, _) = appoint_admin(&s, 100002, "8600002", "2023-01-01").await;
    let (second, _) = appoint_admin(&s, 100001, "8600002", "2024-01-02").await;
    // 2023-01-01 ..= 2024-01-01 is 366 days.
    let d = duty(&s, 100001, &second, "2025-06-01").await;
    assert_eq!(d["priorServiceDays"], 366);
    assert_eq!(d["exemptionReason"], "PRIOR_SERVICE_OVER_12_MONTHS");
    // ...while the first appointment itself has none.
    let d = duty(&s, 100002, &first, "2025-06-01").await;
    assert_eq!(d["priorServiceDays"], 0);
    assert_eq!(d["dutyApplies"], true);

    // Service at a special school is not service at a relevant school.
    let (_, _) = appoint_admin(&s, 100004, "8600003", "2020-01-01").await;
    let (main, _) = appoint_admin(&s, 100003, "8600003", "2024-01-01").await;
    let d = duty(&s, 100003, &main, "2025-06-01").await;
    assert_eq!(d["priorServiceDays"], 0);
    assert_eq!(d["dutyApplies"], true);
    s.stop().await;
}

/// The deadlines view's appointment ids for `filter`, as `tok` sees them on 2025-06-01.
async fn deadline_ids(s: &TestServer, tok: &str, filter: Value) -> Vec<String> {
    let data = s
        .ok(
            tok,
            DEADLINES_Q,
            json!({ "f": filter, "d": "2025-06-01", "first": 100 }),
        )
        .await;
    let conn = &data["qualificationDeadlines"];
    let ids: Vec<String> = conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| id_of(&e["node"]["appointment"]))
        .collect();
    assert_eq!(conn["totalCount"], ids.len(), "{filter}");
    ids
}

struct DeadlineWorld {
    overdue: String,      // 100001, deadline 2024-06-01, OVERDUE
    training: String,     // 100002, deadline 2026-05-01, IN_TRAINING
    not_started: String,  // 100001, deadline 2027-03-01, NOT_STARTED
    not_started2: String, // 100001, deadline 2027-03-01, created later
    same_day: String,     // 100002, deadline 2027-03-01
    qualified: String,    // 100003, deadline 2028-01-10, QUALIFIED
    exempt: String,       // 100004 (special), EXEMPT
}

async fn deadline_world(s: &TestServer) -> DeadlineWorld {
    small_world(s).await;
    // Created in an order unlike the expected one, so the sort is what orders them.
    let (qualified, pq) = appoint_admin(s, 100003, "9000001", "2025-01-10").await;
    record_qual(s, &pq, "NPQ_SENCO", "2024-09-15", Some("2025-05-01")).await;
    let (exempt, _) = appoint_admin(s, 100004, "9000002", "2025-01-10").await;
    let (same_day, _) = appoint_admin(s, 100002, "9000003", "2024-03-01").await;
    let (not_started, _) = appoint_admin(s, 100001, "9000004", "2024-03-01").await;
    let (training, pt) = appoint_admin(s, 100002, "9000005", "2023-05-01").await;
    record_qual(s, &pt, "NPQ_SENCO", "2025-01-06", None).await;
    let (overdue, _) = appoint_admin(s, 100001, "9000006", "2021-06-01").await;
    let (not_started2, _) = appoint_admin(s, 100001, "9000007", "2024-03-01").await;
    // Not current on 2025-06-01: ended before, or starting after.
    let (ended, _) = appoint_admin(s, 100003, "9000008", "2022-01-01").await;
    s.ok(
        &admin(),
        &end_appt_q(),
        json!({ "i": { "appointmentId": ended, "endedOn": "2025-05-31" } }),
    )
    .await;
    appoint_admin(s, 100001, "9000009", "2025-09-01").await;
    DeadlineWorld {
        overdue,
        training,
        not_started,
        not_started2,
        same_day,
        qualified,
        exempt,
    }
}

#[tokio::test]
async fn qualification_deadlines_are_ordered_by_deadline_then_urn_then_id_exempt_last() {
    let s = TestServer::start().await;
    let w = deadline_world(&s).await;
    let data = s
        .ok(&admin(), DEADLINES_Q, json!({ "d": "2025-06-01" }))
        .await;
    let nodes: Vec<(String, i64, Value, String)> = data["qualificationDeadlines"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                id_of(&n["appointment"]),
                n["school"]["urn"].as_i64().unwrap(),
                n["deadline"].clone(),
                n["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = vec![
        (w.overdue.clone(), 100001, json!("2024-06-01"), "OVERDUE"),
        (
            w.training.clone(),
            100002,
            json!("2026-05-01"),
            "IN_TRAINING",
        ),
        (
            w.not_started.clone(),
            100001,
            json!("2027-03-01"),
            "NOT_STARTED",
        ),
        (
            w.not_started2.clone(),
            100001,
            json!("2027-03-01"),
            "NOT_STARTED",
        ),
        (
            w.same_day.clone(),
            100002,
            json!("2027-03-01"),
            "NOT_STARTED",
        ),
        (
            w.qualified.clone(),
            100003,
            json!("2028-01-10"),
            "QUALIFIED",
        ),
        (w.exempt.clone(), 100004, Value::Null, "EXEMPT"),
    ];
    let expected: Vec<(String, i64, Value, String)> = expected
        .into_iter()
        .map(|(a, b, c, d)| (a, b, c, d.to_string()))
        .collect();
    assert_eq!(nodes, expected);
    assert_eq!(data["qualificationDeadlines"]["totalCount"], 7);

    // An appointment ending on asOf is still current; one ending the day before is not.
    let ended_on_day = appointments_at(&s, 100003).await;
    let ended = ended_on_day
        .iter()
        .find(|a| a["endedOn"] == "2025-05-31")
        .unwrap();
    let d = s
        .ok(
            &admin(),
            DEADLINES_Q,
            json!({ "d": "2025-05-31", "first": 100 }),
        )
        .await;
    assert!(
        d["qualificationDeadlines"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["appointment"]["id"] == ended["id"])
    );
    s.stop().await;
}

#[tokio::test]
async fn qualification_deadlines_apply_every_filter_field() {
    let s = TestServer::start().await;
    let w = deadline_world(&s).await;
    let a = admin();
    let ids = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        deadline_ids(&s, &a, json!({ "laCode": 202 })).await,
        ids(&[
            &w.overdue,
            &w.training,
            &w.not_started,
            &w.not_started2,
            &w.same_day
        ])
    );
    assert_eq!(
        deadline_ids(&s, &a, json!({ "trustUid": 2044 })).await,
        ids(&[&w.training, &w.same_day, &w.qualified])
    );
    assert_eq!(
        deadline_ids(&s, &a, json!({ "urns": [100003, 100004] })).await,
        ids(&[&w.qualified, &w.exempt])
    );
    assert_eq!(
        deadline_ids(&s, &a, json!({ "statuses": ["OVERDUE", "QUALIFIED"] })).await,
        ids(&[&w.overdue, &w.qualified])
    );
    assert_eq!(
        deadline_ids(&s, &a, json!({ "statuses": ["EXEMPT"] })).await,
        ids(&[&w.exempt])
    );
    assert_eq!(
        deadline_ids(
            &s,
            &a,
            json!({ "statuses": ["IN_TRAINING", "NOT_STARTED"] })
        )
        .await,
        ids(&[&w.training, &w.not_started, &w.not_started2, &w.same_day])
    );
    assert_eq!(
        deadline_ids(&s, &a, json!({ "deadlineOnOrBefore": "2027-03-01" })).await,
        ids(&[
            &w.overdue,
            &w.training,
            &w.not_started,
            &w.not_started2,
            &w.same_day
        ]),
        "inclusive, exempt left out"
    );
    assert_eq!(
        deadline_ids(&s, &a, json!({ "deadlineOnOrAfter": "2027-03-01" })).await,
        ids(&[&w.not_started, &w.not_started2, &w.same_day, &w.qualified]),
        "inclusive, exempt left out"
    );
    assert_eq!(
        deadline_ids(
            &s,
            &a,
            json!({ "laCode": 202, "urns": [100002, 100003], "deadlineOnOrAfter": "2026-01-01",
                    "deadlineOnOrBefore": "2027-12-31", "statuses": ["NOT_STARTED"] })
        )
        .await,
        ids(&[&w.same_day]),
        "every field given must match"
    );
    assert!(deadline_ids(&s, &a, json!({ "urns": [] })).await.is_empty());
    // The school-name filter ignores case and takes `%` and `_` as themselves.
    assert_eq!(
        deadline_ids(&s, &a, json!({ "schoolNameContains": "SCHOOL 100003" })).await,
        ids(&[&w.qualified])
    );
    assert_eq!(
        deadline_ids(
            &s,
            &a,
            json!({ "schoolNameContains": " school 10000", "laCode": 202 })
        )
        .await,
        ids(&[
            &w.overdue,
            &w.training,
            &w.not_started,
            &w.not_started2,
            &w.same_day
        ]),
        "trimmed, and combined with the other fields"
    );
    assert!(
        deadline_ids(&s, &a, json!({ "schoolNameContains": "school%3" }))
            .await
            .is_empty()
    );
    let long = "x".repeat(201);
    let (code, body) = s
        .err(
            Some(&a),
            DEADLINES_Q,
            json!({ "f": { "schoolNameContains": long }, "first": 10 }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "filter.schoolNameContains",
        "{body}"
    );
    // An LA reader sees its own LA's rows only, with or without naming it.
    let la = token("la-r", "la:202:read");
    let all_202 = ids(&[
        &w.overdue,
        &w.training,
        &w.not_started,
        &w.not_started2,
        &w.same_day,
    ]);
    assert_eq!(deadline_ids(&s, &la, Value::Null).await, all_202);
    assert_eq!(
        deadline_ids(&s, &la, json!({ "laCode": 202 })).await,
        all_202
    );
    // A trust reader sees its academies across LAs.
    let trust = token("trust-r", "trust:2044:read");
    assert_eq!(
        deadline_ids(&s, &trust, Value::Null).await,
        ids(&[&w.training, &w.same_day, &w.qualified])
    );
    s.stop().await;
}

#[tokio::test]
async fn qualification_deadlines_page_through_the_whole_list_in_order() {
    let s = TestServer::start().await;
    deadline_world(&s).await;
    let a = admin();
    let all = deadline_ids(&s, &a, Value::Null).await;
    assert_eq!(all.len(), 7);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = s
            .ok(
                &a,
                DEADLINES_Q,
                json!({ "d": "2025-06-01", "first": 3, "after": after }),
            )
            .await;
        let conn = &data["qualificationDeadlines"];
        assert_eq!(conn["totalCount"], 7, "totalCount covers every page");
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], after.is_some());
        let edges = conn["edges"].as_array().unwrap();
        assert!(edges.len() <= 3);
        seen.extend(edges.iter().map(|e| id_of(&e["node"]["appointment"])));
        pages += 1;
        assert_eq!(
            conn["pageInfo"]["endCursor"],
            edges.last().unwrap()["cursor"]
        );
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_string());
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all, "pages join into the whole list, nothing twice");

    // One at a time, across every boundary (exempt appointments, with no deadline, last),
    // and with a status filter, which takes the other path, the pages join up the same way.
    appoint_admin(&s, 100004, "9000019", "2025-02-03").await;
    let all = deadline_ids(&s, &a, Value::Null).await;
    assert_eq!(all.len(), 8, "two exempt appointments now sort last");
    for filter in [
        Value::Null,
        json!({ "statuses": ["QUALIFIED", "IN_TRAINING", "NOT_STARTED", "OVERDUE", "EXEMPT"] }),
    ] {
        let mut one_by_one = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..20 {
            let data = s
                .ok(
                    &a,
                    DEADLINES_Q,
                    json!({ "f": filter, "d": "2025-06-01", "first": 1, "after": after }),
                )
                .await;
            let conn = &data["qualificationDeadlines"];
            assert_eq!(conn["totalCount"], 8, "{filter}");
            one_by_one.extend(
                conn["edges"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| id_of(&e["node"]["appointment"])),
            );
            if conn["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_string());
        }
        assert_eq!(one_by_one, all, "one at a time with {filter}");
    }

    // Page sizes outside 0..=250 and foreign cursors are refused.
    for first in [-1, 251] {
        let (code, body) = s
            .err(
                Some(&a),
                "query($first: Int) { qualificationDeadlines(first: $first) { totalCount } }",
                json!({ "first": first }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "first");
    }
    let (code, _) = s
        .err(Some(&a), DEADLINES_Q, json!({ "after": "not-a-cursor" }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    s.stop().await;
}

#[tokio::test]
async fn qualification_deadlines_filtered_to_an_la_the_caller_cannot_read_is_forbidden() {
    let s = TestServer::start().await;
    deadline_world(&s).await;
    for scope in ["la:202:read", "school:100003:read", "trust:2044:read"] {
        let tok = token("reader", scope);
        let (code, body) = s
            .err(
                Some(&tok),
                DEADLINES_Q,
                json!({ "f": { "laCode": 203 }, "d": "2025-06-01" }),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "{scope}: {body}");
    }
    s.stop().await;
}
