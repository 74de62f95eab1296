//! Will the SENCO make the deadline? The qualification projection of SPEC 4.8.
//!
//! The status of SPEC 4.4 says where an appointment stands on a day; the projection says
//! whether the SENCO can still hold a relevant qualification by the deadline, given the
//! courses under way and the NPQ cohort calendar. Since November 2025 the NPQ for SENCOs
//! starts once a year and takes about 18 months plus up to 4 for the outcome, so a SENCO who
//! has not started may already be unable to qualify in time; and a NASENCO completed on or
//! after 1 September 2027 never counts (reg 49(7)(a) as inserted by SI 2024/535).
//!
//! The calendar is policy data kept by administrators ([`NpqCohort`]); [`project`] is a
//! pure function of the day's [`DutyOutcome`], the person's courses and that calendar, so a
//! changed calendar changes the answer on the next read.

use chrono::{Months, NaiveDate};

use super::qualification::{
    DutyOutcome, NASENCO_COMPLETE_BEFORE, NPQ_COURSES_FROM, QualificationKind, QualificationRecord,
    QualificationStatus, could_still_count,
};

/// The outcome months assumed for an NPQ under way whose start matches no cohort of the
/// calendar (SPEC 4.8): about 18 months of course and up to 4 for the outcome.
pub const DEFAULT_OUTCOME_MONTHS: u32 = 22;

/// Outcome months an administrator may give a cohort: from one month to five years.
pub const OUTCOME_MONTHS_RANGE: std::ops::RangeInclusive<u32> = 1..=60;

/// One annual NPQ for SENCOs cohort of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NpqCohort {
    /// The day the cohort starts; the calendar's key.
    pub starts_on: NaiveDate,
    /// The last day a SENCO may register for it.
    pub registration_closes_on: NaiveDate,
    /// Months from the start to the expected award (the outcome).
    pub expected_outcome_months: u32,
}

