//! Loading parsed DfE files (SPEC 4.1): the census, GIAS establishments and GIAS links, in
//! batches of [`BATCH`] rows, one write transaction each, so a failure never leaves half a
//! batch written; each batch is one audit row (as the system principal `import`) and moves
//! the `staff` counter, so answers computed before it are not served after it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use entity::school;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::import::{Rejected, census, gias, la_codes, links};
use crate::store::audit::Journal;
use crate::store::imports::{self as sql, CensusCounts, Linked};

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

impl Summary {
    fn with_skipped(mut self, mut skipped: Vec<Rejected>) -> Self {
        skipped.sort_by_key(|r| r.line);
        self.skipped = skipped;
        self
    }

    fn add(&mut self, n: sql::Upserted) {
        self.inserted += n.inserted;
        self.updated += n.updated;
        self.unchanged += n.unchanged;
    }
}

/// Notes a finished import in `import_run` (what `/metrics` reports) and returns its summary.
async fn finished(db: &Db, summary: Summary) -> ApiResult<Summary> {
    let run = sql::Run {
        file: summary.what,
        rows_read: summary.rows,
        inserted: summary.inserted,
        updated: summary.updated,
        unchanged: summary.unchanged,
        skipped: summary.skipped.len() as u64,
    };
    let w = db.begin_write().await?;
    sql::record_run(w.txn(), run).await?;
    w.commit(Touched::Nothing).await?;
    Ok(summary)
}

/// Runs one batch of `operation` in its own write transaction, recorded as one audit row.
async fn batch<T>(
    db: &Db,
    operation: &str,
    rows: usize,
    write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> ApiResult<T>,
) -> ApiResult<T> {
    #[derive(serde::Serialize)]
    struct Batch {
        rows: usize,
    }
    let system = Principal::from_claims("import".into(), None);
    super::write(
        db,
        &system,
        operation,
        Touched::Staff,
        async |txn, log: &mut Journal| {
            let out = write(txn).await?;
            log.inserted("import", "-", &[], &Batch { rows })?;
            Ok(out)
        },
    )
    .await
}

fn la_names() -> HashMap<i32, String> {
    la_codes::embedded()
        .into_iter()
        .map(|l| (l.code, l.name))
        .collect()
}

/// Loads census rows (already parsed). LAs come from the LA code list the product carries.
pub async fn census_rows(
    db: &Db,
    rows: Vec<census::CensusRow>,
    mut skipped: Vec<Rejected>,
    progress: Progress<'_>,
) -> ApiResult<Summary> {
    let la_names = la_names();
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
    for rows in good.chunks(BATCH) {
        let las: BTreeMap<i32, String> = rows
            .iter()
            .map(|r| {
                (
                    r.la_code,
                    la_names.get(&r.la_code).cloned().unwrap_or_default(),
                )
            })
            .collect();
        let schools: Vec<school::Model> = rows
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
        let counts: Vec<CensusCounts> = rows
            .iter()
            .map(|r| CensusCounts {
                urn: r.urn,
                number_on_roll: r.number_on_roll,
                ehcp: r.ehcp,
                sen_support: r.sen_support,
            })
            .collect();
        let n = batch(db, "import-census", rows.len(), async |txn| {
            sql::ensure_las(txn, &las).await?;
            // Each source owns its fields, so that loading the files again in any order
            // changes nothing: the census owns the number on roll (it is the count GIAS
            // republishes); GIAS, the register of establishments, owns name, LA, type,
            // phase, trust and closure, so a school already on record keeps those.
            let n = sql::upsert_schools(txn, schools, |old, new| school::Model {
                number_on_roll: new.number_on_roll,
                ..old.clone()
            })
            .await?;
            sql::upsert_census(txn, collected_on, &counts).await?;
            Ok(n)
        })
        .await?;
        summary.add(n);
        done += rows.len() as u64;
        progress(done, total);
    }
    finished(db, summary.with_skipped(skipped)).await
}

