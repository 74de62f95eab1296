//! CSV exports (SPEC 6): `GET /export/{dataset}.csv` with the same bearer token and scope
//! rules as GraphQL, for spreadsheets and scripts. The rows come from the same service and
//! store functions as the GraphQL fields, read in one snapshot; the file is UTF-8 with a BOM
//! and CRLF line ends (Excel opens it as it is), quoted as RFC 4180 says, and every cell
//! that a spreadsheet would take for a formula is prefixed with `'`.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use futures::StreamExt;

use super::{plain_error, principal, unauthorized};
use crate::AppState;
use crate::auth::Principal;
use crate::domain::compliance::Severity;
use crate::domain::money::Money;
use crate::domain::projection::Projection;
use crate::domain::qualification::QualificationStatus;
use crate::domain::school::{LaCode, TrustUid, Urn};
use crate::domain::terms::{AcademicTerm, Term};
use crate::error::ApiError;
use crate::service;
use crate::store::deadlines::DeadlineQuery;
use crate::store::schools::SchoolQuery;
use crate::store::{Page, reports, schools};

/// Rows read from the database per statement for the paged datasets.
const CHUNK: u64 = 500;

/// A cell as a spreadsheet will not run it: text beginning with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is prefixed with `'` (OWASP's advice on CSV injection).
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Encodes rows as CSV lines (CRLF, quoted where needed, every cell guarded).
fn encode(rows: &[Vec<String>]) -> Result<Bytes, ApiError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(row.iter().map(|c| guard(c).into_owned()))
            .map_err(ApiError::internal)?;
    }
    Ok(Bytes::from(w.into_inner().map_err(ApiError::internal)?))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn money(pence: i64) -> String {
    Money::from_pence(pence).to_string()
}

/// The body of an export after its BOM: encoded CSV, a chunk at a time.
type Chunks = futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A body of `head` and then the chunks `next` makes from its state, one page at a time,
/// until it says there are no more. A failure after the first byte was sent ends the
/// body early (the client sees a short file) and is logged.
fn pages<S, F, Fut>(head: Vec<Bytes>, state: S, next: F) -> Chunks
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Option<(Bytes, S)>, ApiError>> + Send + 'static,
{
    let rest = futures::stream::unfold(Some(state), move |state| {
        let step = state.map(&next);
        async move {
            match step?.await {
                Ok(Some((bytes, s))) => Some((Ok(bytes), Some(s))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = ?e, "an export stopped part-way");
                    Some((
                        Err(std::io::Error::other("the export stopped part-way")),
                        None,
                    ))
                }
            }
        }
    });
    futures::stream::iter(head.into_iter().map(Ok))
        .chain(rest)
        .boxed()
}

/// The chunks of rows already in memory (a list computed in one snapshot), encoded a
/// chunk at a time as the client reads.
fn in_chunks<T: Send + Sync + 'static>(
    header: &[&str],
    rows: impl AsRef<[T]> + Send + 'static,
    row: fn(&T) -> Vec<String>,
) -> Result<Chunks, ApiError> {
    let head = vec![encode(&[header.iter().map(|h| h.to_string()).collect()])?];
    Ok(pages(head, (rows, 0usize), move |(rows, at)| async move {
        let all = rows.as_ref();
        if at >= all.len() {
            return Ok(None);
        }
        let end = (at + CHUNK as usize).min(all.len());
        let bytes = encode(&all[at..end].iter().map(row).collect::<Vec<_>>())?;
        Ok(Some((bytes, (rows, end))))
    }))
}

/// The query-string filters, parsed with the field each came from.
struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn int(&self, k: &str) -> Result<Option<i32>, ApiError> {
        self.get(k)
            .map(|v| {
                v.trim()
                    .parse::<i32>()
                    .map_err(|_| ApiError::bad_input(k, "must be a whole number"))
            })
            .transpose()
    }

    fn list<T>(
        &self,
        k: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<T>>, ApiError> {
        self.get(k)
            .map(|v| {
                v.split(',')
                    .map(|s| {
                        parse(s.trim()).ok_or_else(|| {
                            ApiError::bad_input(k, format!("`{}` is not a value of {k}", s.trim()))
                        })
                    })
                    .collect()
            })
            .transpose()
    }

    fn date(&self, k: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.get(k)
            .map(|v| {
                NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .map_err(|_| ApiError::bad_input(k, "must be a date, YYYY-MM-DD"))
            })
            .transpose()
    }

    fn schools(&self) -> Result<SchoolQuery, ApiError> {
        Ok(SchoolQuery {
            la_code: self.int("laCode")?.map(LaCode),
            trust_uid: self.int("trustUid")?.map(TrustUid),
            urns: self.list("urns", |s| s.parse().ok().map(Urn))?,
            ..Default::default()
        })
    }
}

