//! Termly SENCO reports (SPEC 4.5): versioned submission with optimistic concurrency and
//! idempotent retries, and set-based summaries over the latest version of each report.

use std::collections::HashMap;

use chrono::Utc;
use entity::{school, termly_report};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::domain::money::Budget;
use crate::domain::school::Urn;
use crate::domain::terms::AcademicTerm;
use crate::error::{ApiError, ApiResult};
use crate::store::audit;
use crate::store::schools::SchoolQuery;
use crate::store::scope::Reached;
use crate::store::scope::require_school;
use crate::store::scope::{self, WriteAction};

/// The figures of a report, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Pupils on roll.
    pub number_on_roll: i32,
    /// Pupils with SEND.
    pub pupils_with_send: i32,
    /// SEN support (K).
    pub sen_support: i32,
    /// EHC plans (E).
    pub ehcp: i32,
    /// EHC plan applications in process.
    pub ehcp_applications_in_process: i32,
    /// Budget E1, pence.
    pub budget_e1_pence: i64,
    /// Budget E2, pence.
    pub budget_e2_pence: i64,
    /// Budget E3, pence.
    pub budget_e3_pence: i64,
    /// Additional budget, pence.
    pub budget_additional_pence: i64,
    /// Spent so far, pence.
    pub expenditure_to_date_pence: i64,
    /// SENCO non-contact hours a week.
    pub non_contact_hours_per_week: f64,
    /// SEN policy date.
    pub sen_policy_date: Option<chrono::NaiveDate>,
    /// Provision review date.
    pub provision_review_date: Option<chrono::NaiveDate>,
    /// SEN information report published.
    pub sen_information_report_published_on: Option<chrono::NaiveDate>,
    /// Challenges.
    pub challenges: Option<String>,
    /// Ongoing concerns.
    pub ongoing_concerns: Option<String>,
    /// Training undertaken.
    pub training_undertaken: Option<String>,
}

