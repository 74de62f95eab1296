//! The one error type every resolver and store function returns, and its GraphQL form.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql converts any
//! `Display` error into a bare message, which would drop `extensions.code` and could leak a
//! database message. Converting through `From<ApiError>` is the only way out, and it logs an
//! internal error once, under a correlation id that is all the client sees.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// A failure a client may be told about, with the code SPEC section 6 names.
#[derive(Debug)]
pub enum ApiError {
    /// No token, or the request needs one.
    Unauthenticated,
    /// The caller's scopes do not cover the row.
    Forbidden(String),
    /// The named thing does not exist; `field`, when known, is the input field naming it.
    NotFound {
        /// The input field path naming the missing thing (for example `input.schoolUrn`).
        field: Option<String>,
        /// What is missing.
        message: String,
    },
    /// Input that fails validation; `field` is the input field at fault.
    BadInput {
        /// The input field path, as the client spelled it (for example `input.trn`). Below
        /// the GraphQL edge it is relative to the argument (`trn`, `person.trn`), and the
        /// resolver places it with [`ApiError::within`].
        field: String,
        /// What is wrong, in words a school office can act on.
        message: String,
    },
    /// The write collides with stored state (a stale version, a reused key, a duplicate).
    Conflict(String),
    /// The database could not take the request in time (SQLite's write lock held by another
    /// process past the busy timeout, or no connection free): answered 503 with
    /// `Retry-After`, nothing changed.
    Busy,
    /// Anything else; the detail is logged, never sent.
    Internal(String),
}

/// The result type of store functions and resolvers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A `BAD_USER_INPUT` for `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A `FORBIDDEN` with a message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    /// A `NOT_FOUND` with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            field: None,
            message: message.into(),
        }
    }

    /// A `NOT_FOUND` for the thing the input field `field` names.
    pub fn not_found_at(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::NotFound {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// Places a field path given relative to an argument under that argument, so that the
    /// client sees the path it sent (`schoolUrn` within `input` is `input.schoolUrn`).
    /// Resolvers call it on what the service returns; other errors pass through.
    pub fn within(self, argument: &str) -> Self {
        let place = |f: String| {
            if f.is_empty() {
                argument.to_string()
            } else {
                format!("{argument}.{f}")
            }
        };
        match self {
            Self::BadInput { field, message } => Self::BadInput {
                field: place(field),
                message,
            },
            Self::NotFound {
                field: Some(field),
                message,
            } => Self::NotFound {
                field: Some(place(field)),
                message,
            },
            other => other,
        }
    }

    /// A `CONFLICT` with a message.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// An internal error whose detail is logged only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::BadInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
            Self::Busy => "SERVICE_UNAVAILABLE",
        }
    }
}

/// Whether the database refused for now rather than for good: SQLite's write lock held by
/// another process past the busy timeout, or no pooled connection free in time.
fn is_busy(err: &DbErr) -> bool {
    if matches!(err, DbErr::ConnectionAcquire(_)) {
        return true;
    }
    let text = err.to_string();
    text.contains("database is locked") || text.contains("database table is locked")
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        // Constraint violations that reach here are races the store's own checks could not
        // see (two writers at once); they are the client's to retry, not a server fault.
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(
                "a record with the same key was written at the same time; read it and retry".into(),
            ),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Self::Conflict(
                "a record this write refers to does not exist or was changed at the same time"
                    .into(),
            ),
            _ if is_busy(&err) => Self::Busy,
            _ => Self::Internal(format!("database: {err}")),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code();
        let (message, field) = match err {
            ApiError::Unauthenticated => (
                "authentication required: send `Authorization: Bearer <token>`".to_string(),
                None,
            ),
            ApiError::Forbidden(m) | ApiError::Conflict(m) => (m, None),
            ApiError::Busy => (
                "the database is busy with another writer; nothing was changed: try again in a \
                 moment"
                    .to_string(),
                None,
            ),
            ApiError::NotFound {
                field: None,
                message,
            } => (message, None),
            ApiError::NotFound {
                field: Some(field),
                message,
            } => (format!("{field}: {message}"), Some(field)),
            ApiError::BadInput { field, message } => (format!("{field}: {message}"), Some(field)),
            ApiError::Internal(detail) => {
                let id = uuid::Uuid::new_v4();
                tracing::error!(correlation_id = %id, error = %detail, "internal error");
                metrics::counter!("senco_internal_errors_total").increment(1);
                (format!("internal error (correlation id {id})"), None)
            }
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = &field {
                ext.set("field", field.as_str());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_error_text_never_reaches_the_client() {
        let err: ApiError =
            DbErr::Custom("SELECT secret FROM person WHERE trn = '1234567'".into()).into();
        let gql: async_graphql::Error = err.into();
        assert!(!gql.message.contains("SELECT"));
        assert!(gql.message.contains("correlation id"));
        let ext = gql.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("INTERNAL_SERVER_ERROR"))
        );
    }

    #[test]
    fn a_relative_field_is_placed_under_its_argument() {
        let gql: async_graphql::Error = ApiError::bad_input("person.trn", "must be 7 digits")
            .within("input")
            .into();
        let ext = gql.extensions.expect("extensions");
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.person.trn"))
        );
        let gql: async_graphql::Error = ApiError::not_found_at("schoolUrn", "no school has URN 1")
            .within("input")
            .into();
        assert_eq!(gql.message, "input.schoolUrn: no school has URN 1");
    }

    #[test]
    fn bad_input_names_its_field() {
        let gql: async_graphql::Error = ApiError::bad_input("input.trn", "must be 7 digits").into();
        let ext = gql.extensions.expect("extensions");
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.trn"))
        );
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }
}
