//! School compliance as of a day (SPEC 4.7), and the cluster checks (4.6) of the clusters
//! those schools belong to, gathered for any number of schools with a fixed number of
//! set-based queries. The rules themselves live in `domain::compliance` and
//! `domain::clusters`; this module only collects their facts.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use entity::{school, senco_appointment, termly_report};
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::clusters::{ClusterThresholds, cluster_issues};
use crate::domain::compliance::{
    AppointmentFacts, ClusterChecks, FoundIssue, LatestReportFacts, SchoolFacts, Severity, gather,
    school_issues,
};
use crate::domain::eligibility::{InductionStatus, eligibility_issues};
use crate::domain::evidence::{CheckRecord, needs_confirming, unconfirmed};
use crate::domain::qualification::QualificationKind;
use crate::domain::terms::AcademicTerm;
use crate::error::ApiResult;
use crate::store::scope::Reached;
use crate::store::{clusters, deadlines, evidence};

/// Whether the current SENCO of `d` holds a QTS or counting award that no evidence check had
/// confirmed by `as_of` (SPEC 4.7, `SENCO_EVIDENCE_NOT_CHECKED`).
fn evidence_unconfirmed(
    d: &deadlines::Deadline,
    checks: &HashMap<i64, Vec<CheckRecord>>,
    as_of: NaiveDate,
) -> bool {
    let award = d
        .award
        .as_ref()
        .and_then(|q| QualificationKind::parse(&q.kind));
    let needed = needs_confirming(d.person.has_qts, d.appointment.is_headteacher, award);
    let checks = checks.get(&d.person.id).map_or(&[][..], Vec::as_slice);
    !unconfirmed(&needed, checks, as_of).is_empty()
}

/// The stored term name's place in the academic year, in SQL (for ordering reports).
fn term_index_sql(alias: &str) -> String {
    format!("(CASE {alias}.term WHEN 'AUTUMN' THEN 0 WHEN 'SPRING' THEN 1 ELSE 2 END)")
}

/// The latest version of each selected school's most recent term's report.
async fn latest_reports<C: ConnectionTrait>(
    db: &C,
    schools: SelectStatement,
) -> ApiResult<HashMap<i32, termly_report::Model>> {
    // A correlated NOT EXISTS finds each school's newest term in one statement on both
    // databases; `r2.is_latest = termly_report.is_latest` compares with the outer row's
    // `true`, which spares writing a boolean literal that SQLite and PostgreSQL spell
    // differently.
    let newer = format!(
        "NOT EXISTS (SELECT 1 FROM termly_report r2 WHERE r2.school_urn = termly_report.school_urn \
         AND r2.is_latest = termly_report.is_latest \
         AND r2.academic_year * 3 + {} > termly_report.academic_year * 3 + {})",
        term_index_sql("r2"),
        term_index_sql("termly_report"),
    );
    Ok(termly_report::Entity::find()
        .filter(termly_report::Column::IsLatest.eq(true))
        .filter(termly_report::Column::SchoolUrn.in_subquery(schools))
        .filter(Expr::cust(newer))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.school_urn, r))
        .collect())
}

