//! Checks on shared-SENCO clusters (SPEC 4.6; SEND Code of Practice 6.92 - 6.94).
//!
//! The Code allows small schools, typically small primaries, to share a SENCO, provided the
//! arrangement is sound: the SENCO must still be each school's own designated SENCO, have
//! enough time across the schools, not be tied down by heavy class teaching or the
//! headship, and the arrangement should be reviewed regularly. These checks turn that into
//! [`Issue`]s from plain facts; gathering the facts is the store's job.

use chrono::{Months, NaiveDate};

use super::compliance::{Issue, Severity, codes};

/// Configurable limits for the cluster checks (SPEC 4.6: "configuration with these
/// defaults").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterThresholds {
    /// Class teaching above this fraction of the week is significant.
    pub max_class_teaching_fraction: f64,
    /// Non-contact SENCO hours a week needed per 100 pupils on the combined roll.
    pub min_hours_per_100_pupils: f64,
    /// A member with more pupils than this is not a small school.
    pub small_primary_max_roll: i32,
}

impl Default for ClusterThresholds {
    fn default() -> Self {
        Self {
            max_class_teaching_fraction: 0.2,
            min_hours_per_100_pupils: 2.5,
            small_primary_max_roll: 210,
        }
    }
}

/// The cluster SENCO's current appointment at one member school.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemberAppointment {
    pub is_headteacher: bool,
    /// `None` when not recorded; not flagged.
    pub class_teaching_fraction: Option<f64>,
    /// `None` when not recorded; counts as no time (see [`cluster_issues`]).
    pub non_contact_hours_per_week: Option<f64>,
    /// The appointment's qualification status is `OVERDUE` on the day of the checks.
    pub qualification_overdue: bool,
}

/// One member school of a cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterMemberFacts {
    pub urn: i32,
    /// The school's phase is primary.
    pub is_primary: bool,
    pub number_on_roll: Option<i32>,
    /// The cluster SENCO's current appointment at this member, if any.
    pub senco_appointment: Option<MemberAppointment>,
}

/// Everything [`cluster_issues`] looks at for one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterFacts {
    pub started_on: NaiveDate,
    pub last_reviewed_on: Option<NaiveDate>,
    pub review_interval_months: i32,
    pub members: Vec<ClusterMemberFacts>,
}

/// Sums of hours are compared with a little slack so that, say, 0.7 + 0.1 hours entered by
/// a user is not judged short of a 0.8-hour requirement by binary rounding.
const HOURS_TOLERANCE: f64 = 1e-9;

