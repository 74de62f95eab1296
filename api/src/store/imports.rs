//! The SQL of the DfE imports: idempotent upserts of LAs, trusts, schools, census
//! snapshots and predecessor links, each inside the caller's transaction. Batching,
//! transactions and the summary belong to `service::imports`.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use entity::{local_authority, school, school_census, trust};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use crate::error::ApiResult;
use crate::store::duty;

/// Creates the LAs of `wanted` (code, name) that do not exist yet.
pub async fn ensure_las<C: ConnectionTrait>(
    db: &C,
    wanted: &BTreeMap<i32, String>,
) -> ApiResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let existing: HashMap<i32, local_authority::Model> = local_authority::Entity::find()
        .filter(local_authority::Column::Code.is_in(wanted.keys().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code, m))
        .collect();
    let new: Vec<local_authority::ActiveModel> = wanted
        .iter()
        .filter(|(code, _)| !existing.contains_key(code))
        .map(|(code, name)| {
            local_authority::Model {
                code: *code,
                name: name.clone(),
            }
            .into_active_model()
        })
        .collect();
    if !new.is_empty() {
        local_authority::Entity::insert_many(new).exec(db).await?;
    }
    Ok(())
}

/// Creates or renames the trusts of `trusts` (UID, name).
pub async fn upsert_trusts<C: ConnectionTrait>(
    db: &C,
    trusts: &BTreeMap<i32, String>,
) -> ApiResult<()> {
    for (uid, name) in trusts {
        let model = trust::Model {
            uid: *uid,
            name: name.clone(),
        };
        match trust::Entity::find_by_id(*uid).one(db).await? {
            Some(old) if old == model => {}
            Some(_) => {
                let am = model.into_active_model().reset_all();
                am.update(db).await?;
            }
            None => {
                model.into_active_model().insert(db).await?;
            }
        }
    }
    Ok(())
}

/// How many rows an upsert inserted, updated and left unchanged.
#[derive(Debug, Default, Clone, Copy)]
pub struct Upserted {
    /// Rows created.
    pub inserted: u64,
    /// Rows changed.
    pub updated: u64,
    /// Rows already as given.
    pub unchanged: u64,
}

/// Inserts new schools and updates changed ones, `merge` deciding which fields of the
/// stored row the new one replaces. A school whose kind changes moves the duty facts of
/// everyone appointed there, which are kept in the same transaction.
pub async fn upsert_schools<C: ConnectionTrait>(
    db: &C,
    rows: Vec<school::Model>,
    merge: impl Fn(&school::Model, &school::Model) -> school::Model,
) -> ApiResult<Upserted> {
    let existing: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Urn.is_in(rows.iter().map(|r| r.urn)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.urn, m))
        .collect();
    let mut n = Upserted::default();
    let mut new = Vec::new();
    let mut kind_changed = Vec::new();
    for row in rows {
        match existing.get(&row.urn) {
            None => new.push(row.into_active_model()),
            Some(old) => {
                let merged = merge(old, &row);
                if &merged == old {
                    n.unchanged += 1;
                } else {
                    if merged.kind != old.kind {
                        kind_changed.push(old.urn);
                    }
                    let am = merged.into_active_model().reset_all();
                    am.update(db).await?;
                    n.updated += 1;
                }
            }
        }
    }
    if !new.is_empty() {
        n.inserted = new.len() as u64;
        school::Entity::insert_many(new).exec(db).await?;
    }
    if !kind_changed.is_empty() {
        let people = duty::people_at_schools(db, &kind_changed).await?;
        duty::refresh_people(db, &people).await?;
    }
    Ok(n)
}

/// One school's census counts on a collection day.
pub struct CensusCounts {
    /// The school.
    pub urn: i32,
    /// Pupils on roll.
    pub number_on_roll: Option<i32>,
    /// Pupils with an EHC plan.
    pub ehcp: Option<i32>,
    /// Pupils on SEN support.
    pub sen_support: Option<i32>,
}

