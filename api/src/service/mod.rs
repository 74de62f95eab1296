//! The use cases: one function per thing a user does (appoint a SENCO, submit a report,
//! read an LA's deadlines, ...). Each takes the caller's `Principal`, owns its
//! transaction, keeps the derived facts its change moves (`store::duty`), says what it
//! touched when it commits (`freshness::Touched`), and returns domain values or `ApiError`.
//! Every way in (GraphQL, the CLI, and later CSV exports, events and the console) calls
//! these, so each gives the same answer. Nothing here knows GraphQL types.

pub mod clusters;
pub mod compliance;
pub mod evidence;
pub mod governance;
pub mod imports;
pub mod npq;
pub mod reports;
pub mod schools;
pub mod sencos;
pub mod webhooks;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::store::audit::{self, Journal};

/// The shape of every write use case: runs `write` in one write transaction, with a
/// journal in which the store functions it calls note the rows they change; records that
/// journal in the audit log as `p` doing `operation`, and commits as having `touched` what
/// it says. A write that changed no row (a retry, a patch equal to the row) touches
/// nothing, so no cached answer is dropped for it. The events the journal raised are
/// written to the outbox in the same transaction (`store::events`), and announced to this
/// process's deliverers and subscribers once it has committed.
pub(crate) async fn write<T>(
    db: &Db,
    p: &Principal,
    operation: &str,
    touched: Touched,
    write: impl AsyncFnOnce(&sea_orm::DatabaseTransaction, &mut Journal) -> ApiResult<T>,
) -> ApiResult<T> {
    let w = db.begin_write().await?;
    let mut log = Journal::default();
    let out = write(w.txn(), &mut log).await?;
    let events = log.take_events();
    let schools = log.take_schools();
    let touched = if log.is_empty() {
        Touched::Nothing
    } else {
        touched
    };
    audit::record(w.txn(), p, operation, log).await?;
    let raised = crate::store::events::insert(w.txn(), events, schools).await?;
    w.commit(touched).await?;
    db.events.committed(&raised);
    Ok(out)
}
