//! Database access, one module per domain. Every function takes the caller and a
//! `&impl ConnectionTrait`, so it runs the same on the pool or inside a transaction, and
//! applies row scoping through `scope`, the one enforcement point.

pub mod audit;
pub mod changes;
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

/// The database's change marker: the sum of the change counters (`change_marker`), one of
/// which every committed change made through the product moves as its transaction's last
/// statement (`db::WriteTxn::commit` and `commit_report`). A counter row is locked from
/// that update until the commit, so its values become visible in commit order: a marker
/// read before a change committed always differs from one read after. It depends on
/// nothing outside this database, so other databases on the same PostgreSQL server do
/// not disturb it.
pub async fn version<C: sea_orm::ConnectionTrait>(db: &C) -> crate::error::ApiResult<String> {
    Ok(changes::markers(db).await?.label())
}

/// The staff change marker: moves with every committed change except termly report
/// submissions (see `db::WriteTxn::commit`), in commit order like [`version`].
pub async fn staff_version<C: sea_orm::ConnectionTrait>(db: &C) -> crate::error::ApiResult<String> {
    Ok(changes::markers(db).await?.staff().label())
}