impl Figures {
    /// A stable digest of the figures, to tell an idempotent retry from a different report.
    pub fn digest(&self, term: AcademicTerm) -> ApiResult<String> {
        let json = serde_json::to_string(&(term.academic_year, term.term.as_str(), self))
            .map_err(ApiError::internal)?;
        Ok(Sha256::digest(json.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

/// A submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// School.
    pub school_urn: Urn,
    /// Term.
    pub term: AcademicTerm,
    /// The version the client amends; `None` for a first submission.
    pub expected_version: Option<i32>,
    /// Retry key.
    pub idempotency_key: Option<String>,
    /// Figures.
    pub figures: Figures,
}

/// Stores a submission as the next version, inside the caller's transaction, noting it in
/// `log`. A retry under the same idempotency key returns the version stored the first time
/// and notes nothing.
pub async fn submit<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    log: &mut audit::Journal,
    s: Submission,
) -> ApiResult<termly_report::Model> {
    let school = require_school(db, s.school_urn, "schoolUrn").await?;
    scope::check_write(p, &school, WriteAction::TermlyReport)?;
    log.read_school(&school);
    let digest = s.figures.digest(s.term)?;
    // One read finds both a submission stored under the same idempotency key, if any, and
    // the term's current version.
    let this_term = Condition::all()
        .add(termly_report::Column::AcademicYear.eq(s.term.academic_year))
        .add(termly_report::Column::Term.eq(s.term.term.as_str()))
        .add(termly_report::Column::IsLatest.eq(true));
    let mut wanted = Condition::any().add(this_term);
    if let Some(key) = &s.idempotency_key {
        wanted = wanted.add(termly_report::Column::IdempotencyKey.eq(key.as_str()));
    }
    let found = termly_report::Entity::find()
        .filter(termly_report::Column::SchoolUrn.eq(school.urn))
        .filter(wanted)
        .all(db)
        .await?;
    let is_current = |r: &termly_report::Model| {
        r.is_latest && r.academic_year == s.term.academic_year && r.term == s.term.term.as_str()
    };
    if let Some(key) = &s.idempotency_key
        && let Some(prior) = found
            .iter()
            .find(|r| r.idempotency_key.as_deref() == Some(key.as_str()))
            .cloned()
    {
        // The same key with the same content is a retry of a submission that was stored.
        if prior.content_hash == digest {
            return Ok(prior);
        }
        return Err(ApiError::conflict(
            "this idempotencyKey was already used for a different submission",
        ));
    }
    let current = found.into_iter().find(is_current);
    let version = match (&current, s.expected_version) {
        (None, None | Some(0)) => 1,
        (None, Some(v)) => {
            return Err(ApiError::conflict(format!(
                "expectedVersion is {v}, but no report has been submitted for this term yet"
            )));
        }
        (Some(c), None) => {
            return Err(ApiError::conflict(format!(
                "a report for this term already exists (version {}); send expectedVersion: {} to amend it",
                c.version, c.version
            )));
        }
        (Some(c), Some(v)) if v != c.version => {
            return Err(ApiError::conflict(format!(
                "expectedVersion {v} is stale: the current version is {}",
                c.version
            )));
        }
        (Some(c), Some(_)) => {
            // Retire the current version only if it is still current: a concurrent amendment
            // that got there first leaves nothing to update, and this one is the conflict.
            let retired = termly_report::Entity::update_many()
                .col_expr(termly_report::Column::IsLatest, Expr::value(false))
                .filter(termly_report::Column::Id.eq(c.id))
                .filter(termly_report::Column::IsLatest.eq(true))
                .exec(db)
                .await?;
            if retired.rows_affected != 1 {
                return Err(ApiError::conflict(
                    "the report was amended at the same time; read it and try again",
                ));
            }
            c.version + 1
        }
    };
    let f = s.figures;
    let row = termly_report::ActiveModel {
        school_urn: Set(school.urn),
        academic_year: Set(s.term.academic_year),
        term: Set(s.term.term.as_str().to_string()),
        version: Set(version),
        is_latest: Set(true),
        submitted_at: Set(Utc::now()),
        submitted_by: Set(p.sub.clone().unwrap_or_default()),
        idempotency_key: Set(s.idempotency_key),
        content_hash: Set(digest),
        number_on_roll: Set(f.number_on_roll),
        pupils_with_send: Set(f.pupils_with_send),
        sen_support: Set(f.sen_support),
        ehcp: Set(f.ehcp),
        ehcp_applications_in_process: Set(f.ehcp_applications_in_process),
        budget_e1_pence: Set(f.budget_e1_pence),
        budget_e2_pence: Set(f.budget_e2_pence),
        budget_e3_pence: Set(f.budget_e3_pence),
        budget_additional_pence: Set(f.budget_additional_pence),
        expenditure_to_date_pence: Set(f.expenditure_to_date_pence),
        non_contact_hours_per_week: Set(f.non_contact_hours_per_week),
        sen_policy_date: Set(f.sen_policy_date),
        provision_review_date: Set(f.provision_review_date),
        sen_information_report_published_on: Set(f.sen_information_report_published_on),
        challenges: Set(f.challenges),
        ongoing_concerns: Set(f.ongoing_concerns),
        training_undertaken: Set(f.training_undertaken),
        ..Default::default()
    }
    .insert(db)
    .await?;
    log.changed(
        "termly_report",
        row.id,
        &[school.urn],
        current.as_ref(),
        Some(&row),
    )?;
    Ok(row)
}

/// The latest version of one school's report for a term; `FORBIDDEN` when unreadable.
pub async fn latest<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    urn: Urn,
    term: AcademicTerm,
) -> ApiResult<Option<termly_report::Model>> {
    scope::require_authenticated(p)?;
    let urn = urn.get();
    let Some(school) = school::Entity::find_by_id(urn).one(db).await? else {
        return Ok(None);
    };
    scope::check_read(p, &school)?;
    Ok(termly_report::Entity::find()
        .filter(termly_report::Column::SchoolUrn.eq(urn))
        .filter(termly_report::Column::AcademicYear.eq(term.academic_year))
        .filter(termly_report::Column::Term.eq(term.term.as_str()))
        .filter(termly_report::Column::IsLatest.eq(true))
        .one(db)
        .await?)
}

/// Latest versions of every term's report, per school, newest term first (DataLoaders).
pub async fn latest_by_school<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    urns: &[i32],
) -> ApiResult<HashMap<i32, Vec<termly_report::Model>>> {
    let rows = termly_report::Entity::find()
        .filter(termly_report::Column::SchoolUrn.is_in(urns.iter().copied()))
        .filter(termly_report::Column::IsLatest.eq(true))
        .order_by_desc(termly_report::Column::AcademicYear)
        .all(db)
        .await?;
    // Every key gets an entry, so a loader caches "none" rather than asking again.
    let mut map: HashMap<i32, Vec<termly_report::Model>> =
        urns.iter().map(|k| (*k, Vec::new())).collect();
    for r in rows {
        map.entry(r.school_urn).or_default().push(r);
    }
    for v in map.values_mut() {
        v.sort_by_key(|r| std::cmp::Reverse(term_of(r)));
    }
    Ok(map)
}

