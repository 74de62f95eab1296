//! Connecting to SQLite or PostgreSQL through one code path, and migrating safely.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard};

use crate::error::ApiResult;
use crate::freshness::Touched;

/// Counts every SQL statement the pool runs; read by `/metrics` and by the tests that prove
/// a request's statement count is bounded by its shape.
#[derive(Debug, Default)]
pub struct StatementCounter(AtomicU64);

impl StatementCounter {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The migration that creates the NPQ cohort calendar, which [`Db::migrate`] fills with the
/// illustrative calendar when it applies it.
const CALENDAR_MIGRATION: &str = "m0009_npq_and_evidence";

/// The page cache of the SQLite writer connection, in KiB.
const WRITER_CACHE_KIB: u32 = 16 * 1024;

/// The database handle shared by every request.
#[derive(Clone)]
pub struct Db {
    /// The pool.
    pub conn: DatabaseConnection,
    /// SQLite allows one writer at a time and fails a deferred transaction that tries to
    /// upgrade to a write while another writer holds the file, so writers queue here in
    /// process instead of failing with "database is locked". PostgreSQL needs no such gate.
    write_gate: Option<Arc<Mutex<()>>>,
    /// On an SQLite file, the one connection this handle's write transactions run on (the
    /// event workers' handle has its own). Each commit
    /// makes SQLite drop the page cache of every other connection to the file; writes that
    /// took turns across the pool's connections would each start with a cold cache and read
    /// the pages of the indexes they update from the file again. On PostgreSQL, and for an
    /// in-memory SQLite database (whose pool is one connection), writes use `conn`.
    writer: Option<DatabaseConnection>,
    /// Statements run through this pool.
    pub statements: Arc<StatementCounter>,
    /// Connections the pool holds at most.
    pool_size: u32,
    /// Computed read results, validated against the change counters.
    pub cache: Arc<crate::freshness::ResultCache>,
    /// Where committed events are announced in this process (SPEC 4.11).
    pub events: Arc<crate::events::Bus>,
}

/// Held for the length of a write transaction.
pub struct WriteGuard<'a>(#[allow(dead_code)] Option<MutexGuard<'a, ()>>);

/// A write transaction holding the write gate; dropped without `commit`, it rolls back.
pub struct WriteTxn<'a> {
    txn: DatabaseTransaction,
    _gate: WriteGuard<'a>,
}

impl WriteTxn<'_> {
    /// The transaction to run statements in.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Moves the change counter of what the write `touched` as the transaction's last
    /// statement, then commits (see [`crate::freshness`]). Only the service layer, which
    /// knows what each use case writes, says what was touched.
    pub async fn commit(self, touched: Touched) -> ApiResult<()> {
        if let Some(sql) = touched.commit_sql() {
            self.txn.execute_unprepared(&sql).await?;
        }
        Ok(self.txn.commit().await?)
    }
}

