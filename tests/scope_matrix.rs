//! The scope matrix (SPEC 3, 5 and 6): every query and mutation field of `schema.graphql`,
//! called by every kind of token (anonymous; `school:{urn}:read`, `:write` and `:govern` for
//! each school; `la:{code}` in read and write forms, `trust:{uid}` in read, write and
//! govern forms; `admin`; a token for a school that does not exist) against data in and out
//! of the token's reach.
//!
//! Each cell's expected outcome is computed here from the SPEC's rules and the world's
//! schools, independently of the product's own scope code: allowed, or the exact error code.
//! Every successful response is then walked whole, nested fields and JSON held in strings
//! included, and must name no school URN outside the token's reach; every person it shows
//! must be one the token may read with `person(id)`; every person's `appointments` and every
//! cluster's `members` must be exactly the readable part. The governance text of SPEC 4.10
//! (each piece marked with its school's URN) must appear exactly where the token may read
//! it: in every governance object of a school or trust reader, and nowhere, audit rows
//! included, for a reader who reaches the school only through an LA scope.
//!
//! The field list is parsed from `schema.graphql`, and the table must cover every field of
//! `Query` and `Mutation`: a new field without a matrix row fails `matrix_covers_the_schema`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use common::*;
use futures::StreamExt;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------

/// One school of the world.
struct SchoolDef {
    urn: i32,
    la: i32,
    trust: Option<i32>,
    phase: &'static str,
    kind: &'static str,
    roll: i32,
}

const A: i32 = 100_001;
const B: i32 = 100_002;
const C: i32 = 100_003;
const D: i32 = 100_004;
const E: i32 = 100_005;
/// A URN no school has.
const NO_SCHOOL: i32 = 999_999;
/// An id nothing has.
const NO_ID: &str = "999999";

const CAMDEN: i32 = 202;
const GREENWICH: i32 = 203;
const LAS: [(i32, &str); 2] = [(CAMDEN, "Camden"), (GREENWICH, "Greenwich")];
/// A trust spanning both LAs.
const TRUST: i32 = 2044;
/// A trust with no schools.
const EMPTY_TRUST: i32 = 2055;
const TRUSTS: [(i32, &str); 2] = [
    (TRUST, "Thames Bridge Academy Trust"),
    (EMPTY_TRUST, "Empty Trust"),
];

/// Two LAs, a trust spanning both, no predecessors (so nothing is reachable sideways).
const SCHOOLS: [SchoolDef; 5] = [
    SchoolDef {
        urn: A,
        la: CAMDEN,
        trust: None,
        phase: "PRIMARY",
        kind: "MAINSTREAM",
        roll: 180,
    },
    SchoolDef {
        urn: B,
        la: CAMDEN,
        trust: Some(TRUST),
        phase: "PRIMARY",
        kind: "MAINSTREAM",
        roll: 95,
    },
    SchoolDef {
        urn: C,
        la: GREENWICH,
        trust: Some(TRUST),
        phase: "SECONDARY",
        kind: "MAINSTREAM",
        roll: 1100,
    },
    SchoolDef {
        urn: D,
        la: GREENWICH,
        trust: None,
        phase: "PRIMARY",
        kind: "MAINSTREAM",
        roll: 150,
    },
    SchoolDef {
        urn: E,
        la: CAMDEN,
        trust: None,
        phase: "NURSERY",
        kind: "MAINTAINED_NURSERY",
        roll: 60,
    },
];

fn school_def(urn: i32) -> Option<&'static SchoolDef> {
    SCHOOLS.iter().find(|s| s.urn == urn)
}

fn world_urns() -> BTreeSet<i32> {
    SCHOOLS.iter().map(|s| s.urn).collect()
}

/// The academic year and term every school reported for.
const YEAR: i32 = 2024;
const TERM: &str = "AUTUMN";
/// A term nobody reported for.
const UNREPORTED_TERM: &str = "SPRING";

/// A person of the world and the schools where they hold an appointment.
#[derive(Clone, Debug)]
struct WPerson {
    key: &'static str,
    id: String,
    name: &'static str,
    schools: Vec<i32>,
    /// Members of the clusters this person is the SENCO of: the arrangement makes them
    /// visible to readers of any member (SPEC 4.6), as an appointment would.
    cluster_members: Vec<i32>,
}

/// Members of every cluster whose SENCO is the person `key`.
fn cluster_members_of(key: &str) -> Vec<i32> {
    CLUSTERS
        .iter()
        .filter(|c| c.3 == key)
        .flat_map(|c| c.2)
        .collect()
}

/// A cluster of the world.
#[derive(Clone, Debug)]
struct WCluster {
    key: &'static str,
    id: String,
    name: &'static str,
    members: Vec<i32>,
}

/// Ids of what the world build created.
#[derive(Clone, Debug)]
struct World {
    people: Vec<WPerson>,
    /// The SENCO appointment at each school.
    appointment: BTreeMap<i32, String>,
    /// One qualification per person, by person key.
    qualification: BTreeMap<&'static str, String>,
    clusters: Vec<WCluster>,
    /// The SENCO-governor meeting at each school.
    meeting: BTreeMap<i32, String>,
    /// The action agreed at each school's meeting.
    action: BTreeMap<i32, String>,
    /// A webhook of the matrix's `admin` token (to a closed local port), and one of its
    /// deliveries.
    webhook: String,
    delivery: String,
}

/// The marker every piece of governance text of school `urn` carries.
fn gov_text(urn: i32, what: &str) -> String {
    format!("GOVTEXT-{urn} {what}")
}

/// (key, TRN, name, schools): S is shared by two schools in different LAs, T by the trust's
/// two schools, U serves the nursery alone.
const PEOPLE: [(&str, &str, &str, [i32; 2]); 3] = [
    ("S", "7000001", "Sam Shared", [A, D]),
    ("T", "7000002", "Toni Trust", [B, C]),
    ("U", "7000003", "Uma Nursery", [E, E]),
];

/// (key, name, members, SENCO key, creator scope): K1 spans both LAs outside the trust
/// (admin only), K2 is the trust's (created by the trust writer), K3 is Camden's (created by
/// the LA writer), and its SENCO U holds no appointment at member A.
const CLUSTERS: [(&str, &str, [i32; 2], &str, &str); 3] = [
    ("K1", "Cross-border pair", [A, D], "S", "admin"),
    ("K2", "Trust pair", [B, C], "T", "trust:2044:write"),
    ("K3", "Camden pair", [A, E], "U", "la:202:write"),
];

const PROVIDER: &str = "Matrix Provider";

impl World {
    /// A world with made-up ids, for building the table without a server.
    fn placeholder() -> Self {
        let people = PEOPLE
            .iter()
            .enumerate()
            .map(|(i, (key, _, name, schools))| WPerson {
                key,
                id: (i + 1).to_string(),
                name,
                schools: dedup(schools),
                cluster_members: cluster_members_of(key),
            })
            .collect();
        World {
            people,
            appointment: SCHOOLS
                .iter()
                .enumerate()
                .map(|(i, s)| (s.urn, (i + 1).to_string()))
                .collect(),
            qualification: PEOPLE
                .iter()
                .enumerate()
                .map(|(i, p)| (p.0, (i + 1).to_string()))
                .collect(),
            clusters: CLUSTERS
                .iter()
                .enumerate()
                .map(|(i, (key, name, members, _, _))| WCluster {
                    key,
                    id: (i + 1).to_string(),
                    name,
                    members: members.to_vec(),
                })
                .collect(),
            meeting: SCHOOLS
                .iter()
                .enumerate()
                .map(|(i, s)| (s.urn, (i + 1).to_string()))
                .collect(),
            action: SCHOOLS
                .iter()
                .enumerate()
                .map(|(i, s)| (s.urn, (i + 1).to_string()))
                .collect(),
            webhook: "1".into(),
            delivery: "1".into(),
        }
    }

    fn person(&self, key: &str) -> &WPerson {
        self.people.iter().find(|p| p.key == key).unwrap()
    }

    fn person_by_id(&self, id: &str) -> Option<&WPerson> {
        self.people.iter().find(|p| p.id == id)
    }

    fn cluster_by_id(&self, id: &str) -> Option<&WCluster> {
        self.clusters.iter().find(|c| c.id == id)
    }
}

