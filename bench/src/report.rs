//! The markdown report: the machine and settings, the data set, a table of every scenario
//! per database, the database's own time beside the server's, the peer comparison of issue
//! 21 (PostgreSQL), the restarts, and one line per target of SPEC 7 and of issue 21 saying
//! whether it was met and by how much.

use std::fmt::Write as _;

use crate::compare::{self, PeerRun};
use crate::dataset::DataSet;
use crate::restart::{self, Read, Restart};
use crate::scenarios::{FRESH_TOKENS, ScenarioResult, ShapeCheck, SubmitCheck, Target};
use crate::server::Memory;

/// The memory target of SPEC 7, in MB.
pub const RSS_TARGET_MB: f64 = 150.0;

/// The most the server may take over the database's own time for a page (SPEC 7).
pub const RATIO_TARGET: f64 = 2.0;

/// A page whose server time is put over the database's own: its name, the server's
/// no-reuse scenarios at one client and at N, the SQL's at one and at N, and the scenario
/// computing the page afresh after a change at one client (for information).
struct RatioPage {
    name: &'static str,
    server_1: &'static str,
    server_n: &'static str,
    sql_1: &'static str,
    sql_n: &'static str,
    afresh_1: &'static str,
}

/// The pages of the ratio target.
const RATIO_PAGES: [RatioPage; 2] = [
    RatioPage {
        name: "LA dashboard",
        server_1: "dashboard-fresh-1",
        server_n: "dashboard-fresh",
        sql_1: "sql-dashboard-1",
        sql_n: "sql-dashboard",
        afresh_1: "dashboard-cold-1",
    },
    RatioPage {
        name: "`termlySummary` for one LA",
        server_1: "summary-la-fresh-1",
        server_n: "summary-la-fresh-n",
        sql_1: "sql-summary-la-1",
        sql_n: "sql-summary-la-n",
        afresh_1: "summary-la-cold-1",
    },
];

/// Everything measured on one database.
#[derive(Debug, Clone)]
pub struct DbReport {
    /// "SQLite" or "PostgreSQL".
    pub name: &'static str,
    /// The database's version.
    pub version: String,
    /// What was loaded.
    pub data: DataSet,
    /// Server memory right after start-up (before load).
    pub idle_memory: Memory,
    /// Server memory after every scenario.
    pub end_memory: Memory,
    /// The scenarios.
    pub scenarios: Vec<ScenarioResult>,
    /// Statement counts at two page sizes.
    pub shapes: Vec<ShapeCheck>,
    /// What the writers left in the database.
    pub submit: SubmitCheck,
    /// The restarts after the scenarios, and their first reads.
    pub restarts: Vec<Restart>,
    /// How the peer comparison ran, when it did.
    pub peer: Option<PeerRun>,
    /// Why it did not (starting "not run"), when it did not.
    pub peer_skipped: Option<String>,
    /// The webhook delivery and subscription fan-out figures (issue 19), or why they were
    /// not measured.
    pub events: Result<crate::events::EventsRun, String>,
    /// Lines the server logged (at `warn` or above).
    pub server_log_lines: usize,
    /// The first few of them.
    pub server_log_sample: Vec<String>,
}

/// Run-wide facts for the header.
#[derive(Debug, Clone)]
pub struct Context {
    /// The command that produced the report.
    pub command: String,
    /// When (UTC).
    pub generated: String,
    /// CPU model and count, memory.
    pub machine: String,
    /// Load averages before the run.
    pub load_before: String,
    /// Load averages after the run.
    pub load_after: String,
    /// The server binary, and whether it is a release build.
    pub server_bin: String,
    /// The commit checked out.
    pub commit: String,
    /// Measured seconds per scenario.
    pub duration_secs: u64,
    /// Warm-up seconds per scenario.
    pub warmup_secs: u64,
    /// Concurrent clients.
    pub connections: usize,
    /// Extra server environment.
    pub server_env: Vec<(String, String)>,
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The scenario that asks the same as `key` with each request under a token of its own, so
/// that no whole response can be reused.
fn no_reuse_of(key: &str) -> Option<&'static str> {
    match key {
        "dashboard" => Some("dashboard-fresh"),
        "summary-la-1" => Some("summary-la-fresh-1"),
        "summary-all-1" => Some("summary-all-fresh-1"),
        _ => None,
    }
}

/// The scenario that asks the same as `key` with a change before the reads (or, for the
/// dashboard, under them), so that the server must compute the answer afresh.
fn updated_of(key: &str) -> Option<&'static str> {
    match key {
        "dashboard" => Some("dashboard-writes"),
        "summary-la-1" => Some("summary-la-cold-1"),
        "summary-all-1" => Some("summary-all-cold-1"),
        _ => None,
    }
}

/// The scenario that asks the same as `key` with a reference-data change before every read,
/// so that the server computes the answer afresh each time.
fn full_of(key: &str) -> Option<&'static str> {
    match key {
        "dashboard" => Some("dashboard-full-1"),
        "summary-la-1" => Some("summary-la-full-1"),
        "summary-all-1" => Some("summary-all-full-1"),
        _ => None,
    }
}

/// The text of a verdict without its leading "met: " or "NOT met: ".
fn strip(t: &str) -> String {
    t.split_once(": ")
        .map_or(t.to_string(), |(_, rest)| rest.to_string())
}

/// The after-a-reference-data-change figure for `key`'s target, for information: against
/// the target when the scenario has the same number of clients, else its p50 and p99 alone.
fn full_text(db: &DbReport, target: Target, key: &str) -> Option<String> {
    let full = full_of(key)?;
    let r = db.scenarios.iter().find(|s| s.key == full)?;
    let main_clients = db
        .scenarios
        .iter()
        .find(|s| s.key == key)
        .map(|s| s.stats.connections);
    let text = if main_clients == Some(r.stats.connections) {
        strip(&verdict_of(db, target, full).1)
    } else {
        let errors = if r.stats.errors > 0 {
            format!(", {} errors", r.stats.errors)
        } else {
            String::new()
        };
        format!(
            "{} client{}: p50 {:.1} ms, p99 {:.1} ms (no target at this concurrency){errors}",
            r.stats.connections,
            if r.stats.connections == 1 { "" } else { "s" },
            r.stats.p50_ms,
            r.stats.p99_ms
        )
    };
    Some(format!(
        "; after a reference-data change before every read ({full}, for information) {text}"
    ))
}

