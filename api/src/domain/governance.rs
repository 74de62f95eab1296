//! The governing body's side of SEN oversight (SPEC 4.10): SENCO-governor meetings and the
//! actions agreed at them, the SEN action plan, the governing body's sign-off of the
//! school's SEN documents, the termly track record, and the compliance checks of SPEC 4.7
//! that follow from them.
//!
//! The governing body of a maintained school, or the proprietor (the trust board) of an
//! academy, must have regard to the SEND Code of Practice, which asks it to keep the
//! school's SEN provision under review (Code of Practice 6.2 - 6.3) and to publish the SEN
//! information report (SEND Regulations 2014 reg 51; Code of Practice 6.79). The product
//! asks for a meeting between the SENCO and the SEN governor each term, actions with an
//! owner and a date, and a recorded sign-off of each document the board answers for.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};

use super::compliance::{Issue, Severity, codes};
use super::terms::AcademicTerm;

/// The statement a sign-off records when the board gives none of its own: written for this
/// product, declaring the document accurate and compliant on the day it was signed.
pub const STANDARD_STATEMENT: &str = "Having read this document, the governing board \
     confirms that on the date of this sign-off it gives a true and accurate account of the \
     school's provision for pupils with special educational needs and disabilities, and that \
     it meets the requirements of the legislation then in force and the duties that apply to \
     a school of this status.";

/// Days after a termly report's due date within which the board should sign it off (SPEC
/// 4.7, `TERMLY_REPORT_NOT_SIGNED_OFF`).
pub const SIGN_OFF_DAYS_AFTER_DUE: u64 = 28;

/// Most attendees and agenda items a meeting records.
pub const MAX_LIST: usize = 50;
/// Longest name, role, agenda title, owner or area.
pub const NAME_CHARS: usize = 200;
/// Longest key points, description, success criteria, monitoring or evaluation.
pub const TEXT_CHARS: usize = 10_000;
/// Longest sign-off statement.
pub const STATEMENT_CHARS: usize = 2_000;
/// Most hours of staff time an action may budget.
pub const MAX_TIME_HOURS: f64 = 10_000.0;
/// How far ahead an action's due date may be set.
const PLAN_AHEAD_DAYS: u64 = 5 * 366;
/// How far after a meeting the next one may be planned.
const NEXT_MEETING_WITHIN_DAYS: u64 = 2 * 366;

