//! Field-level input rules shared by every mutation (SPEC 4.2, 4.5).
//!
//! Each function checks one value and, on failure, returns a message that reads after the
//! field's name ("must be ..."); the GraphQL layer turns it into a `BAD_USER_INPUT` error
//! naming the field. Nothing here knows which field it is checking.

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
}
