//! The scalars of SPEC section 5 (`Date`, `DateTime`, `Money`) and the parsing of ids.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, Utc};

use crate::domain::money;
use crate::error::{ApiError, ApiResult};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date as `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // Exactly four-digit year, two-digit month and day: chrono's `%Y` alone would
            // also take a sign, as in "-001-01-01".
            Value::String(s)
                if s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    }) =>
            {
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Date)
                    .map_err(|_| InputValueError::custom("not a valid date (YYYY-MM-DD)"))
            }
            Value::String(_) => Err(InputValueError::custom("not a valid date (YYYY-MM-DD)")),
            _ => Err(InputValueError::custom(
                "a date must be a string YYYY-MM-DD",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An instant in UTC, RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// An instant as RFC 3339 in UTC, for example `2026-01-15T09:30:00Z`.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|d| DateTime(d.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom("not an RFC 3339 date-time")),
            _ => Err(InputValueError::custom("a date-time must be a string")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

/// An amount of money in pounds. On input, an amount the scalar cannot accept is carried
/// through coercion as `Err` and refused by the resolver with [`Money::amount`], so the
/// error can name the input field (async-graphql's own coercion errors cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money(pub Result<money::Money, String>);

impl Money {
    /// An amount for output.
    pub fn of(m: money::Money) -> Self {
        Self(Ok(m))
    }

    /// The amount, or `BAD_USER_INPUT` naming `field` when the client sent something else.
    pub fn amount(&self, field: &str) -> ApiResult<money::Money> {
        self.0.clone().map_err(|m| ApiError::bad_input(field, m))
    }
}

/// Money in pounds. Output: a decimal string with exactly two places (`"1250.00"`). Input: a
/// string such as `"1250"`, `"1250.5"` or `"1250.50"`; JSON numbers are refused, because a
/// binary float cannot hold every amount of pence exactly.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        Ok(Money(match &value {
            Value::String(s) => money::Money::parse_input(s).map_err(|e| e.to_string()),
            Value::Number(_) => {
                Err("money must be sent as a string such as \"1250.50\", not a JSON number".into())
            }
            _ => Err("money must be a string such as \"1250.50\"".into()),
        }))
    }

    fn to_value(&self) -> Value {
        match &self.0 {
            Ok(m) => Value::String(m.to_string()),
            Err(_) => Value::Null,
        }
    }
}

/// Parses a GraphQL `ID` holding a positive integer.
pub fn parse_id(id: &async_graphql::ID, field: &str) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| ApiError::bad_input(field, "is not an id this service issued"))
}
