//! The governing body's side (SPEC 4.10), read as the SENCO-governor toolkit's year
//! 2025/26 at one maintained primary: a meeting each term with its agreed actions and
//! their follow-up, the SEN action plan, sign-offs of the termly reports and the SEN
//! information report (one report amended after it was signed off), the compliance checks
//! that follow (SPEC 4.7), the track record, and who may see and do what.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Datelike;
use common::*;
use serde_json::{Value, json};

const URN: i32 = 100001;
const ACADEMY: i32 = 100002;
/// Marks every private text the school records, so a leak can be searched for.
const SECRET: &str = "PRIVATE";

const SUBMIT: &str =
    "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }";
const RECORD: &str =
    "mutation($i: RecordGovernorMeetingInput!) { recordGovernorMeeting(input: $i) {
    id heldOn academicYear term nextMeetingOn attendees { name role } items { title keyPoints }
    carriedForward { id } } }";
const ADD: &str = "mutation($i: AddGovernanceActionInput!) { addGovernanceAction(input: $i) {
    id status completedOn cost timeHours description owner meeting { id } } }";
const UPDATE: &str = "mutation($i: UpdateGovernanceActionInput!) {
    updateGovernanceAction(input: $i) { id status completedOn evaluation } }";
const SIGN: &str = "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) {
    id document academicYear term reportVersion documentDate signedOn signedBy role statement
    current school { urn } } }";
const GOVERNANCE: &str = "query($u: Int!) { school(urn: $u) {
    governorMeetings { totalCount edges { node { id heldOn academicYear term nextMeetingOn
        attendees { name role } items { title keyPoints }
        actions { id description owner status }
        carriedForward { id description timesCarriedForward } } } }
    governanceActions { id description owner dueOn status completedOn cost timeHours
        successCriteria monitoring evaluation timesCarriedForward meeting { id } }
    signOffs { document academicYear term reportVersion documentDate signedOn role current }
} }";
const COMPLIANCE: &str = "query($u: Int!, $d: Date) { school(urn: $u) { compliance(asOf: $d) { code severity message } } }";

/// A report for `urn` and the term, with the SENCO's hours and pupils with SEND given.
fn report(urn: i32, year: i32, term: &str, hours: f64, send: i32, published: &str) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": year, "term": term,
        "numberOnRoll": 200, "pupilsWithSend": send, "senSupport": send - 4, "ehcp": 4,
        "ehcpApplicationsInProcess": 1, "budgetE1": "6000", "budgetE2": "1500",
        "budgetE3": "500", "budgetAdditional": "0", "expenditureToDate": "3000.50",
        "nonContactHoursPerWeek": hours, "senPolicyDate": "2025-07-01",
        "senInformationReportPublishedOn": published
    })
}

fn codes(d: &Value) -> Vec<String> {
    d["school"]["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect()
}

fn issue<'a>(d: &'a Value, code: &str) -> Option<&'a Value> {
    d["school"]["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
}

struct Year {
    autumn: String,
    spring: String,
    summer: String,
    /// Agreed in the autumn, still open in spring and summer.
    training: String,
    /// Agreed in the autumn, done before spring.
    leaflet: String,
    /// Agreed in spring, done before summer.
    audit: String,
    /// The SEN action plan's, due 1 July 2026.
    plan: String,
}

fn id(d: &Value, field: &str) -> String {
    d[field]["id"].as_str().unwrap().to_owned()
}