impl Db {
    /// Connects, with SQLite in WAL mode and foreign keys on, and SQLite writers waiting
    /// up to 10 s for another process's write lock.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::connect_waiting(url, max_connections, Duration::from_secs(10)).await
    }

    /// [`Db::connect`], with SQLite writers waiting up to `busy` for a write lock.
    pub async fn connect_waiting(
        url: &str,
        max_connections: u32,
        busy: Duration,
    ) -> Result<Self, DbErr> {
        let is_sqlite = url.starts_with("sqlite:");
        let in_memory = is_sqlite && url.contains(":memory:");
        // Several in-memory SQLite connections would be several separate databases.
        let pool_size = if in_memory { 1 } else { max_connections.max(1) };
        let mut options = ConnectOptions::new(url.to_string());
        options
            .max_connections(pool_size)
            .min_connections(if in_memory { 1 } else { 0 })
            .acquire_timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(300))
            .sqlx_logging(false);
        if is_sqlite {
            options.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    // NORMAL in WAL mode loses nothing when the process is killed; only a
                    // power cut can lose the last commits, which FULL would also fsync.
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(busy)
            });
        }
        let statements = Arc::new(StatementCounter::default());
        let count = |conn: &mut DatabaseConnection| {
            let counter = statements.clone();
            conn.set_metric_callback(move |_info| {
                counter.0.fetch_add(1, Ordering::Relaxed);
            });
        };
        let mut conn = Database::connect(options.clone()).await?;
        count(&mut conn);
        let writer = if is_sqlite && !in_memory {
            let mut w = options;
            w.max_connections(1)
                .min_connections(1)
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>);
            w.map_sqlx_sqlite_opts(|o| {
                // A larger page cache than SQLite's 2 MB, for the indexes writes update.
                o.pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
            });
            let mut w = Database::connect(w).await?;
            count(&mut w);
            Some(w)
        } else {
            None
        };
        Ok(Self {
            conn,
            writer,
            write_gate: is_sqlite.then(|| Arc::new(Mutex::new(()))),
            pool_size,
            statements,
            cache: Arc::default(),
            events: Arc::default(),
        })
    }

    /// Connections the pool holds at most.
    pub fn pool_size(&self) -> u32 {
        self.pool_size
    }

    /// The pool's connections: (open, idle).
    pub fn pool_connections(&self) -> (u32, usize) {
        match self.backend() {
            DbBackend::Postgres => {
                let pool = self.conn.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.conn.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }

    /// The backend.
    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Begins a read snapshot: every statement in it sees the database as of one moment
    /// (repeatable read on PostgreSQL; an SQLite read transaction is a snapshot already).
    pub async fn begin_read(
        conn: &DatabaseConnection,
    ) -> Result<sea_orm::DatabaseTransaction, DbErr> {
        use sea_orm::TransactionTrait;
        let isolation = (conn.get_database_backend() == DbBackend::Postgres)
            .then_some(sea_orm::IsolationLevel::RepeatableRead);
        conn.begin_with_config(isolation, None).await
    }

    /// Makes this handle wait for `other`'s write gate, so that the two pools' writers
    /// (the server's and its background workers', over the same SQLite file) take turns in
    /// order. Without it they would meet only at SQLite's lock, whose busy handler retries
    /// after growing sleeps, and a lone writer in one pool loses almost every race to a
    /// busy pool in the other.
    /// Each keeps its own writer connection, so that the workers' statements are not
    /// counted as the requests'.
    pub fn share_write_gate(&mut self, other: &Db) {
        self.write_gate.clone_from(&other.write_gate);
    }

    /// The connection write transactions run on.
    pub(crate) fn write_conn(&self) -> &DatabaseConnection {
        self.writer.as_ref().unwrap_or(&self.conn)
    }

    /// Waits for the right to write (SQLite) and returns the guard to hold while writing.
    pub async fn write_gate(&self) -> WriteGuard<'_> {
        match &self.write_gate {
            Some(m) => WriteGuard(Some(m.lock().await)),
            None => WriteGuard(None),
        }
    }

    /// Begins a write transaction, after waiting for the write gate.
    pub async fn begin_write(&self) -> ApiResult<WriteTxn<'_>> {
        let gate = self.write_gate().await;
        let txn = self.begin_writer().await?;
        Ok(WriteTxn { txn, _gate: gate })
    }

    /// A transaction that will write. On SQLite it takes the file's write lock at `BEGIN`
    /// (`IMMEDIATE`), waiting up to the busy timeout while another process (an import)
    /// writes: a deferred transaction that had read first could not wait, and would fail
    /// at once with "database is locked" when another writer committed after its read.
    async fn begin_writer(&self) -> Result<DatabaseTransaction, DbErr> {
        if self.backend() == DbBackend::Sqlite {
            self.write_conn()
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await
        } else {
            self.conn.begin().await
        }
    }

    /// Applies pending migrations. On PostgreSQL a transaction-scoped advisory lock makes
    /// replicas that start together take turns: the first migrates, the rest find nothing to
    /// do. PostgreSQL DDL is transactional, so a failed migration leaves nothing behind.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        let _gate = self.write_gate().await;
        let txn = self.begin_writer().await?;
        if self.backend() == DbBackend::Postgres {
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7238471650012)")
                .await?;
        }
        // The illustrative NPQ cohort calendar (SPEC 4.8) is written in the run that creates
        // its table, so a new database (or one upgraded to it) starts with a calendar, while
        // an administrator who later deletes every cohort is not given them back at the next
        // start. It is data, so it is written here rather than by the migration.
        let seeds_calendar = Migrator::get_pending_migrations(&txn)
            .await?
            .iter()
            .any(|m| m.name() == CALENDAR_MIGRATION);
        Migrator::up(&txn, None).await?;
        if seeds_calendar {
            crate::store::npq::seed_illustrative(&txn)
                .await
                .map_err(|e| DbErr::Custom(format!("writing the NPQ calendar: {e:?}")))?;
        }
        // Derived facts written by an older version of the rules (or by none, on a database
        // migrated from before they were kept) are rebuilt once, under the same lock.
        if !crate::store::duty::is_current(&txn)
            .await
            .map_err(|e| DbErr::Custom(format!("reading the derived facts' version: {e:?}")))?
        {
            crate::store::duty::recompute_all(&txn, |_, _| {})
                .await
                .map_err(|e| DbErr::Custom(format!("rebuilding the derived facts: {e:?}")))?;
            if let Some(sql) = Touched::Staff.commit_sql() {
                txn.execute_unprepared(&sql).await?;
            }
        }
        txn.commit().await
    }

    /// Refreshes SQLite's query-planner statistics (a sampled `ANALYZE`, a few milliseconds
    /// even at national scale), so that it picks index probes over scans for an LA's
    /// summaries and dashboards; without them it guesses. Run at start-up, after migrations
    /// and after any import run by the CLI. PostgreSQL's autovacuum keeps its own.
    pub async fn refresh_statistics(&self) -> Result<(), DbErr> {
        if self.backend() == DbBackend::Sqlite {
            let _gate = self.write_gate().await;
            self.write_conn()
                .execute_unprepared("PRAGMA analysis_limit = 1000; ANALYZE;")
                .await?;
        }
        Ok(())
    }

    /// Opens every connection of the pool before the service answers, so that the first
    /// requests after a start do not each wait for a new connection (on PostgreSQL with TLS,
    /// tens of milliseconds apiece): each of as many transactions as the pool holds takes its
    /// own connection until all have begun, and the pool keeps them idle afterwards.
    pub async fn warm_up(&self) -> Result<(), DbErr> {
        let opened =
            futures::future::join_all((0..self.pool_size).map(|_| self.conn.begin())).await;
        for txn in opened {
            txn?.commit().await?;
        }
        Ok(())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.conn.execute_unprepared("SELECT 1").await.is_ok()
    }
}
