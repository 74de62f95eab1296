//! Compliance issues: the shared [`Issue`] and [`Severity`] types, and the school checks of
//! SPEC 4.7. Cluster checks (SPEC 4.6) live in [`super::clusters`] and produce the same
//! [`Issue`]s so that both can be listed, filtered and sorted together.
//!
//! Severity says where a duty comes from: `STATUTORY` for the Children and Families Act 2014
//! and the SEND Regulations 2014, `GUIDANCE` for the SEND Code of Practice (which schools
//! must have regard to), and `ADVISORY` for good practice the product asks for.

use chrono::{Months, NaiveDate};

use super::projection::{Projection, ProjectionOutcome};
use super::qualification::QualificationStatus;
use super::terms::AcademicTerm;

/// The stable issue codes reported in `ComplianceIssue.code`.
pub mod codes {
    pub const NO_SENCO: &str = "NO_SENCO";
    pub const SENCO_NOT_ELIGIBLE: &str = "SENCO_NOT_ELIGIBLE";
    pub const QUALIFICATION_OVERDUE: &str = "QUALIFICATION_OVERDUE";
    pub const TERMLY_REPORT_MISSING: &str = "TERMLY_REPORT_MISSING";
    pub const SEN_INFORMATION_REPORT_OUT_OF_DATE: &str = "SEN_INFORMATION_REPORT_OUT_OF_DATE";
    pub const SEN_POLICY_REVIEW_OVERDUE: &str = "SEN_POLICY_REVIEW_OVERDUE";
    pub const BUDGET_OVERSPENT: &str = "BUDGET_OVERSPENT";
    pub const SENCO_NOT_ON_SLT: &str = "SENCO_NOT_ON_SLT";
    pub const SENCO_NOT_APPOINTED_AT_MEMBER: &str = "SENCO_NOT_APPOINTED_AT_MEMBER";
    pub const SENCO_IS_HEADTEACHER: &str = "SENCO_IS_HEADTEACHER";
    pub const SIGNIFICANT_CLASS_TEACHING: &str = "SIGNIFICANT_CLASS_TEACHING";
    pub const INSUFFICIENT_TIME: &str = "INSUFFICIENT_TIME";
    pub const REVIEW_OVERDUE: &str = "REVIEW_OVERDUE";
    pub const MEMBER_NOT_SMALL_PRIMARY: &str = "MEMBER_NOT_SMALL_PRIMARY";
    pub const QUALIFICATION_AT_RISK: &str = "QUALIFICATION_AT_RISK";
    pub const QUALIFICATION_CANNOT_BE_MET: &str = "QUALIFICATION_CANNOT_BE_MET";
    pub const SENCO_EVIDENCE_NOT_CHECKED: &str = "SENCO_EVIDENCE_NOT_CHECKED";
    pub const TERMLY_REPORT_NOT_SIGNED_OFF: &str = "TERMLY_REPORT_NOT_SIGNED_OFF";
    pub const SEN_INFORMATION_REPORT_NOT_SIGNED_OFF: &str = "SEN_INFORMATION_REPORT_NOT_SIGNED_OFF";
    pub const GOVERNANCE_ACTIONS_OVERDUE: &str = "GOVERNANCE_ACTIONS_OVERDUE";
    pub const NO_SEN_GOVERNOR_MEETING: &str = "NO_SEN_GOVERNOR_MEETING";
    pub const SENCO_TIME_CUT_WHILE_NEED_ROSE: &str = "SENCO_TIME_CUT_WHILE_NEED_ROSE";
}