macro_rules! stored_enum {
    ($(#[$doc:meta])* $t:ident { $($(#[$vdoc:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $t {
            $($(#[$vdoc])* $v),*
        }

        impl $t {
            /// Every value, in the order the GraphQL enum lists them.
            pub const ALL: &'static [Self] = &[$(Self::$v),*];

            /// The stable wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }

            /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

stored_enum!(
    /// A document the governing body signs off.
    GovernanceDocument {
        /// The SENCO's termly report to governors (one version of it).
        TermlyReport = "TERMLY_REPORT",
        /// The SEN information report the school publishes (reg 51).
        SenInformationReport = "SEN_INFORMATION_REPORT",
        /// The school's SEN policy.
        SenPolicy = "SEN_POLICY",
    }
);

stored_enum!(
    /// In what capacity a governor or trustee signed.
    SignOffRole {
        /// The chair of the governing body.
        Chair = "CHAIR",
        /// The governor with responsibility for SEN.
        SenGovernor = "SEN_GOVERNOR",
        /// A trustee of the academy trust.
        Trustee = "TRUSTEE",
        /// Anyone else the board authorised.
        Other = "OTHER",
    }
);

stored_enum!(
    /// Where an agreed action stands.
    ActionStatus {
        /// Still to do.
        Open = "OPEN",
        /// Done.
        Done = "DONE",
        /// No longer pursued.
        Dropped = "DROPPED",
    }
);

/// Someone at a meeting: a name (private to the school's and trust's readers) and a role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attendee {
    /// Their name.
    pub name: String,
    /// Their role, such as "SENCO" or "SEN governor".
    pub role: String,
}

/// One item of a meeting's agenda: a title, and the key points noted (private to the
/// school's and trust's readers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgendaItem {
    /// The item's title.
    pub title: String,
    /// What was said and agreed; `None` when nothing was noted.
    pub key_points: Option<String>,
}

/// A meeting's next date: after the meeting and within two years of it.
pub fn next_meeting_on(held_on: NaiveDate, next: NaiveDate) -> Result<NaiveDate, String> {
    let latest = held_on
        .checked_add_days(Days::new(NEXT_MEETING_WITHIN_DAYS))
        .unwrap_or(NaiveDate::MAX);
    if next <= held_on {
        Err("must be after the meeting (heldOn)".to_owned())
    } else if next > latest {
        Err("must be within two years of the meeting".to_owned())
    } else {
        Ok(next)
    }
}

/// An action's due date: planned ahead or passed, from 1970 to five years from `today`.
pub fn due_on(d: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    let earliest = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = today
        .checked_add_days(Days::new(PLAN_AHEAD_DAYS))
        .unwrap_or(NaiveDate::MAX);
    if d < earliest || d > latest {
        Err("must be between 1970-01-01 and five years from today".to_owned())
    } else {
        Ok(d)
    }
}

/// Staff time an action budgets: finite, from 0 to 10,000 hours.
pub fn time_hours(v: f64) -> Result<f64, String> {
    if v.is_finite() && (0.0..=MAX_TIME_HOURS).contains(&v) {
        Ok(v)
    } else {
        Err("must be a number of hours from 0 to 10000".to_owned())
    }
}

/// The completion date an action stores with `status`: none while it is open (a date given
/// then is an error, for the field `completedOn`), and the day it was done or dropped
/// otherwise, `today` when none is given.
pub fn settle(
    status: ActionStatus,
    completed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, String> {
    match (status, completed_on) {
        (ActionStatus::Open, Some(_)) => {
            Err("must be empty while the action is open (status OPEN)".to_owned())
        }
        (ActionStatus::Open, None) => Ok(None),
        (_, Some(d)) => Ok(Some(d)),
        (_, None) => Ok(Some(today)),
    }
}

/// Whether an action was open on `d`: still open, or done or dropped after that day.
pub fn open_on(status: ActionStatus, completed_on: Option<NaiveDate>, d: NaiveDate) -> bool {
    match status {
        ActionStatus::Open => true,
        ActionStatus::Done | ActionStatus::Dropped => completed_on.is_some_and(|c| c > d),
    }
}

/// SPEC 4.10: an action is overdue on `t` when it is open and its due date is before `t`
/// (the due day itself is still in time).
pub fn is_overdue(status: ActionStatus, due_on: NaiveDate, t: NaiveDate) -> bool {
    status == ActionStatus::Open && due_on < t
}

/// Whether an action agreed at a meeting on `agreed_on` is carried forward to a meeting held
/// on `held_on`: the later meeting finds it still open (SPEC 4.10, `carriedForward`). Actions
/// of the SEN action plan belong to no meeting and are never carried forward.
pub fn carried_forward_to(
    agreed_on: NaiveDate,
    status: ActionStatus,
    completed_on: Option<NaiveDate>,
    held_on: NaiveDate,
) -> bool {
    agreed_on < held_on && open_on(status, completed_on, held_on)
}

/// What a sign-off binds, as the currency rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOffFacts {
    /// The document.
    pub document: GovernanceDocument,
    /// The report's term, for a termly report.
    pub term: Option<AcademicTerm>,
    /// The report version signed, for a termly report.
    pub report_version: Option<i32>,
    /// The document's date, for a SEN information report or policy.
    pub document_date: Option<NaiveDate>,
    /// The day it was signed.
    pub signed_on: NaiveDate,
}

/// SPEC 4.10: whether a sign-off is still current. A termly report sign-off binds one
/// version and is current while that version is the latest (`latest_version` of its term).
/// A SEN information report or policy sign-off binds the document's date and is current
/// until a termly report states a later date for that document (`latest_reported`: the date
/// in the school's latest report, `None` when it states none).
pub fn is_current(
    s: &SignOffFacts,
    latest_version: Option<i32>,
    latest_reported: Option<NaiveDate>,
) -> bool {
    match s.document {
        GovernanceDocument::TermlyReport => {
            s.report_version.is_some() && s.report_version == latest_version
        }
        GovernanceDocument::SenInformationReport | GovernanceDocument::SenPolicy => {
            match (s.document_date, latest_reported) {
                (Some(signed), Some(reported)) => signed >= reported,
                (Some(_), None) => true,
                (None, _) => false,
            }
        }
    }
}

/// The term whose report `TERMLY_REPORT_NOT_SIGNED_OFF` looks at on `t`: the latest term
/// whose report has been due for more than 28 days. (From the report's due date to 28
/// days after it, the term before is the one looked at, so a report is never unwatched.)
pub fn sign_off_term(t: NaiveDate) -> AcademicTerm {
    let mut term = AcademicTerm::containing(t).previous();
    while !sign_off_overdue(term, t) {
        term = term.previous();
    }
    term
}

fn sign_off_overdue(term: AcademicTerm, t: NaiveDate) -> bool {
    let by = term
        .due_on()
        .checked_add_days(Days::new(SIGN_OFF_DAYS_AFTER_DUE))
        .unwrap_or(NaiveDate::MAX);
    t > by
}

/// The first day from which a meeting counts for `NO_SEN_GOVERNOR_MEETING` on `t`: the
/// start of the term before the one containing `t`.
pub fn meetings_count_from(t: NaiveDate) -> NaiveDate {
    AcademicTerm::containing(t).previous().starts_on()
}

/// What a termly report says that the governance checks compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportFacts {
    /// Its term.
    pub term: AcademicTerm,
    /// The SENCO's non-contact hours a week.
    pub non_contact_hours_per_week: f64,
    /// Pupils with SEND.
    pub pupils_with_send: i32,
    /// When the SEN information report was last published, as reported.
    pub sen_information_report_published_on: Option<NaiveDate>,
}

/// Everything [`issues`] looks at for one school, on the day of the checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GovernanceFacts {
    /// The latest SENCO-governor meeting held on or before the day.
    pub last_meeting_on: Option<NaiveDate>,
    /// The due dates of the school's open actions.
    pub open_actions_due: Vec<NaiveDate>,
    /// The latest version of the school's report for [`sign_off_term`] of the day, when it
    /// reported for that term.
    pub report_for_sign_off: Option<(AcademicTerm, i32)>,
    /// The school's sign-offs of that report and of its SEN information report.
    pub sign_offs: Vec<SignOffFacts>,
    /// The school's latest report (latest term, latest version).
    pub latest_report: Option<ReportFacts>,
    /// The latest version of its report for the same term a year before that one.
    pub same_term_last_year: Option<ReportFacts>,
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The governance checks of SPEC 4.7 for one school as of `as_of`, in a fixed order.
pub fn issues(f: &GovernanceFacts, urn: i32, as_of: NaiveDate) -> Vec<Issue> {
    let urn = Some(urn);
    let mut out = Vec::new();
    let signed = |s: &&SignOffFacts| s.signed_on <= as_of;

    if let Some((term, version)) = f.report_for_sign_off {
        let current = f.sign_offs.iter().filter(signed).any(|s| {
            s.document == GovernanceDocument::TermlyReport
                && s.term == Some(term)
                && is_current(s, Some(version), None)
        });
        if !current {
            out.push(Issue::new(
                codes::TERMLY_REPORT_NOT_SIGNED_OFF,
                Severity::Advisory,
                urn,
                format!(
                    "The governing body has not signed off the current version ({version}) of \
                     the termly report for the {term}, due on {}; a sign-off is expected \
                     within 28 days of the due date.",
                    day(term.due_on())
                ),
            ));
        }
    }

    // SEND Regulations 2014 reg 51 makes the SEN information report the governing body's
    // (or proprietor's) to publish, so the board should have approved the version in use.
    if let Some(published) = f
        .latest_report
        .and_then(|r| r.sen_information_report_published_on)
    {
        let current = f.sign_offs.iter().filter(signed).any(|s| {
            s.document == GovernanceDocument::SenInformationReport
                && is_current(s, None, Some(published))
        });
        if !current {
            out.push(Issue::new(
                codes::SEN_INFORMATION_REPORT_NOT_SIGNED_OFF,
                Severity::Guidance,
                urn,
                format!(
                    "The SEN information report published on {} has no sign-off by the \
                     governing body for that version (SEND Regulations 2014, reg 51).",
                    day(published)
                ),
            ));
        }
    }

    let overdue = f
        .open_actions_due
        .iter()
        .filter(|due| is_overdue(ActionStatus::Open, **due, as_of))
        .count();
    if overdue > 0 {
        out.push(Issue::new(
            codes::GOVERNANCE_ACTIONS_OVERDUE,
            Severity::Advisory,
            urn,
            format!(
                "{overdue} action(s) agreed with the governing body are open past their due \
                 date."
            ),
        ));
    }

    let this_term = AcademicTerm::containing(as_of);
    let since = meetings_count_from(as_of);
    if !f.last_meeting_on.is_some_and(|d| d >= since && d <= as_of) {
        out.push(Issue::new(
            codes::NO_SEN_GOVERNOR_MEETING,
            Severity::Advisory,
            urn,
            format!(
                "No meeting of the SENCO with the SEN governor is recorded in the {} or the {}; \
                 good practice is to meet each term.",
                this_term,
                this_term.previous()
            ),
        ));
    }

    // Code of Practice 6.91: the SENCO needs sufficient time to carry out the role.
    if let (Some(now), Some(then)) = (f.latest_report, f.same_term_last_year)
        && then.term == now.term.same_term_last_year()
        && now.non_contact_hours_per_week < then.non_contact_hours_per_week
        && now.pupils_with_send > then.pupils_with_send
    {
        out.push(Issue::new(
            codes::SENCO_TIME_CUT_WHILE_NEED_ROSE,
            Severity::Advisory,
            urn,
            format!(
                "The SENCO's non-contact time fell from {} to {} hours a week between the {} \
                 and the {}, while pupils with SEND rose from {} to {} (Code of Practice 6.91).",
                then.non_contact_hours_per_week,
                now.non_contact_hours_per_week,
                then.term,
                now.term,
                then.pupils_with_send,
                now.pupils_with_send
            ),
        ));
    }
    out
}

/// A termly report's figures, as the track record compares them.
#[derive(Debug, Clone, Copy, PartialEq)]
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
    /// E1 + E2 + E3 + additional, pence.
    pub budget_total_pence: i64,
    /// Spent so far, pence.
    pub expenditure_pence: i64,
    /// The SENCO's non-contact hours a week.
    pub non_contact_hours_per_week: f64,
}

fn per_roll(n: f64, roll: i32) -> Option<f64> {
    (roll > 0).then(|| n * 100.0 / f64::from(roll))
}

impl Figures {
    /// Budget total less expenditure, pence (negative when overspent).
    pub fn budget_remaining_pence(&self) -> i64 {
        self.budget_total_pence - self.expenditure_pence
    }
    /// SEN support per 100 on roll; `None` with no pupils on roll.
    pub fn sen_support_percent(&self) -> Option<f64> {
        per_roll(f64::from(self.sen_support), self.number_on_roll)
    }
    /// EHC plans per 100 on roll; `None` with no pupils on roll.
    pub fn ehcp_percent(&self) -> Option<f64> {
        per_roll(f64::from(self.ehcp), self.number_on_roll)
    }
    /// The SENCO's non-contact hours a week per 100 on roll; `None` with no pupils on roll.
    pub fn non_contact_hours_per_100_pupils(&self) -> Option<f64> {
        per_roll(self.non_contact_hours_per_week, self.number_on_roll)
    }
}

/// How one term's figures differ from another's (this minus that); each `None` when either
/// term has no report or the figure cannot be worked out for either. Percentages change
/// in percentage points.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Change {
    pub number_on_roll: Option<i64>,
    pub pupils_with_send: Option<i64>,
    pub sen_support: Option<i64>,
    pub ehcp: Option<i64>,
    pub ehcp_applications_in_process: Option<i64>,
    pub budget_total_pence: Option<i64>,
    pub expenditure_pence: Option<i64>,
    pub budget_remaining_pence: Option<i64>,
    pub non_contact_hours_per_week: Option<f64>,
    pub sen_support_percent: Option<f64>,
    pub ehcp_percent: Option<f64>,
    pub non_contact_hours_per_100_pupils: Option<f64>,
}

