//! The demo data set and the development secret, for the embedded default start.
//!
//! The demo is a working LA, not an empty shell: the real schools and rolls of three London
//! LAs (Camden, Greenwich and Hackney) from the census file the product carries, loaded
//! through the same import code as `import-census`, with the benchmark's generator
//! (`dataset`) adding what an LA would have recorded: SENCO histories (every qualification
//! status among them), six terms of termly reports (a few missing, some amended, some
//! overspent) and shared-SENCO clusters (some sound, some not). A fictional trust spans two
//! of the LAs so that every kind of token has something to see. The census has no school
//! names: schools are called, for example, "Primary school 100008 (Camden)" until a GIAS
//! import gives them their real names (the one demo school in the GIAS sample has its own).

use std::net::SocketAddr;
use std::time::Duration;

use entity::{person, school, trust};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::config::{Config, Secret};
use crate::db::Db;
use crate::error::ApiResult;

/// The census file the product carries (Open Government Licence v3.0; see data/README.md).
pub const CENSUS_CSV: &[u8] = include_bytes!("../../data/england_census_performance_tables.csv");
/// The GIAS sample the product carries.
pub const GIAS_SAMPLE_CSV: &[u8] = include_bytes!("../../data/gias_edubase_sample_2018.csv");

/// LAs whose census rows the demo loads: Camden, Greenwich and Hackney.
pub const DEMO_LAS: [i32; 3] = [202, 203, 204];
/// The LA the demo's LA tokens are for (Camden).
pub const DEMO_LA: i32 = 202;
/// The demo trust's UID (fictional trust, real schools).
pub const DEMO_TRUST_UID: i32 = 2044;
/// Terms of termly reports the demo holds, ending with the latest that fell due.
const DEMO_TERMS: usize = 6;

/// Whether the database holds no school yet.
pub async fn is_empty(db: &Db) -> ApiResult<bool> {
    Ok(school::Entity::find().count(&db.conn).await? == 0)
}

