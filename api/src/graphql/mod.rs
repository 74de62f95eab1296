//! The GraphQL schema: scalars, paging, per-request context, and the root types merged from
//! one module per domain. Resolvers stay thin: they parse input, call one `service`
//! function (or a DataLoader for nested fields), and wrap the result in output types.

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, InputValueError, InputValueResult, MergedObject, Scalar,
    ScalarType, Schema, SimpleObject, Value,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, Utc};

use crate::auth::Principal;
use crate::config::Config;
use crate::db::Db;
use crate::domain::money;
use crate::error::{ApiError, ApiResult};
use crate::store::{Page, Paged};

pub mod clusters;
pub mod loaders;
pub mod reports;
pub mod schools;
pub mod sencos;

/// The query root.
#[derive(MergedObject, Default)]
pub struct Query(
    schools::SchoolsQuery,
    sencos::SencosQuery,
    reports::ReportsQuery,
    clusters::ClustersQuery,
);

/// The mutation root.
#[derive(MergedObject, Default)]
pub struct Mutation(
    schools::SchoolsMutation,
    sencos::SencosMutation,
    reports::ReportsMutation,
    clusters::ClustersMutation,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with the configured limits. It holds no connection: the database and
/// the caller are attached to each request by `RequestContext::attach`.
pub fn build_schema(config: &Config) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(config.max_depth)
        .limit_complexity(config.max_complexity)
        .limit_recursive_depth(64)
        .limit_directives(20);
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    let schema = Schema::build(Query::default(), Mutation::default(), EmptySubscription).finish();
    schema.sdl()
}

/// Everything a resolver may need, attached to each request.
#[derive(Clone)]
pub struct RequestContext {
    /// The database.
    pub db: Db,
    /// The caller.
    pub principal: Arc<Principal>,
    /// Configuration (thresholds and the like).
    pub config: Arc<Config>,
}

impl RequestContext {
    /// Adds the context and fresh per-request DataLoaders to a request; `writes` when the
    /// operation is a mutation (whose loaders must not cache what it changes).
    pub fn attach(self, request: async_graphql::Request, writes: bool) -> async_graphql::Request {
        let loaders = loaders::Loaders::new(&self.db, !writes);
        request.data(self).data(loaders)
    }
}

/// The request context of a resolver.
pub fn rc<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a RequestContext> {
    ctx.data::<RequestContext>()
        .map_err(|_| ApiError::internal("request context missing"))
}

/// The per-request DataLoaders.
pub fn loaders<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a loaders::Loaders> {
    ctx.data::<loaders::Loaders>()
        .map_err(|_| ApiError::internal("loaders missing"))
}

/// Today in Europe/London, the default `asOf` (SPEC section 5).
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

/// Default page size.
pub const DEFAULT_PAGE: i32 = 50;
/// Largest page size.
pub const MAX_PAGE: i32 = 250;

/// Validates `first`/`after` into a store page, decoding the cursor with `decode`.
pub fn page<K>(
    first: Option<i32>,
    after: Option<String>,
    decode: impl Fn(&str) -> Option<K>,
) -> ApiResult<Page<K>> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(ApiError::bad_input(
            "first",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let after = match after {
        None => None,
        Some(cursor) => Some(
            URL_SAFE_NO_PAD
                .decode(cursor.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| decode(&s))
                .ok_or_else(|| ApiError::bad_input("after", "is not a cursor this list gave"))?,
        ),
    };
    Ok(Page {
        first: first as u64,
        after,
    })
}

/// Encodes a cursor from its plain form.
pub fn cursor(plain: &str) -> String {
    URL_SAFE_NO_PAD.encode(plain.as_bytes())
}

/// Where a page stands in the whole list (Relay `PageInfo`).
#[derive(SimpleObject, Clone)]
pub struct PageInfo {
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page (true when `after` was given).
    pub has_previous_page: bool,
    /// The cursor of the first edge; null on an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the last edge; pass it as `after` for the next page. Null on an empty page.
    pub end_cursor: Option<String>,
}

/// A page built from store rows, ready to become one of the connection types.
pub struct Built<N> {
    /// (cursor, node) pairs.
    pub edges: Vec<(String, N)>,
    /// Paging.
    pub page_info: PageInfo,
    /// Total over every page.
    pub total_count: u64,
}

/// Builds a page from store rows; `f` gives each row's plain cursor and node.
pub fn connection<R, N>(
    paged: Paged<R>,
    has_previous: bool,
    mut f: impl FnMut(R) -> (String, N),
) -> Built<N> {
    let edges: Vec<(String, N)> = paged
        .rows
        .into_iter()
        .map(|r| {
            let (c, n) = f(r);
            (cursor(&c), n)
        })
        .collect();
    Built {
        page_info: PageInfo {
            has_next_page: paged.has_next,
            has_previous_page: has_previous,
            start_cursor: edges.first().map(|e| e.0.clone()),
            end_cursor: edges.last().map(|e| e.0.clone()),
        },
        edges,
        total_count: paged.total,
    }
}

/// Declares a Relay connection type and its edge type, both documented.
macro_rules! connection_type {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, " (Relay cursor connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// Where this page stands in the whole list.
            pub page_info: $crate::graphql::PageInfo,
            /// Items in the whole list, over every page.
            pub total_count: u64,
        }

        #[doc = concat!("One of ", $what, ", with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to get the items that follow this one.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl From<$crate::graphql::Built<$node>> for $conn {
            fn from(b: $crate::graphql::Built<$node>) -> Self {
                Self {
                    edges: b
                        .edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info: b.page_info,
                    total_count: b.total_count,
                }
            }
        }
    };
}
pub(crate) use connection_type;

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