/// `now` minus `then`, figure by figure.
pub fn change(now: Option<&Figures>, then: Option<&Figures>) -> Change {
    let (Some(a), Some(b)) = (now, then) else {
        return Change::default();
    };
    let int = |f: fn(&Figures) -> i32| Some(i64::from(f(a)) - i64::from(f(b)));
    let opt = |f: fn(&Figures) -> Option<f64>| Some(f(a)? - f(b)?);
    Change {
        number_on_roll: int(|f| f.number_on_roll),
        pupils_with_send: int(|f| f.pupils_with_send),
        sen_support: int(|f| f.sen_support),
        ehcp: int(|f| f.ehcp),
        ehcp_applications_in_process: int(|f| f.ehcp_applications_in_process),
        budget_total_pence: Some(a.budget_total_pence - b.budget_total_pence),
        expenditure_pence: Some(a.expenditure_pence - b.expenditure_pence),
        budget_remaining_pence: Some(a.budget_remaining_pence() - b.budget_remaining_pence()),
        non_contact_hours_per_week: Some(
            a.non_contact_hours_per_week - b.non_contact_hours_per_week,
        ),
        sen_support_percent: opt(Figures::sen_support_percent),
        ehcp_percent: opt(Figures::ehcp_percent),
        non_contact_hours_per_100_pupils: opt(Figures::non_contact_hours_per_100_pupils),
    }
}