fn dedup(urns: &[i32]) -> Vec<i32> {
    urns.iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn school_input(s: &SchoolDef) -> Value {
    json!({
        "urn": s.urn, "name": format!("Matrix School {}", s.urn), "laCode": s.la,
        "trustUid": s.trust, "phase": s.phase, "kind": s.kind,
        "isAcademy": s.trust.is_some(), "numberOnRoll": s.roll
    })
}

fn report_input(urn: i32, version_hint: i32) -> Value {
    json!({
        "schoolUrn": urn, "academicYear": YEAR, "term": TERM,
        "numberOnRoll": 100 + version_hint, "pupilsWithSend": 20, "senSupport": 12, "ehcp": 3,
        "ehcpApplicationsInProcess": 1, "budgetE1": "1000", "budgetE2": "500.50",
        "budgetE3": "0", "budgetAdditional": "25", "expenditureToDate": "700",
        "nonContactHoursPerWeek": 4.5,
        "senInformationReportPublishedOn": "2024-10-01",
        "challenges": "Matrix challenges"
    })
}

const SUBMIT: &str =
    "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { version } }";
const APPOINT_ID: &str =
    "mutation($i: AppointSencoInput!) { appointSenco(input: $i) { id person { id } } }";

/// Builds the world through the API with the tokens real users would hold.
async fn build_world(s: &TestServer) -> World {
    let a = admin();
    for (code, name) in LAS {
        s.ok(
            &a,
            "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { code } }",
            json!({ "i": { "code": code, "name": name } }),
        )
        .await;
    }
    for (uid, name) in TRUSTS {
        s.ok(
            &a,
            "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid } }",
            json!({ "i": { "uid": uid, "name": name } }),
        )
        .await;
    }
    for sd in &SCHOOLS {
        s.ok(
            &a,
            "mutation($i: SchoolInput!) { upsertSchool(input: $i) { urn } }",
            json!({ "i": school_input(sd) }),
        )
        .await;
    }
    // The webhook is the matrix admin token's, to a closed port on this machine (the matrix
    // servers allow private addresses), so its deliveries fail and stay to be redelivered.
    let owner = token("matrix admin", "admin");
    let d = s
        .ok(
            &owner,
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
            json!({ "i": { "url": MATRIX_HOOK, "types": ["SENCO_APPOINTED"] } }),
        )
        .await;
    let webhook = d["createWebhook"]["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut people = Vec::new();
    let mut appointment = BTreeMap::new();
    for (key, trn, name, schools) in PEOPLE {
        let mut id = String::new();
        for urn in dedup(&schools) {
            let d = s
                .ok(
                    &a,
                    APPOINT_ID,
                    json!({ "i": {
                        "schoolUrn": urn, "startedOn": "2024-09-02",
                        "nonContactHoursPerWeek": 3.0, "classTeachingFraction": 0.1,
                        "person": { "trn": trn, "fullName": name, "hasQts": true,
                                    "inductionStatus": "COMPLETED" }
                    } }),
                )
                .await;
            id = d["appointSenco"]["person"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            appointment.insert(urn, d["appointSenco"]["id"].as_str().unwrap().to_owned());
        }
        people.push(WPerson {
            key,
            id,
            name,
            schools: dedup(&schools),
            cluster_members: cluster_members_of(key),
        });
    }
    let mut qualification = BTreeMap::new();
    for (key, kind, started, completed) in [
        ("S", "NPQ_SENCO", "2024-10-01", Some("2025-07-15")),
        ("T", "NASENCO", "2023-01-10", None),
        ("U", "NPQ_SENCO", "2025-01-06", None),
    ] {
        let pid = people.iter().find(|p| p.key == key).unwrap().id.clone();
        let d = s
            .ok(
                &a,
                "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { id } }",
                json!({ "i": { "personId": pid, "kind": kind, "provider": PROVIDER,
                               "startedOn": started, "completedOn": completed } }),
            )
            .await;
        qualification.insert(
            key,
            d["recordQualification"]["id"].as_str().unwrap().to_owned(),
        );
    }
    let u = people.iter().find(|p| p.key == "U").unwrap().id.clone();
    s.ok(
        &a,
        "mutation($i: AddPriorSencoServiceInput!) { addPriorSencoService(input: $i) { id } }",
        json!({ "i": { "personId": u, "startedOn": "2015-09-01", "endedOn": "2016-07-31",
                       "description": "Lewisham" } }),
    )
    .await;
    for sd in &SCHOOLS {
        let t = token(
            &format!("school-{}", sd.urn),
            &format!("school:{}:write", sd.urn),
        );
        s.ok(&t, SUBMIT, json!({ "i": report_input(sd.urn, 0) }))
            .await;
    }
    // An amendment, so that A's report has a history.
    let mut amended = report_input(A, 1);
    amended["expectedVersion"] = json!(1);
    s.ok(
        &token("school-a", &format!("school:{A}:write")),
        SUBMIT,
        json!({ "i": amended }),
    )
    .await;
    let mut clusters = Vec::new();
    for (key, name, members, senco, creator) in CLUSTERS {
        let pid = people.iter().find(|p| p.key == senco).unwrap().id.clone();
        let d = s
            .ok(
                &token(&format!("creator-{key}"), creator),
                "mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }",
                json!({ "i": { "name": name, "sencoPersonId": pid, "memberUrns": members,
                               "startedOn": "2024-09-02" } }),
            )
            .await;
        clusters.push(WCluster {
            key,
            id: d["createCluster"]["id"].as_str().unwrap().to_owned(),
            name,
            members: members.to_vec(),
        });
    }
    // Each school's governing body records a meeting with an action and signs off the
    // report.
    let mut meeting = BTreeMap::new();
    let mut action = BTreeMap::new();
    for sd in &SCHOOLS {
        let urn = sd.urn;
        let gov = token(&format!("governor-{urn}"), &format!("school:{urn}:govern"));
        let d = s
            .ok(&gov, RECORD_MEETING, json!({ "i": meeting_input(urn) }))
            .await;
        let m = d["recordGovernorMeeting"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let d = s
            .ok(&gov, ADD_ACTION, json!({ "i": action_input(urn, &m) }))
            .await;
        action.insert(
            urn,
            d["addGovernanceAction"]["id"].as_str().unwrap().to_owned(),
        );
        meeting.insert(urn, m);
        s.ok(&gov, SIGN_OFF, json!({ "i": sign_off_input(urn) }))
            .await;
    }
    let d = s
        .ok(
            &owner,
            "query($w: ID!) { webhookDeliveries(webhookId: $w, first: 1) { edges { node { id } } } }",
            json!({ "w": webhook }),
        )
        .await;
    let delivery = d["webhookDeliveries"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        people,
        appointment,
        qualification,
        clusters,
        meeting,
        action,
        webhook,
        delivery,
    }
}

const RECORD_MEETING: &str =
    "mutation($i: RecordGovernorMeetingInput!) { recordGovernorMeeting(input: $i) { id } }";
const ADD_ACTION: &str =
    "mutation($i: AddGovernanceActionInput!) { addGovernanceAction(input: $i) { id } }";
const SIGN_OFF: &str = "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) { id } }";

fn meeting_input(urn: i32) -> Value {
    json!({
        "schoolUrn": urn, "heldOn": "2024-10-15",
        "attendees": [{ "name": gov_text(urn, "attendee"), "role": "SEN governor" }],
        "items": [{ "title": "Termly report", "keyPoints": gov_text(urn, "key points") }]
    })
}

fn action_input(urn: i32, meeting: &str) -> Value {
    json!({
        "schoolUrn": urn, "meetingId": meeting, "description": gov_text(urn, "action"),
        "owner": "SENCO", "dueOn": "2024-12-01", "cost": "100",
        "successCriteria": gov_text(urn, "criteria"), "monitoring": gov_text(urn, "monitoring"),
        "evaluation": gov_text(urn, "evaluation")
    })
}

fn sign_off_input(urn: i32) -> Value {
    json!({
        "schoolUrn": urn, "document": "TERMLY_REPORT", "academicYear": YEAR, "term": TERM,
        "signedOn": "2025-01-20", "signedBy": "Matrix Chair", "role": "CHAIR"
    })
}

/// Where the matrix's webhooks point: a closed port on this machine.
const MATRIX_HOOK: &str = "http://127.0.0.1:9/matrix";

/// The settings of the matrix's servers: webhooks may point at this machine.
const MATRIX_ENV: &[(&str, &str)] = &[("SENCO_WEBHOOK_ALLOW_PRIVATE", "true")];

// ---------------------------------------------------------------------------------------
// Tokens and what the SPEC says they reach
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct Grants {
    urns: BTreeSet<i32>,
    las: BTreeSet<i32>,
    trusts: BTreeSet<i32>,
}

impl Grants {
    fn covers(&self, urn: i32) -> bool {
        let Some(s) = school_def(urn) else {
            return false;
        };
        self.urns.contains(&urn)
            || self.las.contains(&s.la)
            || s.trust.is_some_and(|t| self.trusts.contains(&t))
    }
}

/// A kind of token, with its grants worked out from its scope words (SPEC 3).
#[derive(Clone, Debug)]
struct Tok {
    label: String,
    words: Vec<String>,
    jwt: Option<String>,
    admin: bool,
    read: Grants,
    write: Grants,
    govern: Grants,
}

impl Tok {
    fn anonymous() -> Self {
        Tok {
            label: "anonymous".into(),
            words: Vec::new(),
            jwt: None,
            admin: false,
            read: Grants::default(),
            write: Grants::default(),
            govern: Grants::default(),
        }
    }

    fn new(scope: &str) -> Self {
        let mut t = Tok {
            label: scope.to_owned(),
            words: scope.split(' ').map(str::to_owned).collect(),
            jwt: Some(token(&format!("matrix {scope}"), scope)),
            admin: false,
            read: Grants::default(),
            write: Grants::default(),
            govern: Grants::default(),
        };
        for w in scope.split(' ') {
            if w == "admin" {
                t.admin = true;
                continue;
            }
            let parts: Vec<&str> = w.split(':').collect();
            let [kind, id, access] = parts[..] else {
                panic!("bad scope {w}")
            };
            let id: i32 = id.parse().unwrap();
            let write = access == "write";
            let govern = access == "govern";
            for g in [
                Some(&mut t.read),
                write.then_some(&mut t.write),
                govern.then_some(&mut t.govern),
            ]
            .into_iter()
            .flatten()
            {
                match kind {
                    "school" => g.urns.insert(id),
                    "la" => g.las.insert(id),
                    "trust" => g.trusts.insert(id),
                    _ => panic!("bad scope {w}"),
                };
            }
        }
        t
    }

    fn anon(&self) -> bool {
        self.jwt.is_none()
    }

    /// Reads: admin everything; school, LA and trust scopes (either form) their schools.
    fn reads(&self, urn: i32) -> bool {
        school_def(urn).is_some() && (self.admin || self.read.covers(urn))
    }

    /// The world's schools this token may read.
    fn reach(&self) -> BTreeSet<i32> {
        world_urns()
            .into_iter()
            .filter(|u| self.reads(*u))
            .collect()
    }

    /// Appointments, people, prior service, qualifications: school, LA and trust writers
    /// and admin.
    fn staff_writes(&self, urn: i32) -> bool {
        school_def(urn).is_some() && (self.admin || self.write.covers(urn))
    }

    /// Termly reports: the school's own statement, `school:{urn}:write` only.
    fn report_writes(&self, urn: i32) -> bool {
        school_def(urn).is_some() && self.write.urns.contains(&urn)
    }

    /// Clusters: LA and trust writers (never schools) and admin.
    fn cluster_writes(&self, urn: i32) -> bool {
        let Some(s) = school_def(urn) else {
            return false;
        };
        self.admin
            || self.write.las.contains(&s.la)
            || s.trust.is_some_and(|t| self.write.trusts.contains(&t))
    }

    /// Meetings and actions (SPEC 4.10): the school's own writer and its governing body
    /// (school and trust govern scopes); not LA or trust writers, not admin.
    fn governance_writes(&self, urn: i32) -> bool {
        school_def(urn).is_some() && (self.write.urns.contains(&urn) || self.govern.covers(urn))
    }

    /// Sign-offs: the governing body alone.
    fn signs_off(&self, urn: i32) -> bool {
        school_def(urn).is_some() && self.govern.covers(urn)
    }

    /// The governance text of SPEC 4.10: a school or trust scope covering the school, or
    /// admin; never a reach through an LA scope alone.
    fn reads_governance_text(&self, urn: i32) -> bool {
        let Some(s) = school_def(urn) else {
            return false;
        };
        self.admin
            || self.read.urns.contains(&urn)
            || s.trust.is_some_and(|t| self.read.trusts.contains(&t))
    }

    fn covers_la(&self, code: i32) -> bool {
        self.admin || self.read.las.contains(&code)
    }

    fn covers_trust(&self, uid: i32) -> bool {
        self.admin || self.read.trusts.contains(&uid)
    }

    fn reads_person(&self, p: &WPerson) -> bool {
        self.admin
            || p.schools
                .iter()
                .chain(p.cluster_members.iter())
                .any(|u| self.reads(*u))
    }

    fn writes_person(&self, p: &WPerson) -> bool {
        self.admin || p.schools.iter().any(|u| self.staff_writes(*u))
    }

    fn reads_cluster(&self, members: &[i32]) -> bool {
        members.iter().any(|u| self.reads(*u))
    }

    fn writes_cluster(&self, members: &[i32]) -> bool {
        members.iter().all(|u| self.cluster_writes(*u))
    }
}

/// Every kind of token of the issue.
fn tokens() -> Vec<Tok> {
    let mut v = vec![Tok::anonymous()];
    for s in &SCHOOLS {
        for access in ["read", "write", "govern"] {
            v.push(Tok::new(&format!("school:{}:{access}", s.urn)));
        }
    }
    for (la, _) in LAS {
        for access in ["read", "write"] {
            v.push(Tok::new(&format!("la:{la}:{access}")));
        }
    }
    for access in ["read", "write", "govern"] {
        v.push(Tok::new(&format!("trust:{TRUST}:{access}")));
    }
    v.push(Tok::new("admin"));
    v.push(Tok::new(&format!("school:{NO_SCHOOL}:read")));
    v
}

// ---------------------------------------------------------------------------------------
// The table of operations
// ---------------------------------------------------------------------------------------

/// `None`: allowed; `Some(code)`: refused with that code.
type Rule = Box<dyn Fn(&Tok) -> Option<&'static str> + Send + Sync>;
/// Checks a successful response's `data` beyond the generic walks.
type Check = Box<dyn Fn(&Tok, &Value) -> Result<(), String> + Send + Sync>;

/// What a cell needs done (with `admin`) just before it runs.
#[derive(Clone, Copy, Debug)]
enum Setup {
    None,
    /// A TRN no one has, in `$i.person.trn`.
    FreshTrn,
    /// A new appointment at the school, in `$i.appointmentId`.
    FreshAppointment(i32),
    /// The school's current report version, in `$i.expectedVersion`.
    ExpectedVersion(i32),
}

struct Op {
    field: &'static str,
    label: String,
    query: String,
    vars: Value,
    setup: Setup,
    rule: Rule,
    check: Check,
}

fn op(field: &'static str, label: String, query: &str, vars: Value, rule: Rule) -> Op {
    Op {
        field,
        label,
        query: query.to_owned(),
        vars,
        setup: Setup::None,
        rule,
        check: Box::new(|_, _| Ok(())),
    }
}

impl Op {
    fn check(
        mut self,
        f: impl Fn(&Tok, &Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.check = Box::new(f);
        self
    }
    fn setup(mut self, s: Setup) -> Self {
        self.setup = s;
        self
    }
}

fn allowed() -> Rule {
    Box::new(|_| None)
}

fn allow_if(f: impl Fn(&Tok) -> bool + Send + Sync + 'static) -> Rule {
    Box::new(move |t| if f(t) { None } else { Some("FORBIDDEN") })
}

fn refuse(code: &'static str) -> Rule {
    Box::new(move |_| Some(code))
}

/// Values at a dotted path; `*` walks every element of an array.
fn at<'a>(v: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur = vec![v];
    for seg in path.split('.') {
        cur = cur
            .into_iter()
            .flat_map(|x| -> Vec<&Value> {
                if seg == "*" {
                    x.as_array().map(|a| a.iter().collect()).unwrap_or_default()
                } else {
                    x.get(seg).into_iter().collect()
                }
            })
            .collect();
    }
    cur
}

fn ints(v: &Value, path: &str) -> BTreeSet<i64> {
    at(v, path).into_iter().filter_map(Value::as_i64).collect()
}

fn strs(v: &Value, path: &str) -> BTreeSet<String> {
    at(v, path)
        .into_iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

fn same<T: std::fmt::Debug + PartialEq>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// The token's readable schools that satisfy `pred`, as the JSON integers they come back as.
fn readable_where(t: &Tok, pred: impl Fn(&SchoolDef) -> bool) -> BTreeSet<i64> {
    SCHOOLS
        .iter()
        .filter(|s| t.reads(s.urn) && pred(s))
        .map(|s| i64::from(s.urn))
        .collect()
}

const SCHOOL_SEL: &str = "urn name localAuthority { code } trust { uid } successor { urn } \
    predecessor { urn } \
    sencoAppointments { id school { urn } person { id appointments { school { urn } } } } \
    termlyReports { version school { urn } history { version school { urn } } \
    signOffs { id school { urn } reportVersion current } } \
    compliance { code school { urn } cluster { id members { urn } } } \
    governorMeetings(first: 5) { totalCount edges { node { MEETING_FIELDS } } } \
    governanceActions { ACTION_FIELDS } \
    signOffs { id school { urn } document current } \
    trackRecord(terms: 3) { academicYear term reported version }";

/// A meeting's fields, text included, with its actions.
const MEETING_SEL: &str = "id heldOn school { urn } attendees { name role } \
    items { title keyPoints } actions { ACTION_FIELDS } carriedForward { id school { urn } }";

/// An action's fields, text included.
const ACTION_SEL: &str = "id school { urn } description owner dueOn status successCriteria \
    monitoring evaluation meeting { id school { urn } }";

/// [`SCHOOL_SEL`] with its governance parts filled in.
fn school_sel() -> String {
    SCHOOL_SEL
        .replace("MEETING_FIELDS", &meeting_sel())
        .replace("ACTION_FIELDS", ACTION_SEL)
}

fn meeting_sel() -> String {
    MEETING_SEL.replace("ACTION_FIELDS", ACTION_SEL)
}

const PERSON_SEL: &str = "id fullName appointments { id school { urn } } \
    qualifications { id } priorService { startedOn } evidenceChecks { id person { id } }";

const CLUSTER_SEL: &str = "id name members { urn } \
    senco { id fullName appointments { school { urn } } } \
    issues { code school { urn } } totalNumberOnRoll";

const DEADLINE_SEL: &str = "totalCount projectionCounts { projection count } \
    edges { node { status projection latestViableCohort { startsOn } school { urn } \
    appointment { id school { urn } } person { id appointments { school { urn } } } } }";

const ISSUE_SEL: &str =
    "totalCount edges { node { code school { urn } cluster { id members { urn } } } }";

const AUDIT_SEL: &str =
    "totalCount edges { node { schoolUrn operation entity rowId before after } }";

/// A school filter in JSON and the predicate it means, with whether the token may use it.
struct FilterCase {
    label: String,
    json: Value,
    pred: fn(&SchoolDef, &Value) -> bool,
    covered: Covered,
}

/// Whether a token may use a filter.
type Covered = Box<dyn Fn(&Tok) -> bool + Send + Sync>;

fn filter_pred(s: &SchoolDef, f: &Value) -> bool {
    if let Some(la) = f.get("laCode").and_then(Value::as_i64)
        && i64::from(s.la) != la
    {
        return false;
    }
    if let Some(t) = f.get("trustUid").and_then(Value::as_i64)
        && s.trust.map(i64::from) != Some(t)
    {
        return false;
    }
    if let Some(urns) = f.get("urns").and_then(Value::as_array)
        && !urns.iter().any(|u| u.as_i64() == Some(i64::from(s.urn)))
    {
        return false;
    }
    true
}

/// No filter, each school by URN, each LA and each trust (an LA or trust filter is only for
/// tokens that read all of it: SPEC 5, "must not quietly mean the part you can see").
fn filter_cases() -> Vec<FilterCase> {
    let mut v = vec![FilterCase {
        label: "no filter".into(),
        json: Value::Null,
        pred: filter_pred,
        covered: Box::new(|_| true),
    }];
    for s in &SCHOOLS {
        v.push(FilterCase {
            label: format!("urns [{}]", s.urn),
            json: json!({ "urns": [s.urn] }),
            pred: filter_pred,
            covered: Box::new(|_| true),
        });
    }
    for (la, _) in LAS {
        v.push(FilterCase {
            label: format!("laCode {la}"),
            json: json!({ "laCode": la }),
            pred: filter_pred,
            covered: Box::new(move |t| t.covers_la(la)),
        });
    }
    for (uid, _) in TRUSTS {
        v.push(FilterCase {
            label: format!("trustUid {uid}"),
            json: json!({ "trustUid": uid }),
            pred: filter_pred,
            covered: Box::new(move |t| t.covers_trust(uid)),
        });
    }
    v
}

/// The query rows: every field of `Query`, in and out of reach.
fn query_ops(w: &World) -> Vec<Op> {
    let mut ops = Vec::new();
    let school_sel = school_sel();

    ops.push(
        op(
            "viewer",
            "viewer".into(),
            "{ viewer { sub scopes } }",
            json!({}),
            allowed(),
        )
        .check(|t, d| {
            if t.anon() {
                same(
                    "viewer",
                    d["viewer"].clone(),
                    json!({ "sub": null, "scopes": [] }),
                )
            } else {
                same(
                    "viewer.scopes",
                    strs(d, "viewer.scopes.*"),
                    t.words.iter().cloned().collect(),
                )
            }
        }),
    );

    ops.push(
        op(
            "localAuthorities",
            "localAuthorities".into(),
            "{ localAuthorities { code name } }",
            json!({}),
            allowed(),
        )
        .check(|t, d| {
            let want: BTreeSet<i64> = LAS
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| {
                    t.admin
                        || t.read.las.contains(c)
                        || SCHOOLS.iter().any(|s| s.la == *c && t.reads(s.urn))
                })
                .map(i64::from)
                .collect();
            same("LA codes", ints(d, "localAuthorities.*.code"), want)
        }),
    );

    for urn in world_urns().into_iter().chain([NO_SCHOOL]) {
        ops.push(
            op(
                "school",
                format!("school({urn})"),
                &format!("query($u: Int!) {{ school(urn: $u) {{ {school_sel} }} }}"),
                json!({ "u": urn }),
                allow_if(move |t| urn == NO_SCHOOL || t.reads(urn)),
            )
            .check(move |_, d| {
                if urn == NO_SCHOOL {
                    return same("school", d["school"].clone(), Value::Null);
                }
                same(
                    "school.urn",
                    d["school"]["urn"].as_i64(),
                    Some(i64::from(urn)),
                )?;
                same(
                    "appointment schools",
                    ints(d, "school.sencoAppointments.*.school.urn"),
                    BTreeSet::from([i64::from(urn)]),
                )?;
                same(
                    "report schools",
                    ints(d, "school.termlyReports.*.history.*.school.urn"),
                    BTreeSet::from([i64::from(urn)]),
                )?;
                same(
                    "meetings",
                    d["school"]["governorMeetings"]["totalCount"].as_i64(),
                    Some(1),
                )?;
                same("sign-offs", at(d, "school.signOffs.*").len(), 1)
            }),
        );
    }

    for f in filter_cases() {
        let FilterCase {
            label,
            json: fj,
            pred,
            covered,
        } = f;
        let fj2 = fj.clone();
        ops.push(
            op(
                "schools",
                format!("schools({label})"),
                &format!(
                    "query($f: SchoolFilter) {{ schools(filter: $f, first: 10) {{ totalCount \
                     edges {{ node {{ {school_sel} }} }} }} }}"
                ),
                json!({ "f": fj }),
                allow_if(covered),
            )
            .check(move |t, d| {
                let want = readable_where(t, |s| pred(s, &fj2));
                same("schools", ints(d, "schools.edges.*.node.urn"), want.clone())?;
                same(
                    "schools.totalCount",
                    d["schools"]["totalCount"].as_i64(),
                    Some(want.len() as i64),
                )
            }),
        );
    }

    for p in &w.people {
        let p2 = p.clone();
        let p3 = p.clone();
        ops.push(
            op(
                "person",
                format!("person({} at {:?})", p.key, p.schools),
                &format!("query($id: ID!) {{ person(id: $id) {{ {PERSON_SEL} }} }}"),
                json!({ "id": p.id }),
                allow_if(move |t| t.reads_person(&p2)),
            )
            .check(move |_, d| {
                same(
                    "person.id",
                    d["person"]["id"].as_str(),
                    Some(p3.id.as_str()),
                )
            }),
        );
    }
    ops.push(
        op(
            "person",
            "person(no such id)".into(),
            &format!("query($id: ID!) {{ person(id: $id) {{ {PERSON_SEL} }} }}"),
            json!({ "id": NO_ID }),
            allowed(),
        )
        .check(|_, d| same("person", d["person"].clone(), Value::Null)),
    );

    for f in filter_cases() {
        let FilterCase {
            label,
            json: fj,
            pred,
            covered,
        } = f;
        if fj.get("trustUid") == Some(&json!(EMPTY_TRUST)) {
            continue;
        }
        let fj2 = fj.clone();
        ops.push(
            op(
                "qualificationDeadlines",
                format!("qualificationDeadlines({label})"),
                &format!(
                    "query($f: DeadlineFilter) {{ qualificationDeadlines(filter: $f, first: 20) \
                     {{ {DEADLINE_SEL} }} }}"
                ),
                json!({ "f": fj }),
                allow_if(covered),
            )
            .check(move |t, d| {
                // Every school has exactly one current SENCO appointment.
                let want = readable_where(t, |s| pred(s, &fj2));
                same(
                    "deadline schools",
                    ints(d, "qualificationDeadlines.edges.*.node.school.urn"),
                    want.clone(),
                )?;
                same(
                    "deadlines.totalCount",
                    d["qualificationDeadlines"]["totalCount"].as_i64(),
                    Some(want.len() as i64),
                )
            }),
        );
    }

    for urn in world_urns().into_iter().chain([NO_SCHOOL]) {
        ops.push(
            op(
                "termlyReport",
                format!("termlyReport({urn})"),
                "query($u: Int!, $y: Int!, $t: Term!) { termlyReport(schoolUrn: $u, \
                 academicYear: $y, term: $t) { version school { urn } \
                 history { version school { urn } } } }",
                json!({ "u": urn, "y": YEAR, "t": TERM }),
                allow_if(move |t| urn == NO_SCHOOL || t.reads(urn)),
            )
            .check(move |_, d| {
                if urn == NO_SCHOOL {
                    return same("termlyReport", d["termlyReport"].clone(), Value::Null);
                }
                let version = if urn == A { 2 } else { 1 };
                same(
                    "version",
                    d["termlyReport"]["version"].as_i64(),
                    Some(version),
                )?;
                same(
                    "history schools",
                    ints(d, "termlyReport.history.*.school.urn"),
                    BTreeSet::from([i64::from(urn)]),
                )?;
                same(
                    "history length",
                    at(d, "termlyReport.history.*").len() as i64,
                    version,
                )
            }),
        );
    }

    for term in [TERM, UNREPORTED_TERM] {
        for f in filter_cases() {
            let FilterCase {
                label,
                json: fj,
                pred,
                covered,
            } = f;
            if fj.get("urns").is_some() {
                continue;
            }
            let fj2 = fj.clone();
            ops.push(
                op(
                    "termlySummary",
                    format!("termlySummary({term}, {label})"),
                    "query($y: Int!, $t: Term!, $f: SchoolFilter) { termlySummary(\
                     academicYear: $y, term: $t, filter: $f) { schoolsInScope reportsSubmitted \
                     missingReports { urn } totals { reports numberOnRoll } } }",
                    json!({ "y": YEAR, "t": term, "f": fj }),
                    allow_if(covered),
                )
                .check(move |t, d| {
                    let want = readable_where(t, |s| pred(s, &fj2));
                    let n = Some(want.len() as i64);
                    let sum = &d["termlySummary"];
                    same("schoolsInScope", sum["schoolsInScope"].as_i64(), n)?;
                    if term == TERM {
                        same("reportsSubmitted", sum["reportsSubmitted"].as_i64(), n)?;
                        same(
                            "missingReports",
                            ints(d, "termlySummary.missingReports.*.urn"),
                            BTreeSet::new(),
                        )
                    } else {
                        same(
                            "reportsSubmitted",
                            sum["reportsSubmitted"].as_i64(),
                            Some(0),
                        )?;
                        same(
                            "missingReports",
                            ints(d, "termlySummary.missingReports.*.urn"),
                            want,
                        )
                    }
                }),
            );
        }
    }

    for c in &w.clusters {
        let members = c.members.clone();
        let id = c.id.clone();
        ops.push(
            op(
                "cluster",
                format!("cluster({} {:?})", c.key, c.members),
                &format!("query($id: ID!) {{ cluster(id: $id) {{ {CLUSTER_SEL} }} }}"),
                json!({ "id": c.id }),
                allow_if(move |t| t.reads_cluster(&members)),
            )
            .check(move |_, d| same("cluster.id", d["cluster"]["id"].as_str(), Some(id.as_str()))),
        );
    }
    ops.push(
        op(
            "cluster",
            "cluster(no such id)".into(),
            &format!("query($id: ID!) {{ cluster(id: $id) {{ {CLUSTER_SEL} }} }}"),
            json!({ "id": NO_ID }),
            allowed(),
        )
        .check(|_, d| same("cluster", d["cluster"].clone(), Value::Null)),
    );

    let clusters = w.clusters.clone();
    let mut cluster_filters: Vec<(String, Value, Covered)> = filter_cases()
        .into_iter()
        .map(|f| (f.label, f.json, f.covered))
        .collect();
    for c in &w.clusters {
        cluster_filters.push((
            format!("clusterId {}", c.key),
            json!({ "clusterId": c.id }),
            Box::new(|_| true),
        ));
    }
    for (label, fj, covered) in cluster_filters {
        let fj2 = fj.clone();
        let clusters = clusters.clone();
        ops.push(
            op(
                "clusters",
                format!("clusters({label})"),
                &format!(
                    "query($f: SchoolFilter) {{ clusters(filter: $f, first: 10) {{ totalCount \
                     edges {{ node {{ {CLUSTER_SEL} }} }} }} }}"
                ),
                json!({ "f": fj }),
                allow_if(covered),
            )
            .check(move |t, d| {
                let want: BTreeSet<String> = clusters
                    .iter()
                    .filter(|c| {
                        fj2.get("clusterId")
                            .is_none_or(|id| id.as_str() == Some(c.id.as_str()))
                            && c.members
                                .iter()
                                .any(|u| t.reads(*u) && filter_pred(school_def(*u).unwrap(), &fj2))
                    })
                    .map(|c| c.id.clone())
                    .collect();
                same(
                    "cluster ids",
                    strs(d, "clusters.edges.*.node.id"),
                    want.clone(),
                )?;
                same(
                    "clusters.totalCount",
                    d["clusters"]["totalCount"].as_i64(),
                    Some(want.len() as i64),
                )
            }),
        );
    }

    for f in filter_cases() {
        let FilterCase {
            label,
            json: fj,
            pred,
            covered,
        } = f;
        let fj2 = fj.clone();
        ops.push(
            op(
                "complianceIssues",
                format!("complianceIssues({label})"),
                &format!(
                    "query($f: SchoolFilter) {{ complianceIssues(filter: $f, first: 100) \
                     {{ {ISSUE_SEL} }} }}"
                ),
                json!({ "f": fj }),
                allow_if(covered),
            )
            .check(move |t, d| {
                // Every school has at least one issue (no SEN policy date was reported).
                let total = d["complianceIssues"]["totalCount"].as_i64().unwrap_or(0);
                if total > 100 {
                    return Err(format!("{total} issues do not fit one page"));
                }
                same(
                    "issue schools",
                    ints(d, "complianceIssues.edges.*.node.school.urn"),
                    readable_where(t, |s| pred(s, &fj2)),
                )
            }),
        );
    }

    let meeting_sel = meeting_sel();
    for (urn, id) in &w.meeting {
        let (urn, id2) = (*urn, id.clone());
        ops.push(
            op(
                "governorMeeting",
                format!("governorMeeting(at {urn})"),
                &format!("query($id: ID!) {{ governorMeeting(id: $id) {{ {meeting_sel} }} }}"),
                json!({ "id": id }),
                allow_if(move |t| t.reads(urn)),
            )
            .check(move |_, d| {
                same(
                    "governorMeeting.id",
                    d["governorMeeting"]["id"].as_str(),
                    Some(id2.as_str()),
                )?;
                same("actions", at(d, "governorMeeting.actions.*").len(), 1)
            }),
        );
    }
    ops.push(
        op(
            "governorMeeting",
            "governorMeeting(no such id)".into(),
            "query($id: ID!) { governorMeeting(id: $id) { id } }",
            json!({ "id": NO_ID }),
            allowed(),
        )
        .check(|_, d| same("governorMeeting", d["governorMeeting"].clone(), Value::Null)),
    );

    for urn in world_urns().into_iter().chain([NO_SCHOOL]) {
        ops.push(
            op(
                "auditLog",
                format!("auditLog({urn})"),
                &format!(
                    "query($u: Int!) {{ auditLog(schoolUrn: $u, first: 50) {{ {AUDIT_SEL} }} }}"
                ),
                json!({ "u": urn }),
                if urn == NO_SCHOOL {
                    refuse("NOT_FOUND")
                } else {
                    allow_if(move |t| t.reads(urn))
                },
            )
            .check(move |_, d| {
                let total = d["auditLog"]["totalCount"].as_i64().unwrap_or(0);
                if total == 0 {
                    return Err("the audit log is empty".into());
                }
                same(
                    "audit schoolUrn",
                    ints(d, "auditLog.edges.*.node.schoolUrn"),
                    BTreeSet::from([i64::from(urn)]),
                )
            }),
        );
    }

    ops.push(op(
        "npqCohorts",
        "npqCohorts".into(),
        "{ npqCohorts { startsOn registrationClosesOn expectedOutcomeMonths expectedOutcomeOn } }",
        json!({}),
        allowed(),
    ));
    // Webhooks are their creator's: the world's is the matrix admin token's alone.
    ops.push(
        op(
            "webhooks",
            "webhooks".into(),
            "{ webhooks(first: 10) { totalCount edges { node { id url types } } } }",
            json!({}),
            allowed(),
        )
        .check(|t, d| {
            same(
                "webhooks.totalCount",
                d["webhooks"]["totalCount"].as_i64(),
                Some(i64::from(t.admin)),
            )
        }),
    );
    ops.push(op(
        "webhooks",
        "webhooks(first: 300)".into(),
        "{ webhooks(first: 300) { totalCount } }",
        json!({}),
        refuse("BAD_USER_INPUT"),
    ));
    ops.push(
        op(
            "webhookDeliveries",
            "webhookDeliveries(the world's webhook)".into(),
            "query($w: ID!) { webhookDeliveries(webhookId: $w, first: 10) \
             { totalCount edges { node { id status attempts } } } }",
            json!({ "w": w.webhook }),
            Box::new(|t: &Tok| if t.admin { None } else { Some("NOT_FOUND") }),
        )
        .check(|_, d| {
            let n = d["webhookDeliveries"]["totalCount"].as_i64().unwrap_or(0);
            if n == 0 {
                return Err("the world's webhook has no deliveries".into());
            }
            Ok(())
        }),
    );
    ops.push(op(
        "webhookDeliveries",
        "webhookDeliveries(no such id)".into(),
        "query($w: ID!) { webhookDeliveries(webhookId: $w) { totalCount } }",
        json!({ "w": NO_ID }),
        refuse("NOT_FOUND"),
    ));

    ops
}

const APPT_SEL: &str = "id school { urn } person { id appointments { school { urn } } }";

/// The mutation rows: every field of `Mutation`, in and out of reach. Each is re-runnable
/// against one world (same values again, fresh TRNs, fresh appointments, current versions).
fn mutation_ops(w: &World) -> Vec<Op> {
    let mut ops = Vec::new();
    let school_sel = school_sel();
    let admin_only = || allow_if(|t| t.admin);

    // Policy data: the NPQ calendar is admin's alone. The cohort written is one no test
    // relies on, and the one deleted never exists, so every cell can run again.
    ops.push(
        op(
            "upsertNpqCohort",
            "upsertNpqCohort(2031)".into(),
            "mutation($i: NpqCohortInput!) { upsertNpqCohort(input: $i) { startsOn \
             expectedOutcomeOn } }",
            json!({ "i": { "startsOn": "2031-11-01", "registrationClosesOn": "2031-10-01",
                           "expectedOutcomeMonths": 22 } }),
            admin_only(),
        )
        .check(|_, d| {
            same(
                "expectedOutcomeOn",
                d["upsertNpqCohort"]["expectedOutcomeOn"].as_str(),
                Some("2033-09-01"),
            )
        }),
    );
    ops.push(op(
        "deleteNpqCohort",
        "deleteNpqCohort(none that day)".into(),
        "mutation($d: Date!) { deleteNpqCohort(startsOn: $d) }",
        json!({ "d": "2032-11-01" }),
        admin_only(),
    ));

    for (code, name) in LAS {
        ops.push(
            op(
                "upsertLocalAuthority",
                format!("upsertLocalAuthority({code})"),
                "mutation($i: LocalAuthorityInput!) { upsertLocalAuthority(input: $i) { \
                 code name } }",
                json!({ "i": { "code": code, "name": name } }),
                admin_only(),
            )
            .check(move |_, d| {
                let got = d["upsertLocalAuthority"]["code"].as_i64();
                same("code", got, Some(i64::from(code)))
            }),
        );
    }
    for (uid, name) in TRUSTS {
        ops.push(
            op(
                "upsertTrust",
                format!("upsertTrust({uid})"),
                "mutation($i: TrustInput!) { upsertTrust(input: $i) { uid name } }",
                json!({ "i": { "uid": uid, "name": name } }),
                admin_only(),
            )
            .check(move |_, d| {
                same(
                    "uid",
                    d["upsertTrust"]["uid"].as_i64(),
                    Some(i64::from(uid)),
                )
            }),
        );
    }
    for sd in &SCHOOLS {
        let urn = sd.urn;
        ops.push(
            op(
                "upsertSchool",
                format!("upsertSchool({urn})"),
                &format!(
                    "mutation($i: SchoolInput!) {{ upsertSchool(input: $i) {{ {school_sel} }} }}"
                ),
                json!({ "i": school_input(sd) }),
                admin_only(),
            )
            .check(move |_, d| {
                same(
                    "urn",
                    d["upsertSchool"]["urn"].as_i64(),
                    Some(i64::from(urn)),
                )
            }),
        );
    }

    for urn in world_urns().into_iter().chain([NO_SCHOOL]) {
        ops.push(
            op(
                "appointSenco",
                format!("appointSenco({urn})"),
                &format!(
                    "mutation($i: AppointSencoInput!) {{ appointSenco(input: $i) \
                     {{ {APPT_SEL} }} }}"
                ),
                json!({ "i": { "schoolUrn": urn, "startedOn": "2025-01-06",
                               "person": { "trn": null, "fullName": "Fresh Senco",
                                           "hasQts": true, "inductionStatus": "COMPLETED" } } }),
                if urn == NO_SCHOOL {
                    refuse("NOT_FOUND")
                } else {
                    allow_if(move |t| t.staff_writes(urn))
                },
            )
            .setup(Setup::FreshTrn)
            .check(move |_, d| {
                same(
                    "school",
                    d["appointSenco"]["school"]["urn"].as_i64(),
                    Some(i64::from(urn)),
                )?;
                same(
                    "person's schools",
                    ints(d, "appointSenco.person.appointments.*.school.urn"),
                    BTreeSet::from([i64::from(urn)]),
                )
            }),
        );
    }

    for (urn, id) in &w.appointment {
        let urn = *urn;
        ops.push(
            op(
                "updateSencoAppointment",
                format!("updateSencoAppointment(at {urn})"),
                &format!(
                    "mutation($i: UpdateSencoAppointmentInput!) {{ \
                     updateSencoAppointment(input: $i) {{ {APPT_SEL} onSeniorLeadershipTeam }} }}"
                ),
                json!({ "i": { "appointmentId": id, "onSeniorLeadershipTeam": true } }),
                allow_if(move |t| t.staff_writes(urn)),
            )
            .check(move |_, d| {
                same(
                    "school",
                    d["updateSencoAppointment"]["school"]["urn"].as_i64(),
                    Some(i64::from(urn)),
                )
            }),
        );
    }
    ops.push(op(
        "updateSencoAppointment",
        "updateSencoAppointment(no such id)".into(),
        "mutation($i: UpdateSencoAppointmentInput!) { updateSencoAppointment(input: $i) { id } }",
        json!({ "i": { "appointmentId": NO_ID, "onSeniorLeadershipTeam": true } }),
        refuse("NOT_FOUND"),
    ));

    for urn in world_urns() {
        ops.push(
            op(
                "endSencoAppointment",
                format!("endSencoAppointment(at {urn})"),
                &format!(
                    "mutation($i: EndSencoAppointmentInput!) {{ endSencoAppointment(input: $i) \
                     {{ {APPT_SEL} endedOn }} }}"
                ),
                json!({ "i": { "appointmentId": null, "endedOn": "2025-08-31" } }),
                allow_if(move |t| t.staff_writes(urn)),
            )
            .setup(Setup::FreshAppointment(urn))
            .check(|_, d| {
                same(
                    "endedOn",
                    d["endSencoAppointment"]["endedOn"].as_str(),
                    Some("2025-08-31"),
                )
            }),
        );
    }
    ops.push(op(
        "endSencoAppointment",
        "endSencoAppointment(no such id)".into(),
        "mutation($i: EndSencoAppointmentInput!) { endSencoAppointment(input: $i) { id } }",
        json!({ "i": { "appointmentId": NO_ID, "endedOn": "2025-08-31" } }),
        refuse("NOT_FOUND"),
    ));

    // Person rows: S (A and D), T (B and C), U (E).
    let person_rows: [(&'static str, &str, Value); 4] = [
        (
            "updatePerson",
            "mutation($i: UpdatePersonInput!) { updatePerson(input: $i) { id fullName \
             appointments { school { urn } } } }",
            json!({ "fullName": "<name>" }),
        ),
        (
            "addPriorSencoService",
            "mutation($i: AddPriorSencoServiceInput!) { addPriorSencoService(input: $i) { id \
             appointments { school { urn } } priorService { startedOn } } }",
            json!({ "startedOn": "2010-09-01", "endedOn": "2011-07-31", "description": "Matrix" }),
        ),
        (
            "recordQualification",
            "mutation($i: RecordQualificationInput!) { recordQualification(input: $i) { \
             id kind provider } }",
            json!({ "kind": "NPQ_SENCO", "startedOn": "2024-10-01", "provider": PROVIDER }),
        ),
        (
            "recordEvidenceCheck",
            "mutation($i: RecordEvidenceCheckInput!) { recordEvidenceCheck(input: $i) { \
             id confirms person { id appointments { school { urn } } } } }",
            json!({ "checkedOn": "2025-09-01", "source": "OTHER", "confirms": ["QTS"],
                    "note": "Matrix" }),
        ),
    ];
    for (field, q, extra) in person_rows {
        for p in &w.people {
            let mut input = extra.clone();
            input["personId"] = json!(p.id);
            if input.get("fullName").is_some() {
                input["fullName"] = json!(p.name);
            }
            let p2 = p.clone();
            ops.push(op(
                field,
                format!("{field}({} at {:?})", p.key, p.schools),
                q,
                json!({ "i": input }),
                allow_if(move |t| t.writes_person(&p2)),
            ));
        }
        let mut input = extra.clone();
        input["personId"] = json!(NO_ID);
        if input.get("fullName").is_some() {
            input["fullName"] = json!("Nobody");
        }
        ops.push(op(
            field,
            format!("{field}(no such id)"),
            q,
            json!({ "i": input }),
            refuse("NOT_FOUND"),
        ));
    }
    for p in &w.people {
        let p2 = p.clone();
        ops.push(op(
            "updateQualification",
            format!("updateQualification(of {} at {:?})", p.key, p.schools),
            "mutation($i: UpdateQualificationInput!) { updateQualification(input: $i) { \
             id provider } }",
            json!({ "i": { "qualificationId": w.qualification[p.key], "provider": PROVIDER } }),
            allow_if(move |t| t.writes_person(&p2)),
        ));
    }
    ops.push(op(
        "updateQualification",
        "updateQualification(no such id)".into(),
        "mutation($i: UpdateQualificationInput!) { updateQualification(input: $i) { id } }",
        json!({ "i": { "qualificationId": NO_ID, "provider": PROVIDER } }),
        refuse("NOT_FOUND"),
    ));

    for urn in world_urns().into_iter().chain([NO_SCHOOL]) {
        ops.push(
            op(
                "submitTermlyReport",
                format!("submitTermlyReport({urn})"),
                "mutation($i: SubmitTermlyReportInput!) { submitTermlyReport(input: $i) { \
                 version school { urn } history { version school { urn } } } }",
                json!({ "i": report_input(urn, 7) }),
                if urn == NO_SCHOOL {
                    refuse("NOT_FOUND")
                } else {
                    allow_if(move |t| t.report_writes(urn))
                },
            )
            .setup(Setup::ExpectedVersion(urn))
            .check(move |_, d| {
                same(
                    "history schools",
                    ints(d, "submitTermlyReport.history.*.school.urn"),
                    BTreeSet::from([i64::from(urn)]),
                )
            }),
        );
    }

    let senco = w.person("S").id.clone();
    for members in [[A, E], [B, C], [A, D], [C, D], [B, E]] {
        let m2 = members;
        let s_person = w.person("S").clone();
        ops.push(
            op(
                "createCluster",
                format!("createCluster({members:?})"),
                &format!(
                    "mutation($i: CreateClusterInput!) {{ createCluster(input: $i) \
                     {{ {CLUSTER_SEL} }} }}"
                ),
                json!({ "i": { "name": "Matrix cluster", "sencoPersonId": senco,
                               "memberUrns": members, "startedOn": "2025-01-06" } }),
                // The SENCO must be someone the writer may already see: naming a
                // cluster's SENCO must not reveal a stranger's record.
                Box::new(move |t: &Tok| {
                    if !t.writes_cluster(&m2) {
                        Some("FORBIDDEN")
                    } else if !t.reads_person(&s_person) {
                        Some("BAD_USER_INPUT")
                    } else {
                        None
                    }
                }),
            )
            .check(move |_, d| {
                same(
                    "members",
                    ints(d, "createCluster.members.*.urn"),
                    m2.iter().map(|u| i64::from(*u)).collect(),
                )
            }),
        );
    }
    // A member that does not exist is NOT_FOUND (as an unknown school is everywhere), once
    // the caller has shown it may write the real one listed before it.
    ops.push(op(
        "createCluster",
        format!("createCluster([{A}, {NO_SCHOOL}])"),
        "mutation($i: CreateClusterInput!) { createCluster(input: $i) { id } }",
        json!({ "i": { "name": "Matrix cluster", "sencoPersonId": senco,
                       "memberUrns": [A, NO_SCHOOL], "startedOn": "2025-01-06" } }),
        Box::new(|t| {
            if t.cluster_writes(A) {
                Some("NOT_FOUND")
            } else {
                Some("FORBIDDEN")
            }
        }),
    ));

    for c in &w.clusters {
        let m = c.members.clone();
        ops.push(op(
            "updateCluster",
            format!("updateCluster({} {:?})", c.key, c.members),
            &format!(
                "mutation($i: UpdateClusterInput!) {{ updateCluster(input: $i) \
                 {{ {CLUSTER_SEL} }} }}"
            ),
            json!({ "i": { "clusterId": c.id, "name": c.name } }),
            allow_if(move |t| t.writes_cluster(&m)),
        ));
        let m = c.members.clone();
        ops.push(op(
            "recordClusterReview",
            format!("recordClusterReview({} {:?})", c.key, c.members),
            &format!(
                "mutation($i: RecordClusterReviewInput!) {{ recordClusterReview(input: $i) \
                 {{ {CLUSTER_SEL} }} }}"
            ),
            json!({ "i": { "clusterId": c.id, "reviewedOn": "2025-06-01" } }),
            allow_if(move |t| t.writes_cluster(&m)),
        ));
    }
    ops.push(op(
        "updateCluster",
        "updateCluster(no such id)".into(),
        "mutation($i: UpdateClusterInput!) { updateCluster(input: $i) { id } }",
        json!({ "i": { "clusterId": NO_ID, "name": "Nothing" } }),
        refuse("NOT_FOUND"),
    ));
    ops.push(op(
        "recordClusterReview",
        "recordClusterReview(no such id)".into(),
        "mutation($i: RecordClusterReviewInput!) { recordClusterReview(input: $i) { id } }",
        json!({ "i": { "clusterId": NO_ID, "reviewedOn": "2025-06-01" } }),
        refuse("NOT_FOUND"),
    ));

    let meeting_sel = meeting_sel();
    for urn in world_urns().into_iter().chain([NO_SCHOOL]) {
        let rule = |f: fn(&Tok, i32) -> bool| -> Rule {
            if urn == NO_SCHOOL {
                refuse("NOT_FOUND")
            } else {
                allow_if(move |t| f(t, urn))
            }
        };
        ops.push(
            op(
                "recordGovernorMeeting",
                format!("recordGovernorMeeting({urn})"),
                &format!(
                    "mutation($i: RecordGovernorMeetingInput!) {{ recordGovernorMeeting(input: $i) \
                     {{ {meeting_sel} }} }}"
                ),
                json!({ "i": meeting_input(urn) }),
                rule(Tok::governance_writes),
            )
            .check(move |_, d| {
                same(
                    "school",
                    d["recordGovernorMeeting"]["school"]["urn"].as_i64(),
                    Some(i64::from(urn)),
                )
            }),
        );
        let meeting = w.meeting.get(&urn).cloned().unwrap_or_else(|| NO_ID.into());
        ops.push(op(
            "addGovernanceAction",
            format!("addGovernanceAction({urn})"),
            &format!(
                "mutation($i: AddGovernanceActionInput!) {{ addGovernanceAction(input: $i) \
                 {{ {ACTION_SEL} }} }}"
            ),
            json!({ "i": action_input(urn, &meeting) }),
            rule(Tok::governance_writes),
        ));
        ops.push(op(
            "signOffDocument",
            format!("signOffDocument({urn})"),
            "mutation($i: SignOffDocumentInput!) { signOffDocument(input: $i) { id \
             school { urn } document reportVersion current statement } }",
            json!({ "i": sign_off_input(urn) }),
            rule(Tok::signs_off),
        ));
    }
    for (urn, id) in &w.meeting {
        let urn = *urn;
        ops.push(op(
            "updateGovernorMeeting",
            format!("updateGovernorMeeting(at {urn})"),
            &format!(
                "mutation($i: UpdateGovernorMeetingInput!) {{ updateGovernorMeeting(input: $i) \
                 {{ {meeting_sel} nextMeetingOn }} }}"
            ),
            json!({ "i": { "meetingId": id, "nextMeetingOn": "2025-02-10" } }),
            allow_if(move |t| t.governance_writes(urn)),
        ));
    }
    for (urn, id) in &w.action {
        let urn = *urn;
        ops.push(op(
            "updateGovernanceAction",
            format!("updateGovernanceAction(at {urn})"),
            &format!(
                "mutation($i: UpdateGovernanceActionInput!) {{ updateGovernanceAction(input: $i) \
                 {{ {ACTION_SEL} completedOn }} }}"
            ),
            json!({ "i": { "actionId": id, "status": "DONE", "completedOn": "2025-01-10" } }),
            allow_if(move |t| t.governance_writes(urn)),
        ));
    }
    ops.push(op(
        "updateGovernorMeeting",
        "updateGovernorMeeting(no such id)".into(),
        "mutation($i: UpdateGovernorMeetingInput!) { updateGovernorMeeting(input: $i) { id } }",
        json!({ "i": { "meetingId": NO_ID, "nextMeetingOn": "2025-02-10" } }),
        refuse("NOT_FOUND"),
    ));
    ops.push(op(
        "updateGovernanceAction",
        "updateGovernanceAction(no such id)".into(),
        "mutation($i: UpdateGovernanceActionInput!) { updateGovernanceAction(input: $i) { id } }",
        json!({ "i": { "actionId": NO_ID, "status": "DONE" } }),
        refuse("NOT_FOUND"),
    ));
    // Any write scope, or admin, registers a webhook (SPEC 4.11); a webhook is seen and
    // changed by its creator alone (admin: every one), others get NOT_FOUND.
    let writer = |t: &Tok| {
        t.admin || !t.write.urns.is_empty() || !t.write.las.is_empty() || !t.write.trusts.is_empty()
    };
    let owner = || Box::new(|t: &Tok| if t.admin { None } else { Some("NOT_FOUND") }) as Rule;
    ops.push(op(
        "createWebhook",
        "createWebhook".into(),
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id url } } }",
        json!({ "i": { "url": MATRIX_HOOK, "types": ["CLUSTER_REVIEW_DUE"] } }),
        allow_if(writer),
    ));
    ops.push(op(
        "createWebhook",
        "createWebhook(ftp://)".into(),
        "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
        json!({ "i": { "url": "ftp://127.0.0.1/matrix" } }),
        Box::new(move |t: &Tok| {
            if writer(t) {
                Some("BAD_USER_INPUT")
            } else {
                Some("FORBIDDEN")
            }
        }),
    ));
    ops.push(op(
        "updateWebhook",
        "updateWebhook(the world's webhook)".into(),
        "mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { id description } }",
        json!({ "i": { "id": w.webhook, "description": "Matrix receiver" } }),
        owner(),
    ));
    ops.push(op(
        "updateWebhook",
        "updateWebhook(no such id)".into(),
        "mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { id } }",
        json!({ "i": { "id": NO_ID, "description": "Nothing" } }),
        refuse("NOT_FOUND"),
    ));
    ops.push(op(
        "redeliverWebhookEvent",
        "redeliverWebhookEvent(the world's delivery)".into(),
        "mutation($d: ID!) { redeliverWebhookEvent(deliveryId: $d) { id status } }",
        json!({ "d": w.delivery }),
        owner(),
    ));
    ops.push(op(
        "redeliverWebhookEvent",
        "redeliverWebhookEvent(no such id)".into(),
        "mutation($d: ID!) { redeliverWebhookEvent(deliveryId: $d) { id } }",
        json!({ "d": NO_ID }),
        refuse("NOT_FOUND"),
    ));
    ops.push(op(
        "deleteWebhook",
        "deleteWebhook(no such id)".into(),
        "mutation($id: ID!) { deleteWebhook(id: $id) }",
        json!({ "id": NO_ID }),
        refuse("NOT_FOUND"),
    ));
    // Last: the world's webhook is gone after it.
    ops.push(op(
        "deleteWebhook",
        "deleteWebhook(the world's webhook)".into(),
        "mutation($id: ID!) { deleteWebhook(id: $id) }",
        json!({ "id": w.webhook }),
        owner(),
    ));

    ops
}

// ---------------------------------------------------------------------------------------
// The schema's fields
// ---------------------------------------------------------------------------------------

/// The field names of `type {name}` in `schema.graphql`, skipping descriptions and arguments.
fn schema_fields(name: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo_root().join("schema.graphql")).unwrap();
    let header = format!("type {name} {{");
    let mut lines = text.lines().skip_while(|l| l.trim() != header);
    assert!(lines.next().is_some(), "schema.graphql has no `{header}`");
    let mut out = BTreeSet::new();
    let mut in_description = false;
    let mut parens = 0_i32;
    for line in lines {
        let t = line.trim();
        if t.starts_with("\"\"\"") {
            let one_line = t.len() >= 6 && t.ends_with("\"\"\"");
            if !one_line {
                in_description = !in_description;
            }
            continue;
        }
        if in_description {
            continue;
        }
        if parens == 0 && t == "}" {
            break;
        }
        if parens == 0 {
            let ident: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                out.insert(ident);
            }
        }
        parens += t.matches('(').count() as i32 - t.matches(')').count() as i32;
    }
    assert!(!out.is_empty(), "no fields parsed from `type {name}`");
    out
}

