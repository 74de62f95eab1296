//! The deadlines view (SPEC 4.4 rule 7) and the deadline of any appointment on a day: the
//! stored duty facts (`store::duty`) of the appointments a query selects, joined to their
//! people, schools and courses in a fixed number of set-based statements, with the
//! date-dependent part (rule 6) computed by `domain::qualification::status_on`, and the
//! projection of SPEC 4.8 by `domain::projection::project` from the cohort calendar, read
//! once per computation.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{appointment_duty, person, qualification, school, senco_appointment};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

use crate::auth::Principal;
use crate::domain::projection::{self, Course, Projection, ProjectionOutcome};
use crate::domain::qualification::{
    self as rules, DutyOutcome, QualificationRecord, QualificationStatus,
};
use crate::domain::school::{LaCode, TrustUid, Urn};
use crate::error::{ApiError, ApiResult};
use crate::store::scope::Reached;
use crate::store::{duty, npq, scope};

/// One computed deadline.
#[derive(Debug, Clone)]
pub struct Deadline {
    /// The appointment.
    pub appointment: senco_appointment::Model,
    /// Its school.
    pub school: school::Model,
    /// Its person.
    pub person: person::Model,
    /// The rules' verdict.
    pub outcome: DutyOutcome,
    /// Whether the SENCO will make the deadline (SPEC 4.8).
    pub projection: ProjectionOutcome,
    /// The counting award, when qualified.
    pub award: Option<qualification::Model>,
}

/// Where an exempt appointment (with no deadline) sorts: after every real deadline, which
/// falls at most a few years after today. The database sorts by the same day.
pub const EXEMPT_LAST: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

impl Deadline {
    /// The sort key of SPEC 4.4(7): deadline (exempt last), URN, appointment id.
    pub fn sort_key(&self) -> (NaiveDate, i32, i64) {
        (
            self.outcome.deadline.unwrap_or(EXEMPT_LAST),
            self.school.urn,
            self.appointment.id,
        )
    }
}

/// Filters of the deadlines view.
#[derive(Debug, Clone, Default)]
pub struct DeadlineQuery {
    /// LA.
    pub la_code: Option<LaCode>,
    /// Trust.
    pub trust_uid: Option<TrustUid>,
    /// URNs.
    pub urns: Option<Vec<Urn>>,
    /// Appointment ids (for single-appointment evaluation).
    pub appointment_ids: Option<Vec<i64>>,
    /// Only these statuses.
    pub statuses: Option<Vec<QualificationStatus>>,
    /// Only these projections.
    pub projections: Option<Vec<Projection>>,
    /// Deadline on or before.
    pub on_or_before: Option<NaiveDate>,
    /// Deadline on or after.
    pub on_or_after: Option<NaiveDate>,
    /// The school's name contains this, ignoring case.
    pub school_name_contains: Option<String>,
    /// Only appointments current on `as_of` (the dashboard list); false for lookups by id.
    pub current_only: bool,
}

impl DeadlineQuery {
    /// Whether the query filters on what depends on the day (status or projection), so that
    /// its order and total cannot come from the stored facts alone.
    pub fn needs_whole_list(&self) -> bool {
        self.statuses.is_some() || self.projections.is_some()
    }

    /// `FORBIDDEN` when the query names an LA or trust the caller cannot read in full:
    /// deadlines "for LA 202" must not quietly mean "the part of LA 202 you can see".
    pub fn check_covered(&self, p: &Principal) -> ApiResult<()> {
        crate::store::schools::SchoolQuery {
            la_code: self.la_code,
            trust_uid: self.trust_uid,
            ..Default::default()
        }
        .check_covered(p)
    }
}

/// Computes deadlines as of `as_of` for the readable appointments the query selects, in
/// the order of SPEC 4.4(7). A fixed number of set-based queries, whatever the row count:
/// the appointments with their stored duty facts, then their people, schools and the
/// people's courses; the date-dependent part (rule 6) is computed here by the rules.
pub async fn deadlines<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    q: &DeadlineQuery,
    as_of: NaiveDate,
) -> ApiResult<Vec<Deadline>> {
    deadlines_within(db, scope::readable_schools(p)?, q, as_of).await
}

/// Deadlines for appointments already reached through a readable school (DataLoaders).
pub async fn deadlines_for_appointments<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    ids: Vec<i64>,
    as_of: NaiveDate,
) -> ApiResult<Vec<Deadline>> {
    let q = DeadlineQuery {
        appointment_ids: Some(ids),
        ..DeadlineQuery::default()
    };
    deadlines_within(db, Condition::all(), &q, as_of).await
}