/// One target's verdict on one database: (met, text). A latency target counts as met only
/// when it is met for repeated identical requests (which the server may answer with a whole
/// response it keeps), with no whole response reused (each request under a token of its
/// own), and after a change (computed afresh from the stored facts), where each was
/// measured. The figure after a reference-data change before every read is stated too, for
/// information: it does not decide the verdict.
pub fn verdict(db: &DbReport, target: Target, key: &str) -> (bool, String) {
    let (met, text) = verdict_of(db, target, key);
    let full = full_text(db, target, key).unwrap_or_default();
    let ran = |k: &&str| db.scenarios.iter().any(|s| s.key == *k);
    let mut others = Vec::new();
    if let Some(k) = no_reuse_of(key).filter(ran) {
        others.push(("no reuse", format!("no whole response reused ({k})"), k));
    }
    if let Some(k) = updated_of(key).filter(ran) {
        others.push((
            "after a change",
            format!("after a change, computed afresh from the stored facts ({k})"),
            k,
        ));
    }
    if others.is_empty() {
        return (met, format!("{text}{full}"));
    }
    let mut failed = if met { Vec::new() } else { vec!["repeated"] };
    let mut parts = vec![format!("repeated requests {}", strip(&text))];
    for (short, long, k) in others {
        let (m, t) = verdict_of(db, target, k);
        if !m {
            failed.push(short);
        }
        parts.push(format!("{long} {}", strip(&t)));
    }
    let label = if failed.is_empty() {
        "met".to_string()
    } else {
        format!("NOT met (not met: {})", failed.join(", "))
    };
    (
        failed.is_empty(),
        format!("{label}: {}{full}", parts.join("; ")),
    )
}

fn verdict_of(db: &DbReport, target: Target, key: &str) -> (bool, String) {
    let Some(r) = db.scenarios.iter().find(|s| s.key == key) else {
        return (false, "not run".into());
    };
    let s = &r.stats;
    let mut errors = if s.errors > 0 {
        format!(", {} errors", s.errors)
    } else {
        String::new()
    };
    // A scenario meant to reuse no whole response that did is no measurement of that.
    let reused = r.fresh_tokens.is_some() && r.response_hits > 0;
    if reused {
        let _ = write!(
            errors,
            ", yet {} responses were reused from the whole-response cache, so this is no \
             measurement without reuse",
            r.response_hits
        );
    }
    match target {
        Target::P99AtMost(limit) | Target::P50AtMost(limit) => {
            let (label, v) = match target {
                Target::P99AtMost(_) => ("p99", s.p99_ms),
                _ => ("p50", s.p50_ms),
            };
            let met = v <= limit && s.errors == 0 && !reused;
            let how = if v <= limit {
                format!("{:.0}% under", (1.0 - v / limit) * 100.0)
            } else {
                format!("{:.0}% over ({:.1}x)", (v / limit - 1.0) * 100.0, v / limit)
            };
            (
                met,
                format!(
                    "{}: {label} {v:.1} ms vs {limit:.0} ms, {how}{errors}",
                    if met { "met" } else { "NOT met" }
                ),
            )
        }
        Target::Throughput(limit) => {
            let v = s.throughput;
            let lost = db.submit.lost;
            let met = v >= limit && lost == 0 && s.errors == 0 && db.submit.inconsistent.is_empty();
            let how = if v >= limit {
                format!("{:+.0}%", (v / limit - 1.0) * 100.0)
            } else {
                format!("{:.0}% short", (1.0 - v / limit) * 100.0)
            };
            (
                met,
                format!(
                    "{}: {v:.0}/s vs {limit:.0}/s ({how}); {} acknowledged, {} stored, {lost} lost{errors}",
                    if met { "met" } else { "NOT met" },
                    db.submit.acknowledged,
                    db.submit.stored,
                ),
            )
        }
    }
}

/// The memory verdict: peak RSS during the write load.
pub fn memory_verdict(db: &DbReport) -> (bool, String) {
    let Some(submit) = db.scenarios.iter().find(|s| s.key == "submit") else {
        return (false, "not run".into());
    };
    let peak = submit.peak_rss_kib;
    let v = mb(peak);
    let met = peak > 0 && v <= RSS_TARGET_MB;
    let how = if v <= RSS_TARGET_MB {
        format!("{:.0}% under", (1.0 - v / RSS_TARGET_MB) * 100.0)
    } else {
        format!("{:.0}% over", (v / RSS_TARGET_MB - 1.0) * 100.0)
    };
    let overall = mb(db.end_memory.hwm_kib);
    (
        met,
        format!(
            "{}: {v:.1} MB peak RSS under the write load vs {RSS_TARGET_MB:.0} MB, {how} \
             (VmHWM over the whole run {overall:.1} MB)",
            if met { "met" } else { "NOT met" }
        ),
    )
}

/// The statement-bound verdict: equal counts at the two page sizes of each query, and no
/// more statements per request under concurrency than alone.
pub fn shape_verdict(db: &DbReport) -> (bool, String) {
    let mut met = !db.shapes.is_empty();
    let mut parts = Vec::new();
    for c in &db.shapes {
        let counts: Vec<String> = c
            .runs
            .iter()
            .map(|(first, rows, n)| format!("{n} statements for {rows} rows (first {first})"))
            .collect();
        let bounded = c.runs.windows(2).all(|w| w[1].2 <= w[0].2);
        met &= bounded;
        parts.push(format!("{}: {}", c.query, counts.join(", ")));
    }
    // The same query alone and under concurrency: a count that rises with load is not
    // bounded by the shape either (DataLoader batches cut short run again).
    for (name, concurrent, alone) in [
        ("LA dashboard", "dashboard", "dashboard-1"),
        (
            "LA dashboard, no whole response reused",
            "dashboard-fresh",
            "dashboard-fresh-1",
        ),
        (
            "LA dashboard, after a change",
            "dashboard-writes",
            "dashboard-cold-1",
        ),
        ("nested dashboard", "nested", "nested-1"),
        ("`termlySummary` for one LA", "summary-la-n", "summary-la-1"),
        (
            "`termlySummary` for one LA, no whole response reused",
            "summary-la-fresh-n",
            "summary-la-fresh-1",
        ),
        (
            "`termlySummary` for the country",
            "summary-all-n",
            "summary-all-1",
        ),
    ] {
        let find = |k: &str| db.scenarios.iter().find(|s| s.key == k);
        if let (Some(c), Some(a)) = (find(concurrent), find(alone)) {
            let grows = c.statements_per_request > a.statements_per_request * 1.1 + 0.5;
            met &= !grows;
            if grows {
                parts.push(format!(
                    "{name}: {:.1} statements per request alone but {:.1} at {} clients",
                    a.statements_per_request, c.statements_per_request, c.stats.connections
                ));
            }
        }
    }
    (
        met,
        format!(
            "{}: {}",
            if met { "met" } else { "NOT met" },
            parts.join("; ")
        ),
    )
}

/// The server's time for a page over the database's own: (p50 at one client, time per page
/// at N clients), each as server / database; `None` where a scenario is missing or measured
/// nothing.
fn ratios(db: &DbReport, page: &RatioPage) -> Option<(f64, f64)> {
    let find = |k: &str| db.scenarios.iter().find(|s| s.key == k);
    let (s1, sn, d1, dn) = (
        find(page.server_1)?,
        find(page.server_n)?,
        find(page.sql_1)?,
        find(page.sql_n)?,
    );
    let positive = |v: f64| (v > 0.0).then_some(v);
    let p50 = s1.stats.p50_ms / positive(d1.stats.p50_ms)?;
    // Time per page is the inverse of throughput.
    let per_page = dn.stats.throughput / positive(sn.stats.throughput)?;
    Some((p50, per_page))
}

