//! `senco-bench`: measures SENCO Oversight against the performance targets of SPEC section 7.
//!
//! For each database asked for it builds the national data set straight into a fresh
//! database (SQLite file in a temporary directory, or a new PostgreSQL database dropped
//! afterwards), starts the real `senco-oversight` binary over it, drives it over HTTP with
//! concurrent clients (repeated requests, requests each under a token of its own, reads
//! after changes), runs the SQL two pages need straight against the same database for the
//! database's own time, restarts the server to time its first answers, and writes a
//! markdown report of throughput, latency percentiles, server memory and SQL statements per
//! request, with a verdict per target. On PostgreSQL it also compares the server with a peer,
//! PostGraphile 4.14 over the same database, on two reads both can serve (issue 21;
//! `--no-peer` skips it).
//!
//! ```sh
//! cargo build --release -p senco-oversight -p senco-bench
//! target/release/senco-bench --db both --scale full          # writes bench/REPORT.md
//! target/release/senco-bench --db both --scale tiny          # about a minute
//! target/release/senco-bench --db postgres --scale full --only cmp   # the peer comparison
//! ```

mod compare;
mod dataset;
mod direct;
mod events;
mod load;
mod peer;
mod report;
mod restart;
mod scenarios;
mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use api::db::Db;
use clap::Parser;
use rand::Rng;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::dataset::Scale;
use crate::report::{Context, DbReport};
use crate::server::Server;

/// Which databases to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    Sqlite,
    Postgres,
    Both,
}

/// Benchmark SENCO Oversight against SPEC section 7 on SQLite and PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "senco-bench", version)]
struct Args {
    /// Databases to measure.
    #[arg(long, value_enum, default_value = "both")]
    db: Which,
    /// A PostgreSQL URL whose user may create databases; a fresh `senco_bench_<random>`
    /// database is created beside it and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_url: String,
    /// `full`: every school in the census file; `tiny`: three LAs, for a quick check.
    #[arg(long, value_enum, default_value = "full")]
    scale: Scale,
    /// Measured seconds per scenario (default 20 full, 2 tiny).
    #[arg(long)]
    duration_secs: Option<u64>,
    /// Warm-up seconds per scenario before measuring (default 3 full, 1 tiny).
    #[arg(long)]
    warmup_secs: Option<u64>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Where to write the markdown report (default `bench/REPORT.md` for full runs, a file in
    /// the temporary directory for tiny ones).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The census CSV (default: the repository's `data/england_census_performance_tables.csv`).
    #[arg(long)]
    census: Option<PathBuf>,
    /// The server binary (default: `senco-oversight` beside this program).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Extra server environment, `KEY=VALUE`, repeatable (for example
    /// `SENCO_DB_MAX_CONNECTIONS=16`).
    #[arg(long = "server-env", value_parser = parse_env)]
    server_env: Vec<(String, String)>,
    /// Markdown appended to the report under "Analysis" (default `bench/NOTES.md` for full
    /// runs, when it exists).
    #[arg(long)]
    notes: Option<PathBuf>,
    /// Keep the databases (and the server logs) instead of removing them, for a closer look.
    #[arg(long)]
    keep_db: bool,
    /// Skip the peer comparison with PostGraphile 4.14 (issue 21). It runs on PostgreSQL
    /// only, so runs on SQLite alone skip it anyway.
    #[arg(long)]
    no_peer: bool,
    /// Cluster workers for the peer (PostGraphile's experimental `--cluster-workers`); 1 runs
    /// it as one Node.js process.
    #[arg(long, default_value_t = 1)]
    peer_workers: u32,
    /// Run only the scenarios whose keys start with one of these prefixes (comma-separated):
    /// for example `cmp` for the peer comparison alone, `dashboard,sql-dashboard`, or
    /// `restart` for the restarts. The data set is built and the statement-count checks run
    /// whatever is chosen. Every scenario when not given.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl Args {
    /// Whether `--only` keeps the scenario `key`.
    fn selected(&self, key: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| key.starts_with(p.as_str()))
    }
}

