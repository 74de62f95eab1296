//! The mandatory SENCO qualification duty and its deadline (SPEC 4.4).
//!
//! SEND Regulations 2014, reg 49(4): a person who becomes the SENCO at a relevant school
//! after 1 September 2009, and has not previously been the SENCO at that or any other
//! relevant school for a total of more than twelve months, must hold the relevant SENCO
//! qualification if they are the SENCO at any time after the third anniversary of becoming
//! one. Reg 49(7), inserted by SI 2024/535, defines which qualification is relevant: the
//! National Award (NASENCO) for courses begun before 1 September 2024 and completed before
//! 1 September 2027, the NPQ for SENCOs for courses begun on or after 1 September 2024.
//!
//! [`duty_facts`] applies SPEC 4.4 rules 1 to 5, which do not depend on the date asked about
//! (the product stores them on write); [`status_on`] applies rule 6 for a day from those
//! facts; [`evaluate`] is the two together. Rule 5 is [`counts_toward_duty`]; rule 7's
//! "current on `t`" test is [`is_current_on`].

use chrono::{Datelike, NaiveDate};

/// Builds a constant date, failing the build (not the service) if the constant is invalid.
const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("invalid constant date"),
    }
}

/// Reg 49(4) binds only those who become SENCO *after* this day; an appointment starting on
/// it is outside the duty.
pub const DUTY_APPLIES_AFTER: NaiveDate = date(2009, 9, 1);

/// Reg 49(7) as inserted by SI 2024/535: NASENCO courses must begin before this day, NPQ
/// for SENCOs courses on or after it.
pub const NPQ_COURSES_FROM: NaiveDate = date(2024, 9, 1);

/// Reg 49(7)(a): a NASENCO course must be completed before this day to count.
pub const NASENCO_COMPLETE_BEFORE: NaiveDate = date(2027, 9, 1);

/// "More than twelve months" of earlier SENCO service (reg 49(4)) is read as more than this
/// many distinct days (SPEC 4.4 rule 3): exactly 365 still leaves the duty in force.
pub const PRIOR_SERVICE_LIMIT_DAYS: i64 = 365;

/// The two routes to the mandatory qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualificationKind {
    /// National Award for Special Educational Needs Co-ordination.
    Nasenco,
    /// National Professional Qualification for Special Educational Needs Co-ordinators.
    NpqSenco,
}

