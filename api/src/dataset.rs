//! A generated SENCO history over real schools: the demo (`seed-demo`, and the first start
//! on an empty database) and the benchmark both build from it, so what a newcomer sees and
//! what the benchmark measures are the same kind of data.
//!
//! Schools and LAs come from the real DfE census file through the product's own census
//! import (`service::imports::census_rows`). Everything else is generated from a fixed
//! seed, so two runs build the same data: a SENCO history for every relevant open school
//! (one or two appointments, people with TRNs, qualifications, now and then prior SENCO
//! service), shared-SENCO clusters of two or three small primaries in the same LA, and a
//! termly report for each of the last terms whose report fell due, one in twelve of them
//! amended once. The rows are written with multi-row `INSERT`s, several statements to a
//! transaction, which both SQLite and PostgreSQL take quickly. The people are fictional:
//! names from a short list, TRNs from 1000001 up, e-mail addresses at `school.example`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use entity::{
    cluster, cluster_member, person, prior_senco_service, qualification, school, senco_appointment,
    termly_report,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryOrder, Set, TransactionTrait,
};

use crate::db::Db;
use crate::domain::terms::AcademicTerm;
use crate::store::reports::Figures;

/// What to build.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The LAs whose census rows are loaded; every LA when `None`.
    pub las: Option<Vec<i32>>,
    /// How many terms of reports, ending with the latest whose report fell due.
    pub terms: usize,
    /// Who the generated reports say submitted them (`submittedBy`).
    pub submitted_by: &'static str,
    /// Make the first cluster pass every check (the demo shows a sound one beside the
    /// generated ones, which mostly do not).
    pub sound_first_cluster: bool,
    /// On PostgreSQL, `VACUUM ANALYZE` after the load (what autovacuum does shortly after a
    /// bulk load), so that a benchmark measures the steady state.
    pub vacuum: bool,
}

/// Rows per `INSERT` statement.
const ROWS_PER_STATEMENT: usize = 500;
/// Statements per transaction.
const STATEMENTS_PER_TXN: usize = 10;

/// What was built, for the scenarios and the report.
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Rows per table.
    pub counts: Vec<(&'static str, u64)>,
    /// The LA with the most schools: (code, name, schools).
    pub largest_la: (i32, String, u64),
    /// The latest term whose reports fell due: the one the summaries ask for.
    pub summary_term: AcademicTerm,
    /// The term in progress, which has no reports yet: the one the writers submit for.
    pub submit_term: AcademicTerm,
    /// Relevant open schools, by URN, for the writers to submit as.
    pub writer_urns: Vec<i32>,
    /// Relevant open schools of the largest LA, by URN, for the changes made under the
    /// dashboard's and the summaries' reads: each has a report for the summary term and one
    /// current SENCO appointment, its own (not a cluster's), whose qualification duty applies
    /// and stays applying when its start date moves a day earlier (started after 2 September
    /// 2009, no prior SENCO service). Earliest start first: the first of them have the LA's
    /// earliest deadlines, which lead the dashboard's first page.
    pub largest_la_writer_urns: Vec<i32>,
    /// How long the build took.
    pub elapsed: Duration,
    /// The census import's summary line.
    pub census_summary: String,
}

/// A school as the generator needs it.
#[derive(Debug, Clone)]
struct SchoolRow {
    urn: i32,
    la_code: i32,
    phase: String,
    roll: Option<i32>,
}