/// Loads GIAS establishment rows: names, kinds, phases, academy flags, trusts, closures.
pub async fn gias_rows(
    db: &Db,
    rows: Vec<gias::GiasRow>,
    skipped: Vec<Rejected>,
    progress: Progress<'_>,
) -> ApiResult<Summary> {
    let la_names = la_names();
    let mut summary = Summary {
        what: "gias",
        rows: (rows.len() + skipped.len()) as u64,
        ..Summary::default()
    };
    let total = rows.len() as u64;
    let mut done = 0;
    for rows in rows.chunks(BATCH) {
        let las: BTreeMap<i32, String> = rows
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
        let trusts: BTreeMap<i32, String> = rows.iter().filter_map(|r| r.trust.clone()).collect();
        let schools: Vec<school::Model> = rows
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
        let n = batch(db, "import-gias", rows.len(), async |txn| {
            sql::ensure_las(txn, &las).await?;
            sql::upsert_trusts(txn, &trusts).await?;
            // GIAS owns everything but the predecessor link (which the links file supplies).
            sql::upsert_schools(txn, schools, |old, new| school::Model {
                predecessor_urn: old.predecessor_urn,
                // The census's count wins where there is one (see `census_rows`).
                number_on_roll: old.number_on_roll.or(new.number_on_roll),
                ..new.clone()
            })
            .await
        })
        .await?;
        summary.add(n);
        done += rows.len() as u64;
        progress(done, total);
    }
    finished(db, summary.with_skipped(skipped)).await
}

/// Loads predecessor links: each successor school gets its (latest) predecessor's URN.
/// Every row is accounted for: the row that first states a kept succession is inserted,
/// updated or unchanged (or skipped when the successor is not loaded); every other row is
/// skipped with its reason (not a succession, the other side of one already counted, a
/// succession the file states both ways, an older predecessor than the one kept).
pub async fn link_rows(
    db: &Db,
    rows: Vec<links::LinkRow>,
    skipped: Vec<Rejected>,
    progress: Progress<'_>,
) -> ApiResult<Summary> {
    let mut summary = Summary {
        what: "gias-links",
        rows: (rows.len() + skipped.len()) as u64,
        ..Summary::default()
    };
    let mut skipped = skipped;
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
    let contradictory: std::collections::BTreeSet<(i32, i32)> =
        links::contradictions(&rows).into_iter().collect();
    // The row that first states each kept succession stands for it; the rest are skipped.
    let mut first_line: HashMap<(i32, i32), u64> = HashMap::new();
    for row in &rows {
        let skip = |reason: &str| Rejected {
            line: row.line,
            reason: reason.to_string(),
        };
        let Some((successor, predecessor)) = links::succession(row) else {
            skipped.push(skip(
                "the link is not a succession (predecessor or successor)",
            ));
            continue;
        };
        if successor == predecessor
            || contradictory.contains(&(successor.min(predecessor), successor.max(predecessor)))
        {
            skipped.push(skip("the file states this succession both ways"));
            continue;
        }
        if best.get(&successor).map(|b| b.0) != Some(predecessor) {
            skipped.push(skip(
                "the successor has a more recently linked predecessor, which is kept",
            ));
            continue;
        }
        if first_line.contains_key(&(successor, predecessor)) {
            skipped.push(skip("the other side of a succession already counted"));
            continue;
        }
        first_line.insert((successor, predecessor), row.line);
    }
    let pairs: Vec<(i32, i32)> = best.into_iter().map(|(s, (p, _))| (s, p)).collect();
    let total = pairs.len() as u64;
    let mut done = 0;
    for pairs in pairs.chunks(BATCH) {
        let outcomes = batch(db, "import-gias-links", pairs.len(), async |txn| {
            sql::set_predecessors(txn, pairs).await
        })
        .await?;
        for (pair, outcome) in pairs.iter().zip(outcomes) {
            match outcome {
                Linked::NoSuccessor => skipped.push(Rejected {
                    line: first_line.get(pair).copied().unwrap_or(0),
                    reason: "the successor school is not loaded".into(),
                }),
                Linked::Unchanged => summary.unchanged += 1,
                Linked::Inserted => summary.inserted += 1,
                Linked::Updated => summary.updated += 1,
            }
        }
        done += pairs.len() as u64;
        progress(done, total);
    }
    finished(db, summary.with_skipped(skipped)).await
}