/// The ratio verdict for one page: the server's time with no whole response reused over the
/// database's own time for the page's SQL, at one client (p50) and at N (time per page, from
/// throughput), each at most [`RATIO_TARGET`]. The page computed afresh after a change, at
/// one client, is put over the database's time too, for information.
fn ratio_verdict(db: &DbReport, page: &RatioPage) -> (bool, String) {
    let find = |k: &str| db.scenarios.iter().find(|s| s.key == k);
    let (Some(s1), Some(sn), Some(d1), Some(dn)) = (
        find(page.server_1),
        find(page.server_n),
        find(page.sql_1),
        find(page.sql_n),
    ) else {
        return (false, "not run".into());
    };
    let Some((p50, per_page)) = ratios(db, page) else {
        return (false, "NOT met: a run measured nothing".into());
    };
    let errors: u64 = [s1, sn, d1, dn].iter().map(|r| r.stats.errors).sum();
    let reused = [s1, sn].iter().any(|r| r.response_hits > 0);
    let met = p50 <= RATIO_TARGET && per_page <= RATIO_TARGET && errors == 0 && !reused;
    let judge = |r: f64| {
        if r <= RATIO_TARGET { "within" } else { "over" }
    };
    let mut text = format!(
        "{}: one client, p50 {:.2} ms (server, no reuse) / {:.2} ms (database) = {p50:.2}x, \
         {} {RATIO_TARGET:.0}x; {} clients, {:.0} pages/s (server) vs {:.0}/s (database), \
         time per page {per_page:.2}x, {} {RATIO_TARGET:.0}x",
        if met { "met" } else { "NOT met" },
        s1.stats.p50_ms,
        d1.stats.p50_ms,
        judge(p50),
        sn.stats.connections,
        sn.stats.throughput,
        dn.stats.throughput,
        judge(per_page),
    );
    if errors > 0 {
        let _ = write!(text, "; {errors} errors");
    }
    if reused {
        let _ = write!(
            text,
            "; some of the server's responses were reused from its whole-response cache, so \
             its figure is no measurement without reuse"
        );
    }
    if let Some(a) = find(page.afresh_1)
        && d1.stats.p50_ms > 0.0
    {
        let _ = write!(
            text,
            "; for information, computed afresh after a change ({}, one client): p50 {:.2} ms \
             = {:.2}x the database's",
            page.afresh_1,
            a.stats.p50_ms,
            a.stats.p50_ms / d1.stats.p50_ms
        );
    }
    (met, text)
}

/// The scenario `key` of `db`, when it ran.
fn find<'a>(db: &'a DbReport, key: &str) -> Option<&'a ScenarioResult> {
    db.scenarios.iter().find(|s| s.key == key)
}

/// Why a figure is no measurement: failed requests, none measured, or (for a scenario meant
/// to reuse no whole response) whole responses reused all the same.
fn spoiled(r: &ScenarioResult) -> Option<String> {
    if r.stats.requests == 0 {
        Some(format!("{}: no requests measured", r.key))
    } else if r.stats.errors > 0 {
        Some(format!("{}: {} failed requests", r.key, r.stats.errors))
    } else if r.fresh_tokens.is_some() && r.response_hits > 0 {
        Some(format!(
            "{}: {} whole responses reused although each request had a token of its own",
            r.key, r.response_hits
        ))
    } else {
        None
    }
}

/// One target of issue 21 checked on one row of the peer comparison (a read at one
/// concurrency), with no whole response reused.
struct CmpCheck {
    /// Which read and row: (index in [`compare::READS`], 0 for one client or 1 for N).
    row: (usize, usize),
    /// "flat, 1 client".
    label: String,
    /// Against the peer (else against the database's own SQL).
    against_peer: bool,
    /// Met.
    met: bool,
    /// The figures.
    text: String,
}

/// The targets of issue 21 on every row of the comparison that ran: at one client our p50
/// at most the peer's, at N our throughput at least the peer's; at both, our throughput at
/// least the read's share of the SQL's.
fn cmp_checks(db: &DbReport) -> Vec<CmpCheck> {
    let mut out = Vec::new();
    for (r, read) in compare::READS.iter().enumerate() {
        let short = read.name.split(':').next().unwrap_or(read.name);
        for (i, keys) in read.keys.iter().enumerate() {
            let Some(fresh) = find(db, keys.fresh) else {
                continue;
            };
            let n = fresh.stats.connections;
            let label = format!("{short}, {n} client{}", if n == 1 { "" } else { "s" });
            if let Some(peer) = find(db, keys.peer) {
                let spoilt = spoiled(fresh).or_else(|| spoiled(peer));
                let (ok, figures) = if i == 0 {
                    (
                        fresh.stats.p50_ms <= peer.stats.p50_ms,
                        format!(
                            "p50 {:.2} ms vs PostGraphile's {:.2} ms ({:.2}x)",
                            fresh.stats.p50_ms,
                            peer.stats.p50_ms,
                            fresh.stats.p50_ms / peer.stats.p50_ms.max(1e-9)
                        ),
                    )
                } else {
                    (
                        fresh.stats.throughput >= peer.stats.throughput,
                        format!(
                            "{:.0}/s vs PostGraphile's {:.0}/s ({:.2}x)",
                            fresh.stats.throughput,
                            peer.stats.throughput,
                            fresh.stats.throughput / peer.stats.throughput.max(1e-9)
                        ),
                    )
                };
                out.push(CmpCheck {
                    row: (r, i),
                    label: label.clone(),
                    against_peer: true,
                    met: ok && spoilt.is_none(),
                    text: match spoilt {
                        Some(why) => format!("{figures}; {why}"),
                        None => figures,
                    },
                });
            }
            if let Some(sql) = find(db, keys.sql) {
                let spoilt = spoiled(fresh).or_else(|| spoiled(sql));
                let share = fresh.stats.throughput / sql.stats.throughput.max(1e-9);
                let figures = format!(
                    "{:.0}/s vs the SQL's {:.0}/s ({share:.2}, at least {} needed)",
                    fresh.stats.throughput, sql.stats.throughput, read.share_text
                );
                out.push(CmpCheck {
                    row: (r, i),
                    label,
                    against_peer: false,
                    met: share >= read.sql_share - 1e-9 && spoilt.is_none(),
                    text: match spoilt {
                        Some(why) => format!("{figures}; {why}"),
                        None => figures,
                    },
                });
            }
        }
    }
    out
}

