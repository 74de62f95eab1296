//! The daily reminders (SPEC 4.11): at `SENCO_REMINDER_TIME`, Europe/London wall time
//! (daylight saving respected), every replica that is up runs the day; each reminder is
//! stored once because its subject and occasion form a unique key (`event.dedup_key`), so a
//! day run twice, or by two replicas at once, raises it once. A run covers every day since
//! the last completed one (at most [`MAX_CATCH_UP_DAYS`]), so a day missed while every
//! replica was down is caught up at the next start, each reminder judged as of the run.
//!
//! The run's clock is a parameter: [`tick`] decides from a given instant whether a run is
//! due and makes it, [`run_day`] runs a given day; [`schedule`] calls `tick` with the real
//! clock at start and at each reminder time. Tests call the first two with chosen dates.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use entity::{appointment_duty, cluster, cluster_member, reminder_run, senco_appointment};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::auth::Principal;
use crate::db::Db;
use crate::domain::clusters::next_review_due;
use crate::domain::events::{DutyFacts, EventType, Reminder, duty_reminders};
use crate::domain::terms::AcademicTerm;
use crate::error::ApiResult;
use crate::freshness::Touched;
use crate::store::audit::NewEvent;
use crate::store::schools::SchoolQuery;
use crate::store::{events, reports};

/// The most days one run looks back over.
pub const MAX_CATCH_UP_DAYS: u64 = 31;

/// The day whose run is due at `now`: today in London once its reminder time has passed,
/// yesterday before that.
pub fn due_day(now: DateTime<Utc>, at: NaiveTime) -> NaiveDate {
    let local = now.with_timezone(&London);
    let today = local.date_naive();
    if local.time() >= at {
        today
    } else {
        today.pred_opt().unwrap_or(today)
    }
}