/// How binding the rule behind an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Breaches a duty in primary or secondary legislation.
    Statutory,
    /// Departs from the SEND Code of Practice.
    Guidance,
    /// Falls short of good practice.
    Advisory,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Self; 3] = [Self::Statutory, Self::Guidance, Self::Advisory];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Statutory => "STATUTORY",
            Self::Guidance => "GUIDANCE",
            Self::Advisory => "ADVISORY",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Sort key, lowest first: statutory 0, guidance 1, advisory 2. A rank rather than a
    /// derived `Ord`, so that nobody has to remember whether "greater" means "worse".
    pub fn rank(self) -> u8 {
        match self {
            Self::Statutory => 0,
            Self::Guidance => 1,
            Self::Advisory => 2,
        }
    }
}

/// One finding about a school or a cluster. Messages never name a person: issue lists are
/// read across a whole LA, and the person is one click away for those allowed to see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// One of the constants in [`codes`].
    pub code: &'static str,
    pub severity: Severity,
    /// The school the issue is about; `None` for a cluster-wide issue.
    pub school_urn: Option<i32>,
    pub message: String,
}

impl Issue {
    pub fn new(
        code: &'static str,
        severity: Severity,
        school_urn: Option<i32>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            severity,
            school_urn,
            message: message.into(),
        }
    }
}

/// Most severe first, then by school (cluster-wide issues, with no school, first), then by
/// code, so that lists and pages are stable from one request to the next.
pub fn sort_issues(issues: &mut [Issue]) {
    issues.sort_by(|a, b| {
        (a.severity.rank(), a.school_urn, a.code).cmp(&(b.severity.rank(), b.school_urn, b.code))
    });
}

/// One issue, with the cluster it concerns when it comes from a cluster check.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundIssue {
    /// The issue.
    pub issue: Issue,
    /// The cluster, for cluster checks.
    pub cluster_id: Option<i64>,
}

impl FoundIssue {
    /// Most severe first, then school (cluster-wide first), code, cluster: a total order,
    /// so pages are stable from one request to the next.
    pub fn sort_key(&self) -> (u8, i32, &'static str, i64) {
        (
            self.issue.severity.rank(),
            self.issue.school_urn.unwrap_or(i32::MIN),
            self.issue.code,
            self.cluster_id.unwrap_or(0),
        )
    }
}

/// The checks of one cluster active on the day asked about (SPEC 4.6).
#[derive(Debug, Clone)]
pub struct ClusterChecks {
    /// The cluster.
    pub id: i64,
    /// Its name, which prefixes each message.
    pub name: String,
    /// Its issues, cluster-wide and per member.
    pub issues: Vec<Issue>,
}

