//! The use cases: one function per thing a user does (appoint a SENCO, submit a report,
//! read an LA's deadlines, ...). Each takes the caller's `Principal`, owns its
//! transaction, keeps the derived facts its change moves (`store::duty`), says what it
//! touched when it commits (`freshness::Touched`), and returns domain values or `ApiError`.
//! Every way in (GraphQL, the CLI, and later CSV exports, events and the console) calls
//! these, so each gives the same answer. Nothing here knows GraphQL types.

pub mod clusters;
pub mod reports;
pub mod schools;
pub mod sencos;

use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;

/// Runs `write` in one write transaction and commits it as having `touched` what it says:
/// the shape of every write use case that keeps no derived facts.
pub(crate) async fn write<T>(
    db: &Db,
    touched: Touched,
    write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> ApiResult<T>,
) -> ApiResult<T> {
    let w = db.begin_write().await?;
    let out = write(w.txn()).await?;
    w.commit(touched).await?;
    Ok(out)
}
