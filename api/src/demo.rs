//! The demo data set and the development secret, for the embedded default start.
//!
//! The demo loads real census rows for a few London LAs through the same import code as
//! `import-census`, then adds a fictional trust spanning two LAs so that every kind of
//! token has something to see.

use std::net::SocketAddr;
use std::time::Duration;

use entity::{school, trust};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::config::{Config, Secret};
use crate::db::Db;
use crate::error::ApiResult;
use crate::import::census;

/// The census file the product carries (Open Government Licence v3.0; see data/README.md).
pub const CENSUS_CSV: &[u8] = include_bytes!("../../data/england_census_performance_tables.csv");
/// The GIAS sample the product carries.
pub const GIAS_SAMPLE_CSV: &[u8] = include_bytes!("../../data/gias_edubase_sample_2018.csv");

/// LAs whose census rows the demo loads: City of London, Camden and Greenwich.
pub const DEMO_LAS: [i32; 3] = [201, 202, 203];
/// The demo trust's UID (fictional trust, real schools).
pub const DEMO_TRUST_UID: i32 = 2044;

/// Whether the database holds no school yet.
pub async fn is_empty(db: &Db) -> ApiResult<bool> {
    Ok(school::Entity::find().count(&db.conn).await? == 0)
}

/// Loads the demo data set. Idempotent.
pub async fn seed(db: &Db) -> anyhow::Result<()> {
    let text = crate::import::text::decode(CENSUS_CSV);
    let (rows, _) = census::parse(&text);
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| DEMO_LAS.contains(&r.la_code))
        .collect();
    let quiet = |_: u64, _: u64| {};
    crate::service::imports::census_rows(db, rows, Vec::new(), &quiet)
        .await
        .map_err(|e| anyhow::anyhow!("demo census load failed: {e:?}"))?;
    let (rows, rejected) =
        crate::import::gias::parse(GIAS_SAMPLE_CSV).map_err(anyhow::Error::msg)?;
    crate::service::imports::gias_rows(db, rows, rejected, &quiet)
        .await
        .map_err(|e| anyhow::anyhow!("demo GIAS load failed: {e:?}"))?;
    seed_trust(db)
        .await
        .map_err(|e| anyhow::anyhow!("demo trust failed: {e:?}"))?;
    Ok(())
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
    if config.graphiql {
        println!("  GraphiQL:  http://{addr}/graphiql");
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
    println!("Example tokens (valid 8 hours); paste one into GraphiQL's headers as");
    println!("  {{\"Authorization\": \"Bearer <token>\"}}");
    for (label, sub, scope) in [
        (
            "LA 202 (Camden) SEND team",
            "camden-send-team",
            "la:202:read".to_string(),
        ),
        (
            "Trust 2044 reporting",
            "trust-2044-reports",
            format!("trust:{DEMO_TRUST_UID}:read"),
        ),
        (
            "School front end",
            "school-front-end",
            format!("school:{school}:write"),
        ),
    ] {
        let token = crate::auth::issue_token(config, secret, sub, &scope, ttl)?;
        println!("\n  {label} ({scope}):\n  {token}");
    }
    println!(
        "\nTry: {{ schools(filter: {{laCode: 202}}, first: 5) {{ totalCount edges {{ node {{ urn name phase }} }} }} }}"
    );
    println!(
        "More tokens (from the clone): cargo run --release -- token --sub NAME --scope \"la:202:write\" --ttl 8h\n"
    );
    Ok(())
}
