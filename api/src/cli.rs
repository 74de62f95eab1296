//! The `senco-oversight` command line: `serve` (the default), `migrate`, the imports,
//! `seed-demo`, `token` and `schema` (SPEC section 2).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::Db;
use crate::{AppState, demo};

/// SENCO Oversight: a GraphQL API for overseeing schools' SENCOs.
#[derive(Debug, Parser)]
#[command(name = "senco-oversight", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (migrates first; seeds demo data into an empty demo database).
    Serve,
    /// Apply pending database migrations and exit (safe to run from several replicas).
    Migrate,
    /// Load the DfE performance-tables census CSV: LAs, schools, rolls and E/K counts.
    ImportCensus {
        /// The CSV file.
        file: PathBuf,
    },
    /// Load a GIAS "all establishment data" CSV: names, types, phases, trusts, closures.
    ImportGias {
        /// The CSV file (UTF-8 or Windows-1252).
        file: PathBuf,
    },
    /// Load GIAS establishment links: predecessor and successor URNs.
    ImportGiasLinks {
        /// The CSV file (UTF-8 or Windows-1252).
        file: PathBuf,
    },
    /// Load the demo data set (into any database; idempotent).
    SeedDemo,
    /// Rebuild every derived fact (each appointment's duty facts) from the base tables, and
    /// make every cached answer be computed afresh; for a database changed by hand in SQL.
    Recompute,
    /// Print an HS256 token signed with the configured (or demo) secret.
    Token {
        /// The token's subject.
        #[arg(long)]
        sub: String,
        /// Space-separated scopes, e.g. "la:202:read".
        #[arg(long)]
        scope: String,
        /// Lifetime, e.g. 30m, 8h, 7d.
        #[arg(long, default_value = "8h")]
        ttl: String,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
}

/// Parses a lifetime such as `90s`, `30m`, `8h` or `7d`.
pub fn parse_ttl(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("--ttl: `{s}` is not like 30m, 8h or 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => anyhow::bail!("--ttl: unit must be s, m, h or d"),
    };
    if secs == 0 || secs > 366 * 86_400 {
        anyhow::bail!("--ttl: must be between 1 second and 366 days");
    }
    Ok(Duration::from_secs(secs))
}

/// Runs a subcommand that needs configuration (everything but `schema`).
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Token { sub, scope, ttl } => {
            let ttl = parse_ttl(&ttl)?;
            let secret = crate::auth::signing_secret(&config)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "SENCO_JWT_SECRET: `token` signs HS256 tokens and needs the shared secret \
                     (or demo mode); tokens for public keys come from your identity provider"
                )
            })?;
            println!(
                "{}",
                crate::auth::issue_token(&config, &secret, &sub, &scope, ttl)?
            );
            Ok(())
        }
        Command::Migrate => {
            let db = connect(&config).await?;
            db.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ImportCensus { file } => {
            let db = migrated(&config).await?;
            let summary = import_file(&db, &file, Import::Census).await?;
            println!("{summary}");
            Ok(())
        }
        Command::ImportGias { file } => {
            let db = migrated(&config).await?;
            let summary = import_file(&db, &file, Import::Gias).await?;
            println!("{summary}");
            Ok(())
        }
        Command::ImportGiasLinks { file } => {
            let db = migrated(&config).await?;
            let summary = import_file(&db, &file, Import::Links).await?;
            println!("{summary}");
            Ok(())
        }
        Command::SeedDemo => {
            let db = migrated(&config).await?;
            let seeded = demo::seed(&db).await?;
            println!("{seeded}");
            Ok(())
        }
        Command::Recompute => {
            let db = migrated(&config).await?;
            let started = std::time::Instant::now();
            let n = crate::service::schools::recompute(&db, |done, total| {
                tracing::debug!(done, total, "recomputing duty facts");
            })
            .await
            .map_err(|e| anyhow::anyhow!("recompute failed: {e:?}"))?;
            println!(
                "duty facts rebuilt for {n} appointments in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Serve => serve(config).await,
    }
}

/// Which importer to run.
#[derive(Debug, Clone, Copy)]
enum Import {
    Census,
    Gias,
    Links,
}

/// A file that is not the kind the import command reads (its header lacks the columns):
/// the command stops before loading anything and exits with code 2.
#[derive(Debug)]
pub struct WrongFile(pub String);

impl std::fmt::Display for WrongFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WrongFile {}

/// What each import command expects, for the message when it is given another file.
fn expected_file(kind: Import) -> &'static str {
    match kind {
        Import::Census => {
            "`import-census` reads the DfE school census SEN file \
             (england_census_performance_tables.csv: URN, LA, ESTAB, SCHOOLTYPE, NOR, ...)"
        }
        Import::Gias => {
            "`import-gias` reads a GIAS establishments download \
             (edubasealldata*.csv: URN, LA (code), EstablishmentName, TypeOfEstablishment, ...)"
        }
        Import::Links => {
            "`import-gias-links` reads a GIAS links download \
             (links_edubasealldata*.csv: URN, LinkURN, LinkType, LinkEstablishedDate)"
        }
    }
}

