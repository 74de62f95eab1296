//! Sums of money in integer pence.
//!
//! Budgets and expenditure in termly reports (SPEC 4.5) are added up across hundreds of
//! schools; floating point would make "0.10 + 0.20" print as something other than "0.30"
//! and totals depend on the order of addition. Holding whole pence in an `i64` keeps every
//! sum exact. Input is accepted only as a plain decimal string (SPEC 5, the `Money` scalar),
//! never as a JSON number, for the same reason.

use std::fmt;

/// An amount of money in whole pence. Input amounts are never negative, but derived ones
/// (a budget remaining after an overspend) may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a money input was rejected. The messages name no field: the caller adds that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoneyError {
    /// Not of the form `digits[.d[d]]`.
    Format,
    /// Above [`Money::MAX`].
    TooLarge,
    /// A well-formed amount with a minus sign: input amounts are never negative.
    Negative,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Format => "must be a decimal string with at most two decimal places",
            Self::TooLarge => "must not exceed 1000000000.00",
            Self::Negative => "must be 0 or more",
        })
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    /// Nothing.
    pub const ZERO: Money = Money(0);

    /// The largest amount accepted as input: 1,000,000,000.00 (SPEC 4.5).
    pub const MAX: Money = Money(100_000_000_000);

    pub const fn from_pence(pence: i64) -> Money {
        Money(pence)
    }

    pub const fn pence(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses an input amount: ASCII digits, optionally followed by a dot and one or two
    /// digits ("1250", "1250.5", "1250.50", "0.10"), between zero and [`Money::MAX`].
    ///
    /// Deliberately strict: no sign, exponent, spaces, grouping commas or empty parts ("1."
    /// or ".5"). A dashboard that sends "1e3" or "1,000" has a bug, and guessing what it meant
    /// would store a wrong figure in a governors' report.
    pub fn parse_input(s: &str) -> Result<Money, MoneyError> {
        if let Some(rest) = s.strip_prefix('-')
            && Self::parse_input(rest).is_ok_and(|m| m.0 > 0)
        {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = match s.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (s, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MoneyError::Format);
        }
        let fraction_pence = match fraction {
            None => 0,
            Some(f) if (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
                let digits = f.bytes().map(|b| i64::from(b - b'0'));
                // "5" means fifty pence, "05" five.
                digits
                    .zip([10, 1])
                    .map(|(digit, scale)| digit * scale)
                    .sum()
            }
            Some(_) => return Err(MoneyError::Format),
        };
        // Leading zeros are harmless, but a long run of other digits must not overflow
        // before it can be reported as too large.
        let significant = whole.trim_start_matches('0');
        if significant.len() > 12 {
            return Err(MoneyError::TooLarge);
        }
        let pounds = significant
            .bytes()
            .fold(0_i64, |acc, b| acc * 10 + i64::from(b - b'0'));
        let pence = pounds * 100 + fraction_pence;
        if pence > Self::MAX.0 {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money(pence))
    }

    /// `None` on `i64` overflow, which no real total approaches.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `None` on `i64` overflow; the result may be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The exact total of `amounts`, `None` on overflow.
    pub fn sum<I>(amounts: I) -> Option<Money>
    where
        I: IntoIterator<Item = Money>,
    {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }
}

/// Exactly two decimal places with a leading minus when negative: "1250.00", "-12.34".
/// A termly report's budget lines and spend to date, in pence (SPEC 4.5): the one place
/// the derived figures are defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Element 1 (the school's core funding for SEN support).
    pub e1: i64,
    /// Element 2 (the notional SEN budget).
    pub e2: i64,
    /// Element 3 (top-up funding from the LA).
    pub e3: i64,
    /// Any other SEN funding.
    pub additional: i64,
    /// Expenditure to date.
    pub spent: i64,
}

impl Budget {
    /// E1 + E2 + E3 + additional.
    pub fn total(&self) -> i64 {
        self.e1 + self.e2 + self.e3 + self.additional
    }

    /// The total less expenditure; negative when overspent.
    pub fn remaining(&self) -> i64 {
        self.total() - self.spent
    }

    /// Whether expenditure exceeds the total.
    pub fn overspent(&self) -> bool {
        self.spent > self.total()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        // unsigned_abs so that even i64::MIN prints rather than overflowing.
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
// Panicking on a malformed test fixture is the right failure in a test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse_input(s).unwrap()
    }

