//! The database's own time (SPEC 7): the SQL statements the server needs to compute a page
//! from nothing, run by the benchmark itself straight against the same database, over a
//! sea-orm pool of its own, from as many tasks as the server's scenario had clients, each
//! sending its next page's statements when the last page's are answered (a closed loop, as
//! the HTTP clients are). The server's time for the page over this is the ratio SPEC 7 bounds.
//!
//! The statements are those of `deadlines_within` (the deadlines), `reports::summary` and,
//! for the peer comparison of issue 21, `schools::schools` with the appointment and people
//! loaders the nested selection primes, in `api::store`, written out by hand and run one
//! after another on one connection at a time, as the server runs them, every row fetched. Values are spliced in as literals (LA
//! codes, dates and terms from the data set, ids read back from the database, never input),
//! so that one text runs on SQLite and on PostgreSQL alike. (The server binds them as
//! parameters; on PostgreSQL literals always get a plan made for their values.)

use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use api::domain::terms::AcademicTerm;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement};
use serde_json::Value;

use crate::load::{ClientOutcome, RunStats};

/// A page whose SQL is run.
#[derive(Debug, Clone)]
pub enum Page {
    /// The LA dashboard's first page: the count of the appointments current on `as_of` at
    /// the LA's schools, the first 101 of them in deadline order (from the stored
    /// `appointment_duty` facts), and for those the appointments with their facts, their
    /// people, schools and the people's courses (which decide `IN_TRAINING` and name the
    /// award).
    Dashboard {
        /// The LA.
        la: i32,
        /// The date evaluated on (the server's default, today in London).
        as_of: NaiveDate,
    },
    /// `termlySummary` of `term` for the LA's schools open when the term began.
    Summary {
        /// The LA.
        la: i32,
        /// The term.
        term: AcademicTerm,
    },
    /// The LA's schools by URN, a page of `first` (the peer comparison of issue 21): the
    /// count and the `first + 1` schools (as the server reads a page, to know whether another
    /// follows); when `nested`, also the page's SENCO appointments (oldest first) and their
    /// people. These are the statements our server runs for `schools` with that selection.
    Schools {
        /// The LA.
        la: i32,
        /// Page size.
        first: u32,
        /// Whether the appointments and people are read too.
        nested: bool,
    },
}

/// `a, b, c` of `items`, for an `IN` list.
fn list<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn all(conn: &DatabaseConnection, sql: String) -> anyhow::Result<Vec<QueryResult>> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_string(backend, sql.clone()))
        .await
        .with_context(|| format!("running {}", sql.chars().take(300).collect::<String>()))
}

/// The sum of a column as the server writes it.
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

impl Page {
    /// Statements the page runs.
    pub fn statements(&self) -> usize {
        match self {
            // Count, page, appointments with their facts, people, schools, courses.
            Page::Dashboard { .. } => 6,
            // One aggregate per term (three), the missing schools.
            Page::Summary { .. } => 4,
            // Count, page; then the appointments and the people.
            Page::Schools { nested, .. } => {
                if *nested {
                    4
                } else {
                    2
                }
            }
        }
    }

    /// What the statements are, for the report.
    pub fn describe(&self) -> String {
        match self {
            Page::Dashboard { la, as_of } => format!(
                "the count of the appointments current on {as_of} at LA {la}'s schools, the \
                 first 101 ids in deadline order (`appointment_duty` `LEFT JOIN`ed), then those \
                 appointments with their facts, their people, their schools and the people's \
                 qualifications, each by an `IN` list of the ids read"
            ),
            Page::Summary { la, term } => format!(
                "three aggregates over `termly_report` (latest versions) joined to LA {la}'s \
                 schools open on {}, for {term}, {} and {}, then the schools with no report \
                 for {term} (`NOT EXISTS`)",
                term.starts_on(),
                term.previous(),
                term.same_term_last_year()
            ),
            Page::Schools { la, first, nested } => format!(
                "the count of LA {la}'s schools and the first {} by URN{}",
                first + 1,
                if *nested {
                    ", then the appointments at the first {first} (`IN` list of their URNs, \
                     oldest first) and those appointments' people (`IN` list of their ids)"
                } else {
                    ""
                }
            ),
        }
    }