impl NpqCohort {
    /// The start plus the outcome months; a start on the 29th to 31st of a month lands on the
    /// last day of a shorter month (29 February in a leap year). Saturates at chrono's
    /// maximum, which no real cohort approaches.
    pub fn expected_outcome_on(&self) -> NaiveDate {
        self.starts_on
            .checked_add_months(Months::new(self.expected_outcome_months))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Whether a SENCO may still register on `t`: the closing day itself is still open.
    pub fn open_on(&self, t: NaiveDate) -> bool {
        self.registration_closes_on >= t
    }
}

/// Cohorts start before this day: a calendar is for the years ahead, and a later start would
/// put its outcome beyond the four-digit years of the `Date` scalar.
const LAST_COHORT_BEFORE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Registration closes at most this many months before a cohort starts.
pub const REGISTRATION_MONTHS_BEFORE: u32 = 24;

/// Checks a cohort as an administrator gives it: the NPQ route opened on 1 September 2024, so
/// no counting cohort starts before it, and none starts in 2100 or later; registration closes
/// on or before the start, and at most [`REGISTRATION_MONTHS_BEFORE`] months before it; the
/// outcome months are in [`OUTCOME_MONTHS_RANGE`]. The error names the input field.
pub fn check_cohort(c: &NpqCohort) -> Result<(), (&'static str, String)> {
    if c.starts_on < NPQ_COURSES_FROM {
        return Err((
            "startsOn",
            "must be on or after 1 September 2024: an NPQ for SENCOs begun earlier never \
             counts (SEND Regulations 2014, reg 49(7))"
                .into(),
        ));
    }
    if c.starts_on >= LAST_COHORT_BEFORE {
        return Err(("startsOn", "must be before 2100".into()));
    }
    if c.registration_closes_on > c.starts_on {
        return Err((
            "registrationClosesOn",
            "must be on or before startsOn: registration closes before the cohort starts".into(),
        ));
    }
    if c.starts_on
        .checked_sub_months(Months::new(REGISTRATION_MONTHS_BEFORE))
        .is_some_and(|earliest| c.registration_closes_on < earliest)
    {
        return Err((
            "registrationClosesOn",
            format!("must be at most {REGISTRATION_MONTHS_BEFORE} months before startsOn"),
        ));
    }
    if !OUTCOME_MONTHS_RANGE.contains(&c.expected_outcome_months) {
        return Err((
            "expectedOutcomeMonths",
            format!(
                "must be from {} to {} months",
                OUTCOME_MONTHS_RANGE.start(),
                OUTCOME_MONTHS_RANGE.end()
            ),
        ));
    }
    Ok(())
}

/// The illustrative calendar a new database starts with (SPEC 4.8): a cohort each
/// 1 November from 2025 to 2030, registration closing on 1 October of the same year, the
/// outcome 22 months after the start. It is an example to replace with the DfE's published
/// dates, not the DfE's calendar.
pub fn illustrative_calendar() -> Vec<NpqCohort> {
    (2025..=2030)
        .filter_map(|year| {
            Some(NpqCohort {
                starts_on: NaiveDate::from_ymd_opt(year, 11, 1)?,
                registration_closes_on: NaiveDate::from_ymd_opt(year, 10, 1)?,
                expected_outcome_months: DEFAULT_OUTCOME_MONTHS,
            })
        })
        .collect()
}

/// Checks a qualification's `expectedCompletionOn` against its kind and start: not before the
/// start, and for a NASENCO before 1 September 2027, since one completed later never counts.
pub fn check_expected_completion(
    kind: QualificationKind,
    started_on: NaiveDate,
    expected: NaiveDate,
) -> Result<(), String> {
    if expected < started_on {
        return Err("must not be before the course started".into());
    }
    if kind == QualificationKind::Nasenco && expected >= NASENCO_COMPLETE_BEFORE {
        return Err(
            "a NASENCO completed on or after 1 September 2027 never counts towards the SENCO \
             qualification duty (SEND Regulations 2014, reg 49(7) as amended by SI 2024/535), \
             so this course could not discharge it: the SENCO needs the NPQ for SENCOs instead"
                .into(),
        );
    }
    Ok(())
}

/// A course as the projection sees it: the record the duty rules use and when the award is
/// expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Course {
    /// Kind, dates and id.
    pub record: QualificationRecord,
    /// When the award (the outcome) is expected; `None` when not recorded.
    pub expected_completion_on: Option<NaiveDate>,
}

/// Whether the SENCO will hold the qualification by the deadline (SPEC 4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    /// A course under way finishes in time, or two or more open cohorts do.
    OnTrack,
    /// No course under way finishes in time and exactly one open cohort does.
    AtRisk,
    /// Nothing can finish in time and the calendar has a later cohort.
    CannotMeet,
    /// Nothing under way finishes in time and the calendar has no cohort after the day.
    Unknown,
    /// As the status: qualified.
    Qualified,
    /// As the status: overdue.
    Overdue,
    /// As the status: the duty does not apply.
    Exempt,
}

impl Projection {
    /// Every projection, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 7] = [
        Self::OnTrack,
        Self::AtRisk,
        Self::CannotMeet,
        Self::Unknown,
        Self::Qualified,
        Self::Overdue,
        Self::Exempt,
    ];

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnTrack => "ON_TRACK",
            Self::AtRisk => "AT_RISK",
            Self::CannotMeet => "CANNOT_MEET",
            Self::Unknown => "UNKNOWN",
            Self::Qualified => "QUALIFIED",
            Self::Overdue => "OVERDUE",
            Self::Exempt => "EXEMPT",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The projection of one appointment on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectionOutcome {
    /// The verdict.
    pub projection: Projection,
    /// `AT_RISK` only: the day registration for the one cohort still in time closes.
    pub must_register_by: Option<NaiveDate>,
    /// The earliest route's finish; `None` when qualified, exempt, or there is no route.
    pub projected_qualified_on: Option<NaiveDate>,
    /// The open cohort starting last that still finishes by the deadline; `None` when none.
    pub latest_viable_cohort: Option<NpqCohort>,
}