/// One list of issues from the school checks and the checks of the clusters active that
/// day, sorted by [`FoundIssue::sort_key`]: a cluster issue is kept when `keep` accepts its
/// school (`None` for a cluster-wide issue), so that a reader sees a cluster's problems at
/// the schools in view (and the cluster-wide ones when wanted), never the details of a
/// member out of view. Each cluster message is prefixed with the cluster's name.
pub fn gather(
    school_issues: impl IntoIterator<Item = Issue>,
    clusters: impl IntoIterator<Item = ClusterChecks>,
    keep: impl Fn(Option<i32>) -> bool,
) -> Vec<FoundIssue> {
    let mut out: Vec<FoundIssue> = school_issues
        .into_iter()
        .map(|issue| FoundIssue {
            issue,
            cluster_id: None,
        })
        .collect();
    // Each fact once (SPEC 4.7): a cluster check that restates a school check (the same
    // code at the same school, such as the cluster's SENCO overdue there) is left out.
    let stated: std::collections::HashSet<(&'static str, Option<i32>)> = out
        .iter()
        .filter(|f| f.issue.school_urn.is_some())
        .map(|f| (f.issue.code, f.issue.school_urn))
        .collect();
    for c in clusters {
        for issue in c.issues {
            if keep(issue.school_urn) && !stated.contains(&(issue.code, issue.school_urn)) {
                out.push(FoundIssue {
                    issue: with_cluster_name(issue, &c.name),
                    cluster_id: Some(c.id),
                });
            }
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// Prefixes a cluster check's message with the cluster's name, so a list mixing several
/// clusters' issues says which is which.
fn with_cluster_name(mut issue: Issue, name: &str) -> Issue {
    issue.message = format!("Cluster \u{201c}{name}\u{201d}: {}", issue.message);
    issue
}

/// What the school checks need to know about one current SENCO appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppointmentFacts {
    /// Meets SEND Regulations 2014 reg 49(2) or (3) (see [`super::eligibility`]).
    pub eligible: bool,
    /// As of the same day as the checks (see [`super::qualification::evaluate`]).
    pub qualification_status: QualificationStatus,
    pub on_senior_leadership_team: bool,
    /// The projection on the same day (see [`super::projection::project`]).
    pub projection: ProjectionOutcome,
    /// Whether the SENCO's QTS or counting award needs confirming and no evidence check has
    /// confirmed it by the day (see [`super::evidence::unconfirmed`]).
    pub evidence_unconfirmed: bool,
}

/// What the school checks need from the school's latest termly report (latest term, latest
/// version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestReportFacts {
    pub sen_information_report_published_on: Option<NaiveDate>,
    pub sen_policy_date: Option<NaiveDate>,
    pub overspent: bool,
}

/// Everything [`school_issues`] looks at for one school.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolFacts {
    pub urn: i32,
    /// A relevant school in the sense of SPEC 4.1 (mainstream or maintained nursery).
    pub is_relevant: bool,
    /// The SENCO appointments current on the day of the checks.
    pub current_appointments: Vec<AppointmentFacts>,
    /// Whether a report exists for [`AcademicTerm::latest_due_by`] the day of the checks.
    pub has_report_for_latest_due_term: bool,
    /// `None` when the school has never submitted a termly report.
    pub latest_report: Option<LatestReportFacts>,
    /// What the governance checks look at (SPEC 4.10).
    pub governance: super::governance::GovernanceFacts,
}

/// `date` minus whole calendar years, clamping 29 February to 28 February. Saturates at
/// chrono's minimum, which no real date approaches.
fn years_before(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN)
}