/// Builds the data set over `db` (already migrated, with no SENCO data yet) from the bytes of
/// the census file, telling `log` how far it has got.
pub async fn build(
    db: &Db,
    census: &[u8],
    plan: &Plan,
    today: NaiveDate,
    log: &dyn Fn(String),
) -> anyhow::Result<DataSet> {
    let started = Instant::now();
    let text = crate::import::text::decode_utf8(census);
    let (mut rows, skipped) = crate::import::census::parse(&text);
    if let Some(las) = &plan.las {
        rows.retain(|r| las.contains(&r.la_code));
    }
    let summary = crate::service::imports::census_rows(db, rows, skipped, &|_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("census import: {e:?}"))?;
    let census_summary = summary.to_string().lines().next().unwrap_or("").to_string();
    log(format!(
        "  census imported in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    let schools = school::Entity::find()
        .order_by_asc(school::Column::Urn)
        .all(&db.conn)
        .await?;
    let las: HashMap<i32, String> = entity::local_authority::Entity::find()
        .all(&db.conn)
        .await?
        .into_iter()
        .map(|l| (l.code, l.name))
        .collect();
    let mut per_la: BTreeMap<i32, u64> = BTreeMap::new();
    for s in &schools {
        *per_la.entry(s.la_code).or_default() += 1;
    }
    let (la_code, la_schools) = per_la
        .iter()
        .max_by_key(|(code, n)| (**n, std::cmp::Reverse(**code)))
        .map(|(c, n)| (*c, *n))
        .context("the census import loaded no schools")?;
    let largest_la = (
        la_code,
        las.get(&la_code).cloned().unwrap_or_default(),
        la_schools,
    );
    let relevant: Vec<SchoolRow> = schools
        .iter()
        .filter(|s| crate::domain::is_relevant_kind(&s.kind) && s.closed_on.is_none())
        .map(|s| SchoolRow {
            urn: s.urn,
            la_code: s.la_code,
            phase: s.phase.clone(),
            roll: s.number_on_roll,
        })
        .collect();

    let summary_term = AcademicTerm::latest_due_by(today);
    let submit_term = AcademicTerm::containing(today);
    let mut g = Generator::new(today, &las, plan);
    g.clusters(&relevant);
    g.histories(&relevant);
    let mut terms = vec![summary_term];
    while terms.len() < plan.terms.max(1) {
        let before = terms[terms.len() - 1].previous();
        terms.push(before);
    }
    terms.reverse();
    let reports = g.reports(&relevant, &terms)?;

    log(format!(
        "  generated {} reports and the SENCO histories by {:.1} s",
        reports.len(),
        started.elapsed().as_secs_f64()
    ));
    let conn = &db.conn;
    insert_all(conn, std::mem::take(&mut g.people)).await?;
    insert_all(conn, std::mem::take(&mut g.appointments)).await?;
    insert_all(conn, std::mem::take(&mut g.prior)).await?;
    insert_all(conn, std::mem::take(&mut g.qualifications)).await?;
    insert_all(conn, std::mem::take(&mut g.clusters)).await?;
    insert_all(conn, std::mem::take(&mut g.members)).await?;
    insert_all(conn, reports).await?;
    // The rows went in directly, so the facts the product keeps on write are derived here,
    // by the same path as `senco-oversight recompute`.
    crate::service::schools::recompute(db, |_, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("deriving the duty facts: {e:?}"))?;
    log(format!(
        "  rows written and duty facts derived by {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    if db.backend() == DbBackend::Postgres {
        // Explicit ids leave the serial sequences behind; move them past the rows written.
        for table in [
            "person",
            "senco_appointment",
            "prior_senco_service",
            "qualification",
            "cluster",
        ] {
            conn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .await?;
        }
        if plan.vacuum {
            // Statistics, and the visibility map that index-only scans need.
            conn.execute_unprepared("VACUUM ANALYZE").await?;
        }
    }

    let writer_urns = relevant.iter().map(|s| s.urn).collect();
    // A start date a day earlier must still be after 1 September 2009, when the duty began.
    let duty_from = date(2009, 9, 3);
    let mut la_writers: Vec<(NaiveDate, i32)> = relevant
        .iter()
        .filter(|s| s.la_code == la_code && g.summary_reported.contains(&s.urn))
        .filter_map(|s| {
            g.own_current
                .get(&s.urn)
                .filter(|c| !c.prior_service && c.started_on >= duty_from)
                .map(|c| (c.started_on, s.urn))
        })
        .collect();
    la_writers.sort_unstable();
    Ok(DataSet {
        counts: counts(conn).await?,
        largest_la,
        summary_term,
        submit_term,
        writer_urns,
        largest_la_writer_urns: la_writers.into_iter().map(|(_, urn)| urn).collect(),
        elapsed: started.elapsed(),
        census_summary,
    })
}

/// Rows per table, for the report.
pub async fn counts(conn: &DatabaseConnection) -> anyhow::Result<Vec<(&'static str, u64)>> {
    Ok(vec![
        (
            "local_authority",
            entity::local_authority::Entity::find().count(conn).await?,
        ),
        ("school", school::Entity::find().count(conn).await?),
        ("person", person::Entity::find().count(conn).await?),
        (
            "senco_appointment",
            senco_appointment::Entity::find().count(conn).await?,
        ),
        (
            "prior_senco_service",
            prior_senco_service::Entity::find().count(conn).await?,
        ),
        (
            "qualification",
            qualification::Entity::find().count(conn).await?,
        ),
        ("cluster", cluster::Entity::find().count(conn).await?),
        (
            "cluster_member",
            cluster_member::Entity::find().count(conn).await?,
        ),
        (
            "termly_report",
            termly_report::Entity::find().count(conn).await?,
        ),
    ])
}

/// Writes `rows` with multi-row inserts, a few statements per transaction.
async fn insert_all<A>(conn: &DatabaseConnection, rows: Vec<A>) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let txn = conn.begin().await?;
        for _ in 0..STATEMENTS_PER_TXN {
            let batch: Vec<A> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            if batch.is_empty() {
                break;
            }
            A::Entity::insert_many(batch)
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    Ok(())
}

const FIRST_NAMES: [&str; 24] = [
    "Amira", "Ben", "Chloe", "Daniel", "Esther", "Farah", "George", "Hannah", "Imran", "Jess",
    "Kofi", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rachel", "Sam", "Tariq", "Uma",
    "Victoria", "Wei", "Yusuf", "Zoe",
];
const SURNAMES: [&str; 24] = [
    "Adeyemi", "Brown", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Martin", "Nowak", "Okafor", "Patel", "Quinn", "Roberts", "Singh",
    "Taylor", "Walker", "Wilson", "Wright", "Young",
];
const PROVIDERS: [&str; 5] = [
    "University of Birmingham",
    "Bath Spa University",
    "UCL Institute of Education",
    "Ambition Institute",
    "Best Practice Network",
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// A school's current SENCO appointment, when it is the school's own (not a cluster's).
#[derive(Debug, Clone, Copy)]
struct OwnCurrent {
    /// Its start date.
    started_on: NaiveDate,
    /// Whether the person has recorded prior SENCO service.
    prior_service: bool,
}

/// The generator's state: a seeded RNG, the next id of each table and the rows so far.
struct Generator<'a> {
    rng: StdRng,
    today: NaiveDate,
    las: &'a HashMap<i32, String>,
    submitted_by: &'static str,
    /// Make the first cluster a sound one (the demo shows one of each).
    sound_first_cluster: bool,
    next_person: i64,
    next_appointment: i64,
    next_qualification: i64,
    next_prior: i64,
    next_cluster: i64,
    /// Schools whose current SENCO a cluster already supplied.
    covered: HashMap<i32, NaiveDate>,
    /// Schools whose current SENCO is their own, by URN.
    own_current: HashMap<i32, OwnCurrent>,
    /// Schools with a report for the last term generated (the summary term).
    summary_reported: HashSet<i32>,
    people: Vec<person::ActiveModel>,
    appointments: Vec<senco_appointment::ActiveModel>,
    prior: Vec<prior_senco_service::ActiveModel>,
    qualifications: Vec<qualification::ActiveModel>,
    clusters: Vec<cluster::ActiveModel>,
    members: Vec<cluster_member::ActiveModel>,
}

impl<'a> Generator<'a> {
    fn new(today: NaiveDate, las: &'a HashMap<i32, String>, plan: &Plan) -> Self {
        Self {
            rng: StdRng::seed_from_u64(49_2014),
            today,
            las,
            submitted_by: plan.submitted_by,
            sound_first_cluster: plan.sound_first_cluster,
            next_person: 1,
            next_appointment: 1,
            next_qualification: 1,
            next_prior: 1,
            next_cluster: 1,
            covered: HashMap::new(),
            own_current: HashMap::new(),
            summary_reported: HashSet::new(),
            people: Vec::new(),
            appointments: Vec::new(),
            prior: Vec::new(),
            qualifications: Vec::new(),
            clusters: Vec::new(),
            members: Vec::new(),
        }
    }

    /// A uniformly random day in `[lo, hi]` (or `lo` when the range is empty).
    fn day_between(&mut self, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
        let span = (hi - lo).num_days();
        if span <= 0 {
            return lo;
        }
        lo + chrono::Duration::days(self.rng.random_range(0..=span))
    }

    fn new_person(&mut self) -> i64 {
        let id = self.next_person;
        self.next_person += 1;
        let first = FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())];
        let last = SURNAMES[self.rng.random_range(0..SURNAMES.len())];
        let has_qts = self.rng.random_bool(0.96);
        let induction = if !has_qts {
            "NOT_STARTED"
        } else {
            match self.rng.random_range(0..100) {
                0..=89 => "COMPLETED",
                90..=95 => "NOT_REQUIRED",
                _ => "IN_PROGRESS",
            }
        };
        let email = self.rng.random_bool(0.7).then(|| {
            format!(
                "{}.{}{id}@school.example",
                first.to_lowercase(),
                last.to_lowercase()
            )
        });
        self.people.push(person::ActiveModel {
            id: Set(id),
            trn: Set(Some(format!("{:07}", 1_000_000 + id))),
            full_name: Set(format!("{first} {last}")),
            email: Set(email),
            has_qts: Set(has_qts),
            induction_status: Set(induction.to_string()),
        });
        id
    }

    fn appoint(
        &mut self,
        person_id: i64,
        urn: i32,
        started_on: NaiveDate,
        ended_on: Option<NaiveDate>,
    ) {
        let id = self.next_appointment;
        self.next_appointment += 1;
        let is_headteacher = self.rng.random_bool(0.05);
        let works = is_headteacher || self.rng.random_bool(0.97);
        let slt = self.rng.random_bool(0.6);
        let hours = self
            .rng
            .random_bool(0.9)
            .then(|| f64::from(self.rng.random_range(4..=60_u32)) / 4.0);
        let fraction = self
            .rng
            .random_bool(0.8)
            .then(|| f64::from(self.rng.random_range(0..=10_u32)) / 20.0);
        self.appointments.push(senco_appointment::ActiveModel {
            id: Set(id),
            person_id: Set(person_id),
            school_urn: Set(urn),
            started_on: Set(started_on),
            ended_on: Set(ended_on),
            is_headteacher: Set(is_headteacher),
            works_as_teacher_at_school: Set(works),
            on_senior_leadership_team: Set(slt),
            non_contact_hours_per_week: Set(hours),
            class_teaching_fraction: Set(fraction),
        });
    }

    fn qualify(
        &mut self,
        person_id: i64,
        kind: &str,
        started_on: NaiveDate,
        completed_on: Option<NaiveDate>,
        expected_completion_on: Option<NaiveDate>,
    ) {
        let id = self.next_qualification;
        self.next_qualification += 1;
        let provider = self
            .rng
            .random_bool(0.85)
            .then(|| PROVIDERS[self.rng.random_range(0..PROVIDERS.len())].to_string());
        self.qualifications.push(qualification::ActiveModel {
            id: Set(id),
            person_id: Set(person_id),
            kind: Set(kind.to_string()),
            provider: Set(provider),
            started_on: Set(started_on),
            completed_on: Set(completed_on),
            expected_completion_on: Set(expected_completion_on),
        });
    }

    /// A start date for a current SENCO: a few from before September 2009 (exempt), some
    /// long-serving, most within the last five years (so deadlines fall either side of today).
    fn current_start(&mut self) -> NaiveDate {
        let recent_lo = self.today - chrono::Duration::days(5 * 365);
        let last = self.today - chrono::Duration::days(20);
        match self.rng.random_range(0..100) {
            0..=7 => self.day_between(date(2002, 9, 1), date(2009, 8, 31)),
            8..=34 => self.day_between(date(2009, 9, 2), recent_lo),
            _ => self.day_between(recent_lo, last),
        }
    }

    /// Qualifications for a SENCO appointed on `start`: a completed NASENCO, an NPQ under
    /// way or completed, or nothing yet; dates never after today.
    fn training(&mut self, person_id: i64, start: NaiveDate) {
        let nasenco_last_start = date(2024, 8, 31);
        let npq_first_start = date(2024, 9, 1);
        let roll = self.rng.random_range(0..100);
        if roll < 55 && start < date(2024, 6, 1) {
            let lo = start.max(date(2009, 9, 1)) - chrono::Duration::days(200);
            let began = self.day_between(
                lo,
                (start + chrono::Duration::days(700)).min(nasenco_last_start),
            );
            let done = began + chrono::Duration::days(self.rng.random_range(330..=720));
            let completed = (done <= self.today && self.rng.random_bool(0.9)).then_some(done);
            // A course still under way says when its award is expected (SPEC 4.8).
            let expected = (done > self.today).then_some(done);
            self.qualify(person_id, "NASENCO", began, completed, expected);
        } else if roll < 85 {
            let began = self.day_between(start.max(npq_first_start), self.today);
            let done = began + chrono::Duration::days(self.rng.random_range(360..=540));
            self.qualify(
                person_id,
                "NPQ_SENCO",
                began,
                (done <= self.today).then_some(done),
                (done > self.today).then_some(done),
            );
        }
    }

    /// A cluster that passes every check of SPEC 4.6, for the demo: its SENCO qualified,
    /// appointed four years ago at each member as a teacher on the senior leadership team
    /// (not the head), teaching little, with six non-contact hours a week at each (enough for
    /// three schools of 210), and the arrangement reviewed a month ago. Returns the start and
    /// the review date.
    fn sound_cluster(&mut self, person: i64, members: &[i32]) -> (NaiveDate, Option<NaiveDate>) {
        let start = self.today - chrono::Duration::days(4 * 365);
        for urn in members {
            let id = self.next_appointment;
            self.next_appointment += 1;
            self.appointments.push(senco_appointment::ActiveModel {
                id: Set(id),
                person_id: Set(person),
                school_urn: Set(*urn),
                started_on: Set(start),
                ended_on: Set(None),
                is_headteacher: Set(false),
                works_as_teacher_at_school: Set(true),
                on_senior_leadership_team: Set(true),
                non_contact_hours_per_week: Set(Some(6.0)),
                class_teaching_fraction: Set(Some(0.1)),
            });
            self.covered.insert(*urn, start);
        }
        // A course that counts (SPEC 4.4 rule 5), completed long before today.
        let began = start - chrono::Duration::days(100);
        if began < date(2024, 9, 1) {
            self.qualify(
                person,
                "NASENCO",
                began,
                Some(began + chrono::Duration::days(365)),
                None,
            );
        } else {
            self.qualify(
                person,
                "NPQ_SENCO",
                start,
                Some(start + chrono::Duration::days(450)),
                None,
            );
        }
        (start, Some(self.today - chrono::Duration::days(30)))
    }

    /// Clusters of two or three small primaries in the same LA, about a third of them: one
    /// SENCO appointed at every member.
    fn clusters(&mut self, relevant: &[SchoolRow]) {
        let mut small: BTreeMap<i32, Vec<&SchoolRow>> = BTreeMap::new();
        for s in relevant {
            if s.phase == "PRIMARY" && s.roll.is_some_and(|r| r <= 210) {
                small.entry(s.la_code).or_default().push(s);
            }
        }
        for (la, schools) in small {
            let mut i = 0;
            let mut n = 0;
            while i + 1 < schools.len() {
                if !self.rng.random_bool(0.33) {
                    i += 1;
                    continue;
                }
                let size = if i + 2 < schools.len() && self.rng.random_bool(0.3) {
                    3
                } else {
                    2
                };
                let members: Vec<i32> = schools[i..i + size].iter().map(|s| s.urn).collect();
                i += size;
                n += 1;
                let person = self.new_person();
                let start =
                    self.day_between(date(2012, 9, 1), self.today - chrono::Duration::days(60));
                let sound = self.sound_first_cluster && self.clusters.is_empty();
                let (start, reviewed) = if sound {
                    self.sound_cluster(person, &members)
                } else {
                    for urn in &members {
                        self.appoint(person, *urn, start, None);
                        self.covered.insert(*urn, start);
                    }
                    self.training(person, start);
                    let reviewed = self.rng.random_bool(0.7).then(|| {
                        self.day_between(
                            start.max(self.today - chrono::Duration::days(540)),
                            self.today,
                        )
                    });
                    (start, reviewed)
                };
                let id = self.next_cluster;
                self.next_cluster += 1;
                let la_name = self
                    .las
                    .get(&la)
                    .cloned()
                    .unwrap_or_else(|| format!("LA {la}"));
                self.clusters.push(cluster::ActiveModel {
                    id: Set(id),
                    name: Set(format!("{la_name} small schools partnership {n}")),
                    senco_person_id: Set(person),
                    started_on: Set(start),
                    last_reviewed_on: Set(reviewed),
                    review_interval_months: Set(12),
                    ended_on: Set(None),
                });
                for urn in members {
                    self.members.push(cluster_member::ActiveModel {
                        cluster_id: Set(id),
                        school_urn: Set(urn),
                    });
                }
            }
        }
    }

    /// Every relevant school's SENCO history: its current SENCO (unless a cluster supplied
    /// one, or the post is vacant) and, for some, the SENCO before.
    fn histories(&mut self, relevant: &[SchoolRow]) {
        for s in relevant {
            let current_start = match self.covered.get(&s.urn) {
                Some(start) => Some(*start),
                None if self.rng.random_bool(0.03) => None,
                None => {
                    let start = self.current_start();
                    let person = self.new_person();
                    self.appoint(person, s.urn, start, None);
                    self.training(person, start);
                    let prior_service = self.rng.random_bool(0.05);
                    self.own_current.insert(
                        s.urn,
                        OwnCurrent {
                            started_on: start,
                            prior_service,
                        },
                    );
                    if prior_service {
                        // Served as SENCO elsewhere before records began.
                        let id = self.next_prior;
                        self.next_prior += 1;
                        let days = self.rng.random_range(200..=1500);
                        let ended = start - chrono::Duration::days(self.rng.random_range(30..=400));
                        self.prior.push(prior_senco_service::ActiveModel {
                            id: Set(id),
                            person_id: Set(person),
                            started_on: Set(ended - chrono::Duration::days(days)),
                            ended_on: Set(ended),
                            description: Set(Some("SENCO at a school in another LA".into())),
                        });
                    }
                    Some(start)
                }
            };
            // The SENCO before: present for some schools, and for every vacant post.
            if current_start.is_none() || self.rng.random_bool(0.4) {
                let ended = match current_start {
                    Some(d) => d - chrono::Duration::days(1),
                    None => self.today - chrono::Duration::days(self.rng.random_range(10..=200)),
                };
                let started = ended - chrono::Duration::days(self.rng.random_range(365..=8 * 365));
                let person = self.new_person();
                self.appoint(person, s.urn, started, Some(ended));
                if self.rng.random_bool(0.5) {
                    self.training(person, started);
                }
            }
        }
    }

    /// One report per school per term (a few missing, one in twelve amended once).
    fn reports(
        &mut self,
        relevant: &[SchoolRow],
        terms: &[AcademicTerm],
    ) -> anyhow::Result<Vec<termly_report::ActiveModel>> {
        let mut out: Vec<(NaiveDate, i32, termly_report::ActiveModel)> =
            Vec::with_capacity(relevant.len() * terms.len() * 13 / 12);
        for s in relevant {
            let base_roll = s
                .roll
                .unwrap_or_else(|| self.rng.random_range(40..=1400))
                .max(0);
            let sen_rate = self.rng.random_range(0.06..0.20);
            let ehcp_rate = self.rng.random_range(0.01..0.06);
            let pounds_per_pupil = self.rng.random_range(40..=160_i64);
            for (i, term) in terms.iter().enumerate() {
                let missing = if i + 1 == terms.len() { 0.04 } else { 0.02 };
                if self.rng.random_bool(missing) {
                    continue;
                }
                if i + 1 == terms.len() {
                    self.summary_reported.insert(s.urn);
                }
                let figures = self.figures(base_roll, sen_rate, ehcp_rate, pounds_per_pupil, *term);
                let submitted = (term.ends_on()
                    + chrono::Duration::days(self.rng.random_range(1..=20)))
                .min(self.today);
                if self.rng.random_bool(0.08) {
                    let first =
                        self.figures(base_roll, sen_rate, ehcp_rate, pounds_per_pupil, *term);
                    out.push((
                        submitted,
                        s.urn,
                        report_row(self.submitted_by, s.urn, *term, 1, false, submitted, first)?,
                    ));
                    let amended = (submitted
                        + chrono::Duration::days(self.rng.random_range(1..=10)))
                    .min(self.today);
                    out.push((
                        amended,
                        s.urn,
                        report_row(self.submitted_by, s.urn, *term, 2, true, amended, figures)?,
                    ));
                } else {
                    out.push((
                        submitted,
                        s.urn,
                        report_row(self.submitted_by, s.urn, *term, 1, true, submitted, figures)?,
                    ));
                }
            }
        }
        // Stored in the order they were submitted, as a live system stores them: a term's
        // reports sit together on disk rather than spread across the whole table.
        out.sort_by_key(|(on, urn, _)| (*on, *urn));
        Ok(out.into_iter().map(|(_, _, row)| row).collect())
    }

    fn figures(
        &mut self,
        base_roll: i32,
        sen_rate: f64,
        ehcp_rate: f64,
        pounds_per_pupil: i64,
        term: AcademicTerm,
    ) -> Figures {
        let drift = self.rng.random_range(0.95..1.05);
        let roll = (f64::from(base_roll) * drift).round() as i32;
        let sen_support = (f64::from(roll) * sen_rate).round() as i32;
        let ehcp = (f64::from(roll) * ehcp_rate).round() as i32;
        let extra = self.rng.random_range(0..=3);
        let pupils_with_send = (sen_support + ehcp + extra).min(roll);
        let (sen_support, ehcp) = if sen_support + ehcp > pupils_with_send {
            (
                pupils_with_send - ehcp.min(pupils_with_send),
                ehcp.min(pupils_with_send),
            )
        } else {
            (sen_support, ehcp)
        };
        let e1 = i64::from(roll) * pounds_per_pupil * 100;
        let e2 = i64::from(ehcp) * 6_000 * 100;
        let e3 = i64::from(ehcp) * self.rng.random_range(0..=4_000_i64) * 100;
        let additional = if self.rng.random_bool(0.2) {
            self.rng.random_range(1..=20_000_i64) * 100
        } else {
            0
        };
        let total = e1 + e2 + e3 + additional;
        // Spending through the year: a third, two thirds, then all of it (5% overspend).
        let share = (f64::from(term.term.index()) + 1.0) / 3.0;
        let spent_share = if self.rng.random_bool(0.05) {
            self.rng.random_range(1.01..1.25)
        } else {
            share * self.rng.random_range(0.7..1.0)
        };
        let expenditure = ((total as f64) * spent_share).round() as i64;
        let term_end = term.ends_on().min(self.today);
        let policy = self
            .rng
            .random_bool(0.92)
            .then(|| term_end - chrono::Duration::days(self.rng.random_range(10..=1400)));
        let review = self
            .rng
            .random_bool(0.8)
            .then(|| term_end - chrono::Duration::days(self.rng.random_range(5..=200)));
        let published = self
            .rng
            .random_bool(0.85)
            .then(|| term_end - chrono::Duration::days(self.rng.random_range(5..=500)));
        let note =
            |rng: &mut StdRng, p: f64, text: &str| rng.random_bool(p).then(|| text.to_string());
        Figures {
            number_on_roll: roll,
            pupils_with_send,
            sen_support,
            ehcp,
            ehcp_applications_in_process: self.rng.random_range(0..=6),
            budget_e1_pence: e1,
            budget_e2_pence: e2,
            budget_e3_pence: e3,
            budget_additional_pence: additional,
            expenditure_to_date_pence: expenditure,
            non_contact_hours_per_week: f64::from(self.rng.random_range(0..=80_u32)) / 4.0,
            sen_policy_date: policy,
            provision_review_date: review,
            sen_information_report_published_on: published,
            challenges: note(
                &mut self.rng,
                0.3,
                "Waiting times for educational psychology assessments remain long.",
            ),
            ongoing_concerns: note(
                &mut self.rng,
                0.2,
                "Two pupils awaiting EHC needs assessment decisions.",
            ),
            training_undertaken: note(
                &mut self.rng,
                0.4,
                "Whole-staff training on adaptive teaching; TA training on speech and language.",
            ),
        }
    }
}

fn report_row(
    by: &str,
    urn: i32,
    term: AcademicTerm,
    version: i32,
    is_latest: bool,
    submitted_on: NaiveDate,
    f: Figures,
) -> anyhow::Result<termly_report::ActiveModel> {
    let digest = f
        .digest(term)
        .map_err(|e| anyhow::anyhow!("hashing a report: {e:?}"))?;
    let at = Utc
        .with_ymd_and_hms(
            submitted_on.year(),
            submitted_on.month(),
            submitted_on.day(),
            9 + (urn % 8) as u32,
            (urn % 60) as u32,
            0,
        )
        .single()
        .context("a submission time")?;
    Ok(termly_report::ActiveModel {
        school_urn: Set(urn),
        academic_year: Set(term.academic_year),
        term: Set(term.term.as_str().to_string()),
        version: Set(version),
        is_latest: Set(is_latest),
        submitted_at: Set(at),
        submitted_by: Set(by.to_string()),
        idempotency_key: Set(None),
        content_hash: Set(digest),
        number_on_roll: Set(f.number_on_roll),
        pupils_with_send: Set(f.pupils_with_send),
        sen_support: Set(f.sen_support),
        ehcp: Set(f.ehcp),
        ehcp_applications_in_process: Set(f.ehcp_applications_in_process),
        budget_e1_pence: Set(f.budget_e1_pence),
        budget_e2_pence: Set(f.budget_e2_pence),
        budget_e3_pence: Set(f.budget_e3_pence),
        budget_additional_pence: Set(f.budget_additional_pence),
        expenditure_to_date_pence: Set(f.expenditure_to_date_pence),
        non_contact_hours_per_week: Set(f.non_contact_hours_per_week),
        sen_policy_date: Set(f.sen_policy_date),
        provision_review_date: Set(f.provision_review_date),
        sen_information_report_published_on: Set(f.sen_information_report_published_on),
        challenges: Set(f.challenges),
        ongoing_concerns: Set(f.ongoing_concerns),
        training_undertaken: Set(f.training_undertaken),
        ..Default::default()
    })
}
