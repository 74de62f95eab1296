//! Database access, one module per domain. Every function takes the caller and a
//! `&impl ConnectionTrait`, so it runs the same on the pool or inside a transaction, and
//! applies row scoping through `scope`, the one enforcement point.

pub mod audit;
pub mod clusters;
pub mod compliance;
pub mod deadlines;
pub mod duty;
pub mod events;
pub mod evidence;
pub mod governance;
pub mod imports;
pub mod npq;
pub mod reports;
pub mod schools;
pub mod scope;
pub mod sencos;
pub mod webhooks;

/// Rows grouped under the keys a DataLoader asked for, every key present (an empty list
/// when no row has it) so that the loader caches "none" rather than asking again.
pub fn grouped<K, R>(
    keys: &[K],
    rows: Vec<R>,
    key_of: impl Fn(&R) -> K,
) -> std::collections::HashMap<K, Vec<R>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut map: std::collections::HashMap<K, Vec<R>> =
        keys.iter().map(|k| (*k, Vec::new())).collect();
    for r in rows {
        map.entry(key_of(&r)).or_default().push(r);
    }
    map
}

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

/// `started <= t AND (ended IS NULL OR ended >= t)`: a period current on `t`, the database's
/// form of [`crate::domain::qualification::is_current_on`] (SPEC 4.4 rule 7).
pub fn current_on<C: sea_orm::ColumnTrait>(
    started: C,
    ended: C,
    t: chrono::NaiveDate,
) -> sea_orm::Condition {
    sea_orm::Condition::all().add(started.lte(t)).add(
        sea_orm::Condition::any()
            .add(ended.is_null())
            .add(ended.gte(t)),
    )
}
