//! Loading parsed DfE files into the database: idempotent upserts in batches, one
//! transaction per batch, so a failure never leaves half a batch written.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use entity::{local_authority, school, school_census, trust};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::import::{Rejected, census, gias, la_codes, links};
use crate::store::{audit, duty};

/// Rows per transaction.
pub const BATCH: usize = 500;

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Which file kind.
    pub what: &'static str,
    /// Rows read (data lines).
    pub rows: u64,
    /// Schools (or links) created.
    pub inserted: u64,
    /// Schools (or links) changed.
    pub updated: u64,
    /// Rows that changed nothing.
    pub unchanged: u64,
    /// Rows skipped, with their line numbers and reasons.
    pub skipped: Vec<Rejected>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} rows read: {} inserted, {} updated, {} unchanged, {} skipped",
            self.what,
            self.rows,
            self.inserted,
            self.updated,
            self.unchanged,
            self.skipped.len()
        )?;
        let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &self.skipped {
            *reasons.entry(r.reason.as_str()).or_default() += 1;
        }
        for (reason, n) in &reasons {
            writeln!(f, "  skipped {n} x {reason}")?;
        }
        for r in self.skipped.iter().filter(|r| r.line > 0).take(20) {
            writeln!(f, "  line {}: {}", r.line, r.reason)?;
        }
        let with_lines = self.skipped.iter().filter(|r| r.line > 0).count();
        if with_lines > 20 {
            writeln!(f, "  ... and {} more", with_lines - 20)?;
        }
        Ok(())
    }
}

/// Reports progress: `(rows done, rows in all)`.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

async fn ensure_las<C: ConnectionTrait>(db: &C, wanted: &BTreeMap<i32, String>) -> ApiResult<()> {
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

/// Inserts new schools and updates changed ones; returns (inserted, updated, unchanged).
/// A school whose kind changes moves the duty facts of everyone appointed there, which are
/// kept in the same transaction.
async fn upsert_schools<C: ConnectionTrait>(
    db: &C,
    rows: Vec<school::Model>,
    merge: impl Fn(&school::Model, &school::Model) -> school::Model,
) -> ApiResult<(u64, u64, u64)> {
    let existing: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Urn.is_in(rows.iter().map(|r| r.urn)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.urn, m))
        .collect();
    let (mut inserted, mut updated, mut unchanged) = (0, 0, 0);
    let mut new = Vec::new();
    let mut kind_changed = Vec::new();
    for row in rows {
        match existing.get(&row.urn) {
            None => new.push(row.into_active_model()),
            Some(old) => {
                let merged = merge(old, &row);
                if &merged == old {
                    unchanged += 1;
                } else {
                    if merged.kind != old.kind {
                        kind_changed.push(old.urn);
                    }
                    let am = merged.into_active_model().reset_all();
                    am.update(db).await?;
                    updated += 1;
                }
            }
        }
    }
    if !new.is_empty() {
        inserted = new.len() as u64;
        school::Entity::insert_many(new).exec(db).await?;
    }
    if !kind_changed.is_empty() {
        let people = duty::people_at_schools(db, &kind_changed).await?;
        duty::refresh_people(db, &people).await?;
    }
    Ok((inserted, updated, unchanged))
}

