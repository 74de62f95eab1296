//! The governing body's side (SPEC 4.10): recording SENCO-governor meetings and the actions
//! agreed at them or in the SEN action plan, following the actions up, and signing off the
//! school's SEN documents. Each write moves the `governance` counter, which no cached
//! result reads but whole cached responses do.

use chrono::NaiveDate;
use entity::governance_action;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::store::governance::{
    self, ActionPatch, Meeting, MeetingPatch, NewAction, NewMeeting, NewSignOff, SignOff,
};
use crate::store::scope;

/// Records a SENCO-governor meeting with the actions agreed at it, all or nothing.
pub async fn record_meeting(
    db: &Db,
    p: &Principal,
    m: NewMeeting,
    today: NaiveDate,
) -> ApiResult<Meeting> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "recordGovernorMeeting",
        Touched::Governance,
        async |txn, log| governance::record_meeting(txn, p, log, m, today).await,
    )
    .await
}

/// Corrects a meeting's record.
pub async fn update_meeting(
    db: &Db,
    p: &Principal,
    id: i64,
    patch: MeetingPatch,
) -> ApiResult<Meeting> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "updateGovernorMeeting",
        Touched::Governance,
        async |txn, log| governance::update_meeting(txn, p, log, id, patch).await,
    )
    .await
}

/// Adds an action agreed at a meeting, or to the SEN action plan.
pub async fn add_action(
    db: &Db,
    p: &Principal,
    a: NewAction,
    today: NaiveDate,
) -> ApiResult<governance_action::Model> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "addGovernanceAction",
        Touched::Governance,
        async |txn, log| governance::add_action(txn, p, log, a, today).await,
    )
    .await
}

/// Follows an action up: its status, completion, evaluation, or its terms.
pub async fn update_action(
    db: &Db,
    p: &Principal,
    id: i64,
    patch: ActionPatch,
    today: NaiveDate,
) -> ApiResult<governance_action::Model> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "updateGovernanceAction",
        Touched::Governance,
        async |txn, log| governance::update_action(txn, p, log, id, patch, today).await,
    )
    .await
}

/// Records the governing body's sign-off of one of the school's documents.
pub async fn sign_off(db: &Db, p: &Principal, s: NewSignOff) -> ApiResult<SignOff> {
    scope::require_authenticated(p)?;
    super::write(
        db,
        p,
        "signOffDocument",
        Touched::Governance,
        async |txn, log| {
            let s = governance::sign_off(txn, p, log, s).await?;
            let o = &s.row;
            // Ids, dates and the role: not `signedBy`, which is a person's name.
            log.raise(
                crate::domain::events::EventType::SignOffRecorded,
                Some(o.school_urn),
                serde_json::json!({
                    "signOffId": o.id.to_string(),
                    "document": o.document,
                    "academicYear": o.academic_year,
                    "term": o.term,
                    "reportVersion": o.report_version,
                    "documentDate": o.document_date,
                    "signedOn": o.signed_on,
                    "role": o.role,
                }),
            );
            Ok(s)
        },
    )
    .await
}

/// One meeting and its school, for a caller who may read the school.
pub async fn meeting(
    db: &Db,
    p: &Principal,
    id: i64,
) -> ApiResult<Option<(Meeting, entity::school::Model)>> {
    governance::meeting(&db.conn, p, id).await
}
