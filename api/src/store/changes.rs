//! The change counters and the change log, read back: which changes committed between the
//! markers a cached result was computed under and the database's markers now, so that the
//! result can be brought up to date by redoing only what those changes touched.
//!
//! Every write transaction ends by moving one counter of `change_marker` and appending a
//! row to `change_log` under the counter's new value (`db::WriteTxn`). The counter row stays
//! locked until the commit, so each counter's values become visible in order and the log
//! rows between two markers are exactly the changes between them. The log keeps the last
//! [`LOG_KEPT`] rows of each counter; a window reaching further back than that is reported
//! as unknown, and the caller recomputes in full.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, Statement};

use crate::domain::terms::{AcademicTerm, Term};
use crate::error::{ApiError, ApiResult};

/// Log rows kept per counter.
pub const LOG_KEPT: i64 = 2048;

/// The counter moved by staff and reference-data changes.
pub const STAFF: &str = "staff";

/// What one committed change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Reference data (local authorities, trusts, schools, imports) or anything not
    /// described more narrowly: every cached result is recomputed in full.
    Anything,
    /// One person's SENCO data: the person, their appointments, qualifications or prior
    /// service. Deadlines are redone for that person only; summaries do not depend on it.
    Person(i64),
    /// Clusters and their reviews only, which neither deadlines nor summaries read.
    Clusters,
    /// A new version of one school's termly report.
    Report {
        /// The school.
        school_urn: i32,
        /// The report's term.
        term: AcademicTerm,
        /// The version stored.
        version: i32,
    },
    /// Nothing any cached result reads (a submission replayed under its idempotency key).
    Nothing,
}

impl Change {
    /// The counter this change moves: reports are spread over [`REPORT_SHARDS`] counters by
    /// school, so that concurrent submissions for different schools rarely wait on one row.
    pub fn domain(&self, school_urn: Option<i32>) -> String {
        match (*self, school_urn) {
            (Change::Report { school_urn, .. }, _) | (Change::Nothing, Some(school_urn)) => {
                format!("reports:{}", school_urn.rem_euclid(REPORT_SHARDS))
            }
            _ => STAFF.to_string(),
        }
    }

    /// The SQL that moves the counter `domain`, logs this change under its new value and
    /// prunes the row that falls out of the log: the last statements of a write
    /// transaction. Only numbers and fixed words are spliced in.
    pub fn commit_sql(&self, domain: &str) -> String {
        let null = || "NULL".to_string();
        let (kind, person, urn, year, term, version) = match *self {
            Change::Anything => ("anything", null(), null(), null(), null(), null()),
            Change::Nothing => ("nothing", null(), null(), null(), null(), null()),
            Change::Clusters => ("clusters", null(), null(), null(), null(), null()),
            Change::Person(id) => ("person", id.to_string(), null(), null(), null(), null()),
            Change::Report {
                school_urn,
                term,
                version,
            } => (
                "report",
                null(),
                school_urn.to_string(),
                term.academic_year.to_string(),
                format!("'{}'", term.term.as_str()),
                version.to_string(),
            ),
        };
        format!(
            "INSERT INTO change_marker (domain, n) VALUES ('{domain}', 1) \
             ON CONFLICT (domain) DO UPDATE SET n = change_marker.n + 1; \
             INSERT INTO change_log (domain, n, kind, person_id, school_urn, academic_year, term, version) \
             SELECT domain, n, '{kind}', {person}, {urn}, {year}, {term}, {version} \
             FROM change_marker WHERE domain = '{domain}'; \
             DELETE FROM change_log WHERE domain = '{domain}' \
             AND n = (SELECT n FROM change_marker WHERE domain = '{domain}') - {LOG_KEPT}"
        )
    }
}

/// A cached result brought up to date by the changes since it was computed.
#[derive(Debug)]
pub enum Refreshed<T> {
    /// None of the changes touched it.
    Unchanged,
    /// Updated for the changes.
    Updated(T),
    /// A change calls for computing it again in full.
    Recompute,
}

/// How many counters report submissions are spread over.
pub const REPORT_SHARDS: i32 = 16;

/// The value of every change counter at one moment, or of the staff counter alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markers {
    counters: BTreeMap<String, i64>,
    staff_only: bool,
}

impl Markers {
    /// The staff counter alone.
    pub fn staff_only(n: i64) -> Self {
        Self {
            counters: BTreeMap::from([(STAFF.to_string(), n)]),
            staff_only: true,
        }
    }

    /// These markers narrowed to the staff counter.
    pub fn staff(&self) -> Self {
        Self::staff_only(self.get(STAFF))
    }

    fn get(&self, domain: &str) -> i64 {
        self.counters.get(domain).copied().unwrap_or(0)
    }

    /// Whether every counter here is at least where `other` has it: a result computed under
    /// these markers has seen every change `other`'s has.
    pub fn covers(&self, other: &Markers) -> bool {
        other.counters.iter().all(|(d, n)| self.get(d) >= *n)
    }