/// An issue 21 verdict from the checks `keep` keeps, or why it was not run.
fn cmp_verdict(db: &DbReport, keep: impl Fn(&CmpCheck) -> bool) -> (bool, String) {
    let checks: Vec<CmpCheck> = cmp_checks(db).into_iter().filter(|c| keep(c)).collect();
    if checks.is_empty() {
        return (
            false,
            db.peer_skipped
                .clone()
                .unwrap_or_else(|| "not run".to_string()),
        );
    }
    let met = checks.iter().all(|c| c.met);
    let parts: Vec<String> = checks
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                c.label,
                c.text,
                if c.met { "" } else { " (missed)" }
            )
        })
        .collect();
    (
        met,
        format!(
            "{}: {}",
            if met { "met" } else { "NOT met" },
            parts.join("; ")
        ),
    )
}

/// The transport floor's verdict: our floors ran no SQL statement.
/// Statements per request the floor may show from the server's background work alone.
const FLOOR_BACKGROUND: f64 = 0.001;

fn floor_verdict(db: &DbReport) -> (bool, String) {
    let ours: Vec<&ScenarioResult> = [compare::FLOOR_OURS_VIEWER, compare::FLOOR_OURS_TYPENAME]
        .iter()
        .filter_map(|k| find(db, k))
        .collect();
    if ours.is_empty() {
        return (
            false,
            db.peer_skipped
                .clone()
                .unwrap_or_else(|| "not run".to_string()),
        );
    }
    let mut met = true;
    let mut parts = Vec::new();
    for r in &ours {
        let query = if r.key == compare::FLOOR_OURS_VIEWER {
            compare::FLOOR_VIEWER
        } else {
            compare::FLOOR_TYPENAME
        };
        // The process's own background work (the webhook deliverer looks for due deliveries
        // every second) runs a statement or so a second whatever the load, which comes to
        // well under 0.001 per request at these rates; a request that read the database
        // would make it at least 1.
        let clean = r.statements_per_request < FLOOR_BACKGROUND && spoiled(r).is_none();
        met &= clean;
        parts.push(format!(
            "`{query}` {:.5} SQL statements per request, the background's ({:.0}/s, p50 {:.2} ms, p99 {:.2} ms{})",
            r.statements_per_request,
            r.stats.throughput,
            r.stats.p50_ms,
            r.stats.p99_ms,
            spoiled(r).map_or(String::new(), |w| format!("; {w}"))
        ));
    }
    if let Some(p) = find(db, compare::FLOOR_PEER) {
        parts.push(format!(
            "for comparison PostGraphile's `{}` {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
            compare::FLOOR_TYPENAME,
            p.stats.throughput,
            p.stats.p50_ms,
            p.stats.p99_ms
        ));
    }
    (
        met,
        format!(
            "{}: {}",
            if met { "met" } else { "NOT met" },
            parts.join("; ")
        ),
    )
}

/// The restart verdict for one read: every restart's read answered, the slowest within
/// `limit_ms` of `/health` first answering 200.
pub fn restart_verdict(db: &DbReport, read: Read, limit_ms: f64) -> (bool, String) {
    let runs: Vec<&Restart> = db.restarts.iter().filter(|r| r.read == read).collect();
    if runs.is_empty() {
        return (false, "not run".into());
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let failures: Vec<String> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.error.as_ref().map(|e| format!("restart {}: {e}", i + 1)))
        .collect();
    let times: Vec<f64> = runs.iter().filter_map(|r| r.answered_in.map(ms)).collect();
    let slowest = times.iter().copied().fold(0.0, f64::max);
    let met = failures.is_empty() && slowest <= limit_ms;
    let how = if slowest <= limit_ms {
        format!("{:.0}% under", (1.0 - slowest / limit_ms) * 100.0)
    } else {
        format!(
            "{:.0}% over ({:.1}x)",
            (slowest / limit_ms - 1.0) * 100.0,
            slowest / limit_ms
        )
    };
    let each: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    let up: Vec<String> = runs.iter().map(|r| format!("{:.0}", ms(r.up_in))).collect();
    let rows = runs
        .iter()
        .find_map(|r| r.total_count)
        .map_or(String::new(), |n| format!("; {n} deadlines in all"));
    let mut text = format!(
        "{}: slowest of {} restarts answered {slowest:.1} ms after `/health` first answered \
         200 vs {limit_ms:.0} ms, {how} (each: {} ms; `/health` first 200 after {} ms){rows}",
        if met { "met" } else { "NOT met" },
        runs.len(),
        each.join(", "),
        up.join(", "),
    );
    if !failures.is_empty() {
        let _ = write!(text, "; failed: {}", failures.join("; "));
    }
    (met, text)
}

/// Every target's verdicts on one database, in SPEC order.
pub fn verdicts(db: &DbReport) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    for r in &db.scenarios {
        if let Some((label, target)) = r.target {
            let (met, text) = verdict(db, target, r.key);
            out.push((label.to_string(), met, text));
        }
    }
    let (met, text) = memory_verdict(db);
    out.push((
        "Server resident memory <= 150 MB under the write load".into(),
        met,
        text,
    ));
    let (met, text) = shape_verdict(db);
    out.push((
        "SQL statements per request bounded by the query's shape".into(),
        met,
        text,
    ));
    for page in &RATIO_PAGES {
        let (met, text) = ratio_verdict(db, page);
        out.push((
            format!(
                "{}: server time (no reuse) <= {RATIO_TARGET:.0}x the database's own for the \
                 same SQL, same concurrency",
                page.name
            ),
            met,
            text,
        ));
    }
    for (read, label, limit) in [
        (
            Read::Dashboard,
            "After a restart: LA dashboard within 100 ms of `/health` first answering 200",
            restart::DASHBOARD_TARGET_MS,
        ),
        (
            Read::Country,
            "After a restart: country `qualificationDeadlines` (admin, first 100) within 150 ms",
            restart::COUNTRY_TARGET_MS,
        ),
    ] {
        let (met, text) = restart_verdict(db, read, limit);
        out.push((label.to_string(), met, text));
    }
    let (met, text) = cmp_verdict(db, |c| c.against_peer);
    out.push((
        format!(
            "Issue 21, against PostGraphile {}: with no whole response reused, at least its \
             throughput at N clients and at most its p50 at one client, flat and nested reads",
            peer_version(db)
        ),
        met,
        text,
    ));
    let (met, text) = cmp_verdict(db, |c| !c.against_peer);
    out.push((
        "Issue 21: with no whole response reused, at least 1/2 (flat) and 1/3 (nested) of \
         the database's own throughput for the page's SQL, same concurrency"
            .to_string(),
        met,
        text,
    ));
    let (met, text) = floor_verdict(db);
    out.push((
        "Issue 21: the transport floor touches no database".to_string(),
        met,
        text,
    ));
    out.extend(events_verdicts(db));
    out
}