/// The rejection of the header row, if the parse made one.
fn header_refused(rejected: &[crate::import::Rejected]) -> Option<&str> {
    rejected
        .iter()
        .find(|r| r.line == 1 && r.reason.starts_with("header "))
        .map(|r| r.reason.as_str())
}

/// Reads, parses and loads one DfE file, with a progress bar on a terminal and plain
/// progress lines otherwise.
async fn import_file(
    db: &Db,
    file: &std::path::Path,
    kind: Import,
) -> anyhow::Result<crate::service::imports::Summary> {
    use std::io::IsTerminal;
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let bar = indicatif::ProgressBar::new(0);
    let terminal = std::io::stderr().is_terminal();
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} rows ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let label = format!("{kind:?}").to_lowercase();
    bar.set_message(label.clone());
    let last_line = std::sync::atomic::AtomicU64::new(0);
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
        if !terminal {
            // A plain line at every tenth of the way.
            let step = (total / 10).max(1);
            let prev = last_line.load(std::sync::atomic::Ordering::Relaxed);
            if done / step > prev / step || done == total {
                last_line.store(done, std::sync::atomic::Ordering::Relaxed);
                eprintln!("{label}: {done}/{total} rows");
            }
        }
    };
    let wrong = |why: &str| {
        anyhow::Error::new(WrongFile(format!(
            "{}: {why}; {}. Nothing was loaded.",
            file.display(),
            expected_file(kind)
        )))
    };
    let summary = match kind {
        Import::Census => {
            let text = crate::import::text::decode_utf8(&bytes);
            let (rows, rejected) = crate::import::census::parse(&text);
            if let Some(why) = header_refused(&rejected) {
                return Err(wrong(why));
            }
            crate::service::imports::census_rows(db, rows, rejected, &progress).await
        }
        Import::Gias => {
            let (rows, rejected) = crate::import::gias::parse(&bytes).map_err(|e| wrong(&e))?;
            crate::service::imports::gias_rows(db, rows, rejected, &progress).await
        }
        Import::Links => {
            let (rows, rejected) = crate::import::links::parse(&bytes);
            if let Some(why) = header_refused(&rejected) {
                return Err(wrong(why));
            }
            crate::service::imports::link_rows(db, rows, rejected, &progress).await
        }
    }
    .map_err(|e| anyhow::anyhow!("import failed: {e:?}"))?;
    bar.finish_and_clear();
    Ok(summary)
}

async fn connect(config: &Config) -> anyhow::Result<Db> {
    Db::connect_waiting(
        &config.database_url,
        config.db_max_connections,
        config.sqlite_busy_timeout,
    )
    .await
    .map_err(|e| anyhow::anyhow!("SENCO_DATABASE_URL: cannot connect: {e}"))
}

async fn migrated(config: &Config) -> anyhow::Result<Db> {
    let db = connect(config).await?;
    db.migrate().await?;
    Ok(db)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let secret = crate::auth::signing_secret(&config)?;
    let demo_secret = if config.has_local_key() {
        None
    } else {
        secret.clone()
    };
    let state = AppState::new(config.clone(), demo_secret).await?;
    if config.demo
        && demo::is_empty(&state.db)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
    {
        tracing::info!("empty demo database: loading the demo data set");
        demo::seed(&state.db).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("SENCO_BIND: cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    if config.demo {
        demo::print_banner(&config, &state.db, secret.as_ref(), addr).await?;
    }
    crate::serve(state, listener, shutdown_signal()).await
}

/// Parses the command line.
pub fn parse_args() -> Cli {
    Cli::parse()
}

/// Logs to stderr: plain key=value lines (coloured only on a terminal, so a log file holds
/// no escape codes), or JSON with `SENCO_LOG_FORMAT=json`.
pub fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("SENCO_LOG_FORMAT").is_ok_and(|v| v == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_accepts_units_and_refuses_nonsense() {
        assert_eq!(parse_ttl("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse_ttl("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(7 * 86_400));
        for bad in ["", "h", "8y", "0s", "-1h", "400d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