/// Loads the demo data set into a migrated database. A database that already holds SENCO
/// data is left as it is (the demo is generated with its own row ids), so running it twice
/// changes nothing.
pub async fn seed(db: &Db) -> anyhow::Result<Seeded> {
    if person::Entity::find().count(&db.conn).await? > 0 {
        return Ok(Seeded::AlreadyThere);
    }
    let plan = crate::dataset::Plan {
        las: Some(DEMO_LAS.to_vec()),
        terms: DEMO_TERMS,
        submitted_by: "demo-seed",
        sound_first_cluster: true,
        vacuum: false,
    };
    let today = crate::graphql::today();
    let built = crate::dataset::build(db, CENSUS_CSV, &plan, today, &|m| {
        tracing::debug!("demo: {}", m.trim())
    })
    .await?;
    let (rows, rejected) =
        crate::import::gias::parse(GIAS_SAMPLE_CSV).map_err(anyhow::Error::msg)?;
    let rows = rows
        .into_iter()
        .filter(|r| DEMO_LAS.contains(&r.la_code))
        .collect();
    let quiet = |_: u64, _: u64| {};
    crate::service::imports::gias_rows(db, rows, rejected, &quiet)
        .await
        .map_err(|e| anyhow::anyhow!("demo GIAS load failed: {e:?}"))?;
    seed_trust(db)
        .await
        .map_err(|e| anyhow::anyhow!("demo trust failed: {e:?}"))?;
    let school = demo_school_urn(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if let Some(urn) = school {
        recent_appointment(db, urn, today)
            .await
            .map_err(|e| anyhow::anyhow!("demo appointment failed: {e:?}"))?;
        governance(db, urn, today)
            .await
            .map_err(|e| anyhow::anyhow!("demo governance failed: {e:?}"))?;
    }
    Ok(Seeded::Built(built.counts))
}

/// What `seed` did.
#[derive(Debug)]
pub enum Seeded {
    /// The data set was built: rows per table.
    Built(Vec<(&'static str, u64)>),
    /// The database already held SENCO data; nothing was added.
    AlreadyThere,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Built(counts) => {
                let rows: Vec<String> = counts.iter().map(|(t, n)| format!("{t} {n}")).collect();
                write!(f, "demo data loaded: {}", rows.join(", "))
            }
            Self::AlreadyThere => {
                write!(
                    f,
                    "the database already holds SENCO data: demo data not loaded"
                )
            }
        }
    }
}

/// A fictional trust with four primaries in Camden and three in Greenwich.
async fn seed_trust(db: &Db) -> ApiResult<()> {
    let w = db.begin_write().await?;
    if trust::Entity::find_by_id(DEMO_TRUST_UID)
        .one(w.txn())
        .await?
        .is_none()
    {
        trust::Model {
            uid: DEMO_TRUST_UID,
            name: "Thames Bridge Academy Trust (demo)".into(),
        }
        .into_active_model()
        .insert(w.txn())
        .await?;
    }
    for (la, n) in [(202, 4), (203, 3)] {
        let members = school::Entity::find()
            .filter(school::Column::LaCode.eq(la))
            .filter(school::Column::Kind.eq(crate::domain::school::SchoolKind::Mainstream.as_str()))
            .filter(school::Column::Phase.eq("PRIMARY"))
            .order_by_asc(school::Column::Urn)
            .all(w.txn())
            .await?;
        for s in members.into_iter().rev().take(n) {
            if s.trust_uid != Some(DEMO_TRUST_UID) {
                let mut am = s.into_active_model();
                am.trust_uid = Set(Some(DEMO_TRUST_UID));
                am.is_academy = Set(true);
                am.update(w.txn()).await?;
            }
        }
    }
    w.commit(crate::freshness::Touched::Staff).await
}

/// A second SENCO at the demo school, appointed two months ago through the same use case
/// as `appointSenco`, who has not started the NPQ: with the illustrative calendar only one
/// open cohort still finishes before their deadline, so they show `AT_RISK` with the date to
/// register by (the generated histories rarely land in that window).
async fn recent_appointment(db: &Db, urn: i32, today: chrono::NaiveDate) -> ApiResult<()> {
    use crate::domain::eligibility::InductionStatus;
    use crate::store::sencos::{NewAppointment, NewPerson};
    let seeder = crate::auth::Principal::from_claims("demo-seed".into(), Some("admin".into()));
    let input = NewAppointment {
        school_urn: crate::domain::school::Urn(urn),
        person: NewPerson {
            trn: Some("1900001".into()),
            full_name: "Alex Morgan".into(),
            email: None,
            has_qts: true,
            induction_status: InductionStatus::Completed,
        },
        started_on: today - chrono::Duration::days(60),
        is_headteacher: false,
        works_as_teacher_at_school: true,
        on_senior_leadership_team: true,
        non_contact_hours_per_week: Some(5.0),
        class_teaching_fraction: Some(0.3),
    };
    crate::service::sencos::appoint(db, &seeder, input).await?;
    Ok(())
}

/// The demo school's governing body at work, through the same use cases as the API: two
/// SENCO-governor meetings with actions (one done, one overdue, one carried forward to the
/// second meeting, one due), the latest due termly report signed off (current), and a SEN
/// information report signed off under a date the school has since replaced (stale).
async fn governance(db: &Db, urn: i32, today: chrono::NaiveDate) -> ApiResult<()> {
    use crate::domain::governance::{
        ActionStatus, AgendaItem, Attendee, GovernanceDocument, STANDARD_STATEMENT, SignOffRole,
    };
    use crate::domain::school::Urn;
    use crate::domain::terms::AcademicTerm;
    use crate::service::governance as g;
    use crate::store::governance::{NewAction, NewMeeting, NewSignOff};
    let days = |n: i64| today - chrono::Duration::days(n);
    let governor = crate::auth::Principal::from_claims(
        "demo-governor".into(),
        Some(format!("school:{urn}:govern")),
    );
    let people = || {
        vec![
            Attendee {
                name: "Sam Okafor".into(),
                role: "SENCO".into(),
            },
            Attendee {
                name: "Ruth Clarke".into(),
                role: "SEN governor".into(),
            },
        ]
    };
    let item = |title: &str, points: &str| AgendaItem {
        title: title.into(),
        key_points: Some(points.into()),
    };
    let first = g::record_meeting(
        db,
        &governor,
        NewMeeting {
            school_urn: Urn(urn),
            held_on: days(150),
            next_meeting_on: Some(days(40)),
            attendees: people(),
            items: vec![
                item(
                    "Termly report",
                    "Pupils with SEND up on last year; the EHC plan applications are waiting on educational psychology.",
                ),
                item("SEN information report", "Due for its annual review."),
            ],
            actions: Vec::new(),
        },
        today,
    )
    .await?;
    let action =
        |meeting: Option<i64>, what: &str, owner: &str, due: i64, done: Option<i64>| NewAction {
            school_urn: Urn(urn),
            meeting_id: meeting,
            area: Some("SEN provision".into()),
            description: what.into(),
            owner: owner.into(),
            due_on: days(due),
            status: if done.is_some() {
                ActionStatus::Done
            } else {
                ActionStatus::Open
            },
            completed_on: done.map(days),
            cost_pence: 0,
            time_hours: 2.0,
            success_criteria: Some("Agreed at the next meeting".into()),
            monitoring: Some("SEN governor".into()),
            evaluation: None,
        };
    for a in [
        action(
            Some(first.id),
            "Update the provision map",
            "SENCO",
            120,
            Some(125),
        ),
        action(
            Some(first.id),
            "Arrange training on speech and language needs for teaching assistants",
            "SENCO",
            60,
            None,
        ),
    ] {
        g::add_action(db, &governor, a, today).await?;
    }
    let second = g::record_meeting(
        db,
        &governor,
        NewMeeting {
            school_urn: Urn(urn),
            held_on: days(40),
            next_meeting_on: Some(days(-50)),
            attendees: people(),
            items: vec![item("Termly report", "Signed off; budget on track.")],
            actions: Vec::new(),
        },
        today,
    )
    .await?;
    g::add_action(
        db,
        &governor,
        action(
            Some(second.id),
            "Review the SEN policy with staff",
            "Headteacher",
            -30,
            None,
        ),
        today,
    )
    .await?;
    let due = AcademicTerm::latest_due_by(today);
    let sign = |document, term, version, date| NewSignOff {
        school_urn: Urn(urn),
        document,
        term,
        report_version: version,
        document_date: date,
        signed_on: days(35),
        signed_by: "Ruth Clarke".into(),
        role: SignOffRole::SenGovernor,
        statement: STANDARD_STATEMENT.into(),
    };
    let only = crate::store::schools::SchoolQuery {
        urns: Some(vec![Urn(urn)]),
        ..Default::default()
    };
    let latest =
        crate::store::reports::latest_for_term(&db.conn, &governor, due, &only, None, 1).await?;
    if let Some((report, _)) = latest.first() {
        g::sign_off(
            db,
            &governor,
            sign(
                GovernanceDocument::TermlyReport,
                Some(due),
                Some(report.version),
                None,
            ),
        )
        .await?;
        if let Some(published) = report.sen_information_report_published_on {
            let older = published - chrono::Duration::days(365);
            g::sign_off(
                db,
                &governor,
                sign(
                    GovernanceDocument::SenInformationReport,
                    None,
                    None,
                    Some(older),
                ),
            )
            .await?;
        }
    }
    Ok(())
}

/// A school the demo school token can write: the first state primary in Camden.
pub async fn demo_school_urn(db: &Db) -> ApiResult<Option<i32>> {
    Ok(school::Entity::find()
        .filter(school::Column::LaCode.eq(202))
        .filter(school::Column::Kind.eq(crate::domain::school::SchoolKind::Mainstream.as_str()))
        .order_by_asc(school::Column::Urn)
        .one(&db.conn)
        .await?
        .map(|s| s.urn))
}

/// Prints the GraphiQL address and example tokens to stdout (the one place the binary
/// prints rather than logs: this is for the person at the terminal).
pub async fn print_banner(
    config: &Config,
    db: &Db,
    secret: Option<&Secret>,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    println!();
    println!("SENCO Oversight is running (demo mode).");
    println!("  Console:   http://{addr}/");
    if config.graphiql {
        println!("  GraphiQL:  http://{addr}/graphiql  (add #token=<token> to sign it in)");
    }
    println!("  GraphQL:   http://{addr}/graphql");
    let Some(secret) = secret else {
        println!("  (a verification key is configured: get tokens from your identity provider)");
        return Ok(());
    };
    let ttl = Duration::from_secs(8 * 3600);
    let school = demo_school_urn(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .unwrap_or(100000);
    println!("Example tokens (valid 8 hours). Each link opens the console signed in with it; or");
    println!("send the token yourself as the header  Authorization: Bearer <token>");
    for role in roles(school) {
        let token = crate::auth::issue_token(config, secret, role.sub, &role.scope, ttl)?;
        println!("\n  {} ({}):\n  {token}", role.label, role.scope);
        println!("  http://{addr}/#token={token}");
    }
    println!(
        "\nTry: {{ qualificationDeadlines(filter: {{laCode: {DEMO_LA}}}, first: 5) {{ totalCount statusCounts {{ status count }} edges {{ node {{ deadline status school {{ name }} }} }} }} }}"
    );
    println!(
        "More tokens (from the clone): cargo run --release -- token --sub NAME --scope \"la:202:write\" --ttl 8h\n"
    );
    Ok(())
}

/// A kind of user the banner prints a token for.
struct Role {
    label: &'static str,
    sub: &'static str,
    scope: String,
}

/// The users of SPEC section 1 that the demo has data for, with `school` as the school.
fn roles(school: i32) -> Vec<Role> {
    vec![
        Role {
            label: "LA 202 (Camden) SEND team dashboard",
            sub: "camden-send-team",
            scope: format!("la:{DEMO_LA}:read"),
        },
        Role {
            label: "LA 202 (Camden) SEND officer, who also records SENCOs and clusters",
            sub: "camden-send-officer",
            scope: format!("la:{DEMO_LA}:write"),
        },
        Role {
            label: "Trust 2044 reporting",
            sub: "trust-2044-reports",
            scope: format!("trust:{DEMO_TRUST_UID}:read"),
        },
        Role {
            label: "A school's own front end",
            sub: "school-front-end",
            scope: format!("school:{school}:write"),
        },
        Role {
            label: "The school's SEN governor",
            sub: "sen-governor",
            scope: format!("school:{school}:govern"),
        },
    ]
}