/// The year at school 100001, recorded with the tokens its people hold: the SENCO's front
/// end (`school:100001:write`) and the SEN governor (`school:100001:govern`).
async fn toolkit_year(s: &TestServer) -> Year {
    small_world(s).await;
    let school = token("school-100001", "school:100001:write");
    let governor = token("sen-governor", "school:100001:govern");
    // Last year's summer report, then a report each term of 2025/26.
    for (year, term, hours, send) in [
        (2024, "SUMMER", 6.0, 30),
        (2025, "AUTUMN", 6.0, 32),
        (2025, "SPRING", 6.0, 33),
        (2025, "SUMMER", 5.0, 34),
    ] {
        s.ok(
            &school,
            SUBMIT,
            json!({ "i": report(URN, year, term, hours, send, "2025-09-15") }),
        )
        .await;
    }
    let attendees = json!([
        { "name": format!("{SECRET} Ms Senco"), "role": "SENCO" },
        { "name": format!("{SECRET} Mr Governor"), "role": "SEN governor" }
    ]);
    let autumn = s
        .ok(
            &governor,
            RECORD,
            json!({ "i": {
                "schoolUrn": URN, "heldOn": "2025-10-08", "nextMeetingOn": "2026-02-04",
                "attendees": attendees,
                "items": [
                    { "title": "Termly report", "keyPoints": format!("{SECRET}: numbers up") },
                    { "title": "Training" }
                ]
            } }),
        )
        .await;
    assert_eq!(autumn["recordGovernorMeeting"]["term"], "AUTUMN");
    assert_eq!(autumn["recordGovernorMeeting"]["academicYear"], 2025);
    assert_eq!(
        autumn["recordGovernorMeeting"]["items"][1],
        json!({ "title": "Training", "keyPoints": null })
    );
    let autumn = id(&autumn, "recordGovernorMeeting");
    let action = |meeting: Option<&str>, what: &str, owner: &str, due: &str| {
        json!({ "i": {
            "schoolUrn": URN, "meetingId": meeting, "description": format!("{SECRET} {what}"),
            "owner": owner, "dueOn": due, "area": "Staff development", "cost": "250",
            "timeHours": 6.5, "successCriteria": format!("{SECRET} criteria"),
            "monitoring": format!("{SECRET} monitoring")
        } })
    };
    let training = s
        .ok(
            &governor,
            ADD,
            action(Some(&autumn), "train TAs", "SENCO", "2025-12-12"),
        )
        .await;
    assert_eq!(training["addGovernanceAction"]["status"], "OPEN");
    assert_eq!(training["addGovernanceAction"]["cost"], "250.00");
    assert_eq!(
        training["addGovernanceAction"]["meeting"]["id"],
        json!(autumn)
    );
    let training = id(&training, "addGovernanceAction");
    let leaflet = id(
        &s.ok(
            &governor,
            ADD,
            action(
                Some(&autumn),
                "parents' leaflet",
                "SEN governor",
                "2026-01-31",
            ),
        )
        .await,
        "addGovernanceAction",
    );
    // The SENCO reports the leaflet done; the date given is kept.
    let done = s
        .ok(
            &school,
            UPDATE,
            json!({ "i": { "actionId": leaflet, "status": "DONE", "completedOn": "2026-01-20",
                           "evaluation": format!("{SECRET} well received") } }),
        )
        .await;
    assert_eq!(done["updateGovernanceAction"]["completedOn"], "2026-01-20");

    // Spring, recorded by the SENCO's front end (a school's write scope may).
    let spring = s
        .ok(
            &school,
            RECORD,
            json!({ "i": { "schoolUrn": URN, "heldOn": "2026-02-04",
                           "attendees": attendees, "nextMeetingOn": "2026-06-10" } }),
        )
        .await;
    let carried: Vec<&str> = spring["recordGovernorMeeting"]["carriedForward"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        carried,
        [training.as_str()],
        "only the open training action"
    );
    let spring = id(&spring, "recordGovernorMeeting");
    let audit = id(
        &s.ok(
            &governor,
            ADD,
            action(Some(&spring), "provision map audit", "SENCO", "2026-03-20"),
        )
        .await,
        "addGovernanceAction",
    );
    s.ok(
        &school,
        UPDATE,
        json!({ "i": { "actionId": audit, "status": "DONE", "completedOn": "2026-03-18" } }),
    )
    .await;
    let plan = id(
        &s.ok(
            &governor,
            ADD,
            action(None, "review the SEN policy", "Headteacher", "2026-07-01"),
        )
        .await,
        "addGovernanceAction",
    );
    let summer = id(
        &s.ok(
            &governor,
            RECORD,
            json!({ "i": { "schoolUrn": URN, "heldOn": "2026-06-10", "attendees": attendees,
                           "items": [{ "title": "Year ahead", "keyPoints": format!("{SECRET} plans") }] } }),
        )
        .await,
        "recordGovernorMeeting",
    );
    // The governor signs off each term's report and the SEN information report.
    for (year, term, on) in [
        (2025, "AUTUMN", "2026-01-20"),
        (2025, "SPRING", "2026-04-20"),
        (2025, "SUMMER", "2026-09-20"),
    ] {
        let d = s
            .ok(
                &governor,
                SIGN,
                json!({ "i": { "schoolUrn": URN, "document": "TERMLY_REPORT", "academicYear": year,
                               "term": term, "signedOn": on, "signedBy": "A Governor",
                               "role": "SEN_GOVERNOR" } }),
            )
            .await;
        assert_eq!(d["signOffDocument"]["reportVersion"], 1);
        assert_eq!(d["signOffDocument"]["current"], true);
    }
    let d = s
        .ok(
            &governor,
            SIGN,
            json!({ "i": { "schoolUrn": URN, "document": "SEN_INFORMATION_REPORT",
                           "documentDate": "2025-09-15", "signedOn": "2025-09-10",
                           "signedBy": "The Chair", "role": "CHAIR",
                           "statement": "We confirm it." } }),
        )
        .await;
    assert_eq!(d["signOffDocument"]["statement"], "We confirm it.");
    assert_eq!(d["signOffDocument"]["current"], true);
    Year {
        autumn,
        spring,
        summer,
        training,
        leaflet,
        audit,
        plan,
    }
}

