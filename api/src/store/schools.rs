//! Local authorities, trusts and schools (SPEC 4.1).

use std::collections::HashMap;

use entity::{cluster_member, local_authority, school, school_census, trust};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::auth::Principal;
use crate::domain::school::{LaCode, Phase, SchoolKind, TrustUid, Urn};
use crate::error::{ApiError, ApiResult};
use crate::store::scope::Reached;
use crate::store::scope::{self, WriteAction};
use crate::store::{Page, Paged, audit};

/// A school filter as the store sees it (GraphQL's `SchoolFilter`, validated).
#[derive(Debug, Clone, Default)]
pub struct SchoolQuery {
    /// Only this LA.
    pub la_code: Option<LaCode>,
    /// Only this trust.
    pub trust_uid: Option<TrustUid>,
    /// Only these URNs.
    pub urns: Option<Vec<Urn>>,
    /// Only members of this cluster.
    pub cluster_id: Option<i64>,
    /// Only these phases.
    pub phases: Option<Vec<Phase>>,
    /// Only these kinds.
    pub kinds: Option<Vec<SchoolKind>>,
    /// Name contains this, case-insensitively.
    pub name_contains: Option<String>,
}

impl SchoolQuery {
    /// The filter as a condition on `school`.
    pub fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(la) = self.la_code {
            c = c.add(school::Column::LaCode.eq(la.get()));
        }
        if let Some(t) = self.trust_uid {
            c = c.add(school::Column::TrustUid.eq(t.get()));
        }
        if let Some(urns) = &self.urns {
            c = c.add(school::Column::Urn.is_in(urns.iter().map(|u| u.get())));
        }
        if let Some(id) = self.cluster_id {
            c = c.add(
                school::Column::Urn.in_subquery(
                    Query::select()
                        .column(cluster_member::Column::SchoolUrn)
                        .from(cluster_member::Entity)
                        .and_where(cluster_member::Column::ClusterId.eq(id))
                        .to_owned(),
                ),
            );
        }
        if let Some(phases) = &self.phases {
            c = c.add(school::Column::Phase.is_in(phases.iter().map(|v| v.as_str())));
        }
        if let Some(kinds) = &self.kinds {
            c = c.add(school::Column::Kind.is_in(kinds.iter().map(|v| v.as_str())));
        }
        if let Some(text) = &self.name_contains {
            c = c.add(name_contains(text));
        }
        c
    }

    /// `FORBIDDEN` when the filter names an LA or trust the caller cannot read whole:
    /// figures over "LA 202" must not quietly mean "the part of LA 202 you can see".
    pub fn check_covered(&self, p: &Principal) -> ApiResult<()> {
        scope::require_authenticated(p)?;
        if let Some(la) = self.la_code
            && !scope::covers_la(p, la)
        {
            return Err(ApiError::forbidden(format!(
                "your token does not cover LA {la}"
            )));
        }
        if let Some(t) = self.trust_uid
            && !scope::covers_trust(p, t)
        {
            return Err(ApiError::forbidden(format!(
                "your token does not cover trust {t}"
            )));
        }
        Ok(())
    }
}

/// `school.name` contains `text`, ignoring case; `%`, `_` and `\\` in `text` match
/// themselves.
pub fn name_contains(text: &str) -> SimpleExpr {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|ch| match ch {
            '%' | '_' | '\\' => vec!['\\', ch],
            _ => vec![ch],
        })
        .collect();
    Expr::expr(Func::lower(Expr::col(school::Column::Name)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// One school, `None` when no such URN, `FORBIDDEN` when the caller may not read it.
pub async fn school<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    urn: Urn,
) -> ApiResult<Option<school::Model>> {
    scope::require_authenticated(p)?;
    let Some(s) = school::Entity::find_by_id(urn.get()).one(db).await? else {
        return Ok(None);
    };
    scope::check_read(p, &s)?;
    Ok(Some(s))
}

/// The readable schools matching `filter`, by URN, one page at a time.
pub async fn schools<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    filter: &SchoolQuery,
    page: Page<i32>,
) -> ApiResult<Paged<school::Model>> {
    filter.check_covered(p)?;
    let base = school::Entity::find()
        .filter(scope::readable_schools(p)?)
        .filter(filter.condition());
    let total = base.clone().count(db).await?;
    let mut q = base.order_by_asc(school::Column::Urn);
    if let Some(after) = page.after {
        q = q.filter(school::Column::Urn.gt(after));
    }
    let rows = q.limit(page.first + 1).all(db).await?;
    Ok(Paged::from_overfetch(rows, page.first, total))
}

/// The LAs in which the caller can read at least one school.
pub async fn local_authorities<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
) -> ApiResult<Vec<local_authority::Model>> {
    let readable = Query::select()
        .column(school::Column::LaCode)
        .from(school::Entity)
        .cond_where(scope::readable_schools(p)?)
        .to_owned();
    let mut q = local_authority::Entity::find().order_by_asc(local_authority::Column::Code);
    if !p.admin {
        // LA scopes name LAs directly, even one with no school loaded yet.
        q = q.filter(
            Condition::any()
                .add(local_authority::Column::Code.in_subquery(readable))
                .add(local_authority::Column::Code.is_in(p.read.las.iter().copied())),
        );
    }
    Ok(q.all(db).await?)
}

