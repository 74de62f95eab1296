//! Pure domain rules: who may be a SENCO, when the qualification duty bites, how termly
//! reports are scheduled, how money is held, and which compliance issues a school or a
//! shared-SENCO cluster raises.
//!
//! Nothing in here performs I/O or knows about HTTP, SQL or GraphQL: every function takes
//! plain facts and a date and returns a value, so the rules can be unit-tested exhaustively
//! and reused by the store, the GraphQL layer and the command-line tools alike. Where a rule
//! implements the law or the SEND Code of Practice, the paragraph is cited beside it.

pub mod clusters;
pub mod compliance;
pub mod eligibility;
pub mod events;
pub mod evidence;
pub mod governance;
pub mod money;
pub mod projection;
pub mod qualification;
pub mod school;
pub mod terms;
pub mod validation;

pub use school::is_relevant_kind;