#[tokio::test]
async fn a_year_of_meetings_carries_open_actions_forward_and_closes_done_ones() {
    let s = TestServer::start().await;
    let y = toolkit_year(&s).await;
    let reader = token("school-reader", "school:100001:read");
    let d = s.ok(&reader, GOVERNANCE, json!({ "u": URN })).await;
    let meetings = &d["school"]["governorMeetings"];
    assert_eq!(meetings["totalCount"], 3);
    let nodes: Vec<&Value> = meetings["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [&y.summer, &y.spring, &y.autumn], "newest first");
    let terms: Vec<&str> = nodes.iter().map(|n| n["term"].as_str().unwrap()).collect();
    assert_eq!(terms, ["SUMMER", "SPRING", "AUTUMN"], "one meeting a term");
    // The training action was open at both later meetings; the leaflet and the audit were
    // done before the next meeting, and the plan's action belongs to no meeting.
    let carried = |n: &Value| -> Vec<String> {
        n["carriedForward"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(carried(nodes[0]), std::slice::from_ref(&y.training));
    assert_eq!(carried(nodes[1]), std::slice::from_ref(&y.training));
    assert!(carried(nodes[2]).is_empty());
    assert_eq!(nodes[0]["carriedForward"][0]["timesCarriedForward"], 2);
    let autumn_actions: Vec<&str> = nodes[2]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(autumn_actions, [&y.training, &y.leaflet]);
    assert_eq!(
        nodes[2]["attendees"][0],
        json!({ "name": format!("{SECRET} Ms Senco"), "role": "SENCO" })
    );
    assert_eq!(nodes[2]["nextMeetingOn"], "2026-02-04");

    let actions = d["school"]["governanceActions"].as_array().unwrap();
    let by_id = |id: &str| actions.iter().find(|a| a["id"] == id).unwrap();
    assert_eq!(actions.len(), 4);
    assert_eq!(by_id(&y.leaflet)["status"], "DONE");
    assert_eq!(by_id(&y.audit)["completedOn"], "2026-03-18");
    assert_eq!(
        by_id(&y.plan)["meeting"],
        Value::Null,
        "the SEN action plan"
    );
    assert_eq!(by_id(&y.plan)["timesCarriedForward"], 0);
    assert_eq!(by_id(&y.training)["timesCarriedForward"], 2);
    assert_eq!(by_id(&y.training)["timeHours"], 6.5);

    // The register: what is overdue on a day, and what is done.
    let register = "query($u: Int!, $s: ActionStatus, $o: Date) { school(urn: $u) {
        governanceActions(status: $s, overdueOn: $o) { id overdue(asOf: $o) } } }";
    let overdue = s
        .ok(&reader, register, json!({ "u": URN, "o": "2026-07-02" }))
        .await;
    let ids: Vec<&str> = overdue["school"]["governanceActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [&y.training, &y.plan]);
    let on_the_day = s
        .ok(&reader, register, json!({ "u": URN, "o": "2026-07-01" }))
        .await;
    assert_eq!(
        on_the_day["school"]["governanceActions"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "due on the day is not yet overdue"
    );
    let done = s
        .ok(&reader, register, json!({ "u": URN, "s": "DONE" }))
        .await;
    assert_eq!(
        done["school"]["governanceActions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Reopening forgets the completion date; closing without one records today.
    let school = token("school-100001", "school:100001:write");
    let d = s
        .ok(
            &school,
            UPDATE,
            json!({ "i": { "actionId": y.leaflet, "status": "OPEN" } }),
        )
        .await;
    assert_eq!(d["updateGovernanceAction"]["completedOn"], Value::Null);
    let d = s
        .ok(
            &school,
            UPDATE,
            json!({ "i": { "actionId": y.leaflet, "status": "DROPPED" } }),
        )
        .await;
    let today = api::graphql::today().format("%Y-%m-%d").to_string();
    assert_eq!(d["updateGovernanceAction"]["completedOn"], json!(today));
    let (code, body) = s
        .err(
            Some(&school),
            UPDATE,
            json!({ "i": { "actionId": y.leaflet, "status": "OPEN", "completedOn": "2026-01-01" } }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.completedOn"
    );

    // Every change is in the school's audit log, under its mutation's name.
    let log = s
        .ok(
            &reader,
            "{ auditLog(schoolUrn: 100001, first: 100) { edges { node { operation entity } } } }",
            json!({}),
        )
        .await;
    let ops: Vec<&str> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["operation"].as_str().unwrap())
        .collect();
    for op in [
        "recordGovernorMeeting",
        "addGovernanceAction",
        "updateGovernanceAction",
        "signOffDocument",
    ] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    // One meeting by id, as the console opens it.
    let d = s
        .ok(
            &reader,
            "query($id: ID!) { governorMeeting(id: $id) { id school { urn } actions { id } } }",
            json!({ "id": y.spring }),
        )
        .await;
    assert_eq!(d["governorMeeting"]["school"]["urn"], URN);
    assert_eq!(d["governorMeeting"]["actions"], json!([{ "id": y.audit }]));
    let d = s
        .ok(
            &reader,
            "{ governorMeeting(id: \"999999\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(d["governorMeeting"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn an_amended_report_is_no_longer_signed_off_and_is_flagged_28_days_after_it_was_due() {
    let s = TestServer::start().await;
    toolkit_year(&s).await;
    let school = token("school-100001", "school:100001:write");
    let governor = token("sen-governor", "school:100001:govern");
    let reader = token("school-reader", "school:100001:read");
    let on = |d: &'static str| json!({ "u": URN, "d": d });
    // Summer 2026 was due on 14 September; signed off on 20 September, in good time.
    let d = s.ok(&reader, COMPLIANCE, on("2026-10-13")).await;
    assert!(
        !codes(&d).contains(&"TERMLY_REPORT_NOT_SIGNED_OFF".to_owned()),
        "{d}"
    );
    // The SENCO amends the summer report, with a newer SEN information report.
    let mut amended = report(URN, 2025, "SUMMER", 5.0, 34, "2026-07-15");
    amended["expectedVersion"] = json!(1);
    s.ok(&school, SUBMIT, json!({ "i": amended })).await;
    let signed = "query($u: Int!) { termlyReport(schoolUrn: $u, academicYear: 2025, term: SUMMER) {
        version signOffs { reportVersion current signedOn } } }";
    let d = s.ok(&reader, signed, json!({ "u": URN })).await;
    assert_eq!(d["termlyReport"]["version"], 2);
    assert_eq!(
        d["termlyReport"]["signOffs"],
        json!([{ "reportVersion": 1, "current": false, "signedOn": "2026-09-20" }]),
        "the sign-off binds version 1, which is no longer the latest"
    );
    // The day the 28 days run out, the check still looks at the spring report (signed
    // off); from the next day, at the summer one.
    let d = s.ok(&reader, COMPLIANCE, on("2026-10-12")).await;
    assert!(
        !codes(&d).contains(&"TERMLY_REPORT_NOT_SIGNED_OFF".to_owned()),
        "{d}"
    );
    let d = s.ok(&reader, COMPLIANCE, on("2026-10-13")).await;
    let i = issue(&d, "TERMLY_REPORT_NOT_SIGNED_OFF").expect("raised");
    assert_eq!(i["severity"], "ADVISORY");
    let message = i["message"].as_str().unwrap();
    assert!(message.contains("version (2)"), "{message}");
    assert!(message.contains("14 September 2026"), "{message}");
    // The new SEN information report date has no sign-off either.
    let i = issue(&d, "SEN_INFORMATION_REPORT_NOT_SIGNED_OFF").expect("raised");
    assert_eq!(i["severity"], "GUIDANCE");
    assert!(i["message"].as_str().unwrap().contains("15 July 2026"));
    // Two actions are open past their dates, the summer meeting counts for this term, and
    // the SENCO's time fell (6 to 5 hours) while pupils with SEND rose (30 to 34).
    let i = issue(&d, "GOVERNANCE_ACTIONS_OVERDUE").expect("raised");
    assert!(i["message"].as_str().unwrap().starts_with("2 action(s)"));
    assert!(!codes(&d).contains(&"NO_SEN_GOVERNOR_MEETING".to_owned()));
    let i = issue(&d, "SENCO_TIME_CUT_WHILE_NEED_ROSE").expect("raised");
    assert!(
        i["message"].as_str().unwrap().contains("from 6 to 5 hours"),
        "{i}"
    );
    // The governor signs off the amended report and the new SEN information report.
    for input in [
        json!({ "schoolUrn": URN, "document": "TERMLY_REPORT", "academicYear": 2025,
                "term": "SUMMER", "reportVersion": 2, "signedOn": "2026-10-20",
                "signedBy": "A Governor", "role": "SEN_GOVERNOR" }),
        json!({ "schoolUrn": URN, "document": "SEN_INFORMATION_REPORT",
                "documentDate": "2026-07-15", "signedOn": "2026-10-20",
                "signedBy": "The Chair", "role": "CHAIR" }),
    ] {
        let d = s.ok(&governor, SIGN, json!({ "i": input })).await;
        assert_eq!(d["signOffDocument"]["current"], true, "{d}");
        assert_eq!(
            d["signOffDocument"]["statement"],
            api::domain::governance::STANDARD_STATEMENT
        );
    }
    let d = s.ok(&reader, COMPLIANCE, on("2026-10-21")).await;
    for code in [
        "TERMLY_REPORT_NOT_SIGNED_OFF",
        "SEN_INFORMATION_REPORT_NOT_SIGNED_OFF",
    ] {
        assert!(!codes(&d).contains(&code.to_owned()), "{code}: {d}");
    }
    // A sign-off recorded for a later day does not count before it.
    let d = s.ok(&reader, COMPLIANCE, on("2026-10-19")).await;
    assert!(codes(&d).contains(&"TERMLY_REPORT_NOT_SIGNED_OFF".to_owned()));
    // The old information report sign-off is no longer current; the new one is.
    let d = s
        .ok(
            &reader,
            "{ school(urn: 100001) { signOffs { document documentDate current } } }",
            json!({}),
        )
        .await;
    let docs: Vec<(Value, Value)> = d["school"]["signOffs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["document"] == "SEN_INFORMATION_REPORT")
        .map(|s| (s["documentDate"].clone(), s["current"].clone()))
        .collect();
    assert_eq!(
        docs,
        [
            (json!("2026-07-15"), json!(true)),
            (json!("2025-09-15"), json!(false))
        ]
    );
    // No meeting yet in the spring term of 2026/27 or the autumn before it.
    let d = s.ok(&reader, COMPLIANCE, on("2027-01-05")).await;
    let i = issue(&d, "NO_SEN_GOVERNOR_MEETING").expect("raised");
    assert!(
        i["message"]
            .as_str()
            .unwrap()
            .contains("autumn term 2026/27")
    );
    s.stop().await;
}

#[tokio::test]
async fn the_track_record_compares_each_term_with_the_one_before_and_a_year_before() {
    let s = TestServer::start().await;
    toolkit_year(&s).await;
    let reader = token("school-reader", "school:100001:read");
    let d = s
        .ok(
            &reader,
            "{ school(urn: 100001) { trackRecord(terms: 30) { academicYear term reported
                version numberOnRoll pupilsWithSend senSupport budgetTotal budgetRemaining
                nonContactHoursPerWeek senSupportPercent nonContactHoursPer100Pupils
                changeOnPreviousTerm { pupilsWithSend nonContactHoursPerWeek budgetTotal }
                changeOnSameTermLastYear { pupilsWithSend nonContactHoursPerWeek
                    nonContactHoursPer100Pupils senSupportPercent } } } }",
            json!({}),
        )
        .await;
    let record = d["school"]["trackRecord"].as_array().unwrap();
    assert_eq!(record.len(), 30);
    // It ends with the latest term that has ended, oldest first.
    let today = api::graphql::today();
    let last = api::domain::governance::track_record_ends(today);
    let end = record.last().unwrap();
    assert_eq!(end["academicYear"], last.academic_year);
    assert_eq!(end["term"], last.term.as_str());
    assert!(record[0]["academicYear"].as_i64() < end["academicYear"].as_i64());
    let at = |year: i32, term: &str| {
        record
            .iter()
            .find(|t| t["academicYear"] == year && t["term"] == term)
            .unwrap_or_else(|| panic!("{year} {term} missing: {record:?}"))
    };
    let summer = at(2025, "SUMMER");
    assert_eq!(summer["reported"], true);
    assert_eq!(summer["pupilsWithSend"], 34);
    assert_eq!(summer["budgetTotal"], "8000.00");
    assert_eq!(summer["budgetRemaining"], "4999.50");
    assert_eq!(summer["senSupportPercent"], 15.0);
    assert_eq!(summer["nonContactHoursPer100Pupils"], 2.5);
    assert_eq!(summer["changeOnPreviousTerm"]["pupilsWithSend"], 1);
    assert_eq!(
        summer["changeOnPreviousTerm"]["nonContactHoursPerWeek"],
        -1.0
    );
    assert_eq!(summer["changeOnPreviousTerm"]["budgetTotal"], "0.00");
    let yoy = &summer["changeOnSameTermLastYear"];
    assert_eq!(yoy["pupilsWithSend"], 4);
    assert_eq!(yoy["nonContactHoursPerWeek"], -1.0);
    assert_eq!(yoy["nonContactHoursPer100Pupils"], -0.5);
    assert_eq!(yoy["senSupportPercent"], 2.0);
    // Autumn 2025 has no report a year before it: the change is unknown, not zero.
    let autumn = at(2025, "AUTUMN");
    assert_eq!(
        autumn["changeOnSameTermLastYear"]["pupilsWithSend"],
        Value::Null
    );
    assert_eq!(autumn["changeOnPreviousTerm"]["pupilsWithSend"], 2);
    let missing = at(2024, "SPRING");
    assert_eq!(missing["reported"], false);
    assert_eq!(missing["pupilsWithSend"], Value::Null);
    // The default is six terms; the number is bounded.
    let d = s
        .ok(
            &reader,
            "{ school(urn: 100001) { trackRecord { term } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["school"]["trackRecord"].as_array().unwrap().len(), 6);
    for terms in [0, 31, -1] {
        let (code, body) = s
            .err(
                Some(&reader),
                "query($n: Int!) { school(urn: 100001) { trackRecord(terms: $n) { term } } }",
                json!({ "n": terms }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "terms");
    }
    s.stop().await;
}

/// Every string anywhere in `v`, JSON held in strings included.
fn contains_text(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| contains_text(x, needle)),
        Value::Object(o) => o.values().any(|x| contains_text(x, needle)),
        _ => false,
    }
}

#[tokio::test]
async fn an_la_reader_sees_dates_counts_roles_and_statuses_but_no_text() {
    let s = TestServer::start().await;
    toolkit_year(&s).await;
    let la = token("la-officer", "la:202:read");
    let d = s.ok(&la, GOVERNANCE, json!({ "u": URN })).await;
    assert!(!contains_text(&d, SECRET), "text leaked to the LA: {d}");
    let meetings = &d["school"]["governorMeetings"];
    assert_eq!(meetings["totalCount"], 3);
    let autumn = &meetings["edges"][2]["node"];
    assert_eq!(autumn["heldOn"], "2025-10-08");
    assert_eq!(
        autumn["attendees"],
        json!([{ "name": null, "role": "SENCO" }, { "name": null, "role": "SEN governor" }])
    );
    assert_eq!(
        autumn["items"],
        json!([{ "title": "Termly report", "keyPoints": null },
               { "title": "Training", "keyPoints": null }])
    );
    for a in d["school"]["governanceActions"].as_array().unwrap() {
        for private in ["description", "successCriteria", "monitoring", "evaluation"] {
            assert_eq!(a[private], Value::Null, "{private}: {a}");
        }
        assert!(a["owner"].is_string() && a["status"].is_string() && a["dueOn"].is_string());
    }
    assert_eq!(d["school"]["signOffs"].as_array().unwrap().len(), 4);
    // Nor through a meeting by id, nor the audit log.
    let meeting_id = autumn["id"].as_str().unwrap();
    let d = s
        .ok(
            &la,
            "query($id: ID!) { governorMeeting(id: $id) { attendees { name role }
                items { keyPoints } actions { description } carriedForward { description } } }",
            json!({ "id": meeting_id }),
        )
        .await;
    assert!(!contains_text(&d, SECRET), "{d}");
    assert_eq!(d["governorMeeting"]["attendees"][0]["role"], "SENCO");
    let audit = "{ auditLog(schoolUrn: 100001, first: 250) { totalCount
        edges { node { operation entity before after } } } }";
    let d = s.ok(&la, audit, json!({})).await;
    assert!(!contains_text(&d, SECRET), "the audit log leaked: {d}");
    let meeting_rows: Vec<&Value> = d["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["entity"] == "governor_meeting")
        .collect();
    assert_eq!(meeting_rows.len(), 3);
    assert!(
        meeting_rows[0]["node"]["after"]
            .as_str()
            .unwrap()
            .contains("SEN governor"),
        "roles stay in the history"
    );
    // The school's own readers, its governors and admin see the text.
    for t in [
        token("school-reader", "school:100001:read"),
        token("sen-governor", "school:100001:govern"),
        admin(),
    ] {
        let d = s.ok(&t, GOVERNANCE, json!({ "u": URN })).await;
        assert!(contains_text(&d, SECRET), "{d}");
        let d = s.ok(&t, audit, json!({})).await;
        assert!(contains_text(&d, SECRET), "{d}");
    }
    // An error names no text either: a stranger's token is refused with the URN alone.
    let stranger = token("other-school", "school:100003:write");
    let (code, body) = s
        .err(Some(&stranger), GOVERNANCE, json!({ "u": URN }))
        .await;
    assert_eq!(code, "FORBIDDEN");
    assert!(!contains_text(&body, SECRET));
    let (code, body) = s
        .err(
            Some(&stranger),
            "query($id: ID!) { governorMeeting(id: $id) { id } }",
            json!({ "id": meeting_id }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    assert!(!contains_text(&body, SECRET));
    // The LA sees the governance issues' codes and counts across its schools.
    let d = s
        .ok(
            &la,
            "{ complianceIssues(filter: { laCode: 202 }, asOf: \"2026-10-13\",
                codes: [\"GOVERNANCE_ACTIONS_OVERDUE\", \"NO_SEN_GOVERNOR_MEETING\"]) {
                counts { code count } edges { node { code school { urn } message } } } }",
            json!({}),
        )
        .await;
    assert!(!contains_text(&d, SECRET), "{d}");
    let counts = &d["complianceIssues"]["counts"];
    assert!(
        counts
            .as_array()
            .unwrap()
            .contains(&json!({ "code": "GOVERNANCE_ACTIONS_OVERDUE", "count": 1 })),
        "{counts}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_trust_board_governs_its_academies_and_its_readers_see_the_text() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let board = token("trust-board", "trust:2044:govern");
    let d = s
        .ok(
            &board,
            RECORD,
            json!({ "i": { "schoolUrn": ACADEMY, "heldOn": "2026-03-02",
                           "attendees": [{ "name": format!("{SECRET} Trustee"), "role": "Trustee" }] } }),
        )
        .await;
    let meeting = id(&d, "recordGovernorMeeting");
    s.ok(
        &token("academy", &format!("school:{ACADEMY}:write")),
        SUBMIT,
        json!({ "i": report(ACADEMY, 2025, "AUTUMN", 4.0, 20, "2025-09-01") }),
    )
    .await;
    let d = s
        .ok(
            &board,
            SIGN,
            json!({ "i": { "schoolUrn": ACADEMY, "document": "TERMLY_REPORT", "academicYear": 2025,
                           "term": "AUTUMN", "signedOn": "2026-01-25", "signedBy": "Trust Chair",
                           "role": "TRUSTEE" } }),
        )
        .await;
    assert_eq!(d["signOffDocument"]["school"]["urn"], ACADEMY);
    // The trust board governs only its own academies.
    let (code, _) = s
        .err(
            Some(&board),
            RECORD,
            json!({ "i": { "schoolUrn": URN, "heldOn": "2026-03-02",
                           "attendees": [{ "name": "X", "role": "Trustee" }] } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let q = "query($id: ID!) { governorMeeting(id: $id) { attendees { name } } }";
    for (t, visible) in [
        (token("trust-reader", "trust:2044:read"), true),
        (
            token("academy-reader", &format!("school:{ACADEMY}:read")),
            true,
        ),
        (token("camden", "la:202:read"), false),
    ] {
        let d = s.ok(&t, q, json!({ "id": meeting })).await;
        assert_eq!(contains_text(&d, SECRET), visible, "{d}");
    }
    s.stop().await;
}

#[tokio::test]
async fn only_the_governing_body_signs_off_and_governors_never_write_senco_records() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let school = token("school-100001", "school:100001:write");
    let governor = token("sen-governor", "school:100001:govern");
    s.ok(
        &school,
        SUBMIT,
        json!({ "i": report(URN, 2025, "AUTUMN", 5.0, 20, "2025-09-01") }),
    )
    .await;
    let sign = json!({ "i": { "schoolUrn": URN, "document": "TERMLY_REPORT", "academicYear": 2025,
                              "term": "AUTUMN", "signedOn": "2026-01-25", "signedBy": "X",
                              "role": "CHAIR" } });
    for t in [
        school.clone(),
        token("la-writer", "la:202:write"),
        token("trust-writer", "trust:2044:write"),
        admin(),
    ] {
        let (code, body) = s.err(Some(&t), SIGN, sign.clone()).await;
        assert_eq!(code, "FORBIDDEN", "{body}");
    }
    let d = s
        .ok(
            &admin(),
            "{ school(urn: 100001) { signOffs { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(d["school"]["signOffs"], json!([]), "nothing stored");
    // The governor may sign off, but not submit the school's report nor record its SENCO.
    s.ok(&governor, SIGN, sign).await;
    let mut amended = report(URN, 2025, "AUTUMN", 5.0, 21, "2025-09-01");
    amended["expectedVersion"] = json!(1);
    let (code, body) = s
        .err(Some(&governor), SUBMIT, json!({ "i": amended }))
        .await;
    assert_eq!(code, "FORBIDDEN", "{body}");
    let (code, _) = s
        .err(
            Some(&governor),
            "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id } }",
            json!({ "i": { "schoolUrn": URN, "startedOn": "2025-09-01",
                           "person": { "fullName": "X", "hasQts": true,
                                       "inductionStatus": "COMPLETED" } } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // An LA writer records SENCOs, not the governing body's meetings.
    let (code, _) = s
        .err(
            Some(&token("la-writer", "la:202:write")),
            RECORD,
            json!({ "i": { "schoolUrn": URN, "heldOn": "2026-03-02",
                           "attendees": [{ "name": "X", "role": "SENCO" }] } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // A governor token reads its school, and only its school.
    let d = s
        .ok(&governor, "{ school(urn: 100001) { urn } }", json!({}))
        .await;
    assert_eq!(d["school"]["urn"], URN);
    let (code, _) = s
        .err(
            Some(&governor),
            "{ school(urn: 100002) { urn } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let d = s.ok(&governor, "{ viewer { scopes } }", json!({})).await;
    assert_eq!(d["viewer"]["scopes"], json!(["school:100001:govern"]));
    s.stop().await;
}

#[tokio::test]
async fn a_meeting_is_recorded_with_the_actions_agreed_at_it() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let governor = token("sen-governor", "school:100001:govern");
    let d = s
        .ok(
            &governor,
            RECORD,
            json!({ "i": { "schoolUrn": URN, "heldOn": "2026-03-02",
                "attendees": [{ "name": "Ms Senco", "role": "SENCO" }],
                "actions": [
                    { "description": "Update the provision map", "owner": "SENCO",
                      "dueOn": "2026-04-30", "area": "Provision" },
                    { "description": "Visit a phonics session", "owner": "SEN governor",
                      "dueOn": "2026-05-15", "successCriteria": "A note to the board" }] } }),
        )
        .await;
    let meeting = id(&d, "recordGovernorMeeting");
    let g = s.ok(&governor, GOVERNANCE, json!({ "u": URN })).await;
    let node = &g["school"]["governorMeetings"]["edges"][0]["node"];
    assert_eq!(node["id"], meeting);
    let actions: Vec<(&str, &str, &str)> = node["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["description"].as_str().unwrap(),
                a["owner"].as_str().unwrap(),
                a["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("Update the provision map", "SENCO", "OPEN"),
            ("Visit a phonics session", "SEN governor", "OPEN")
        ]
    );
    let register = g["school"]["governanceActions"].as_array().unwrap();
    assert_eq!(register.len(), 2);
    assert!(register.iter().all(|a| a["meeting"]["id"] == meeting));
    // The audit log has the meeting and each action.
    let log = s
        .ok(
            &admin(),
            "{ auditLog(schoolUrn: 100001) { edges { node { entity operation } } } }",
            json!({}),
        )
        .await;
    let rows: Vec<String> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["node"]["entity"], e["node"]["operation"]))
        .filter(|r| r.contains("governor_meeting") || r.contains("governance_action"))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    s.stop().await;
}

#[tokio::test]
async fn governance_input_is_validated_field_by_field_and_nothing_is_stored() {
    let s = TestServer::start().await;
    small_world(&s).await;
    let governor = token("sen-governor", "school:100001:govern");
    let stored = "{ school(urn: 100001) { governorMeetings { totalCount } governanceActions { id }
        signOffs { id } } auditLog(schoolUrn: 100001) { totalCount } }";
    let before = s.ok(&admin(), stored, json!({})).await;
    let tomorrow = (api::graphql::today() + chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let meeting = |patch: Value| {
        let mut i = json!({ "schoolUrn": URN, "heldOn": "2026-03-02",
                            "attendees": [{ "name": "Ms Senco", "role": "SENCO" }] });
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    for (patch, field) in [
        (json!({ "heldOn": tomorrow }), "input.heldOn"),
        (json!({ "attendees": [] }), "input.attendees"),
        (
            json!({ "attendees": [{ "name": "  ", "role": "SENCO" }] }),
            "input.attendees.0.name",
        ),
        (
            json!({ "items": [{ "title": "Budget", "keyPoints": "bell\u{7} PRIVATE" }] }),
            "input.items.0.keyPoints",
        ),
        (
            json!({ "items": [{ "title": "x".repeat(201) }] }),
            "input.items.0.title",
        ),
        (
            json!({ "nextMeetingOn": "2026-03-01" }),
            "input.nextMeetingOn",
        ),
        (json!({ "schoolUrn": 999999 }), "input.schoolUrn"),
        // One refused action refuses the meeting with it.
        (
            json!({ "actions": [
                { "description": "Fine", "owner": "SENCO", "dueOn": "2026-05-01" },
                { "description": "Too late", "owner": "SENCO", "dueOn": "2099-01-01" }] }),
            "input.actions.1.dueOn",
        ),
        (
            json!({ "actions": [{ "description": "", "owner": "SENCO", "dueOn": "2026-05-01" }] }),
            "input.actions.0.description",
        ),
    ] {
        let (code, body) = s.err(Some(&governor), RECORD, meeting(patch.clone())).await;
        assert!(
            code == "BAD_USER_INPUT" || code == "NOT_FOUND",
            "{patch}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        assert!(
            !contains_text(&body, SECRET),
            "the error echoes the text: {body}"
        );
    }
    let action = |patch: Value| {
        let mut i = json!({ "schoolUrn": URN, "description": "Do it", "owner": "SENCO",
                            "dueOn": "2026-05-01" });
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    for (patch, field) in [
        (json!({ "owner": " " }), "input.owner"),
        (json!({ "description": "" }), "input.description"),
        (json!({ "cost": "12.345" }), "input.cost"),
        (json!({ "cost": "-1" }), "input.cost"),
        (json!({ "timeHours": -1 }), "input.timeHours"),
        (json!({ "dueOn": "2099-01-01" }), "input.dueOn"),
        (json!({ "completedOn": "2026-01-01" }), "input.completedOn"),
        (
            json!({ "status": "DONE", "completedOn": tomorrow }),
            "input.completedOn",
        ),
        (json!({ "meetingId": "999999" }), "input.meetingId"),
    ] {
        let (code, body) = s.err(Some(&governor), ADD, action(patch.clone())).await;
        assert!(
            code == "BAD_USER_INPUT" || code == "NOT_FOUND",
            "{patch}: {body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let sign = |patch: Value| {
        let mut i = json!({ "schoolUrn": URN, "document": "SEN_POLICY",
                            "documentDate": "2025-07-01", "signedOn": "2025-07-10",
                            "signedBy": "The Chair", "role": "CHAIR" });
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    for (patch, field, want) in [
        (
            json!({ "documentDate": null }),
            "input.documentDate",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "academicYear": 2025 }),
            "input.academicYear",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "signedOn": tomorrow }),
            "input.signedOn",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "signedBy": "" }),
            "input.signedBy",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "statement": "x".repeat(2001) }),
            "input.statement",
            "BAD_USER_INPUT",
        ),
        (
            json!({ "document": "TERMLY_REPORT", "documentDate": null, "academicYear": 2025,
                    "term": "AUTUMN" }),
            "input.term",
            "NOT_FOUND",
        ),
        (
            json!({ "document": "TERMLY_REPORT", "documentDate": null }),
            "input.academicYear",
            "BAD_USER_INPUT",
        ),
    ] {
        let (code, body) = s.err(Some(&governor), SIGN, sign(patch.clone())).await;
        assert_eq!(code, want, "{patch}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let after = s.ok(&admin(), stored, json!({})).await;
    assert_eq!(
        after, before,
        "a refused write stores nothing, audit rows included"
    );
    assert_eq!(
        after["school"],
        json!({ "governorMeetings": { "totalCount": 0 }, "governanceActions": [],
                "signOffs": [] })
    );
    // A valid sign-off with the standard statement, for the record.
    let d = s.ok(&governor, SIGN, sign(json!({}))).await;
    assert_eq!(d["signOffDocument"]["current"], true);
    assert_eq!(
        chrono::NaiveDate::parse_from_str(
            d["signOffDocument"]["signedOn"].as_str().unwrap(),
            "%Y-%m-%d"
        )
        .unwrap()
        .year(),
        2025
    );
    s.stop().await;
}
