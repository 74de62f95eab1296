//! The school calendar used for termly SENCO reports to governors (SPEC 4.5).
//!
//! An academic year is named by the calendar year in which it starts (2025 means 2025/26).
//! The product uses fixed reporting terms rather than each school's own term dates, so that
//! every school's report for a term is due on the same day and an LA can compare them:
//! autumn is 1 September - 31 December, spring 1 January - 31 March and summer
//! 1 April - 31 August. A report is due 14 days after its term ends.

use std::fmt;

use chrono::{Datelike, Days, NaiveDate};

/// Days after the end of a term by which its report is due (SPEC 4.5).
pub const REPORT_DUE_AFTER_DAYS: u64 = 14;

/// One of the three reporting terms, declared in calendar order so that the derived
/// ordering is chronological within an academic year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    Autumn,
    Spring,
    Summer,
}

impl Term {
    /// Every term, in calendar order.
    pub const ALL: [Self; 3] = [Self::Autumn, Self::Spring, Self::Summer];

    /// The stable wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Autumn => "AUTUMN",
            Self::Spring => "SPRING",
            Self::Summer => "SUMMER",
        }
    }

    /// The inverse of [`as_str`](Self::as_str); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Position within the academic year: autumn 0, spring 1, summer 2.
    pub fn index(self) -> u8 {
        match self {
            Self::Autumn => 0,
            Self::Spring => 1,
            Self::Summer => 2,
        }
    }
}

/// A term of a particular academic year; orders chronologically (year, then term).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AcademicTerm {
    /// The calendar year in which the academic year starts.
    pub academic_year: i32,
    pub term: Term,
}

/// A calendar date that saturates at chrono's limits instead of failing; only years far
/// outside anything validation admits (2009 to next year) can reach them.
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

impl AcademicTerm {
    pub fn new(academic_year: i32, term: Term) -> Self {
        Self {
            academic_year,
            term,
        }
    }

    /// The first day of the term.
    pub fn starts_on(self) -> NaiveDate {
        let y = self.academic_year;
        match self.term {
            Term::Autumn => ymd(y, 9, 1),
            Term::Spring => ymd(y.saturating_add(1), 1, 1),
            Term::Summer => ymd(y.saturating_add(1), 4, 1),
        }
    }

    /// The last day of the term (inclusive).
    pub fn ends_on(self) -> NaiveDate {
        let y = self.academic_year;
        match self.term {
            Term::Autumn => ymd(y, 12, 31),
            Term::Spring => ymd(y.saturating_add(1), 3, 31),
            Term::Summer => ymd(y.saturating_add(1), 8, 31),
        }
    }