    /// Runs the page's statements once, one after another as the server does, and returns
    /// the counts its answer is made of: for the dashboard the appointments (the list's
    /// `totalCount`); for the summary the reports counted in each of the three terms and
    /// the schools missing a report.
    pub async fn once(&self, conn: &DatabaseConnection) -> anyhow::Result<Vec<i64>> {
        match self {
            Page::Dashboard { la, as_of } => {
                let current = format!(
                    "FROM senco_appointment a \
                     LEFT JOIN appointment_duty d ON d.appointment_id = a.id \
                     WHERE a.school_urn IN (SELECT urn FROM school WHERE la_code = {la}) \
                     AND a.started_on <= '{as_of}' \
                     AND (a.ended_on IS NULL OR a.ended_on >= '{as_of}')"
                );
                let total = all(
                    conn,
                    format!("SELECT CAST(COUNT(*) AS BIGINT) AS n {current}"),
                )
                .await?
                .first()
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
                let ids = all(
                    conn,
                    format!(
                        "SELECT a.id {current} \
                         ORDER BY COALESCE(d.deadline, '9999-12-31'), a.school_urn, a.id \
                         LIMIT 101"
                    ),
                )
                .await?
                .iter()
                .map(|r| r.try_get::<i64>("", "id"))
                .collect::<Result<Vec<_>, _>>()?;
                if ids.is_empty() {
                    return Ok(vec![total]);
                }
                let rows = all(
                    conn,
                    format!(
                        "SELECT a.*, d.* FROM senco_appointment a \
                         LEFT JOIN appointment_duty d ON d.appointment_id = a.id \
                         WHERE a.id IN ({})",
                        list(ids)
                    ),
                )
                .await?;
                if rows.is_empty() {
                    return Ok(vec![total]);
                }
                let mut people = BTreeSet::new();
                let mut schools = BTreeSet::new();
                for r in &rows {
                    people.insert(r.try_get::<i64>("", "person_id")?);
                    schools.insert(r.try_get::<i32>("", "school_urn")?);
                }
                let people = list(people);
                all(conn, format!("SELECT * FROM person WHERE id IN ({people})")).await?;
                all(
                    conn,
                    format!("SELECT * FROM school WHERE urn IN ({})", list(schools)),
                )
                .await?;
                all(
                    conn,
                    format!(
                        "SELECT * FROM qualification WHERE person_id IN ({people}) ORDER BY id"
                    ),
                )
                .await?;
                Ok(vec![total])
            }
            Page::Summary { la, term } => {
                let starts = term.starts_on();
                // The schools the server expects a report from: open when the term began,
                // and bound by the regulations or using the product (SPEC 4.7).
                let in_scope = format!(
                    "school.la_code = {la} \
                     AND (school.closed_on IS NULL OR school.closed_on >= '{starts}') \
                     AND (school.kind IN ('MAINSTREAM', 'MAINTAINED_NURSERY') \
                     OR EXISTS (SELECT 1 FROM senco_appointment \
                     WHERE senco_appointment.school_urn = school.urn) \
                     OR EXISTS (SELECT 1 FROM termly_report \
                     WHERE termly_report.school_urn = school.urn))"
                );
                let budget = "termly_report.budget_e1_pence + termly_report.budget_e2_pence + \
                              termly_report.budget_e3_pence + termly_report.budget_additional_pence";
                let mut counts = Vec::with_capacity(4);
                for t in [*term, term.previous(), term.same_term_last_year()] {
                    let rows = all(
                        conn,
                        format!(
                            "SELECT CAST(COUNT(*) AS BIGINT) AS reports, {} AS nor, {} AS send, \
                             {} AS k, {} AS e, {} AS apps, {} AS budget, {} AS spent, {} AS over \
                             FROM termly_report \
                             INNER JOIN school ON school.urn = termly_report.school_urn \
                             WHERE termly_report.academic_year = {} \
                             AND termly_report.term = '{}' \
                             AND termly_report.is_latest = TRUE AND {in_scope}",
                            sum("termly_report.number_on_roll"),
                            sum("termly_report.pupils_with_send"),
                            sum("termly_report.sen_support"),
                            sum("termly_report.ehcp"),
                            sum("termly_report.ehcp_applications_in_process"),
                            sum(budget),
                            sum("termly_report.expenditure_to_date_pence"),
                            sum(&format!(
                                "CASE WHEN termly_report.expenditure_to_date_pence > {budget} \
                                 THEN 1 ELSE 0 END"
                            )),
                            t.academic_year,
                            t.term.as_str(),
                        ),
                    )
                    .await?;
                    let reports = match rows.first() {
                        Some(r) => r.try_get::<i64>("", "reports")?,
                        None => 0,
                    };
                    counts.push(reports);
                }
                let missing = all(
                    conn,
                    format!(
                        "SELECT * FROM school WHERE {in_scope} AND NOT EXISTS \
                         (SELECT 1 FROM termly_report \
                         WHERE termly_report.school_urn = school.urn \
                         AND termly_report.academic_year = {} AND termly_report.term = '{}' \
                         AND termly_report.is_latest = TRUE) \
                         ORDER BY school.urn",
                        term.academic_year,
                        term.term.as_str()
                    ),
                )
                .await?;
                counts.push(missing.len() as i64);
                Ok(counts)
            }
            Page::Schools { la, first, nested } => {
                let total = all(
                    conn,
                    format!(
                        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM school WHERE la_code = {la}"
                    ),
                )
                .await?
                .first()
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
                let urns = all(
                    conn,
                    format!(
                        "SELECT * FROM school WHERE la_code = {la} ORDER BY urn LIMIT {}",
                        first + 1
                    ),
                )
                .await?
                .iter()
                .take(*first as usize)
                .map(|r| r.try_get::<i32>("", "urn"))
                .collect::<Result<Vec<_>, _>>()?;
                let urn_sum = urns.iter().map(|u| i64::from(*u)).sum::<i64>();
                let rows = urns.len() as i64;
                if !*nested {
                    return Ok(vec![total, rows, urn_sum]);
                }
                if urns.is_empty() {
                    return Ok(vec![total, 0, 0, 0]);
                }
                let appointments = all(
                    conn,
                    format!(
                        "SELECT * FROM senco_appointment WHERE school_urn IN ({}) \
                         ORDER BY started_on, id",
                        list(&urns)
                    ),
                )
                .await?;
                let people = appointments
                    .iter()
                    .map(|r| r.try_get::<i64>("", "person_id"))
                    .collect::<Result<BTreeSet<_>, _>>()?;
                if !people.is_empty() {
                    all(
                        conn,
                        format!("SELECT * FROM person WHERE id IN ({})", list(people)),
                    )
                    .await?;
                }
                Ok(vec![total, rows, appointments.len() as i64, urn_sum])
            }
        }
    }

