//! The one place where a caller's scopes meet stored rows (SPEC section 3).
//!
//! Reads are filtered with `readable_schools`, a condition on the `school` table built from
//! the token's scopes; LA and trust scopes match the school's *stored* LA and trust, so a
//! school that joins a trust is visible to it at once. Writes load the stored school inside
//! the write's transaction and call `check_write` on it, never on an identifier the client
//! sent. Every store function goes through here.

use entity::school;
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait};

use crate::auth::{Principal, SchoolSet};
use crate::domain::school::{LaCode, TrustUid, Urn};
use crate::error::{ApiError, ApiResult};

/// What a write does, which decides the scopes that allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAction {
    /// LAs, trusts and schools: `admin` only.
    ReferenceData,
    /// Appointments, people, prior service and qualifications: school, LA and trust writers
    /// and admin.
    Staff,
    /// Termly reports: the school's own statement, so `school:{urn}:write` only.
    TermlyReport,
    /// Clusters: LA and trust writers (for every member) and admin; not schools.
    Cluster,
    /// SENCO-governor meetings and governance actions (SPEC 4.10): the school's own writer
    /// (`school:{urn}:write`) and its governing body (`school:{urn}:govern`,
    /// `trust:{uid}:govern`).
    Governance,
    /// Signing off the school's SEN documents (SPEC 4.10): its governing body alone.
    SignOff,
}

/// Proof, in the signature of a batch read by keys (the DataLoaders' reads), that its keys
/// come from rows already scoped for an authenticated caller: a school the caller may read,
/// an appointment or report at one, a cluster with a member the caller may read. Only
/// [`Reached::through`] makes one, and only for an authenticated caller, so such a read can
/// never be the first step of an anonymous request or of one that skipped the check.
#[derive(Debug, Clone, Copy)]
pub struct Reached(());

impl Reached {
    /// The reach of `p` over rows met through scoped rows; `UNAUTHENTICATED` when anonymous.
    pub fn through(p: &Principal) -> ApiResult<Self> {
        require_authenticated(p)?;
        Ok(Self(()))
    }
}

/// Fails with `UNAUTHENTICATED` for an anonymous caller.
pub fn require_authenticated(p: &Principal) -> ApiResult<()> {
    if p.is_authenticated() {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated)
    }
}

/// Fails unless the caller is `admin`.
pub fn require_admin(p: &Principal) -> ApiResult<()> {
    require_authenticated(p)?;
    if p.admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs the `admin` scope"))
    }
}

fn set_condition(set: &SchoolSet) -> Condition {
    let mut c = Condition::any();
    if !set.urns.is_empty() {
        c = c.add(school::Column::Urn.is_in(set.urns.iter().copied()));
    }
    if !set.las.is_empty() {
        c = c.add(school::Column::LaCode.is_in(set.las.iter().copied()));
    }
    if !set.trusts.is_empty() {
        c = c.add(school::Column::TrustUid.is_in(set.trusts.iter().copied()));
    }
    if set.is_empty() {
        // An empty `any` matches everything in sea-query; a token with no school scopes
        // must match nothing.
        c = c.add(Expr::cust("1 = 0"));
    }
    c
}

/// The condition on `school` rows the caller may read; `UNAUTHENTICATED` when anonymous.
pub fn readable_schools(p: &Principal) -> ApiResult<Condition> {
    require_authenticated(p)?;
    if p.admin {
        return Ok(Condition::all());
    }
    Ok(set_condition(&p.read))
}

/// `SELECT urn FROM school WHERE <readable>`, for filtering rows of other tables by school.
pub fn readable_urns(p: &Principal) -> ApiResult<SelectStatement> {
    let cond = readable_schools(p)?;
    Ok(Query::select()
        .column(school::Column::Urn)
        .from(school::Entity)
        .cond_where(cond)
        .to_owned())
}

