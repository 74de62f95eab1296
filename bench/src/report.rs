//! The markdown report: the machine and settings, the data set, a table of every scenario
//! per database, and one line per SPEC 7 target saying whether it was met and by how much.

use std::fmt::Write as _;

use crate::dataset::DataSet;
use crate::scenarios::{ScenarioResult, ShapeCheck, SubmitCheck, Target};
use crate::server::Memory;

/// The memory target of SPEC 7, in MB.
pub const RSS_TARGET_MB: f64 = 150.0;

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

/// The scenario that asks the same as `key` with a change before the reads (or, for the
/// dashboard, under them), so that the server must update its cached answer.
fn updated_of(key: &str) -> Option<&'static str> {
    match key {
        "dashboard" => Some("dashboard-writes"),
        "summary-la-1" => Some("summary-la-cold-1"),
        "summary-all-1" => Some("summary-all-cold-1"),
        _ => None,
    }
}

/// The scenario that asks the same as `key` with a reference-data change before every read,
/// so that the server recomputes the answer in full.
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

/// The recomputed-in-full figure for `key`'s target, for information: against the target
/// when the scenario has the same number of clients, else its p50 and p99 alone.
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
        "; recomputed in full ({full}, for information) {text}"
    ))
}

/// One target's verdict on one database: (met, text). A latency target counts as met only
/// when it is met both as measured (repeated identical requests, which the server may answer
/// from its result cache) and after a change (the cached answer updated). The figure when the
/// answer is recomputed in full (at start-up and after reference-data changes) is stated too,
/// for information: it does not decide the verdict.
pub fn verdict(db: &DbReport, target: Target, key: &str) -> (bool, String) {
    let (met, text) = verdict_of(db, target, key);
    let full = full_text(db, target, key).unwrap_or_default();
    let Some(updated) = updated_of(key).filter(|k| db.scenarios.iter().any(|s| s.key == *k)) else {
        if full.is_empty() {
            return (met, text);
        }
        return (met, format!("{text}{full}"));
    };
    let (updated_met, updated_text) = verdict_of(db, target, updated);
    let label = match (met, updated_met) {
        (true, true) => "met",
        (true, false) => "NOT met (met only for repeated requests)",
        (false, true) => "NOT met (met only after a change)",
        (false, false) => "NOT met",
    };
    (
        met && updated_met,
        format!(
            "{label}: repeated requests {}; after a change, the cached answer updated \
             ({updated}) {}{full}",
            strip(&text),
            strip(&updated_text)
        ),
    )
}

fn verdict_of(db: &DbReport, target: Target, key: &str) -> (bool, String) {
    let Some(r) = db.scenarios.iter().find(|s| s.key == key) else {
        return (false, "not run".into());
    };
    let s = &r.stats;
    let errors = if s.errors > 0 {
        format!(", {} errors", s.errors)
    } else {
        String::new()
    };
    match target {
        Target::P99AtMost(limit) | Target::P50AtMost(limit) => {
            let (label, v) = match target {
                Target::P99AtMost(_) => ("p99", s.p99_ms),
                _ => ("p50", s.p50_ms),
            };
            let met = v <= limit && s.errors == 0;
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
    let peak = db
        .scenarios
        .iter()
        .find(|s| s.key == "submit")
        .map_or(0, |s| s.peak_rss_kib);
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
            "LA dashboard, updated after a change",
            "dashboard-writes",
            "dashboard-cold-1",
        ),
        ("nested dashboard", "nested", "nested-1"),
        ("`termlySummary` for one LA", "summary-la-n", "summary-la-1"),
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
    out
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
         of any changes made alongside, counted on one change made before the scenario). The \
         server keeps a result cache for the LA dashboard and `termlySummary` and updates a \
         cached answer from a log of changes: a change to one person's SENCO data recomputes \
         only that person's deadlines, a termly report submission adjusts the totals by that \
         report, and only a change to reference data (LAs, schools, trusts, imports) makes it \
         recompute the answer in full, as it does at start-up. So each latency is measured \
         three ways: repeated identical requests, answered from the cache; after a change, \
         the cached answer updated (the dashboard at {} clients while the start date of one \
         SENCO appointment in the LA, near the top of the list, moves a day earlier or back \
         ten times a second; each summary with one client and, before every read, an \
         amendment of one school's report for the term, its number on roll one more or back); \
         and recomputed in full (one client, the LA's record rewritten unchanged with \
         `upsertLocalAuthority` before every read). Before each scenario making changes to \
         the data read, one change is checked to change the answer. A latency target counts \
         as met only if it is met both for repeated requests and after a change; the \
         recomputed-in-full figure is stated beside it for information",
        ctx.connections, ctx.connections, ctx.connections, ctx.connections
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
    if let Some(first) = per_db.first() {
        for (i, (label, _, _)) in first.iter().enumerate() {
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
                .filter(|(_, met, _)| !met)
                .map(move |(label, _, text)| format!("- {}: {label}: {text}", db.name))
        })
        .collect();
    if unmet.is_empty() {
        let _ = writeln!(o, "\nEvery target is met on every database measured.\n");
    } else {
        let _ = writeln!(o, "\nNot met:\n\n{}\n", unmet.join("\n"));
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
            "| scenario | clients | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | SQL stmts/req | peak RSS MB | CPU % server / client / PostgreSQL / other |"
        );
        let _ = writeln!(
            o,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for r in &db.scenarios {
            let s = &r.stats;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {:.0} / {:.0} / {:.0} / {:.0} |",
                r.title,
                s.connections,
                s.requests,
                s.throughput,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                s.errors,
                r.statements_per_request,
                mb(r.peak_rss_kib),
                r.cpu.server,
                r.cpu.client,
                r.cpu.database,
                r.cpu.other,
            );
        }
        let _ = writeln!(o);
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