/// The next instant the run falls due after `now`, in London time (on a day when the wall
/// time does not exist, the hour the clocks go forward, an hour later).
pub fn next_run(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let mut day = now.with_timezone(&London).date_naive();
    for _ in 0..3 {
        let wall = day.and_time(at);
        let instant = London
            .from_local_datetime(&wall)
            .earliest()
            .or_else(|| {
                London
                    .from_local_datetime(&(wall + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc));
        if let Some(t) = instant
            && t > now
        {
            return t;
        }
        day = day.succ_opt().unwrap_or(day);
    }
    now + chrono::Duration::days(1)
}

/// The last day whose run completed, if any.
pub async fn last_run<C: ConnectionTrait>(db: &C) -> ApiResult<Option<NaiveDate>> {
    Ok(reminder_run::Entity::find()
        .order_by_desc(reminder_run::Column::Day)
        .one(db)
        .await?
        .map(|r| r.day))
}

/// Runs the day due at `now` unless it has run already; returns the reminders it raised,
/// or `None` when nothing was due.
pub async fn tick(db: &Db, now: DateTime<Utc>, at: NaiveTime) -> ApiResult<Option<usize>> {
    let day = due_day(now, at);
    if last_run(&db.conn).await?.is_some_and(|last| last >= day) {
        return Ok(None);
    }
    run_day(db, day).await.map(Some)
}

/// Runs the reminders of `day`: those whose occasion falls after the last completed run
/// (or the day before, for a first run) and on or before `day`, each judged as of `day`.
/// Returns how many were raised now (those raised before are not raised again).
pub async fn run_day(db: &Db, day: NaiveDate) -> ApiResult<usize> {
    let earliest = day
        .checked_sub_days(Days::new(MAX_CATCH_UP_DAYS))
        .unwrap_or(day);
    let after = match last_run(&db.conn).await? {
        Some(last) if last >= day => day.pred_opt().unwrap_or(day),
        Some(last) => last.max(earliest),
        None => day.pred_opt().unwrap_or(day),
    };
    // The projection reads the whole country's deadlines: done before the write
    // transaction, so that SQLite's writers are not held up by it.
    let at_risk = projections_at_risk(&db.conn, day).await?;
    let w = db.begin_write().await?;
    let txn = w.txn();
    let mut due: Vec<Reminder> = Vec::new();
    due.extend(qualification_reminders(txn, after, day).await?);
    due.extend(missing_reports(txn, after, day).await?);
    due.extend(cluster_reviews(txn, after, day).await?);
    due.extend(at_risk);
    due.extend(actions_overdue(txn, after, day).await?);
    let raised = events::insert(
        txn,
        due.into_iter()
            .map(|r| NewEvent {
                kind: r.kind,
                school_urn: Some(r.school_urn),
                data: r.data,
                dedup_key: Some(r.key),
            })
            .collect(),
        std::collections::HashMap::new(),
    )
    .await?;
    let run = reminder_run::ActiveModel {
        day: Set(day),
        ran_at: Set(Utc::now()),
    };
    reminder_run::Entity::insert(run)
        .on_conflict(
            OnConflict::column(reminder_run::Column::Day)
                .update_column(reminder_run::Column::RanAt)
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    w.commit(Touched::Nothing).await?;
    db.events.committed(&raised);
    if !raised.ids.is_empty() {
        tracing::info!(%day, reminders = raised.ids.len(), "raised the daily reminders");
    }
    Ok(raised.ids.len())
}

/// `DEADLINE_APPROACHING` and `QUALIFICATION_OVERDUE`, from the duty facts kept on write.
async fn qualification_reminders<C: ConnectionTrait>(
    db: &C,
    after: NaiveDate,
    on: NaiveDate,
) -> ApiResult<Vec<Reminder>> {
    let last = on
        .checked_add_days(Days::new(
            crate::domain::events::DEADLINE_REMINDER_DAYS[0] + 1,
        ))
        .unwrap_or(on);
    let rows: Vec<(appointment_duty::Model, Option<senco_appointment::Model>)> =
        appointment_duty::Entity::find()
            .find_also_related(senco_appointment::Entity)
            .filter(appointment_duty::Column::DutyApplies.eq(true))
            .filter(appointment_duty::Column::Deadline.gte(after))
            .filter(appointment_duty::Column::Deadline.lte(last))
            .order_by_asc(appointment_duty::Column::AppointmentId)
            .all(db)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(duty, a)| {
            let a = a?;
            Some(DutyFacts {
                appointment_id: a.id,
                person_id: a.person_id,
                school_urn: a.school_urn,
                started_on: a.started_on,
                ended_on: a.ended_on,
                deadline: duty.deadline?,
                qualified_on: duty.qualified_on,
            })
        })
        .flat_map(|f| duty_reminders(&f, after, on))
        .collect())
}

/// `TERMLY_REPORT_MISSING`: the day after a term's due date, each school expected to report
/// (the same schools as `termlySummary`'s `missingReports`) that has not.
async fn missing_reports<C: ConnectionTrait>(
    db: &C,
    after: NaiveDate,
    on: NaiveDate,
) -> ApiResult<Vec<Reminder>> {
    let everyone = Principal {
        sub: Some("reminders".into()),
        admin: true,
        ..Principal::default()
    };
    let mut out = Vec::new();
    let mut term = AcademicTerm::latest_due_by(on);
    // The term whose due date passed most recently, and any before it whose "day after"
    // also falls in the window.
    while let Some(day_after) = term.due_on().succ_opt()
        && day_after > after
    {
        if day_after <= on {
            let summary = reports::summary(db, &everyone, term, &SchoolQuery::default()).await?;
            for s in summary.missing {
                out.push(Reminder {
                    kind: EventType::TermlyReportMissing,
                    school_urn: s.urn,
                    key: format!(
                        "TERMLY_REPORT_MISSING:{}:{}:{}",
                        s.urn,
                        term.academic_year,
                        term.term.as_str()
                    ),
                    data: serde_json::json!({
                        "academicYear": term.academic_year,
                        "term": term.term.as_str(),
                        "dueOn": term.due_on(),
                    }),
                });
            }
        }
        term = term.previous();
    }
    Ok(out)
}

/// `CLUSTER_REVIEW_DUE`: on the day a cluster's review falls due, to each member school.
async fn cluster_reviews<C: ConnectionTrait>(
    db: &C,
    after: NaiveDate,
    on: NaiveDate,
) -> ApiResult<Vec<Reminder>> {
    let clusters = cluster::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(cluster::Column::EndedOn.is_null())
                .add(cluster::Column::EndedOn.gte(on)),
        )
        .order_by_asc(cluster::Column::Id)
        .all(db)
        .await?;
    let due: Vec<(i64, NaiveDate)> = clusters
        .iter()
        .map(|c| {
            (
                c.id,
                next_review_due(c.started_on, c.last_reviewed_on, c.review_interval_months),
            )
        })
        .filter(|(_, d)| after < *d && *d <= on)
        .collect();
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let members = cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.is_in(due.iter().map(|(id, _)| *id)))
        .order_by_asc(cluster_member::Column::ClusterId)
        .order_by_asc(cluster_member::Column::SchoolUrn)
        .all(db)
        .await?;
    Ok(members
        .into_iter()
        .filter_map(|m| {
            let (_, day) = due.iter().find(|(id, _)| *id == m.cluster_id)?;
            Some(Reminder {
                kind: EventType::ClusterReviewDue,
                school_urn: m.school_urn,
                key: format!("CLUSTER_REVIEW_DUE:{}:{day}:{}", m.cluster_id, m.school_urn),
                data: serde_json::json!({
                    "clusterId": m.cluster_id.to_string(),
                    "reviewDueOn": day,
                }),
            })
        })
        .collect())
}

