//! Who may hold the SENCO post at a school (SPEC 4.3).
//!
//! The Special Educational Needs and Disability Regulations 2014, reg 49(1), require the
//! SENCO of a relevant school to meet *either* every requirement of reg 49(2) (a qualified
//! teacher who has completed any required induction and works as a teacher at the school)
//! *or* reg 49(3) (the head teacher or acting head teacher).

/// A teacher's statutory induction status, as recorded against a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InductionStatus {
    /// Induction satisfactorily completed.
    Completed,
    /// Induction started but not yet completed.
    InProgress,
    /// Induction required but not yet started.
    NotStarted,
    /// The person is not required to serve an induction period (for example QTS awarded
    /// before induction was introduced).
    NotRequired,
}

impl std::fmt::Display for InductionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl InductionStatus {
    /// Every status, in the order the GraphQL enum lists them.
    pub const ALL: [Self; 4] = [
        Self::Completed,
        Self::InProgress,
        Self::NotStarted,
        Self::NotRequired,
    ];

    /// The stable wire and storage name, e.g. `"NOT_REQUIRED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "COMPLETED",
            Self::InProgress => "IN_PROGRESS",
            Self::NotStarted => "NOT_STARTED",
            Self::NotRequired => "NOT_REQUIRED",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether this status meets reg 49(2)(b): induction is needed only "if required", so
    /// `NOT_REQUIRED` satisfies it as fully as `COMPLETED`.
    pub fn satisfies_reg_49_2_b(self) -> bool {
        matches!(self, Self::Completed | Self::NotRequired)
    }
}

/// One reason an appointment fails reg 49(2) when the holder is not the head teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EligibilityIssue {
    /// Reg 49(2)(a): the person does not hold qualified teacher status.
    NoQts,
    /// Reg 49(2)(b): a required induction period has not been completed.
    InductionNotCompleted,
    /// Reg 49(2)(c): the person is not working as a teacher at the school.
    NotTeachingAtSchool,
}

impl EligibilityIssue {
    /// The stable name reported in `eligibilityIssues`, e.g. `"NO_QTS"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoQts => "NO_QTS",
            Self::InductionNotCompleted => "INDUCTION_NOT_COMPLETED",
            Self::NotTeachingAtSchool => "NOT_TEACHING_AT_SCHOOL",
        }
    }
}

/// Every reason the appointment is not eligible; an empty list means it is eligible.
///
/// A head teacher (or acting head) satisfies reg 49(3) outright, so nothing else is looked
/// at. Otherwise every failed limb of reg 49(2) is listed, not just the first, so that a
/// school can see in one go everything it has to put right.
pub fn eligibility_issues(
    is_headteacher: bool,
    has_qts: bool,
    induction: InductionStatus,
    works_as_teacher_at_school: bool,
) -> Vec<EligibilityIssue> {
    if is_headteacher {
        return Vec::new();
    }
    let mut issues = Vec::new();
    if !has_qts {
        issues.push(EligibilityIssue::NoQts);
    }
    if !induction.satisfies_reg_49_2_b() {
        issues.push(EligibilityIssue::InductionNotCompleted);
    }
    if !works_as_teacher_at_school {
        issues.push(EligibilityIssue::NotTeachingAtSchool);
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use EligibilityIssue::*;
    use InductionStatus::*;

    #[test]
    fn qualified_inducted_teacher_at_the_school_is_eligible() {
        assert!(eligibility_issues(false, true, Completed, true).is_empty());
    }

    #[test]
    fn induction_not_required_counts_as_meeting_reg_49_2_b() {
        assert!(eligibility_issues(false, true, NotRequired, true).is_empty());
    }

    #[test]
    fn headteacher_is_eligible_without_qts_or_induction() {
        assert!(eligibility_issues(true, false, NotStarted, false).is_empty());
    }

    #[test]
    fn induction_in_progress_or_not_started_is_not_enough() {
        assert_eq!(
            eligibility_issues(false, true, InProgress, true),
            vec![InductionNotCompleted]
        );
        assert_eq!(
            eligibility_issues(false, true, NotStarted, true),
            vec![InductionNotCompleted]
        );
    }

    #[test]
    fn missing_qts_alone_is_reported() {
        assert_eq!(
            eligibility_issues(false, false, NotRequired, true),
            vec![NoQts]
        );
    }

    #[test]
    fn not_teaching_at_the_school_alone_is_reported() {
        assert_eq!(
            eligibility_issues(false, true, Completed, false),
            vec![NotTeachingAtSchool]
        );
    }

    #[test]
    fn every_failed_requirement_is_listed_in_regulation_order() {
        assert_eq!(
            eligibility_issues(false, false, InProgress, false),
            vec![NoQts, InductionNotCompleted, NotTeachingAtSchool]
        );
    }

    #[test]
    fn issue_names_match_the_contract() {
        assert_eq!(NoQts.as_str(), "NO_QTS");
        assert_eq!(InductionNotCompleted.as_str(), "INDUCTION_NOT_COMPLETED");
        assert_eq!(NotTeachingAtSchool.as_str(), "NOT_TEACHING_AT_SCHOOL");
    }

    #[test]
    fn induction_status_round_trips_through_its_name() {
        for status in InductionStatus::ALL {
            assert_eq!(InductionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Completed.as_str(), "COMPLETED");
        assert_eq!(InProgress.as_str(), "IN_PROGRESS");
        assert_eq!(InductionStatus::parse("completed"), None);
        assert_eq!(InductionStatus::parse(""), None);
    }
}