/// Deadlines of the appointments current on `as_of` at the schools `schools` selects (the
/// caller has already put the read scope into it), for the compliance checks.
pub async fn current_deadlines_within<C: ConnectionTrait>(
    db: &C,
    schools: Condition,
    as_of: NaiveDate,
) -> ApiResult<Vec<Deadline>> {
    let q = DeadlineQuery {
        current_only: true,
        ..DeadlineQuery::default()
    };
    deadlines_within(db, schools, &q, as_of).await
}

/// The appointments `q` selects among the schools `readable` selects: the condition on
/// `senco_appointment`, and the schools as a sub-query.
fn selection(
    readable: Condition,
    q: &DeadlineQuery,
    as_of: NaiveDate,
) -> (Condition, SelectStatement) {
    let mut school_cond = Condition::all().add(readable);
    if let Some(la) = q.la_code {
        school_cond = school_cond.add(school::Column::LaCode.eq(la.get()));
    }
    if let Some(t) = q.trust_uid {
        school_cond = school_cond.add(school::Column::TrustUid.eq(t.get()));
    }
    if let Some(urns) = &q.urns {
        school_cond = school_cond.add(school::Column::Urn.is_in(urns.iter().map(|u| u.get())));
    }
    if let Some(text) = &q.school_name_contains {
        school_cond = school_cond.add(crate::store::schools::name_contains(text));
    }
    let schools_sel: SelectStatement = Query::select()
        .column(school::Column::Urn)
        .from(school::Entity)
        .cond_where(school_cond.clone())
        .to_owned();
    let mut a_cond =
        Condition::all().add(senco_appointment::Column::SchoolUrn.in_subquery(schools_sel.clone()));
    if q.current_only {
        a_cond = a_cond.add(super::current_on(
            senco_appointment::Column::StartedOn,
            senco_appointment::Column::EndedOn,
            as_of,
        ));
    }
    if let Some(ids) = &q.appointment_ids {
        a_cond = a_cond.add(senco_appointment::Column::Id.is_in(ids.iter().copied()));
    }
    (a_cond, schools_sel)
}

/// The first part of the sort key of SPEC 4.4(7) in SQL: the deadline, [`EXEMPT_LAST`]
/// when there is none.
const SORT_DEADLINE: &str = "COALESCE(appointment_duty.deadline, '9999-12-31')";

/// One page of the deadlines view when no status filter applies (so that the order and the
/// total depend on stored facts only): the count and the `first + 1` appointments after
/// `after` in the order of SPEC 4.4(7), straight from the database, then the rules applied
/// to that page alone. A bounded number of statements and rows whatever the scope, so a
/// national list costs what a page costs.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    q: &DeadlineQuery,
    as_of: NaiveDate,
    after: Option<(NaiveDate, i32, i64)>,
    first: u64,
) -> ApiResult<(Vec<Deadline>, u64)> {
    if q.needs_whole_list() {
        return Err(ApiError::internal(
            "a status or projection filter needs the whole list",
        ));
    }
    let (mut cond, _) = selection(scope::readable_schools(p)?, q, as_of);
    if let Some(d) = q.on_or_before {
        cond = cond.add(appointment_duty::Column::Deadline.lte(d));
    }
    if let Some(d) = q.on_or_after {
        cond = cond.add(appointment_duty::Column::Deadline.gte(d));
    }
    let joined = || {
        senco_appointment::Entity::find()
            .join_rev(
                JoinType::LeftJoin,
                appointment_duty::Relation::SencoAppointment.def(),
            )
            .filter(cond.clone())
    };
    let total = joined().count(db).await?;
    let mut rows = joined()
        .select_only()
        .column(senco_appointment::Column::Id)
        .order_by(Expr::cust(SORT_DEADLINE), Order::Asc)
        .order_by_asc(senco_appointment::Column::SchoolUrn)
        .order_by_asc(senco_appointment::Column::Id)
        .limit(first + 1);
    if let Some((d, urn, id)) = after {
        // Row-value comparison reads the keyset on both databases.
        rows = rows.filter(
            Expr::tuple([
                Expr::cust(SORT_DEADLINE),
                Expr::col((
                    senco_appointment::Entity,
                    senco_appointment::Column::SchoolUrn,
                )),
                Expr::col((senco_appointment::Entity, senco_appointment::Column::Id)),
            ])
            .gt(Expr::tuple([Expr::val(d), Expr::val(urn), Expr::val(id)])),
        );
    }
    let ids: Vec<i64> = rows.into_tuple::<i64>().all(db).await?;
    let q = DeadlineQuery {
        appointment_ids: Some(ids),
        ..DeadlineQuery::default()
    };
    let page = deadlines_within(db, Condition::all(), &q, as_of).await?;
    Ok((page, total))
}