/// `GET /export/{file}`: `file` is one of `schools.csv`, `deadlines.csv`,
/// `compliance-issues.csv`, `termly-reports.csv`, `dfe-teacher-check.csv`.
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(p) = principal(&state, &headers) else {
        return unauthorized(&headers);
    };
    if p.sub.is_none() {
        return unauthorized(&headers);
    }
    let Some(dataset) = file.strip_suffix(".csv") else {
        return unknown(&headers);
    };
    let params = Params(query);
    let result = match dataset {
        "schools" => schools_csv(&state, &p, &params).await,
        "deadlines" => deadlines_csv(&state, &p, &params).await,
        "compliance-issues" => issues_csv(&state, &p, &params).await,
        "termly-reports" => reports_csv(&state, &p, &params).await,
        "dfe-teacher-check" => dfe_check_csv(&state, &p, &params).await,
        _ => return unknown(&headers),
    };
    match result {
        Ok(chunks) => {
            metrics::counter!("senco_exports_total", "dataset" => dataset.to_string()).increment(1);
            let bom = futures::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static("\u{feff}".as_bytes()))
            });
            let stream = bom.chain(chunks);
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{dataset}.csv\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Err(e) => error(&headers, e),
    }
}

fn unknown(headers: &HeaderMap) -> Response {
    plain_error(
        StatusCode::NOT_FOUND,
        headers,
        "NOT_FOUND",
        "no such export: the datasets are schools.csv, deadlines.csv, compliance-issues.csv, \
         termly-reports.csv and dfe-teacher-check.csv",
    )
}