/// Schools among the selection with a report for `term`.
async fn reported_for<C: ConnectionTrait>(
    db: &C,
    schools: SelectStatement,
    term: AcademicTerm,
) -> ApiResult<HashSet<i32>> {
    Ok(termly_report::Entity::find()
        .select_only()
        .column(termly_report::Column::SchoolUrn)
        .filter(termly_report::Column::IsLatest.eq(true))
        .filter(termly_report::Column::AcademicYear.eq(term.academic_year))
        .filter(termly_report::Column::Term.eq(term.term.as_str()))
        .filter(termly_report::Column::SchoolUrn.in_subquery(schools))
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The schools the checks of SPEC 4.7 cover (and `termlySummary` expects a report from),
/// apart from being open: the relevant schools the regulations bind, and any other school
/// that has chosen to use the product (it has recorded a SENCO appointment or a termly
/// report).
pub fn bound_or_using() -> Condition {
    let relevant = crate::domain::school::SchoolKind::ALL
        .iter()
        .filter(|k| k.is_relevant())
        .map(|k| k.as_str());
    let at_school = |table: &str, column: &str| {
        Expr::cust(format!(
            "EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} = school.urn)"
        ))
    };
    Condition::any()
        .add(school::Column::Kind.is_in(relevant))
        .add(at_school("senco_appointment", "school_urn"))
        .add(at_school("termly_report", "school_urn"))
}

/// The schools the checks cover on `on`: [`bound_or_using`] and open that day.
pub fn checked_on(on: NaiveDate) -> Condition {
    Condition::all().add(bound_or_using()).add(
        Condition::any()
            .add(school::Column::ClosedOn.is_null())
            .add(school::Column::ClosedOn.gte(on)),
    )
}

/// Facts for the school checks of every school `cond` selects that the checks cover on
/// `as_of` ([`checked_on`]).
pub async fn school_facts<C: ConnectionTrait>(
    db: &C,
    cond: Condition,
    as_of: NaiveDate,
) -> ApiResult<Vec<SchoolFacts>> {
    let cond = Condition::all().add(cond).add(checked_on(as_of));
    let select: SelectStatement = Query::select()
        .column(school::Column::Urn)
        .from(school::Entity)
        .cond_where(cond.clone())
        .to_owned();
    let schools: Vec<(i32, String)> = school::Entity::find()
        .select_only()
        .column(school::Column::Urn)
        .column(school::Column::Kind)
        .filter(cond.clone())
        .into_tuple()
        .all(db)
        .await?;
    if schools.is_empty() {
        return Ok(Vec::new());
    }
    let current_people: SelectStatement = Query::select()
        .column(senco_appointment::Column::PersonId)
        .from(senco_appointment::Entity)
        .cond_where(
            Condition::all()
                .add(senco_appointment::Column::SchoolUrn.in_subquery(select.clone()))
                .add(crate::store::current_on(
                    senco_appointment::Column::StartedOn,
                    senco_appointment::Column::EndedOn,
                    as_of,
                )),
        )
        .to_owned();
    let current = deadlines::current_deadlines_within(db, cond, as_of).await?;
    let checks = if current.is_empty() {
        HashMap::new()
    } else {
        evidence::records_for(db, current_people).await?
    };
    let mut appointments: HashMap<i32, Vec<AppointmentFacts>> = HashMap::new();
    for d in current {
        let a = &d.appointment;
        let induction = InductionStatus::parse(&d.person.induction_status)
            .unwrap_or(InductionStatus::NotStarted);
        let eligible = eligibility_issues(
            a.is_headteacher,
            d.person.has_qts,
            induction,
            a.works_as_teacher_at_school,
        )
        .is_empty();
        appointments
            .entry(a.school_urn)
            .or_default()
            .push(AppointmentFacts {
                eligible,
                qualification_status: d.outcome.status,
                on_senior_leadership_team: a.on_senior_leadership_team,
                projection: d.projection,
                evidence_unconfirmed: evidence_unconfirmed(&d, &checks, as_of),
            });
    }
    let due = AcademicTerm::latest_due_by(as_of);
    let reported = reported_for(db, select.clone(), due).await?;
    let latest = latest_reports(db, select.clone()).await?;
    let mut governance =
        crate::store::governance::compliance_facts(db, select, &latest, as_of).await?;
    Ok(schools
        .into_iter()
        .map(|(urn, kind)| SchoolFacts {
            urn,
            is_relevant: crate::domain::is_relevant_kind(&kind),
            current_appointments: appointments.remove(&urn).unwrap_or_default(),
            has_report_for_latest_due_term: reported.contains(&urn),
            latest_report: latest.get(&urn).map(|r| LatestReportFacts {
                sen_information_report_published_on: r.sen_information_report_published_on,
                sen_policy_date: r.sen_policy_date,
                overspent: crate::store::reports::budget_of(r).overspent(),
            }),
            governance: governance.remove(&urn).unwrap_or_default(),
        })
        .collect())
}

/// Every issue, school and cluster checks, for the schools `cond` selects as of `as_of`,
/// sorted by [`FoundIssue::sort_key`] and narrowed to `severities` and `codes` when given.
///
/// Cluster checks come from the clusters active on `as_of` with a member among those
/// schools; a member-level issue is kept only when its school is among them, so an LA sees
/// a cluster's problems at its own schools and the cluster-wide ones, never the details of
/// another LA's member.
pub async fn issues<C: ConnectionTrait>(
    db: &C,
    reach: Reached,
    cond: Condition,
    as_of: NaiveDate,
    thresholds: &ClusterThresholds,
    severities: Option<&[Severity]>,
    codes: Option<&[String]>,
) -> ApiResult<Vec<FoundIssue>> {
    let facts = school_facts(db, cond.clone(), as_of).await?;
    let in_scope: HashSet<i32> = facts.iter().map(|f| f.urn).collect();
    let mut clusters_found = Vec::new();
    if !in_scope.is_empty() {
        let select: SelectStatement = Query::select()
            .column(school::Column::Urn)
            .from(school::Entity)
            .cond_where(cond)
            .to_owned();
        let active = clusters::active_with_member_in(db, select, as_of).await?;
        for (id, state) in clusters::facts(db, reach, active, as_of).await? {
            clusters_found.push(ClusterChecks {
                id,
                name: state.cluster.name.clone(),
                issues: cluster_issues(&state.facts, as_of, thresholds),
            });
        }
    }
    let mut out = gather(
        facts.iter().flat_map(|f| school_issues(f, as_of)),
        clusters_found,
        |urn| urn.is_none_or(|u| in_scope.contains(&u)),
    );
    if let Some(sev) = severities {
        out.retain(|i| sev.contains(&i.issue.severity));
    }
    if let Some(codes) = codes {
        out.retain(|i| codes.iter().any(|c| c == i.issue.code));
    }
    Ok(out)
}

/// School facts for (URN, as-of) keys: one computation per distinct date (DataLoaders).
pub async fn facts_by_school<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    keys: &[(i32, NaiveDate)],
) -> ApiResult<HashMap<(i32, NaiveDate), SchoolFacts>> {
    let mut by_date: HashMap<NaiveDate, Vec<i32>> = HashMap::new();
    for (urn, date) in keys {
        by_date.entry(*date).or_default().push(*urn);
    }
    let mut out = HashMap::new();
    for (date, urns) in by_date {
        let cond = Condition::all().add(school::Column::Urn.is_in(urns));
        for f in school_facts(db, cond, date).await? {
            out.insert((f.urn, date), f);
        }
    }
    Ok(out)
}
