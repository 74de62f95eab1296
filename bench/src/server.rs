//! The real server as a child process: the built `senco-oversight` binary, started with a
//! generated signing secret on a free port, waited for on `/health` (the moment it first
//! answers 200 is kept, for the restart measurement), read through `/metrics` and
//! `/proc/<pid>/status`, and stopped with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

/// The name of the metric that counts SQL statements (`api::http::metrics`).
pub const STATEMENTS_METRIC: &str = "senco_sql_statements_total";

/// The name of the metric that counts requests answered from the whole-response cache
/// (`api::http`); absent from `/metrics` until the first such answer.
pub const RESPONSE_HITS_METRIC: &str = "senco_response_cache_hits_total";

/// How often `/health` is asked while the server starts for the scenarios.
pub const HEALTH_POLL: Duration = Duration::from_millis(100);

/// How often `/health` is asked when the moment it first answers 200 is measured.
pub const HEALTH_POLL_FINE: Duration = Duration::from_millis(2);

/// Finds the server binary: `explicit`, else beside this program (both are built into the
/// same `target/<profile>/`), else the workspace's release then debug build.
pub fn find_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        bail!("--server-bin {}: no such file", p.display());
    }
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()?.parent() {
        candidates.push(dir.join("senco-oversight"));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    candidates.push(root.join("target/release/senco-oversight"));
    candidates.push(root.join("target/debug/senco-oversight"));
    candidates.into_iter().find(|p| p.is_file()).context(
        "cannot find the senco-oversight binary: build it with \
             `cargo build --release -p senco-oversight -p senco-bench` or pass --server-bin",
    )
}

/// Memory of a process, from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident set size now (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident set size since start (`VmHWM`).
    pub hwm_kib: u64,
}

/// Reads the memory of process `pid`; `None` when it is gone or `/proc` is unavailable.
pub fn memory_of(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:").unwrap_or(0),
    })
}

/// CPU time a process has used (user + system), in clock ticks, from `/proc/<pid>/stat`.
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `root` and every process descended from it (for a server that forks workers), from the
/// parent ids in `/proc/<pid>/stat`.
pub fn process_tree(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The parent id is the second field after the parenthesised command name.
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    tree
}

/// Busy CPU time of the whole machine, in clock ticks, from `/proc/stat`.
pub fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let total: u64 = v.iter().take(8).sum();
    Some(total - v.get(3)? - v.get(4).copied().unwrap_or(0))
}

/// CPU ticks of every PostgreSQL process on the machine, by pid (those named `postgres`).
fn postgres_ticks() -> std::collections::HashMap<u32, u64> {
    let mut out = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let is_postgres = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|c| c.trim() == "postgres");
        if is_postgres && let Some(t) = cpu_ticks(&pid.to_string()) {
            out.insert(pid, t);
        }
    }
    out
}

/// CPU used over an interval by the server, this program, PostgreSQL and everything else,
/// each as a percentage of one core.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuShare {
    /// The server process.
    pub server: f64,
    /// The load generator (this process).
    pub client: f64,
    /// PostgreSQL's processes (any database on the machine).
    pub database: f64,
    /// Everything else on the machine: other work competing for the cores.
    pub other: f64,
}

/// A reading to subtract from a later one.
#[derive(Debug, Clone)]
pub struct CpuMark {
    at: std::time::Instant,
    server: u64,
    client: u64,
    postgres: std::collections::HashMap<u32, u64>,
    machine: u64,
}

impl CpuMark {
    /// Reads the counters now.
    pub fn now(server_pid: u32) -> Self {
        Self::of(&[server_pid])
    }

    /// Reads the counters now, the server's being the sum over `server_pids` (a process
    /// and its workers).
    pub fn of(server_pids: &[u32]) -> Self {
        Self {
            at: std::time::Instant::now(),
            server: server_pids
                .iter()
                .filter_map(|p| cpu_ticks(&p.to_string()))
                .sum(),
            client: cpu_ticks("self").unwrap_or(0),
            postgres: postgres_ticks(),
            machine: machine_busy_ticks().unwrap_or(0),
        }
    }