/// LAs by code, for DataLoaders (no scoping: LA names are public reference data).
pub async fn las_by_code<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    codes: &[i32],
) -> ApiResult<HashMap<i32, local_authority::Model>> {
    Ok(local_authority::Entity::find()
        .filter(local_authority::Column::Code.is_in(codes.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code, m))
        .collect())
}

/// Trusts by UID, for DataLoaders (public reference data).
pub async fn trusts_by_uid<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    uids: &[i32],
) -> ApiResult<HashMap<i32, trust::Model>> {
    Ok(trust::Entity::find()
        .filter(trust::Column::Uid.is_in(uids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.uid, m))
        .collect())
}

/// Schools by URN, for DataLoaders. URNs and names are public; callers that expose
/// anything beyond reference data check `scope::can_read` on the row.
pub async fn schools_by_urn<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, school::Model>> {
    Ok(school::Entity::find()
        .filter(school::Column::Urn.is_in(urns.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.urn, m))
        .collect())
}

/// Successor schools by their predecessor's URN, highest URN first (DataLoaders).
pub async fn successors_by_urn<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<school::Model>>> {
    let rows = school::Entity::find()
        .filter(school::Column::PredecessorUrn.is_in(urns.iter().copied()))
        .order_by_desc(school::Column::Urn)
        .all(db)
        .await?;
    let mut out: HashMap<i32, Vec<school::Model>> = HashMap::new();
    for s in rows {
        if let Some(p) = s.predecessor_urn {
            out.entry(p).or_default().push(s);
        }
    }
    Ok(out)
}

/// The latest census snapshot of each school, for DataLoaders.
pub async fn census_by_urn<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, school_census::Model>> {
    let rows = school_census::Entity::find()
        .filter(school_census::Column::SchoolUrn.is_in(urns.iter().copied()))
        .order_by_asc(school_census::Column::CollectedOn)
        .all(db)
        .await?;
    // Ordered oldest first, so the newest snapshot of each school wins.
    Ok(rows.into_iter().map(|m| (m.school_urn, m)).collect())
}

/// Creates or replaces an LA (admin).
pub async fn upsert_local_authority<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    input: local_authority::Model,
) -> ApiResult<local_authority::Model> {
    scope::require_admin(p)?;
    let before = local_authority::Entity::find_by_id(input.code)
        .one(db)
        .await?;
    let after = match &before {
        Some(old) if *old == input => input.clone(),
        Some(_) => {
            let mut am = input.clone().into_active_model();
            am.name = Set(input.name.clone());
            am.update(db).await?
        }
        None => input.clone().into_active_model().insert(db).await?,
    };
    if before.as_ref() != Some(&after) {
        log.changed(
            "local_authority",
            after.code,
            &[],
            before.as_ref(),
            Some(&after),
        )?;
    }
    Ok(after)
}

/// Creates or replaces a trust (admin).
pub async fn upsert_trust<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    input: trust::Model,
) -> ApiResult<trust::Model> {
    scope::require_admin(p)?;
    let before = trust::Entity::find_by_id(input.uid).one(db).await?;
    let after = match &before {
        Some(old) if *old == input => input.clone(),
        Some(_) => {
            let mut am = input.clone().into_active_model();
            am.name = Set(input.name.clone());
            am.update(db).await?
        }
        None => input.clone().into_active_model().insert(db).await?,
    };
    if before.as_ref() != Some(&after) {
        log.changed("trust", after.uid, &[], before.as_ref(), Some(&after))?;
    }
    Ok(after)
}

/// Creates or replaces a school (admin), checking that its LA and trust exist.
pub async fn upsert_school<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    input: school::Model,
) -> ApiResult<school::Model> {
    scope::require_admin(p)?;
    if local_authority::Entity::find_by_id(input.la_code)
        .one(db)
        .await?
        .is_none()
    {
        return Err(ApiError::bad_input(
            "laCode",
            format!("no local authority has code {}", input.la_code),
        ));
    }
    if let Some(uid) = input.trust_uid
        && trust::Entity::find_by_id(uid).one(db).await?.is_none()
    {
        return Err(ApiError::bad_input(
            "trustUid",
            format!("no trust has UID {uid}"),
        ));
    }
    if input.predecessor_urn == Some(input.urn) {
        return Err(ApiError::bad_input(
            "predecessorUrn",
            "a school cannot be its own predecessor",
        ));
    }
    let before = school::Entity::find_by_id(input.urn).one(db).await?;
    if let Some(old) = &before {
        scope::check_write(p, old, WriteAction::ReferenceData)?;
    }
    let after = match &before {
        Some(old) if *old == input => input.clone(),
        Some(_) => {
            let am = input.clone().into_active_model().reset_all();
            am.update(db).await?
        }
        None => input.clone().into_active_model().insert(db).await?,
    };
    if before.as_ref() != Some(&after) {
        log.changed(
            "school",
            after.urn,
            &[after.urn],
            before.as_ref(),
            Some(&after),
        )?;
    }
    Ok(after)
}

/// The URNs of the schools the caller may read that `q` selects.
pub async fn readable_urns_matching<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    q: &SchoolQuery,
) -> ApiResult<Vec<i32>> {
    Ok(school::Entity::find()
        .select_only()
        .column(school::Column::Urn)
        .filter(scope::readable_schools(p)?)
        .filter(q.condition())
        .into_tuple::<i32>()
        .all(db)
        .await?)
}