    /// The day the term's report is due: 14 days after the term ends.
    pub fn due_on(self) -> NaiveDate {
        self.ends_on()
            .checked_add_days(Days::new(REPORT_DUE_AFTER_DAYS))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Whether the report's due date has passed on `t`. The due day itself is still in time,
    /// so it has passed only from the day after.
    pub fn is_due_by(self, t: NaiveDate) -> bool {
        t > self.due_on()
    }

    /// The term immediately before this one; the term before autumn 2025 is summer 2024.
    pub fn previous(self) -> Self {
        match self.term {
            Term::Autumn => Self::new(self.academic_year.saturating_sub(1), Term::Summer),
            Term::Spring => Self::new(self.academic_year, Term::Autumn),
            Term::Summer => Self::new(self.academic_year, Term::Spring),
        }
    }

    /// The term immediately after this one; the term after summer 2024 is autumn 2025.
    pub fn next(self) -> Self {
        match self.term {
            Term::Autumn => Self::new(self.academic_year, Term::Spring),
            Term::Spring => Self::new(self.academic_year, Term::Summer),
            Term::Summer => Self::new(self.academic_year.saturating_add(1), Term::Autumn),
        }
    }

    /// The same term one academic year earlier, for year-on-year comparisons.
    pub fn same_term_last_year(self) -> Self {
        Self::new(self.academic_year.saturating_sub(1), self.term)
    }

    /// The term in which `date` falls. Every day of the year belongs to exactly one term.
    pub fn containing(date: NaiveDate) -> Self {
        let year = date.year();
        match date.month() {
            9..=12 => Self::new(year, Term::Autumn),
            1..=3 => Self::new(year - 1, Term::Spring),
            _ => Self::new(year - 1, Term::Summer),
        }
    }

    /// The latest term whose report due date has passed on `t` (see
    /// [`is_due_by`](Self::is_due_by)): the term whose report a school should have submitted
    /// by now.
    ///
    /// The term containing `t` has not even ended. The one before it has ended, and is the
    /// answer unless we are still within its 14 days' grace; in that case the term before
    /// that is, because every term is far longer than 14 days.
    pub fn latest_due_by(t: NaiveDate) -> Self {
        let last_ended = Self::containing(t).previous();
        if last_ended.is_due_by(t) {
            last_ended
        } else {
            last_ended.previous()
        }
    }

    /// The academic year as people write it, e.g. `"2025/26"`.
    pub fn academic_year_label(self) -> String {
        let next = self.academic_year.saturating_add(1).rem_euclid(100);
        format!("{}/{next:02}", self.academic_year)
    }
}

/// Reads as people say it, e.g. "autumn term 2025/26", for messages.
impl fmt::Display for AcademicTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.term {
            Term::Autumn => "autumn",
            Term::Spring => "spring",
            Term::Summer => "summer",
        };
        write!(f, "{name} term {}", self.academic_year_label())
    }
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(year: i32, term: Term) -> AcademicTerm {
        AcademicTerm::new(year, term)
    }

    use Term::{Autumn, Spring, Summer};

    #[test]
    fn term_names_round_trip_and_index_in_calendar_order() {
        for t in Term::ALL {
            assert_eq!(Term::parse(t.as_str()), Some(t));
        }
        assert_eq!(Term::parse("autumn"), None);
        assert_eq!([Autumn.index(), Spring.index(), Summer.index()], [0, 1, 2]);
        assert_eq!(Autumn.as_str(), "AUTUMN");
    }

    #[test]
    fn autumn_runs_september_to_december_of_the_academic_year() {
        assert_eq!(at(2025, Autumn).starts_on(), d(2025, 9, 1));
        assert_eq!(at(2025, Autumn).ends_on(), d(2025, 12, 31));
    }

    #[test]
    fn spring_runs_january_to_march_of_the_following_year() {
        assert_eq!(at(2025, Spring).starts_on(), d(2026, 1, 1));
        assert_eq!(at(2025, Spring).ends_on(), d(2026, 3, 31));
    }

    #[test]
    fn summer_runs_april_to_august_of_the_following_year() {
        assert_eq!(at(2025, Summer).starts_on(), d(2026, 4, 1));
        assert_eq!(at(2025, Summer).ends_on(), d(2026, 8, 31));
    }

    #[test]
    fn report_is_due_fourteen_days_after_the_term_ends() {
        assert_eq!(at(2025, Autumn).due_on(), d(2026, 1, 14));
        assert_eq!(at(2025, Spring).due_on(), d(2026, 4, 14));
        assert_eq!(at(2025, Summer).due_on(), d(2026, 9, 14));
    }

    #[test]
    fn terms_order_chronologically_across_years() {
        assert!(at(2024, Summer) < at(2025, Autumn));
        assert!(at(2025, Autumn) < at(2025, Spring));
        assert!(at(2025, Spring) < at(2025, Summer));
    }

    #[test]
    fn term_before_autumn_2025_is_summer_2024() {
        assert_eq!(at(2025, Autumn).previous(), at(2024, Summer));
        assert_eq!(at(2025, Spring).previous(), at(2025, Autumn));
        assert_eq!(at(2025, Summer).previous(), at(2025, Spring));
    }

    #[test]
    fn next_is_the_inverse_of_previous() {
        for year in [2009, 2024, 2025] {
            for term in Term::ALL {
                let t = at(year, term);
                assert_eq!(t.next().previous(), t);
                assert_eq!(t.previous().next(), t);
                assert_eq!(t.previous().ends_on().succ_opt(), Some(t.starts_on()));
            }
        }
    }

    #[test]
    fn same_term_last_year_keeps_the_term() {
        assert_eq!(at(2025, Spring).same_term_last_year(), at(2024, Spring));
    }

    #[test]
    fn every_date_falls_in_the_term_whose_dates_contain_it() {
        assert_eq!(AcademicTerm::containing(d(2025, 8, 31)), at(2024, Summer));
        assert_eq!(AcademicTerm::containing(d(2025, 9, 1)), at(2025, Autumn));
        assert_eq!(AcademicTerm::containing(d(2025, 12, 31)), at(2025, Autumn));
        assert_eq!(AcademicTerm::containing(d(2026, 1, 1)), at(2025, Spring));
        assert_eq!(AcademicTerm::containing(d(2026, 3, 31)), at(2025, Spring));
        assert_eq!(AcademicTerm::containing(d(2026, 4, 1)), at(2025, Summer));
        let mut day = d(2024, 1, 1);
        while day < d(2026, 1, 1) {
            let t = AcademicTerm::containing(day);
            assert!(t.starts_on() <= day && day <= t.ends_on(), "{day}");
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn due_day_itself_has_not_passed() {
        let autumn = at(2025, Autumn);
        assert!(!autumn.is_due_by(d(2026, 1, 14)));
        assert!(autumn.is_due_by(d(2026, 1, 15)));
    }

    #[test]
    fn latest_due_term_moves_on_the_day_after_each_due_date() {
        // Autumn 2025 is due on 14 January 2026.
        assert_eq!(
            AcademicTerm::latest_due_by(d(2026, 1, 14)),
            at(2024, Summer)
        );
        assert_eq!(
            AcademicTerm::latest_due_by(d(2026, 1, 15)),
            at(2025, Autumn)
        );
        // Spring 2025 is due on 14 April 2026.
        assert_eq!(
            AcademicTerm::latest_due_by(d(2026, 4, 14)),
            at(2025, Autumn)
        );
        assert_eq!(
            AcademicTerm::latest_due_by(d(2026, 4, 15)),
            at(2025, Spring)
        );
        // Summer 2025 is due on 14 September 2026, across the academic-year boundary.
        assert_eq!(AcademicTerm::latest_due_by(d(2026, 9, 1)), at(2025, Spring));
        assert_eq!(
            AcademicTerm::latest_due_by(d(2026, 9, 14)),
            at(2025, Spring)
        );
        assert_eq!(
            AcademicTerm::latest_due_by(d(2026, 9, 15)),
            at(2025, Summer)
        );
        // Calendar-year boundary.
        assert_eq!(
            AcademicTerm::latest_due_by(d(2025, 12, 31)),
            at(2024, Summer)
        );
        assert_eq!(AcademicTerm::latest_due_by(d(2026, 1, 1)), at(2024, Summer));
    }

    #[test]
    fn latest_due_term_is_always_due_and_its_successor_is_not() {
        let mut day = d(2024, 1, 1);
        while day < d(2026, 12, 31) {
            let t = AcademicTerm::latest_due_by(day);
            assert!(t.is_due_by(day), "{day}");
            assert!(!t.next().is_due_by(day), "{day}");
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn displays_as_people_say_it() {
        assert_eq!(at(2025, Autumn).to_string(), "autumn term 2025/26");
        assert_eq!(at(2099, Summer).to_string(), "summer term 2099/00");
    }
}