/// The SPEC 7 event targets (issue 19): the webhook keeps up with the submission rate
/// (every acknowledged submission delivered, lag p99 <= 2 s, the rate reached), and the
/// subscriptions fit the memory target with fan-out p99 <= 1 s.
fn events_verdicts(db: &DbReport) -> Vec<(String, bool, String)> {
    let lag_label = "Webhook deliveries keep up with 500 submissions a second, each with a \
                     subscriber: delivery lag p99 <= 2 s"
        .to_string();
    let fan_label = "1,000 open subscriptions fit the memory target (<= 150 MB) with event \
                     fan-out p99 <= 1 s"
        .to_string();
    let e = match &db.events {
        Ok(e) => e,
        Err(why) => {
            return vec![
                (lag_label, false, why.clone()),
                (fan_label, false, why.clone()),
            ];
        }
    };
    let lag_met = e.submitted > 0
        && e.delivered == e.submitted
        && e.lag.p99 <= 2000.0
        && e.achieved_rate >= 0.95 * e.offered_rate;
    let lag_text = format!(
        "{} of {} acknowledged submissions delivered; {:.0} a second offered, {:.0} reached; \
         lag p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        e.delivered, e.submitted, e.offered_rate, e.achieved_rate, e.lag.p50, e.lag.p99, e.lag.max
    );
    let due = e.fanout_events * e.subscribers;
    let fan_met = e.fanout_events > 0
        && e.fanout_received == due
        && e.fanout.p99 <= 1000.0
        && e.rss_peak_kib.max(e.rss_subscribed_kib) <= 150 * 1024;
    let fan_text = format!(
        "{} subscriptions, {} events, {} of {} messages received; fan-out p50 {:.0} ms, p99 \
         {:.0} ms, max {:.0} ms; RSS {:.1} MB with them open, peak {:.1} MB during the fan-out",
        e.subscribers,
        e.fanout_events,
        e.fanout_received,
        due,
        e.fanout.p50,
        e.fanout.p99,
        e.fanout.max,
        mb(e.rss_subscribed_kib),
        mb(e.rss_peak_kib)
    );
    vec![
        (lag_label, lag_met, lag_text),
        (fan_label, fan_met, fan_text),
    ]
}

/// The peer's version as run, else the version the benchmark pins.
fn peer_version(db: &DbReport) -> String {
    db.peer.as_ref().map_or_else(
        || format!("{}x", crate::peer::VERSION_PREFIX),
        |p| p.version.clone(),
    )
}

/// `throughput · p50 · p99` of a scenario, or `-`.
fn cell(r: Option<&ScenarioResult>) -> String {
    r.map_or("-".to_string(), |r| {
        format!(
            "{:.0} · {:.2} · {:.2}{}",
            r.stats.throughput,
            r.stats.p50_ms,
            r.stats.p99_ms,
            if r.stats.errors > 0 {
                format!(" ({} errors)", r.stats.errors)
            } else {
                String::new()
            }
        )
    })
}