/// Loads census rows (already parsed). LAs come from the LA code list the product carries.
pub async fn census_rows(
    db: &Db,
    rows: Vec<census::CensusRow>,
    mut skipped: Vec<Rejected>,
    progress: Progress<'_>,
) -> ApiResult<Summary> {
    let la_names: HashMap<i32, String> = la_codes::embedded()
        .into_iter()
        .map(|l| (l.code, l.name))
        .collect();
    let collected_on = census::collected_on();
    let mut summary = Summary {
        what: "census",
        rows: (rows.len() + skipped.len()) as u64,
        ..Summary::default()
    };
    let total = rows.len() as u64;
    let mut done = 0;
    let mut good = Vec::with_capacity(rows.len());
    for row in rows {
        if la_names.contains_key(&row.la_code) {
            good.push(row);
        } else {
            skipped.push(Rejected {
                line: row.line,
                reason: format!("LA code {} is not in the LA code list", row.la_code),
            });
        }
    }
    for batch in good.chunks(BATCH) {
        let w = db.begin_write().await?;
        let las: BTreeMap<i32, String> = batch
            .iter()
            .map(|r| {
                (
                    r.la_code,
                    la_names.get(&r.la_code).cloned().unwrap_or_default(),
                )
            })
            .collect();
        ensure_las(w.txn(), &las).await?;
        let schools: Vec<school::Model> = batch
            .iter()
            .map(|r| school::Model {
                urn: r.urn,
                name: census::made_up_name(
                    r.urn,
                    las.get(&r.la_code).map(String::as_str).unwrap_or(""),
                    r.kind,
                    r.phase,
                ),
                la_code: r.la_code,
                trust_uid: None,
                phase: r.phase.to_string(),
                kind: r.kind.to_string(),
                is_academy: r.is_academy,
                number_on_roll: r.number_on_roll,
                predecessor_urn: None,
                closed_on: None,
            })
            .collect();
        // Each source owns its fields, so that loading the files again in any order changes
        // nothing: the census owns the number on roll (it is the count GIAS republishes);
        // GIAS, the register of establishments, owns name, LA, type, phase, trust and
        // closure, so a school already on record keeps those.
        let (i, u, n) = upsert_schools(w.txn(), schools, |old, new| school::Model {
            number_on_roll: new.number_on_roll,
            ..old.clone()
        })
        .await?;
        let snapshots: Vec<school_census::ActiveModel> = batch
            .iter()
            .map(|r| school_census::ActiveModel {
                school_urn: Set(r.urn),
                collected_on: Set(collected_on),
                number_on_roll: Set(r.number_on_roll),
                ehcp: Set(r.ehcp),
                sen_support: Set(r.sen_support),
            })
            .collect();
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
            .exec(w.txn())
            .await?;
        import_marker(w.txn(), "import-census", batch.len()).await?;
        w.commit(Touched::Staff).await?;
        summary.inserted += i;
        summary.updated += u;
        summary.unchanged += n;
        done += batch.len() as u64;
        progress(done, total);
    }
    skipped.sort_by_key(|r| r.line);
    summary.skipped = skipped;
    Ok(summary)
}

/// Loads GIAS establishment rows: names, kinds, phases, academy flags, trusts, closures.
pub async fn gias_rows(
    db: &Db,
    rows: Vec<gias::GiasRow>,
    mut skipped: Vec<Rejected>,
    progress: Progress<'_>,
) -> ApiResult<Summary> {
    let la_names: HashMap<i32, String> = la_codes::embedded()
        .into_iter()
        .map(|l| (l.code, l.name))
        .collect();
    let mut summary = Summary {
        what: "gias",
        rows: (rows.len() + skipped.len()) as u64,
        ..Summary::default()
    };
    let total = rows.len() as u64;
    let mut done = 0;
    for batch in rows.chunks(BATCH) {
        let w = db.begin_write().await?;
        let las: BTreeMap<i32, String> = batch
            .iter()
            .map(|r| {
                let name = la_names
                    .get(&r.la_code)
                    .cloned()
                    .or_else(|| r.la_name.clone())
                    .unwrap_or_else(|| format!("LA {}", r.la_code));
                (r.la_code, name)
            })
            .collect();
        ensure_las(w.txn(), &las).await?;
        let trusts: BTreeMap<i32, String> = batch.iter().filter_map(|r| r.trust.clone()).collect();
        for (uid, name) in &trusts {
            let model = trust::Model {
                uid: *uid,
                name: name.clone(),
            };
            match trust::Entity::find_by_id(*uid).one(w.txn()).await? {
                Some(old) if old == model => {}
                Some(_) => {
                    let am = model.into_active_model().reset_all();
                    am.update(w.txn()).await?;
                }
                None => {
                    model.into_active_model().insert(w.txn()).await?;
                }
            }
        }
        let schools: Vec<school::Model> = batch
            .iter()
            .map(|r| school::Model {
                urn: r.urn,
                name: r.name.clone(),
                la_code: r.la_code,
                trust_uid: r.trust.as_ref().map(|t| t.0),
                phase: r.phase.to_string(),
                kind: r.kind.to_string(),
                is_academy: r.is_academy,
                number_on_roll: r.number_on_roll,
                predecessor_urn: None,
                closed_on: r.closed_on,
            })
            .collect();
        // GIAS owns everything but the predecessor link (which the links file supplies).
        let (i, u, n) = upsert_schools(w.txn(), schools, |old, new| school::Model {
            predecessor_urn: old.predecessor_urn,
            // The census's count wins where there is one (see `census_rows`).
            number_on_roll: old.number_on_roll.or(new.number_on_roll),
            ..new.clone()
        })
        .await?;
        import_marker(w.txn(), "import-gias", batch.len()).await?;
        w.commit(Touched::Staff).await?;
        summary.inserted += i;
        summary.updated += u;
        summary.unchanged += n;
        done += batch.len() as u64;
        progress(done, total);
    }
    skipped.sort_by_key(|r| r.line);
    summary.skipped = skipped;
    Ok(summary)
}

