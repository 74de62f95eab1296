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