fn error(headers: &HeaderMap, e: ApiError) -> Response {
    let (status, code) = match &e {
        ApiError::Unauthenticated => return unauthorized(headers),
        ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
        ApiError::NotFound { .. } => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        ApiError::BadInput { .. } => (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        ApiError::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
        ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR"),
        ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE"),
    };
    let message = async_graphql::Error::from(e).message;
    plain_error(status, headers, code, &message)
}

fn school_row(s: &entity::school::Model) -> Vec<String> {
    vec![
        s.urn.to_string(),
        s.name.clone(),
        s.la_code.to_string(),
        opt(s.trust_uid),
        s.phase.clone(),
        s.kind.clone(),
        s.is_academy.to_string(),
        crate::domain::is_relevant_kind(&s.kind).to_string(),
        opt(s.number_on_roll),
        opt(s.closed_on),
    ]
}

/// Where a paged export stands: its read snapshot, the caller, what it selects and the
/// last key sent (`None` before the first page; `done` after the last).
struct Paging<Q> {
    txn: sea_orm::DatabaseTransaction,
    p: Principal,
    query: Q,
    after: Option<i32>,
    done: bool,
}

async fn schools_csv(state: &AppState, p: &Principal, q: &Params) -> Result<Chunks, ApiError> {
    let header = [
        "urn",
        "name",
        "la_code",
        "trust_uid",
        "phase",
        "kind",
        "is_academy",
        "is_relevant_school",
        "number_on_roll",
        "closed_on",
    ];
    let start = Paging {
        txn: crate::db::Db::begin_read(&state.db.conn).await?,
        p: p.clone(),
        query: q.schools()?,
        after: None,
        done: false,
    };
    async fn next(
        mut s: Paging<SchoolQuery>,
    ) -> Result<Option<(Bytes, Paging<SchoolQuery>)>, ApiError> {
        if s.done {
            return Ok(None);
        }
        let first = CHUNK;
        let page = schools::schools(
            &s.txn,
            &s.p,
            &s.query,
            Page {
                first,
                after: s.after,
            },
        )
        .await?;
        s.done = !page.has_next;
        s.after = page.rows.last().map(|r| r.urn);
        Ok(Some((
            encode(&page.rows.iter().map(school_row).collect::<Vec<_>>())?,
            s,
        )))
    }
    // The first page before the answer, so a refusal is a status, not a short file.
    let mut head = vec![encode(&[header.iter().map(|h| h.to_string()).collect()])?];
    let Some((first, rest)) = next(start).await? else {
        unreachable!("a fresh export has a first page")
    };
    head.push(first);
    Ok(pages(head, rest, next))
}

fn deadline_row(d: &crate::store::deadlines::Deadline) -> Vec<String> {
    vec![
        d.school.urn.to_string(),
        d.school.name.clone(),
        d.appointment.id.to_string(),
        d.person.full_name.clone(),
        opt(d.person.trn.clone()),
        d.appointment.started_on.to_string(),
        d.outcome.duty_applies.to_string(),
        opt(d.outcome.exemption_reason.map(|r| r.as_str())),
        opt(d.outcome.deadline),
        d.outcome.status.as_str().to_string(),
        opt(d.outcome.days_remaining),
        d.outcome.prior_service_days.to_string(),
        opt(d.award.as_ref().map(|a| a.kind.clone())),
        opt(d.award.as_ref().and_then(|a| a.completed_on)),
        d.projection.projection.as_str().to_string(),
        opt(d.projection.must_register_by),
        opt(d.projection.projected_qualified_on),
        opt(d.projection.latest_viable_cohort.map(|c| c.starts_on)),
    ]
}

async fn deadlines_csv(state: &AppState, p: &Principal, q: &Params) -> Result<Chunks, ApiError> {
    let s = q.schools()?;
    let query = DeadlineQuery {
        la_code: s.la_code,
        trust_uid: s.trust_uid,
        urns: s.urns,
        appointment_ids: None,
        statuses: q.list("statuses", QualificationStatus::parse)?,
        projections: q.list("projections", Projection::parse)?,
        on_or_before: None,
        on_or_after: None,
        school_name_contains: crate::graphql::schools::name_filter(
            q.0.get("schoolNameContains").cloned(),
            "schoolNameContains",
        )?,
        current_only: true,
    };
    let as_of = q.date("asOf")?.unwrap_or_else(crate::graphql::today);
    let header = [
        "urn",
        "school_name",
        "appointment_id",
        "person_name",
        "trn",
        "started_on",
        "duty_applies",
        "exemption_reason",
        "deadline",
        "status",
        "days_remaining",
        "prior_service_days",
        "qualifying_award_kind",
        "qualifying_award_completed_on",
        "projection",
        "must_register_by",
        "projected_qualified_on",
        "latest_viable_cohort_starts_on",
    ];
    let all = service::sencos::all_deadlines(&state.db, p, query, as_of).await?;
    in_chunks(&header, ArcSlice(all), deadline_row)
}

/// A shared list as a slice.
struct ArcSlice<T>(std::sync::Arc<Vec<T>>);

impl<T> AsRef<[T]> for ArcSlice<T> {
    fn as_ref(&self) -> &[T] {
        self.0.as_slice()
    }
}

/// An issue with its school's name, as the export lists it.
struct NamedIssue(crate::domain::compliance::FoundIssue, String);

fn issue_row(NamedIssue(f, name): &NamedIssue) -> Vec<String> {
    vec![
        f.issue.code.to_string(),
        f.issue.severity.as_str().to_string(),
        opt(f.issue.school_urn),
        name.clone(),
        opt(f.cluster_id),
        f.issue.message.clone(),
    ]
}

async fn issues_csv(state: &AppState, p: &Principal, q: &Params) -> Result<Chunks, ApiError> {
    let iq = service::compliance::IssueQuery {
        schools: q.schools()?,
        severities: q.list("severities", |s| {
            [Severity::Statutory, Severity::Guidance, Severity::Advisory]
                .into_iter()
                .find(|v| v.as_str() == s)
        })?,
        codes: q.list("codes", |s| Some(s.to_string()))?,
    };
    let as_of = q.date("asOf")?.unwrap_or_else(crate::graphql::today);
    let all =
        service::compliance::issues(&state.db, p, &iq, as_of, &state.config.cluster_thresholds)
            .await?;
    let urns: Vec<i32> = all.iter().filter_map(|f| f.issue.school_urn).collect();
    let reach = crate::store::scope::Reached::through(p)?;
    let names = schools::schools_by_urn(&state.db.conn, reach, &urns).await?;
    let rows: Vec<NamedIssue> = all
        .into_iter()
        .map(|f| {
            let name = f
                .issue
                .school_urn
                .and_then(|u| names.get(&u).map(|s| s.name.clone()))
                .unwrap_or_default();
            NamedIssue(f, name)
        })
        .collect();
    let header = [
        "code",
        "severity",
        "school_urn",
        "school_name",
        "cluster_id",
        "message",
    ];
    in_chunks(&header, rows, issue_row)
}

/// The bulk file for DfE's "check a teacher's record" service (SPEC 4.9): the page asked for
/// (the first when none is) of the current SENCOs in scope with a TRN and no DfE record check
/// in the last twelve months, 100 a file, in TRN order. The header is the service's own
/// (`TRN,Date of birth`, not snake_case); the product stores no dates of birth, so the
/// school fills them in.
async fn dfe_check_csv(state: &AppState, p: &Principal, q: &Params) -> Result<Chunks, ApiError> {
    let page = match q.int("page")? {
        None => 1,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::bad_input("page", "must be 1 or more"))?,
    };
    let schools = q.schools()?;
    let trns =
        service::evidence::due_dfe_check(&state.db, p, &schools, crate::graphql::today(), page)
            .await?;
    in_chunks(&["TRN", "Date of birth"], trns, |trn: &String| {
        vec![trn.clone(), String::new()]
    })
}