/// One term of a school's track record.
#[derive(Debug, Clone, PartialEq)]
pub struct TermFigures {
    /// The term.
    pub term: AcademicTerm,
    /// The latest version of its report and that version's figures; `None` when the school
    /// did not report for the term.
    pub report: Option<(i32, Figures)>,
    /// The change on the term before.
    pub on_previous_term: Change,
    /// The change on the same term a year before.
    pub on_same_term_last_year: Change,
}

/// Most terms a track record covers (ten academic years).
pub const MAX_TRACK_TERMS: u32 = 30;

/// The last term a track record on `today` covers: the latest that has ended.
pub fn track_record_ends(today: NaiveDate) -> AcademicTerm {
    AcademicTerm::containing(today).previous()
}

/// The terms whose reports a track record of `terms` terms ending with `last` reads: from
/// the same term a year before its first term, to `last`.
pub fn track_record_reads(last: AcademicTerm, terms: u32) -> (AcademicTerm, AcademicTerm) {
    let mut first = last;
    for _ in 1..terms.max(1) {
        first = first.previous();
    }
    (first.same_term_last_year(), last)
}

/// SPEC 4.10 `trackRecord`: the `terms` terms ending with `last`, oldest first, each with
/// its latest report's figures (from `reported`, by term) and the change on the term before
/// and on the same term a year before.
pub fn track_record(
    reported: &HashMap<AcademicTerm, (i32, Figures)>,
    last: AcademicTerm,
    terms: u32,
) -> Vec<TermFigures> {
    let mut out = Vec::new();
    let mut term = last;
    for _ in 0..terms.max(1) {
        let now = reported.get(&term).map(|(_, f)| f);
        out.push(TermFigures {
            term,
            report: reported.get(&term).copied(),
            on_previous_term: change(now, reported.get(&term.previous()).map(|(_, f)| f)),
            on_same_term_last_year: change(
                now,
                reported.get(&term.same_term_last_year()).map(|(_, f)| f),
            ),
        });
        term = term.previous();
    }
    out.reverse();
    out
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::terms::Term;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn codes_of(issues: &[Issue]) -> Vec<&'static str> {
        issues.iter().map(|i| i.code).collect()
    }

    fn at(year: i32, term: Term) -> AcademicTerm {
        AcademicTerm::new(year, term)
    }

    #[test]
    fn stored_names_round_trip() {
        for v in GovernanceDocument::ALL {
            assert_eq!(GovernanceDocument::parse(v.as_str()), Some(*v));
        }
        for v in SignOffRole::ALL {
            assert_eq!(SignOffRole::parse(v.as_str()), Some(*v));
        }
        for v in ActionStatus::ALL {
            assert_eq!(ActionStatus::parse(v.as_str()), Some(*v));
        }
        assert_eq!(ActionStatus::parse("open"), None);
    }

    #[test]
    fn an_action_is_overdue_from_the_day_after_it_was_due_while_open() {
        let due = d(2026, 3, 1);
        assert!(!is_overdue(ActionStatus::Open, due, due));
        assert!(is_overdue(ActionStatus::Open, due, d(2026, 3, 2)));
        assert!(!is_overdue(ActionStatus::Done, due, d(2026, 3, 2)));
        assert!(!is_overdue(ActionStatus::Dropped, due, d(2026, 3, 2)));
    }

    #[test]
    fn an_open_action_has_no_completion_date_and_a_closed_one_always_has() {
        let today = d(2026, 5, 1);
        assert_eq!(settle(ActionStatus::Open, None, today), Ok(None));
        assert!(settle(ActionStatus::Open, Some(today), today).is_err());
        assert_eq!(settle(ActionStatus::Done, None, today), Ok(Some(today)));
        assert_eq!(
            settle(ActionStatus::Dropped, Some(d(2026, 4, 2)), today),
            Ok(Some(d(2026, 4, 2)))
        );
    }

    #[test]
    fn an_action_is_carried_forward_to_each_later_meeting_that_finds_it_open() {
        let agreed = d(2025, 10, 1);
        for (status, done, held, carried) in [
            (ActionStatus::Open, None, d(2026, 2, 1), true),
            (ActionStatus::Open, None, agreed, false),
            (ActionStatus::Open, None, d(2025, 9, 1), false),
            (ActionStatus::Done, Some(d(2026, 3, 1)), d(2026, 2, 1), true),
            (
                ActionStatus::Done,
                Some(d(2026, 2, 1)),
                d(2026, 2, 1),
                false,
            ),
            (
                ActionStatus::Dropped,
                Some(d(2026, 1, 5)),
                d(2026, 2, 1),
                false,
            ),
        ] {
            assert_eq!(
                carried_forward_to(agreed, status, done, held),
                carried,
                "{status:?} {done:?} {held}"
            );
        }
    }

    #[test]
    fn a_report_sign_off_is_current_only_for_the_latest_version() {
        let s = SignOffFacts {
            document: GovernanceDocument::TermlyReport,
            term: Some(at(2025, Term::Autumn)),
            report_version: Some(1),
            document_date: None,
            signed_on: d(2026, 1, 20),
        };
        assert!(is_current(&s, Some(1), None));
        assert!(!is_current(&s, Some(2), None), "amended since");
        assert!(!is_current(&s, None, None));
    }

    #[test]
    fn a_document_sign_off_is_current_until_a_later_date_is_reported() {
        let s = SignOffFacts {
            document: GovernanceDocument::SenInformationReport,
            term: None,
            report_version: None,
            document_date: Some(d(2025, 9, 15)),
            signed_on: d(2025, 9, 10),
        };
        assert!(is_current(&s, None, None), "nothing reported yet");
        assert!(is_current(&s, None, Some(d(2025, 9, 15))));
        assert!(is_current(&s, None, Some(d(2025, 9, 1))));
        assert!(!is_current(&s, None, Some(d(2025, 9, 16))));
    }

    #[test]
    fn the_sign_off_check_looks_at_a_report_from_28_days_after_its_due_date() {
        // Summer 2026 is due on 14 September 2026; it is looked at from 13 October.
        let summer = at(2025, Term::Summer);
        assert_eq!(summer.due_on(), d(2026, 9, 14));
        assert_eq!(sign_off_term(d(2026, 10, 13)), summer);
        assert_eq!(sign_off_term(d(2026, 10, 12)), at(2025, Term::Spring));
        assert_eq!(sign_off_term(d(2026, 9, 1)), at(2025, Term::Spring));
        assert_eq!(sign_off_term(d(2027, 2, 12)), at(2026, Term::Autumn));
        assert_eq!(sign_off_term(d(2027, 2, 11)), summer);
    }

    fn report(term: AcademicTerm, hours: f64, send: i32) -> ReportFacts {
        ReportFacts {
            term,
            non_contact_hours_per_week: hours,
            pupils_with_send: send,
            sen_information_report_published_on: Some(d(2025, 9, 15)),
        }
    }

    /// A school in good order on 1 November 2026.
    fn governed() -> GovernanceFacts {
        let summer = at(2025, Term::Summer);
        GovernanceFacts {
            last_meeting_on: Some(d(2026, 6, 10)),
            open_actions_due: vec![d(2026, 12, 1)],
            report_for_sign_off: Some((summer, 2)),
            sign_offs: vec![
                SignOffFacts {
                    document: GovernanceDocument::TermlyReport,
                    term: Some(summer),
                    report_version: Some(2),
                    document_date: None,
                    signed_on: d(2026, 9, 30),
                },
                SignOffFacts {
                    document: GovernanceDocument::SenInformationReport,
                    term: None,
                    report_version: None,
                    document_date: Some(d(2025, 9, 15)),
                    signed_on: d(2025, 9, 10),
                },
            ],
            latest_report: Some(report(summer, 6.0, 40)),
            same_term_last_year: Some(report(at(2024, Term::Summer), 6.0, 35)),
        }
    }

    fn as_of() -> NaiveDate {
        d(2026, 11, 1)
    }

    #[test]
    fn a_school_in_good_order_raises_nothing() {
        assert!(issues(&governed(), 100_001, as_of()).is_empty());
    }

    #[test]
    fn an_amended_report_needs_signing_off_again() {
        let f = GovernanceFacts {
            report_for_sign_off: Some((at(2025, Term::Summer), 3)),
            ..governed()
        };
        let found = issues(&f, 100_001, as_of());
        assert_eq!(codes_of(&found), [codes::TERMLY_REPORT_NOT_SIGNED_OFF]);
        assert_eq!(found[0].severity, Severity::Advisory);
        assert!(
            found[0].message.contains("version (3)"),
            "{}",
            found[0].message
        );
        assert!(found[0].message.contains("14 September 2026"));
    }

    #[test]
    fn a_sign_off_recorded_after_the_day_of_the_checks_does_not_count() {
        // The summer report was signed off on 30 September.
        let codes = codes_of(&issues(&governed(), 100_001, d(2026, 9, 29)));
        assert!(
            codes.contains(&codes::TERMLY_REPORT_NOT_SIGNED_OFF),
            "{codes:?}"
        );
        let codes = codes_of(&issues(&governed(), 100_001, d(2026, 9, 30)));
        assert!(
            !codes.contains(&codes::TERMLY_REPORT_NOT_SIGNED_OFF),
            "{codes:?}"
        );
    }

    #[test]
    fn a_newer_sen_information_report_needs_a_sign_off_of_its_own() {
        let mut f = governed();
        f.latest_report = f.latest_report.map(|r| ReportFacts {
            sen_information_report_published_on: Some(d(2026, 9, 20)),
            ..r
        });
        let found = issues(&f, 100_001, as_of());
        assert_eq!(
            codes_of(&found),
            [codes::SEN_INFORMATION_REPORT_NOT_SIGNED_OFF]
        );
        assert_eq!(found[0].severity, Severity::Guidance);
        assert!(found[0].message.contains("20 September 2026"));
    }

    #[test]
    fn overdue_actions_are_counted_in_one_issue() {
        let f = GovernanceFacts {
            open_actions_due: vec![d(2026, 10, 1), d(2026, 10, 31), d(2026, 11, 1)],
            ..governed()
        };
        let found = issues(&f, 100_001, as_of());
        assert_eq!(codes_of(&found), [codes::GOVERNANCE_ACTIONS_OVERDUE]);
        assert!(
            found[0].message.starts_with("2 action(s)"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_meeting_in_this_term_or_the_last_is_enough() {
        for (met, flagged) in [
            (None, true),
            (Some(d(2026, 3, 31)), true),
            (Some(d(2026, 4, 1)), false),
            (Some(d(2026, 10, 5)), false),
            (Some(d(2026, 11, 2)), true),
        ] {
            let f = GovernanceFacts {
                last_meeting_on: met,
                ..governed()
            };
            let codes = codes_of(&issues(&f, 100_001, as_of()));
            assert_eq!(
                codes == [codes::NO_SEN_GOVERNOR_MEETING],
                flagged,
                "{met:?}: {codes:?}"
            );
        }
    }

    #[test]
    fn senco_time_cut_while_need_rose_is_flagged_but_not_either_alone() {
        for (hours, send, flagged) in [
            (5.0, 41, true),
            (5.0, 35, false),
            (5.0, 30, false),
            (6.0, 50, false),
            (7.0, 50, false),
        ] {
            let f = GovernanceFacts {
                latest_report: Some(report(at(2025, Term::Summer), hours, send)),
                ..governed()
            };
            let codes = codes_of(&issues(&f, 100_001, as_of()));
            assert_eq!(
                codes == [codes::SENCO_TIME_CUT_WHILE_NEED_ROSE],
                flagged,
                "{hours} {send}: {codes:?}"
            );
        }
    }

    #[test]
    fn the_next_meeting_follows_the_meeting() {
        let held = d(2026, 2, 10);
        assert!(next_meeting_on(held, held).is_err());
        assert!(next_meeting_on(held, d(2026, 6, 1)).is_ok());
        assert!(next_meeting_on(held, d(2029, 6, 1)).is_err());
    }

    fn figures(roll: i32, send: i32, hours: f64) -> Figures {
        Figures {
            number_on_roll: roll,
            pupils_with_send: send,
            sen_support: send - 2,
            ehcp: 2,
            ehcp_applications_in_process: 1,
            budget_total_pence: 100_000,
            expenditure_pence: 40_000,
            non_contact_hours_per_week: hours,
        }
    }

    #[test]
    fn the_track_record_runs_oldest_first_with_changes_on_the_term_before_and_the_year_before() {
        let last = at(2025, Term::Summer);
        let mut reported = HashMap::new();
        reported.insert(at(2024, Term::Summer), (1, figures(200, 30, 5.0)));
        reported.insert(at(2025, Term::Spring), (2, figures(210, 32, 5.0)));
        reported.insert(last, (1, figures(220, 40, 4.0)));
        let (from, to) = track_record_reads(last, 3);
        assert_eq!((from, to), (at(2024, Term::Autumn), last));
        let record = track_record(&reported, last, 3);
        let terms: Vec<AcademicTerm> = record.iter().map(|t| t.term).collect();
        assert_eq!(
            terms,
            [at(2025, Term::Autumn), at(2025, Term::Spring), last]
        );
        assert_eq!(record[0].report, None);
        assert_eq!(record[0].on_previous_term, Change::default());
        let summer = &record[2];
        assert_eq!(summer.on_previous_term.pupils_with_send, Some(8));
        assert_eq!(summer.on_same_term_last_year.pupils_with_send, Some(10));
        assert_eq!(summer.on_same_term_last_year.number_on_roll, Some(20));
        assert_eq!(
            summer.on_same_term_last_year.non_contact_hours_per_week,
            Some(-1.0)
        );
        let per_100 = summer
            .on_same_term_last_year
            .non_contact_hours_per_100_pupils
            .unwrap();
        assert!((per_100 - (400.0 / 220.0 - 500.0 / 200.0)).abs() < 1e-9);
        assert_eq!(track_record_ends(d(2026, 11, 1)), last);
    }

    #[test]
    fn percentages_need_pupils_on_roll() {
        let f = figures(0, 0, 3.0);
        assert_eq!(f.sen_support_percent(), None);
        assert_eq!(f.non_contact_hours_per_100_pupils(), None);
        assert_eq!(
            change(Some(&f), Some(&figures(100, 10, 3.0))).sen_support_percent,
            None
        );
        assert_eq!(figures(200, 30, 5.0).ehcp_percent(), Some(1.0));
    }
}