    /// The shares since `self` (assuming the usual 100 ticks a second).
    pub fn since(&self, later: &Self) -> CpuShare {
        let secs = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let pct = |ticks: u64| ticks as f64 / 100.0 / secs * 100.0;
        let server = later.server.saturating_sub(self.server);
        let client = later.client.saturating_sub(self.client);
        let database: u64 = later
            .postgres
            .iter()
            .map(|(pid, t)| t.saturating_sub(self.postgres.get(pid).copied().unwrap_or(0)))
            .sum();
        let machine = later.machine.saturating_sub(self.machine);
        CpuShare {
            server: pct(server),
            client: pct(client),
            database: pct(database),
            other: pct(machine.saturating_sub(server + client + database)),
        }
    }
}

/// Samples a process's RSS until stopped, keeping the largest value seen.
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    /// Starts sampling `pid` every 50 ms.
    pub fn start(pid: u32) -> Self {
        Self::start_sum(vec![pid])
    }

    /// Starts sampling the sum of the RSS of `pids` (a process and its workers) every 50 ms.
    pub fn start_sum(pids: Vec<u32>) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                let rss: u64 = pids
                    .iter()
                    .filter_map(|pid| memory_of(*pid))
                    .map(|m| m.rss_kib)
                    .sum();
                if rss > 0 {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { peak, task }
    }

    /// Stops sampling and returns the peak RSS in KiB.
    pub fn stop(self) -> u64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed)
    }
}

/// A running server.
pub struct Server {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Where its output goes.
    pub log: PathBuf,
    /// When `/health` first answered 200 (the response received).
    pub healthy_at: Instant,
    /// From starting the process to that answer.
    pub up_in: Duration,
    http: reqwest::Client,
}

impl Server {
    /// Starts `bin` over `database_url` with `secret`, and waits until `/health` answers 200,
    /// asking every `poll`.
    pub async fn start(
        bin: &Path,
        database_url: &str,
        secret: &str,
        extra_env: &[(String, String)],
        log: PathBuf,
        poll: Duration,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let out = std::fs::File::create(&log)
            .with_context(|| format!("creating the server log {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .env("SENCO_DATABASE_URL", database_url)
            .env("SENCO_JWT_SECRET", secret)
            .env("SENCO_DEMO", "false")
            .env("SENCO_GRAPHIQL", "false")
            // The events measurement's webhook receiver is on loopback.
            .env("SENCO_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("SENCO_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Self {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            log,
            healthy_at: started,
            up_in: Duration::ZERO,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .build()?,
        };
        server.healthy_at = server
            .wait_healthy(started, Duration::from_secs(180), poll)
            .await?;
        server.up_in = server.healthy_at.duration_since(started);
        Ok(server)
    }

    /// Asks `/health` every `poll` until it answers 200; returns when that answer came.
    async fn wait_healthy(
        &mut self,
        started: Instant,
        limit: Duration,
        poll: Duration,
    ) -> anyhow::Result<Instant> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited with {status} before answering /health:\n{}",
                    self.log_tail()
                );
            }
            let health = self.http.get(format!("{}/health", self.base)).send().await;
            if let Ok(r) = health
                && r.status().is_success()
            {
                let at = Instant::now();
                // Read the (small) body so that the connection goes back to the pool and the
                // next request is sent on it at once.
                let _ = r.bytes().await;
                return Ok(at);
            }
            if started.elapsed() > limit {
                bail!(
                    "the server did not answer /health within {limit:?}:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// The keep-alive HTTP client that asked `/health` (its connection is open).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The last lines of the server's output.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// The value of the unlabelled counter `name` in `/metrics`; `None` when it is absent.
    pub async fn metric(&self, name: &str) -> anyhow::Result<Option<u64>> {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (metric, value) = l.rsplit_once(' ')?;
                let metric = metric.split('{').next()?.trim();
                (metric == name).then(|| value.trim().parse::<f64>().ok())?
            })
            .map(|v| v as u64))
    }

    /// The SQL statements the server has run so far (from `/metrics`).
    pub async fn statements(&self) -> anyhow::Result<u64> {
        self.metric(STATEMENTS_METRIC)
            .await?
            .with_context(|| format!("/metrics has no {STATEMENTS_METRIC}"))
    }

    /// Requests answered so far from the whole-response cache (from `/metrics`).
    pub async fn response_hits(&self) -> anyhow::Result<u64> {
        Ok(self.metric(RESPONSE_HITS_METRIC).await?.unwrap_or(0))
    }

    /// Current memory.
    pub fn memory(&self) -> Memory {
        memory_of(self.pid).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for a graceful exit (killing it after 30 s).
    pub async fn stop(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let sent = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            self.child.start_kill()?;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.start_kill()?;
                Ok(self.child.wait().await?)
            }
        }
    }
}
