//! Field-level input rules shared by every mutation (SPEC 4.2, 4.5).
//!
//! Each function checks one value and, on failure, returns a message that reads after the
//! field's name ("must be ..."); the GraphQL layer turns it into a `BAD_USER_INPUT` error
//! naming the field. Nothing here knows which field it is checking, nor what day it is:
//! rules about dates take `today` from the caller.

use chrono::{Datelike, Days, NaiveDate};

/// Free text such as a report's `challenges`: at most `max_chars` characters (Unicode scalar
/// values, not bytes, so a name in any script gets the same allowance), and no control
/// characters other than line breaks and tabs, which would corrupt CSV exports and terminal
/// output without ever being typed on purpose.
pub fn free_text(s: &str, max_chars: usize) -> Result<(), String> {
    if s.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(
            "must not contain control characters other than line breaks and tabs".to_owned(),
        );
    }
    Ok(())
}

/// A short single-line name (a person's full name, a school or cluster name): trimmed, not
/// empty, at most `max_chars` characters after trimming, and free of every control
/// character, line breaks included. Returns the trimmed value to store.
pub fn trimmed_name(s: &str, max_chars: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if t.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(t.to_owned())
}

/// A teacher reference number: exactly seven ASCII digits once surrounding spaces are
/// removed (SPEC 4.2). Leading zeros are significant, so it stays a string. Returns the
/// trimmed value to store, so that " 1234567" and "1234567" find the same person.
pub fn trn(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.len() == 7 && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t.to_owned())
    } else {
        Err("must be exactly 7 digits".to_owned())
    }
}

/// A school's unique reference number: six digits (SPEC 4.1).
pub fn urn(v: i32) -> Result<(), String> {
    if (100_000..=999_999).contains(&v) {
        Ok(())
    } else {
        Err("must be a 6-digit URN from 100000 to 999999".to_owned())
    }
}

/// A DfE local authority code: three digits (SPEC 4.1).
pub fn la_code(v: i32) -> Result<(), String> {
    if (100..=999).contains(&v) {
        Ok(())
    } else {
        Err("must be a 3-digit LA code from 100 to 999".to_owned())
    }
}

/// A fraction of the week, such as `classTeachingFraction`: finite and from 0 to 1.
pub fn fraction(v: f64) -> Result<(), String> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err("must be a number from 0 to 1".to_owned())
    }
}

/// Hours a week, such as `nonContactHoursPerWeek`: finite and from 0 to 60 (SPEC 4.5).
pub fn hours_per_week(v: f64) -> Result<(), String> {
    if v.is_finite() && (0.0..=60.0).contains(&v) {
        Ok(())
    } else {
        Err("must be a number of hours from 0 to 60".to_owned())
    }
}

/// A count of pupils or applications: a whole number, 0 or more (SPEC 4.5).
pub fn count(v: i32) -> Result<i32, String> {
    if v < 0 {
        Err("must be a whole number, 0 or more".to_owned())
    } else {
        Ok(v)
    }
}

/// The earliest day a SENCO record (appointment, service, course) may name.
const EARLIEST_RECORD: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// A day in a SENCO's past (prior service, a course): from 1970 and not after `today`.
pub fn past_date(d: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if d < EARLIEST_RECORD {
        return Err("must be on or after 1970-01-01".to_owned());
    }
    if d > today {
        return Err("must not be in the future".to_owned());
    }
    Ok(d)
}

/// A day an appointment starts or ends: it may be recorded ahead of time, but not years
/// ahead (from 1970 to a year after `today`).
pub fn appointment_date(d: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if d < EARLIEST_RECORD || d > today + Days::new(366) {
        return Err("must be between 1970-01-01 and a year from today".to_owned());
    }
    Ok(d)
}

/// A date a termly report states (policy, review, publication): from 1990 and not after
/// `today` (SPEC 4.5: dates not after today).
pub fn report_date(d: NaiveDate, today: NaiveDate) -> Result<NaiveDate, String> {
    if d > today {
        return Err("must not be after today".to_owned());
    }
    if d.year() < 1990 {
        return Err("must be in 1990 or later".to_owned());
    }
    Ok(d)
}

/// A report's term must have begun by `today` (SPEC 4.5): a report for a term still to come
/// would become the school's latest and drive its compliance.
pub fn term_has_begun(
    term: crate::domain::terms::AcademicTerm,
    today: NaiveDate,
) -> Result<(), String> {
    if term.starts_on() <= today {
        Ok(())
    } else {
        Err(format!(
            "the term has not begun: it starts on {}, and a report can be submitted from then",
            term.starts_on()
        ))
    }
}