async fn deadlines_within<C: ConnectionTrait>(
    db: &C,
    readable: Condition,
    q: &DeadlineQuery,
    as_of: NaiveDate,
) -> ApiResult<Vec<Deadline>> {
    let (a_cond, schools_sel) = selection(readable, q, as_of);
    let rows: Vec<(senco_appointment::Model, Option<appointment_duty::Model>)> =
        senco_appointment::Entity::find()
            .select_also(appointment_duty::Entity)
            .join_rev(
                JoinType::LeftJoin,
                appointment_duty::Relation::SencoAppointment.def(),
            )
            .filter(a_cond.clone())
            .all(db)
            .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let persons_sel: SelectStatement = Query::select()
        .column(senco_appointment::Column::PersonId)
        .from(senco_appointment::Entity)
        .cond_where(a_cond)
        .to_owned();
    // The people and schools are known from the rows just read: naming them is far cheaper
    // than running the selection again as a sub-query (on PostgreSQL each re-run scanned
    // the appointments). A national selection falls back to sub-queries, which keeps the
    // statements within the databases' limits on bound parameters.
    let person_ids: std::collections::BTreeSet<i64> =
        rows.iter().map(|(a, _)| a.person_id).collect();
    let urns: std::collections::BTreeSet<i32> = rows.iter().map(|(a, _)| a.school_urn).collect();
    let named = person_ids.len() <= 5_000 && urns.len() <= 5_000;
    let of_people = |col: sea_orm::sea_query::SimpleExpr| -> sea_orm::sea_query::SimpleExpr {
        if named {
            col.is_in(person_ids.iter().copied())
        } else {
            col.in_subquery(persons_sel.clone())
        }
    };
    let people: HashMap<i64, person::Model> = person::Entity::find()
        .filter(of_people(Expr::col((person::Entity, person::Column::Id))))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let schools: HashMap<i32, school::Model> = school::Entity::find()
        .filter(if named {
            school::Column::Urn.is_in(urns.iter().copied())
        } else {
            school::Column::Urn.in_subquery(schools_sel)
        })
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.urn, s))
        .collect();
    // The courses decide `IN_TRAINING` and name the award; everything else the rules need
    // is in the stored duty facts.
    let quals: Vec<qualification::Model> = qualification::Entity::find()
        .filter(of_people(Expr::col((
            qualification::Entity,
            qualification::Column::PersonId,
        ))))
        .order_by_asc(qualification::Column::Id)
        .all(db)
        .await?;
    let calendar = npq::calendar(db).await?;
    let mut by_person_quals: HashMap<i64, Vec<&qualification::Model>> = HashMap::new();
    for qm in &quals {
        by_person_quals.entry(qm.person_id).or_default().push(qm);
    }
    let empty_q: Vec<&qualification::Model> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for (a, facts) in rows {
        let (Some(school), Some(person)) = (schools.get(&a.school_urn), people.get(&a.person_id))
        else {
            continue;
        };
        let Some(facts) = facts else {
            return Err(ApiError::internal(format!(
                "appointment {} has no stored duty facts; run `senco-oversight recompute`",
                a.id
            )));
        };
        let person_quals = by_person_quals.get(&a.person_id).unwrap_or(&empty_q);
        let courses: Vec<Course> = person_quals
            .iter()
            .filter_map(|qm| {
                Some(Course {
                    record: duty::record(qm)?,
                    expected_completion_on: qm.expected_completion_on,
                })
            })
            .collect();
        let records: Vec<QualificationRecord> = courses.iter().map(|c| c.record).collect();
        let outcome = rules::status_on(&duty::facts_of(&facts), &records, as_of);
        if let Some(statuses) = &q.statuses
            && !statuses.contains(&outcome.status)
        {
            continue;
        }
        let projection = projection::project(&outcome, &courses, &calendar, as_of);
        if let Some(projections) = &q.projections
            && !projections.contains(&projection.projection)
        {
            continue;
        }
        if let Some(d) = q.on_or_before
            && outcome.deadline.is_none_or(|dl| dl > d)
        {
            continue;
        }
        if let Some(d) = q.on_or_after
            && outcome.deadline.is_none_or(|dl| dl < d)
        {
            continue;
        }
        let award = outcome.qualifying_award.and_then(|id| {
            person_quals
                .iter()
                .find(|qm| qm.id == id)
                .map(|qm| (*qm).clone())
        });
        out.push(Deadline {
            school: school.clone(),
            person: person.clone(),
            appointment: a,
            outcome,
            projection,
            award,
        });
    }
    out.sort_by_key(Deadline::sort_key);
    Ok(out)
}
