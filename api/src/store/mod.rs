//! Database access, one module per domain. Every function takes the caller and a
//! `&impl ConnectionTrait`, so it runs the same on the pool or inside a transaction, and
//! applies row scoping through `scope`, the one enforcement point.

pub mod audit;
pub mod clusters;
pub mod compliance;
pub mod imports;
pub mod reports;
pub mod schools;
pub mod scope;
pub mod sencos;

/// A page request after validation: at most `first` rows after the key `after`.
#[derive(Debug, Clone, Copy)]
pub struct Page<K> {
    /// Rows wanted (1..=250).
    pub first: u64,
    /// Exclusive lower bound of the sort key.
    pub after: Option<K>,
}

/// One page of rows, and the total over every page.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Whether more rows follow.
    pub has_next: bool,
    /// Rows matching over all pages.
    pub total: u64,
}

impl<T> Paged<T> {
    /// Cuts a `first + 1` fetch down to `first`, noting whether more follow.
    pub fn from_overfetch(mut rows: Vec<T>, first: u64, total: u64) -> Self {
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Self {
            rows,
            has_next,
            total,
        }
    }
}

/// The database's change marker: it differs after any committed change made through the
/// product, since every mutation and every import batch writes an audit row in its own
/// transaction. On PostgreSQL, where a transaction holding a lower audit id can commit
/// after one holding a higher id, the oldest running transaction id joins the marker, so
/// a change still in flight when the marker was read also changes it once committed.
pub async fn version<C: sea_orm::ConnectionTrait>(db: &C) -> crate::error::ApiResult<String> {
    use sea_orm::{DbBackend, Statement};
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT (COALESCE(MAX(id), 0)::text || ':' || \
             pg_snapshot_xmin(pg_current_snapshot())::text) AS v FROM audit_event"
        }
        _ => "SELECT CAST(COALESCE(MAX(id), 0) AS TEXT) AS v FROM audit_event",
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| crate::error::ApiError::internal("no change marker"))?;
    Ok(row.try_get::<String>("", "v")?)
}

/// The staff change marker: moves with every committed change except termly report
/// submissions (see `db::WriteTxn::commit`). Read after commit only, so it needs no help
/// on PostgreSQL.
pub async fn staff_version<C: sea_orm::ConnectionTrait>(db: &C) -> crate::error::ApiResult<String> {
    use sea_orm::Statement;
    let sql =
        "SELECT CAST(COALESCE(MAX(n), 0) AS TEXT) AS v FROM change_marker WHERE domain = 'staff'";
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| crate::error::ApiError::internal("no change marker"))?;
    Ok(format!("staff:{}", row.try_get::<String>("", "v")?))
}