/// Loads predecessor links: each successor school gets its (latest) predecessor's URN.
pub async fn link_rows(
    db: &Db,
    rows: Vec<links::LinkRow>,
    skipped: Vec<Rejected>,
    progress: Progress<'_>,
) -> ApiResult<Summary> {
    let mut summary = Summary {
        what: "gias-links",
        rows: (rows.len() + skipped.len()) as u64,
        skipped,
        ..Summary::default()
    };
    // A school formed by a merger has several predecessors; the one linked most recently
    // is kept (the schema holds one), and the others are counted as skipped.
    let mut best: BTreeMap<i32, (i32, Option<chrono::NaiveDate>)> = BTreeMap::new();
    for (successor, predecessor, on) in links::predecessor_pairs(&rows) {
        if successor == predecessor {
            continue;
        }
        let entry = best.entry(successor).or_insert((predecessor, on));
        if on > entry.1 || (on == entry.1 && predecessor > entry.0) {
            *entry = (predecessor, on);
        }
    }
    let pairs: Vec<(i32, i32)> = best.into_iter().map(|(s, (p, _))| (s, p)).collect();
    let total = pairs.len() as u64;
    let mut done = 0;
    for batch in pairs.chunks(BATCH) {
        let w = db.begin_write().await?;
        let existing: HashMap<i32, school::Model> = school::Entity::find()
            .filter(school::Column::Urn.is_in(batch.iter().map(|p| p.0)))
            .all(w.txn())
            .await?
            .into_iter()
            .map(|m| (m.urn, m))
            .collect();
        for (successor, predecessor) in batch {
            match existing.get(successor) {
                None => summary.skipped.push(Rejected {
                    line: 0,
                    reason: "the successor school is not loaded".into(),
                }),
                Some(s) if s.predecessor_urn == Some(*predecessor) => summary.unchanged += 1,
                Some(s) => {
                    let mut am = s.clone().into_active_model();
                    am.predecessor_urn = Set(Some(*predecessor));
                    am.update(w.txn()).await?;
                    if s.predecessor_urn.is_none() {
                        summary.inserted += 1;
                    } else {
                        summary.updated += 1;
                    }
                }
            }
        }
        import_marker(w.txn(), "import-gias-links", batch.len()).await?;
        w.commit(Touched::Staff).await?;
        done += batch.len() as u64;
        progress(done, total);
    }
    Ok(summary)
}

/// Records an import batch in the audit log, in the batch's transaction: the log shows
/// when reference data changed in bulk (the batch's commit moves the `staff` counter, so
/// that cached answers computed before the import are not served after it).
async fn import_marker<C: ConnectionTrait>(db: &C, operation: &str, rows: usize) -> ApiResult<()> {
    #[derive(serde::Serialize)]
    struct Batch {
        rows: usize,
    }
    let system = crate::auth::Principal::from_claims("import".into(), None);
    audit::record(
        db,
        &system,
        audit::Change::<(), Batch> {
            operation,
            school_urn: None,
            entity: "import",
            row_id: "-".into(),
            before: None,
            after: Some(&Batch { rows }),
        },
    )
    .await
}