fn assert_covers(kind: &str, ops: &[Op]) {
    let schema = schema_fields(kind);
    let table: BTreeSet<String> = ops.iter().map(|o| o.field.to_owned()).collect();
    let missing: Vec<&String> = schema.difference(&table).collect();
    let unknown: Vec<&String> = table.difference(&schema).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "the scope matrix must have rows for every {kind} field of schema.graphql: \
         missing {missing:?}, not in the schema {unknown:?}"
    );
}

#[test]
fn matrix_covers_the_schema() {
    let w = World::placeholder();
    let queries = query_ops(&w);
    let mutations = mutation_ops(&w);
    assert_covers("Query", &queries);
    assert_covers("Mutation", &mutations);
    assert!(schema_fields("Query").contains("viewer"));
    assert!(schema_fields("Mutation").contains("submitTermlyReport"));
    // Every field with a target is both allowed and refused somewhere among the signed-in
    // tokens, so each has rows in and out of some token's reach.
    let toks: Vec<Tok> = tokens().into_iter().filter(|t| !t.anon()).collect();
    for ops in [&queries, &mutations] {
        let mut by_field: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for o in ops.iter() {
            for t in &toks {
                let e = by_field.entry(o.field).or_default();
                if (o.rule)(t).is_none() {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
        }
        for (field, (ok, refused)) in by_field {
            assert!(ok > 0, "{field}: no cell is allowed");
            // Public to every signed-in caller: the caller and policy data.
            if !["viewer", "localAuthorities", "npqCohorts"].contains(&field) {
                assert!(refused > 0, "{field}: no cell is out of reach");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running cells
// ---------------------------------------------------------------------------------------

static FRESH: AtomicU32 = AtomicU32::new(0);

fn fresh_trn() -> String {
    format!("{:07}", 7_100_000 + FRESH.fetch_add(1, Ordering::Relaxed))
}

async fn apply_setup(s: &TestServer, setup: Setup, vars: &mut Value) {
    match setup {
        Setup::None => {}
        Setup::FreshTrn => {
            let trn = fresh_trn();
            vars["i"]["person"]["trn"] = json!(trn);
            vars["i"]["person"]["fullName"] = json!(format!("Fresh Senco {trn}"));
        }
        Setup::FreshAppointment(urn) => {
            let trn = fresh_trn();
            let d = s
                .ok(
                    &admin(),
                    APPOINT_ID,
                    json!({ "i": {
                        "schoolUrn": urn, "startedOn": "2024-09-02",
                        "person": { "trn": trn, "fullName": format!("Leaver {trn}"),
                                    "hasQts": true, "inductionStatus": "COMPLETED" }
                    } }),
                )
                .await;
            vars["i"]["appointmentId"] = d["appointSenco"]["id"].clone();
        }
        Setup::ExpectedVersion(urn) => {
            let d = s
                .ok(
                    &admin(),
                    "query($u: Int!, $y: Int!, $t: Term!) { termlyReport(schoolUrn: $u, \
                     academicYear: $y, term: $t) { version } }",
                    json!({ "u": urn, "y": YEAR, "t": TERM }),
                )
                .await;
            if let Some(v) = d["termlyReport"]["version"].as_i64() {
                vars["i"]["expectedVersion"] = json!(v);
            }
        }
    }
}

/// World URNs named anywhere in `v`: as numbers, and as six-digit runs inside strings
/// (which covers JSON held in strings, such as audit `before`/`after`); a run after a `.`
/// is a fraction of a second, not a URN.
fn urns_in(v: &Value, all: &BTreeSet<i32>, out: &mut BTreeSet<i32>) {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64().and_then(|i| i32::try_from(i).ok())
                && all.contains(&i)
            {
                out.insert(i);
            }
        }
        Value::String(s) => {
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i].is_ascii_digit() {
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let after_dot = start > 0 && b[start - 1] == b'.';
                    if i - start == 6
                        && !after_dot
                        && let Ok(u) = s[start..i].parse::<i32>()
                        && all.contains(&u)
                    {
                        out.insert(u);
                    }
                } else {
                    i += 1;
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| urns_in(x, all, out)),
        Value::Object(o) => o.values().for_each(|x| urns_in(x, all, out)),
        _ => {}
    }
}

/// Every object under `key` anywhere in `v`, with the key it was found under.
fn objects<'a>(v: &'a Value, key: Option<&str>, out: &mut Vec<(Option<String>, &'a Value)>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| objects(x, key, out)),
        Value::Object(o) => {
            out.push((key.map(str::to_owned), v));
            for (k, x) in o {
                objects(x, Some(k), out);
            }
        }
        _ => {}
    }
}

/// The walks every successful response gets.
fn generic_checks(w: &World, t: &Tok, data: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let reach = t.reach();
    let mut found = BTreeSet::new();
    urns_in(data, &world_urns(), &mut found);
    let leaked: Vec<i32> = found.difference(&reach).copied().collect();
    if !leaked.is_empty() {
        problems.push(format!(
            "LEAK: URNs out of reach {leaked:?} appear in the response (reach {reach:?})"
        ));
    }
    // Governance text, wherever it appears (audit rows' JSON included), only for tokens
    // that may read it.
    let text = data.to_string();
    for urn in world_urns() {
        if text.contains(&gov_text(urn, "")) && !t.reads_governance_text(urn) {
            problems.push(format!(
                "LEAK: governance text of school {urn} reaches a token that may not read it"
            ));
        }
    }
    let mut objs = Vec::new();
    objects(data, None, &mut objs);
    for (key, o) in objs {
        let id = o.get("id").and_then(Value::as_str);
        // People shown under `person`/`senco`, or with their `appointments`, must be people
        // the token may read with `person(id)`, and show exactly their readable appointments.
        let is_person = matches!(
            key.as_deref(),
            Some("person" | "senco" | "updatePerson" | "addPriorSencoService")
        ) || o.get("appointments").is_some();
        if is_person && let Some(p) = id.and_then(|i| w.person_by_id(i)) {
            if !t.reads_person(p) {
                problems.push(format!(
                    "PERSON: person {} (appointed at {:?} only) is shown, but person(id) \
                     would be FORBIDDEN to this token",
                    p.key, p.schools
                ));
            }
            if let Some(appts) = o.get("appointments").and_then(Value::as_array)
                && appts.iter().all(|a| a["school"]["urn"].is_i64())
            {
                let got: BTreeSet<i64> = appts
                    .iter()
                    .filter_map(|a| a["school"]["urn"].as_i64())
                    .collect();
                let want: BTreeSet<i64> = p
                    .schools
                    .iter()
                    .filter(|u| t.reads(**u))
                    .map(|u| i64::from(*u))
                    .collect();
                if got != want {
                    problems.push(format!(
                        "person {} appointments at {got:?}, want the readable {want:?}",
                        p.key
                    ));
                }
            }
        }
        // A meeting or action shows its text exactly when the token may read it.
        let school = o["school"]["urn"]
            .as_i64()
            .and_then(|u| i32::try_from(u).ok());
        if let Some(urn) = school {
            let visible = t.reads_governance_text(urn);
            let mut texts: Vec<(&str, &Value)> = Vec::new();
            if let Some(attendees) = o.get("attendees").and_then(Value::as_array) {
                texts.extend(attendees.iter().map(|a| ("attendees.name", &a["name"])));
            }
            if let Some(items) = o.get("items").and_then(Value::as_array) {
                texts.extend(items.iter().map(|i| ("items.keyPoints", &i["keyPoints"])));
            }
            if o.get("owner").is_some() {
                for f in ["description", "successCriteria", "monitoring", "evaluation"] {
                    if let Some(v) = o.get(f) {
                        texts.push((f, v));
                    }
                }
            }
            for (field, v) in texts {
                if v.is_string() != visible {
                    problems.push(format!(
                        "GOVERNANCE TEXT: {field} of school {urn} is {v}, but the token {} \
                         read its governance text",
                        if visible { "may" } else { "may not" }
                    ));
                }
            }
        }
        if let (Some(members), Some(c)) = (
            o.get("members").and_then(Value::as_array),
            id.and_then(|i| w.cluster_by_id(i)),
        ) {
            let got: BTreeSet<i64> = members.iter().filter_map(|m| m["urn"].as_i64()).collect();
            let want: BTreeSet<i64> = c
                .members
                .iter()
                .filter(|u| t.reads(**u))
                .map(|u| i64::from(*u))
                .collect();
            if got != want {
                problems.push(format!(
                    "cluster {} members {got:?}, want the readable {want:?}",
                    c.key
                ));
            }
        }
    }
    problems
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 600 {
        format!("{}...", &s[..s.floor_char_boundary(600)])
    } else {
        s
    }
}

/// What a refused write must leave as it was, read straight from the database: the rows of
/// every table, and the columns the matrix's re-runnable writes would change.
async fn write_snapshot(s: &TestServer) -> Vec<(String, i64)> {
    use sea_orm::{ConnectionTrait, Statement};
    let counts = [
        ("audit", "SELECT COUNT(*) FROM audit_event"),
        ("la", "SELECT COUNT(*) FROM local_authority"),
        ("trust", "SELECT COUNT(*) FROM trust"),
        ("school", "SELECT COUNT(*) FROM school"),
        ("person", "SELECT COUNT(*) FROM person"),
        ("appointment", "SELECT COUNT(*) FROM senco_appointment"),
        (
            "ended",
            "SELECT COUNT(*) FROM senco_appointment WHERE ended_on IS NOT NULL",
        ),
        (
            "slt",
            "SELECT COUNT(*) FROM senco_appointment WHERE on_senior_leadership_team",
        ),
        ("prior", "SELECT COUNT(*) FROM prior_senco_service"),
        ("qualification", "SELECT COUNT(*) FROM qualification"),
        ("report", "SELECT COUNT(*) FROM termly_report"),
        ("cluster", "SELECT COUNT(*) FROM cluster"),
        (
            "reviewed",
            "SELECT COUNT(*) FROM cluster WHERE last_reviewed_on IS NOT NULL",
        ),
        ("member", "SELECT COUNT(*) FROM cluster_member"),
        ("cohort", "SELECT COUNT(*) FROM npq_cohort"),
        ("evidence", "SELECT COUNT(*) FROM evidence_check"),
        ("meeting", "SELECT COUNT(*) FROM governor_meeting"),
        (
            "next_meeting",
            "SELECT COUNT(*) FROM governor_meeting WHERE next_meeting_on IS NOT NULL",
        ),
        ("action", "SELECT COUNT(*) FROM governance_action"),
        (
            "action_done",
            "SELECT COUNT(*) FROM governance_action WHERE status = 'DONE'",
        ),
        ("sign_off", "SELECT COUNT(*) FROM governance_sign_off"),
    ];
    let sql = format!(
        "SELECT {}",
        counts
            .iter()
            .map(|(name, q)| format!("CAST(({q}) AS BIGINT) AS {name}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let conn = &s.state.db.conn;
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    counts
        .iter()
        .map(|(name, _)| ((*name).to_owned(), row.try_get::<i64>("", name).unwrap()))
        .collect()
}

/// Runs one cell; `Err` describes every way it differs from the SPEC. With `guard`, a
/// refused cell must also have written nothing.
async fn run_cell(s: &TestServer, w: &World, t: &Tok, o: &Op, guard: bool) -> Result<bool, String> {
    let mut vars = o.vars.clone();
    apply_setup(s, o.setup, &mut vars).await;
    let before = if guard {
        Some(write_snapshot(s).await)
    } else {
        None
    };
    let (status, body) = s.post(t.jwt.as_deref(), &o.query, vars).await;
    let expected = if t.anon() && o.field != "viewer" {
        Some("UNAUTHENTICATED")
    } else {
        (o.rule)(t)
    };
    let fail = |why: String| {
        Err(format!(
            "[{}] {}: {why}; body {}",
            t.label,
            o.label,
            short(&body)
        ))
    };
    if status != 200 {
        return fail(format!("HTTP {status}"));
    }
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    if errors
        .iter()
        .any(|e| e["extensions"]["code"] == "INTERNAL_SERVER_ERROR")
    {
        return fail("INTERNAL_SERVER_ERROR".into());
    }
    match expected {
        None => {
            if !errors.is_empty() {
                return fail("expected success".into());
            }
            let data = &body["data"];
            let mut problems = generic_checks(w, t, data);
            if let Err(e) = (o.check)(t, data) {
                problems.push(e);
            }
            if problems.is_empty() {
                Ok(true)
            } else {
                fail(problems.join("; "))
            }
        }
        Some(code) => {
            let got = errors
                .first()
                .and_then(|e| e["extensions"]["code"].as_str())
                .unwrap_or("<no error>");
            if got != code {
                return fail(format!("expected {code}, got {got}"));
            }
            if !body["data"].is_null() && !body["data"][o.field].is_null() {
                return fail(format!("refused with {code} but data.{} is set", o.field));
            }
            if let Some(before) = before {
                let after = write_snapshot(s).await;
                if after != before {
                    return fail(format!(
                        "PARTIAL WRITE: refused with {code} but the stored rows changed from \
                         {before:?} to {after:?}"
                    ));
                }
            }
            Ok(false)
        }
    }
}

/// One cell's result: `Ok(true)` allowed, `Ok(false)` refused as the SPEC says, `Err` a
/// difference.
struct Cell {
    tok: String,
    field: &'static str,
    result: Result<bool, String>,
}

/// Prints the matrix (one row per field, one column per token: `A` every target allowed,
/// `-` every target refused, `+` some of each, `X` a cell that differs from the SPEC) and
/// fails with every differing cell.
fn report(kind: &str, toks: &[Tok], cells: Vec<Cell>, started: Instant) {
    let mut grid: BTreeMap<&str, BTreeMap<&str, (usize, usize, usize)>> = BTreeMap::new();
    for c in &cells {
        let e = grid
            .entry(c.field)
            .or_default()
            .entry(c.tok.as_str())
            .or_default();
        match c.result {
            Ok(true) => e.0 += 1,
            Ok(false) => e.1 += 1,
            Err(_) => e.2 += 1,
        }
    }
    println!("\nscope matrix ({kind}); columns:");
    for (i, t) in toks.iter().enumerate() {
        println!("  {i:>2} {}", t.label);
    }
    let header: String = (0..toks.len()).map(|i| format!("{i:>3}")).collect();
    println!("  {:<24}{header}", "");
    for (field, row) in &grid {
        let line: String = toks
            .iter()
            .map(|t| {
                let symbol = match row.get(t.label.as_str()).copied().unwrap_or_default() {
                    (_, _, x) if x > 0 => "X",
                    (a, 0, _) if a > 0 => "A",
                    (0, r, _) if r > 0 => "-",
                    (a, r, _) if a > 0 && r > 0 => "+",
                    _ => " ",
                };
                format!("{symbol:>3}")
            })
            .collect();
        println!("  {field:<24}{line}");
    }
    let allowed = cells
        .iter()
        .filter(|c| matches!(c.result, Ok(true)))
        .count();
    let mut failures: Vec<String> = cells
        .iter()
        .filter_map(|c| c.result.as_ref().err().cloned())
        .collect();
    failures.sort();
    println!(
        "scope matrix ({kind}): {} cells, {allowed} allowed, {} failures, {:.1?}",
        cells.len(),
        failures.len(),
        started.elapsed()
    );
    // One line per (field, kind of problem), then every failing cell.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for f in &failures {
        let field = f
            .split("] ")
            .nth(1)
            .and_then(|r| r.split('(').next())
            .unwrap_or("?");
        let kind = [
            "LEAK",
            "PERSON",
            "GOVERNANCE TEXT",
            "PARTIAL WRITE",
            "INTERNAL",
            "expected",
        ]
        .into_iter()
        .find(|k| f.contains(k))
        .unwrap_or("other");
        *kinds.entry(format!("{field}: {kind}")).or_default() += 1;
    }
    assert!(
        failures.is_empty(),
        "{} {kind} cells differ from the SPEC.\nBy field and problem: {kinds:#?}\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every query field, every token, one world (reads change nothing).
#[tokio::test]
async fn every_token_reads_only_what_it_may() {
    let started = Instant::now();
    let s = TestServer::start_with(MATRIX_ENV).await;
    let t0 = Instant::now();
    let w = build_world(&s).await;
    println!("world built in {:.1?}", t0.elapsed());
    let ops = query_ops(&w);
    assert_covers("Query", &ops);
    let toks = tokens();
    let cells: Vec<Cell> =
        futures::stream::iter(toks.iter().flat_map(|t| ops.iter().map(move |o| (t, o))))
            .map(|(t, o)| {
                let (s, w) = (&s, &w);
                async move {
                    Cell {
                        tok: t.label.clone(),
                        field: o.field,
                        result: run_cell(s, w, t, o, false).await,
                    }
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
    report("queries", &toks, cells, started);
}

/// Every mutation field, every token, each token kind on a fresh world of its own; a refused
/// write must also leave every table as it was.
#[tokio::test]
async fn every_token_writes_only_where_it_may() {
    let started = Instant::now();
    let toks = tokens();
    let per_token: Vec<Vec<Cell>> = futures::stream::iter(toks.iter())
        .map(|t| async move {
            let s = TestServer::start_with(MATRIX_ENV).await;
            let w = build_world(&s).await;
            let ops = mutation_ops(&w);
            assert_covers("Mutation", &ops);
            let mut cells = Vec::new();
            for o in &ops {
                cells.push(Cell {
                    tok: t.label.clone(),
                    field: o.field,
                    result: run_cell(&s, &w, t, o, true).await,
                });
            }
            s.stop().await;
            cells
        })
        .buffer_unordered(4)
        .collect()
        .await;
    report(
        "mutations",
        &toks,
        per_token.into_iter().flatten().collect(),
        started,
    );
}