fn tiny_scale(args: &Args) -> bool {
    args.scale == Scale::Tiny
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

fn log(msg: impl AsRef<str>) {
    eprintln!(
        "[{}] {}",
        chrono::Utc::now().format("%H:%M:%S"),
        msg.as_ref()
    );
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Logs one scenario's figures.
fn log_result(r: &scenarios::ScenarioResult) {
    let statements = if r.peer {
        "-".to_string()
    } else {
        format!("{:.1}", r.statements_per_request)
    };
    log(format!(
        "    {:.0} req/s, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, {} errors, {statements} SQL/req, \
         peak RSS {:.1} MB, CPU % {} {:.0} client {:.0} database {:.0} other {:.0}",
        r.stats.throughput,
        r.stats.p50_ms,
        r.stats.p90_ms,
        r.stats.p99_ms,
        r.stats.errors,
        r.peak_rss_kib as f64 / 1024.0,
        if r.peer { "peer" } else { "server" },
        r.cpu.server,
        r.cpu.client,
        r.cpu.database,
        r.cpu.other
    ));
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tiny = args.scale == Scale::Tiny;
    let duration = args.duration_secs.unwrap_or(if tiny { 2 } else { 20 });
    let warmup = args.warmup_secs.unwrap_or(if tiny { 1 } else { 3 });
    if args.connections == 0 {
        anyhow::bail!("--connections must be at least 1");
    }
    let bin = server::find_binary(args.server_bin.as_deref())?;
    let census = args
        .census
        .clone()
        .unwrap_or_else(|| manifest_dir().join("../data/england_census_performance_tables.csv"));
    let out = args.out.clone().unwrap_or_else(|| {
        if tiny {
            std::env::temp_dir().join("senco-bench-tiny-REPORT.md")
        } else {
            manifest_dir().join("REPORT.md")
        }
    });
    let notes_path = args
        .notes
        .clone()
        .or_else(|| (!tiny).then(|| manifest_dir().join("NOTES.md")));
    let secret: String = {
        let mut rng = rand::rng();
        (0..48)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect()
    };
    let mut ctx = Context {
        command: command_line(),
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: machine(),
        load_before: loadavg(),
        load_after: String::new(),
        server_bin: format!(
            "{}{}",
            bin.display(),
            if bin.components().any(|c| c.as_os_str() == "debug") {
                " (DEBUG build: numbers are not representative)"
            } else {
                ""
            }
        ),
        commit: commit(),
        duration_secs: duration,
        warmup_secs: warmup,
        connections: args.connections,
        server_env: args.server_env.clone(),
    };
    let today = chrono::Utc::now().date_naive();
    let mut dbs = Vec::new();
    let kinds: &[DbBackend] = match args.db {
        Which::Sqlite => &[DbBackend::Sqlite],
        Which::Postgres => &[DbBackend::Postgres],
        Which::Both => &[DbBackend::Sqlite, DbBackend::Postgres],
    };
    let peer = peer_setup(&args, kinds).await?;
    for kind in kinds {
        let fresh = FreshDb::create(*kind, &args.postgres_url).await?;
        let peer = match (kind, &peer) {
            (DbBackend::Postgres, Ok(setup)) => Ok(setup),
            (DbBackend::Postgres, Err(why)) => Err(why.clone()),
            _ => Err("not run: the peer comparison runs on PostgreSQL only".to_string()),
        };
        let result = bench_one(
            &fresh,
            &args,
            &bin,
            &census,
            &secret,
            today,
            Duration::from_secs(warmup),
            Duration::from_secs(duration),
            peer,
        )
        .await;
        if args.keep_db {
            log(format!("kept the database: {}", fresh.url));
        } else {
            fresh.drop_it().await;
        }
        dbs.push(result?);
    }
    ctx.load_after = loadavg();
    let notes = notes_path.and_then(|p| std::fs::read_to_string(p).ok());
    let text = report::render(&ctx, &dbs, notes.as_deref());
    if let Some(dir) = out.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, &text).with_context(|| format!("writing {}", out.display()))?;
    println!("{text}");
    log(format!("report written to {}", out.display()));
    // Performance misses are reported, not fatal. Lost submissions are bugs and fail the
    // run; so do failed requests on the tiny data set (the reads after restarts included),
    // which nothing should overload (CI relies on that). On the full data set a request may
    // time out under overload, which the report shows.
    let broken: Vec<String> = dbs
        .iter()
        .flat_map(|db| {
            let mut v = Vec::new();
            let errors: u64 = db.scenarios.iter().map(|s| s.stats.total_errors).sum();
            if errors > 0 && tiny {
                v.push(format!("{}: {errors} failed requests", db.name));
            }
            let failed_restarts = db.restarts.iter().filter(|r| r.error.is_some()).count();
            if failed_restarts > 0 && tiny {
                v.push(format!(
                    "{}: {failed_restarts} reads after a restart failed",
                    db.name
                ));
            }
            if db.submit.lost > 0 || !db.submit.inconsistent.is_empty() {
                v.push(format!("{}: submissions lost or inconsistent", db.name));
            }
            v
        })
        .collect();
    if !broken.is_empty() {
        anyhow::bail!("the benchmark saw failures: {}", broken.join("; "));
    }
    Ok(())
}

/// How the peer comparison will run, or why it will not (a sentence starting "not run"):
/// installs the peer when the run measures PostgreSQL and the comparison is neither turned
/// off nor left out by `--only`.
async fn peer_setup(
    args: &Args,
    kinds: &[DbBackend],
) -> anyhow::Result<Result<compare::Setup, String>> {
    let why = if args.no_peer {
        "not run: --no-peer"
    } else if !kinds.contains(&DbBackend::Postgres) {
        "not run: the peer comparison runs on PostgreSQL only, and this run measures SQLite alone"
    } else if !compare::keys().any(|k| args.selected(k)) {
        "not run: left out by --only"
    } else {
        // Our server's pool: `--server-env`, else what it inherits, else its default.
        let pool = args
            .server_env
            .iter()
            .rev()
            .find(|(k, _)| k == "SENCO_DB_MAX_CONNECTIONS")
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var("SENCO_DB_MAX_CONNECTIONS").ok())
            .map_or(Ok(8), |v| v.parse::<u32>())
            .context("SENCO_DB_MAX_CONNECTIONS is not a number")?;
        if args.peer_workers == 0 {
            anyhow::bail!("--peer-workers must be at least 1");
        }
        let installed = peer::install().await?;
        log(format!(
            "peer: PostGraphile {} on Node.js {}, pool {pool}, {} worker{}",
            installed.version,
            installed.node,
            args.peer_workers,
            if args.peer_workers == 1 { "" } else { "s" }
        ));
        return Ok(Ok(compare::Setup {
            installed,
            pool,
            workers: args.peer_workers,
            keep_log: args.keep_db,
        }));
    };
    log(format!(
        "peer comparison (PostGraphile, issue 21) skipped: {}",
        why.trim_start_matches("not run: ")
    ));
    Ok(Err(why.to_string()))
}