/// `QUALIFICATION_AT_RISK` (SPEC 4.11): each current appointment whose projection is
/// `AT_RISK` on `on`, once per appointment and date to register by, so that a projection
/// that turns `AT_RISK` (or moves to another cohort's closing date) is announced once.
async fn projections_at_risk<C: ConnectionTrait>(
    db: &C,
    on: NaiveDate,
) -> ApiResult<Vec<Reminder>> {
    use crate::domain::projection::Projection;
    use crate::domain::school::LaCode;
    use crate::store::deadlines::{self, DeadlineQuery};
    let everyone = Principal::from_claims("reminders".into(), Some("admin".into()));
    // One LA at a time (every school belongs to one), so that the run never holds the
    // whole country's deadlines, with their people and schools, in memory at once.
    let las = crate::store::schools::local_authorities(db, &everyone).await?;
    let mut out = Vec::new();
    for la in las {
        let q = DeadlineQuery {
            la_code: Some(LaCode(la.code)),
            projections: Some(vec![Projection::AtRisk]),
            // A SENCO who has left is no longer anyone's reminder.
            current_only: true,
            ..DeadlineQuery::default()
        };
        let at_risk = deadlines::deadlines(db, &everyone, &q, on).await?;
        out.extend(at_risk.iter().filter_map(|d| {
            let by = d.projection.must_register_by?;
            Some(Reminder {
                kind: EventType::QualificationAtRisk,
                school_urn: d.school.urn,
                key: format!("QUALIFICATION_AT_RISK:{}:{by}", d.appointment.id),
                data: serde_json::json!({
                    "appointmentId": d.appointment.id.to_string(),
                    "personId": d.person.id.to_string(),
                    "deadline": d.outcome.deadline,
                    "mustRegisterBy": by,
                }),
            })
        }));
    }
    Ok(out)
}

/// `GOVERNANCE_ACTION_OVERDUE` (SPEC 4.11): each action still open the day after its due
/// date, when that day falls in `(after, on]`.
async fn actions_overdue<C: ConnectionTrait>(
    db: &C,
    after: NaiveDate,
    on: NaiveDate,
) -> ApiResult<Vec<Reminder>> {
    use entity::governance_action;
    // Overdue on day `d` when open and due before `d`: the occasion is the day after `dueOn`.
    let first_due = after;
    let last_due = on.pred_opt().unwrap_or(on);
    let open = governance_action::Entity::find()
        .filter(governance_action::Column::Status.eq("OPEN"))
        .filter(governance_action::Column::DueOn.gte(first_due))
        .filter(governance_action::Column::DueOn.lte(last_due))
        .order_by_asc(governance_action::Column::Id)
        .all(db)
        .await?;
    Ok(open
        .into_iter()
        .map(|a| Reminder {
            kind: EventType::GovernanceActionOverdue,
            school_urn: a.school_urn,
            key: format!("GOVERNANCE_ACTION_OVERDUE:{}:{}", a.id, a.due_on),
            data: serde_json::json!({
                "actionId": a.id.to_string(),
                "meetingId": a.meeting_id.map(|m| m.to_string()),
                "dueOn": a.due_on,
            }),
        })
        .collect())
}

/// Runs the reminders for as long as the process serves: once at start (catching up a
/// missed day), then at each reminder time.
pub(crate) async fn schedule(db: Db, at: NaiveTime) {
    loop {
        if let Err(e) = tick(&db, Utc::now(), at).await {
            tracing::warn!(error = ?e, "the daily reminders failed; trying again in a minute");
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            continue;
        }
        let wait = (next_run(Utc::now(), at) - Utc::now())
            .to_std()
            .unwrap_or_default();
        // Woken at least hourly, so a clock that jumps does not postpone the run a day.
        tokio::time::sleep(wait.min(std::time::Duration::from_secs(3600))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_run_is_due_at_london_wall_time_in_summer_and_winter() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        // Winter: London is UTC.
        assert_eq!(
            due_day(utc("2026-01-15T05:59:00Z"), six),
            "2026-01-14".parse::<NaiveDate>().unwrap()
        );
        assert_eq!(
            due_day(utc("2026-01-15T06:00:00Z"), six),
            "2026-01-15".parse::<NaiveDate>().unwrap()
        );
        // Summer: 06:00 in London is 05:00 UTC.
        assert_eq!(
            due_day(utc("2026-07-15T05:00:00Z"), six),
            "2026-07-15".parse::<NaiveDate>().unwrap()
        );
        assert_eq!(
            next_run(utc("2026-07-15T04:00:00Z"), six),
            utc("2026-07-15T05:00:00Z")
        );
        assert_eq!(
            next_run(utc("2026-01-15T07:00:00Z"), six),
            utc("2026-01-16T06:00:00Z")
        );
    }

    #[test]
    fn a_wall_time_the_clocks_skip_runs_an_hour_later() {
        let half_one = NaiveTime::from_hms_opt(1, 30, 0).unwrap();
        // 29 March 2026: London goes from 01:00 GMT to 02:00 BST.
        assert_eq!(
            next_run(utc("2026-03-29T00:00:00Z"), half_one),
            utc("2026-03-29T01:30:00Z")
        );
    }
}