    /// The markers as the caches stamp results with them ([`crate::store::version`],
    /// [`crate::store::staff_version`]): the sum of the counters, or the staff counter
    /// alone.
    pub fn label(&self) -> String {
        if self.staff_only {
            format!("staff:{}", self.get(STAFF))
        } else {
            format!("all:{}", self.counters.values().sum::<i64>())
        }
    }
}

/// Every change counter, as one statement.
pub async fn markers<C: ConnectionTrait>(db: &C) -> ApiResult<Markers> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT domain, n FROM change_marker",
        ))
        .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        out.insert(
            r.try_get::<String>("", "domain")?,
            r.try_get::<i64>("", "n")?,
        );
    }
    Ok(Markers {
        counters: out,
        staff_only: false,
    })
}

/// The changes committed after `from` up to `to` on the counters `to` names, oldest first
/// within each counter; `None` when there are more than `limit` or the log no longer holds
/// them all (the caller recomputes in full).
pub async fn between<C: ConnectionTrait>(
    db: &C,
    from: &Markers,
    to: &Markers,
    limit: i64,
) -> ApiResult<Option<Vec<Change>>> {
    let mut expected = 0;
    let mut windows = Vec::new();
    for (domain, n) in &to.counters {
        let since = from.get(domain);
        if *n > since {
            expected += n - since;
            // Counter names are the product's own (`staff`, `reports:N`), never input.
            if !domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ':')
            {
                return Err(ApiError::internal("unexpected change counter name"));
            }
            windows.push(format!(
                "(domain = '{domain}' AND n > {since} AND n <= {n})"
            ));
        }
    }
    if expected == 0 {
        return Ok(Some(Vec::new()));
    }
    if expected > limit {
        return Ok(None);
    }
    let sql = format!(
        "SELECT kind, person_id, school_urn, academic_year, term, version FROM change_log \
         WHERE {} ORDER BY domain, n",
        windows.join(" OR ")
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    if rows.len() as i64 != expected {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get("", "kind")?;
        let change = match kind.as_str() {
            "person" => match r.try_get::<Option<i64>>("", "person_id")? {
                Some(id) => Change::Person(id),
                None => Change::Anything,
            },
            "clusters" => Change::Clusters,
            "nothing" => Change::Nothing,
            "report" => {
                let urn: Option<i32> = r.try_get("", "school_urn")?;
                let year: Option<i32> = r.try_get("", "academic_year")?;
                let term: Option<String> = r.try_get("", "term")?;
                let version: Option<i32> = r.try_get("", "version")?;
                match (urn, year, term.as_deref().and_then(Term::parse), version) {
                    (Some(school_urn), Some(y), Some(t), Some(version)) => Change::Report {
                        school_urn,
                        term: AcademicTerm::new(y, t),
                        version,
                    },
                    _ => Change::Anything,
                }
            }
            _ => Change::Anything,
        };
        out.push(change);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(pairs: &[(&str, i64)]) -> Markers {
        Markers {
            counters: pairs.iter().map(|(d, n)| ((*d).to_string(), *n)).collect(),
            staff_only: false,
        }
    }

    #[test]
    fn markers_cover_only_when_no_counter_is_behind() {
        let old = markers(&[("staff", 3), ("reports:1", 7)]);
        let new = markers(&[("staff", 3), ("reports:1", 8), ("reports:2", 1)]);
        assert!(new.covers(&old));
        assert!(!old.covers(&new));
        assert!(old.covers(&old));
        let staff_behind = markers(&[("staff", 2), ("reports:1", 9)]);
        assert!(!staff_behind.covers(&old));
        assert!(!old.covers(&staff_behind));
    }

    #[test]
    fn labels_match_the_version_strings() {
        let m = markers(&[("staff", 3), ("reports:1", 7)]);
        assert_eq!(m.label(), "all:10");
        assert_eq!(m.staff().label(), "staff:3");
        // A database whose only counter is the staff one still has an `all:` label.
        assert_eq!(markers(&[("staff", 4)]).label(), "all:4");
        assert_eq!(Markers::default().label(), "all:0");
        assert_eq!(Markers::default().staff().label(), "staff:0");
    }

    #[test]
    fn reports_and_their_replays_move_the_school_s_counter() {
        let term = AcademicTerm::new(2025, Term::Summer);
        let report = Change::Report {
            school_urn: 100017,
            term,
            version: 2,
        };
        assert_eq!(report.domain(Some(100017)), "reports:1");
        assert_eq!(Change::Nothing.domain(Some(100017)), "reports:1");
        assert_eq!(Change::Person(5).domain(None), "staff");
        assert_eq!(Change::Anything.domain(None), "staff");
        let sql = report.commit_sql("reports:1");
        assert!(
            sql.contains("'report', NULL, 100017, 2025, 'SUMMER', 2"),
            "{sql}"
        );
        assert!(sql.contains(&format!("- {LOG_KEPT}")), "{sql}");
    }
}