/// A database made for one run, removed afterwards.
struct FreshDb {
    kind: DbBackend,
    url: String,
    admin_url: String,
    pg_name: Option<String>,
    dir: Option<PathBuf>,
}

impl FreshDb {
    async fn create(kind: DbBackend, postgres_url: &str) -> anyhow::Result<Self> {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let suffix = &suffix[..12];
        if kind == DbBackend::Postgres {
            let name = format!("senco_bench_{suffix}");
            let admin = sea_orm::Database::connect(postgres_url)
                .await
                .with_context(|| format!("connecting to {postgres_url}"))?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await.ok();
            let host_start = postgres_url.find("//").map_or(0, |i| i + 2);
            let (base, query) = match postgres_url.split_once('?') {
                Some((b, q)) => (b, format!("?{q}")),
                None => (postgres_url, String::new()),
            };
            let url = match base[host_start..].find('/') {
                Some(i) => format!("{}/{name}{query}", &base[..host_start + i]),
                None => format!("{base}/{name}{query}"),
            };
            Ok(Self {
                kind,
                url,
                admin_url: postgres_url.to_string(),
                pg_name: Some(name),
                dir: None,
            })
        } else {
            let dir = std::env::temp_dir().join(format!("senco-bench-{suffix}"));
            std::fs::create_dir_all(&dir)?;
            let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
            Ok(Self {
                kind,
                url,
                admin_url: String::new(),
                pg_name: None,
                dir: Some(dir),
            })
        }
    }