/// The peer comparison (issue 21): how it ran, a row per read and concurrency, the floors.
fn render_peer(o: &mut String, db: &DbReport) {
    let Some(run) = &db.peer else {
        if db.name == "PostgreSQL" {
            let _ = writeln!(
                o,
                "Peer comparison (issue 21): {}.\n",
                db.peer_skipped.as_deref().unwrap_or("not run")
            );
        }
        return;
    };
    let _ = writeln!(
        o,
        "### Peer comparison: PostGraphile {} (issue 21)\n",
        run.version
    );
    let _ = writeln!(
        o,
        "PostGraphile {} on Node.js {}, started by the benchmark over this database after the \
         scenarios above (our server still up, idle) as `{}`: one Node.js process{} with a pool \
         of {} connections, as our server's. Both read the LA the dashboard scenarios use, {} \
         ({}): its first {} schools by URN of {} with `totalCount` (URN, name, kind, phase, \
         number on roll), and for the nested read their {} SENCO appointments (start and end) \
         with each one's person (full name). Ours: `schools(filter: {{ laCode }}, first: {})`, \
         `sencoAppointments`, `person`; PostGraphile's: `allSchools(condition: {{ laCode }}, \
         orderBy: URN_ASC, first: {})`, `sencoAppointmentsBySchoolUrn` and `personByPersonId` \
         (the foreign keys `senco_appointment.school_urn` and `senco_appointment.person_id`). \
         Before anything was measured both answered the same rows (URNs in order, the columns, \
         each school's appointments and people). Response bodies: flat {} bytes (ours) and {} \
         (PostGraphile), nested {} and {}. PostGraphile takes no token (it reads as the \
         database's user; ours checks a signed token on every request) and keeps no response \
         cache; \"ours, one token\" reuses our whole response, \"no reuse\" sends each \
         request under a token of its own. The SQL is the statements our server runs for the \
         page, run by the benchmark straight against the database (see the scenario table). \
         Each cell is requests a second · p50 · p99 in ms; the targets are with no reuse.\n",
        run.version,
        run.node,
        run.command,
        if run.workers > 1 {
            format!(" with {} cluster workers", run.workers)
        } else {
            String::new()
        },
        run.pool,
        run.la.1,
        run.la.0,
        run.rows,
        run.total,
        run.appointments,
        compare::FIRST,
        compare::FIRST,
        run.bytes[0].0,
        run.bytes[0].1,
        run.bytes[1].0,
        run.bytes[1].1,
    );
    let _ = writeln!(
        o,
        "| read | clients | ours, one token | ours, no reuse | PostGraphile | the SQL directly | no reuse / PostGraphile, req/s | no reuse / PostGraphile, p50 | no reuse / SQL, req/s | targets (no reuse) |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let checks = cmp_checks(db);
    for (r, read) in compare::READS.iter().enumerate() {
        for (i, keys) in read.keys.iter().enumerate() {
            let (reuse, fresh, peer, sql) = (
                find(db, keys.reuse),
                find(db, keys.fresh),
                find(db, keys.peer),
                find(db, keys.sql),
            );
            let Some(clients) = [reuse, fresh, peer, sql]
                .iter()
                .flatten()
                .map(|s| s.stats.connections)
                .next()
            else {
                continue;
            };
            let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
                _ => "-".to_string(),
            };
            let tp = |s: Option<&ScenarioResult>| s.map(|s| s.stats.throughput);
            let p50 = |s: Option<&ScenarioResult>| s.map(|s| s.stats.p50_ms);
            let targets: Vec<String> = checks
                .iter()
                .filter(|c| c.row == (r, i))
                .map(|c| {
                    format!(
                        "{} {}: {}",
                        if c.against_peer {
                            if i == 0 {
                                "p50 <= PostGraphile's"
                            } else {
                                "req/s >= PostGraphile's"
                            }
                        } else if r == 0 {
                            "req/s >= 1/2 of the SQL's"
                        } else {
                            "req/s >= 1/3 of the SQL's"
                        },
                        if c.met { "met" } else { "**missed**" },
                        c.text
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                "| {} | {clients} | {} | {} | {} | {} | {} | {} | {} | {} |",
                read.name,
                cell(reuse),
                cell(fresh),
                cell(peer),
                cell(sql),
                ratio(tp(fresh), tp(peer)),
                if i == 0 {
                    ratio(p50(fresh), p50(peer))
                } else {
                    "-".to_string()
                },
                ratio(tp(fresh), tp(sql)),
                if targets.is_empty() {
                    "-".to_string()
                } else {
                    targets.join("; ")
                },
            );
        }
    }
    let _ = writeln!(o);
    let floors = [
        (compare::FLOOR_OURS_VIEWER, "ours", compare::FLOOR_VIEWER),
        (
            compare::FLOOR_OURS_TYPENAME,
            "ours",
            compare::FLOOR_TYPENAME,
        ),
        (compare::FLOOR_PEER, "PostGraphile", compare::FLOOR_TYPENAME),
    ];
    if floors.iter().any(|(k, _, _)| find(db, k).is_some()) {
        let _ = writeln!(
            o,
            "| transport floor | clients | req/s | p50 ms | p99 ms | SQL statements / request | CPU % of the server answering / load generator / PostgreSQL |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for (key, who, query) in floors {
            let Some(f) = find(db, key) else {
                continue;
            };
            let _ = writeln!(
                o,
                "| {who}, `{query}`{} | {} | {:.0} | {:.2} | {:.2} | {} | {:.0} / {:.0} / {:.0} |",
                if who == "ours" { ", one token" } else { "" },
                f.stats.connections,
                f.stats.throughput,
                f.stats.p50_ms,
                f.stats.p99_ms,
                if f.peer {
                    "-".to_string()
                } else {
                    format!("{:.3}", f.statements_per_request)
                },
                f.cpu.server,
                f.cpu.client,
                f.cpu.database,
            );
        }
        let (met, text) = floor_verdict(db);
        let _ = writeln!(
            o,
            "\nThe transport floor touches no database: {}\n",
            if met {
                text
            } else {
                text.replacen("NOT met", "**NOT met**", 1)
            }
        );
    }
    let notable: Vec<&String> = run
        .log
        .iter()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("error") || l.contains("warn")
        })
        .take(3)
        .collect();
    let _ = writeln!(
        o,
        "- PostGraphile printed {} lines{}",
        run.log.len(),
        if notable.is_empty() {
            ", none an error or a warning".to_string()
        } else {
            format!(
                "; errors and warnings among them: {}",
                notable
                    .iter()
                    .map(|l| format!(
                        "`{}`",
                        l.replace('`', "'").chars().take(300).collect::<String>()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let _ = writeln!(o);
}

/// The database's own time beside the server's, per page and concurrency.
fn render_events(o: &mut String, db: &DbReport) {
    let e = match &db.events {
        Ok(e) => e,
        Err(why) => {
            let _ = writeln!(o, "Events (issue 19): {why}.\n");
            return;
        }
    };
    let _ = writeln!(
        o,
        "### Events: webhook delivery and live fan-out (issue 19)\n\n\
         A webhook for `TERMLY_REPORT_SUBMITTED` to a receiver in the benchmark's process, \
         then `submitTermlyReport` offered at {:.0} a second by 32 writers (each its own \
         school, the term in progress): {} acknowledged ({:.0} a second), {} refused or \
         failed, {} delivered. Delivery lag, from each submission's answer to its delivery \
         arriving: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms.\n\n\
         Then {} WebSocket subscriptions (`graphql-transport-ws`, each its own LA token) held \
         open: server RSS {:.1} MB with them open. {} submissions at the LA's schools reached \
         {} of the {} messages due; fan-out lag from the answer to each subscriber's receipt: \
         p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; peak RSS {:.1} MB.{}\n",
        e.offered_rate,
        e.submitted,
        e.achieved_rate,
        e.submit_errors,
        e.delivered,
        e.lag.p50,
        e.lag.p99,
        e.lag.max,
        e.subscribers,
        mb(e.rss_subscribed_kib),
        e.fanout_events,
        e.fanout_received,
        e.fanout_events * e.subscribers,
        e.fanout.p50,
        e.fanout.p99,
        e.fanout.max,
        mb(e.rss_peak_kib),
        if e.samples.is_empty() {
            String::new()
        } else {
            format!(" Errors seen: {}", e.samples.join(" | "))
        }
    );
}

fn render_own_time(o: &mut String, db: &DbReport) {
    let find = |k: &str| db.scenarios.iter().find(|s| s.key == k);
    let _ = writeln!(
        o,
        "The database's own time for the page's SQL beside the server's with no whole \
         response reused (server / database: p50 at one client, time per page from \
         throughput at more):\n"
    );
    let _ = writeln!(
        o,
        "| page | clients | server req/s | server p50 / p99 ms | database pages/s | database p50 / p99 ms | server / database |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
    for page in &RATIO_PAGES {
        for (server, sql) in [(page.server_1, page.sql_1), (page.server_n, page.sql_n)] {
            let (Some(s), Some(d)) = (find(server), find(sql)) else {
                continue;
            };
            let ratio = if s.stats.connections == 1 {
                (d.stats.p50_ms > 0.0).then(|| s.stats.p50_ms / d.stats.p50_ms)
            } else {
                (s.stats.throughput > 0.0).then(|| d.stats.throughput / s.stats.throughput)
            };
            let _ = writeln!(
                o,
                "| {} | {} | {:.0} | {:.2} / {:.2} | {:.0} | {:.2} / {:.2} | {} |",
                page.name,
                s.stats.connections,
                s.stats.throughput,
                s.stats.p50_ms,
                s.stats.p99_ms,
                d.stats.throughput,
                d.stats.p50_ms,
                d.stats.p99_ms,
                ratio.map_or("-".to_string(), |r| format!("{r:.2}x")),
            );
        }
    }
    let _ = writeln!(o);
}

/// Each restart and its first read.
fn render_restarts(o: &mut String, db: &DbReport) {
    if db.restarts.is_empty() {
        return;
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let _ = writeln!(
        o,
        "Restarts on the same database, each followed at once by one read under a new token:\n"
    );
    let _ = writeln!(
        o,
        "| restart | read | `/health` first 200 after start, ms | answered after that 200, ms | deadlines in all |"
    );
    let _ = writeln!(o, "|---:|---|---:|---:|---:|");
    for (i, r) in db.restarts.iter().enumerate() {
        let read = match r.read {
            Read::Dashboard => "LA dashboard (LA token)",
            Read::Country => "country `qualificationDeadlines`, first 100 (admin)",
        };
        let answered = match (&r.answered_in, &r.error) {
            (Some(d), _) => format!("{:.1}", ms(*d)),
            (None, Some(e)) => format!("failed: {}", e.replace('|', "/").replace('`', "'")),
            (None, None) => "-".to_string(),
        };
        let _ = writeln!(
            o,
            "| {} | {read} | {:.0} | {answered} | {} |",
            i + 1,
            ms(r.up_in),
            r.total_count.map_or("-".to_string(), |n| n.to_string()),
        );
    }
    let _ = writeln!(o);
}

/// Renders the report.
pub fn render(ctx: &Context, dbs: &[DbReport], notes: Option<&str>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# SENCO Oversight benchmark report\n");
    let _ = writeln!(
        o,
        "Measured by `senco-bench` (`bench/`) against the targets of SPEC section 7. \
         Generated {} with:\n\n```sh\n{}\n```\n",
        ctx.generated, ctx.command
    );
    let _ = writeln!(o, "- Machine: {}", ctx.machine);
    let _ = writeln!(
        o,
        "- Load average before the run: {}; after: {}. The CPU column below is percent of \
         one core over each scenario (warm-up included), for the server, the load generator, \
         PostgreSQL's processes and everything else; the last is other work on the machine \
         competing for the same two cores, and numbers measured while it is high are \
         pessimistic",
        ctx.load_before, ctx.load_after
    );
    let _ = writeln!(o, "- Server: `{}`, commit {}", ctx.server_bin, ctx.commit);
    let _ = writeln!(
        o,
        "- Each scenario: {} s warm-up, then {} s measured; {} concurrent clients unless \
         marked otherwise, each a keep-alive HTTP/1.1 connection sending its next request when \
         the last one is answered (closed loop); the load generator runs on the same machine",
        ctx.warmup_secs, ctx.duration_secs, ctx.connections
    );
    let _ = writeln!(
        o,
        "- How the targets are judged: the LA dashboard at {} clients (in a closed loop latency \
         is about clients / throughput, so a p99 of 25 ms at 32 clients needs roughly 1,300 \
         requests a second); the two `termlySummary` latencies with one client, since SPEC 7 \
         gives them no concurrency (the same queries at {} clients are shown too); \
         `submitTermlyReport` throughput at {} clients, none lost meaning every acknowledged \
         version is in the database after the server has stopped; memory as the peak RSS \
         sampled every 50 ms from `/proc/<pid>/status` while the writers run (they run first, \
         on a freshly started server); statements per request from the server's \
         `senco_sql_statements_total` over every request of a scenario (less the statements \
         of any changes made alongside, counted on one change made before the scenario), and \
         whole responses reused from `senco_response_cache_hits_total`. The server keeps two \
         caches, both given up as soon as any write moves the database's change counters: \
         whole responses, keyed by the bearer token, operation and variables; and results of \
         `qualificationDeadlines` and `termlySummary`, keyed by the caller's reach (scopes). \
         A miss computes the answer afresh from the facts stored on write (each \
         appointment's duty facts in `appointment_duty`, the latest-version flag of reports); \
         nothing is brought up to date from a log of changes. So each latency is measured: \
         for repeated identical requests, the whole response reused; with no whole response \
         reused, every request under a token of its own of the same scope (the same question \
         asked by many officers of one LA; pools of {FRESH_TOKENS} tokens with distinct \
         `sub`s, minted before the scenario and used in turn; the reach's result may still be \
         reused, and any whole response the server reuses all the same is counted and voids \
         the figure); after a change, computed afresh from the stored facts (the dashboard at \
         {} clients while the start date of one SENCO appointment in the LA, near the top of \
         the list, moves a day earlier or back ten times a second; each summary with one \
         client and, before every read, an amendment of one school's report for the term, \
         its number on roll one more or back); and, for information, after a reference-data \
         change before every read (one client, the LA renamed with `upsertLocalAuthority`, \
         then back). Before each scenario making changes to the data read, one change is \
         checked to change the answer. A latency target counts as met only if it \
         is met for repeated requests, with no whole response reused, and after a change",
        ctx.connections, ctx.connections, ctx.connections, ctx.connections
    );
    let _ = writeln!(
        o,
        "- The database's own time: for the LA dashboard and the one-LA `termlySummary`, \
         right after the server's no-reuse scenario at the same concurrency (1 and {} \
         clients), the benchmark runs the SQL statements the server needs to compute that \
         page from nothing (those of `deadlines_within` and of `reports::summary` in \
         `api::store`, written out by hand with the values as literals) straight against \
         the same database, through a sea-orm pool of its own of {} connections (the \
         server's pool is `SENCO_DB_MAX_CONNECTIONS`), one statement after another as the \
         server runs them, every row fetched, in a closed loop from as \
         many tasks as the server had clients. Before each such run the SQL's counts (the \
         list's length; the reports of each term and the schools missing) are checked \
         against the server's answer. The ratio is the server's time over the database's: \
         p50 at one client, and time per page (the inverse of throughput) at {} clients; \
         SPEC 7 allows at most {RATIO_TARGET:.0}x. The SQL leaves out what the server adds \
         around it (reading the change counters, the read transaction); on SQLite it runs \
         inside the benchmark's process, so its CPU shows as the load generator's",
        ctx.connections, ctx.connections, ctx.connections
    );
    let _ = writeln!(
        o,
        "- Restart: after the scenarios the server is stopped and started again on the same \
         database {} times for each of two reads, `/health` asked every 2 ms until it first \
         answers 200, then at once, on the same connection and under a token the server has \
         never seen, the LA dashboard (LA token) or the whole country's \
         `qualificationDeadlines`, first 100 with person and school (admin token); the time \
         from that first 200 to the whole answer is judged on the slowest restart. The \
         database's files are in the operating system's cache from the run, as after a \
         restart of the service alone",
        restart::TIMES
    );

    let _ = writeln!(
        o,
        "- The peer comparison (issue 21, PostgreSQL only): PostGraphile {}x (`bench/peer/`, \
         installed by the benchmark with `npm ci` when missing), started after the scenarios \
         over the same database with the production options its documentation recommends, \
         answers two reads our server answers too, for the dashboard's LA: a flat list of 100 \
         schools and the same with their SENCO appointments and people; both must answer the \
         same rows before anything is measured. Each is measured at one client and at {}: \
         ours with the whole response reused (one token), ours with none reused (a token of \
         its own per request), PostGraphile, and the statements our server runs for the page \
         run directly; and the transport floor at {} (`{}` and `{}` on ours, `{}` on \
         PostGraphile). In the scenario table the CPU and memory of PostGraphile's scenarios \
         are PostGraphile's, and its SQL statements are not counted. Issue 21's targets, with \
         no whole response reused: at least PostGraphile's throughput at {} clients and at \
         most its p50 at one client on both reads; at least 1/2 (flat) and 1/3 (nested) of the \
         database's own throughput for the page's SQL, at both concurrencies; a transport \
         floor that runs no SQL statement",
        crate::peer::VERSION_PREFIX,
        ctx.connections,
        ctx.connections,
        compare::FLOOR_VIEWER,
        compare::FLOOR_TYPENAME,
        compare::FLOOR_TYPENAME,
        ctx.connections,
    );
    let env = if ctx.server_env.is_empty() {
        "defaults (`SENCO_DB_MAX_CONNECTIONS` 8, limits as shipped)".to_string()
    } else {
        ctx.server_env
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        o,
        "- Server settings: {env}; `RUST_LOG=warn`; a fresh database per run\n"
    );

    let _ = writeln!(o, "## Targets\n");
    let mut header = "| target |".to_string();
    let mut rule = "|---|".to_string();
    for db in dbs {
        let _ = write!(header, " {} |", db.name);
        rule.push_str("---|");
    }
    let _ = writeln!(o, "{header}\n{rule}");
    let per_db: Vec<Vec<(String, bool, String)>> = dbs.iter().map(verdicts).collect();
    let not_run = |t: &str| t.starts_with("not run");
    if let Some(first) = per_db.first() {
        for (i, (label, _, _)) in first.iter().enumerate() {
            // A target nothing measured on any database (left out by `--only`) has no row.
            if per_db
                .iter()
                .all(|v| v.get(i).is_none_or(|(_, _, t)| not_run(t)))
            {
                continue;
            }
            let mut line = format!("| {label} |");
            for v in &per_db {
                let cell = v.get(i).map_or(String::new(), |(_, _, t)| t.clone());
                let _ = write!(line, " {cell} |");
            }
            let _ = writeln!(o, "{line}");
        }
    }
    let unmet: Vec<String> = dbs
        .iter()
        .zip(&per_db)
        .flat_map(|(db, v)| {
            v.iter()
                .filter(|(_, met, text)| !met && !not_run(text))
                .map(move |(label, _, text)| format!("- {}: {label}: {text}", db.name))
        })
        .collect();
    let skipped: Vec<String> = dbs
        .iter()
        .zip(&per_db)
        .flat_map(|(db, v)| {
            v.iter()
                .filter(|(_, _, text)| not_run(text))
                .map(move |(label, _, text)| format!("- {}: {label}: {text}", db.name))
        })
        .collect();
    if unmet.is_empty() {
        let _ = writeln!(
            o,
            "\nEvery target measured is met on every database measured.\n"
        );
    } else {
        let _ = writeln!(o, "\nNot met:\n\n{}\n", unmet.join("\n"));
    }
    if !skipped.is_empty() {
        let _ = writeln!(o, "Not measured:\n\n{}\n", skipped.join("\n"));
    }

    if let Some(first) = dbs.first() {
        let _ = writeln!(o, "## Data set\n");
        let _ = writeln!(
            o,
            "Built straight into each database: the census file through the product's own \
             import ({}), then generated SENCO histories, clusters and termly reports (fixed \
             seed). Largest LA: {} ({}), {} schools. Reports for the eighteen terms up to {}; \
             the writers submit for {}.\n",
            first.data.census_summary.trim(),
            first.data.largest_la.1,
            first.data.largest_la.0,
            first.data.largest_la.2,
            first.data.summary_term,
            first.data.submit_term,
        );
        let mut header = "| table |".to_string();
        let mut rule = "|---|".to_string();
        for db in dbs {
            let _ = write!(header, " {} rows |", db.name);
            rule.push_str("---:|");
        }
        let _ = writeln!(o, "{header}\n{rule}");
        for (i, (table, _)) in first.data.counts.iter().enumerate() {
            let mut line = format!("| `{table}` |");
            for db in dbs {
                let n = db.data.counts.get(i).map_or(0, |c| c.1);
                let _ = write!(line, " {n} |");
            }
            let _ = writeln!(o, "{line}");
        }
        let mut line = "| build time |".to_string();
        for db in dbs {
            let _ = write!(line, " {:.1} s |", db.data.elapsed.as_secs_f64());
        }
        let _ = writeln!(o, "{line}\n");
    }

    for db in dbs {
        let _ = writeln!(o, "## {} ({})\n", db.name, db.version);
        let _ = writeln!(
            o,
            "| scenario | clients | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | SQL stmts/req | whole responses reused | peak RSS MB | CPU % server / client / PostgreSQL / other |"
        );
        let _ = writeln!(
            o,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for r in &db.scenarios {
            let s = &r.stats;
            let (reused, rss) = if r.direct {
                ("-".to_string(), "-".to_string())
            } else if r.peer {
                ("-".to_string(), format!("{:.1}", mb(r.peak_rss_kib)))
            } else {
                (
                    format!(
                        "{:.0}%",
                        r.response_hits as f64 / s.total_requests.max(1) as f64 * 100.0
                    ),
                    format!("{:.1}", mb(r.peak_rss_kib)),
                )
            };
            let statements = if r.peer {
                "-".to_string()
            } else {
                format!("{:.1}", r.statements_per_request)
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {statements} | {reused} | {rss} | {:.0} / {:.0} / {:.0} / {:.0} |",
                r.title,
                s.connections,
                s.requests,
                s.throughput,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                s.errors,
                r.cpu.server,
                r.cpu.client,
                r.cpu.database,
                r.cpu.other,
            );
        }
        let _ = writeln!(o);
        render_own_time(&mut o, db);
        render_peer(&mut o, db);
        render_restarts(&mut o, db);
        render_events(&mut o, db);
        let _ = writeln!(
            o,
            "- Submissions: {} acknowledged, {} stored, {} lost{}",
            db.submit.acknowledged,
            db.submit.stored,
            db.submit.lost,
            if db.submit.inconsistent.is_empty() {
                "; every writer's versions are 1..n with the last one latest".to_string()
            } else {
                format!(
                    "; version chains inconsistent for schools {:?}",
                    db.submit.inconsistent
                )
            }
        );
        for c in &db.shapes {
            let runs: Vec<String> = c
                .runs
                .iter()
                .map(|(first, rows, n)| format!("first {first}: {rows} rows, {n} statements"))
                .collect();
            let _ = writeln!(
                o,
                "- Statements, one request at a time, {}: {}",
                c.query,
                runs.join("; ")
            );
        }
        let _ = writeln!(
            o,
            "- Server memory: {:.1} MB after start-up; {:.1} MB RSS after the last scenario; \
             VmHWM {:.1} MB",
            mb(db.idle_memory.rss_kib),
            mb(db.end_memory.rss_kib),
            mb(db.end_memory.hwm_kib)
        );
        let _ = writeln!(
            o,
            "- Server log lines at `warn` or above: {}",
            db.server_log_lines
        );
        for line in &db.server_log_sample {
            let _ = writeln!(o, "- Server log: `{}`", line.replace('`', "'"));
        }
        for r in &db.scenarios {
            for sample in r.stats.samples.iter().take(2) {
                let _ = writeln!(
                    o,
                    "- Error sample ({}): `{}`",
                    r.key,
                    sample.replace('`', "'")
                );
            }
        }
        let _ = writeln!(o);
    }
    if let Some(notes) = notes {
        let _ = writeln!(o, "## Analysis\n\n{}", notes.trim());
    }
    o
}