/// A report's academic year (the calendar year it starts in): from 2009, when the duty
/// began, to the year after `today`'s.
pub fn academic_year(v: i32, today: NaiveDate) -> Result<i32, String> {
    let next = today.year() + 1;
    if (2009..=next).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be from 2009 to {next}"))
    }
}

/// An e-mail address as a school office types one: trimmed, at most 254 characters, no
/// spaces or control characters, one `@` with a dotted domain after it. Returns the value
/// to store.
pub fn email(v: &str) -> Result<String, String> {
    let v = v.trim();
    let ok = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(a, b)| {
            !a.is_empty()
                && b.contains('.')
                && !b.starts_with('.')
                && !b.ends_with('.')
                && !b.contains('@')
        });
    if ok {
        Ok(v.to_string())
    } else {
        Err("is not an e-mail address".to_owned())
    }
}

/// Optional free text (a provider, a description): checked as [`free_text`], trimmed, and
/// `None` when blank, so that a blank value clears rather than stores spaces.
pub fn optional_text(v: Option<String>, max_chars: usize) -> Result<Option<String>, String> {
    match v {
        None => Ok(None),
        Some(t) => {
            free_text(&t, max_chars)?;
            let t = t.trim().to_string();
            Ok((!t.is_empty()).then_some(t))
        }
    }
}

/// The pupil counts of a termly report (SPEC 4.5): `senSupport + ehcp <= pupilsWithSend <=
/// numberOnRoll`. On failure, the message for `pupilsWithSend`, the figure both bounds
/// concern.
pub fn pupil_counts(
    number_on_roll: i32,
    pupils_with_send: i32,
    sen_support: i32,
    ehcp: i32,
) -> Result<(), String> {
    if i64::from(sen_support) + i64::from(ehcp) > i64::from(pupils_with_send) {
        return Err("must be at least senSupport + ehcp".to_owned());
    }
    if pupils_with_send > number_on_roll {
        return Err("must not exceed numberOnRoll".to_owned());
    }
    Ok(())
}

/// A client's retry key: 1 to 200 characters, no control characters.
pub fn idempotency_key(k: &str) -> Result<(), String> {
    if k.is_empty() || k.len() > 200 || k.chars().any(char::is_control) {
        Err("must be 1 to 200 characters without control characters".to_owned())
    } else {
        Ok(())
    }
}