/// When the arrangement is next due for review: `months` calendar months after the last
/// review, or after the start if it has never been reviewed. A day missing from the target
/// month clamps to its last day (31 January + 1 month is 28 or 29 February). A negative
/// interval is treated as zero; dates beyond chrono's range saturate.
pub fn next_review_due(
    started_on: NaiveDate,
    last_reviewed_on: Option<NaiveDate>,
    months: i32,
) -> NaiveDate {
    let from = last_reviewed_on.unwrap_or(started_on);
    let months = u32::try_from(months).unwrap_or(0);
    from.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// Formats a number for a message without spurious precision: 12.5, 5, 0.25.
fn num(x: f64) -> String {
    format!("{}", (x * 100.0).round() / 100.0)
}

/// The SPEC 4.6 checks as of `as_of`: member checks in member order, then the cluster-wide
/// ones (with no school). Call [`super::compliance::sort_issues`] to rank them.
pub fn cluster_issues(f: &ClusterFacts, as_of: NaiveDate, th: &ClusterThresholds) -> Vec<Issue> {
    let mut issues = Vec::new();

    for m in &f.members {
        let urn = Some(m.urn);
        match m.senco_appointment {
            // Children and Families Act 2014 s.67(2): each school designates its own SENCO,
            // shared or not, so a member without the appointment has no SENCO of record.
            None => issues.push(Issue::new(
                codes::SENCO_NOT_APPOINTED_AT_MEMBER,
                Severity::Statutory,
                urn,
                format!(
                    "The cluster SENCO holds no current SENCO appointment at member school {}; \
                     each school sharing a SENCO must still designate them as its own SENCO \
                     (Children and Families Act 2014 s.67(2)).",
                    m.urn
                ),
            )),
            Some(a) => {
                // Reg 49(3) allows a head to be SENCO, but spread across several schools the
                // headship leaves too little time for the role (Code 6.91, 6.92 - 6.94).
                if a.is_headteacher {
                    issues.push(Issue::new(
                        codes::SENCO_IS_HEADTEACHER,
                        Severity::Guidance,
                        urn,
                        format!(
                            "The cluster SENCO is the headteacher of member school {}; a shared \
                             SENCO also carrying a headship is unlikely to have the time the role \
                             needs (Code of Practice 6.91 - 6.94).",
                            m.urn
                        ),
                    ));
                }
                // Exactly at the threshold is acceptable: the rule is "above".
                if let Some(fraction) = a.class_teaching_fraction
                    && fraction > th.max_class_teaching_fraction
                {
                    issues.push(Issue::new(
                        codes::SIGNIFICANT_CLASS_TEACHING,
                        Severity::Guidance,
                        urn,
                        format!(
                            "The cluster SENCO teaches a class for {}% of the week at member \
                             school {}, above the {}% a shared SENCO can combine with the role \
                             (Code of Practice 6.92 - 6.94).",
                            num(fraction * 100.0),
                            m.urn,
                            num(th.max_class_teaching_fraction * 100.0)
                        ),
                    ));
                }
                if a.qualification_overdue {
                    issues.push(Issue::new(
                        codes::QUALIFICATION_OVERDUE,
                        Severity::Statutory,
                        urn,
                        format!(
                            "The cluster SENCO's deadline for the mandatory SENCO qualification \
                             at member school {} has passed without it (SEND Regulations 2014, \
                             reg 49(4)).",
                            m.urn
                        ),
                    ));
                }
            }
        }

        // Sharing is meant for small schools, typically small primaries (Code 6.92 - 6.94).
        // An unknown roll is not held against the school.
        let over_roll = m
            .number_on_roll
            .filter(|&roll| roll > th.small_primary_max_roll);
        if !m.is_primary || over_roll.is_some() {
            let why = match (m.is_primary, over_roll) {
                (false, Some(roll)) => format!(
                    "is not a primary school and has {roll} pupils on roll, more than {}",
                    th.small_primary_max_roll
                ),
                (false, None) => "is not a primary school".to_owned(),
                (true, Some(roll)) => format!(
                    "has {roll} pupils on roll, more than {}",
                    th.small_primary_max_roll
                ),
                (true, None) => String::new(),
            };
            issues.push(Issue::new(
                codes::MEMBER_NOT_SMALL_PRIMARY,
                Severity::Advisory,
                Some(m.urn),
                format!(
                    "Member school {} {why}; shared SENCO arrangements are meant for small \
                     primary schools (Code of Practice 6.92 - 6.94).",
                    m.urn
                ),
            ));
        }
    }

    // Code 6.91: the SENCO needs sufficient time. Hours not recorded count as none: time that
    // is not on record cannot be shown to be enough, and flagging it prompts the record.
    // Members with an unknown roll add no pupils, so the requirement is never overstated.
    let appointments = f.members.iter().filter_map(|m| m.senco_appointment);
    let hours: f64 = appointments
        .clone()
        .filter_map(|a| a.non_contact_hours_per_week)
        .sum();
    let unrecorded = appointments
        .filter(|a| a.non_contact_hours_per_week.is_none())
        .count();
    let roll: i64 = f
        .members
        .iter()
        .filter_map(|m| m.number_on_roll)
        .map(i64::from)
        .sum();
    // Roll sizes are far below 2^53, so the conversion is exact.
    let required = th.min_hours_per_100_pupils * roll as f64 / 100.0;
    if hours + HOURS_TOLERANCE < required {
        let note = if unrecorded > 0 {
            format!(" ({unrecorded} member appointment(s) have no hours recorded)")
        } else {
            String::new()
        };
        issues.push(Issue::new(
            codes::INSUFFICIENT_TIME,
            Severity::Guidance,
            None,
            format!(
                "The cluster SENCO has {} non-contact hours a week across the member \
                 schools{note}, below the {} hours ({} per 100 pupils) needed for a combined \
                 roll of {roll} (Code of Practice 6.91).",
                num(hours),
                num(required),
                num(th.min_hours_per_100_pupils)
            ),
        ));
    }

    // The due day itself is still in time.
    let due = next_review_due(f.started_on, f.last_reviewed_on, f.review_interval_months);
    if as_of > due {
        issues.push(Issue::new(
            codes::REVIEW_OVERDUE,
            Severity::Guidance,
            None,
            format!(
                "The shared SENCO arrangement was due for review on {} (Code of Practice \
                 6.92 - 6.94).",
                due.format("%-d %B %Y")
            ),
        ));
    }

    issues
}

/// Longest review interval accepted, in months.
pub const MAX_REVIEW_INTERVAL_MONTHS: i32 = 60;
/// Most member schools in one cluster.
pub const MAX_MEMBERS: usize = 50;

/// The member list's shape: two or more schools (a cluster shares a SENCO between
/// schools, Code 6.92), none twice, not absurdly many.
pub fn member_list(urns: &[i32]) -> Result<(), String> {
    if urns.len() < 2 {
        return Err("a cluster needs two or more member schools".to_owned());
    }
    if urns.len() > MAX_MEMBERS {
        return Err(format!(
            "a cluster may have at most {MAX_MEMBERS} member schools"
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for u in urns {
        if !seen.insert(*u) {
            return Err(format!("school {u} is listed more than once"));
        }
    }
    Ok(())
}

/// A cluster's dates and review interval, as of `today`; on failure the field at fault
/// (`lastReviewedOn`, `reviewIntervalMonths` or `endedOn`) and why.
pub fn cluster_dates(
    started_on: NaiveDate,
    last_reviewed_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    interval: i32,
    today: NaiveDate,
) -> Result<(), (&'static str, String)> {
    // A review recorded in the future would hold REVIEW_OVERDUE off indefinitely.
    if last_reviewed_on.is_some_and(|r| r > today) {
        return Err(("lastReviewedOn", "must not be in the future".to_owned()));
    }
    if !(1..=MAX_REVIEW_INTERVAL_MONTHS).contains(&interval) {
        return Err((
            "reviewIntervalMonths",
            format!("must be between 1 and {MAX_REVIEW_INTERVAL_MONTHS}"),
        ));
    }
    if last_reviewed_on.is_some_and(|r| r < started_on) {
        return Err((
            "lastReviewedOn",
            "must not be before the cluster started".to_owned(),
        ));
    }
    if ended_on.is_some_and(|e| e < started_on) {
        return Err((
            "endedOn",
            "must not be before the cluster started".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn sound_appointment() -> MemberAppointment {
        MemberAppointment {
            is_headteacher: false,
            class_teaching_fraction: Some(0.0),
            non_contact_hours_per_week: Some(5.0),
            qualification_overdue: false,
        }
    }

    fn member(urn: i32, roll: i32) -> ClusterMemberFacts {
        ClusterMemberFacts {
            urn,
            is_primary: true,
            number_on_roll: Some(roll),
            senco_appointment: Some(sound_appointment()),
        }
    }

    /// Two primaries of 100 pupils each, 5 hours at each: 10 hours against 5 needed.
    fn sound_cluster() -> ClusterFacts {
        ClusterFacts {
            started_on: d(2025, 1, 6),
            last_reviewed_on: None,
            review_interval_months: 12,
            members: vec![member(100_001, 100), member(100_002, 100)],
        }
    }

    fn as_of() -> NaiveDate {
        d(2025, 6, 1)
    }

    fn issues_of(f: &ClusterFacts) -> Vec<Issue> {
        cluster_issues(f, as_of(), &ClusterThresholds::default())
    }

    fn codes_of(f: &ClusterFacts) -> Vec<(&'static str, Option<i32>)> {
        issues_of(f)
            .iter()
            .map(|i| (i.code, i.school_urn))
            .collect()
    }

    fn with_appointment(f: &mut ClusterFacts, i: usize, a: MemberAppointment) {
        f.members[i].senco_appointment = Some(a);
    }

    #[test]
    fn default_thresholds_are_those_of_the_spec() {
        let th = ClusterThresholds::default();
        assert_eq!(th.max_class_teaching_fraction, 0.2);
        assert_eq!(th.min_hours_per_100_pupils, 2.5);
        assert_eq!(th.small_primary_max_roll, 210);
    }

    #[test]
    fn sound_cluster_has_no_issues() {
        assert!(issues_of(&sound_cluster()).is_empty());
    }

    #[test]
    fn member_without_the_senco_appointed_is_a_statutory_breach() {
        let mut f = sound_cluster();
        f.members[1].senco_appointment = None;
        f.members[0].senco_appointment = Some(MemberAppointment {
            non_contact_hours_per_week: Some(10.0),
            ..sound_appointment()
        });
        let issues = issues_of(&f);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, codes::SENCO_NOT_APPOINTED_AT_MEMBER);
        assert_eq!(issues[0].severity, Severity::Statutory);
        assert_eq!(issues[0].school_urn, Some(100_002));
    }

    #[test]
    fn senco_who_is_headteacher_at_a_member_is_flagged_there() {
        let mut f = sound_cluster();
        with_appointment(
            &mut f,
            0,
            MemberAppointment {
                is_headteacher: true,
                ..sound_appointment()
            },
        );
        let issues = issues_of(&f);
        assert_eq!(
            codes_of(&f),
            vec![(codes::SENCO_IS_HEADTEACHER, Some(100_001))]
        );
        assert_eq!(issues[0].severity, Severity::Guidance);
    }

    #[test]
    fn class_teaching_of_exactly_a_fifth_is_not_significant_but_more_is() {
        let mut f = sound_cluster();
        let teaching = |fraction| MemberAppointment {
            class_teaching_fraction: Some(fraction),
            ..sound_appointment()
        };
        with_appointment(&mut f, 0, teaching(0.2));
        assert!(issues_of(&f).is_empty());
        with_appointment(&mut f, 0, teaching(0.21));
        let issues = issues_of(&f);
        assert_eq!(
            codes_of(&f),
            vec![(codes::SIGNIFICANT_CLASS_TEACHING, Some(100_001))]
        );
        assert_eq!(issues[0].severity, Severity::Guidance);
        assert!(issues[0].message.contains("21%"), "{}", issues[0].message);
    }

    #[test]
    fn unrecorded_class_teaching_is_not_flagged() {
        let mut f = sound_cluster();
        with_appointment(
            &mut f,
            0,
            MemberAppointment {
                class_teaching_fraction: None,
                ..sound_appointment()
            },
        );
        assert!(issues_of(&f).is_empty());
    }

    #[test]
    fn overdue_qualification_at_a_member_is_a_statutory_breach() {
        let mut f = sound_cluster();
        with_appointment(
            &mut f,
            1,
            MemberAppointment {
                qualification_overdue: true,
                ..sound_appointment()
            },
        );
        let issues = issues_of(&f);
        assert_eq!(
            codes_of(&f),
            vec![(codes::QUALIFICATION_OVERDUE, Some(100_002))]
        );
        assert_eq!(issues[0].severity, Severity::Statutory);
    }

    #[test]
    fn roll_of_210_is_small_and_211_is_not() {
        let mut f = sound_cluster();
        f.members[0].number_on_roll = Some(210);
        assert!(issues_of(&f).is_empty());
        f.members[0].number_on_roll = Some(211);
        let issues = issues_of(&f);
        assert_eq!(
            codes_of(&f),
            vec![(codes::MEMBER_NOT_SMALL_PRIMARY, Some(100_001))]
        );
        assert_eq!(issues[0].severity, Severity::Advisory);
        assert!(issues[0].message.contains("211 pupils"));
    }

    #[test]
    fn member_that_is_not_primary_is_flagged_even_with_unknown_roll() {
        let mut f = sound_cluster();
        f.members[1].is_primary = false;
        f.members[1].number_on_roll = None;
        assert_eq!(
            codes_of(&f),
            vec![(codes::MEMBER_NOT_SMALL_PRIMARY, Some(100_002))]
        );
    }

    #[test]
    fn primary_with_unknown_roll_is_not_flagged_as_large() {
        let mut f = sound_cluster();
        f.members[1].number_on_roll = None;
        assert!(issues_of(&f).is_empty());
    }

    #[test]
    fn hours_exactly_at_the_threshold_are_sufficient_and_a_little_less_is_not() {
        // Combined roll 400 needs 10 hours; the SENCO has 5 + 5.
        let mut f = sound_cluster();
        f.members[0].number_on_roll = Some(200);
        f.members[1].number_on_roll = Some(200);
        assert!(issues_of(&f).is_empty());
        with_appointment(
            &mut f,
            1,
            MemberAppointment {
                non_contact_hours_per_week: Some(4.9),
                ..sound_appointment()
            },
        );
        let issues = issues_of(&f);
        assert_eq!(codes_of(&f), vec![(codes::INSUFFICIENT_TIME, None)]);
        assert_eq!(issues[0].severity, Severity::Guidance);
        assert!(issues[0].message.contains("9.9 non-contact hours"));
        assert!(issues[0].message.contains("below the 10 hours"));
    }

    #[test]
    fn hours_summing_to_the_threshold_are_not_lost_to_rounding() {
        // 0.7 + 0.1 is 0.7999999999999999 in binary; 32 pupils need 0.8 hours.
        let mut f = sound_cluster();
        f.members[0].number_on_roll = Some(16);
        f.members[1].number_on_roll = Some(16);
        with_appointment(
            &mut f,
            0,
            MemberAppointment {
                non_contact_hours_per_week: Some(0.7),
                ..sound_appointment()
            },
        );
        with_appointment(
            &mut f,
            1,
            MemberAppointment {
                non_contact_hours_per_week: Some(0.1),
                ..sound_appointment()
            },
        );
        assert!(issues_of(&f).is_empty());
    }

    #[test]
    fn unrecorded_hours_count_as_none() {
        let mut f = sound_cluster();
        for i in 0..2 {
            with_appointment(
                &mut f,
                i,
                MemberAppointment {
                    non_contact_hours_per_week: None,
                    ..sound_appointment()
                },
            );
        }
        let issues = issues_of(&f);
        assert_eq!(codes_of(&f), vec![(codes::INSUFFICIENT_TIME, None)]);
        assert!(issues[0].message.contains("2 member appointment(s)"));
    }

    #[test]
    fn no_known_roll_needs_no_time() {
        let mut f = sound_cluster();
        for m in &mut f.members {
            m.number_on_roll = None;
            m.senco_appointment = Some(MemberAppointment {
                non_contact_hours_per_week: None,
                ..sound_appointment()
            });
        }
        assert!(issues_of(&f).is_empty());
    }

    #[test]
    fn review_falls_due_interval_months_after_the_last_review_or_the_start() {
        assert_eq!(next_review_due(d(2025, 1, 6), None, 12), d(2026, 1, 6));
        assert_eq!(
            next_review_due(d(2025, 1, 6), Some(d(2025, 3, 10)), 6),
            d(2025, 9, 10)
        );
    }

    #[test]
    fn review_due_date_clamps_to_the_end_of_a_shorter_month() {
        assert_eq!(next_review_due(d(2025, 1, 31), None, 1), d(2025, 2, 28));
        assert_eq!(next_review_due(d(2024, 1, 31), None, 1), d(2024, 2, 29));
        assert_eq!(next_review_due(d(2024, 2, 29), None, 12), d(2025, 2, 28));
    }

    #[test]
    fn negative_review_interval_is_treated_as_zero() {
        assert_eq!(next_review_due(d(2025, 1, 6), None, -3), d(2025, 1, 6));
    }

    #[test]
    fn review_due_day_is_not_overdue_and_the_day_after_is() {
        let f = sound_cluster(); // due 6 January 2026
        let th = ClusterThresholds::default();
        assert!(cluster_issues(&f, d(2026, 1, 6), &th).is_empty());
        let issues = cluster_issues(&f, d(2026, 1, 7), &th);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, codes::REVIEW_OVERDUE);
        assert_eq!(issues[0].severity, Severity::Guidance);
        assert_eq!(issues[0].school_urn, None);
        assert!(issues[0].message.contains("6 January 2026"));
    }

    #[test]
    fn thresholds_are_configurable() {
        let mut f = sound_cluster();
        f.members[0].number_on_roll = Some(150);
        with_appointment(
            &mut f,
            0,
            MemberAppointment {
                class_teaching_fraction: Some(0.3),
                ..sound_appointment()
            },
        );
        let lenient = ClusterThresholds {
            max_class_teaching_fraction: 0.5,
            min_hours_per_100_pupils: 1.0,
            small_primary_max_roll: 100,
        };
        let issues = cluster_issues(&f, as_of(), &lenient);
        let got: Vec<_> = issues.iter().map(|i| (i.code, i.school_urn)).collect();
        assert_eq!(got, vec![(codes::MEMBER_NOT_SMALL_PRIMARY, Some(100_001))]);
    }
}