impl ProjectionOutcome {
    fn only(projection: Projection) -> Self {
        Self {
            projection,
            must_register_by: None,
            projected_qualified_on: None,
            latest_viable_cohort: None,
        }
    }
}

/// When a course under way on `t` that could still count will finish, or `None` when it is
/// no route (SPEC 4.8): its award date when already recorded (a course completed after `t`),
/// else its `expectedCompletionOn`; for an NPQ without one, its start plus the outcome months
/// of the cohort starting that day ([`DEFAULT_OUTCOME_MONTHS`] when none does); for a
/// NASENCO without one, the last day on which it can still count. A NASENCO finishing on or
/// after 1 September 2027 is no route.
fn course_finish(c: &Course, calendar: &[NpqCohort]) -> Option<NaiveDate> {
    let r = &c.record;
    let finish = match (r.completed_on.or(c.expected_completion_on), r.kind) {
        (Some(d), _) => d,
        (None, QualificationKind::NpqSenco) => calendar
            .iter()
            .find(|k| k.starts_on == r.started_on)
            .copied()
            .unwrap_or(NpqCohort {
                starts_on: r.started_on,
                registration_closes_on: r.started_on,
                expected_outcome_months: DEFAULT_OUTCOME_MONTHS,
            })
            .expected_outcome_on(),
        (None, QualificationKind::Nasenco) => NASENCO_COMPLETE_BEFORE.pred_opt()?,
    };
    match r.kind {
        QualificationKind::Nasenco if finish >= NASENCO_COMPLETE_BEFORE => None,
        _ => Some(finish),
    }
}