fn in_set(set: &SchoolSet, s: &school::Model) -> bool {
    set.urns.contains(&s.urn)
        || set.las.contains(&s.la_code)
        || s.trust_uid.is_some_and(|t| set.trusts.contains(&t))
}

/// Whether the caller may read the stored school.
pub fn can_read(p: &Principal, s: &school::Model) -> bool {
    p.is_authenticated() && (p.admin || in_set(&p.read, s))
}

/// `FORBIDDEN` unless the caller may read the stored school.
pub fn check_read(p: &Principal, s: &school::Model) -> ApiResult<()> {
    require_authenticated(p)?;
    if can_read(p, s) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "your token does not cover school {}",
            s.urn
        )))
    }
}

/// Whether the caller may perform `action` on the stored school.
pub fn can_write(p: &Principal, s: &school::Model, action: WriteAction) -> bool {
    if !p.is_authenticated() {
        return false;
    }
    match action {
        WriteAction::ReferenceData => p.admin,
        WriteAction::Staff => p.admin || in_set(&p.write, s),
        WriteAction::TermlyReport => p.write.urns.contains(&s.urn),
        WriteAction::Cluster => {
            p.admin
                || p.write.las.contains(&s.la_code)
                || s.trust_uid.is_some_and(|t| p.write.trusts.contains(&t))
        }
        WriteAction::Governance => p.write.urns.contains(&s.urn) || in_set(&p.govern, s),
        WriteAction::SignOff => in_set(&p.govern, s),
    }
}

/// `FORBIDDEN` unless the caller may perform `action` on the stored school.
pub fn check_write(p: &Principal, s: &school::Model, action: WriteAction) -> ApiResult<()> {
    require_authenticated(p)?;
    if can_write(p, s, action) {
        return Ok(());
    }
    let what = match action {
        WriteAction::ReferenceData => "changing reference data needs the `admin` scope".into(),
        WriteAction::Staff => format!(
            "your token may not change SENCO records of school {}",
            s.urn
        ),
        WriteAction::TermlyReport => format!(
            "only `school:{}:write` may submit that school's termly report",
            s.urn
        ),
        WriteAction::Cluster => format!(
            "clusters need an LA or trust write scope covering school {}",
            s.urn
        ),
        WriteAction::Governance => format!(
            "only `school:{}:write` or a govern scope covering the school may record its \
             governor meetings and actions",
            s.urn
        ),
        WriteAction::SignOff => format!(
            "only the governing body (`school:{}:govern`, or its trust's govern scope) may \
             sign off the school's documents",
            s.urn
        ),
    };
    Err(ApiError::forbidden(what))
}

/// Whether the caller may read the free text of the school's governance records (SPEC
/// 4.10): the names of meeting attendees, key points, and actions' descriptions, success
/// criteria, monitoring and evaluation. A school or trust scope covering the school, or
/// `admin`; a reader who reaches the school only through an `la:` scope sees the dates,
/// counts, roles and statuses, and those fields as null.
pub fn reads_governance_text(p: &Principal, s: &school::Model) -> bool {
    p.is_authenticated()
        && (p.admin
            || p.read.urns.contains(&s.urn)
            || s.trust_uid.is_some_and(|t| p.read.trusts.contains(&t)))
}

/// Whether the caller may read every school of an LA (for LA-wide figures).
pub fn covers_la(p: &Principal, la_code: LaCode) -> bool {
    p.admin || p.read.las.contains(&la_code.get())
}

/// Whether the caller may read every school of a trust.
pub fn covers_trust(p: &Principal, uid: TrustUid) -> bool {
    p.admin || p.read.trusts.contains(&uid.get())
}

/// Loads a school by URN, `NOT_FOUND` (naming `field`) when there is none.
pub async fn require_school<C: ConnectionTrait>(
    db: &C,
    urn: Urn,
    field: &str,
) -> ApiResult<school::Model> {
    school::Entity::find_by_id(urn.get())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found_at(field, format!("no school has URN {urn}")))
}