impl std::fmt::Display for QualificationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl QualificationKind {
    /// Every kind, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 2] = [Self::Nasenco, Self::NpqSenco];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nasenco => "NASENCO",
            Self::NpqSenco => "NPQ_SENCO",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where an appointment stands against the duty on a given day (SPEC 4.4 rule 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QualificationStatus {
    /// A counting qualification was completed on or before the day.
    Qualified,
    /// Not yet qualified and not overdue, with a course that could still count under way.
    InTraining,
    /// Not yet qualified, not overdue, and no counting course under way.
    NotStarted,
    /// The deadline has passed and no counting qualification is held.
    Overdue,
    /// The duty does not apply; see [`ExemptionReason`].
    Exempt,
}

impl QualificationStatus {
    /// Every status, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 5] = [
        Self::Qualified,
        Self::InTraining,
        Self::NotStarted,
        Self::Overdue,
        Self::Exempt,
    ];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qualified => "QUALIFIED",
            Self::InTraining => "IN_TRAINING",
            Self::NotStarted => "NOT_STARTED",
            Self::Overdue => "OVERDUE",
            Self::Exempt => "EXEMPT",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Why the duty does not apply to an appointment (SPEC 4.4 rules 1 to 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExemptionReason {
    /// Rule 1: reg 49 binds only relevant schools.
    NotARelevantSchool,
    /// Rule 2: the person became SENCO on or before 1 September 2009.
    AppointedBeforeSeptember2009,
    /// Rule 3: more than twelve months' earlier SENCO service.
    PriorServiceOver12Months,
}

impl ExemptionReason {
    /// Every reason, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 3] = [
        Self::NotARelevantSchool,
        Self::AppointedBeforeSeptember2009,
        Self::PriorServiceOver12Months,
    ];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotARelevantSchool => "NOT_A_RELEVANT_SCHOOL",
            Self::AppointedBeforeSeptember2009 => "APPOINTED_BEFORE_SEPTEMBER_2009",
            Self::PriorServiceOver12Months => "PRIOR_SERVICE_OVER_12_MONTHS",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A qualification course recorded against the person holding the appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QualificationRecord {
    /// The stored qualification's id, echoed back as [`DutyOutcome::qualifying_award`].
    pub id: i64,
    pub kind: QualificationKind,
    pub started_on: NaiveDate,
    /// `None` while the course is not (yet) completed.
    pub completed_on: Option<NaiveDate>,
}

/// A stretch of time during which the person was a SENCO, inclusive of both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServicePeriod {
    pub started_on: NaiveDate,
    /// `None` while the period is still running.
    pub ended_on: Option<NaiveDate>,
}

/// Whether an appointment (or any period) is current on `t`: started on or before `t` and not
/// ended before it (SPEC 4.4 rule 7). The end date is the last day in post, hence `>=`.
pub fn is_current_on(started_on: NaiveDate, ended_on: Option<NaiveDate>, t: NaiveDate) -> bool {
    started_on <= t && ended_on.is_none_or(|end| end >= t)
}

/// Whether a course is a *relevant SENCO qualification* (SPEC 4.4 rule 5, reg 49(7)).
///
/// Only completed courses count. The windows are fixed in law, so a course begun or finished
/// outside them never counts, whatever its dates relative to the appointment; and nothing ties
/// the qualification to the appointment, so one completed before it began counts too.
pub fn counts_toward_duty(
    kind: QualificationKind,
    started_on: NaiveDate,
    completed_on: Option<NaiveDate>,
) -> bool {
    let Some(completed_on) = completed_on else {
        return false;
    };
    match kind {
        // Reg 49(7)(a): begun before 1 Sep 2024 *and* completed before 1 Sep 2027.
        QualificationKind::Nasenco => {
            started_on < NPQ_COURSES_FROM && completed_on < NASENCO_COMPLETE_BEFORE
        }
        // Reg 49(7)(b): begun on or after 1 Sep 2024; no completion cut-off.
        QualificationKind::NpqSenco => started_on >= NPQ_COURSES_FROM,
    }
}

/// Whether a course under way on `t` could still become a relevant qualification (SPEC 4.4
/// rule 6, `IN_TRAINING`). A NASENCO begun in time stops being able to count once
/// 1 September 2027 arrives uncompleted; an NPQ begun in time always can.
pub fn could_still_count(q: &QualificationRecord, t: NaiveDate) -> bool {
    let under_way = q.started_on <= t && q.completed_on.is_none_or(|done| done > t);
    let in_window = match q.kind {
        QualificationKind::Nasenco => {
            q.started_on < NPQ_COURSES_FROM && t < NASENCO_COMPLETE_BEFORE
        }
        QualificationKind::NpqSenco => q.started_on >= NPQ_COURSES_FROM,
    };
    under_way && in_window
}

/// The third anniversary of `d` (reg 49(4)). Someone appointed on 29 February reaches it on
/// 1 March when that year is not a leap year: the anniversary falls after 28 February, and
/// choosing the later day never shortens the time the law allows. Saturates at chrono's
/// maximum date, which no real appointment approaches.
pub fn third_anniversary(d: NaiveDate) -> NaiveDate {
    let year = d.year().saturating_add(3);
    d.with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(NaiveDate::MAX)
}

/// The number of distinct days before `appointment_start` on which the person was a SENCO
/// (SPEC 4.4 rule 3).
///
/// `other_service` is the person's *other* appointments at relevant schools plus their
/// recorded prior-service periods; choosing which appointments to pass is the caller's job.
/// Each period is inclusive of both ends and clipped to the day before `appointment_start`
/// (a running period counts up to then); periods starting on or after it contribute nothing,
/// and overlapping periods are counted once. A malformed period ending before it starts
/// contributes nothing rather than a negative count.
pub fn prior_service_days(appointment_start: NaiveDate, other_service: &[ServicePeriod]) -> i64 {
    let Some(last_day) = appointment_start.pred_opt() else {
        return 0;
    };
    let mut spans: Vec<(NaiveDate, NaiveDate)> = other_service
        .iter()
        .filter_map(|p| {
            let end = p.ended_on.map_or(last_day, |e| e.min(last_day));
            (p.started_on <= end).then_some((p.started_on, end))
        })
        .collect();
    spans.sort_unstable();

    let mut total = 0;
    let mut current: Option<(NaiveDate, NaiveDate)> = None;
    for (start, end) in spans {
        current = match current {
            // Overlapping or touching spans merge; each day is counted once.
            Some((cur_start, cur_end)) if start <= cur_end || start.pred_opt() == Some(cur_end) => {
                Some((cur_start, cur_end.max(end)))
            }
            Some(done) => {
                total += inclusive_days(done);
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    total + current.map_or(0, inclusive_days)
}

fn inclusive_days((start, end): (NaiveDate, NaiveDate)) -> i64 {
    (end - start).num_days() + 1
}

/// The facts about one appointment that the duty depends on.
#[derive(Debug, Clone, Copy)]
pub struct DutyInput<'a> {
    /// Whether the appointment's school is a relevant school (SPEC 4.1).
    pub school_is_relevant: bool,
    pub appointment_start: NaiveDate,
    /// See [`prior_service_days`] for what belongs here.
    pub other_service: &'a [ServicePeriod],
    /// Every qualification course recorded against the person.
    pub qualifications: &'a [QualificationRecord],
}

/// What the duty says of one appointment whatever the date asked about (SPEC 4.4 rules 1
/// to 5): kept on write next to the appointment, so that reads need not walk the person's
/// history again. [`status_on`] turns it into a [`DutyOutcome`] for a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DutyFacts {
    /// `Some` exactly when the duty does not apply.
    pub exemption_reason: Option<ExemptionReason>,
    /// The third anniversary of the appointment; `None` when exempt.
    pub deadline: Option<NaiveDate>,
    /// See [`DutyOutcome::prior_service_days`].
    pub prior_service_days: i64,
    /// The person's earliest counting award: when it was completed and its id (the lowest
    /// id among those completed that day).
    pub earliest_award: Option<(NaiveDate, i64)>,
}

impl DutyFacts {
    /// Whether the duty applies.
    pub fn duty_applies(&self) -> bool {
        self.exemption_reason.is_none()
    }
}

/// The earliest counting award among `qualifications` (rule 5): the one a person holds on
/// any day from its completion on.
pub fn earliest_award(qualifications: &[QualificationRecord]) -> Option<(NaiveDate, i64)> {
    qualifications
        .iter()
        .filter_map(|q| match q.completed_on {
            Some(done) if counts_toward_duty(q.kind, q.started_on, Some(done)) => {
                Some((done, q.id))
            }
            _ => None,
        })
        .min()
}

/// Applies SPEC 4.4 rules 1 to 5, which do not depend on the date asked about.
pub fn duty_facts(input: &DutyInput<'_>) -> DutyFacts {
    let prior_days = prior_service_days(input.appointment_start, input.other_service);
    let exemption = if !input.school_is_relevant {
        // Rule 1: reg 49 speaks only of relevant schools.
        Some(ExemptionReason::NotARelevantSchool)
    } else if input.appointment_start <= DUTY_APPLIES_AFTER {
        // Rule 2: "becomes the SENCO ... after 1st September 2009".
        Some(ExemptionReason::AppointedBeforeSeptember2009)
    } else if prior_days > PRIOR_SERVICE_LIMIT_DAYS {
        // Rule 3: "has not previously been the SENCO ... for a total period of more than
        // twelve months".
        Some(ExemptionReason::PriorServiceOver12Months)
    } else {
        None
    };
    DutyFacts {
        exemption_reason: exemption,
        // Rule 4: the qualification must be held "at any time after the third anniversary",
        // so the anniversary itself is still within time.
        deadline: exemption
            .is_none()
            .then(|| third_anniversary(input.appointment_start)),
        prior_service_days: prior_days,
        earliest_award: earliest_award(input.qualifications),
    }
}

/// The duty as it stands for one appointment on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyOutcome {
    pub duty_applies: bool,
    /// `Some` exactly when the duty does not apply.
    pub exemption_reason: Option<ExemptionReason>,
    /// The third anniversary of the appointment; `None` when exempt.
    pub deadline: Option<NaiveDate>,
    pub status: QualificationStatus,
    /// `deadline - as_of` in days, negative once overdue; `None` when exempt.
    pub days_remaining: Option<i64>,
    /// The id of the counting qualification completed on or before `as_of` (the earliest
    /// completed, then the lowest id). Reported even when exempt, since holding the
    /// qualification is a fact about the person worth showing either way.
    pub qualifying_award: Option<i64>,
    /// Always computed, whatever the outcome: it is a fact about the person's history, it is
    /// cheap, and a reader checking an exemption (or a near miss) wants to see it.
    pub prior_service_days: i64,
}

/// Rule 6 on `as_of`, from the stored facts and the person's courses (which decide
/// `IN_TRAINING`, the one part that needs them).
pub fn status_on(
    facts: &DutyFacts,
    qualifications: &[QualificationRecord],
    as_of: NaiveDate,
) -> DutyOutcome {
    // The earliest counting award is held from its completion on; before then none is.
    let qualifying_award = facts
        .earliest_award
        .filter(|(done, _)| *done <= as_of)
        .map(|(_, id)| id);
    let Some(deadline) = facts.deadline.filter(|_| facts.duty_applies()) else {
        return DutyOutcome {
            duty_applies: false,
            exemption_reason: facts.exemption_reason,
            deadline: None,
            status: QualificationStatus::Exempt,
            days_remaining: None,
            qualifying_award,
            prior_service_days: facts.prior_service_days,
        };
    };
    let status = if qualifying_award.is_some() {
        QualificationStatus::Qualified
    } else if as_of > deadline {
        QualificationStatus::Overdue
    } else if qualifications.iter().any(|q| could_still_count(q, as_of)) {
        QualificationStatus::InTraining
    } else {
        QualificationStatus::NotStarted
    };
    DutyOutcome {
        duty_applies: true,
        exemption_reason: None,
        deadline: Some(deadline),
        status,
        days_remaining: Some((deadline - as_of).num_days()),
        qualifying_award,
        prior_service_days: facts.prior_service_days,
    }
}

/// Applies SPEC 4.4 rules 1 to 6 as of `as_of`: [`duty_facts`], then [`status_on`].
pub fn evaluate(input: &DutyInput<'_>, as_of: NaiveDate) -> DutyOutcome {
    status_on(&duty_facts(input), input.qualifications, as_of)
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn period(start: NaiveDate, end: Option<NaiveDate>) -> ServicePeriod {
        ServicePeriod {
            started_on: start,
            ended_on: end,
        }
    }

    fn qual(
        id: i64,
        kind: QualificationKind,
        start: NaiveDate,
        done: Option<NaiveDate>,
    ) -> QualificationRecord {
        QualificationRecord {
            id,
            kind,
            started_on: start,
            completed_on: done,
        }
    }

    fn run(
        start: NaiveDate,
        service: &[ServicePeriod],
        quals: &[QualificationRecord],
        as_of: NaiveDate,
    ) -> DutyOutcome {
        evaluate(
            &DutyInput {
                school_is_relevant: true,
                appointment_start: start,
                other_service: service,
                qualifications: quals,
            },
            as_of,
        )
    }

    use QualificationKind::{Nasenco, NpqSenco};

    // ---- names -------------------------------------------------------------------------

    #[test]
    fn enum_names_round_trip_and_match_the_contract() {
        for k in QualificationKind::ALL {
            assert_eq!(QualificationKind::parse(k.as_str()), Some(k));
        }
        for s in QualificationStatus::ALL {
            assert_eq!(QualificationStatus::parse(s.as_str()), Some(s));
        }
        for r in ExemptionReason::ALL {
            assert_eq!(ExemptionReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Nasenco.as_str(), "NASENCO");
        assert_eq!(NpqSenco.as_str(), "NPQ_SENCO");
        assert_eq!(QualificationStatus::InTraining.as_str(), "IN_TRAINING");
        assert_eq!(QualificationStatus::NotStarted.as_str(), "NOT_STARTED");
        assert_eq!(
            ExemptionReason::NotARelevantSchool.as_str(),
            "NOT_A_RELEVANT_SCHOOL"
        );
        assert_eq!(
            ExemptionReason::AppointedBeforeSeptember2009.as_str(),
            "APPOINTED_BEFORE_SEPTEMBER_2009"
        );
        assert_eq!(
            ExemptionReason::PriorServiceOver12Months.as_str(),
            "PRIOR_SERVICE_OVER_12_MONTHS"
        );
        assert_eq!(QualificationKind::parse("nasenco"), None);
        assert_eq!(QualificationStatus::parse("QUALIFIED "), None);
    }

    // ---- rule 1 ------------------------------------------------------------------------

    #[test]
    fn duty_does_not_apply_at_a_school_that_is_not_relevant() {
        let out = evaluate(
            &DutyInput {
                school_is_relevant: false,
                appointment_start: d(2024, 1, 8),
                other_service: &[],
                qualifications: &[],
            },
            d(2030, 1, 1),
        );
        assert!(!out.duty_applies);
        assert_eq!(
            out.exemption_reason,
            Some(ExemptionReason::NotARelevantSchool)
        );
        assert_eq!(out.status, QualificationStatus::Exempt);
        assert_eq!(out.deadline, None);
        assert_eq!(out.days_remaining, None);
    }

    #[test]
    fn not_relevant_school_takes_precedence_over_other_exemptions() {
        let out = evaluate(
            &DutyInput {
                school_is_relevant: false,
                appointment_start: d(2005, 1, 1),
                other_service: &[],
                qualifications: &[],
            },
            d(2030, 1, 1),
        );
        assert_eq!(
            out.exemption_reason,
            Some(ExemptionReason::NotARelevantSchool)
        );
    }

    // ---- rule 2 ------------------------------------------------------------------------

    #[test]
    fn appointment_on_1_september_2009_is_exempt() {
        let out = run(d(2009, 9, 1), &[], &[], d(2020, 1, 1));
        assert!(!out.duty_applies);
        assert_eq!(
            out.exemption_reason,
            Some(ExemptionReason::AppointedBeforeSeptember2009)
        );
        assert_eq!(out.status, QualificationStatus::Exempt);
    }

    #[test]
    fn appointment_on_2_september_2009_is_bound_by_the_duty() {
        let out = run(d(2009, 9, 2), &[], &[], d(2012, 9, 2));
        assert!(out.duty_applies);
        assert_eq!(out.exemption_reason, None);
        assert_eq!(out.deadline, Some(d(2012, 9, 2)));
        assert_eq!(out.status, QualificationStatus::NotStarted);
    }

    // ---- rule 3 ------------------------------------------------------------------------

    #[test]
    fn prior_service_of_exactly_365_days_from_overlapping_periods_leaves_the_duty() {
        // 1 Jan - 30 Jun 2022 (181 days) and 1 Jun - 31 Dec 2022 overlap in June:
        // the union is the whole of 2022, 365 days.
        let service = [
            period(d(2022, 1, 1), Some(d(2022, 6, 30))),
            period(d(2022, 6, 1), Some(d(2022, 12, 31))),
        ];
        assert_eq!(prior_service_days(d(2023, 9, 1), &service), 365);
        let out = run(d(2023, 9, 1), &service, &[], d(2024, 1, 1));
        assert!(out.duty_applies);
        assert_eq!(out.prior_service_days, 365);
    }

    #[test]
    fn prior_service_of_366_days_from_overlapping_periods_exempts() {
        let service = [
            period(d(2022, 1, 1), Some(d(2022, 6, 30))),
            period(d(2022, 6, 1), Some(d(2023, 1, 1))),
        ];
        assert_eq!(prior_service_days(d(2023, 9, 1), &service), 366);
        let out = run(d(2023, 9, 1), &service, &[], d(2024, 1, 1));
        assert!(!out.duty_applies);
        assert_eq!(
            out.exemption_reason,
            Some(ExemptionReason::PriorServiceOver12Months)
        );
        assert_eq!(out.prior_service_days, 366);
        assert_eq!(out.deadline, None);
        assert_eq!(out.days_remaining, None);
    }

    #[test]
    fn prior_service_counts_both_end_dates() {
        let service = [period(d(2020, 3, 1), Some(d(2020, 3, 1)))];
        assert_eq!(prior_service_days(d(2021, 1, 1), &service), 1);
    }

    #[test]
    fn touching_periods_are_not_double_counted_nor_gapped() {
        let service = [
            period(d(2020, 1, 1), Some(d(2020, 1, 10))),
            period(d(2020, 1, 11), Some(d(2020, 1, 20))),
            period(d(2020, 1, 5), Some(d(2020, 1, 15))),
        ];
        assert_eq!(prior_service_days(d(2021, 1, 1), &service), 20);
    }

    #[test]
    fn separate_periods_add_up() {
        let service = [
            period(d(2020, 1, 1), Some(d(2020, 1, 10))),
            period(d(2020, 2, 1), Some(d(2020, 2, 10))),
        ];
        assert_eq!(prior_service_days(d(2021, 1, 1), &service), 20);
    }

    #[test]
    fn running_period_is_counted_up_to_the_day_before_the_appointment() {
        let service = [period(d(2024, 1, 1), None)];
        // 1 Jan - 31 Jan 2024.
        assert_eq!(prior_service_days(d(2024, 2, 1), &service), 31);
    }

    #[test]
    fn ended_period_running_past_the_appointment_is_clipped() {
        let service = [period(d(2024, 1, 1), Some(d(2026, 1, 1)))];
        assert_eq!(prior_service_days(d(2024, 1, 11), &service), 10);
    }

    #[test]
    fn periods_starting_on_or_after_the_appointment_contribute_nothing() {
        let service = [
            period(d(2024, 2, 1), None),
            period(d(2024, 3, 1), Some(d(2025, 3, 1))),
        ];
        assert_eq!(prior_service_days(d(2024, 2, 1), &service), 0);
    }

    #[test]
    fn malformed_period_ending_before_it_starts_contributes_nothing() {
        let service = [period(d(2020, 5, 1), Some(d(2020, 4, 1)))];
        assert_eq!(prior_service_days(d(2021, 1, 1), &service), 0);
    }

    #[test]
    fn shared_senco_second_appointment_within_12_months_of_the_first_is_bound() {
        // First appointment still running; the second starts 365 days later.
        let first = [period(d(2023, 1, 1), None)];
        let out = run(d(2024, 1, 1), &first, &[], d(2024, 6, 1));
        assert_eq!(out.prior_service_days, 365);
        assert!(out.duty_applies);
        assert_eq!(out.deadline, Some(d(2027, 1, 1)));
    }

    #[test]
    fn shared_senco_second_appointment_beyond_12_months_of_the_first_is_exempt() {
        let first = [period(d(2023, 1, 1), None)];
        let out = run(d(2024, 1, 2), &first, &[], d(2024, 6, 1));
        assert_eq!(out.prior_service_days, 366);
        assert_eq!(
            out.exemption_reason,
            Some(ExemptionReason::PriorServiceOver12Months)
        );
    }

    #[test]
    fn prior_service_is_reported_even_when_exempt_for_another_reason() {
        let service = [period(d(2008, 9, 1), Some(d(2008, 12, 31)))];
        let out = run(d(2009, 1, 1), &service, &[], d(2020, 1, 1));
        assert_eq!(
            out.exemption_reason,
            Some(ExemptionReason::AppointedBeforeSeptember2009)
        );
        assert_eq!(out.prior_service_days, 122);
    }

    // ---- rule 4 ------------------------------------------------------------------------

    #[test]
    fn deadline_is_third_anniversary_of_appointment() {
        assert_eq!(third_anniversary(d(2023, 4, 17)), d(2026, 4, 17));
        let out = run(d(2023, 4, 17), &[], &[], d(2023, 4, 17));
        assert_eq!(out.deadline, Some(d(2026, 4, 17)));
        assert_eq!(out.days_remaining, Some(1096));
    }

    #[test]
    fn appointment_on_29_february_has_deadline_1_march_in_a_non_leap_year() {
        assert_eq!(third_anniversary(d(2024, 2, 29)), d(2027, 3, 1));
        let out = run(d(2024, 2, 29), &[], &[], d(2027, 3, 1));
        assert_eq!(out.deadline, Some(d(2027, 3, 1)));
        assert_eq!(out.status, QualificationStatus::NotStarted);
        assert_eq!(out.days_remaining, Some(0));
    }

    #[test]
    fn anniversary_of_28_february_is_28_february_and_29_february_always_moves_to_1_march() {
        // Three years after a leap year is never a leap year, so every 29 February
        // appointment moves, including across a century.
        assert_eq!(third_anniversary(d(2023, 2, 28)), d(2026, 2, 28));
        assert_eq!(third_anniversary(d(2096, 2, 29)), d(2099, 3, 1));
    }

    #[test]
    fn deadline_day_itself_is_not_overdue() {
        let out = run(d(2023, 9, 4), &[], &[], d(2026, 9, 4));
        assert_eq!(out.status, QualificationStatus::NotStarted);
        assert_eq!(out.days_remaining, Some(0));
    }

    #[test]
    fn day_after_the_deadline_is_overdue_with_negative_days_remaining() {
        let out = run(d(2023, 9, 4), &[], &[], d(2026, 9, 5));
        assert_eq!(out.status, QualificationStatus::Overdue);
        assert_eq!(out.days_remaining, Some(-1));
        let later = run(d(2023, 9, 4), &[], &[], d(2026, 10, 4));
        assert_eq!(later.days_remaining, Some(-30));
    }

    // ---- rule 5 ------------------------------------------------------------------------

    #[test]
    fn nasenco_started_31_august_2024_counts_but_1_september_2024_never_does() {
        assert!(counts_toward_duty(
            Nasenco,
            d(2024, 8, 31),
            Some(d(2025, 7, 1))
        ));
        assert!(!counts_toward_duty(
            Nasenco,
            d(2024, 9, 1),
            Some(d(2025, 7, 1))
        ));
    }

    #[test]
    fn nasenco_completed_31_august_2027_counts_but_1_september_2027_does_not() {
        assert!(counts_toward_duty(
            Nasenco,
            d(2024, 1, 1),
            Some(d(2027, 8, 31))
        ));
        assert!(!counts_toward_duty(
            Nasenco,
            d(2024, 1, 1),
            Some(d(2027, 9, 1))
        ));
    }

    #[test]
    fn npq_started_31_august_2024_never_counts_but_1_september_2024_does() {
        assert!(!counts_toward_duty(
            NpqSenco,
            d(2024, 8, 31),
            Some(d(2025, 12, 1))
        ));
        assert!(counts_toward_duty(
            NpqSenco,
            d(2024, 9, 1),
            Some(d(2025, 12, 1))
        ));
    }

    #[test]
    fn npq_has_no_completion_cut_off() {
        assert!(counts_toward_duty(
            NpqSenco,
            d(2030, 1, 1),
            Some(d(2040, 1, 1))
        ));
    }

    #[test]
    fn an_uncompleted_course_never_counts() {
        assert!(!counts_toward_duty(Nasenco, d(2023, 1, 1), None));
        assert!(!counts_toward_duty(NpqSenco, d(2025, 1, 1), None));
    }

    // ---- rule 6 ------------------------------------------------------------------------

    #[test]
    fn qualification_completed_before_the_appointment_counts() {
        let quals = [qual(7, Nasenco, d(2015, 9, 1), Some(d(2016, 7, 1)))];
        let out = run(d(2020, 1, 6), &[], &quals, d(2020, 1, 6));
        assert_eq!(out.status, QualificationStatus::Qualified);
        assert_eq!(out.qualifying_award, Some(7));
        assert_eq!(out.days_remaining, Some(1096));
    }

    #[test]
    fn qualified_once_completed_on_or_before_as_of() {
        let quals = [qual(3, NpqSenco, d(2024, 10, 1), Some(d(2026, 3, 1)))];
        let before = run(d(2024, 9, 2), &[], &quals, d(2026, 2, 28));
        assert_eq!(before.status, QualificationStatus::InTraining);
        assert_eq!(before.qualifying_award, None);
        let on = run(d(2024, 9, 2), &[], &quals, d(2026, 3, 1));
        assert_eq!(on.status, QualificationStatus::Qualified);
        assert_eq!(on.qualifying_award, Some(3));
    }

    #[test]
    fn qualification_completed_after_the_deadline_still_clears_overdue_once_held() {
        let quals = [qual(4, NpqSenco, d(2025, 1, 1), Some(d(2028, 6, 1)))];
        let overdue = run(d(2025, 1, 6), &[], &quals, d(2028, 2, 1));
        assert_eq!(overdue.status, QualificationStatus::Overdue);
        let held = run(d(2025, 1, 6), &[], &quals, d(2028, 6, 1));
        assert_eq!(held.status, QualificationStatus::Qualified);
    }

    #[test]
    fn qualifying_award_is_the_earliest_completed_counting_course() {
        let quals = [
            qual(9, NpqSenco, d(2024, 9, 1), Some(d(2026, 1, 1))),
            qual(5, Nasenco, d(2023, 1, 1), Some(d(2025, 1, 1))),
            // Does not count: NASENCO begun too late.
            qual(1, Nasenco, d(2024, 9, 1), Some(d(2024, 12, 1))),
        ];
        let out = run(d(2024, 1, 1), &[], &quals, d(2026, 6, 1));
        assert_eq!(out.qualifying_award, Some(5));
    }

    #[test]
    fn in_training_when_a_course_that_could_count_is_under_way() {
        let quals = [qual(1, NpqSenco, d(2025, 9, 1), None)];
        let out = run(d(2025, 4, 22), &[], &quals, d(2025, 9, 1));
        assert_eq!(out.status, QualificationStatus::InTraining);
    }

    #[test]
    fn not_started_before_the_course_start_date() {
        let quals = [qual(1, NpqSenco, d(2025, 9, 1), None)];
        let out = run(d(2025, 4, 22), &[], &quals, d(2025, 8, 31));
        assert_eq!(out.status, QualificationStatus::NotStarted);
    }

    #[test]
    fn not_started_when_the_only_course_can_never_count() {
        // An NPQ begun before the NPQ route opened can never count.
        let quals = [qual(1, NpqSenco, d(2024, 6, 1), None)];
        let out = run(d(2024, 1, 8), &[], &quals, d(2025, 1, 1));
        assert_eq!(out.status, QualificationStatus::NotStarted);
    }

    #[test]
    fn nasenco_in_progress_stops_being_training_on_1_september_2027() {
        let quals = [qual(1, Nasenco, d(2024, 8, 31), None)];
        let start = d(2025, 1, 6); // deadline 6 Jan 2028
        assert_eq!(
            run(start, &[], &quals, d(2027, 8, 31)).status,
            QualificationStatus::InTraining
        );
        assert_eq!(
            run(start, &[], &quals, d(2027, 9, 1)).status,
            QualificationStatus::NotStarted
        );
    }

    #[test]
    fn course_completed_later_than_as_of_is_still_under_way() {
        let quals = [qual(1, Nasenco, d(2024, 1, 1), Some(d(2025, 7, 1)))];
        let out = run(d(2024, 1, 8), &[], &quals, d(2025, 6, 30));
        assert_eq!(out.status, QualificationStatus::InTraining);
    }

    #[test]
    fn overdue_takes_precedence_over_training() {
        let quals = [qual(1, NpqSenco, d(2025, 1, 1), None)];
        let out = run(d(2024, 9, 2), &[], &quals, d(2027, 9, 3));
        assert_eq!(out.status, QualificationStatus::Overdue);
        assert_eq!(out.days_remaining, Some(-1));
    }

    #[test]
    fn exempt_appointment_still_reports_a_held_award() {
        let quals = [qual(2, Nasenco, d(2012, 1, 1), Some(d(2013, 1, 1)))];
        let out = run(d(2008, 1, 1), &[], &quals, d(2020, 1, 1));
        assert_eq!(out.status, QualificationStatus::Exempt);
        assert_eq!(out.qualifying_award, Some(2));
    }

    // ---- rule 7 ------------------------------------------------------------------------

    #[test]
    fn appointment_is_current_from_its_start_through_its_last_day() {
        let start = d(2024, 1, 1);
        let end = Some(d(2024, 12, 31));
        assert!(!is_current_on(start, end, d(2023, 12, 31)));
        assert!(is_current_on(start, end, d(2024, 1, 1)));
        assert!(is_current_on(start, end, d(2024, 12, 31)));
        assert!(!is_current_on(start, end, d(2025, 1, 1)));
        assert!(is_current_on(start, None, d(2099, 1, 1)));
    }
}