    /// The same counts as [`Page::once`] in the server's answer to the page's query.
    pub fn counts_in(&self, answer: &Value) -> anyhow::Result<Vec<i64>> {
        let data = &answer["data"];
        let number = |v: &Value, what: &str| {
            v.as_i64()
                .with_context(|| format!("the server's answer has no {what}: {answer}"))
        };
        Ok(match self {
            Page::Dashboard { .. } => vec![number(
                &data["qualificationDeadlines"]["totalCount"],
                "totalCount",
            )?],
            Page::Summary { .. } => {
                let s = &data["termlySummary"];
                vec![
                    number(&s["totals"]["reports"], "totals.reports")?,
                    number(&s["previousTerm"]["reports"], "previousTerm.reports")?,
                    number(
                        &s["sameTermLastYear"]["reports"],
                        "sameTermLastYear.reports",
                    )?,
                    s["missingReports"]
                        .as_array()
                        .map(|m| m.len() as i64)
                        .with_context(|| {
                            format!("the server's answer has no missingReports: {answer}")
                        })?,
                ]
            }
            Page::Schools { nested, .. } => {
                let list = &data["schools"];
                let edges = list["edges"].as_array().with_context(|| {
                    format!("the server's answer has no schools.edges: {answer}")
                })?;
                let mut urn_sum = 0;
                let mut appointments = 0;
                for e in edges {
                    urn_sum += number(&e["node"]["urn"], "urn")?;
                    if *nested {
                        appointments += e["node"]["sencoAppointments"]
                            .as_array()
                            .map_or(0, |a| a.len() as i64);
                    }
                }
                let mut counts = vec![
                    number(&list["totalCount"], "totalCount")?,
                    edges.len() as i64,
                ];
                if *nested {
                    counts.push(appointments);
                }
                counts.push(urn_sum);
                counts
            }
        })
    }
}

/// One task's loop: pages until `until`, timing those started from `measure_from`.
async fn task(
    conn: DatabaseConnection,
    page: Arc<Page>,
    measure_from: Instant,
    until: Instant,
) -> ClientOutcome {
    let mut out = ClientOutcome::default();
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let result = page.once(&conn).await;
        let elapsed = started.elapsed();
        out.total += 1;
        let measured = started >= measure_from;
        if measured {
            out.latencies_us
                .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        }
        if let Err(e) = result {
            out.total_errors += 1;
            if measured {
                out.errors += 1;
            }
            if out.samples.len() < 3 {
                out.samples
                    .push(format!("{e:#}").chars().take(400).collect());
            }
        }
    }
    out
}

/// Runs `page`'s statements from `connections` tasks over `conn` for `warmup` then
/// `duration`.
pub async fn run(
    conn: &DatabaseConnection,
    page: &Page,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<RunStats> {
    let page = Arc::new(page.clone());
    let measure_from = Instant::now() + warmup;
    let until = measure_from + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(task(conn.clone(), page.clone(), measure_from, until)))
        .collect();
    let mut stats = RunStats {
        connections,
        ..RunStats::default()
    };
    let mut latencies = Vec::new();
    for t in tasks {
        let o = t.await?;
        stats.total_requests += o.total;
        stats.errors += o.errors;
        stats.total_errors += o.total_errors;
        for s in o.samples {
            if stats.samples.len() < 5 {
                stats.samples.push(s);
            }
        }
        latencies.extend(o.latencies_us);
    }
    stats.finish(latencies, duration);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_are_comma_separated() {
        assert_eq!(list([1, 2, 3]), "1, 2, 3");
        assert_eq!(list(Vec::<i64>::new()), "");
    }
}