/// The version an amendment names: 0 or more (0 for a first submission).
pub fn expected_version(v: i32) -> Result<i32, String> {
    if v < 0 {
        Err("must be 0 or more".to_owned())
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_allows_line_breaks_and_tabs() {
        assert!(free_text("First line\r\nSecond\tline\n", 100).is_ok());
        assert!(free_text("", 10).is_ok());
    }

    #[test]
    fn free_text_rejects_other_control_characters() {
        for bad in [
            "bell\u{7}",
            "nul\0",
            "esc\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert!(free_text(bad, 100).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn free_text_limit_counts_characters_not_bytes() {
        let ten = "é".repeat(10);
        assert_eq!(ten.len(), 20);
        assert!(free_text(&ten, 10).is_ok());
        assert_eq!(
            free_text(&format!("{ten}a"), 10),
            Err("must be at most 10 characters".to_owned())
        );
    }

    #[test]
    fn free_text_of_exactly_ten_thousand_characters_is_accepted() {
        assert!(free_text(&"a".repeat(10_000), 10_000).is_ok());
        assert!(free_text(&"a".repeat(10_001), 10_000).is_err());
    }

    #[test]
    fn names_are_trimmed_and_must_not_be_blank() {
        assert_eq!(
            trimmed_name("  Ada Lovelace \t", 50),
            Ok("Ada Lovelace".to_owned())
        );
        assert!(trimmed_name("   ", 50).is_err());
        assert!(trimmed_name("", 50).is_err());
    }

    #[test]
    fn names_reject_any_control_character_inside() {
        assert!(trimmed_name("Ada\nLovelace", 50).is_err());
        assert!(trimmed_name("Ada\tLovelace", 50).is_err());
        assert!(trimmed_name("Ada\u{0}", 50).is_err());
    }

    #[test]
    fn name_length_is_measured_after_trimming() {
        assert!(trimmed_name("  abcde  ", 5).is_ok());
        assert!(trimmed_name("abcdef", 5).is_err());
        assert!(trimmed_name("Zoë", 3).is_ok());
    }

    #[test]
    fn trn_is_exactly_seven_digits_after_trimming() {
        assert_eq!(trn("1234567"), Ok("1234567".to_owned()));
        assert_eq!(trn(" 0012345 "), Ok("0012345".to_owned()));
        for bad in [
            "123456",
            "12345678",
            "12345a7",
            "123 4567",
            "",
            "１２３４５６７",
            "+123456",
        ] {
            assert!(trn(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urn_is_six_digits() {
        assert!(urn(100_000).is_ok());
        assert!(urn(999_999).is_ok());
        assert!(urn(99_999).is_err());
        assert!(urn(1_000_000).is_err());
        assert!(urn(-100_000).is_err());
    }

    #[test]
    fn la_code_is_three_digits() {
        assert!(la_code(100).is_ok());
        assert!(la_code(202).is_ok());
        assert!(la_code(999).is_ok());
        assert!(la_code(99).is_err());
        assert!(la_code(1000).is_err());
    }

    #[test]
    fn fraction_is_finite_and_between_zero_and_one_inclusive() {
        assert!(fraction(0.0).is_ok());
        assert!(fraction(0.2).is_ok());
        assert!(fraction(1.0).is_ok());
        for bad in [-0.01, 1.01, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(fraction(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hours_per_week_is_finite_and_between_zero_and_sixty_inclusive() {
        assert!(hours_per_week(0.0).is_ok());
        assert!(hours_per_week(60.0).is_ok());
        assert!(hours_per_week(7.5).is_ok());
        for bad in [-0.5, 60.01, f64::NAN, f64::INFINITY] {
            assert!(hours_per_week(bad).is_err(), "{bad}");
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn pupils_with_send_lies_between_its_parts_and_the_roll() {
        assert!(pupil_counts(200, 40, 30, 10).is_ok());
        assert_eq!(
            pupil_counts(200, 39, 30, 10),
            Err("must be at least senSupport + ehcp".to_owned())
        );
        assert_eq!(
            pupil_counts(39, 40, 30, 10),
            Err("must not exceed numberOnRoll".to_owned())
        );
        assert!(
            pupil_counts(i32::MAX, i32::MAX, i32::MAX, 0).is_ok(),
            "no overflow"
        );
    }

    #[test]
    fn dates_in_the_past_may_be_today_but_not_tomorrow() {
        let today = day(2026, 12, 1);
        assert!(past_date(today, today).is_ok());
        assert!(past_date(day(2026, 12, 2), today).is_err());
        assert!(past_date(day(1969, 12, 31), today).is_err());
        assert!(report_date(day(1989, 12, 31), today).is_err());
        assert!(appointment_date(day(2027, 12, 2), today).is_ok());
        assert!(appointment_date(day(2027, 12, 3), today).is_err());
    }

    #[test]
    fn a_report_is_for_a_term_that_has_begun() {
        use crate::domain::terms::{AcademicTerm, Term};
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(term_has_begun(AcademicTerm::new(2026, Term::Autumn), today).is_ok());
        assert!(term_has_begun(AcademicTerm::new(2025, Term::Summer), today).is_ok());
        let e = term_has_begun(AcademicTerm::new(2026, Term::Spring), today).unwrap_err();
        assert!(e.contains("2027-01-01"), "{e}");
        assert!(term_has_begun(AcademicTerm::new(2027, Term::Summer), today).is_err());
        let first_day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert!(term_has_begun(AcademicTerm::new(2026, Term::Spring), first_day).is_ok());
    }

    #[test]
    fn academic_years_run_from_2009_to_next_year() {
        let today = day(2026, 12, 1);
        assert!(academic_year(2009, today).is_ok());
        assert!(academic_year(2027, today).is_ok());
        assert!(academic_year(2028, today).is_err());
        assert!(academic_year(2008, today).is_err());
    }

    #[test]
    fn e_mail_addresses_need_a_dotted_domain() {
        assert_eq!(email(" a@b.org ").as_deref(), Ok("a@b.org"));
        for bad in [
            "a@b",
            "@b.org",
            "a@.org",
            "a@b.org.",
            "a b@c.org",
            "a@b@c.org",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blank_optional_text_is_none() {
        assert_eq!(optional_text(Some("  ".into()), 10), Ok(None));
        assert_eq!(optional_text(Some(" x ".into()), 10), Ok(Some("x".into())));
        assert!(optional_text(Some("bell\u{7}".into()), 10).is_err());
    }
}