/// The projection of SPEC 4.8 for an appointment whose duty stands as `outcome` on `t`.
///
/// `QUALIFIED`, `OVERDUE` and `EXEMPT` pass through from the status. Otherwise the routes
/// are the courses under way on `t` that could still count (see [`course_finish`]) and the
/// cohorts whose registration is still open on `t`, each finishing on its expected outcome;
/// a route finishing on the deadline day is in time, since the qualification must be held
/// only *after* that day (reg 49(4)). An overdue SENCO still gets `projectedQualifiedOn`,
/// the earliest day the routes could end the breach.
pub fn project(
    outcome: &DutyOutcome,
    courses: &[Course],
    calendar: &[NpqCohort],
    t: NaiveDate,
) -> ProjectionOutcome {
    let deadline = match (outcome.status, outcome.deadline) {
        (QualificationStatus::Qualified, _) => {
            return ProjectionOutcome::only(Projection::Qualified);
        }
        (QualificationStatus::Exempt, _) | (_, None) => {
            return ProjectionOutcome::only(Projection::Exempt);
        }
        (_, Some(d)) => d,
    };
    let course_finishes: Vec<NaiveDate> = courses
        .iter()
        .filter(|c| could_still_count(&c.record, t))
        .filter_map(|c| course_finish(c, calendar))
        .collect();
    let mut open: Vec<&NpqCohort> = calendar.iter().filter(|k| k.open_on(t)).collect();
    open.sort_by_key(|k| k.starts_on);
    let projected_qualified_on = course_finishes
        .iter()
        .copied()
        .chain(open.iter().map(|k| k.expected_outcome_on()))
        .min();
    if outcome.status == QualificationStatus::Overdue {
        return ProjectionOutcome {
            projected_qualified_on,
            ..ProjectionOutcome::only(Projection::Overdue)
        };
    }
    let in_time: Vec<&NpqCohort> = open
        .iter()
        .copied()
        .filter(|k| k.expected_outcome_on() <= deadline)
        .collect();
    let course_in_time = course_finishes.iter().any(|f| *f <= deadline);
    let (projection, must_register_by) = if course_in_time || in_time.len() >= 2 {
        (Projection::OnTrack, None)
    } else if let [only] = in_time.as_slice() {
        (Projection::AtRisk, Some(only.registration_closes_on))
    } else if calendar.iter().any(|k| k.starts_on > t) {
        (Projection::CannotMeet, None)
    } else {
        (Projection::Unknown, None)
    };
    ProjectionOutcome {
        projection,
        must_register_by,
        projected_qualified_on,
        latest_viable_cohort: in_time.last().copied().copied(),
    }
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::qualification::{
        DutyInput, QualificationKind::Nasenco, QualificationKind::NpqSenco, evaluate,
    };
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cohort(starts_on: NaiveDate, closes: NaiveDate, months: u32) -> NpqCohort {
        NpqCohort {
            starts_on,
            registration_closes_on: closes,
            expected_outcome_months: months,
        }
    }

    fn course(
        kind: QualificationKind,
        started_on: NaiveDate,
        expected: Option<NaiveDate>,
    ) -> Course {
        Course {
            record: QualificationRecord {
                id: 1,
                kind,
                started_on,
                completed_on: None,
            },
            expected_completion_on: expected,
        }
    }

    /// The projection of a SENCO appointed on `start` at a relevant school with no prior
    /// service, with `courses`, on `t`.
    fn run(
        start: NaiveDate,
        courses: &[Course],
        calendar: &[NpqCohort],
        t: NaiveDate,
    ) -> ProjectionOutcome {
        let records: Vec<QualificationRecord> = courses.iter().map(|c| c.record).collect();
        let outcome = evaluate(
            &DutyInput {
                school_is_relevant: true,
                appointment_start: start,
                other_service: &[],
                qualifications: &records,
            },
            t,
        );
        project(&outcome, courses, calendar, t)
    }

    #[test]
    fn the_illustrative_calendar_has_a_november_cohort_each_year_from_2025_to_2030() {
        let cal = illustrative_calendar();
        assert_eq!(cal.len(), 6);
        assert_eq!(cal[0], cohort(d(2025, 11, 1), d(2025, 10, 1), 22));
        assert_eq!(cal[0].expected_outcome_on(), d(2027, 9, 1));
        assert_eq!(cal[5].starts_on, d(2030, 11, 1));
        for c in &cal {
            assert_eq!(check_cohort(c), Ok(()));
        }
    }

    #[test]
    fn projection_names_round_trip() {
        for p in Projection::ALL {
            assert_eq!(Projection::parse(p.as_str()), Some(p));
        }
        assert_eq!(Projection::parse("on_track"), None);
    }

    #[test]
    fn senco_appointed_1_june_2026_must_register_for_the_november_2026_cohort() {
        // The example: deadline 1 June 2029; the 2026 cohort's outcome is
        // 1 September 2028, the 2027 cohort's 1 September 2029, too late.
        let out = run(d(2026, 6, 1), &[], &illustrative_calendar(), d(2026, 6, 10));
        assert_eq!(out.projection, Projection::AtRisk);
        assert_eq!(out.must_register_by, Some(d(2026, 10, 1)));
        assert_eq!(out.projected_qualified_on, Some(d(2028, 9, 1)));
        assert_eq!(
            out.latest_viable_cohort.map(|c| c.starts_on),
            Some(d(2026, 11, 1))
        );
    }

    #[test]
    fn exactly_one_open_cohort_in_time_is_at_risk() {
        // Deadline 6 January 2028: the 2025 cohort ends 1 September 2027, in time; the 2026
        // one ends 1 September 2028, too late.
        let out = run(d(2025, 1, 6), &[], &illustrative_calendar(), d(2025, 3, 1));
        assert_eq!(out.projection, Projection::AtRisk);
        assert_eq!(out.must_register_by, Some(d(2025, 10, 1)));
    }

    #[test]
    fn two_open_cohorts_in_time_are_on_track() {
        // Deadline 1 September 2029: the 2026 cohort ends 1 September 2028 and the 2027 one
        // on the deadline day itself.
        let out = run(d(2026, 9, 1), &[], &illustrative_calendar(), d(2026, 9, 10));
        assert_eq!(out.projection, Projection::OnTrack);
        assert_eq!(out.must_register_by, None);
        assert_eq!(
            out.latest_viable_cohort.map(|c| c.starts_on),
            Some(d(2027, 11, 1))
        );
        assert_eq!(out.projected_qualified_on, Some(d(2028, 9, 1)));
    }

    #[test]
    fn registration_closing_on_t_is_still_open() {
        let cal = [cohort(d(2026, 11, 1), d(2026, 10, 1), 22)];
        let out = run(d(2026, 6, 1), &[], &cal, d(2026, 10, 1));
        assert_eq!(out.projection, Projection::AtRisk);
        assert_eq!(out.must_register_by, Some(d(2026, 10, 1)));
    }

    #[test]
    fn registration_closed_the_day_before_t_is_no_route() {
        let cal = [
            cohort(d(2026, 11, 1), d(2026, 10, 1), 22),
            cohort(d(2027, 11, 1), d(2027, 10, 1), 22),
        ];
        let out = run(d(2026, 6, 1), &[], &cal, d(2026, 10, 2));
        // The 2026 cohort still starts after t but is closed; the 2027 one ends too late.
        assert_eq!(out.projection, Projection::CannotMeet);
        assert_eq!(out.must_register_by, None);
        assert_eq!(out.projected_qualified_on, Some(d(2029, 9, 1)));
        assert_eq!(out.latest_viable_cohort, None);
    }

    #[test]
    fn an_outcome_on_the_deadline_day_is_in_time() {
        // Appointed 1 September 2026: deadline 1 September 2029, the 2027 cohort's outcome.
        let cal = [cohort(d(2027, 11, 1), d(2027, 10, 1), 22)];
        let out = run(d(2026, 9, 1), &[], &cal, d(2026, 9, 1));
        assert_eq!(out.projection, Projection::AtRisk);
        assert_eq!(out.projected_qualified_on, Some(d(2029, 9, 1)));
    }

    #[test]
    fn an_outcome_the_day_after_the_deadline_is_not_in_time() {
        let cal = [cohort(d(2027, 11, 1), d(2027, 10, 1), 22)];
        let out = run(d(2026, 8, 31), &[], &cal, d(2026, 9, 1));
        assert_eq!(out.projection, Projection::CannotMeet);
        assert_eq!(out.projected_qualified_on, Some(d(2029, 9, 1)));
    }

    #[test]
    fn a_course_finishing_on_the_deadline_day_is_on_track_and_the_day_after_is_not() {
        let start = d(2025, 3, 3); // deadline 3 March 2028
        let on_time = [course(NpqSenco, d(2025, 11, 1), Some(d(2028, 3, 3)))];
        let late = [course(NpqSenco, d(2025, 11, 1), Some(d(2028, 3, 4)))];
        assert_eq!(
            run(start, &on_time, &[], d(2026, 1, 1)).projection,
            Projection::OnTrack
        );
        assert_eq!(
            run(start, &late, &[], d(2026, 1, 1)).projection,
            Projection::Unknown
        );
    }

    #[test]
    fn nasenco_expected_31_august_2027_is_a_route() {
        let courses = [course(Nasenco, d(2024, 6, 1), Some(d(2027, 8, 31)))];
        let out = run(d(2025, 1, 6), &courses, &[], d(2026, 1, 1));
        assert_eq!(out.projection, Projection::OnTrack);
        assert_eq!(out.projected_qualified_on, Some(d(2027, 8, 31)));
    }

    #[test]
    fn nasenco_expected_1_september_2027_is_no_route() {
        // The example: a NASENCO ending after August 2027 shows IN_TRAINING but can
        // never count.
        let courses = [course(Nasenco, d(2024, 6, 1), Some(d(2027, 9, 1)))];
        let out = run(
            d(2025, 1, 6),
            &courses,
            &illustrative_calendar(),
            d(2026, 1, 1),
        );
        assert_eq!(
            evaluate(
                &DutyInput {
                    school_is_relevant: true,
                    appointment_start: d(2025, 1, 6),
                    other_service: &[],
                    qualifications: &[courses[0].record],
                },
                d(2026, 1, 1)
            )
            .status,
            QualificationStatus::InTraining
        );
        // Deadline 6 January 2028: the 2025 cohort has closed, the 2026 one ends too late.
        assert_eq!(out.projection, Projection::CannotMeet);
        assert_eq!(out.projected_qualified_on, Some(d(2028, 9, 1)));
    }

    #[test]
    fn nasenco_with_no_expected_date_is_taken_to_finish_by_31_august_2027() {
        let courses = [course(Nasenco, d(2024, 6, 1), None)];
        let in_time = run(d(2025, 1, 6), &courses, &[], d(2026, 1, 1));
        assert_eq!(in_time.projection, Projection::OnTrack);
        assert_eq!(in_time.projected_qualified_on, Some(d(2027, 8, 31)));
        // A deadline before then: the course is a route, but late.
        let late = run(d(2024, 6, 3), &courses, &[], d(2026, 1, 1));
        assert_eq!(late.projection, Projection::Unknown);
        assert_eq!(late.projected_qualified_on, Some(d(2027, 8, 31)));
    }

    #[test]
    fn npq_with_no_expected_date_finishes_with_the_outcome_of_its_cohort() {
        let cal = [cohort(d(2025, 11, 1), d(2025, 10, 1), 20)];
        let courses = [course(NpqSenco, d(2025, 11, 1), None)];
        let out = run(d(2025, 1, 6), &courses, &cal, d(2026, 1, 1));
        assert_eq!(out.projected_qualified_on, Some(d(2027, 7, 1)));
        assert_eq!(out.projection, Projection::OnTrack);
    }

    #[test]
    fn npq_with_no_expected_date_and_no_matching_cohort_takes_22_months() {
        let courses = [course(NpqSenco, d(2025, 2, 1), None)];
        let out = run(d(2025, 1, 6), &courses, &[], d(2026, 1, 1));
        assert_eq!(out.projected_qualified_on, Some(d(2026, 12, 1)));
        assert_eq!(out.projection, Projection::OnTrack);
    }

    #[test]
    fn no_expected_date_on_a_course_not_yet_begun_is_no_route() {
        // Registered for a cohort that starts after t: not under way, so the calendar decides.
        let courses = [course(NpqSenco, d(2026, 11, 1), None)];
        let out = run(d(2026, 6, 1), &courses, &[], d(2026, 6, 10));
        assert_eq!(out.projection, Projection::Unknown);
        assert_eq!(out.projected_qualified_on, None);
    }

    #[test]
    fn with_several_courses_any_one_in_time_puts_the_senco_on_track() {
        let courses = [
            course(Nasenco, d(2024, 6, 1), Some(d(2027, 9, 1))),
            course(NpqSenco, d(2025, 11, 1), Some(d(2028, 2, 1))),
            course(NpqSenco, d(2024, 6, 1), None), // begun too early: never counts
        ];
        let out = run(d(2025, 3, 3), &courses, &[], d(2026, 1, 1));
        assert_eq!(out.projection, Projection::OnTrack);
        assert_eq!(out.projected_qualified_on, Some(d(2028, 2, 1)));
    }

    #[test]
    fn a_course_finishing_late_with_one_viable_cohort_open_is_at_risk() {
        // Deadline 1 September 2029; the NPQ under way ends in October 2029, the 2027 cohort
        // (open until 1 October 2027) on 1 September 2029.
        let cal = [cohort(d(2027, 11, 1), d(2027, 10, 1), 22)];
        let courses = [course(NpqSenco, d(2027, 1, 1), Some(d(2029, 10, 1)))];
        let out = run(d(2026, 9, 1), &courses, &cal, d(2027, 3, 1));
        assert_eq!(out.projection, Projection::AtRisk);
        assert_eq!(out.must_register_by, Some(d(2027, 10, 1)));
        assert_eq!(out.projected_qualified_on, Some(d(2029, 9, 1)));
        assert_eq!(out.latest_viable_cohort, Some(cal[0]));
    }

    #[test]
    fn a_course_finishing_late_with_nothing_else_names_its_finish_as_the_projected_day() {
        let cal = [cohort(d(2027, 11, 1), d(2027, 10, 1), 22)];
        let courses = [course(NpqSenco, d(2027, 1, 1), Some(d(2029, 8, 1)))];
        // Deadline 1 March 2029, the 2027 cohort would end 1 September 2029.
        let out = run(d(2026, 3, 1), &courses, &cal, d(2027, 3, 1));
        assert_eq!(out.projection, Projection::CannotMeet);
        assert_eq!(out.projected_qualified_on, Some(d(2029, 8, 1)));
    }

    #[test]
    fn an_empty_calendar_is_unknown() {
        let out = run(d(2026, 6, 1), &[], &[], d(2026, 6, 10));
        assert_eq!(out.projection, Projection::Unknown);
        assert_eq!(out.projected_qualified_on, None);
        assert_eq!(out.latest_viable_cohort, None);
    }

    #[test]
    fn a_calendar_with_no_cohort_after_t_is_unknown() {
        let cal = [cohort(d(2025, 11, 1), d(2025, 10, 1), 22)];
        let out = run(d(2026, 6, 1), &[], &cal, d(2026, 6, 10));
        assert_eq!(out.projection, Projection::Unknown);
    }

    #[test]
    fn an_empty_calendar_with_a_course_in_time_is_on_track() {
        let courses = [course(NpqSenco, d(2025, 11, 1), Some(d(2027, 9, 1)))];
        let out = run(d(2026, 6, 1), &courses, &[], d(2026, 6, 10));
        assert_eq!(out.projection, Projection::OnTrack);
    }

    #[test]
    fn a_29_february_appointment_has_until_1_march_three_years_on() {
        // Appointed 29 February 2028: deadline 1 March 2031. A cohort starting 1 May 2029
        // with 22 months ends 1 March 2031, in time; with 23, 1 April 2031, not.
        let start = d(2028, 2, 29);
        let in_time = [cohort(d(2029, 5, 1), d(2029, 4, 1), 22)];
        let late = [cohort(d(2029, 5, 1), d(2029, 4, 1), 23)];
        assert_eq!(
            run(start, &[], &in_time, d(2028, 3, 1)).projection,
            Projection::AtRisk
        );
        assert_eq!(
            run(start, &[], &late, d(2028, 3, 1)).projection,
            Projection::CannotMeet
        );
    }

    #[test]
    fn a_cohort_ending_on_29_february_is_in_time_for_1_march_but_not_28_february() {
        // A cohort starting 29 April 2026 with 22 months ends on 29 February 2028.
        let c = cohort(d(2026, 4, 29), d(2026, 4, 1), 22);
        assert_eq!(c.expected_outcome_on(), d(2028, 2, 29));
        let out = run(d(2025, 3, 1), &[], &[c], d(2026, 4, 1));
        assert_eq!(out.projection, Projection::AtRisk);
        let out = run(d(2025, 2, 28), &[], &[c], d(2026, 4, 1));
        assert_eq!(out.projection, Projection::CannotMeet);
        assert_eq!(out.projected_qualified_on, Some(d(2028, 2, 29)));
    }

    #[test]
    fn qualified_overdue_and_exempt_pass_through_from_the_status() {
        let cal = illustrative_calendar();
        let done = Course {
            record: QualificationRecord {
                id: 1,
                kind: NpqSenco,
                started_on: d(2024, 11, 1),
                completed_on: Some(d(2026, 6, 1)),
            },
            expected_completion_on: None,
        };
        let q = run(d(2025, 1, 6), &[done], &cal, d(2026, 7, 1));
        assert_eq!(q, ProjectionOutcome::only(Projection::Qualified));

        let overdue = run(d(2022, 1, 6), &[], &cal, d(2026, 1, 1));
        assert_eq!(overdue.projection, Projection::Overdue);
        assert_eq!(overdue.must_register_by, None);
        assert_eq!(overdue.latest_viable_cohort, None);
        // The 2026 cohort is still open: the earliest the breach can end.
        assert_eq!(overdue.projected_qualified_on, Some(d(2028, 9, 1)));

        let exempt = evaluate(
            &DutyInput {
                school_is_relevant: false,
                appointment_start: d(2025, 1, 6),
                other_service: &[],
                qualifications: &[],
            },
            d(2026, 1, 1),
        );
        assert_eq!(
            project(&exempt, &[], &cal, d(2026, 1, 1)),
            ProjectionOutcome::only(Projection::Exempt)
        );
    }

    #[test]
    fn cohorts_are_checked_against_the_npq_window_and_their_own_dates() {
        let ok = cohort(d(2026, 11, 1), d(2026, 10, 1), 22);
        assert_eq!(check_cohort(&ok), Ok(()));
        let early = cohort(d(2024, 8, 31), d(2024, 8, 1), 22);
        assert_eq!(check_cohort(&early).unwrap_err().0, "startsOn");
        let closes_late = cohort(d(2026, 11, 1), d(2026, 11, 2), 22);
        assert_eq!(
            check_cohort(&closes_late).unwrap_err().0,
            "registrationClosesOn"
        );
        let same_day = cohort(d(2026, 11, 1), d(2026, 11, 1), 22);
        assert_eq!(check_cohort(&same_day), Ok(()));
        let two_years = cohort(d(2026, 11, 1), d(2024, 11, 1), 22);
        assert_eq!(check_cohort(&two_years), Ok(()));
        let too_early = cohort(d(2026, 11, 1), d(2024, 10, 31), 22);
        assert_eq!(
            check_cohort(&too_early).unwrap_err().0,
            "registrationClosesOn"
        );
        let far = cohort(d(2100, 1, 1), d(2099, 12, 1), 22);
        assert_eq!(check_cohort(&far).unwrap_err().0, "startsOn");
        for months in [0, 61] {
            let bad = cohort(d(2026, 11, 1), d(2026, 10, 1), months);
            assert_eq!(check_cohort(&bad).unwrap_err().0, "expectedOutcomeMonths");
        }
    }

    #[test]
    fn expected_completion_may_not_precede_the_start_nor_make_a_nasenco_useless() {
        assert!(check_expected_completion(NpqSenco, d(2025, 11, 1), d(2025, 10, 31)).is_err());
        assert!(check_expected_completion(NpqSenco, d(2025, 11, 1), d(2025, 11, 1)).is_ok());
        assert!(check_expected_completion(Nasenco, d(2024, 1, 1), d(2027, 8, 31)).is_ok());
        let e = check_expected_completion(Nasenco, d(2024, 1, 1), d(2027, 9, 1)).unwrap_err();
        assert!(e.contains("1 September 2027"), "{e}");
        assert!(e.contains("NPQ for SENCOs"), "{e}");
        // No cut-off for the NPQ.
        assert!(check_expected_completion(NpqSenco, d(2025, 11, 1), d(2030, 1, 1)).is_ok());
    }
}
