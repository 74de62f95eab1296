//! The GraphQL schema: the root types merged from one module per domain, the schema's
//! limits, and the per-request context; scalars and paging have modules of their own. Resolvers stay thin: they parse input, call one `service`
//! function (or a DataLoader for nested fields), and wrap the result in output types.

use std::sync::Arc;

use async_graphql::{Context, MergedObject, Schema};
use chrono::{NaiveDate, Utc};

use crate::auth::Principal;
use crate::config::Config;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};

pub mod clusters;
pub mod compliance;
pub mod cost;
pub mod events;
pub mod evidence;
pub mod governance;
pub mod loaders;
pub mod npq;
pub mod paging;
pub mod reports;
pub mod scalars;
pub mod schools;
pub mod sencos;

pub(crate) use paging::connection_type;
pub use paging::{Built, PageInfo, connection, cursor, page};
pub use scalars::{Date, DateTime, Money, parse_id};

/// The query root.
#[derive(MergedObject, Default)]
pub struct Query(
    schools::SchoolsQuery,
    sencos::SencosQuery,
    reports::ReportsQuery,
    clusters::ClustersQuery,
    compliance::ComplianceQuery,
    npq::NpqQuery,
    governance::GovernanceQuery,
    events::EventsQuery,
);

/// The mutation root.
#[derive(MergedObject, Default)]
pub struct Mutation(
    schools::SchoolsMutation,
    sencos::SencosMutation,
    reports::ReportsMutation,
    clusters::ClustersMutation,
    npq::NpqMutation,
    evidence::EvidenceMutation,
    governance::GovernanceMutation,
    events::EventsMutation,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, events::Subscription>;

/// Builds the schema. It holds no connection: the database and the caller are attached to
/// each request by `RequestContext::attach`. The depth and cost limits of SPEC 6 are the
/// handler's (`cost`), applied before execution: async-graphql's own would charge every
/// scalar and count introspection's depth.
pub fn build_schema(config: &Config) -> AppSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), events::Subscription)
        .limit_recursive_depth(64)
        .limit_directives(20);
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    let schema =
        Schema::build(Query::default(), Mutation::default(), events::Subscription).finish();
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
    /// The change counters as the request read them (queries only), so that its cached
    /// results need not read them again.
    pub counters: Option<crate::freshness::Counters>,
}

impl RequestContext {
    /// Adds the context and fresh per-request DataLoaders to a request; `writes` when the
    /// operation is a mutation (whose loaders must not cache what it changes).
    pub fn attach(self, request: async_graphql::Request, writes: bool) -> async_graphql::Request {
        let loaders = loaders::Loaders::new(&self.db, &self.principal, !writes);
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