/// Every version of the reports with these (school, year, term) keys, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    _reach: Reached,
    keys: &[(i32, i32, String)],
) -> ApiResult<HashMap<(i32, i32, String), Vec<termly_report::Model>>> {
    let mut cond = Condition::any();
    for (urn, year, term) in keys {
        cond = cond.add(
            Condition::all()
                .add(termly_report::Column::SchoolUrn.eq(*urn))
                .add(termly_report::Column::AcademicYear.eq(*year))
                .add(termly_report::Column::Term.eq(term.as_str())),
        );
    }
    let rows = termly_report::Entity::find()
        .filter(cond)
        .order_by_asc(termly_report::Column::Version)
        .all(db)
        .await?;
    let mut map: HashMap<(i32, i32, String), Vec<termly_report::Model>> = HashMap::new();
    for r in rows {
        map.entry((r.school_urn, r.academic_year, r.term.clone()))
            .or_default()
            .push(r);
    }
    Ok(map)
}

/// The budget lines of a stored report.
pub fn budget_of(r: &termly_report::Model) -> Budget {
    Budget {
        e1: r.budget_e1_pence,
        e2: r.budget_e2_pence,
        e3: r.budget_e3_pence,
        additional: r.budget_additional_pence,
        spent: r.expenditure_to_date_pence,
    }
}

/// The term of a stored report.
pub fn term_of(r: &termly_report::Model) -> AcademicTerm {
    AcademicTerm::new(
        r.academic_year,
        crate::domain::terms::Term::parse(&r.term).unwrap_or(crate::domain::terms::Term::Autumn),
    )
}

/// Totals over the latest reports of a set of schools for one term.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Reports counted.
    pub reports: i64,
    /// Sum of numberOnRoll.
    pub number_on_roll: i64,
    /// Sum of pupilsWithSend.
    pub pupils_with_send: i64,
    /// Sum of senSupport.
    pub sen_support: i64,
    /// Sum of ehcp.
    pub ehcp: i64,
    /// Sum of ehcpApplicationsInProcess.
    pub ehcp_applications_in_process: i64,
    /// Sum of budget totals, pence.
    pub budget_total_pence: i64,
    /// Sum of expenditure, pence.
    pub expenditure_pence: i64,
    /// Reports whose expenditure exceeds their budget.
    pub overspent_schools: i64,
}

/// A summary of one term over a scope of schools.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The term.
    pub term: AcademicTerm,
    /// Schools in scope.
    pub schools_in_scope: i64,
    /// Schools in scope without a report.
    pub missing: Vec<school::Model>,
    /// This term.
    pub totals: Totals,
    /// The term before.
    pub previous_term: Totals,
    /// The same term a year before.
    pub same_term_last_year: Totals,
}

/// The schools a summary of `term` covers: readable by the caller, matching the filter,
/// covered by the compliance checks (`store::compliance::bound_or_using`) and open when the
/// term began.
fn summary_scope(p: &Principal, term: AcademicTerm, filter: &SchoolQuery) -> ApiResult<Condition> {
    Ok(Condition::all()
        .add(scope::readable_schools(p)?)
        .add(filter.condition())
        .add(crate::store::compliance::bound_or_using())
        .add(
            Condition::any()
                .add(school::Column::ClosedOn.is_null())
                .add(school::Column::ClosedOn.gte(term.starts_on())),
        ))
}

