//! The peer of issue 21: PostGraphile 4.14, a GraphQL server made by reflection over the
//! same PostgreSQL database, run as a child process beside ours.
//!
//! It lives in `bench/peer/` (a `package.json` and `package-lock.json` of its own); when its
//! `node_modules` are missing, or hold another version, [`install`] runs `npm ci` there.
//! [`Peer::start`] runs its CLI with the production options its documentation recommends
//! ([`FLAGS`]), on a free port of 127.0.0.1, with a pool as large as our server's, waits until
//! `{ __typename }` is answered, and [`Peer::stop`] ends its process group.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The version `bench/peer/package.json` pins (major and minor must match what is installed).
pub const VERSION_PREFIX: &str = "4.14.";

/// The options given on every start besides the connection, schema, host, port and pool:
/// those PostGraphile's documentation recommends for production, less the plugins and the
/// JWT settings (the peer reads as the database user, with no token).
pub const FLAGS: [&str; 9] = [
    "--disable-graphiql",
    "--dynamic-json",
    "--no-setof-functions-contain-nulls",
    "--no-ignore-rbac",
    "--no-ignore-indexes",
    "--disable-query-log",
    "--retry-on-init-fail",
    "--legacy-relations=omit",
    "--extended-errors=errcode",
];

/// How long the peer may take to answer after it is started.
const START_LIMIT: Duration = Duration::from_secs(120);

/// The folder of the peer's package: `bench/peer/`.
pub fn dir() -> PathBuf {
    crate::manifest_dir().join("peer")
}

/// The installed PostGraphile's version, read from its `package.json`; `None` when it is not
/// installed.
fn installed_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules/postgraphile/package.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// The CLI's script.
fn cli(dir: &Path) -> PathBuf {
    dir.join("node_modules/postgraphile/cli.js")
}

/// What was installed: PostGraphile's and Node's versions, and the CLI to run.
#[derive(Debug, Clone)]
pub struct Installed {
    /// PostGraphile's version (`4.14.x`).
    pub version: String,
    /// `node --version`.
    pub node: String,
    /// The CLI's script, run with `node`.
    pub cli: PathBuf,
}

/// Makes sure PostGraphile 4.14 is installed in `bench/peer/`, running `npm ci` there (from
/// the committed lock file) when it is missing or another version; fails with what to do
/// when Node.js or npm is missing or the install fails.
pub async fn install() -> anyhow::Result<Installed> {
    let dir = dir();
    let node = run_quietly("node", &["--version"], &dir).await.context(
        "the peer comparison needs Node.js (`node` on PATH); install it or pass --no-peer",
    )?;
    let current = installed_version(&dir);
    if !current
        .as_deref()
        .is_some_and(|v| v.starts_with(VERSION_PREFIX))
        || !cli(&dir).is_file()
    {
        crate::log(format!(
            "installing the peer (PostGraphile {VERSION_PREFIX}x) into {} with npm ci{}",
            dir.display(),
            current.map_or(String::new(), |v| format!(" (found {v})"))
        ));
        let started = Instant::now();
        run_quietly(
            "npm",
            &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
            &dir,
        )
        .await
        .with_context(|| {
            format!(
                "installing PostGraphile into {} (`npm ci` needs npm and the npm registry); \
                 pass --no-peer to skip the peer comparison",
                dir.display()
            )
        })?;
        crate::log(format!(
            "  installed in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    let version = installed_version(&dir)
        .filter(|v| v.starts_with(VERSION_PREFIX))
        .with_context(|| {
            format!(
                "{} holds no PostGraphile {VERSION_PREFIX}x after `npm ci`",
                dir.display()
            )
        })?;
    Ok(Installed {
        version,
        node: node.trim().to_string(),
        cli: cli(&dir),
    })
}

/// Runs `program args` in `dir` and returns its standard output; fails with its output when
/// it cannot be run or exits unsuccessfully.
async fn run_quietly(program: &str, args: &[&str], dir: &Path) -> anyhow::Result<String> {
    let out = tokio::time::timeout(
        Duration::from_secs(600),
        Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .with_context(|| format!("`{program} {}` took over ten minutes", args.join(" ")))?
    .with_context(|| format!("running `{program}`"))?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// A running PostGraphile.
pub struct Peer {
    child: Child,
    /// Its process id (also its process group's).
    pub pid: u32,
    /// `http://127.0.0.1:PORT/graphql`.
    pub url: String,
    /// Where its output goes.
    pub log: PathBuf,
    /// The whole command line, for the report.
    pub command: String,
}

impl Peer {
    /// Starts PostGraphile over `database_url` (schema `public`) with a pool of `pool`
    /// connections and, when `workers` is more than one, that many cluster workers; waits
    /// until it answers `{ __typename }`.
    pub async fn start(
        installed: &Installed,
        database_url: &str,
        pool: u32,
        workers: u32,
        log: PathBuf,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let out = std::fs::File::create(&log)
            .with_context(|| format!("creating the peer's log {}", log.display()))?;
        let err = out.try_clone()?;
        let mut args: Vec<String> = vec![
            installed.cli.display().to_string(),
            "--connection".into(),
            database_url.into(),
            "--schema".into(),
            "public".into(),
            "--host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--max-pool-size".into(),
            pool.to_string(),
        ];
        if workers > 1 {
            args.push("--cluster-workers".into());
            args.push(workers.to_string());
        }
        args.extend(FLAGS.iter().map(|f| f.to_string()));
        let mut cmd = Command::new("node");
        cmd.args(&args)
            .env("NODE_ENV", "production")
            .current_dir(dir())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            // A group of its own, so that stopping it reaches any cluster workers too.
            .process_group(0)
            .kill_on_drop(true);
        let child = cmd.spawn().context("starting node (PostGraphile)")?;
        let pid = child.id().context("PostGraphile exited at once")?;
        let command = ["NODE_ENV=production", "node"]
            .into_iter()
            .map(str::to_string)
            .chain(args.iter().map(|a| {
                if a == database_url {
                    "<the benchmark's database>".to_string()
                } else {
                    a.strip_prefix(&format!("{}/", crate::manifest_dir().display()))
                        .map_or(a.clone(), |r| format!("bench/{r}"))
                }
            }))
            .collect::<Vec<_>>()
            .join(" ");
        let mut peer = Self {
            child,
            pid,
            url: format!("http://127.0.0.1:{port}/graphql"),
            log,
            command,
        };
        peer.wait_ready().await?;
        Ok(peer)
    }

    /// Asks `{ __typename }` every 100 ms until it is answered.
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "PostGraphile exited with {status} before answering:\n{}",
                    self.log_tail()
                );
            }
            let answer = http
                .post(&self.url)
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await;
            if let Ok(r) = answer
                && r.status().is_success()
                && let Ok(v) = r.json::<Value>().await
                && v["data"]["__typename"] == "Query"
            {
                return Ok(());
            }
            if started.elapsed() > START_LIMIT {
                bail!(
                    "PostGraphile did not answer within {START_LIMIT:?}:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The last lines of its output.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Sends SIGTERM to its process group and waits for it to exit (killing the group after
    /// ten seconds).
    pub async fn stop(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let group = format!("-{}", self.pid);
        let signal = |sig: &str| {
            std::process::Command::new("kill")
                .args([sig, "--", &group])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !signal("-TERM") {
            self.child.start_kill()?;
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                signal("-KILL");
                self.child.start_kill().ok();
                Ok(self.child.wait().await?)
            }
        }
    }
}