/// The SPEC 4.7 checks for one school as of `as_of`, in a fixed order (call [`sort_issues`]
/// to rank them).
///
/// A school with several SENCOs gets at most one `SENCO_NOT_ELIGIBLE` and one
/// `QUALIFICATION_OVERDUE`, saying how many appointments are affected: the facts carry no
/// appointment ids, so one issue per appointment would be indistinguishable duplicates, and
/// the school's action (look at its SENCO appointments) is the same either way.
pub fn school_issues(f: &SchoolFacts, as_of: NaiveDate) -> Vec<Issue> {
    let urn = Some(f.urn);
    let mut issues = Vec::new();
    let current = &f.current_appointments;

    // Children and Families Act 2014 s.67(2); Code of Practice 6.84. Only relevant schools
    // must have a SENCO.
    if f.is_relevant && current.is_empty() {
        issues.push(Issue::new(
            codes::NO_SENCO,
            Severity::Statutory,
            urn,
            "The school has no current SENCO appointment; a mainstream school or maintained \
             nursery must designate a SENCO (Children and Families Act 2014 s.67(2)).",
        ));
    }

    let ineligible = current.iter().filter(|a| !a.eligible).count();
    if ineligible > 0 {
        issues.push(Issue::new(
            codes::SENCO_NOT_ELIGIBLE,
            Severity::Statutory,
            urn,
            format!(
                "{} of {} current SENCO appointment(s) do not meet the requirements of the \
                 SEND Regulations 2014, reg 49(2) or (3): a qualified teacher with induction \
                 completed who teaches at the school, or the head teacher.",
                ineligible,
                current.len()
            ),
        ));
    }

    let overdue = current
        .iter()
        .filter(|a| a.qualification_status == QualificationStatus::Overdue)
        .count();
    if overdue > 0 {
        issues.push(Issue::new(
            codes::QUALIFICATION_OVERDUE,
            Severity::Statutory,
            urn,
            format!(
                "{} of {} current SENCO appointment(s) passed the third anniversary of \
                 appointment without the mandatory SENCO qualification (SEND Regulations \
                 2014, reg 49(4)).",
                overdue,
                current.len()
            ),
        ));
    }

    // The governors' termly report is a product requirement rather than a statutory one.
    if !f.has_report_for_latest_due_term {
        let term = AcademicTerm::latest_due_by(as_of);
        issues.push(Issue::new(
            codes::TERMLY_REPORT_MISSING,
            Severity::Advisory,
            urn,
            format!(
                "No termly SENCO report has been submitted for the {term}, which was due on {}.",
                term.due_on().format("%-d %B %Y")
            ),
        ));
    }

    // Children and Families Act 2014 s.69(2) and reg 51 require the SEN information report;
    // Code of Practice 6.79 says it should be updated annually. Exactly a year old is still
    // in date. Without any termly report there is no publication date on record, which the
    // LA cannot tell apart from none being published, so that is flagged too.
    let published = f
        .latest_report
        .and_then(|r| r.sen_information_report_published_on);
    let info_report_stale = match published {
        None => true,
        Some(date) => date < years_before(as_of, 1),
    };
    if info_report_stale {
        let message = match published {
            None => "No publication date is recorded for the school's SEN information report; it \
                     must be published and should be updated annually (Code of Practice 6.79)."
                .to_owned(),
            Some(date) => format!(
                "The SEN information report was last published on {}, more than a year ago; \
                 it should be updated annually (Code of Practice 6.79).",
                date.format("%-d %B %Y")
            ),
        };
        issues.push(Issue::new(
            codes::SEN_INFORMATION_REPORT_OUT_OF_DATE,
            Severity::Guidance,
            urn,
            message,
        ));
    }

    // No statutory cycle exists for reviewing the SEN policy; three years is the product's
    // advisory standard (SPEC 4.7). Missing dates, and schools with no report, are flagged
    // for the same reason as above.
    let policy = f.latest_report.and_then(|r| r.sen_policy_date);
    let policy_stale = match policy {
        None => true,
        Some(date) => date < years_before(as_of, 3),
    };
    if policy_stale {
        let message = match policy {
            None => "No SEN policy review date is recorded for the school.".to_owned(),
            Some(date) => format!(
                "The SEN policy was last reviewed on {}, more than three years ago.",
                date.format("%-d %B %Y")
            ),
        };
        issues.push(Issue::new(
            codes::SEN_POLICY_REVIEW_OVERDUE,
            Severity::Advisory,
            urn,
            message,
        ));
    }

    if f.latest_report.is_some_and(|r| r.overspent) {
        issues.push(Issue::new(
            codes::BUDGET_OVERSPENT,
            Severity::Advisory,
            urn,
            "The latest termly report shows SEN expenditure above the SEN budget.",
        ));
    }

    // Code of Practice 6.87: the SENCO is most effective as part of the school leadership
    // team. Only raised when there is a SENCO to speak of; a school without one already has
    // NO_SENCO, and a second issue would only repeat it.
    if !current.is_empty() && !current.iter().any(|a| a.on_senior_leadership_team) {
        issues.push(Issue::new(
            codes::SENCO_NOT_ON_SLT,
            Severity::Advisory,
            urn,
            "No current SENCO sits on the senior leadership team (Code of Practice 6.87).",
        ));
    }

    issues.extend(projection_issues(f));
    issues.extend(super::governance::issues(&f.governance, f.urn, as_of));

    issues
}