/// The summary of SPEC 4.5 for the schools the caller may read that match `filter` and were
/// open when the term began: counts in the database, a fixed number of statements.
pub async fn summary<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    term: AcademicTerm,
    filter: &SchoolQuery,
) -> ApiResult<Summary> {
    filter.check_covered(p)?;
    let schools_cond = summary_scope(p, term, filter)?;
    let terms = [term, term.previous(), term.same_term_last_year()];
    let sum = |expr: &str| Expr::cust(format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"));
    // `Budget::total` and `Budget::overspent`, summed by the database.
    let budget = "termly_report.budget_e1_pence + termly_report.budget_e2_pence + \
                  termly_report.budget_e3_pence + termly_report.budget_additional_pence";
    // One aggregate per term, each joining the term's latest reports to the schools in
    // scope: a range on the covering (year, term, latest, school, figures) index probed
    // per school, or hashed against the schools, as the planner sees fit. (The three terms
    // OR-ed in one statement, or the schools as an `IN` sub-query, read far more.)
    let mut by_term: HashMap<(i32, String), Totals> = HashMap::new();
    for t in terms {
        let stmt = Query::select()
            .expr_as(
                Expr::cust("CAST(COUNT(*) AS BIGINT)"),
                Alias::new("reports"),
            )
            .expr_as(sum("termly_report.number_on_roll"), Alias::new("nor"))
            .expr_as(sum("termly_report.pupils_with_send"), Alias::new("send"))
            .expr_as(sum("termly_report.sen_support"), Alias::new("k"))
            .expr_as(sum("termly_report.ehcp"), Alias::new("e"))
            .expr_as(
                sum("termly_report.ehcp_applications_in_process"),
                Alias::new("apps"),
            )
            .expr_as(sum(budget), Alias::new("budget"))
            .expr_as(
                sum("termly_report.expenditure_to_date_pence"),
                Alias::new("spent"),
            )
            .expr_as(
                sum(&format!(
                    "CASE WHEN termly_report.expenditure_to_date_pence > {budget} THEN 1 ELSE 0 END"
                )),
                Alias::new("over"),
            )
            .from(termly_report::Entity)
            .inner_join(
                school::Entity,
                Expr::col((school::Entity, school::Column::Urn))
                    .equals((termly_report::Entity, termly_report::Column::SchoolUrn)),
            )
            .cond_where(
                Condition::all()
                    .add(termly_report::Column::AcademicYear.eq(t.academic_year))
                    .add(termly_report::Column::Term.eq(t.term.as_str()))
                    .add(termly_report::Column::IsLatest.eq(true))
                    .add(schools_cond.clone()),
            )
            .to_owned();
        let Some(r) = db.query_one(&stmt).await? else {
            continue;
        };
        let get = |c: &str| r.try_get::<i64>("", c);
        by_term.insert(
            (t.academic_year, t.term.as_str().to_string()),
            Totals {
                reports: get("reports")?,
                number_on_roll: get("nor")?,
                pupils_with_send: get("send")?,
                sen_support: get("k")?,
                ehcp: get("e")?,
                ehcp_applications_in_process: get("apps")?,
                budget_total_pence: get("budget")?,
                expenditure_pence: get("spent")?,
                overspent_schools: get("over")?,
            },
        );
    }
    let take = |t: AcademicTerm| {
        by_term
            .get(&(t.academic_year, t.term.as_str().to_string()))
            .cloned()
            .unwrap_or_default()
    };
    let reported = Query::select()
        .expr(Expr::val(1))
        .from(termly_report::Entity)
        .and_where(
            Expr::col((termly_report::Entity, termly_report::Column::SchoolUrn))
                .equals((school::Entity, school::Column::Urn)),
        )
        .and_where(termly_report::Column::AcademicYear.eq(term.academic_year))
        .and_where(termly_report::Column::Term.eq(term.term.as_str()))
        .and_where(termly_report::Column::IsLatest.eq(true))
        .to_owned();
    let missing = school::Entity::find()
        .filter(schools_cond)
        .filter(Expr::exists(reported).not())
        .order_by_asc(school::Column::Urn)
        .all(db)
        .await?;
    // Every school in scope either has one latest report for the term or is missing one.
    let totals = take(terms[0]);
    let schools_in_scope = totals.reports + missing.len() as i64;
    Ok(Summary {
        term,
        schools_in_scope,
        missing,
        totals,
        previous_term: take(terms[1]),
        same_term_last_year: take(terms[2]),
    })
}

/// The latest version of each readable school's report for `term`, for the schools
/// `filter` selects, by URN after `after`, at most `limit` (the `termly-reports` export).
pub async fn latest_for_term<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    term: AcademicTerm,
    filter: &SchoolQuery,
    after: Option<i32>,
    limit: u64,
) -> ApiResult<Vec<(termly_report::Model, school::Model)>> {
    filter.check_covered(p)?;
    let schools = Query::select()
        .column(school::Column::Urn)
        .from(school::Entity)
        .cond_where(
            Condition::all()
                .add(scope::readable_schools(p)?)
                .add(filter.condition()),
        )
        .to_owned();
    let mut q = termly_report::Entity::find()
        .filter(termly_report::Column::AcademicYear.eq(term.academic_year))
        .filter(termly_report::Column::Term.eq(term.term.as_str()))
        .filter(termly_report::Column::IsLatest.eq(true))
        .filter(termly_report::Column::SchoolUrn.in_subquery(schools))
        .order_by_asc(termly_report::Column::SchoolUrn);
    if let Some(after) = after {
        q = q.filter(termly_report::Column::SchoolUrn.gt(after));
    }
    let rows = sea_orm::QuerySelect::limit(q, limit).all(db).await?;
    let by_urn: HashMap<i32, school::Model> = school::Entity::find()
        .filter(school::Column::Urn.is_in(rows.iter().map(|r| r.school_urn)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.urn, s))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| by_urn.get(&r.school_urn).cloned().map(|s| (r, s)))
        .collect())
}