    fn name(&self) -> &'static str {
        if self.kind == DbBackend::Postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    async fn drop_it(self) {
        if let Some(name) = &self.pg_name {
            match sea_orm::Database::connect(&self.admin_url).await {
                Ok(admin) => {
                    if let Err(e) = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                    {
                        log(format!("could not drop {name}: {e}"));
                    }
                    admin.close().await.ok();
                }
                Err(e) => log(format!("could not drop {name}: {e}")),
            }
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn bench_one(
    fresh: &FreshDb,
    args: &Args,
    bin: &Path,
    census: &Path,
    secret: &str,
    today: chrono::NaiveDate,
    warmup: Duration,
    duration: Duration,
    peer: Result<&compare::Setup, String>,
) -> anyhow::Result<DbReport> {
    let name = fresh.name();
    if fresh.kind == DbBackend::Sqlite && args.db == Which::Both && !args.no_peer {
        log(format!(
            "{name}: no peer comparison on SQLite (PostGraphile needs PostgreSQL)"
        ));
    }
    log(format!("{name}: building the data set ({:?})", args.scale));
    let db = Db::connect(&fresh.url, 4)
        .await
        .with_context(|| format!("connecting to {}", fresh.url))?;
    db.migrate().await?;
    let version = db_version(&db)
        .await
        .unwrap_or_else(|_| "unknown version".into());
    let data = dataset::build(&db, census, args.scale, today).await?;
    db.conn.close().await.ok();
    log(format!(
        "{name}: data set built in {:.1} s: {}",
        data.elapsed.as_secs_f64(),
        data.counts
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    let log_path = std::env::temp_dir().join(format!(
        "senco-bench-server-{}-{}.log",
        name.to_lowercase(),
        std::process::id()
    ));
    let srv = Server::start(
        bin,
        &fresh.url,
        secret,
        &args.server_env,
        log_path.clone(),
        server::HEALTH_POLL,
    )
    .await?;
    log(format!("{name}: server {} up as pid {}", srv.base, srv.pid));
    let idle_memory = srv.memory();
    let outcome = drive(
        &srv,
        &fresh.url,
        &data,
        secret,
        args,
        warmup,
        duration,
        peer.as_ref().ok().copied(),
    )
    .await;
    // The event figures last, so that their webhook and subscriptions touch nothing else.
    let events = if outcome.is_ok() && args.selected("events") {
        log(format!(
            "{name}: events: webhook delivery lag, then fan-out to subscriptions"
        ));
        let (rate, subscribers, fanout_rate) = if tiny_scale(args) {
            (50.0, 50, 10.0)
        } else {
            (500.0, 1000, 20.0)
        };
        match events::measure(
            &srv,
            &data,
            secret,
            rate,
            subscribers,
            fanout_rate,
            duration,
            args.connections,
        )
        .await
        {
            Ok(e) => {
                log(format!(
                    "    webhook: {} of {} delivered, {:.0}/s, lag p99 {:.0} ms; fan-out to {}: {} of {} received, p99 {:.0} ms, RSS {:.1} MB",
                    e.delivered,
                    e.submitted,
                    e.achieved_rate,
                    e.lag.p99,
                    e.subscribers,
                    e.fanout_received,
                    e.fanout_events * e.subscribers,
                    e.fanout.p99,
                    e.rss_peak_kib as f64 / 1024.0
                ));
                Ok(e)
            }
            Err(e) => {
                log(format!("    events failed: {e:#}"));
                Err(format!("failed: {e:#}"))
            }
        }
    } else {
        Err("not run: left out by --only".to_string())
    };
    let end_memory = srv.memory();
    let status = srv.stop().await?;
    log(format!("{name}: server stopped ({status})"));
    let (scenarios, shapes, peer_run) = outcome?;
    let mut server_log: Vec<String> = std::fs::read_to_string(&log_path)
        .map(|t| {
            t.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let restart_log = log_path.with_extension("restart.log");
    let restarts = if args.selected("restart") {
        log(format!(
            "{name}: restarting the server {} times for each first read",
            restart::TIMES
        ));
        let (restarts, restart_lines) = restart::measure(
            bin,
            &fresh.url,
            secret,
            &args.server_env,
            &restart_log,
            &data,
        )
        .await?;
        server_log.extend(restart_lines);
        restarts
    } else {
        log(format!("{name}: restarts left out by --only"));
        Vec::new()
    };
    if args.keep_db {
        log(format!(
            "kept the server logs: {} and {}",
            log_path.display(),
            restart_log.display()
        ));
    } else {
        let _ = std::fs::remove_file(&log_path);
        let _ = std::fs::remove_file(&restart_log);
    }

    let db = Db::connect(&fresh.url, 2).await?;
    let submit = match scenarios.iter().find(|s| s.key == "submit") {
        Some(s) => scenarios::verify_submissions(&db, &data, &s.stats).await?,
        None => scenarios::SubmitCheck::default(),
    };
    db.conn.close().await.ok();
    Ok(DbReport {
        name,
        version,
        data,
        idle_memory,
        end_memory,
        scenarios,
        shapes,
        submit,
        restarts,
        peer_skipped: match (&peer_run, peer) {
            (Some(_), _) => None,
            (None, Err(why)) => Some(why),
            (None, Ok(_)) => Some("not run".to_string()),
        },
        peer: peer_run,
        events,
        server_log_lines: server_log.len(),
        server_log_sample: server_log
            .iter()
            .take(3)
            .map(|l| strip_ansi(l).chars().take(400).collect())
            .collect(),
    })
}

/// What [`drive`] measured: the scenarios, the statement counts, and how the peer ran.
type Driven = (
    Vec<scenarios::ScenarioResult>,
    Vec<scenarios::ShapeCheck>,
    Option<compare::PeerRun>,
);

/// Runs the shape checks and every scenario `--only` keeps against `srv`, then, with `peer`,
/// the peer comparison; the scenarios that run SQL directly use a pool of their own on
/// `database_url`, of `--connections` connections.
#[allow(clippy::too_many_arguments)]
async fn drive(
    srv: &Server,
    database_url: &str,
    data: &dataset::DataSet,
    secret: &str,
    args: &Args,
    warmup: Duration,
    duration: Duration,
    peer: Option<&compare::Setup>,
) -> anyhow::Result<Driven> {
    let connections = args.connections;
    let shapes = scenarios::shape_checks(srv, data, secret).await?;
    let pool_size = u32::try_from(connections).unwrap_or(u32::MAX);
    let direct = Db::connect(database_url, pool_size)
        .await
        .with_context(|| format!("connecting the benchmark's own pool to {database_url}"))?;
    let mut results = Vec::new();
    let mut outcome = Ok(());
    for s in scenarios::plan(data, secret, connections)? {
        if !args.selected(s.key) {
            continue;
        }
        log(format!("  {} ({} clients)", s.key, s.connections));
        // Whether every read follows a change to reference data, and so can never be
        // answered from a cache. (Scenarios whose changes are to the data read are checked
        // before they run: one change must change the answer.)
        let uncached = matches!(
            &s.workload,
            scenarios::Work::Http(load::Workload::Read {
                write_before_each: Some(w),
                ..
            }) if w.is_reference_data()
        );
        let r = match scenarios::run(srv, &direct.conn, s, warmup, duration).await {
            Ok(r) => r,
            Err(e) => {
                outcome = Err(e);
                break;
            }
        };
        // A read said to be computed afresh after every change that ran no more than the
        // change counters' statement was answered from a cache: the changes did not reach
        // the counters, and the scenario would measure the wrong thing.
        if uncached && r.statements_per_request < 1.5 {
            outcome = Err(anyhow::anyhow!(
                "{}: {:.1} statements per read although reference data changed before each; \
                 the changes are not reaching the server's change counters",
                r.key,
                r.statements_per_request
            ));
            break;
        }
        if r.fresh_tokens.is_some() && r.response_hits > 0 {
            log(format!(
                "    WARNING: {} of its requests were answered from the whole-response cache \
                 although each carried a token of its own",
                r.response_hits
            ));
        }
        log_result(&r);
        results.push(r);
    }
    let mut peer_run = None;
    if outcome.is_ok()
        && let Some(setup) = peer
    {
        log("PostgreSQL: the peer comparison (issue 21)");
        match compare::run(
            setup,
            srv,
            &direct.conn,
            database_url,
            data,
            secret,
            connections,
            warmup,
            duration,
            &|k| args.selected(k),
        )
        .await
        {
            Ok((r, run)) => {
                results.extend(r);
                peer_run = Some(run);
            }
            Err(e) => outcome = Err(e.context("the peer comparison")),
        }
    }
    direct.conn.close().await.ok();
    outcome?;
    Ok((results, shapes, peer_run))
}

async fn db_version(db: &Db) -> anyhow::Result<String> {
    let backend = db.backend();
    let (sql, label) = if backend == DbBackend::Postgres {
        ("SELECT version() AS v", "")
    } else {
        ("SELECT sqlite_version() AS v", "SQLite ")
    };
    let row = db
        .conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .context("no version row")?;
    let v: String = row.try_get("", "v")?;
    let short: String = v.split(',').next().unwrap_or(&v).to_string();
    Ok(format!("{label}{short}"))
}

/// Removes terminal colour sequences (`ESC [ ... m`) from a log line.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn command_line() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .strip_prefix(manifest_dir().join(".."))
                .map(|r| r.display().to_string())
                .unwrap_or(p)
        })
        .unwrap_or_else(|| "senco-bench".into());
    std::iter::once(program)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or("unknown memory".to_string(), |kib| {
            format!("{:.1} GB RAM", kib as f64 / 1024.0 / 1024.0)
        });
    format!("{model}, {cores} cores, {mem}, {}", std::env::consts::OS)
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(manifest_dir())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".into(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
}