fn report_row((r, s): &(entity::termly_report::Model, entity::school::Model)) -> Vec<String> {
    let b = reports::budget_of(r);
    vec![
        s.urn.to_string(),
        s.name.clone(),
        r.academic_year.to_string(),
        r.term.clone(),
        r.version.to_string(),
        r.submitted_at.to_rfc3339(),
        r.number_on_roll.to_string(),
        r.pupils_with_send.to_string(),
        r.sen_support.to_string(),
        r.ehcp.to_string(),
        r.ehcp_applications_in_process.to_string(),
        money(r.budget_e1_pence),
        money(r.budget_e2_pence),
        money(r.budget_e3_pence),
        money(r.budget_additional_pence),
        money(b.total()),
        money(r.expenditure_to_date_pence),
        money(b.remaining()),
        b.overspent().to_string(),
        r.non_contact_hours_per_week.to_string(),
        opt(r.sen_policy_date),
        opt(r.provision_review_date),
        opt(r.sen_information_report_published_on),
    ]
}

async fn reports_csv(state: &AppState, p: &Principal, q: &Params) -> Result<Chunks, ApiError> {
    let year = q
        .int("academicYear")?
        .ok_or_else(|| ApiError::bad_input("academicYear", "is required"))?;
    let term = q
        .get("term")
        .ok_or_else(|| ApiError::bad_input("term", "is required: AUTUMN, SPRING or SUMMER"))?;
    let term = Term::parse(term)
        .ok_or_else(|| ApiError::bad_input("term", "must be AUTUMN, SPRING or SUMMER"))?;
    let term = AcademicTerm::new(year, term);
    crate::store::scope::require_authenticated(p)?;
    let header = [
        "urn",
        "school_name",
        "academic_year",
        "term",
        "version",
        "submitted_at",
        "number_on_roll",
        "pupils_with_send",
        "sen_support",
        "ehcp",
        "ehcp_applications_in_process",
        "budget_e1",
        "budget_e2",
        "budget_e3",
        "budget_additional",
        "budget_total",
        "expenditure_to_date",
        "budget_remaining",
        "overspent",
        "non_contact_hours_per_week",
        "sen_policy_date",
        "provision_review_date",
        "sen_information_report_published_on",
    ];
    let start = Paging {
        txn: crate::db::Db::begin_read(&state.db.conn).await?,
        p: p.clone(),
        query: (term, q.schools()?),
        after: None,
        done: false,
    };
    type Q = (AcademicTerm, SchoolQuery);
    async fn next(mut s: Paging<Q>) -> Result<Option<(Bytes, Paging<Q>)>, ApiError> {
        if s.done {
            return Ok(None);
        }
        let (term, filter) = &s.query;
        let page = reports::latest_for_term(&s.txn, &s.p, *term, filter, s.after, CHUNK).await?;
        s.done = (page.len() as u64) < CHUNK;
        s.after = page.last().map(|(r, _)| r.school_urn);
        Ok(Some((
            encode(&page.iter().map(report_row).collect::<Vec<_>>())?,
            s,
        )))
    }
    let mut head = vec![encode(&[header.iter().map(|h| h.to_string()).collect()])?];
    let Some((first, rest)) = next(start).await? else {
        unreachable!("a fresh export has a first page")
    };
    head.push(first);
    Ok(pages(head, rest, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_prefixed() {
        for bad in ["=1+1", "+44 20", "-5", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(guard(bad), format!("'{bad}"));
        }
        for fine in ["Camden", "", "1250.00", "O'Neil", " =x"] {
            assert_eq!(guard(fine), fine);
        }
    }

    #[test]
    fn rows_are_crlf_terminated_and_quoted_as_rfc_4180_says() {
        let b = encode(&[vec!["a,b".into(), "say \"hi\"".into(), "x\ny".into()]]).unwrap();
        assert_eq!(&b[..], b"\"a,b\",\"say \"\"hi\"\"\",\"x\ny\"\r\n");
    }
}