/// Stores (or replaces) the census snapshots of `collected_on`.
pub async fn upsert_census<C: ConnectionTrait>(
    db: &C,
    collected_on: NaiveDate,
    rows: &[CensusCounts],
) -> ApiResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let snapshots = rows.iter().map(|r| school_census::ActiveModel {
        school_urn: Set(r.urn),
        collected_on: Set(collected_on),
        number_on_roll: Set(r.number_on_roll),
        ehcp: Set(r.ehcp),
        sen_support: Set(r.sen_support),
    });
    school_census::Entity::insert_many(snapshots)
        .on_conflict(
            OnConflict::columns([
                school_census::Column::SchoolUrn,
                school_census::Column::CollectedOn,
            ])
            .update_columns([
                school_census::Column::NumberOnRoll,
                school_census::Column::Ehcp,
                school_census::Column::SenSupport,
            ])
            .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// What became of one predecessor link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// The successor is not loaded.
    NoSuccessor,
    /// The link was already stored.
    Unchanged,
    /// The successor had no predecessor and now has one.
    Inserted,
    /// The successor's predecessor was replaced.
    Updated,
}

/// Sets each successor's predecessor (`(successor, predecessor)` pairs), saying what
/// became of each pair, in order.
pub async fn set_predecessors<C: ConnectionTrait>(
    db: &C,
    pairs: &[(i32, i32)],
) -> ApiResult<Vec<Linked>> {
    let existing: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Urn.is_in(pairs.iter().map(|p| p.0)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.urn, m))
        .collect();
    let mut out = Vec::with_capacity(pairs.len());
    for (successor, predecessor) in pairs {
        out.push(match existing.get(successor) {
            None => Linked::NoSuccessor,
            Some(s) if s.predecessor_urn == Some(*predecessor) => Linked::Unchanged,
            Some(s) => {
                let mut am = s.clone().into_active_model();
                am.predecessor_urn = Set(Some(*predecessor));
                am.update(db).await?;
                if s.predecessor_urn.is_none() {
                    Linked::Inserted
                } else {
                    Linked::Updated
                }
            }
        });
    }
    Ok(out)
}

/// One finished import, as `import_run` keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Which file kind (`census`, `GIAS`, `GIAS links`).
    pub file: &'static str,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows that created a record.
    pub inserted: u64,
    /// Rows that changed one.
    pub updated: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Rows skipped.
    pub skipped: u64,
}

/// Notes a finished import.
pub async fn record_run<C: ConnectionTrait>(db: &C, run: Run) -> ApiResult<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    entity::import_run::ActiveModel {
        file: Set(run.file.to_string()),
        finished_at: Set(chrono::Utc::now()),
        rows_read: Set(n(run.rows_read)),
        inserted: Set(n(run.inserted)),
        updated: Set(n(run.updated)),
        unchanged: Set(n(run.unchanged)),
        skipped: Set(n(run.skipped)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Every import so far, by file kind: runs, the rows of each outcome, and when the last one
/// finished (seconds since 1970).
#[derive(Debug, Clone, PartialEq, sea_orm::FromQueryResult)]
pub struct RunTotals {
    /// Which file kind.
    pub file: String,
    /// Imports finished.
    pub runs: i64,
    /// Rows read, inserted, updated, unchanged and skipped over all of them.
    pub rows_read: i64,
    /// See `rows_read`.
    pub inserted: i64,
    /// See `rows_read`.
    pub updated: i64,
    /// See `rows_read`.
    pub unchanged: i64,
    /// See `rows_read`.
    pub skipped: i64,
    /// When the latest finished.
    pub last_finished_at: chrono::DateTime<chrono::Utc>,
}

/// [`RunTotals`] for each file kind imported so far.
pub async fn run_totals<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<RunTotals>> {
    use sea_orm::{FromQueryResult, Statement};
    // PostgreSQL sums BIGINTs as NUMERIC: cast back so that one decoding serves both.
    let sql = "SELECT file, COUNT(*) AS runs, \
               CAST(SUM(rows_read) AS BIGINT) AS rows_read, \
               CAST(SUM(inserted) AS BIGINT) AS inserted, \
               CAST(SUM(updated) AS BIGINT) AS updated, \
               CAST(SUM(unchanged) AS BIGINT) AS unchanged, \
               CAST(SUM(skipped) AS BIGINT) AS skipped, \
               MAX(finished_at) AS last_finished_at \
               FROM import_run GROUP BY file ORDER BY file";
    let stmt = Statement::from_string(db.get_database_backend(), sql);
    Ok(RunTotals::find_by_statement(stmt).all(db).await?)
}