/// Long dates for messages, "1 October 2026", joined with "and" when there are several.
fn long_dates(mut dates: Vec<chrono::NaiveDate>) -> String {
    dates.sort_unstable();
    dates.dedup();
    dates
        .iter()
        .map(|d| d.format("%-d %B %Y").to_string())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The checks of SPEC 4.7 that look ahead (the projection of SPEC 4.8) and at evidence
/// (SPEC 4.9), one issue per code counting the appointments affected, as the other checks.
fn projection_issues(f: &SchoolFacts) -> Vec<Issue> {
    let urn = Some(f.urn);
    let current = &f.current_appointments;
    let mut issues = Vec::new();
    let with = |p: Projection| -> Vec<&AppointmentFacts> {
        current
            .iter()
            .filter(|a| a.projection.projection == p)
            .collect()
    };

    // Reg 49(4): nothing under way or open can finish by the deadline, so the SENCO will be
    // in breach; the message names when the breach can end at the earliest.
    let cannot = with(Projection::CannotMeet);
    if !cannot.is_empty() {
        let when: Vec<_> = cannot
            .iter()
            .filter_map(|a| a.projection.projected_qualified_on)
            .collect();
        let earliest = if when.is_empty() {
            "no cohort now open would end it".to_owned()
        } else {
            format!(
                "the earliest the SENCO could qualify is {}",
                long_dates(when)
            )
        };
        issues.push(Issue::new(
            codes::QUALIFICATION_CANNOT_BE_MET,
            Severity::Statutory,
            urn,
            format!(
                "{} of {} current SENCO appointment(s) can no longer gain the mandatory SENCO \
                 qualification by the third anniversary of appointment (SEND Regulations 2014, \
                 reg 49(4)): {earliest}.",
                cannot.len(),
                current.len()
            ),
        ));
    }

    // Code of Practice 6.85 - 6.86: the SENCO must gain the qualification within three
    // years; with one cohort left in time, registration cannot wait.
    let at_risk = with(Projection::AtRisk);
    if !at_risk.is_empty() {
        let by: Vec<_> = at_risk
            .iter()
            .filter_map(|a| a.projection.must_register_by)
            .collect();
        issues.push(Issue::new(
            codes::QUALIFICATION_AT_RISK,
            Severity::Guidance,
            urn,
            format!(
                "{} of {} current SENCO appointment(s) can meet the qualification deadline only \
                 through one NPQ for SENCOs cohort: register by {}.",
                at_risk.len(),
                current.len(),
                long_dates(by)
            ),
        ));
    }

    let unchecked = current.iter().filter(|a| a.evidence_unconfirmed).count();
    if unchecked > 0 {
        issues.push(Issue::new(
            codes::SENCO_EVIDENCE_NOT_CHECKED,
            Severity::Advisory,
            urn,
            format!(
                "{unchecked} of {} current SENCO appointment(s) hold a QTS or SENCO \
                 qualification that no evidence check has confirmed (DfE's check a teacher's \
                 record service, or the certificate).",
                current.len()
            ),
        ));
    }
    issues
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn good_appointment() -> AppointmentFacts {
        AppointmentFacts {
            eligible: true,
            qualification_status: QualificationStatus::Qualified,
            on_senior_leadership_team: true,
            projection: ProjectionOutcome {
                projection: Projection::Qualified,
                must_register_by: None,
                projected_qualified_on: None,
                latest_viable_cohort: None,
            },
            evidence_unconfirmed: false,
        }
    }

    fn good_report() -> LatestReportFacts {
        LatestReportFacts {
            sen_information_report_published_on: Some(d(2025, 9, 1)),
            sen_policy_date: Some(d(2024, 9, 1)),
            overspent: false,
        }
    }

    fn compliant_school() -> SchoolFacts {
        SchoolFacts {
            urn: 100_001,
            is_relevant: true,
            current_appointments: vec![good_appointment()],
            has_report_for_latest_due_term: true,
            latest_report: Some(good_report()),
            governance: crate::domain::governance::GovernanceFacts {
                last_meeting_on: Some(d(2026, 1, 20)),
                ..Default::default()
            },
        }
    }

    fn as_of() -> NaiveDate {
        d(2026, 2, 1)
    }

    fn codes_of(issues: &[Issue]) -> Vec<&'static str> {
        issues.iter().map(|i| i.code).collect()
    }

    #[test]
    fn severity_names_round_trip_and_rank_statutory_first() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert!(Severity::Statutory.rank() < Severity::Guidance.rank());
        assert!(Severity::Guidance.rank() < Severity::Advisory.rank());
        assert_eq!(Severity::parse("statutory"), None);
    }

    #[test]
    fn compliant_school_has_no_issues() {
        assert!(school_issues(&compliant_school(), as_of()).is_empty());
    }

    #[test]
    fn relevant_school_without_a_senco_is_a_statutory_breach() {
        let f = SchoolFacts {
            current_appointments: vec![],
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::NO_SENCO]);
        assert_eq!(issues[0].severity, Severity::Statutory);
        assert_eq!(issues[0].school_urn, Some(100_001));
    }

    #[test]
    fn school_that_is_not_relevant_needs_no_senco() {
        let f = SchoolFacts {
            is_relevant: false,
            current_appointments: vec![],
            ..compliant_school()
        };
        assert!(school_issues(&f, as_of()).is_empty());
    }

    #[test]
    fn ineligible_appointments_give_one_issue_counting_them() {
        let bad = AppointmentFacts {
            eligible: false,
            ..good_appointment()
        };
        let f = SchoolFacts {
            current_appointments: vec![bad, good_appointment(), bad],
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::SENCO_NOT_ELIGIBLE]);
        assert_eq!(issues[0].severity, Severity::Statutory);
        assert!(issues[0].message.starts_with("2 of 3 "));
    }

    #[test]
    fn overdue_qualification_is_a_statutory_breach_but_training_is_not() {
        for (status, flagged) in [
            (QualificationStatus::Overdue, true),
            (QualificationStatus::InTraining, false),
            (QualificationStatus::NotStarted, false),
            (QualificationStatus::Exempt, false),
            (QualificationStatus::Qualified, false),
        ] {
            let f = SchoolFacts {
                current_appointments: vec![AppointmentFacts {
                    qualification_status: status,
                    ..good_appointment()
                }],
                ..compliant_school()
            };
            let issues = school_issues(&f, as_of());
            assert_eq!(
                codes_of(&issues) == vec![codes::QUALIFICATION_OVERDUE],
                flagged,
                "{status:?}"
            );
        }
    }

    #[test]
    fn missing_termly_report_names_the_term_and_due_date() {
        let f = SchoolFacts {
            has_report_for_latest_due_term: false,
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::TERMLY_REPORT_MISSING]);
        assert_eq!(issues[0].severity, Severity::Advisory);
        assert!(
            issues[0].message.contains("autumn term 2025/26"),
            "{}",
            issues[0].message
        );
        assert!(issues[0].message.contains("14 January 2026"));
    }

    #[test]
    fn sen_information_report_exactly_a_year_old_is_in_date_and_a_day_older_is_not() {
        let with_published = |date| SchoolFacts {
            latest_report: Some(LatestReportFacts {
                sen_information_report_published_on: Some(date),
                ..good_report()
            }),
            ..compliant_school()
        };
        assert!(school_issues(&with_published(d(2025, 2, 1)), as_of()).is_empty());
        let issues = school_issues(&with_published(d(2025, 1, 31)), as_of());
        assert_eq!(
            codes_of(&issues),
            vec![codes::SEN_INFORMATION_REPORT_OUT_OF_DATE]
        );
        assert_eq!(issues[0].severity, Severity::Guidance);
    }

    #[test]
    fn a_year_before_29_february_is_28_february() {
        let f = SchoolFacts {
            latest_report: Some(LatestReportFacts {
                sen_information_report_published_on: Some(d(2027, 2, 28)),
                ..good_report()
            }),
            ..compliant_school()
        };
        let codes = codes_of(&school_issues(&f, d(2028, 2, 29)));
        assert!(!codes.contains(&codes::SEN_INFORMATION_REPORT_OUT_OF_DATE));
        let codes = codes_of(&school_issues(&f, d(2028, 3, 1)));
        assert!(codes.contains(&codes::SEN_INFORMATION_REPORT_OUT_OF_DATE));
    }

    #[test]
    fn missing_sen_information_report_date_is_out_of_date() {
        let f = SchoolFacts {
            latest_report: Some(LatestReportFacts {
                sen_information_report_published_on: None,
                ..good_report()
            }),
            ..compliant_school()
        };
        assert_eq!(
            codes_of(&school_issues(&f, as_of())),
            vec![codes::SEN_INFORMATION_REPORT_OUT_OF_DATE]
        );
    }

    #[test]
    fn sen_policy_exactly_three_years_old_is_in_date_and_a_day_older_is_not() {
        let with_policy = |date| SchoolFacts {
            latest_report: Some(LatestReportFacts {
                sen_policy_date: date,
                ..good_report()
            }),
            ..compliant_school()
        };
        assert!(school_issues(&with_policy(Some(d(2023, 2, 1))), as_of()).is_empty());
        let issues = school_issues(&with_policy(Some(d(2023, 1, 31))), as_of());
        assert_eq!(codes_of(&issues), vec![codes::SEN_POLICY_REVIEW_OVERDUE]);
        assert_eq!(issues[0].severity, Severity::Advisory);
        assert_eq!(
            codes_of(&school_issues(&with_policy(None), as_of())),
            vec![codes::SEN_POLICY_REVIEW_OVERDUE]
        );
    }

    #[test]
    fn school_with_no_report_at_all_is_flagged_for_both_dates() {
        let f = SchoolFacts {
            latest_report: None,
            ..compliant_school()
        };
        assert_eq!(
            codes_of(&school_issues(&f, as_of())),
            vec![
                codes::SEN_INFORMATION_REPORT_OUT_OF_DATE,
                codes::SEN_POLICY_REVIEW_OVERDUE
            ]
        );
    }

    #[test]
    fn overspent_latest_report_is_flagged() {
        let f = SchoolFacts {
            latest_report: Some(LatestReportFacts {
                overspent: true,
                ..good_report()
            }),
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::BUDGET_OVERSPENT]);
        assert_eq!(issues[0].severity, Severity::Advisory);
    }

    #[test]
    fn one_senco_on_the_slt_is_enough() {
        let off = AppointmentFacts {
            on_senior_leadership_team: false,
            ..good_appointment()
        };
        let f = SchoolFacts {
            current_appointments: vec![off, good_appointment()],
            ..compliant_school()
        };
        assert!(school_issues(&f, as_of()).is_empty());
        let f = SchoolFacts {
            current_appointments: vec![off, off],
            ..compliant_school()
        };
        assert_eq!(
            codes_of(&school_issues(&f, as_of())),
            vec![codes::SENCO_NOT_ON_SLT]
        );
    }

    #[test]
    fn school_without_a_senco_is_not_also_flagged_for_slt() {
        let f = SchoolFacts {
            is_relevant: false,
            current_appointments: vec![],
            ..compliant_school()
        };
        assert!(!codes_of(&school_issues(&f, as_of())).contains(&codes::SENCO_NOT_ON_SLT));
    }

    #[test]
    fn school_failing_every_check_gets_every_issue_once() {
        let f = SchoolFacts {
            urn: 123_456,
            is_relevant: true,
            current_appointments: vec![AppointmentFacts {
                eligible: false,
                qualification_status: QualificationStatus::Overdue,
                on_senior_leadership_team: false,
                evidence_unconfirmed: true,
                ..good_appointment()
            }],
            has_report_for_latest_due_term: false,
            latest_report: Some(LatestReportFacts {
                sen_information_report_published_on: None,
                sen_policy_date: None,
                overspent: true,
            }),
            ..compliant_school()
        };
        assert_eq!(
            codes_of(&school_issues(&f, as_of())),
            vec![
                codes::SENCO_NOT_ELIGIBLE,
                codes::QUALIFICATION_OVERDUE,
                codes::TERMLY_REPORT_MISSING,
                codes::SEN_INFORMATION_REPORT_OUT_OF_DATE,
                codes::SEN_POLICY_REVIEW_OVERDUE,
                codes::BUDGET_OVERSPENT,
                codes::SENCO_NOT_ON_SLT,
                codes::SENCO_EVIDENCE_NOT_CHECKED,
            ]
        );
    }

    fn projected(
        p: Projection,
        register_by: Option<NaiveDate>,
        qualified_on: Option<NaiveDate>,
    ) -> AppointmentFacts {
        AppointmentFacts {
            qualification_status: QualificationStatus::NotStarted,
            projection: ProjectionOutcome {
                projection: p,
                must_register_by: register_by,
                projected_qualified_on: qualified_on,
                latest_viable_cohort: None,
            },
            ..good_appointment()
        }
    }

    #[test]
    fn a_senco_who_cannot_qualify_in_time_is_a_statutory_issue_naming_the_earliest_date() {
        let f = SchoolFacts {
            current_appointments: vec![
                projected(Projection::CannotMeet, None, Some(d(2028, 9, 1))),
                good_appointment(),
            ],
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::QUALIFICATION_CANNOT_BE_MET]);
        assert_eq!(issues[0].severity, Severity::Statutory);
        assert!(
            issues[0].message.starts_with("1 of 2 "),
            "{}",
            issues[0].message
        );
        assert!(
            issues[0].message.contains("1 September 2028"),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn a_senco_with_one_cohort_left_is_at_risk_naming_the_day_to_register_by() {
        let f = SchoolFacts {
            current_appointments: vec![projected(
                Projection::AtRisk,
                Some(d(2026, 10, 1)),
                Some(d(2028, 9, 1)),
            )],
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::QUALIFICATION_AT_RISK]);
        assert_eq!(issues[0].severity, Severity::Guidance);
        assert!(
            issues[0].message.contains("register by 1 October 2026"),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn on_track_and_unknown_projections_raise_nothing() {
        for p in [Projection::OnTrack, Projection::Unknown] {
            let f = SchoolFacts {
                current_appointments: vec![projected(p, None, None)],
                ..compliant_school()
            };
            assert!(school_issues(&f, as_of()).is_empty(), "{p:?}");
        }
    }

    #[test]
    fn a_senco_whose_record_was_never_checked_is_advisory() {
        let f = SchoolFacts {
            current_appointments: vec![AppointmentFacts {
                evidence_unconfirmed: true,
                ..good_appointment()
            }],
            ..compliant_school()
        };
        let issues = school_issues(&f, as_of());
        assert_eq!(codes_of(&issues), vec![codes::SENCO_EVIDENCE_NOT_CHECKED]);
        assert_eq!(issues[0].severity, Severity::Advisory);
    }

    #[test]
    fn issues_sort_most_severe_first_then_school_then_code() {
        let mut issues = vec![
            Issue::new("B", Severity::Advisory, Some(1), ""),
            Issue::new("Z", Severity::Statutory, Some(2), ""),
            Issue::new("A", Severity::Advisory, Some(1), ""),
            Issue::new("Y", Severity::Statutory, Some(1), ""),
            Issue::new("M", Severity::Guidance, None, ""),
            Issue::new("C", Severity::Guidance, Some(1), ""),
        ];
        sort_issues(&mut issues);
        let order: Vec<_> = issues.iter().map(|i| i.code).collect();
        assert_eq!(order, vec!["Y", "Z", "M", "C", "A", "B"]);
    }
}