    #[test]
    fn accepts_whole_pounds_and_one_or_two_decimal_places() {
        assert_eq!(m("1250").pence(), 125_000);
        assert_eq!(m("1250.5").pence(), 125_050);
        assert_eq!(m("1250.50").pence(), 125_050);
        assert_eq!(m("1250.05").pence(), 125_005);
        assert_eq!(m("0.10").pence(), 10);
        assert_eq!(m("0").pence(), 0);
        assert_eq!(m("0.0").pence(), 0);
    }

    #[test]
    fn leading_zeros_are_allowed() {
        assert_eq!(m("007.5").pence(), 750);
        assert_eq!(m("0000000000000000000001").pence(), 100);
    }

    #[test]
    fn the_maximum_is_accepted_and_a_penny_more_is_not() {
        assert_eq!(m("1000000000.00"), Money::MAX);
        assert_eq!(m("1000000000"), Money::MAX);
        assert_eq!(
            Money::parse_input("1000000000.01"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(
            Money::parse_input("99999999999999999999999999"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn rejects_anything_but_a_plain_decimal() {
        for bad in [
            "", "1.234", "--1", "-0", "+1", "1e3", " 1", "1 ", "1,000", "1.", ".5", "1..2",
            "1.2.3", "£1", "1.-5", "１", "0x10", "NaN", "1_000",
        ] {
            assert_eq!(
                Money::parse_input(bad),
                Err(MoneyError::Format),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn a_negative_amount_is_told_it_must_be_0_or_more() {
        for bad in ["-1", "-5", "-0.01", "-1250.50"] {
            assert_eq!(Money::parse_input(bad), Err(MoneyError::Negative), "{bad}");
        }
        assert_eq!(MoneyError::Negative.to_string(), "must be 0 or more");
    }

    #[test]
    fn error_messages_say_what_is_expected() {
        assert_eq!(
            MoneyError::Format.to_string(),
            "must be a decimal string with at most two decimal places"
        );
        assert_eq!(
            MoneyError::TooLarge.to_string(),
            "must not exceed 1000000000.00"
        );
    }

    #[test]
    fn ten_pence_plus_twenty_pence_displays_thirty_pence() {
        let total = m("0.10").checked_add(m("0.20")).unwrap();
        assert_eq!(total.to_string(), "0.30");
    }

    #[test]
    fn displays_exactly_two_decimal_places() {
        assert_eq!(m("1250").to_string(), "1250.00");
        assert_eq!(m("1250.5").to_string(), "1250.50");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(Money::from_pence(7).to_string(), "0.07");
        assert_eq!(Money::MAX.to_string(), "1000000000.00");
    }

    #[test]
    fn negative_derived_amounts_display_with_a_minus_sign() {
        assert_eq!(Money::from_pence(-1234).to_string(), "-12.34");
        assert_eq!(Money::from_pence(-5).to_string(), "-0.05");
        assert_eq!(
            Money::from_pence(i64::MIN).to_string(),
            "-92233720368547758.08"
        );
        let remaining = m("100").checked_sub(m("100.01")).unwrap();
        assert!(remaining.is_negative());
        assert_eq!(remaining.to_string(), "-0.01");
    }

    #[test]
    fn arithmetic_reports_overflow_instead_of_wrapping() {
        let big = Money::from_pence(i64::MAX);
        assert_eq!(big.checked_add(Money::from_pence(1)), None);
        assert_eq!(
            Money::from_pence(i64::MIN).checked_sub(Money::from_pence(1)),
            None
        );
        assert_eq!(Money::sum([big, Money::from_pence(1)]), None);
    }

    #[test]
    fn sum_is_exact_and_zero_when_empty() {
        assert_eq!(Money::sum([]), Some(Money::ZERO));
        let tenths = std::iter::repeat_n(m("0.10"), 10);
        assert_eq!(Money::sum(tenths).map(|t| t.to_string()).unwrap(), "1.00");
    }

    #[test]
    fn display_round_trips_through_parse_for_valid_inputs() {
        for s in ["0.00", "0.01", "12.34", "1000000000.00"] {
            assert_eq!(m(s).to_string(), s);
        }
    }
}
